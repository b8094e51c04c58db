package config

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// Rule is one [[rules]] entry: what to do with an incoming call that
// matches it. The first matching rule wins; a call no rule matches gets the
// mode's default (the terminal UI asks the person, "teaphone answer"
// answers or does what its flags say).
type Rule struct {
	// From is a glob (*, ?, [a-z]; case-insensitive) on the caller's URI,
	// tried with and without the scheme and parameters: "sip:alice@*",
	// "*@example.com". "" matches every caller.
	From string `toml:"from"`
	// To is a glob on the called URI (the To header's, or the
	// Request-URI's). "" matches every call.
	To string `toml:"to"`
	// Action is "accept", "reject", "forward", "defer" or "ignore".
	Action string `toml:"action"`
	// Delay lets an accepted call ring this long first (accept only).
	Delay Duration `toml:"delay"`
	// Code is the status of a rejection, 400..699; 0 is 486 (reject only).
	Code int `toml:"code"`
	// Reason is the reason phrase of a rejection; "" is the code's
	// (reject only).
	Reason string `toml:"reason"`
	// Target is where a forwarded call goes: a SIP URI, or a number or
	// user at the account's domain (forward only, required).
	Target string `toml:"target"`
}

// Values accepted by Rule.Action.
const (
	RuleAccept  = "accept"
	RuleReject  = "reject"
	RuleForward = "forward"
	RuleDefer   = "defer"
	RuleIgnore  = "ignore"
)

// rules checks every [[rules]] entry.
func (v *validator) rules() {
	for i, r := range v.c.Rules {
		p := fmt.Sprintf("rules[%d].", i)
		v.glob(p+"from", r.From)
		v.glob(p+"to", r.To)
		switch r.Action {
		case RuleAccept, RuleReject, RuleForward, RuleDefer, RuleIgnore:
		case "":
			v.addf(p+"action", "required: \"accept\", \"reject\", \"forward\", \"defer\" or \"ignore\"")
		default:
			v.addf(p+"action", "want \"accept\", \"reject\", \"forward\", \"defer\" or \"ignore\", got %q", r.Action)
		}
		v.onlyFor(p+"delay", r.Delay.Duration != 0, r.Action, RuleAccept)
		if d := r.Delay.Duration; d < 0 || d > time.Hour {
			v.addf(p+"delay", "want 0s..1h, got %s", d)
		}
		v.onlyFor(p+"code", r.Code != 0, r.Action, RuleReject)
		if r.Code != 0 && (r.Code < 400 || r.Code > 699) {
			v.addf(p+"code", "want a final status 400..699 (0 = 486), got %d", r.Code)
		}
		v.onlyFor(p+"reason", r.Reason != "", r.Action, RuleReject)
		v.headerSafe(p+"reason", r.Reason)
		switch {
		case r.Action == RuleForward && r.Target == "":
			v.addf(p+"target", "required with action = \"forward\": a SIP URI or a number")
		case r.Target != "" && r.Action != RuleForward:
			v.onlyFor(p+"target", true, r.Action, RuleForward)
		case r.Target != "":
			if _, err := sipaddr.NormalizeTarget(r.Target); err != nil {
				v.addf(p+"target", "want a SIP URI or a number, got %q (%v)", r.Target, err)
			}
		}
	}
}

// glob checks a rule's URI pattern (path.Match syntax).
func (v *validator) glob(key, pattern string) {
	if pattern == "" || !v.headerSafe(key, pattern) {
		return
	}
	if _, err := path.Match(strings.ToLower(pattern), ""); err != nil {
		v.addf(key, "want a glob like \"sip:alice@*\" (*, ?, [a-z]), got %q (%v)", pattern, err)
	}
}

// onlyFor reports a key that is set for an action that does not use it.
func (v *validator) onlyFor(key string, set bool, action, want string) {
	if set && action != want && action != "" {
		v.addf(key, "only used with action = %q, not %q", want, action)
	}
}
