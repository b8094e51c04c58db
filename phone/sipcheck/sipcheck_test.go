package sipcheck

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// policy is the phone's (see phone/screen.go).
var policy = Policy{
	Supported: []string{"replaces", "100rel", "timer"},
	Accept:    map[string][]string{"INVITE": {"application/sdp"}, "UPDATE": {"application/sdp"}, "PRACK": {"application/sdp"}},
	Produces:  map[string]string{"INVITE": "application/sdp", "UPDATE": "application/sdp"},
}

// rfc4475 is what Check makes of each RFC 4475 message sent in one UDP
// datagram: the status code of the answer, 0 to pass it on, -1 to drop it.
// The comment gives what the RFC's section asks.
var rfc4475 = []struct {
	file string
	want int
}{
	// §3.1.1: valid messages, passed on (the SIP stack answers them).
	{"3.1.1.1-wsinv.dat", 400}, // valid; sipgo cannot read its "tag = x" From tag (§3.1.1.1)
	{"3.1.1.2-intmeth.dat", 0},
	{"3.1.1.3-esc01.dat", 0},
	{"3.1.1.4-escnull.dat", 0},
	{"3.1.1.5-esc02.dat", 0},
	{"3.1.1.6-lwsdisp.dat", 0},
	{"3.1.1.7-longreq.dat", 0},
	{"3.1.1.8-dblreq.dat", 0}, // trailing octets after Content-Length ignored
	{"3.1.1.9-semiuri.dat", 0},
	{"3.1.1.10-transports.dat", 0},
	{"3.1.1.11-mpart01.dat", 0},
	{"3.1.1.12-unreason.dat", 0}, // responses go to the stack
	{"3.1.1.13-noreason.dat", 0},
	// §3.1.2: invalid messages: 400 (or as named), responses dropped by the stack.
	{"3.1.2.1-badinv01.dat", 400},  // §3.1.2.1: unparseable Via
	{"3.1.2.2-clerr.dat", 400},     // §3.1.2.2: Content-Length larger than the datagram
	{"3.1.2.3-ncl.dat", 400},       // §3.1.2.3: negative Content-Length
	{"3.1.2.4-scalar02.dat", 400},  // §3.1.2.4: scalars out of range
	{"3.1.2.5-scalarlg.dat", 0},    // §3.1.2.5: a response
	{"3.1.2.6-quotbal.dat", 400},   // §3.1.2.6: unterminated quote
	{"3.1.2.7-ltgtruri.dat", 400},  // §3.1.2.7: <> around the Request-URI
	{"3.1.2.8-lwsruri.dat", 400},   // §3.1.2.8: white space in the Request-URI
	{"3.1.2.9-lwsstart.dat", 400},  // §3.1.2.9: several SP in the Request-Line
	{"3.1.2.10-trws.dat", 400},     // §3.1.2.10: SP after the SIP-Version
	{"3.1.2.11-escruri.dat", 400},  // §3.1.2.11: headers in the Request-URI
	{"3.1.2.12-baddate.dat", 400},  // §3.1.2.12: Date not in GMT
	{"3.1.2.13-regbadct.dat", 400}, // §3.1.2.13: ? in a Contact URI without <>
	{"3.1.2.14-badaspec.dat", 400}, // §3.1.2.14: spaces inside <>
	{"3.1.2.15-baddn.dat", 400},    // §3.1.2.15: unquoted display name with a comma
	{"3.1.2.16-badvers.dat", 505},  // §3.1.2.16: SIP/7.0
	{"3.1.2.17-mismatch01.dat", 400},
	{"3.1.2.18-mismatch02.dat", 400},
	{"3.1.2.19-bigcode.dat", 0}, // §3.1.2.19: a response
	// §3.2: transaction layer.
	{"3.2.1-badbranch.dat", 0},
	// §3.3: application layer.
	{"3.3.1-insuf.dat", 400},   // §3.3.1: To, From, Call-ID missing
	{"3.3.2-unkscm.dat", 416},  // §3.3.2
	{"3.3.3-novelsc.dat", 416}, // §3.3.3: valid, but a scheme we do not serve
	{"3.3.4-unksm2.dat", 0},    // §3.3.4: the registrar's to judge (we answer 405)
	{"3.3.5-bext01.dat", 420},  // §3.3.5
	{"3.3.6-invut.dat", 415},   // §3.3.6
	{"3.3.7-regaut01.dat", 0},  // §3.3.7: valid
	{"3.3.8-multi01.dat", 400}, // §3.3.8: single-valued fields repeated
	{"3.3.9-mcl01.dat", 400},   // §3.3.9: two Content-Length
	{"3.3.10-bcast.dat", 0},    // a response
	{"3.3.11-zeromf.dat", 0},   // §3.3.11: valid
	{"3.3.12-cparam01.dat", 0}, // valid
	{"3.3.13-cparam02.dat", 0}, // valid
	{"3.3.14-regescrt.dat", 0}, // valid
	{"3.3.15-sdp01.dat", 406},  // §3.3.15: Accept excludes what we answer
	{"3.4.1-inv2543.dat", 400}, // valid RFC 2543 request; sipgo cannot key it (no From tag)
}

func readMessage(t testing.TB, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "rfc4475", file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func code(v Verdict) int {
	switch v.Action {
	case Pass:
		return 0
	case Drop:
		return -1
	}
	return v.Code
}

func TestCheckRFC4475(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "rfc4475", "*.dat"))
	if len(files) != len(rfc4475) {
		t.Fatalf("%d messages, %d expectations", len(files), len(rfc4475))
	}
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 40000}
	for _, tc := range rfc4475 {
		raw := readMessage(t, tc.file)
		v := policy.Check(raw, true)
		if got := code(v); got != tc.want {
			t.Errorf("%s: %v, want %d", tc.file, v, tc.want)
			continue
		}
		if v.Action != Reject {
			continue
		}
		res, err := Answer(raw, v, src)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		t.Logf("%s: %s -> %s", tc.file, strings.SplitN(string(res), "\r\n", 2)[0], Destination(raw, src))
	}
}
