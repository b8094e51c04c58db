package sessions

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

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
	// default, see WithRingTimeout); the call is then refused by the session core.
	RingTimeout time.Duration
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

// Rule applies Policy to incoming calls whose remote URI matches Match.
type Rule struct {
	// Match is a glob (path.Match syntax: *, ?, [a-z]) tried case-insensitively
	// against the caller's URI with and without its scheme and parameters, so
	// "*@example.com", "sip:100@*" and "sip:bob@example.com" all work.
	// An empty Match matches every call.
	Match string
	// To is a glob, as Match, on the called URI (the To header's or the
	// Request-URI's: either may match). An empty To matches every call.
	To string
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

// Validate checks every rule; the error wraps ErrInvalidRules and names the rule.
func (r Rules) Validate() error {
	var errs []error
	for i, rule := range r.Rules {
		for _, pat := range []struct{ key, glob string }{{"match", rule.Match}, {"to", rule.To}} {
			if pat.glob == "" {
				continue
			}
			if _, err := path.Match(strings.ToLower(pat.glob), ""); err != nil {
				errs = append(errs, fmt.Errorf("%w: rule %d: %s %q: %v", ErrInvalidRules, i+1, pat.key, pat.glob, err))
			}
		}
		if err := rule.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%w: rule %d: %v", ErrInvalidRules, i+1, err))
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
// URIs (the To header's and the Request-URI; URIs or header values): the
// first rule whose Match matches the caller and whose To matches one of
// the called, else Default.
func (r Rules) DecideCall(remoteURI string, called ...string) Policy {
	for _, rule := range r.Rules {
		if !globMatch(rule.Match, remoteURI) {
			continue
		}
		if rule.To == "" || slices.ContainsFunc(called, func(to string) bool { return to != "" && globMatch(rule.To, to) }) {
			return rule.Policy
		}
	}
	return r.Default
}

// globMatch reports whether the glob matches one of uri's candidates ("" matches all).
func globMatch(glob, uri string) bool {
	if glob == "" {
		return true
	}
	pat := strings.ToLower(glob)
	for _, c := range matchCandidates(uri) {
		if ok, _ := path.Match(pat, c); ok {
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
	}
	return phone.Defer(rt)
}
