package phone

import (
	"strings"
	"sync"
	"time"
)

// subState is a Subscription-State header (RFC 6665 §8.2.3):
// "active;expires=3600", "terminated;reason=probation;retry-after=30".
type subState struct {
	state      string // "active", "pending", "terminated" (lower case)
	reason     string // with terminated: "deactivated", "timeout" … ("" if none)
	retryAfter time.Duration
	hasRetry   bool // a valid retry-after was given
}

// parseSubState reads a Subscription-State header value; its value and
// parameter names are case-insensitive tokens.
func parseSubState(v string) subState {
	parts := strings.Split(v, ";")
	s := subState{state: strings.ToLower(strings.TrimSpace(parts[0]))}
	for _, p := range parts[1:] {
		name, val, _ := strings.Cut(p, "=")
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "reason":
			s.reason = strings.ToLower(strings.TrimSpace(val))
		case "retry-after":
			if d, err := deltaSeconds(val); err == nil {
				s.retryAfter, s.hasRetry = d, true
			}
		}
	}
	return s
}

// afterTermination decides, for a subscription its notifier ended with
// Subscription-State: terminated, how long to wait before subscribing
// again; retry false means not before the account's next registration.
//
// RFC 6665 §4.1.3:
//   - deactivated: "SHOULD retry immediately with a new subscription";
//     timeout: "MAY re-subscribe immediately" (retry-after has no
//     semantics for either): at once.
//   - probation: "SHOULD retry at some later time"; giveup: "MAY retry"
//     — both "SHOULD wait at least" retry-after when given: after
//     retry-after, else after def.
//   - rejected, noresource, invariant: "SHOULD NOT attempt to
//     re-subscribe": not until the next registration (a new binding, a
//     policy that may have changed).
//   - no or an unknown reason: "MAY attempt to re-subscribe at any time
//     (unless a retry-after parameter is present …)": after retry-after,
//     else after def (not at once: a notifier that keeps ending
//     subscriptions without a reason must not make us loop).
func afterTermination(s subState, def time.Duration) (wait time.Duration, retry bool) {
	switch s.reason {
	case "deactivated", "timeout":
		return 0, true
	case "rejected", "noresource", "invariant":
		return 0, false
	}
	if s.hasRetry {
		return s.retryAfter, true
	}
	return def, true
}

// mailboxSub is what the NOTIFY handler knows of an account's
// message-summary subscription: its Call-ID, and where to say that the
// notifier terminated it.
type mailboxSub struct {
	mu     sync.Mutex
	callID string        // of the subscription in force, "" if none
	ended  chan subState // buffered 1: the latest termination not yet acted on
}

// set makes callID the subscription in force and forgets any termination
// of an earlier one.
func (s *mailboxSub) set(callID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callID = callID
	select {
	case <-s.chLocked():
	default:
	}
}

func (s *mailboxSub) chLocked() chan subState {
	if s.ended == nil {
		s.ended = make(chan subState, 1)
	}
	return s.ended
}

// endedC is the channel terminations of the subscription in force arrive on.
func (s *mailboxSub) endedC() <-chan subState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chLocked()
}

// terminated reports a NOTIFY's termination of the subscription with
// callID; false when that is not the subscription in force.
func (s *mailboxSub) terminated(callID string, st subState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.callID == "" || s.callID != callID {
		return false
	}
	ch := s.chLocked()
	select { // the latest termination wins
	case <-ch:
	default:
	}
	ch <- st
	return true
}
