package sessions

import (
	"slices"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

// TestRuleActions: every action of a rule, through the Manager: the
// decision handed to the phone, CallInfo's Decision, Rule and RuleWhy, and
// what the phone is told later (delayed accept, defer's then-action).
func TestRuleActions(t *testing.T) {
	tests := []struct {
		name     string
		policy   Policy
		kind     phone.DecisionKind
		decision string
		pending  bool
		ignored  bool
		later    []string // what the phone is told after the decision
	}{
		{"accept", Policy{Action: ActionAccept}, phone.DecisionAccept, "accept", false, false, nil},
		{"accept after", Policy{Action: ActionAccept, Delay: 10 * time.Millisecond}, phone.DecisionDefer, "accept after 10ms", true, false, []string{"accept in1"}},
		{"reject", Policy{Action: ActionReject, Code: 403, Reason: "Not You"}, phone.DecisionReject, "reject 403", false, false, nil},
		{"forward", Policy{Action: ActionForward, Target: "sip:vm@pbx"}, phone.DecisionForward, "forward sip:vm@pbx", false, false, nil},
		{"defer", Policy{Action: ActionDefer}, phone.DecisionDefer, "defer", true, false, nil},
		{"ignore", Policy{Action: ActionIgnore}, phone.DecisionDefer, "ignore", true, true, nil},
		{"defer then reject", Policy{Action: ActionDefer, RingTimeout: 10 * time.Millisecond, Then: &Policy{Action: ActionReject, Code: 480}},
			phone.DecisionDefer, "defer 10ms, then reject 480", true, false, []string{"reject in1 480 "}},
		{"defer then forward", Policy{Action: ActionDefer, RingTimeout: 10 * time.Millisecond, Then: &Policy{Action: ActionForward, Target: "sip:vm@pbx"}},
			phone.DecisionDefer, "defer 10ms, then forward sip:vm@pbx", true, false, []string{"forward in1 sip:vm@pbx"}},
		{"defer then accept", Policy{Action: ActionDefer, RingTimeout: 10 * time.Millisecond, Then: &Policy{Action: ActionAccept}},
			phone.DecisionDefer, "defer 10ms, then accept", true, false, []string{"accept in1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fp, sub := setup(t)
			rules := Rules{Rules: []Rule{
				{Match: "sip:bob@*", Line: 3, Policy: Policy{Action: ActionReject}},
				{Match: "sip:alice@*", Line: 7, Policy: tt.policy},
			}}
			if err := m.SetRules(rules); err != nil {
				t.Fatal(err)
			}
			id, d := incoming(t, m, sub, "in1", "sip:alice@example.com")
			if d.Kind != tt.kind {
				t.Fatalf("decision %+v, want kind %v", d, tt.kind)
			}
			if tt.kind == phone.DecisionDefer && tt.policy.Then != nil && d.Timeout <= tt.policy.RingTimeout {
				t.Errorf("the phone's ring timeout %v ends before the then-action at %v", d.Timeout, tt.policy.RingTimeout)
			}
			c, _ := m.Call(id)
			if c.Decision != tt.decision || c.Pending != tt.pending || c.Ignored != tt.ignored ||
				c.Rule != "rules[1]" || c.RuleWhy != `from "sip:alice@*" (line 7)` {
				t.Errorf("call %+v", c)
			}
			if tt.later == nil {
				time.Sleep(20 * time.Millisecond)
				if got := fp.recorded(); len(got) != 0 {
					t.Errorf("phone told %q", got)
				}
				return
			}
			ce := recvCall(t, sub)
			if ce.Call.Pending {
				t.Errorf("still pending after the timer: %+v", ce.Call)
			}
			if got := fp.recorded(); !slices.Equal(got, tt.later) {
				t.Errorf("phone told %q, want %q", got, tt.later)
			}
		})
	}
}

// TestDeferThenPersonFirst: a person deciding before the defer's timeout
// stops its then-action.
func TestDeferThenPersonFirst(t *testing.T) {
	m, fp, sub := setup(t)
	_ = m.SetRules(Rules{Default: Policy{Action: ActionDefer, RingTimeout: 30 * time.Millisecond,
		Then: &Policy{Action: ActionForward, Target: "sip:vm@pbx"}}})
	id, _ := incoming(t, m, sub, "in1", "sip:alice@example.com")
	if c, _ := m.Call(id); c.Rule != "default" || c.RuleWhy != "no rule matched" {
		t.Errorf("call %+v", c)
	}
	if err := m.Accept(id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if got := fp.recorded(); !slices.Equal(got, []string{"accept in1"}) {
		t.Errorf("phone told %q", got)
	}
}

// TestHeaderRulesThroughManager: rules see the INVITE's headers (all of
// them, else the selected map), and an auto-answer header answers only
// through a rule asking for it.
func TestHeaderRulesThroughManager(t *testing.T) {
	m, _, sub := setup(t)
	_ = m.SetRules(Rules{Rules: []Rule{
		{Headers: []HeaderMatch{{"X-Priority", "urgent"}}, Policy: Policy{Action: ActionReject, Code: 600}},
		{AutoAnswerHeader: true, Policy: Policy{Action: ActionAccept, DelayFromHeader: true}},
	}})
	d := m.OnIncomingCall(phone.IncomingCall{Session: "a", RemoteURI: "sip:x@y", Received: at(0),
		AllHeaders: []phone.Header{{Name: "X-Priority", Value: "Urgent"}}})
	recvCall(t, sub)
	if d.Kind != phone.DecisionReject || d.Code != 600 {
		t.Errorf("header rule: %+v", d)
	}
	d = m.OnIncomingCall(phone.IncomingCall{Session: "b", RemoteURI: "sip:x@y", Received: at(0),
		Headers: map[string]string{"Call-Info": "<sip:y>;answer-after=0"}})
	ce := recvCall(t, sub)
	if d.Kind != phone.DecisionAccept || ce.Call.Rule != "rules[1]" || ce.Call.RuleWhy != "auto_answer_header (Call-Info answer-after=0)" {
		t.Errorf("auto-answer rule: %+v %+v", d, ce.Call)
	}
	_ = m.SetRules(DeferAll())
	d = m.OnIncomingCall(phone.IncomingCall{Session: "c", RemoteURI: "sip:x@y", Received: at(0),
		Headers: map[string]string{"Call-Info": "<sip:y>;answer-after=0", "Answer-Mode": "Auto"}})
	recvCall(t, sub)
	if d.Kind != phone.DecisionDefer {
		t.Errorf("without the rule: %+v, want defer", d)
	}
}

// TestDeferThenIgnore: a person ignoring a deferred call stops the prompt,
// not the rule's then-action.
func TestDeferThenIgnore(t *testing.T) {
	m, fp, sub := setup(t)
	_ = m.SetRules(Rules{Default: Policy{Action: ActionDefer, RingTimeout: 20 * time.Millisecond,
		Then: &Policy{Action: ActionForward, Target: "sip:vm@pbx"}}})
	id, _ := incoming(t, m, sub, "in1", "sip:alice@example.com")
	if err := m.Ignore(id); err != nil {
		t.Fatal(err)
	}
	if ce := recvCall(t, sub); !ce.Call.Ignored {
		t.Fatalf("after ignore: %+v", ce.Call)
	}
	if ce := recvCall(t, sub); ce.Call.Pending || ce.Call.Decision != "no answer: forwarded sip:vm@pbx" {
		t.Errorf("then-action: %+v", ce.Call)
	}
	if got := fp.recorded(); !slices.Equal(got, []string{"forward in1 sip:vm@pbx"}) {
		t.Errorf("phone told %q", got)
	}
}

// TestDeferThenCountsAsMissed: a call nobody answered before the defer's
// timeout is a missed call, though the rule sent it on (voicemail).
func TestDeferThenCountsAsMissed(t *testing.T) {
	m, fp, sub := setup(t)
	_ = m.SetRules(Rules{Default: Policy{Action: ActionDefer, RingTimeout: 20 * time.Millisecond,
		Then: &Policy{Action: ActionForward, Target: "sip:vm@pbx"}}})
	fp.onForward = func(sid phone.SessionID) {
		ev := callEv(sid, phone.DirectionIncoming, phone.StateCancelled, 2)
		ev.Code = 302
		fp.emit(t, ev)
		fp.flush(t)
	}
	incoming(t, m, sub, "in1", "sip:alice@example.com")
	var last CallEvent
	for last.Call.State != StateCancelled {
		last = recvCall(t, sub)
	}
	if last.Call.Decision != "no answer: forwarded sip:vm@pbx" || !last.Call.Missed() {
		t.Errorf("call %+v, missed %v", last.Call, last.Call.Missed())
	}
	if st := m.Stats(); st.Missed != 1 || st.Declined != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestHangupWhileRingingIsNotMissed: a person hanging up a ringing call
// refuses it: Stats, the history and the badge (CallInfo.Missed) all count
// it declined, not missed.
func TestHangupWhileRingingIsNotMissed(t *testing.T) {
	m, fp, sub := setup(t)
	id, _ := incoming(t, m, sub, "in1", "sip:alice@example.com")
	if err := m.Hangup(id); err != nil {
		t.Fatal(err)
	}
	ev := callEv("in1", phone.DirectionIncoming, phone.StateCancelled, 2)
	ev.Code = 603
	fp.emit(t, ev)
	var last CallEvent
	for last.Call.State != StateCancelled {
		last = recvCall(t, sub)
	}
	if !last.Call.Declined || last.Call.Missed() {
		t.Errorf("call %+v: declined %v, missed %v", last.Call, last.Call.Declined, last.Call.Missed())
	}
	if st := m.Stats(); st.Declined != 1 || st.Missed != 0 {
		t.Errorf("stats %+v", st)
	}
}
