package sessions

import (
	"encoding/json"
	"testing"

	"github.com/teaphone/teaphone/phone"
)

func TestMapState(t *testing.T) {
	tests := []struct {
		in   phone.State
		want State
	}{
		{phone.StateUnknown, StateUnknown},
		{phone.StateInitiating, StateInitiating},
		{phone.StateProceeding, StateProceeding},
		{phone.StateRinging, StateRinging},
		{phone.StateActive, StateConnected},
		{phone.StateTransferring, StateProceeding},
		{phone.StateTerminating, StateTerminating},
		{phone.StateTerminated, StateTerminated},
		{phone.StateCancelled, StateCancelled},
		{phone.StateFailed, StateFailed},
		{phone.State(99), StateUnknown},
	}
	for _, tt := range tests {
		if got := MapState(tt.in); got != tt.want {
			t.Errorf("MapState(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if got := MapState(tt.in).Final(); got != tt.in.Final() {
			t.Errorf("MapState(%v).Final() = %v, phone says %v", tt.in, got, tt.in.Final())
		}
	}
}

func TestStateNames(t *testing.T) {
	tests := []struct {
		s    State
		name string
	}{
		{StateInitiating, "initiating"},
		{StateRinging, "ringing"},
		{StateConnected, "connected"},
		{StateProceeding, "proceeding"},
		{StateTerminating, "terminating"},
		{StateTerminated, "terminated"},
		{StateCancelled, "cancelled"},
		{StateFailed, "failed"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", int(tt.s), got, tt.name)
		}
		got, err := ParseState(tt.name)
		if err != nil || got != tt.s {
			t.Errorf("ParseState(%q) = %v, %v; want %v", tt.name, got, err, tt.s)
		}
		b, _ := json.Marshal(tt.s)
		var back State
		if err := json.Unmarshal(b, &back); err != nil || back != tt.s || string(b) != `"`+tt.name+`"` {
			t.Errorf("JSON round trip of %v: %s → %v, %v", tt.s, b, back, err)
		}
	}
	for _, bad := range []string{"", "unknown", "Connected", "held", "active"} {
		if _, err := ParseState(bad); err == nil {
			t.Errorf("ParseState(%q) succeeded", bad)
		}
	}
	if State(-1).String() != "unknown" || State(42).String() != "unknown" {
		t.Error("out-of-range states must print unknown")
	}
}

func TestDirection(t *testing.T) {
	if mapDirection(phone.DirectionIncoming) != DirectionIncoming ||
		mapDirection(phone.DirectionOutgoing) != DirectionOutgoing ||
		mapDirection(phone.DirectionUnknown) != "" {
		t.Error("direction mapping")
	}
}
