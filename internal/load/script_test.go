package load

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// TestRunScript: a call script replaces the hold on every answered call:
// one that ends with its own hangup is ok (not dropped), one whose expect
// is not met fails as "script" with the command named.
func TestRunScript(t *testing.T) {
	if testing.Short() {
		t.Skip("places calls")
	}
	_, target := startPhone(t, 23000, sessions.AcceptAll(0))
	mgr, _ := startPhone(t, 23200, sessions.RejectAll(486))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := script.Parse("wait 1200ms; dtmf 12; hold; expect held_local; resume; hangup; expect state terminated")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s, err := Run(ctx, mgr, Options{
		Target: "sip:load@" + target, Rate: 20, Concurrent: 3, Calls: 3, Hold: time.Second, Timeout: 5 * time.Second,
		Script: ok, Out: &out,
	})
	if err != nil || s.Answered != 3 || s.Failed != 0 {
		t.Fatalf("Run = %v, summary %+v\n%s", err, s, out.String())
	}
	results, _ := lines(t, out.Bytes())
	for _, r := range results {
		if r.Outcome != OutcomeOK || r.RxPackets == 0 || r.MOS == 0 {
			t.Errorf("call %d: %+v", r.N, r)
		}
	}

	bad, err := script.Parse("wait 1s\nexpect dtmf 5 within 300ms")
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	s, err = Run(ctx, mgr, Options{
		Target: "sip:load@" + target, Rate: 20, Concurrent: 2, Calls: 2, Hold: time.Second, Timeout: 5 * time.Second,
		Script: bad, Out: &out,
	})
	if err == nil || s.Failures[OutcomeScript] != 2 {
		t.Fatalf("Run = %v, summary %+v, want 2 failed: script", err, s)
	}
	results, _ = lines(t, out.Bytes())
	for _, r := range results {
		if want := `script line 2: expect dtmf 5 within 300ms: not met within 300ms (received "")`; r.Reason != want {
			t.Errorf("call %d: reason %q, want %q", r.N, r.Reason, want)
		}
	}
	if n := len(mgr.Calls()); n != 0 {
		t.Errorf("%d calls still up after Run", n)
	}
}

func TestCheckScript(t *testing.T) {
	for text, want := range map[string]string{
		"wait 1s; dtmf 1; hangup":                  "",
		"play a.wav; expect held_remote within 2s": "",
		"answer":                "line 1: answer is not for the calls of load mode",
		"wait 1s\nrecord x.wav": "line 2: record is not for",
		"log hi":                "log is not for",
		"transfer-attended 2":   "transfer-attended is not for",
	} {
		sc, err := script.Parse(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		err = checkScript(sc)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", text, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one with %q", text, err, want)
		}
	}
}
