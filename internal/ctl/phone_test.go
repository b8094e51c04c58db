package ctl

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/sessions"
)

// TestCommandsWithoutCalls: the command layer's answers that need no call
// (calls of a phone doing nothing, refusals with their reasons).
func TestCommandsWithoutCalls(t *testing.T) {
	m := sessions.New()
	defer m.Close()
	c := Commands{M: m}
	res, err := c.Do(context.Background(), Request{Cmd: "calls"})
	if err != nil || len(res["calls"].([]json.RawMessage)) != 0 {
		t.Fatalf("calls: %v, %v", res, err)
	}
	for cmd, want := range map[string]string{
		"hold":                   "hold: no call",
		"answer":                 "answer: no ringing call",
		"HANGUP":                 "hangup: no call",
		"hold please":            `unexpected argument "please"`,
		"wait 2s":                "only in call scripts",
		"expect state connected": "expect: only in call scripts",
		"dtmf 12x":               "dtmf",
		"frobnicate":             `unknown command "frobnicate" (want one of dial, calls`,
		"dial":                   "want a target",
		"dial sip:a\r\nX: y@b":   "dial",
		"hangup; hold":           "one command per request, got 2",
	} {
		if _, err := c.Do(context.Background(), Request{Cmd: cmd}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", cmd, err, want)
		}
	}
	if _, err := c.Do(context.Background(), Request{Cmd: "hold", Call: "3"}); err == nil || !strings.Contains(err.Error(), `no call "3"`) {
		t.Errorf("hold on call 3: %v", err)
	}
}
