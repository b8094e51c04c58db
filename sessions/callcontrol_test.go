package sessions

import (
	"strings"
	"testing"

	"github.com/teaphone/teaphone/phone"
)

// TestAutoHold: with call waiting on, answering or placing a call holds the
// connected calls first; without it nothing is held.
func TestAutoHold(t *testing.T) {
	for _, on := range []bool{true, false} {
		m, fp, sub := setup(t, WithAutoHold(on))
		id1, sid1 := dial(t, m, fp, sub)
		fp.emit(t, callEv(sid1, phone.DirectionOutgoing, phone.StateActive, 1))
		if ce := recvCall(t, sub); ce.Call.State != StateConnected {
			t.Fatalf("%+v", ce)
		}
		id2, d := incoming(t, m, sub, "in-2", "sip:carol@example.com")
		if d.Kind != phone.DecisionDefer {
			t.Fatalf("decision %+v", d)
		}
		if err := m.Accept(id2); err != nil {
			t.Fatal(err)
		}
		held := false
		for _, op := range fp.recorded() {
			held = held || strings.HasPrefix(op, "hold "+string(sid1))
		}
		if held != on {
			t.Errorf("auto-hold %v: first call held = %v (ops %v)", on, held, fp.recorded())
		}
		_ = id1
	}
}
