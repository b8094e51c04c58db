package sessions

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/rulesyntax"
	"github.com/teaphone/teaphone/phone"
)

// Action is what the rules do with an incoming call.
type Action int

// Actions.
const (
	// ActionDefer keeps the call ringing and asks the UI (Accept/Reject/Forward/Ignore).
	ActionDefer Action = iota
	// ActionAccept answers the call, after Policy.Delay if set.
	ActionAccept
	// ActionReject refuses the call with Policy.Code (default 486) and Policy.Reason.
	ActionReject
	// ActionForward redirects the caller (302) to Policy.Target.
	ActionForward
	// ActionIgnore lets the call ring unprompted until the caller gives up or the ring times out.
	ActionIgnore
)

var actionNames = [...]string{"defer", "accept", "reject", "forward", "ignore"}

// String returns "defer", "accept", "reject", "forward" or "ignore".
func (a Action) String() string {
	if a >= 0 && int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// ParseAction returns the Action named s (as printed by String).
func ParseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if strings.EqualFold(n, s) {
			return Action(i), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q (want defer, accept, reject, forward or ignore)", s)
}

// Policy is what to do with one incoming call.
type Policy struct {
	Action Action
	// Delay postpones an automatic Accept; the call rings meanwhile.
	Delay time.Duration
	// Code and Reason are the final response of a Reject (Code 0 = 486).
	Code   int
	Reason string
	// Target is the Forward destination (a SIP URI).
	Target string
	// RingTimeout bounds the ringing of Defer and Ignore (0 = the Manager's
	// default, see WithRingTimeout); the call is then refused by the session
	// core, or Then is carried out.
	RingTimeout time.Duration
	// DelayFromHeader (Accept only) takes the delay from the INVITE's
	// Call-Info answer-after when it has one (see AutoAnswerHeader), else
	// Delay.
	DelayFromHeader bool
	// Then (Defer only) is what happens when RingTimeout passes with no
	// decision: an Accept, Reject or Forward. nil = reject 480, as the
	// session core does.
	Then *Policy
}

// String describes the policy as CallInfo.Decision does ("accept after 2s", "reject 486", …).
func (p Policy) String() string {
	switch p.Action {
	case ActionAccept:
		if p.Delay > 0 {
			return "accept after " + p.Delay.String()
		}
		return "accept"
	case ActionReject:
		return fmt.Sprintf("reject %d", p.code())
	case ActionForward:
		if t, err := NormalizeTarget(p.Target); err == nil {
			return "forward " + t
		}
		return "forward"
	case ActionDefer:
		if p.Then != nil {
			s := "defer"
			if p.RingTimeout > 0 {
				s += " " + p.RingTimeout.String()
			}
			return s + ", then " + p.Then.String()
		}
	}
	return p.Action.String()
}

func (p Policy) code() int {
	if p.Code == 0 {
		return 486
	}
	return p.Code
}

// Validate checks codes, targets and delays.
func (p Policy) Validate() error {
	switch p.Action {
	case ActionDefer, ActionIgnore:
		if p.Then != nil {
			if p.Action != ActionDefer {
				return fmt.Errorf("then is for defer only")
			}
			switch p.Then.Action {
			case ActionAccept, ActionReject, ActionForward:
			default:
				return fmt.Errorf("then %s: want accept, reject or forward", p.Then.Action)
			}
			if p.Then.Then != nil {
				return fmt.Errorf("then: nested then")
			}
			if err := p.Then.Validate(); err != nil {
				return fmt.Errorf("then: %w", err)
			}
		}
	case ActionAccept:
		if p.Delay < 0 {
			return fmt.Errorf("negative accept delay %s", p.Delay)
		}
	case ActionReject:
		if c := p.code(); c < 400 || c > 699 {
			return fmt.Errorf("%w %d (want 400-699)", ErrInvalidCode, c)
		}
		if err := checkText("reject reason", p.Reason); err != nil {
			return err
		}
	case ActionForward:
		if _, err := NormalizeTarget(p.Target); err != nil {
			return fmt.Errorf("forward: %w", err)
		}
	default:
		return fmt.Errorf("unknown action %d", int(p.Action))
	}
	if p.RingTimeout < 0 {
		return fmt.Errorf("negative ring timeout %s", p.RingTimeout)
	}
	return nil
}

// Rule applies Policy to incoming calls for which every condition it sets
// holds (see Rules.Explain); a Rule without conditions matches every call.
type Rule struct {
	// Match is a glob (path.Match syntax: *, ?, [a-z], but * and ? match
	// "/" too) tried case-insensitively
	// against the caller's URI with and without its scheme and parameters, so
	// "*@example.com", "sip:100@*" and "sip:bob@example.com" all work.
	// An empty Match matches every call.
	Match string
	// To is a glob, as Match, on the called URI (the To header's or the
	// Request-URI's: either may match). An empty To matches every call.
	To string
	// Display and Subject are globs on the caller's display name and the
	// Subject, case-insensitive; "" matches every call. A call without a
	// display name (or Subject) is matched as "".
	Display, Subject string
	// Account is a glob on the name of the account the call came in on; a
	// pointer to "" matches direct calls (to no account) only; nil matches
	// every call.
	Account *string
	// Headers must all match (see HeaderMatch).
	Headers []HeaderMatch
	// Window limits the rule to hours and weekdays (zero = always).
	Window Window
	// InContacts, when set, requires the caller to be (true) or not to be
	// (false) in Contacts, compared as SIP URIs (see SameAddress).
	InContacts *bool
	// Contacts is the address book InContacts looks in (the URIs of the
	// configuration's [[contacts]]).
	Contacts []string
	// AutoAnswerHeader requires the INVITE to ask to be answered by itself
	// (see AutoAnswerHeader): the only way such a header answers a call.
	AutoAnswerHeader bool
	// Label names the rule in CallInfo.Rule and explanations; "" is
	// "rules[i]", i counting from 0 as the configuration's error keys do.
	Label string
	// Line is the configuration line of the rule's [[rules]] table (0 = unknown).
	Line int
	Policy
}

// Rules decide what happens to incoming calls: the first matching Rule wins,
// else Default applies. The zero value defers every call to the UI.
// The headless answer mode sets them from flags; the TUI may change them at
// run time (Manager.SetRules).
type Rules struct {
	Rules   []Rule
	Default Policy
}

// AcceptAll answers every call after delay (0 = at once).
func AcceptAll(delay time.Duration) Rules {
	return Rules{Default: Policy{Action: ActionAccept, Delay: delay}}
}

// RejectAll refuses every call with code (0 = 486 Busy Here).
func RejectAll(code int) Rules {
	return Rules{Default: Policy{Action: ActionReject, Code: code}}
}

// DeferAll lets every call ring until the UI decides.
func DeferAll() Rules { return Rules{} }

// Validate checks every rule; the error wraps ErrInvalidRules and names the
// rule by its Label, else "rules[i]" (counting from 0, as configuration
// errors do).
func (r Rules) Validate() error {
	var errs []error
	for i, rule := range r.Rules {
		name := rule.Label
		if name == "" {
			name = fmt.Sprintf("rules[%d]", i)
		}
		account := ""
		if rule.Account != nil {
			account = *rule.Account
		}
		for _, pat := range []struct{ key, glob string }{{"match", rule.Match}, {"to", rule.To},
			{"display", rule.Display}, {"subject", rule.Subject}, {"account", account}} {
			if pat.glob == "" {
				continue
			}
			if err := rulesyntax.CheckGlob(pat.glob); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: %s %q: %v", ErrInvalidRules, name, pat.key, pat.glob, err))
			}
		}
		for _, h := range rule.Headers {
			if err := h.check(); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: header: %v", ErrInvalidRules, name, err))
			}
		}
		if err := rule.Window.check(); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidRules, name, err))
		}
		if rule.DelayFromHeader && rule.Action != ActionAccept {
			errs = append(errs, fmt.Errorf("%w: %s: delay from header is for accept only", ErrInvalidRules, name))
		}
		if err := rule.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrInvalidRules, name, err))
		}
	}
	if err := r.Default.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("%w: default: %v", ErrInvalidRules, err))
	}
	return errors.Join(errs...)
}

// Decide returns the policy for a call from remoteURI (a URI or a header
// value), whoever it is for.
func (r Rules) Decide(remoteURI string) Policy { return r.DecideCall(remoteURI) }

// DecideCall returns the policy for a call from remoteURI to the called
// URIs (the To header's and the Request-URI; URIs or header values), now:
// the first rule that matches, else Default. Explain says more.
func (r Rules) DecideCall(remoteURI string, called ...string) Policy {
	return r.Explain(CallFacts{From: remoteURI, To: called, At: time.Now()}).Policy
}

// globMatch reports whether the glob matches one of uri's candidates ("" matches all).
func globMatch(glob, uri string) bool {
	if glob == "" {
		return true
	}
	for _, c := range matchCandidates(uri) {
		if rulesyntax.Glob(glob, c) {
			return true
		}
	}
	return false
}

// matchCandidates returns the lower-cased forms of a URI rules are matched
// against: as given, without URI parameters/headers, and without the scheme.
func matchCandidates(remote string) []string {
	u := strings.ToLower(bareURI(remote))
	out := []string{u}
	if i := strings.IndexAny(u, ";?"); i >= 0 {
		u = u[:i]
		out = append(out, u)
	}
	for _, scheme := range []string{"sip:", "sips:", "tel:"} {
		if rest, ok := strings.CutPrefix(u, scheme); ok {
			out = append(out, rest)
			break
		}
	}
	return out
}

// thenRingTimeout is how long a deferred call with a Then rings when
// neither the policy nor the Manager says: the session core's default.
const thenRingTimeout = 60 * time.Second

// thenAfter is when a deferred call's Then is carried out.
func (p Policy) thenAfter(ringTimeout time.Duration) time.Duration {
	switch {
	case p.RingTimeout > 0:
		return p.RingTimeout
	case ringTimeout > 0:
		return ringTimeout
	}
	return thenRingTimeout
}

// decision converts a policy into the session core's answer. A delayed
// Accept is a Defer (the Manager's timer accepts later) whose ring timeout
// leaves room for the delay.
func (p Policy) decision(ringTimeout time.Duration) phone.Decision {
	rt := p.RingTimeout
	if rt == 0 {
		rt = ringTimeout
	}
	switch p.Action {
	case ActionAccept:
		if p.Delay <= 0 {
			return phone.Accept()
		}
		return phone.Defer(p.Delay + max(rt, 30*time.Second))
	case ActionReject:
		return phone.Reject(p.code(), p.Reason)
	case ActionForward:
		t, _ := NormalizeTarget(p.Target)
		return phone.Forward(t)
	case ActionDefer:
		if p.Then != nil { // the Manager's timer carries out Then first
			return phone.Defer(p.thenAfter(ringTimeout) + 30*time.Second)
		}
	}
	return phone.Defer(rt)
}
