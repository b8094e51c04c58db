package sdp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// baresipDTLSOffer is baresip 1.0's offer with ;mediaenc=dtls_srtp and
// rtcp_mux yes (session-level a=setup and a=fingerprint, SAVPF).
const baresipDTLSOffer = "v=0\r\n" +
	"o=- 1682845365 1108199724 IN IP4 127.0.0.1\r\n" +
	"s=-\r\n" +
	"c=IN IP4 127.0.0.1\r\n" +
	"t=0 0\r\n" +
	"a=tool:baresip 1.0.0\r\n" +
	"a=setup:actpass\r\n" +
	"a=fingerprint:SHA-256 8B:78:25:53:05:16:86:A6:F5:75:A8:53:08:F6:1F:F5:2E:E1:C6:C0:DD:72:1A:10:8E:6D:F4:0D:B6:02:D5:30\r\n" +
	"m=audio 27040 UDP/TLS/RTP/SAVPF 0 101\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-15\r\n" +
	"a=sendrecv\r\n" +
	"a=rtcp-mux\r\n" +
	"a=ptime:20\r\n"

const fp256 = "8B:78:25:53:05:16:86:A6:F5:75:A8:53:08:F6:1F:F5:2E:E1:C6:C0:DD:72:1A:10:8E:6D:F4:0D:B6:02:D5:30"

func TestParseFingerprint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		hash string
		n    int // octets; 0: refused
	}{
		{"sha-256 " + fp256, "sha-256", 32},
		{"SHA-256 " + fp256, "sha-256", 32},
		{"sha-256 " + strings.ToLower(fp256), "sha-256", 32},
		{"  sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33 ", "sha-1", 20},
		{"sha-256 " + fp256 + ":00", "", 0}, // too long
		{"sha-256 " + fp256[3:], "", 0},     // too short
		{"md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", "", 0},
		{"sha-256", "", 0},
		{"sha-256 " + strings.ReplaceAll(fp256, ":", ""), "", 0},
		{"sha-256 " + strings.Replace(fp256, "8B", "8G", 1), "", 0},
		{"sha-256 " + strings.Replace(fp256, "8B", "8", 1), "", 0},
		{"", "", 0},
	} {
		f, err := ParseFingerprint(tc.in)
		if tc.n == 0 {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseFingerprint(%q) = %v, %v; want ErrMalformed", tc.in, f, err)
			}
			continue
		}
		if err != nil || f.Hash != tc.hash || len(f.Sum) != tc.n {
			t.Errorf("ParseFingerprint(%q) = %+v, %v", tc.in, f, err)
			continue
		}
		// Round trip: String writes upper-case hex.
		g, err := ParseFingerprint(f.String())
		if err != nil || !bytes.Equal(g.Sum, f.Sum) || g.Hash != f.Hash {
			t.Errorf("round trip of %q: %+v %v", f.String(), g, err)
		}
	}
}

func TestFingerprintMatches(t *testing.T) {
	der := []byte("not really a certificate")
	f, err := NewFingerprint("sha-256", der)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Matches(der) || f.Matches(append(der, 0)) {
		t.Error("Matches")
	}
	if _, err := NewFingerprint("md5", der); !errors.Is(err, ErrInvalidLocal) {
		t.Errorf("md5: %v", err)
	}
}

func TestParseSetup(t *testing.T) {
	for in, want := range map[string]Setup{
		"active": SetupActive, "PASSIVE": SetupPassive, " actpass ": SetupActPass, "holdconn": SetupHoldConn,
		"": "", "both": "",
	} {
		got, err := ParseSetup(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("ParseSetup(%q) = %q, %v", in, got, err)
		}
	}
}

// TestDTLSRoles: our a=setup in answers (RFC 5763 §5) and our role after
// an answer to our actpass offer.
func TestDTLSRoles(t *testing.T) {
	for _, tc := range []struct {
		remote     Setup
		answer     Setup // "" error
		clientOfAn bool  // DTLSClient(remote) for an answer
		anErr      bool
	}{
		{SetupActPass, SetupActive, false, true},
		{SetupPassive, SetupActive, true, false},
		{SetupActive, SetupPassive, false, false},
		{"", SetupPassive, false, false},
		{SetupHoldConn, "", false, true},
	} {
		got, err := answerSetup(tc.remote)
		if got != tc.answer || (tc.answer == "") != (err != nil) {
			t.Errorf("answerSetup(%q) = %q, %v", tc.remote, got, err)
		}
		c, err := DTLSClient(tc.remote)
		if c != tc.clientOfAn || tc.anErr != (err != nil) {
			t.Errorf("DTLSClient(%q) = %v, %v", tc.remote, c, err)
		}
	}
}

func dtlsLocal() *Local {
	f, _ := ParseFingerprint("sha-256 " + strings.Repeat("AB:", 31) + "AB")
	return &Local{Addr: "192.0.2.1", Port: 4000, RTCPMux: true, DTLS: &LocalDTLS{Fingerprint: f}}
}

// TestDTLSOffer: RFC 5764 §8 profile, actpass, our fingerprint, no
// a=crypto; and it parses back.
func TestDTLSOffer(t *testing.T) {
	l := dtlsLocal()
	l.RTCPMux = true
	b, err := Offer(l, SendRecv, false)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"m=audio 4000 UDP/TLS/RTP/SAVP 0 8 101", "a=setup:actpass", "a=fingerprint:sha-256 AB:AB:", "a=rtcp-mux"} {
		if !strings.Contains(s, want) {
			t.Errorf("offer lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "a=crypto") {
		t.Errorf("a=crypto in a DTLS offer")
	}
	m, err := Parse(b)
	if err != nil || !m.DTLS || !m.SAVP || m.Setup != SetupActPass || len(m.Fingerprints) != 1 || !m.RTCPMux {
		t.Errorf("parsed %+v %v", m, err)
	}
	l.SRTP = &SRTP{}
	if _, err := Offer(l, SendRecv, false); !errors.Is(err, ErrInvalidLocal) {
		t.Errorf("SDES and DTLS: %v", err)
	}
}

// TestDTLSAnswer is the table of offers a DTLS-SRTP, SDES or plain
// answerer gets.
func TestDTLSAnswer(t *testing.T) {
	savpf := baresipDTLSOffer
	savp := strings.Replace(savpf, "SAVPF", "SAVP", 1)
	active := strings.Replace(savpf, "setup:actpass", "setup:active", 1)
	noMux := strings.Replace(savpf, "a=rtcp-mux\r\n", "", 1)
	noFP := strings.Replace(savpf, "a=fingerprint", "a=x-fingerprint", 1)
	holdconn := strings.Replace(savpf, "setup:actpass", "setup:holdconn", 1)
	badSetup := strings.Replace(savpf, "setup:actpass", "setup:both", 1)
	plain := audio("0", "rtpmap:0 PCMU/8000", "rtcp-mux")
	// A media-level fingerprint overrides the session-level one.
	mediaFP := strings.Replace(savpf, "a=ptime:20\r\n", "a=ptime:20\r\na=fingerprint:sha-1 "+strings.Repeat("01:", 19)+"01\r\n", 1)
	for _, tc := range []struct {
		name   string
		local  *Local
		offer  string
		err    error
		proto  string
		setup  string
		fpHash string
	}{
		{"baresip SAVPF", dtlsLocal(), savpf, nil, "UDP/TLS/RTP/SAVPF", "active", "sha-256"},
		{"SAVP", dtlsLocal(), savp, nil, "UDP/TLS/RTP/SAVP", "active", "sha-256"},
		{"offerer active", dtlsLocal(), active, nil, "UDP/TLS/RTP/SAVPF", "passive", "sha-256"},
		{"media-level fingerprint", dtlsLocal(), mediaFP, nil, "UDP/TLS/RTP/SAVPF", "active", "sha-1"},
		{"no rtcp-mux", dtlsLocal(), noMux, nil, "UDP/TLS/RTP/SAVPF", "active", "sha-256"},
		{"no fingerprint", dtlsLocal(), noFP, ErrNoCrypto, "", "", ""},
		{"holdconn", dtlsLocal(), holdconn, ErrNoCrypto, "", "", ""},
		{"bad setup", dtlsLocal(), badSetup, ErrMalformed, "", "", ""},
		{"plain offer to DTLS", dtlsLocal(), plain, ErrNoCrypto, "", "", ""},
		{"DTLS offer, encryption none", testLocal(), savpf, ErrNoCrypto, "", "", ""},
		{"DTLS offer, SDES", &Local{Addr: "192.0.2.1", Port: 4000, SRTP: &SRTP{}}, savpf, ErrNoCrypto, "", "", ""},
		// A kept association keeps its roles when the offer allows it.
		{"keep passive, actpass", keep(SetupPassive), savpf, nil, "UDP/TLS/RTP/SAVPF", "passive", "sha-256"},
		{"keep active, actpass", keep(SetupActive), savpf, nil, "UDP/TLS/RTP/SAVPF", "active", "sha-256"},
		{"keep passive, offerer passive", keep(SetupPassive), strings.Replace(savpf, "setup:actpass", "setup:passive", 1), nil, "UDP/TLS/RTP/SAVPF", "active", "sha-256"},
		{"keep active, offerer active", keep(SetupActive), active, nil, "UDP/TLS/RTP/SAVPF", "passive", "sha-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans, remote, _, err := Answer(tc.local, []byte(tc.offer), SendRecv)
			checkErr(t, err, tc.err)
			if tc.err != nil {
				return
			}
			s := string(ans)
			if !strings.Contains(s, "m=audio 4000 "+tc.proto+" 0 101\r\n") || !strings.Contains(s, "a=setup:"+tc.setup+"\r\n") ||
				!strings.Contains(s, "a=fingerprint:sha-256 AB:") || strings.Contains(s, "a=rtcp-mux") != strings.Contains(tc.offer, "a=rtcp-mux") {
				t.Errorf("answer:\n%s", s)
			}
			if tc.local.DTLS.Setup != Setup(tc.setup) {
				t.Errorf("LocalDTLS.Setup = %q", tc.local.DTLS.Setup)
			}
			if !remote.DTLS || len(remote.Fingerprints) != 1 || remote.Fingerprints[0].Hash != tc.fpHash {
				t.Errorf("remote %+v", remote)
			}
			m, err := Parse(ans)
			if err != nil || !m.DTLS || m.Setup != Setup(tc.setup) {
				t.Errorf("answer parses as %+v, %v", m, err)
			}
		})
	}
}

// keep is dtlsLocal keeping an association in role r.
func keep(r Setup) *Local {
	l := dtlsLocal()
	l.DTLS.Keep = r
	return l
}

// FuzzParseFingerprint: never panics; what parses prints back to itself.
func FuzzParseFingerprint(f *testing.F) {
	f.Add("sha-256 " + fp256)
	f.Add("SHA-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33")
	f.Add("sha-512 ::")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		fp, err := ParseFingerprint(s)
		if err != nil {
			return
		}
		g, err := ParseFingerprint(fp.String())
		if err != nil || g.Hash != fp.Hash || !bytes.Equal(g.Sum, fp.Sum) {
			t.Fatalf("%q → %q → %+v %v", s, fp.String(), g, err)
		}
	})
}

// FuzzParseSetup: never panics; what parses is one of the four values.
func FuzzParseSetup(f *testing.F) {
	for _, s := range []string{"active", "passive", "actpass", "holdconn", "ACTIVE ", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSetup(s)
		if err == nil && v != SetupActive && v != SetupPassive && v != SetupActPass && v != SetupHoldConn {
			t.Fatalf("%q → %q", s, v)
		}
	})
}
