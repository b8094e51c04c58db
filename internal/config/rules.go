package config

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/rulesyntax"
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
	// Display is a glob on the caller's display name, case-insensitive.
	Display string `toml:"display"`
	// Subject is a glob on the Subject header, case-insensitive.
	Subject string `toml:"subject"`
	// Account is a glob on the name of the account the call came in on;
	// "" (written out) matches direct calls, to no account, only.
	Account *string `toml:"account"`
	// Header is ["Name", "pattern"]: the call must have the header (name
	// case-insensitive, compact forms included) with a value matching the
	// pattern, a glob, or with the prefix "re:" a Go regexp (RE2).
	Header []string `toml:"header"`
	// Hours is a time-of-day window "HH:MM-HH:MM", end exclusive; it may
	// wrap midnight ("18:00-08:00").
	Hours string `toml:"hours"`
	// Weekdays are the days ("mon" … "sun") the rule's window starts on.
	Weekdays []string `toml:"weekdays"`
	// Timezone is the IANA zone of Hours and Weekdays ("Europe/Berlin");
	// "" is local time.
	Timezone string `toml:"timezone"`
	// InContacts, when set, requires the caller to be (true) or not to be
	// (false) among the [[contacts]].
	InContacts *bool `toml:"in_contacts"`
	// AutoAnswerHeader requires the INVITE to ask for auto-answer
	// (Call-Info answer-after, Alert-Info autoanswer, Answer-Mode: Auto).
	AutoAnswerHeader bool `toml:"auto_answer_header"`

	// Action is "accept", "reject", "forward", "defer" or "ignore".
	Action string `toml:"action"`
	// Delay lets an accepted call ring this long first (accept only).
	Delay Duration `toml:"delay"`
	// DelayFromHeader takes the delay from the call's Call-Info
	// answer-after when it has one, else Delay (accept only).
	DelayFromHeader bool `toml:"delay_from_header"`
	// Code is the status of a rejection, 400..699; 0 is 486 (reject, or
	// defer with then = "reject").
	Code int `toml:"code"`
	// Reason is the reason phrase of a rejection; "" is the code's
	// (reject, or defer with then = "reject").
	Reason string `toml:"reason"`
	// Target is where a forwarded call goes: a SIP URI, or a number or
	// user at the account's domain (forward, or defer with then = "forward").
	Target string `toml:"target"`
	// Timeout is how long a deferred call rings before Then (defer only;
	// 0 = the mode's ring timeout).
	Timeout Duration `toml:"timeout"`
	// Then is what happens to a deferred call nobody decided within
	// Timeout: "reject" (the default, 480 unless code says), "forward" or
	// "accept" (defer only).
	Then string `toml:"then"`
}

// EffectiveAction is the action whose keys (code, reason, target) the rule
// uses: Then for a defer with one, else Action.
func (r Rule) EffectiveAction() string {
	if r.Action == RuleDefer && r.Then != "" {
		return r.Then
	}
	return r.Action
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
		v.ruleMatchers(p, r)
		eff := r.EffectiveAction()
		v.onlyFor(p+"delay", r.Delay.Duration != 0, r.Action, RuleAccept)
		if d := r.Delay.Duration; d < 0 || d > time.Hour {
			v.addf(p+"delay", "want 0s..1h, got %s", d)
		}
		v.onlyFor(p+"delay_from_header", r.DelayFromHeader, r.Action, RuleAccept)
		v.onlyFor(p+"timeout", r.Timeout.Duration != 0, r.Action, RuleDefer)
		if d := r.Timeout.Duration; d < 0 || d > time.Hour {
			v.addf(p+"timeout", "want 0s..1h, got %s", d)
		}
		v.onlyFor(p+"then", r.Then != "", r.Action, RuleDefer)
		switch r.Then {
		case "", RuleAccept, RuleReject, RuleForward:
		default:
			v.addf(p+"then", "want \"reject\", \"forward\" or \"accept\", got %q", r.Then)
		}
		v.onlyForEffective(p+"code", r.Code != 0, r, RuleReject)
		if r.Code != 0 && (r.Code < 400 || r.Code > 699) {
			v.addf(p+"code", "want a final status 400..699 (0 = 486), got %d", r.Code)
		}
		v.onlyForEffective(p+"reason", r.Reason != "", r, RuleReject)
		v.headerSafe(p+"reason", r.Reason)
		switch {
		case eff == RuleForward && r.Target == "":
			v.addf(p+"target", "required with %s = \"forward\": a SIP URI or a number", thenOrAction(r))
		case r.Target != "" && eff != RuleForward:
			v.onlyForEffective(p+"target", true, r, RuleForward)
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

// onlyForEffective reports a key (code, reason, target) set for a rule
// whose action, or whose defer's then, does not use it.
func (v *validator) onlyForEffective(key string, set bool, r Rule, want string) {
	eff := r.EffectiveAction()
	if !set || eff == want || eff == "" {
		return
	}
	if r.Action == RuleDefer {
		got := `action = "defer" without then`
		if r.Then != "" {
			got = fmt.Sprintf("then = %q", r.Then)
		}
		v.addf(key, "only used with action = %q or then = %q, not %s", want, want, got)
		return
	}
	v.onlyFor(key, set, r.Action, want)
}

// thenOrAction names the key that chose the effective action.
func thenOrAction(r Rule) string {
	if r.Action == RuleDefer && r.Then != "" {
		return "then"
	}
	return "action"
}

// ruleMatchers checks a rule's match keys.
func (v *validator) ruleMatchers(p string, r Rule) {
	v.glob(p+"display", r.Display)
	v.glob(p+"subject", r.Subject)
	if r.Account != nil {
		v.glob(p+"account", *r.Account)
	}
	if r.Header != nil {
		v.header(p+"header", r.Header)
	}
	if r.Hours != "" {
		if _, _, err := rulesyntax.ParseHours(r.Hours); err != nil {
			v.addf(p+"hours", "%v", err)
		}
	}
	for j, d := range r.Weekdays {
		if _, err := rulesyntax.ParseWeekday(d); err != nil {
			v.addf(fmt.Sprintf("%sweekdays[%d]", p, j), "%v", err)
		}
	}
	if r.Weekdays != nil && len(r.Weekdays) == 0 {
		v.addf(p+"weekdays", "empty: list days like [\"sat\", \"sun\"], or leave weekdays out")
	}
	if r.Timezone != "" {
		if _, err := time.LoadLocation(r.Timezone); err != nil {
			v.addf(p+"timezone", "unknown time zone %q: want an IANA name like \"Europe/Berlin\"", r.Timezone)
		} else if r.Hours == "" && len(r.Weekdays) == 0 {
			v.addf(p+"timezone", "only used with hours or weekdays")
		}
	}
	if r.InContacts != nil && *r.InContacts && len(v.c.Contacts) == 0 {
		v.addf(p+"in_contacts", "true, but there are no [[contacts]]: the rule would never match")
	}
}

// header checks header = ["Name", "pattern"].
func (v *validator) header(key string, h []string) {
	if len(h) != 2 {
		v.addf(key, "want [\"Name\", \"pattern\"] (a glob, or \"re:\" and a regexp), got %d strings", len(h))
		return
	}
	if !v.headerSafe(key, h[0]) || !v.headerSafe(key, h[1]) {
		return
	}
	if err := rulesyntax.CheckHeaderPattern(h[0], h[1]); err != nil {
		v.addf(key, "%v", err)
	}
}

// RuleLine returns the line of the i-th [[rules]] table in the file, 0 when
// unknown.
func (c Config) RuleLine(i int) int {
	return c.pos[fmt.Sprintf("rules[%d]", i)]
}
