package phone

import (
	"context"
	"strings"
	"testing"
)

// TestTraceSIP: with TraceSIP on, the INVITE and its 200 appear in the
// trace as they were on the wire, marked sent and received.
func TestTraceSIP(t *testing.T) {
	var buf lockedBuffer
	TraceSIP(&buf)
	t.Cleanup(func() { TraceSIP(nil) }) // after the phones' cleanups: they run first
	b := newTestPhone(t, Options{Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	out := buf.String()
	for _, want := range []string{" SIP sent UDP ", " SIP recv UDP ", "\nINVITE sip:bob@", "\nSIP/2.0 200 OK\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%.2000s", want, out)
		}
	}
}
