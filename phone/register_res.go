package phone

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// What a registrar's answer to a REGISTER is read for, and how a broken
// one is taken: never as a reason to stop or to loop fast.

// statusIntervalTooBrief is RFC 3261 §21.4.17's 423.
const statusIntervalTooBrief = 423

// maxDeltaSeconds is the largest expiry RFC 3261 §20.19 allows: an
// Expires value is between 0 and 2^32-1 seconds.
const maxDeltaSeconds = 1<<32 - 1

// maxMinExpires bounds the Min-Expires of a 423 we follow: a registrar
// asking for more than a day is not believed.
const maxMinExpires = 24 * time.Hour

// deltaSeconds parses an expiry: decimal digits only, at most 2^32-1.
func deltaSeconds(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > maxDeltaSeconds {
		return 0, fmt.Errorf("%q is not a number of seconds", v)
	}
	return time.Duration(n) * time.Second, nil
}

// grantedExpiry reads, from a REGISTER's 2xx, the expiry granted to our
// contact when we asked for asked: RFC 3261 §10.2.4 puts it in the
// expires parameter of our binding among the Contacts the 2xx lists, else
// in the Expires header; with neither it is what we asked. A malformed
// value is not used; one longer than asked is cut to asked (a registrar
// may shorten an expiry, RFC 3261 §10.3 step 7, and refreshing early is
// always safe). Each such problem comes back as a warning to log.
func grantedExpiry(res *sip.Response, contact sip.ContactHeader, asked time.Duration) (time.Duration, []string) {
	if asked == 0 {
		return 0, nil // an un-REGISTER: nothing granted to read
	}
	granted := asked
	var warns []string
	if h := res.GetHeader("Expires"); h != nil {
		if d, err := deltaSeconds(h.Value()); err != nil {
			warns = append(warns, "Expires "+err.Error())
		} else {
			granted = d
		}
	}
	contacts := res.GetHeaders("Contact")
	if len(contacts) == 0 {
		warns = append(warns, "no Contact listed (our binding taken as kept)")
	}
	listed := false
	for _, h := range contacts {
		ch, ok := h.(*sip.ContactHeader)
		if !ok || ch.Address.Host != contact.Address.Host || ch.Address.Port != contact.Address.Port || ch.Address.User != contact.Address.User {
			continue
		}
		listed = true
		if v, ok := ch.Params.Get("expires"); ok {
			if d, err := deltaSeconds(v); err != nil {
				warns = append(warns, "Contact expires "+err.Error())
			} else {
				granted = d
			}
		}
	}
	if len(contacts) > 0 && !listed {
		warns = append(warns, "our Contact is not among those listed")
	}
	if granted > asked {
		warns = append(warns, fmt.Sprintf("%v granted, more than the %v asked for: refreshing as asked", granted, asked))
		granted = asked
	}
	return granted, warns
}

// minExpires reads the Min-Expires of a 423 to a REGISTER that asked for
// asked: the expiry to ask for next (RFC 3261 §10.2.8). An error when it
// is missing, malformed, not above asked (asking again would get the same
// 423) or above maxMinExpires.
func minExpires(res *sip.Response, asked time.Duration) (time.Duration, error) {
	h := res.GetHeader("Min-Expires")
	if h == nil {
		return 0, errors.New("no Min-Expires to retry with")
	}
	d, err := deltaSeconds(h.Value())
	switch {
	case err != nil:
		return 0, fmt.Errorf("Min-Expires %w", err)
	case d <= asked:
		return 0, fmt.Errorf("Min-Expires %v is not above the %v asked for", d, asked)
	case d > maxMinExpires:
		return 0, fmt.Errorf("Min-Expires %v is more than %v", d, maxMinExpires)
	}
	return d, nil
}

// challengeErr says why the digest challenge of a 401 or 407 cannot be
// answered, nil when it can: sipgo's DoDigestAuth reports a malformed
// challenge the way it reports a transport error, which would fail over
// from a server that did answer.
func challengeErr(res *sip.Response) error {
	name := "WWW-Authenticate"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name = "Proxy-Authenticate"
	}
	h := res.GetHeader(name)
	if h == nil {
		return fmt.Errorf("no %s header", name)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return fmt.Errorf("%s %q: %w", name, h.Value(), err)
	}
	chal.Algorithm = strings.ToUpper(chal.Algorithm) // as sipgo does
	if _, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:check", Username: "check", Password: "check"}); err != nil {
		return fmt.Errorf("%s %q: %w", name, h.Value(), err)
	}
	return nil
}
