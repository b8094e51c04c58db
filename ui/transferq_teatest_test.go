package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"github.com/teaphone/teaphone/sessions"
)

// TestFlowTransferQuestion: the remote of a connected call asks to
// transfer us; the question names who and where, y accepts it. A second
// request is refused with n, and once its outcome arrives the question is
// gone.
func TestFlowTransferQuestion(t *testing.T) {
	f := newFake()
	ch := make(chan sessions.Event, 64)
	f.events = ch
	tm := teatest.NewTestModel(t, New(f, Options{Events: ch, Now: fixedNow}), teatest.WithInitialTermSize(100, 24))
	defer close(ch)

	bob := connected("c-1", 1, "bob", "sip:bob@pbx.example", 10*time.Second)
	f.add(bob)
	waitText(t, tm, "connected", "bob")

	ask := func(target string) {
		ch <- sessions.TransferEvent{Time: t0, CallID: bob.ID, Line: 1, Transfer: sessions.TransferInfo{
			Target: target, Reason: "requested, ask", Asking: true, Deadline: t0.Add(30 * time.Second),
		}}
	}
	ask("sip:carol@pbx.example")
	waitText(t, tm, "Transfer request", "bob asks to transfer you to", "sip:carol@pbx.example", "y accept", "n/esc refuse", "refused in 30s")
	tm.Type("y")
	waitCommands(t, f, "AnswerTransfer c-1 true")
	waitText(t, tm, "accept transfer to sip:carol@pbx.example")

	ask("sip:dave@pbx.example")
	waitText(t, tm, "sip:dave@pbx.example", "y accept")
	tm.Type("n")
	waitCommands(t, f, "AnswerTransfer c-1 false")
	ch <- sessions.TransferEvent{Time: t0, CallID: bob.ID, Line: 1, Transfer: sessions.TransferInfo{
		Target: "sip:dave@pbx.example", Code: 603, Reason: "refused", Final: true,
	}}
	waitText(t, tm, "603 refused")

	// No question is left: y is not taken as an answer any more.
	tm.Type("y")
	tm.Type("e")
	waitCommands(t, f, "Hangup c-1")
	n := 0
	for _, c := range f.Commands() {
		if strings.HasPrefix(c, "AnswerTransfer") {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d answers, want 2 (a stale question was answered?): %q", n, f.Commands())
	}
	tm.Send(keyMsg("ctrl+c"))
	tm.Type("y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
}
