package ui

import (
	"slices"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/components/dialer"
	"github.com/teaphone/teaphone/ui/keys"
	"github.com/teaphone/teaphone/ui/styles"
)

func ids(calls []sessions.CallInfo) []sessions.CallID {
	var out []sessions.CallID
	for _, c := range calls {
		out = append(out, c.ID)
	}
	return out
}

func TestUpsertCall(t *testing.T) {
	a := connected("a", 2, "", "sip:a@x", 0)
	b := connected("b", 1, "", "sip:b@x", 0)
	endedA := a
	endedA.State = sessions.StateTerminated
	heldA := a
	heldA.HeldLocal = true
	tests := []struct {
		name string
		in   []sessions.CallInfo
		add  sessions.CallInfo
		want []sessions.CallID
	}{
		{"add to empty", nil, a, []sessions.CallID{"a"}},
		{"sorted by line", []sessions.CallInfo{a}, b, []sessions.CallID{"b", "a"}},
		{"replace keeps one", []sessions.CallInfo{b, a}, heldA, []sessions.CallID{"b", "a"}},
		{"ended is removed", []sessions.CallInfo{b, a}, endedA, []sessions.CallID{"b"}},
		{"ended unknown is ignored", nil, endedA, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			got := upsertCall(tc.in, tc.add)
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("got %v, want %v", ids(got), tc.want)
			}
			if !slices.EqualFunc(in, tc.in, func(x, y sessions.CallInfo) bool { return x.ID == y.ID && x.HeldLocal == y.HeldLocal }) {
				t.Error("input modified")
			}
		})
	}
}

func TestSelection(t *testing.T) {
	held := connected("h", 1, "", "sip:h@x", 0)
	held.HeldLocal = true
	ring := incoming("r", 2, "", "sip:r@x", "")
	live := connected("l", 3, "", "sip:l@x", 0)
	calls := []sessions.CallInfo{held, ring, live}

	reselectTests := []struct {
		name      string
		calls     []sessions.CallInfo
		sel, prev sessions.CallID
		want      sessions.CallID
	}{
		{"keeps a present selection", calls, "r", "h", "r"},
		{"falls back to prev", calls, "gone", "h", "h"},
		{"prefers a live unheld call", calls, "gone", "gone", "l"},
		{"else the first", []sessions.CallInfo{held, ring}, "", "", "h"},
		{"nothing when no calls", nil, "x", "y", ""},
	}
	for _, tc := range reselectTests {
		t.Run("reselect/"+tc.name, func(t *testing.T) {
			if got := reselect(tc.calls, tc.sel, tc.prev); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	moveTests := []struct {
		sel   sessions.CallID
		delta int
		want  sessions.CallID
	}{
		{"h", 1, "r"}, {"r", 1, "l"}, {"l", 1, "h"}, {"h", -1, "l"}, {"gone", 1, "h"}, {"l", 4, "h"},
	}
	for _, tc := range moveTests {
		if got := moveSelection(calls, tc.sel, tc.delta); got != tc.want {
			t.Errorf("moveSelection(%q, %d) = %q, want %q", tc.sel, tc.delta, got, tc.want)
		}
	}
	if got := moveSelection(nil, "x", 1); got != "" {
		t.Errorf("moveSelection on no calls = %q", got)
	}
}

func TestPromptAndTargets(t *testing.T) {
	r1 := incoming("r1", 1, "", "sip:1@x", "")
	r2 := incoming("r2", 2, "", "sip:2@x", "")
	ign := incoming("ig", 3, "", "sip:3@x", "")
	ign.Ignored = true
	live := connected("l", 4, "", "sip:l@x", 0)
	live2 := connected("l2", 5, "", "sip:l2@x", 0)

	tests := []struct {
		name       string
		calls      []sessions.CallInfo
		sel, prev  sessions.CallID
		prompt     sessions.CallID
		waiting    int
		decision   sessions.CallID
		consult    []sessions.CallID
		confA      sessions.CallID
		confB      sessions.CallID
		confOK     bool
		wantPrompt bool
	}{
		{name: "no calls"},
		{name: "queue of two", calls: []sessions.CallInfo{r1, r2, live}, sel: "l", prompt: "r1", waiting: 1, decision: "r1", wantPrompt: true},
		{name: "ignored call has no prompt but can be answered when selected", calls: []sessions.CallInfo{ign, live}, sel: "ig", decision: "ig", consult: []sessions.CallID{"l"}},
		{name: "ignored, not selected", calls: []sessions.CallInfo{ign, live}, sel: "l"},
		{name: "two live calls", calls: []sessions.CallInfo{live, live2}, sel: "l", consult: []sessions.CallID{"l2"}, confA: "l", confB: "l2", confOK: true},
		{name: "conference prefers prev", calls: []sessions.CallInfo{r1, live, live2}, sel: "l2", prev: "l", prompt: "r1", decision: "r1", consult: []sessions.CallID{"l"}, confA: "l2", confB: "l", confOK: true, wantPrompt: true},
		{name: "one live call", calls: []sessions.CallInfo{live, r1}, sel: "l", prompt: "r1", decision: "r1", wantPrompt: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, w, ok := promptCall(tc.calls)
			if ok != tc.wantPrompt || p.ID != tc.prompt || w != tc.waiting {
				t.Errorf("promptCall = %q %d %v, want %q %d %v", p.ID, w, ok, tc.prompt, tc.waiting, tc.wantPrompt)
			}
			if d, _ := decisionTarget(tc.calls, tc.sel); d.ID != tc.decision {
				t.Errorf("decisionTarget = %q, want %q", d.ID, tc.decision)
			}
			if got := ids(consultCandidates(tc.calls, tc.sel)); !slices.Equal(got, tc.consult) {
				t.Errorf("consultCandidates = %v, want %v", got, tc.consult)
			}
			a, b, ok := conferencePair(tc.calls, tc.sel, tc.prev)
			if a != tc.confA || b != tc.confB || ok != tc.confOK {
				t.Errorf("conferencePair = %q %q %v, want %q %q %v", a, b, ok, tc.confA, tc.confB, tc.confOK)
			}
		})
	}
}

func TestEnableKeys(t *testing.T) {
	ring := incoming("r", 1, "", "sip:r@x", "")
	live := connected("l", 2, "", "sip:l@x", 0)
	live2 := connected("l2", 3, "", "sip:l2@x", 0)
	held := live
	held.HeldLocal, held.Muted, held.Recording = true, true, true

	type want struct{ answer, defer_, end, hold, dtmf, xfer, att, conf, next bool }
	tests := []struct {
		name  string
		calls []sessions.CallInfo
		sel   sessions.CallID
		want  want
	}{
		{"idle", nil, "", want{}},
		{"ringing only", []sessions.CallInfo{ring}, "r", want{answer: true, defer_: true, end: true}},
		{"one live call", []sessions.CallInfo{live}, "l", want{end: true, hold: true, dtmf: true, xfer: true}},
		{"live call and a ringing one", []sessions.CallInfo{ring, live}, "l", want{answer: true, defer_: true, end: true, hold: true, dtmf: true, xfer: true, next: true}},
		{"two live calls", []sessions.CallInfo{live, live2}, "l", want{end: true, hold: true, dtmf: true, xfer: true, att: true, conf: true, next: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			km := enableKeys(keys.Default(), tc.calls, tc.sel, "")
			got := want{km.Answer.Enabled(), km.Defer.Enabled(), km.End.Enabled(), km.Hold.Enabled(), km.DTMF.Enabled(),
				km.Transfer.Enabled(), km.AttendedTransfer.Enabled(), km.Conference.Enabled(), km.Next.Enabled()}
			if got != tc.want {
				t.Errorf("enabled = %+v, want %+v", got, tc.want)
			}
			for _, b := range []key.Binding{km.Dial, km.Help, km.Quit, km.Log} {
				if !b.Enabled() {
					t.Errorf("%s should always be enabled", b.Help().Desc)
				}
			}
		})
	}
	km := enableKeys(keys.Default(), []sessions.CallInfo{held}, "l", "")
	if km.Hold.Help().Desc != "resume" || km.Mute.Help().Desc != "unmute" || km.Record.Help().Desc != "stop rec" {
		t.Errorf("toggle help = %q %q %q", km.Hold.Help().Desc, km.Mute.Help().Desc, km.Record.Help().Desc)
	}
}

func TestStepAsk(t *testing.T) {
	km := keys.Default()
	live := connected("l", 1, "", "sip:l@x", 0)
	c2 := connected("c2", 2, "", "sip:c2@x", 0)
	c3 := connected("c3", 3, "", "sip:c3@x", 0)
	calls := []sessions.CallInfo{live, c2, c3}
	cands := []dialer.Candidate{{Name: "Dave Desk", URI: "sip:dave@example.com"}}
	input := dialer.New(styles.Default(), "to> ", []string{"sip:old@x"}).Focus()

	tests := []struct {
		name    string
		start   ask
		keys    string
		want    askOutcome
		target  string
		consult sessions.CallID
	}{
		{"quit y", ask{kind: askQuit}, "y", askDone, "", ""},
		{"quit enter", ask{kind: askQuit}, "enter", askDone, "", ""},
		{"quit ctrl+c", ask{kind: askQuit}, "ctrl+c", askDone, "", ""},
		{"quit n", ask{kind: askQuit}, "n", askCancel, "", ""},
		{"quit other key waits", ask{kind: askQuit}, "x", askContinue, "", ""},
		{"transfer typed", ask{kind: askTransfer, call: "l", input: input}, "type:200", askContinue, "200", ""},
		{"transfer enter", ask{kind: askTransfer, call: "l", input: input}, "type:200,enter", askDone, "200", ""},
		{"transfer empty enter waits", ask{kind: askTransfer, call: "l", input: input}, "enter", askContinue, "", ""},
		{"transfer completes", ask{kind: askTransfer, call: "l", input: input}, "type:da,tab,enter", askDone, "sip:dave@example.com", ""},
		{"transfer history", ask{kind: askTransfer, call: "l", input: input}, "up,enter", askDone, "sip:old@x", ""},
		{"transfer letters are text", ask{kind: askTransfer, call: "l", input: input}, "type:hmqT?", askContinue, "hmqT?", ""},
		{"forward esc", ask{kind: askForward, call: "l", input: input}, "type:x,esc", askCancel, "", ""},
		{"consult default", ask{kind: askConsult, call: "l"}, "enter", askDone, "", "c2"},
		{"consult next", ask{kind: askConsult, call: "l"}, "j,enter", askDone, "", "c3"},
		{"consult wraps", ask{kind: askConsult, call: "l"}, "j,j,enter", askDone, "", "c2"},
		{"consult esc", ask{kind: askConsult, call: "l"}, "esc", askCancel, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, out := tc.start, askContinue
			for _, k := range keysOf(tc.keys) {
				a, out = stepAsk(a, k.(tea.KeyMsg), km, calls, cands)
				if out != askContinue {
					break
				}
			}
			if out != tc.want {
				t.Fatalf("outcome %v, want %v", out, tc.want)
			}
			if out == askCancel {
				return
			}
			if tc.start.kind == askTransfer || tc.start.kind == askForward {
				if got := a.input.Value(); got != tc.target {
					t.Errorf("target %q, want %q", got, tc.target)
				}
			}
			if tc.consult != "" && a.consult != tc.consult {
				t.Errorf("consult %q, want %q", a.consult, tc.consult)
			}
		})
	}
}

func TestDialFocus(t *testing.T) {
	tests := []struct {
		name        string
		focused     bool
		text        string
		newIncoming bool
		want        bool
	}{
		{"the last call ended: call keys kept (q quits)", false, "", false, false},
		{"incoming, empty line: released", true, "", true, false},
		{"incoming while typing: kept", true, "sip:b", true, true},
		{"other change keeps focus", true, "", false, true},
		{"other change keeps blur", false, "", false, false},
	}
	for _, tc := range tests {
		if got := dialFocus(tc.focused, tc.text, tc.newIncoming); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
