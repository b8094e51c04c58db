package headless

import (
	"context"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// TestAnswerOnlyAlice: answer mode with a rule that accepts only
// sip:alice@* (then rejects everybody else) answers Alice and refuses
// Mallory; the mode's default (answer) is not reached.
func TestAnswerOnlyAlice(t *testing.T) {
	r := newRig(t)
	o := r.options("hangup")
	o.MaxCallsThenExit = 2
	o.Rules = []sessions.Rule{
		{Match: "sip:alice@*", Policy: sessions.Policy{Action: sessions.ActionAccept}},
		{Policy: sessions.Policy{Action: sessions.ActionReject, Code: 403}},
	}
	ch := result(func() error { return RunAnswer(context.Background(), r.m, o) })
	eventually(t, "rules", func() bool { return len(r.m.Rules().Rules) == 2 })

	d := r.m.OnIncomingCall(phone.IncomingCall{Session: "m1", RemoteURI: "sip:mallory@evil.example", Received: t0})
	if d.Kind != phone.DecisionReject || d.Code != 403 {
		t.Fatalf("mallory: decision %+v, want reject 403", d)
	}
	r.fp.state("m1", phone.DirectionIncoming, phone.StateCancelled, 403, "Forbidden")
	if d := ring(r, "a1"); d.Kind != phone.DecisionAccept {
		t.Fatalf("alice: decision %+v, want accept", d)
	}
	r.fp.state("a1", phone.DirectionIncoming, phone.StateActive, 200, "")
	if err := wait(t, ch); err != nil {
		t.Fatalf("RunAnswer: %v (stderr %q)", err, r.err.String())
	}
	if got := strings.Join(r.fp.recorded(), ","); got != "hangup a1" {
		t.Fatalf("ops %s", got)
	}
}

// TestAnswerBadRules: rules the manager refuses are a usage error.
func TestAnswerBadRules(t *testing.T) {
	r := newRig(t)
	o := r.options("")
	o.Rules = []sessions.Rule{{Match: "[", Policy: sessions.Policy{Action: sessions.ActionAccept}}}
	err := RunAnswer(context.Background(), r.m, o)
	exitCode(t, err, ExitUsage)
}
