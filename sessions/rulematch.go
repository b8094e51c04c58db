package sessions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/rulesyntax"
	"github.com/teaphone/teaphone/internal/sipaddr"
	"github.com/teaphone/teaphone/phone"
)

// CallFacts are what rules look at in an incoming call.
type CallFacts struct {
	// From is the caller's URI (or From header value).
	From string
	// Display is the caller's display name ("" if none).
	Display string
	// To are the called URIs: the To header's and the Request-URI.
	To []string
	// Subject is the Subject header ("" if none).
	Subject string
	// Account is the name of the account the call came in on, "" if direct.
	Account string
	// Headers are the INVITE's headers in order.
	Headers []phone.Header
	// At is when the call came in.
	At time.Time
}

// HeaderMatch matches calls with a header (Name, case-insensitive, compact
// forms included: "s" is "Subject") one of whose values matches Pattern (a
// header given several times, or a comma-separated list: the whole value
// or any element of it): a
// glob (case-insensitive), or with the prefix "re:" a Go regexp (RE2 syntax,
// linear time, case-sensitive unless it starts with "(?i)") that may match
// any part of the value. A call without the header never matches.
type HeaderMatch struct {
	Name, Pattern string
}

// check reports a bad name or pattern.
func (h HeaderMatch) check() error { return rulesyntax.CheckHeaderPattern(h.Name, h.Pattern) }

// match reports whether one of the call's values of the header matches.
func (h HeaderMatch) match(headers []phone.Header) (bool, string) {
	name := rulesyntax.CanonicalHeader(h.Name)
	match := rulesyntax.HeaderMatcher(h.Pattern)
	var seen []string
	for _, hd := range headers {
		if rulesyntax.CanonicalHeader(hd.Name) != name {
			continue
		}
		if match(hd.Value) || slices.ContainsFunc(splitHeaderList(hd.Value), match) {
			return true, ""
		}
		seen = append(seen, strconv.Quote(hd.Value))
	}
	if len(seen) == 0 {
		return false, fmt.Sprintf("header %s: missing", h.Name)
	}
	return false, fmt.Sprintf("header %s: %s does not match %q", h.Name, strings.Join(seen, ", "), h.Pattern)
}

// SameAddress reports whether two URIs (or header values holding them)
// name the same address: scheme sip and sips alike, user exactly (RFC 3261
// §19.1.4), host case-insensitive, ports alike unless one is absent, URI
// parameters and headers ignored. tel: URIs compare their numbers without
// visual separators.
func SameAddress(a, b string) bool {
	ua, errA := parseAddress(a)
	ub, errB := parseAddress(b)
	if errA != nil || errB != nil {
		return false
	}
	if (ua.Scheme == "tel") != (ub.Scheme == "tel") {
		return false
	}
	if ua.Scheme == "tel" {
		return telDigits(ua.User) == telDigits(ub.User)
	}
	return ua.User == ub.User && strings.EqualFold(ua.Host, ub.Host) &&
		(ua.Port == 0 || ub.Port == 0 || ua.Port == ub.Port)
}

// parseAddress parses a URI or a name-addr.
func parseAddress(s string) (sipaddr.URI, error) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "<\"") || strings.Contains(s, " ") {
		na, err := sipaddr.ParseNameAddr(s)
		if err != nil {
			return sipaddr.URI{}, err
		}
		s = na.URI
	}
	return sipaddr.ParseURI(s)
}

// telDigits drops the visual separators of a tel: number (RFC 3966 §5.1.1).
func telDigits(n string) string {
	n, _, _ = strings.Cut(n, ";")
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("-.()", r) {
			return -1
		}
		return r
	}, n)
}

// RuleResult is how one rule fared with a call.
type RuleResult struct {
	Label   string `json:"rule"`
	Line    int    `json:"line,omitempty"`
	Matched bool   `json:"matched"`
	// Why says what matched ("from \"sip:alice@*\"", "every call"), or the
	// first key that did not and why.
	Why string `json:"why"`
}

// Verdict is the outcome of Rules.Explain.
type Verdict struct {
	// Policy is what to do; a Delay taken from a header is filled in.
	Policy Policy
	// Rule is the deciding rule's label ("rules[2]"), or "default".
	Rule string
	// Line is the deciding rule's configuration line (0 = unknown or default).
	Line int
	// Why says why the rule matched, or "no rule matched".
	Why string
	// Results are the rules tried, in order, up to the deciding one.
	Results []RuleResult
}

// Explain decides a call as the Manager does and says why: the first rule
// whose every condition holds wins, else Default.
func (r Rules) Explain(f CallFacts) Verdict {
	var v Verdict
	for i, rule := range r.Rules {
		label := rule.Label
		if label == "" {
			label = fmt.Sprintf("rules[%d]", i)
		}
		ok, why := rule.matches(f)
		v.Results = append(v.Results, RuleResult{Label: label, Line: rule.Line, Matched: ok, Why: why})
		if !ok {
			continue
		}
		v.Policy, v.Rule, v.Line, v.Why = rule.Policy, label, rule.Line, why
		if rule.DelayFromHeader {
			if req, ok := AutoAnswerHeader(f.Headers); ok && req.Header == "Call-Info" {
				v.Policy.Delay = req.Delay
			}
		}
		v.Policy.DelayFromHeader = false
		return v
	}
	return Verdict{Policy: r.Default, Rule: "default", Why: "no rule matched", Results: v.Results}
}

// matches reports whether every condition of the rule holds for the call;
// why lists the conditions when they do, else names the first that does not.
func (r Rule) matches(f CallFacts) (bool, string) {
	var held []string
	glob := func(key, pattern, value string, uri bool) (bool, string) {
		if pattern == "" {
			return true, ""
		}
		ok := rulesyntax.Glob(pattern, value)
		if uri {
			ok = globMatch(pattern, value)
		}
		if !ok {
			return false, fmt.Sprintf("%s: %q does not match %q", key, value, pattern)
		}
		held = append(held, fmt.Sprintf("%s %q", key, pattern))
		return true, ""
	}
	if ok, why := glob("from", r.Match, f.From, true); !ok {
		return false, why
	}
	if r.To != "" {
		if !slices.ContainsFunc(f.To, func(to string) bool { return to != "" && globMatch(r.To, to) }) {
			var called []string
			for _, to := range f.To {
				if to != "" {
					called = append(called, strconv.Quote(bareURI(to)))
				}
			}
			if len(called) == 0 {
				called = []string{`""`}
			}
			return false, fmt.Sprintf("to: %s does not match %q", strings.Join(called, ", "), r.To)
		}
		held = append(held, fmt.Sprintf("to %q", r.To))
	}
	if ok, why := glob("display", r.Display, f.Display, false); !ok {
		return false, why
	}
	if ok, why := glob("subject", r.Subject, f.Subject, false); !ok {
		return false, why
	}
	if r.Account != nil {
		if *r.Account == "" {
			if f.Account != "" {
				return false, fmt.Sprintf("account: %q is not a direct call (account = \"\")", f.Account)
			}
			held = append(held, `account ""`)
		} else if ok, why := glob("account", *r.Account, f.Account, false); !ok {
			return false, why
		}
	}
	for _, h := range r.Headers {
		if ok, why := h.match(f.Headers); !ok {
			return false, why
		}
		held = append(held, fmt.Sprintf("header %s %q", h.Name, h.Pattern))
	}
	if !r.Window.IsZero() {
		if ok, why := r.Window.Contains(f.At); !ok {
			return false, why
		}
		held = append(held, r.Window.String())
	}
	if r.InContacts != nil {
		in := slices.ContainsFunc(r.Contacts, func(c string) bool { return SameAddress(c, f.From) })
		if in != *r.InContacts {
			if in {
				return false, fmt.Sprintf("in_contacts: %q is in the contacts", bareURI(f.From))
			}
			return false, fmt.Sprintf("in_contacts: %q is not in the contacts", bareURI(f.From))
		}
		held = append(held, "in_contacts = "+strconv.FormatBool(*r.InContacts))
	}
	if r.AutoAnswerHeader {
		req, ok := AutoAnswerHeader(f.Headers)
		if !ok {
			return false, "auto_answer_header: the call asks for no auto-answer"
		}
		w := "auto_answer_header (" + req.Header
		if req.Header == "Call-Info" {
			w += " answer-after=" + strconv.Itoa(int(req.Delay/time.Second))
		}
		held = append(held, w+")")
	}
	if len(held) == 0 {
		return true, "every call"
	}
	return true, strings.Join(held, ", ")
}
