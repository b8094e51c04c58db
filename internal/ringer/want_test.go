package ringer

import (
	"testing"

	"github.com/teaphone/teaphone/sessions"
)

func TestWantFor(t *testing.T) {
	in := sessions.CallInfo{ID: "in", Direction: sessions.DirectionIncoming, State: sessions.StateRinging, Pending: true}
	ignored := in
	ignored.Ignored = true
	answered := in
	answered.Pending, answered.State = false, sessions.StateConnected
	out := sessions.CallInfo{ID: "out", Direction: sessions.DirectionOutgoing, State: sessions.StateRinging}
	trying := out
	trying.State = sessions.StateInitiating
	outEnded := out
	outEnded.State = sessions.StateFailed
	other := sessions.CallInfo{ID: "other", Direction: sessions.DirectionOutgoing, State: sessions.StateConnected}

	tests := []struct {
		name  string
		calls []sessions.CallInfo
		want  want
	}{
		{"no calls", nil, want{}},
		{"a pending incoming call rings", []sessions.CallInfo{in}, want{ring: true}},
		{"an ignored call is silent", []sessions.CallInfo{ignored}, want{}},
		{"an answered call is silent", []sessions.CallInfo{answered}, want{}},
		{"an outgoing call ringing: ringback", []sessions.CallInfo{out}, want{ringback: true}},
		{"not before it rings", []sessions.CallInfo{trying}, want{}},
		{"not once it failed", []sessions.CallInfo{outEnded}, want{}},
		{"no ringback over a connected call", []sessions.CallInfo{out, other}, want{}},
		{"a call waiting rings over a connected call", []sessions.CallInfo{in, other}, want{ring: true}},
		{"both at once", []sessions.CallInfo{in, out}, want{ring: true, ringback: true}},
	}
	for _, tt := range tests {
		calls := map[sessions.CallID]sessions.CallInfo{}
		for _, c := range tt.calls {
			calls[c.ID] = c
		}
		if got := wantFor(calls); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
