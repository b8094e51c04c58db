package ui

import (
	"fmt"
	"strings"

	"github.com/teaphone/teaphone/sessions"
)

// withExtra and withoutExtra copy the map so earlier Models are unchanged.
func withExtra(in map[sessions.CallID]callExtra, id sessions.CallID, x callExtra) map[sessions.CallID]callExtra {
	out := make(map[sessions.CallID]callExtra, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out[id] = x
	return out
}

func withoutExtra(in map[sessions.CallID]callExtra, id sessions.CallID) map[sessions.CallID]callExtra {
	if _, ok := in[id]; !ok {
		return in
	}
	out := make(map[sessions.CallID]callExtra, len(in))
	for k, v := range in {
		if k != id {
			out[k] = v
		}
	}
	return out
}

func lastRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[len(r)-n:])
	}
	return s
}

func peerText(c sessions.CallInfo) string {
	if c.RemoteDisplay != "" {
		return c.RemoteDisplay + " <" + c.RemoteURI + ">"
	}
	return c.RemoteURI
}

func endText(c sessions.CallInfo) string {
	if !c.Ended() {
		return ""
	}
	return reasonSuffix(c.EndCode, c.EndReason)
}

func reasonSuffix(code int, reason string) string {
	switch {
	case code != 0 && reason != "":
		return fmt.Sprintf(" (%d %s)", code, reason)
	case code != 0:
		return fmt.Sprintf(" (%d)", code)
	case reason != "":
		return " (" + reason + ")"
	}
	return ""
}

func transferStatus(t sessions.TransferInfo) string {
	if t.Asking {
		return "asked, waiting for you"
	}
	if t.Code == 0 {
		return "requested"
	}
	s := fmt.Sprintf("%d %s", t.Code, t.Reason)
	return strings.TrimSpace(s)
}
