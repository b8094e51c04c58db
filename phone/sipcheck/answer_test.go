package sipcheck

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
)

const options = "OPTIONS sip:bob@192.0.2.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.7:5070;rport;branch=z9hG4bK1, SIP/2.0/TCP proxy.example.com;branch=z9hG4bK0\r\n" +
	"v: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK2\r\n" +
	"From: <sip:alice@example.com>;tag=a1\r\n" +
	"To: \"Bob\" <sip:bob@example.com>\r\n" +
	"Call-ID: c1@example.com\r\n" +
	"CSeq: 7 OPTIONS\r\n" +
	"Max-Forwards: 70\r\n" +
	"Require: foo\r\n" +
	"Content-Length: 0\r\n\r\n"

func TestAnswer(t *testing.T) {
	src := &net.UDPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 40123}
	v := policy.Check([]byte(options), true)
	if v.Code != 420 {
		t.Fatalf("verdict %v, want 420", v)
	}
	res, err := Answer([]byte(options), v, src)
	if err != nil {
		t.Fatal(err)
	}
	want := "SIP/2.0 420 Bad Extension\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.7:5070;branch=z9hG4bK1;received=198.51.100.1;rport=40123, SIP/2.0/TCP proxy.example.com;branch=z9hG4bK0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK2\r\n" +
		"From: <sip:alice@example.com>;tag=a1\r\n" +
		"To: \"Bob\" <sip:bob@example.com>;tag="
	if !strings.HasPrefix(string(res), want) {
		t.Fatalf("answer:\n%s\nwant prefix:\n%s", res, want)
	}
	for _, h := range []string{"\r\nCall-ID: c1@example.com\r\n", "\r\nCSeq: 7 OPTIONS\r\n", "\r\nUnsupported: foo\r\n", "\r\nContent-Length: 0\r\n\r\n"} {
		if !strings.Contains(string(res), h) {
			t.Errorf("answer lacks %q:\n%s", h, res)
		}
	}
	// §8.2.7: a retransmission gets the same To tag.
	again, _ := Answer([]byte(options), v, src)
	if !bytes.Equal(res, again) {
		t.Errorf("retransmission answered differently:\n%s\n%s", res, again)
	}
	if got := Destination([]byte(options), src); got != "198.51.100.1:40123" {
		t.Errorf("destination with rport: %s", got)
	}
	noRport := strings.Replace(options, ";rport", "", 1)
	if got := Destination([]byte(noRport), src); got != "198.51.100.1:5070" {
		t.Errorf("destination without rport: %s", got)
	}
	if _, err := Answer([]byte(options), Verdict{}, src); err == nil {
		t.Error("a Pass was answered")
	}
}

func TestAnswerKeepsToTag(t *testing.T) {
	for _, to := range []string{"<sip:bob@example.com>;tag=x", "sip:bob@example.com;tag=x", "<sip:bob@example.com> ; TAG = x"} {
		if !hasTag(to) {
			t.Errorf("%q: tag not seen", to)
		}
	}
	for _, to := range []string{"<sip:bob@example.com;tag=x>", "sip:bob@example.com", "\"a;tag=b\" <sip:bob@example.com>"} {
		if hasTag(to) {
			t.Errorf("%q: tag seen", to)
		}
	}
}

func TestFrame(t *testing.T) {
	two := options + options
	tests := []struct {
		name    string
		buf     string
		msg     string
		n       int
		wantErr error
	}{
		{"keep-alive", "\r\n\r\nOPT", "", 4, nil},
		{"partial header", options[:40], "", 0, nil},
		{"whole", two, options, len(options), nil},
		{"body to come", strings.Replace(options, "Content-Length: 0", "Content-Length: 5", 1) + "ab", "", 0, nil},
		{"no length", strings.Replace(options, "Content-Length: 0\r\n", "", 1), strings.Replace(options, "Content-Length: 0\r\n", "", 1), len(options) - 19, nil},
		{"negative length", strings.Replace(options, "Content-Length: 0", "l: -9", 1), strings.Replace(options, "Content-Length: 0", "l: -9", 1), 0, ErrNoLength},
		{"too large", strings.Replace(options, "Content-Length: 0", "Content-Length: 99999", 1), strings.Replace(options, "Content-Length: 0", "Content-Length: 99999", 1), 0, ErrTooLarge},
	}
	for _, tc := range tests {
		msg, n, err := Frame([]byte(tc.buf), 0)
		if string(msg) != tc.msg || n != tc.n || !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: (%q, %d, %v), want (%q, %d, %v)", tc.name, msg, n, err, tc.msg, tc.n, tc.wantErr)
		}
	}
}

func TestCheckCases(t *testing.T) {
	tests := []struct {
		name, from, to string
		want           int
	}{
		{"sound", "", "", 420},
		{"oversize", "Require: foo\r\n", "Require: foo\r\nX: " + strings.Repeat("a", DefaultMaxSize) + "\r\n", 513},
		{"tab in Request-Line", "OPTIONS sip:bob@192.0.2.1 SIP/2.0", "OPTIONS\tsip:bob@192.0.2.1 SIP/2.0", 400},
		{"tel", "sip:bob@192.0.2.1 SIP", "tel:+15551234 SIP", 416},
		{"no Via", "Via: SIP", "X-Via: SIP", -1},
		{"no end of header", "Content-Length: 0\r\n\r\n", "Content-Length: 0\r\n", -1},
		{"ACK", "OPTIONS sip", "ACK sip", -1},
		{"Max-Forwards", "Max-Forwards: 70", "Max-Forwards: 256", 400},
		{"empty Via param", ";branch=z9hG4bK2", ";;branch=z9hG4bK2", 400},
		{"IPv6 Via", "192.0.2.8;", "[2001:db8::1]:5062;", 420},
		{"quoted Via param", ";branch=z9hG4bK2", ";branch=z9hG4bK2;x=\"a;b\"", 420},
	}
	for _, tc := range tests {
		msg := strings.Replace(options, tc.from, tc.to, 1)
		switch tc.name {
		case "ACK": // a bad ACK is dropped (§17.1.1.3: never answered)
			msg = strings.Replace(msg, "7 OPTIONS", "7 ACK", 1)
			msg = strings.Replace(msg, "Max-Forwards: 70", "Max-Forwards: 256", 1)
		case "no Via":
			msg = strings.Replace(msg, "v: SIP", "X-V: SIP", 1)
		}
		if got := code(policy.Check([]byte(msg), true)); got != tc.want {
			t.Errorf("%s: %d (%v), want %d", tc.name, got, policy.Check([]byte(msg), true), tc.want)
		}
	}
}

// FuzzCheck feeds arbitrary bytes through Check, Answer, Destination and
// Frame: nothing may panic, and an answer must be one SIP response whose
// lines carry no control characters.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(options))
	for _, tc := range rfc4475 {
		f.Add(readMessage(f, tc.file))
	}
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 40000}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, datagram := range []bool{true, false} {
			v := policy.Check(raw, datagram)
			_ = Destination(raw, src)
			if v.Action != Reject {
				continue
			}
			res, err := Answer(raw, v, src)
			if err != nil {
				t.Fatalf("reject %v not answered: %v", v, err)
			}
			head, _, ok := bytes.Cut(res, []byte("\r\n\r\n"))
			if !ok || !bytes.HasPrefix(res, []byte("SIP/2.0 ")) {
				t.Fatalf("answer is no response: %q", res)
			}
			for _, line := range bytes.Split(head, []byte("\r\n")) {
				if bytes.ContainsAny(line, "\r\n\x00") {
					t.Fatalf("control character in %q", line)
				}
			}
		}
		_, _, _ = Frame(raw, 1024)
	})
}
