package sdp

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds returns the descriptions used by the tests as fuzz seeds.
func fuzzSeeds(f *testing.F) {
	for _, s := range realWorld {
		f.Add([]byte(s))
	}
	f.Add([]byte(audio("0 8 101", "rtpmap:101 telephone-event/8000", "fmtp:101 0-16", "ptime:20", "sendonly")))
	f.Add([]byte(audio("97 96", "rtpmap:97 pcma/8000/1", "rtpmap:96 telephone-event/8000", "rtcp:9 IN IP4 1.2.3.4")))
	f.Add([]byte("v=0\no=- 1 1 IN IP6 ::1\ns=\nc=IN IP6 ::\nt=0 0\na=inactive\nm=audio 1/2 RTP/AVP 0\n"))
	f.Add([]byte(""))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte(audio("0", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30+"|2^20", "crypto:2 AEAD_AES_128_GCM inline:"+key28)))
	f.Add([]byte(savpAudio("0", "crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"+key30+"|2^20|1:4")))
	f.Add([]byte(audio("0", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30+"|2^31 KDR=1",
		"crypto:2 AES_CM_128_HMAC_SHA1_80 inline:"+key30+"|2^31|1:4 WSH=64",
		"crypto:3 AEAD_AES_128_GCM inline:"+key28+" UNENCRYPTED_SRTP")))
	f.Add([]byte(savpAudio("0", "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+key30+"|1:4;inline:"+key30+"|2:4 FEC_ORDER=FEC_SRTP")))
	f.Add([]byte(baresipDTLSOffer))
	f.Add([]byte(audio("0", "setup:passive", "fingerprint:sha-1 "+strings.Repeat("0A:", 19)+"0A", "rtcp-mux")))
	if b, err := Offer(dtlsLocal(), SendRecv, false); err == nil {
		f.Add(b)
	}
	l := &Local{Addr: "192.0.2.1", Port: 4000}
	for _, d := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
		b, err := Offer(l, d, true)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParse checks that Parse never panics and that what it returns is
// within range.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoAudio) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if m.Port < 0 || m.Port > 65535 || m.RTCPPort < 0 || m.RTCPPort > 65535 {
			t.Fatalf("ports out of range: %+v", m)
		}
		if m.DTMFPT < -1 || m.DTMFPT > 127 {
			t.Fatalf("DTMF PT out of range: %+v", m)
		}
		if m.Direction < SendRecv || m.Direction > Inactive || m.Addr == "" {
			t.Fatalf("bad media: %+v", m)
		}
		if m.HoldC0 && m.Direction.Recvs() {
			t.Fatalf("c=0.0.0.0 but receiving: %+v", m)
		}
		for _, c := range m.Codecs {
			if canonicalCodec(c.Name) != c.Name || c.Rate != ClockRate(c.Name) || c.PT > 127 {
				t.Fatalf("bad codec %+v", c)
			}
		}
	})
}

// FuzzAnswer checks that Answer never panics and that a successful answer
// parses again, with the chosen codec and the offerer's DTMF payload type.
func FuzzAnswer(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, offer []byte) {
		l := &Local{Addr: "198.51.100.1", Port: 40000, SessionID: 1}
		if len(offer)%2 == 1 {
			l.SRTP = &SRTP{} // half the inputs are answered with SRTP on
		}
		ans, remote, chosen, err := Answer(l, offer, SendOnly)
		if err != nil {
			if errors.Is(err, ErrInvalidLocal) {
				t.Fatal(err)
			}
			return
		}
		m, c, err := ParseAnswer(ans)
		if err != nil {
			t.Fatalf("answer does not parse: %v\noffer:\n%q\nanswer:\n%s", err, offer, ans)
		}
		if len(m.Crypto) != len(remote.Crypto) || len(m.Crypto) > 1 {
			t.Fatalf("answer keys %d, accepted %d", len(m.Crypto), len(remote.Crypto))
		}
		if c != chosen || m.DTMFPT != remote.DTMFPT || len(m.Codecs) != 1 {
			t.Fatalf("answer %+v %v, chosen %v, remote %+v", m, c, chosen, remote)
		}
		if m.Direction != remote.Direction.Mirror().Intersect(SendOnly) || m.Addr != l.Addr || m.Port != l.Port {
			t.Fatalf("answer media %+v for remote %+v", m, remote)
		}
		// RFC 3264 §6: one answer m= line per offered m= line.
		o, err1 := unmarshal(offer)
		a, err2 := unmarshal(ans)
		if err1 != nil || err2 != nil || len(o.MediaDescriptions) != len(a.MediaDescriptions) {
			t.Fatalf("m= lines differ: %v %v\n%q\n%s", err1, err2, offer, ans)
		}
	})
}
