package phone

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseDTMFRelay(t *testing.T) {
	cases := []struct {
		body string
		want rune
		ok   bool
	}{
		{"Signal=5\r\nDuration=160\r\n", '5', true},
		{"signal = #\nDuration=100", '#', true},
		{"Signal=10\r\n", '*', true},
		{"Signal=11", '#', true},
		{"Signal=12", 'A', true},
		{"Signal=15", 'D', true},
		{"Signal=d", 'D', true},
		{"Duration=160\r\nSignal=9", '9', true},
		{"Signal=16", 0, false},
		{"Signal=", 0, false},
		{"Signal=55", 0, false},
		{"Signal=x", 0, false},
		{"Duration=160", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseDTMFRelay(tc.body)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseDTMFRelay(%q) = %q %v, want %q %v", tc.body, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSipfrag(t *testing.T) {
	cases := []struct {
		body string
		code int
		ok   bool
	}{
		{"SIP/2.0 200 OK\r\n", 200, true},
		{"SIP/2.0 100 Trying", 100, true},
		{"sip/2.0 486 Busy Here\r\nContact: <sip:x@y>\r\n", 486, true},
		{"  SIP/2.0 603 Decline", 603, true},
		{"SIP/2.0 99 Low", 0, false},
		{"SIP/2.0 700 High", 0, false},
		{"HTTP/1.1 200 OK", 0, false},
		{"SIP/2.0", 0, false},
		{"", 0, false},
	}
	for _, tc := range cases {
		code, ok := parseSipfrag([]byte(tc.body))
		if code != tc.code || ok != tc.ok {
			t.Errorf("parseSipfrag(%q) = %d %v, want %d %v", tc.body, code, ok, tc.code, tc.ok)
		}
	}
}

func TestParseReplaces(t *testing.T) {
	cases := []struct {
		value string
		want  replaces
		ok    bool
	}{
		{"abc@host;to-tag=1;from-tag=2", replaces{"abc@host", "1", "2", false}, true},
		{"abc@host ; From-Tag=2 ; TO-TAG=1 ; early-only", replaces{"abc@host", "1", "2", true}, true},
		{"abc@host;to-tag=1;from-tag=2;x=y", replaces{"abc@host", "1", "2", false}, true},
		{"abc@host;to-tag=1", replaces{}, false},
		{"abc@host;from-tag=2", replaces{}, false},
		{";to-tag=1;from-tag=2", replaces{}, false},
		{"a b;to-tag=1;from-tag=2", replaces{}, false},
		{"", replaces{}, false},
	}
	for _, tc := range cases {
		got, ok := parseReplaces(tc.value)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseReplaces(%q) = %+v %v, want %+v %v", tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseDTMFRelay: any INFO body gives a DTMF digit or nothing.
func FuzzParseDTMFRelay(f *testing.F) {
	for _, s := range []string{"Signal=5\r\nDuration=160\r\n", "Signal=11", "signal=d", "Signal=", "Signal=255", "=\n=\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		d, ok := parseDTMFRelay(body)
		if ok != (d != 0) || (ok && !strings.ContainsRune("0123456789*#ABCD", d)) {
			t.Fatalf("%q: %q %v", body, d, ok)
		}
	})
}

// FuzzParseSipfrag: any NOTIFY body gives a status code 100-699 or nothing.
func FuzzParseSipfrag(f *testing.F) {
	for _, s := range []string{"SIP/2.0 200 OK\r\n", "SIP/2.0 100", "SIP/2.0 -1 x", "SIP/ 99999999999999999999 x", "\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, ok := parseSipfrag(body)
		if ok != (code != 0) || (ok && (code < 100 || code > 699)) {
			t.Fatalf("%q: %d %v", body, code, ok)
		}
	})
}

// FuzzParseReplaces: any Replaces value gives a dialog with a Call-ID and
// both tags, or nothing.
func FuzzParseReplaces(f *testing.F) {
	for _, s := range []string{"abc@host;to-tag=1;from-tag=2", "x;early-only;to-tag=;from-tag=", ";;;", "a;to-tag=" + strconv.Itoa(1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r, ok := parseReplaces(value)
		if ok && (r.callID == "" || r.toTag == "" || r.fromTag == "") {
			t.Fatalf("%q: %+v", value, r)
		}
		if !ok && r != (replaces{}) {
			t.Fatalf("%q: refused but %+v", value, r)
		}
	})
}
