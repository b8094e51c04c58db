package interop

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// TestHeadlessAnswerTransferPolicy: "teaphone answer" configured with
// accept_transfer = "never" and an allow-list naming carol. baresip bob
// calls it and REFERs it (baresip's "transfer" command): to dave, outside
// the list, the REFER is answered 603 and nobody is called; to carol,
// inside it, teaphone calls carol and bob's call ends as transferred. Each
// request and its outcome is a JSON line on stdout.
func TestHeadlessAnswerTransferPolicy(t *testing.T) {
	peertest.NeedBaresip(t)
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
	carol := peertest.StartBaresip(t, peertest.BaresipConfig{User: "carol", AudioSource: "ausine,660"})
	port, err := peertest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	config := "[calls]\naccept_transfer = \"never\"\ntransfer_allow = [\"sip:carol@127.0.0.1:*\"]\n"
	tc := newTeaphoneCmdConfig(t, config, "answer", "--listen", addr, "--audio", "tone:440", "--rtp-ports", rtpPortsFlag(t))
	tc.start(t)
	if code, err := peertest.ProbeOptions(addr, waitShort); err != nil || code != 200 {
		t.Fatalf("teaphone answer does not answer OPTIONS: %d %v", code, err)
	}
	// transfer waits for the JSON line of a received transfer to target
	// that match accepts.
	transfer := func(target, what string, match func(map[string]any) bool) map[string]any {
		t.Helper()
		var got map[string]any
		if !waitUntil(waitShort, func() bool {
			for _, e := range tc.jsonEvents(t) {
				if e["event"] == "transfer" && e["direction"] == "received" && e["target"] == target && match(e) {
					got = e
					return true
				}
			}
			return false
		}) {
			t.Fatalf("no %s transfer event for %s on stdout:\n%s", what, target, tc.stdout.String())
		}
		return got
	}
	// calls counts teaphone's call events in state.
	calls := func(state string) int {
		n := 0
		for _, e := range tc.jsonEvents(t) {
			if e["event"] == "call" && e["state"] == state {
				n++
			}
		}
		return n
	}
	// dial has bob call teaphone and waits until both see the call up: a
	// REFER before teaphone has the ACK would get 491.
	dial := func() {
		t.Helper()
		bm, n := bob.Mark(), calls("connected")
		if err := bob.Dial("sip:teaphone@" + addr); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(waitShort, func() bool { return calls("connected") > n }) {
			t.Fatalf("teaphone never connected bob's call:\n%s", tc.stdout.String())
		}
	}

	// Outside the allow-list: 603 to the REFER, no call to dave.
	dial()
	dave := strings.Replace(carol.URI(), "carol@", "dave@", 1)
	cm, lm := carol.Mark(), len(bob.Log())
	if err := bob.Transfer(dave); err != nil {
		t.Fatal(err)
	}
	transfer(dave, "request", func(e map[string]any) bool { return e["reason"] == "requested, refuse" })
	fin := transfer(dave, "final", func(e map[string]any) bool { return e["final"] == true })
	if fin["code"] != float64(603) {
		t.Errorf("outcome %v, want code 603", fin)
	}
	if !waitUntil(waitShort, func() bool {
		return len(ctlFindSIP(bob.Log(), lm, func(m ctlSIPMsg) bool { return m.isResponse(603, "REFER") })) > 0
	}) {
		t.Errorf("bob got no 603 to its REFER")
	}
	for _, ev := range carol.Events(cm) {
		if strings.HasPrefix(ev.Type, "CALL_") {
			t.Errorf("carol's port got a call for a refused transfer: %+v", ev)
		}
	}
	// baresip 1.0's menu hangs up after a failed transfer (a BYE without
	// a CALL_CLOSED event); hang up if it did not.
	if !waitUntil(2*time.Second, func() bool { return calls("terminated") > 0 }) {
		if err := bob.Hangup(); err != nil {
			t.Fatal(err)
		}
		if !waitUntil(waitShort, func() bool { return calls("terminated") > 0 }) {
			t.Fatalf("bob's first call never ended:\n%s", tc.stdout.String())
		}
	}

	// Inside the allow-list: followed.
	dial()
	cm, bm := carol.Mark(), bob.Mark()
	if err := bob.Transfer(carol.URI()); err != nil {
		t.Fatal(err)
	}
	transfer(carol.URI(), "request", func(e map[string]any) bool { return e["reason"] == "requested, follow" })
	if _, err := carol.WaitEvent(cm, "CALL_ESTABLISHED", waitShort); err != nil {
		t.Fatal(err)
	}
	fin = transfer(carol.URI(), "final", func(e map[string]any) bool { return e["final"] == true })
	if code, _ := fin["code"].(float64); code < 200 || code > 299 {
		t.Errorf("outcome %v, want a 2xx", fin)
	}
	if ev, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
		t.Fatal(err)
	} else if ev.Param != "Call transfered" {
		t.Errorf("bob closed its call with %q, want \"Call transfered\"", ev.Param)
	}
	cm = carol.Mark()
	if err := carol.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.WaitEvent(cm, "CALL_CLOSED", waitShort); err != nil {
		t.Fatal(err)
	}
}

// TestCtlBaresipTransferAsked: with accept_transfer = "ask" teaphone answers
// baresip's REFER 202 and asks; the user's refusal reaches bob as a final
// NOTIFY with a 603 sipfrag (RFC 3515 §2.4.5), which baresip reports as a
// failed transfer, and carol is never called.
func TestCtlBaresipTransferAsked(t *testing.T) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
	carol := peertest.StartBaresip(t, peertest.BaresipConfig{User: "carol"})
	base := runtime.NumGoroutine()
	tp := ctlStartPhone(t, "alice", phone.Options{Transfer: phone.TransferPolicy{Mode: phone.TransferAsk}})
	id := ctlBobDials(t, tp, bob, "")

	em, bm, cm, lm := tp.mark(), bob.Mark(), carol.Mark(), len(bob.Log())
	if err := bob.Transfer(carol.URI()); err != nil {
		t.Fatal(err)
	}
	q := tp.waitTransfer(em, id, "question", func(te phone.TransferEvent) bool { return te.Asking })
	if q.Target != carol.URI() {
		t.Errorf("asked about %q, want %q", q.Target, carol.URI())
	}
	// teaphone sent the 202 before it asked; bob's trace may show it a bit later.
	if !waitUntil(ctlWait, func() bool {
		return len(ctlFindSIP(bob.Log(), lm, func(m ctlSIPMsg) bool { return m.isResponse(202, "REFER") })) > 0
	}) {
		t.Errorf("no 202 to bob's REFER")
	}
	if err := tp.AnswerTransfer(id, false); err != nil {
		t.Fatal(err)
	}
	fin := tp.waitTransfer(em, id, "final", func(te phone.TransferEvent) bool { return te.Final })
	if fin.Code != 603 {
		t.Errorf("outcome %+v, want 603", fin)
	}
	if !waitUntil(ctlWait, func() bool {
		ns := ctlFindSIP(bob.Log(), lm, func(m ctlSIPMsg) bool { return m.isRequest("NOTIFY") && m.Src == tp.LocalAddr() })
		n := len(ns)
		return n > 0 && strings.HasPrefix(ns[n-1].body(), "SIP/2.0 603") && strings.HasPrefix(ns[n-1].header("Subscription-State"), "terminated")
	}) {
		t.Errorf("no final NOTIFY with a 603 sipfrag in bob's trace")
	}
	ctlWaitPeer(t, bob, "bob", bm, "TRANSFER_FAILED")
	for _, ev := range carol.Events(cm) {
		if strings.HasPrefix(ev.Type, "CALL_") {
			t.Errorf("carol got a call for a refused transfer: %+v", ev)
		}
	}
	// baresip 1.0's menu hangs up after a failed transfer; else we do.
	_ = tp.Hangup(id)
	tp.waitCall(em, id, phone.StateTerminated)
	ctlFinish(t, tp, base) // the asking goroutine is gone too
}
