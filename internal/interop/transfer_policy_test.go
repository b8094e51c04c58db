package interop

import (
	"fmt"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/internal/peertest"
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
	dial := func() {
		t.Helper()
		bm := bob.Mark()
		if err := bob.Dial("sip:teaphone@" + addr); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
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
	// baresip may end the call after a refused transfer; end it if not.
	bm := bob.Mark()
	if err := bob.Hangup(); err == nil {
		_, _ = bob.WaitEvent(bm, "CALL_CLOSED", waitShort)
	}

	// Inside the allow-list: followed.
	dial()
	cm, bm = carol.Mark(), bob.Mark()
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
