package phone

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TransferMode says what the phone does with a transfer request (a REFER)
// from the party of one of its calls.
type TransferMode int

// Transfer modes. The zero value refuses every transfer: a phone follows
// one only when told to.
const (
	TransferNever  TransferMode = iota // refuse with 603 Decline
	TransferAsk                        // 202, then a TransferEvent with Asking set; AnswerTransfer decides
	TransferAlways                     // 202 and call the target at once
)

var transferModeNames = [...]string{"never", "ask", "always"}

// String returns "never", "ask" or "always", the names of the configuration.
func (m TransferMode) String() string {
	if int(m) >= 0 && int(m) < len(transferModeNames) {
		return transferModeNames[m]
	}
	return "unknown"
}

// ParseTransferMode reads "never", "ask" or "always".
func ParseTransferMode(s string) (TransferMode, error) {
	for i, n := range transferModeNames {
		if s == n {
			return TransferMode(i), nil
		}
	}
	return TransferNever, fmt.Errorf("%w: transfer mode %q: want never, ask or always", ErrInvalidInput, s)
}

// DefaultTransferAskTimeout is how long a transfer request waits for the
// user before it is refused.
const DefaultTransferAskTimeout = 30 * time.Second

// TransferPolicy decides on transfer requests (REFER) received in a call.
// Allow holds globs (path.Match syntax: *, ?, [a-z]) matched against the
// target as scheme:user@host[:port], without parameters; the port is part
// of it only when the Refer-To names one. A matching target is followed
// without asking; what happens to the others:
//
//	Mode    Allow empty  Allow matches  Allow does not match
//	never   refuse       follow         refuse
//	ask     ask          follow         ask
//	always  follow       follow         refuse
type TransferPolicy struct {
	Mode  TransferMode
	Allow []string
	// AskTimeout refuses a request the user has not answered by then
	// (0: DefaultTransferAskTimeout).
	AskTimeout time.Duration
}

// transferVerdict is what the policy says about one target.
type transferVerdict int

const (
	verdictRefuse transferVerdict = iota
	verdictAsk
	verdictFollow
)

func (v transferVerdict) String() string {
	return [...]string{"refuse", "ask", "follow"}[v]
}

// decide applies the table of TransferPolicy to target.
func (tp TransferPolicy) decide(target sip.Uri) transferVerdict {
	if len(tp.Allow) > 0 {
		if tp.allows(target) {
			return verdictFollow
		}
		if tp.Mode == TransferAsk {
			return verdictAsk
		}
		return verdictRefuse
	}
	switch tp.Mode {
	case TransferAlways:
		return verdictFollow
	case TransferAsk:
		return verdictAsk
	}
	return verdictRefuse
}

// allows reports whether target matches one of the Allow globs. A bad
// pattern matches nothing (ValidateTransferGlob checks them up front).
func (tp TransferPolicy) allows(target sip.Uri) bool {
	s := globForm(target)
	for _, g := range tp.Allow {
		if ok, err := path.Match(strings.ToLower(g), s); err == nil && ok {
			return true
		}
	}
	return false
}

// globForm is the text the Allow globs are matched against: scheme, user,
// host and the port when there is one, lower case (RFC 3261 §19.1.4 compares
// schemes and hosts case-insensitively; users are compared as written by
// most PBXs' dial plans, so folding them costs nothing in practice).
func globForm(u sip.Uri) string {
	s := strings.ToLower(u.Scheme) + ":"
	if u.User != "" {
		s += u.User + "@"
	}
	s += u.Host
	if u.Port > 0 {
		s += ":" + strconv.Itoa(u.Port)
	}
	return strings.ToLower(s)
}

// ValidateTransferGlob checks one Allow pattern: path.Match syntax, a sip:
// or sips: scheme, no control characters.
func ValidateTransferGlob(g string) error {
	if err := checkText("transfer glob", g); err != nil {
		return err
	}
	if _, err := path.Match(g, ""); err != nil {
		return fmt.Errorf("%w: transfer glob %q: %v", ErrInvalidInput, g, err)
	}
	l := strings.ToLower(g)
	if !strings.HasPrefix(l, "sip:") && !strings.HasPrefix(l, "sips:") {
		return fmt.Errorf("%w: transfer glob %q: want a sip: or sips: URI glob", ErrInvalidInput, g)
	}
	return nil
}

func (tp TransferPolicy) askTimeout() time.Duration {
	if tp.AskTimeout > 0 {
		return tp.AskTimeout
	}
	return DefaultTransferAskTimeout
}
