package sessions

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

func TestRulesDecide(t *testing.T) {
	r := Rules{
		Rules: []Rule{
			{Match: "*@blocked.example", Policy: Policy{Action: ActionReject, Code: 603}},
			{Match: "sip:100@*", Policy: Policy{Action: ActionAccept, Delay: time.Second}},
			{Match: "sip:boss@example.com", Policy: Policy{Action: ActionForward, Target: "sip:me@mobile"}},
			{Match: "*@quiet.example", Policy: Policy{Action: ActionIgnore}},
		},
		Default: Policy{Action: ActionDefer},
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		remote string
		want   Action
	}{
		{"sip:spam@blocked.example", ActionReject},
		{`"Spam" <sip:spam@BLOCKED.example>;tag=1`, ActionReject},
		{"sips:x@blocked.example;transport=tls", ActionReject},
		{"sip:100@pbx.local", ActionAccept},
		{"sip:boss@example.com", ActionForward},
		{"sip:a@quiet.example", ActionIgnore},
		{"sip:anyone@else", ActionDefer},
		{"", ActionDefer},
	}
	for _, tt := range tests {
		if got := r.Decide(tt.remote).Action; got != tt.want {
			t.Errorf("Decide(%q) = %v, want %v", tt.remote, got, tt.want)
		}
	}
	if got := (Rules{Rules: []Rule{{Policy: Policy{Action: ActionAccept}}}}).Decide("x").Action; got != ActionAccept {
		t.Errorf("empty Match must match all, got %v", got)
	}
}

func TestRulesValidate(t *testing.T) {
	bad := []Rules{
		{Rules: []Rule{{Match: "[", Policy: Policy{}}}},
		RejectAll(200),
		RejectAll(700),
		{Default: Policy{Action: ActionReject, Reason: "x\r\ny"}},
		{Default: Policy{Action: ActionForward, Target: "sip:a@b\r\n"}},
		{Default: Policy{Action: ActionForward}},
		{Default: Policy{Action: ActionAccept, Delay: -time.Second}},
		{Default: Policy{Action: Action(42)}},
		{Default: Policy{RingTimeout: -1}},
	}
	for i, r := range bad {
		if err := r.Validate(); !errors.Is(err, ErrInvalidRules) {
			t.Errorf("case %d: Validate() = %v, want ErrInvalidRules", i, err)
		}
	}
	for _, r := range []Rules{DeferAll(), AcceptAll(0), AcceptAll(time.Second), RejectAll(0), RejectAll(603)} {
		if err := r.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", r, err)
		}
	}
}

func TestPolicyDecision(t *testing.T) {
	tests := []struct {
		p    Policy
		kind phone.DecisionKind
		desc string
	}{
		{Policy{Action: ActionDefer}, phone.DecisionDefer, "defer"},
		{Policy{Action: ActionIgnore}, phone.DecisionDefer, "ignore"},
		{Policy{Action: ActionAccept}, phone.DecisionAccept, "accept"},
		{Policy{Action: ActionAccept, Delay: 2 * time.Second}, phone.DecisionDefer, "accept after 2s"},
		{Policy{Action: ActionReject}, phone.DecisionReject, "reject 486"},
		{Policy{Action: ActionReject, Code: 603}, phone.DecisionReject, "reject 603"},
		{Policy{Action: ActionForward, Target: " sip:x@y "}, phone.DecisionForward, "forward sip:x@y"},
	}
	for _, tt := range tests {
		d := tt.p.decision(45 * time.Second)
		if d.Kind != tt.kind {
			t.Errorf("%+v: kind %v, want %v", tt.p, d.Kind, tt.kind)
		}
		if got := tt.p.String(); got != tt.desc {
			t.Errorf("%+v: String() = %q, want %q", tt.p, got, tt.desc)
		}
	}
	if d := (Policy{Action: ActionAccept, Delay: 2 * time.Second}).decision(0); d.Timeout <= 2*time.Second {
		t.Errorf("delayed accept rings %v, not longer than its delay", d.Timeout)
	}
	if d := (Policy{Action: ActionDefer}).decision(45 * time.Second); d.Timeout != 45*time.Second {
		t.Errorf("defer timeout %v", d.Timeout)
	}
	if d := (Policy{Action: ActionDefer, RingTimeout: time.Second}).decision(45 * time.Second); d.Timeout != time.Second {
		t.Errorf("per-rule ring timeout %v", d.Timeout)
	}
	if d := (Policy{Action: ActionReject}).decision(0); d.Code != 486 {
		t.Errorf("default reject code %d", d.Code)
	}
	if d := (Policy{Action: ActionForward, Target: " sip:x@y "}).decision(0); d.Target != "sip:x@y" {
		t.Errorf("forward target %q", d.Target)
	}
}

func TestActionNames(t *testing.T) {
	for a := ActionDefer; a <= ActionIgnore; a++ {
		got, err := ParseAction(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAction(%q) = %v, %v", a.String(), got, err)
		}
	}
	if _, err := ParseAction("answer"); err == nil {
		t.Error("ParseAction(answer) succeeded")
	}
}

// TestRulesTo: a rule's To matches the called URI, the To header's or the
// Request-URI's; together with Match both must match.
func TestRulesTo(t *testing.T) {
	r := Rules{
		Rules: []Rule{
			{Match: "sip:alice@*", To: "sip:work@*", Policy: Policy{Action: ActionAccept}},
			{To: "*@home.example", Policy: Policy{Action: ActionReject, Code: 480}},
		},
		Default: Policy{Action: ActionDefer},
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		from   string
		called []string
		want   Action
	}{
		{"sip:alice@a.example", []string{"<sip:work@pbx.example>;tag=1", "sip:work@10.0.0.2:5060"}, ActionAccept},
		{"sip:alice@a.example", []string{"", "sip:work@10.0.0.2"}, ActionAccept},
		{"sip:alice@a.example", []string{"sip:play@pbx.example"}, ActionDefer},
		{"sip:mallory@m.example", []string{"sip:work@pbx.example"}, ActionDefer},
		{"sip:mallory@m.example", []string{"sip:me@HOME.example"}, ActionReject},
		{"sip:alice@a.example", nil, ActionDefer},
	}
	for _, tt := range tests {
		if got := r.DecideCall(tt.from, tt.called...).Action; got != tt.want {
			t.Errorf("DecideCall(%q, %q) = %v, want %v", tt.from, tt.called, got, tt.want)
		}
	}
	if err := (Rules{Rules: []Rule{{To: "[", Policy: Policy{}}}}).Validate(); !errors.Is(err, ErrInvalidRules) {
		t.Errorf("bad To glob: Validate() = %v", err)
	}
}

// TestAutoAnswerHeadersOnlyRing: a call that asks to be answered by itself
// (Call-Info answer-after, Alert-Info autoanswer, RFC 5373 Answer-Mode)
// just rings under the terminal UI's rules (DeferAll): no header answers
// a call; only the rules and the person do.
func TestAutoAnswerHeadersOnlyRing(t *testing.T) {
	m, fp, sub := setup(t)
	if err := m.SetRules(DeferAll()); err != nil {
		t.Fatal(err)
	}
	for i, hdrs := range []map[string]string{
		{"Call-Info": "<sip:pbx.example>;answer-after=0"},
		{"Alert-Info": "<http://127.0.0.1/autoanswer>;info=alert-autoanswer"},
		{"Alert-Info": "autoanswer"},
		{"Answer-Mode": "Auto;require"},
	} {
		sid := phone.SessionID("aa" + strconv.Itoa(i))
		d := m.OnIncomingCall(phone.IncomingCall{Session: sid, From: "<sip:pager@pbx.example>", Headers: hdrs, Received: at(0)})
		if d.Kind != phone.DecisionDefer {
			t.Errorf("%v: decision %+v, want defer (ringing)", hdrs, d)
		}
		ce := recvCall(t, sub)
		if !ce.Call.Pending || ce.Call.Decision != "defer" || ce.Call.State != StateRinging {
			t.Errorf("%v: call %+v, want pending, ringing", hdrs, ce.Call)
		}
	}
	time.Sleep(50 * time.Millisecond) // a timer that would answer later
	if got := fp.recorded(); len(got) != 0 {
		t.Errorf("the phone was told %q, want nothing", got)
	}
}
