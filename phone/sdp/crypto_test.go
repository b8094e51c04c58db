package sdp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// key30 and key28 are fixed key||salt values for the tests.
var (
	key30 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 30))
	key28 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 28))
)

func TestParseCrypto(t *testing.T) {
	for _, tc := range []struct {
		in    string
		ok    bool
		tag   int
		suite Suite
		mki   []byte
	}{
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30, true, 1, AESCM128SHA1x80, nil},
		{"2 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "|2^20", true, 2, AESCM128SHA1x32, nil},
		{"3 AEAD_AES_128_GCM inline:" + key28 + "|1048576", true, 3, AEADAES128GCM, nil},
		{"4 AES_CM_128_HMAC_SHA1_80 inline:" + strings.TrimRight(key30, "="), true, 4, AESCM128SHA1x80, nil},
		{"1 AES_CM_128_HMAC_SHA1_80 INLINE:" + key30, true, 1, AESCM128SHA1x80, nil},
		// RFC 4568 §9.1: lifetime, MKI, both (lifetime first).
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31", true, 1, AESCM128SHA1x80, nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|1:4", true, 1, AESCM128SHA1x80, []byte{0, 0, 0, 1}},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4", true, 1, AESCM128SHA1x80, []byte{0, 0, 0, 1}},
		{"1 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "|2^31|258:2", true, 1, AESCM128SHA1x32, []byte{1, 2}},
		{"1 AEAD_AES_128_GCM inline:" + key28 + "|0:1", true, 1, AEADAES128GCM, []byte{0}},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4|2^20", false, 0, "", nil}, // MKI before lifetime
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20|2^20", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4|1:4", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|256:1", false, 0, "", nil}, // does not fit
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:0", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:129", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|:4", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|-1:4", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:+4", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4;inline:" + key30 + "|2:4", false, 0, "", nil}, // several keys
		// RFC 4568 §6.3: session parameters we can honour, and the rest.
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " WSH=128", true, 1, AESCM128SHA1x80, nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31|1:4 FEC_ORDER=SRTP_FEC WSH=64", true, 1, AESCM128SHA1x80, []byte{0, 0, 0, 1}},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " WSH=32", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=1", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTP", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNENCRYPTED_SRTCP", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " UNAUTHENTICATED_SRTP", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " FEC_ORDER=LATER", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " FEC_KEY=inline:" + key30, false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " WSH=128 NEW_THING", false, 0, "", nil},
		{"1 AES_256_CM_HMAC_SHA1_80 inline:" + key30, false, 0, "", nil},      // unknown suite
		{"1 F8_128_HMAC_SHA1_80 inline:" + key30, false, 0, "", nil},          // unknown suite
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key28, false, 0, "", nil},      // key too short
		{"1 AEAD_AES_128_GCM inline:" + key30, false, 0, "", nil},             // key too long
		{"1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64!!", false, 0, "", nil}, // bad base64
		{"1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^x", false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80 uri:http://x", false, 0, "", nil},
		{"x AES_CM_128_HMAC_SHA1_80 inline:" + key30, false, 0, "", nil},
		{"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key30, false, 0, "", nil},
		{"1 AES_CM_128_HMAC_SHA1_80", false, 0, "", nil},
		{"", false, 0, "", nil},
	} {
		c, err := ParseCrypto(tc.in)
		if tc.ok != (err == nil) {
			t.Errorf("ParseCrypto(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) || strings.Contains(err.Error(), key30) {
				t.Errorf("ParseCrypto(%q) error %v: wrong class or leaks the key", tc.in, err)
			}
			continue
		}
		if c.Tag != tc.tag || c.Suite != tc.suite || len(c.Key) != tc.suite.KeyLen() || !bytes.Equal(c.MKI, tc.mki) {
			t.Errorf("ParseCrypto(%q) = %d %s %d-byte key MKI %x, want MKI %x", tc.in, c.Tag, c.Suite, len(c.Key), c.MKI, tc.mki)
		}
		if back, err := ParseCrypto(c.String()); err != nil || back.Tag != c.Tag || !bytes.Equal(back.Key, c.Key) || !bytes.Equal(back.MKI, c.MKI) {
			t.Errorf("round trip of %q: %v", tc.in, err)
		}
	}
}

// TestParseCryptoLongMKI: an MKI of the largest length (128 bytes) with a
// value that fills it round-trips; one byte more does not fit.
func TestParseCryptoLongMKI(t *testing.T) {
	top := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 8*128), big.NewInt(1))
	line := "1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|" + top.String() + ":128"
	c, err := ParseCrypto(line)
	if err != nil || len(c.MKI) != 128 || !bytes.Equal(c.MKI, bytes.Repeat([]byte{0xff}, 128)) || c.String() != line {
		t.Fatalf("ParseCrypto(128-byte MKI) = %x, %v", c.MKI, err)
	}
	over := new(big.Int).Add(top, big.NewInt(1)).String()
	if _, err := ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|" + over + ":128"); err == nil {
		t.Errorf("an MKI of 2^1024 accepted in 128 bytes")
	}
}

// savpAudio is audio() with the RTP/SAVP profile.
func savpAudio(formats string, attrs ...string) string {
	return strings.Replace(audio(formats, attrs...), "RTP/AVP", "RTP/SAVP", 1)
}

// TestSRTPNegotiation is the table of offers and answers with and without
// a=crypto for each of our modes (nil SRTP = encryption "none").
func TestSRTPNegotiation(t *testing.T) {
	line80 := "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + key30
	bad := "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:short"
	gcm := "crypto:5 AEAD_AES_128_GCM inline:" + key28
	unknown := "crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + key30
	for _, tc := range []struct {
		name    string
		srtp    *SRTP
		offer   string
		err     error
		profile string // m= profile of the answer
		suite   Suite  // "" = plain
		tag     string // answered tag
	}{
		{"none/plain", nil, audio("0"), nil, "RTP/AVP", "", ""},
		{"none/avp+crypto", nil, audio("0", line80), nil, "RTP/AVP", "", ""},
		{"none/savp", nil, savpAudio("0", line80), ErrNoCrypto, "", "", ""},
		{"optional/plain", &SRTP{}, audio("0"), nil, "RTP/AVP", "", ""},
		{"optional/avp+crypto", &SRTP{}, audio("0", line80), nil, "RTP/AVP", AESCM128SHA1x80, "1"},
		{"optional/savp", &SRTP{}, savpAudio("0", line80), nil, "RTP/SAVP", AESCM128SHA1x80, "1"},
		{"optional/savp bad key", &SRTP{}, savpAudio("0", bad), ErrNoCrypto, "", "", ""},
		{"optional/avp unknown suite", &SRTP{}, audio("0", unknown), nil, "RTP/AVP", "", ""},
		{"optional/first usable wins", &SRTP{}, audio("0", unknown, bad, gcm, line80), nil, "RTP/AVP", AEADAES128GCM, "5"},
		{"optional/only 80 enabled", &SRTP{Suites: []Suite{AESCM128SHA1x80}}, audio("0", gcm, line80), nil, "RTP/AVP", AESCM128SHA1x80, "1"},
		{"mandatory/plain", &SRTP{Mandatory: true}, audio("0"), ErrNoCrypto, "", "", ""},
		{"mandatory/avp+crypto", &SRTP{Mandatory: true}, audio("0", line80), nil, "RTP/AVP", AESCM128SHA1x80, "1"},
		{"mandatory/savp", &SRTP{Mandatory: true}, savpAudio("0", gcm), nil, "RTP/SAVP", AEADAES128GCM, "5"},
		{"mandatory/unknown only", &SRTP{Mandatory: true}, savpAudio("0", unknown), ErrNoCrypto, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal()
			l.SRTP = tc.srtp
			ans, remote, _, err := Answer(l, []byte(tc.offer), SendRecv)
			checkErr(t, err, tc.err)
			if err != nil {
				return
			}
			if m := mLines(ans)[0]; !strings.Contains(m, " "+tc.profile+" ") {
				t.Errorf("answer m= %q, want %s", m, tc.profile)
			}
			got, perr := Parse(ans)
			if perr != nil {
				t.Fatal(perr)
			}
			k, ok := tc.srtp.AnswerKeys(remote)
			if tc.suite == "" {
				if ok || len(got.Crypto) != 0 || bytes.Contains(ans, []byte("a=crypto")) {
					t.Fatalf("plain answer carries keys:\n%s", ans)
				}
				return
			}
			if !ok || k.Suite != tc.suite || len(got.Crypto) != 1 || got.Crypto[0].Suite != tc.suite {
				t.Fatalf("keys %v %v, answer:\n%s", ok, k.Suite, ans)
			}
			if !bytes.Contains(ans, []byte("a=crypto:"+tc.tag+" ")) {
				t.Errorf("answer does not echo tag %s:\n%s", tc.tag, ans)
			}
			if !bytes.Equal(k.Local, got.Crypto[0].Key) || bytes.Equal(k.Local, k.Remote) {
				t.Errorf("our key is not the answered one, or equals theirs")
			}
		})
	}
}

// TestSRTPKeyParamsNegotiation: offers whose a=crypto lines carry a
// lifetime, an MKI (RFC 4568 §6.1) or session parameters (§6.3). A line
// with an MKI is used and its MKI kept for the receiver, our answer line
// has none; a line with a session parameter we cannot honour is skipped
// for the next usable one; with none usable the offer is answered as the
// policy says (plain for an optional RTP/AVP offer, ErrNoCrypto, a 488,
// for RTP/SAVP or when SRTP is mandatory).
func TestSRTPKeyParamsNegotiation(t *testing.T) {
	cm := "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
	for _, tc := range []struct {
		name  string
		srtp  *SRTP
		offer string
		err   error
		tag   string // answered tag, "" = plain
		suite Suite
		mki   []byte
	}{
		{"lifetime", &SRTP{}, audio("0", cm+key30+"|2^31"), nil, "1", AESCM128SHA1x80, nil},
		{"lifetime and MKI", &SRTP{Mandatory: true}, savpAudio("0", cm+key30+"|2^20|1:4"), nil, "1", AESCM128SHA1x80, []byte{0, 0, 0, 1}},
		{"MKI, WSH", &SRTP{}, audio("0", cm+key30+"|7:1 WSH=64"), nil, "1", AESCM128SHA1x80, []byte{7}},
		{"KDR skipped for the next line", &SRTP{}, audio("0", cm+key30+" KDR=1",
			"crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"+key30+"|2^20|1:4"), nil, "2", AESCM128SHA1x32, []byte{0, 0, 0, 1}},
		{"UNENCRYPTED_SRTP skipped for the next line", &SRTP{Mandatory: true}, savpAudio("0", cm+key30+" UNENCRYPTED_SRTP",
			"crypto:2 AEAD_AES_128_GCM inline:"+key28), nil, "2", AEADAES128GCM, nil},
		{"several keys skipped for the next line", &SRTP{}, audio("0", cm+key30+"|1:4;inline:"+key30+"|2:4",
			"crypto:3 AES_CM_128_HMAC_SHA1_80 inline:"+key30), nil, "3", AESCM128SHA1x80, nil},
		{"optional avp, none usable", &SRTP{}, audio("0", cm+key30+" UNAUTHENTICATED_SRTP", cm+key30+" FOO"), nil, "", "", nil},
		{"optional savp, none usable", &SRTP{}, savpAudio("0", cm+key30+" KDR=2"), ErrNoCrypto, "", "", nil},
		{"mandatory avp, none usable", &SRTP{Mandatory: true}, audio("0", cm+key30+" UNENCRYPTED_SRTCP"), ErrNoCrypto, "", "", nil},
		{"mandatory, MKI too long for its length", &SRTP{Mandatory: true}, savpAudio("0", cm+key30+"|300:1"), ErrNoCrypto, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal()
			l.SRTP = tc.srtp
			ans, remote, _, err := Answer(l, []byte(tc.offer), SendRecv)
			checkErr(t, err, tc.err)
			if err != nil {
				return
			}
			k, ok := tc.srtp.AnswerKeys(remote)
			if tc.tag == "" {
				if ok || bytes.Contains(ans, []byte("a=crypto")) {
					t.Fatalf("plain answer carries keys:\n%s", ans)
				}
				return
			}
			if !ok || k.Suite != tc.suite || !bytes.Equal(k.RemoteMKI, tc.mki) {
				t.Fatalf("keys %v %s MKI %x, want %s MKI %x", ok, k.Suite, k.RemoteMKI, tc.suite, tc.mki)
			}
			got, err := Parse(ans)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(ans, []byte("a=crypto:"+tc.tag+" "+string(tc.suite)+" inline:")) || len(got.Crypto) != 1 || got.Crypto[0].MKI != nil {
				t.Errorf("answer line (tag %s, no MKI):\n%s", tc.tag, ans)
			}
		})
	}
}

// TestSRTPAcceptMKI: an answer to our offer whose line carries an MKI
// gives keys with that MKI for our receiver; one whose only line has an
// unknown session parameter gives none (parseCryptoLines drops it).
func TestSRTPAcceptMKI(t *testing.T) {
	a := &SRTP{}
	if _, err := a.offerLines(); err != nil {
		t.Fatal(err)
	}
	m, err := Parse([]byte(audio("0", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30+"|2^31|1000:2")))
	if err != nil {
		t.Fatal(err)
	}
	k, ok := a.Accept(m.Crypto)
	if !ok || k.Suite != AESCM128SHA1x80 || !bytes.Equal(k.RemoteMKI, []byte{0x03, 0xe8}) {
		t.Fatalf("Accept = %v %s MKI %x", ok, k.Suite, k.RemoteMKI)
	}
	m, err = Parse([]byte(audio("0", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30+" -LATER")))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Accept(m.Crypto); ok || len(m.Crypto) != 0 {
		t.Errorf("a line with an unknown session parameter was accepted")
	}
}

// TestSRTPOfferAnswerRoundTrip offers in each mode, answers with another
// Local and checks both sides agree; a re-offer keeps our key.
func TestSRTPOfferAnswerRoundTrip(t *testing.T) {
	for _, mand := range []bool{false, true} {
		a := &Local{Addr: "192.0.2.1", Port: 4000, SRTP: &SRTP{Mandatory: mand}}
		b := &Local{Addr: "192.0.2.2", Port: 5000, SRTP: &SRTP{}}
		offer, err := Offer(a, SendRecv, false)
		if err != nil {
			t.Fatal(err)
		}
		wantProfile := map[bool]string{false: "RTP/AVP", true: "RTP/SAVP"}[mand]
		if !strings.Contains(mLines(offer)[0], wantProfile) || bytes.Count(offer, []byte("a=crypto:")) != len(Suites) {
			t.Fatalf("offer:\n%s", offer)
		}
		ans, remote, _, err := Answer(b, offer, SendRecv)
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := b.SRTP.AnswerKeys(remote)
		am, _, err := ParseAnswer(ans)
		if err != nil {
			t.Fatal(err)
		}
		ka, ok := a.SRTP.Accept(am.Crypto)
		if !ok || ka.Suite != Suites[0] || !bytes.Equal(ka.Local, kb.Remote) || !bytes.Equal(ka.Remote, kb.Local) {
			t.Fatalf("keys do not cross: %v %s", ok, ka.Suite)
		}
		// RFC 4568 §7.1.4: a re-offer (hold) may keep the keys; ours does.
		re, err := Offer(a, SendOnly, false)
		if err != nil {
			t.Fatal(err)
		}
		rm, _ := Parse(re)
		if !bytes.Equal(rm.Crypto[0].Key, ka.Local) {
			t.Errorf("re-offer changed our key")
		}
		// An answer naming a tag or suite we did not offer is not accepted.
		if _, ok := a.SRTP.Accept([]Crypto{{Tag: 1, Suite: AESCM128SHA1x32, Key: ka.Remote}, {Tag: 9, Suite: AESCM128SHA1x80}}); ok {
			t.Errorf("accepted a line we did not offer")
		}
	}
}

// FuzzParseCrypto checks that ParseCrypto never panics, that what it
// accepts round-trips, and that its errors never carry the input.
func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^20")
	f.Add("3 AEAD_AES_128_GCM inline:" + key28)
	f.Add("1 AES_CM_128_HMAC_SHA1_32 inline:" + key30 + "|2^20|1:4")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + ";inline:" + key30)
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|2^31|65535:2 WSH=64 FEC_ORDER=FEC_SRTP")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|1:4;inline:" + key30 + "|2:4")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " KDR=3 UNENCRYPTED_SRTP UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + " FEC_KEY=inline:" + key30 + "|2^20|1:4 -EXT")
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:" + key30 + "|99999999999999999999999:128")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseCrypto(v)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		if c.Suite.KeyLen() != len(c.Key) || c.Tag < 0 || c.Tag > 999999999 || len(c.MKI) > maxMKILen {
			t.Fatalf("accepted %q as %d %s %d MKI %d bytes", v, c.Tag, c.Suite, len(c.Key), len(c.MKI))
		}
		back, err := ParseCrypto(c.String())
		if err != nil || back.Tag != c.Tag || back.Suite != c.Suite || !bytes.Equal(back.Key, c.Key) || !bytes.Equal(back.MKI, c.MKI) {
			t.Fatalf("round trip of %q: %v", v, err)
		}
	})
}

// TestSRTPTakesKeyedCopy: with SRTP on, of an RTP/SAVP stream and its plain
// RTP/AVP copy the keyed one is answered and the copy rejected.
func TestSRTPTakesKeyedCopy(t *testing.T) {
	l := testLocal()
	l.SRTP = &SRTP{}
	ans, remote, _, err := Answer(l, []byte(realWorld["savp-then-avp"]), SendRecv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"m=audio 40000 RTP/SAVP 0 101", "m=audio 0 RTP/AVP 0 8 101"}
	if got := mLines(ans); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("m= lines %q, want %q", got, want)
	}
	if k, ok := l.SRTP.AnswerKeys(remote); !ok || k.Suite != AESCM128SHA1x80 {
		t.Errorf("keys %v %s", ok, k.Suite)
	}
}
