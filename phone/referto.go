package phone

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// referError is why a REFER's Refer-To is refused, with the status to
// answer.
type referError struct {
	code   int
	reason string
	err    error
}

func (e *referError) Error() string { return fmt.Sprintf("%d %s: %v", e.code, e.reason, e.err) }
func (e *referError) Unwrap() error { return e.err }

// referTarget is a checked Refer-To: the URI to call and the headers its
// INVITE is to carry (Replaces, Referred-By).
type referTarget struct {
	uri     sip.Uri
	headers map[string]string
}

// parseReferTo checks the Refer-To of req the way a dialed URI is checked
// (ParseURI): one header (RFC 3515 §2.4.1: zero or several are a 400), a
// sip: or sips: URI with an explicit scheme (anything else is 416, RFC 3261
// §21.4.13), no control characters anywhere, even %-escaped in the URI's
// headers. Of the URI's headers (RFC 3261 §19.1.1) only Replaces is kept
// (RFC 3891 §3, attended transfer): a REFER cannot make us send any other
// header. In a dialog that is secure (sips: or TLS, RFC 5630 §3.1.3) a
// sip: target is refused 603: following it would downgrade the call.
func parseReferTo(req *sip.Request, secure bool) (referTarget, error) {
	hs := req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		return referTarget{}, &referError{400, "Bad Request (want one Refer-To)", fmt.Errorf("%d Refer-To headers", len(hs))}
	}
	raw := strings.TrimSpace(hs[0].Value())
	var text string
	if i := strings.IndexByte(raw, '<'); i >= 0 {
		j := strings.IndexByte(raw[i:], '>')
		if j < 0 {
			return referTarget{}, &referError{400, "Bad Request (Refer-To)", fmt.Errorf("%w: Refer-To %q: no '>'", ErrInvalidInput, raw)}
		}
		text = raw[i+1 : i+j]
	} else {
		// addr-spec form: what follows ';' are header parameters.
		text, _, _ = strings.Cut(raw, ";")
	}
	base, query, _ := strings.Cut(strings.TrimSpace(text), "?")
	if !sipaddr.HasSIPScheme(base) {
		return referTarget{}, &referError{416, "Unsupported URI Scheme", fmt.Errorf("%w: Refer-To %q: want a sip: or sips: URI", ErrInvalidInput, base)}
	}
	uri, err := ParseURI(base)
	if err != nil {
		return referTarget{}, &referError{400, "Bad Request (Refer-To)", fmt.Errorf("refer-to: %w", err)}
	}
	t := referTarget{uri: uri, headers: map[string]string{}}
	if query != "" {
		if err := t.takeHeaders(query); err != nil {
			return referTarget{}, &referError{400, "Bad Request (Refer-To headers)", err}
		}
	}
	if by := req.GetHeader("Referred-By"); by != nil {
		if err := ValidateHeader("Referred-By", by.Value()); err != nil {
			return referTarget{}, &referError{400, "Bad Request (Referred-By)", err}
		}
		t.headers["Referred-By"] = by.Value()
	}
	if secure && !strings.EqualFold(uri.Scheme, "sips") {
		return referTarget{}, &referError{603, "Decline (sip: target in a secure call)", fmt.Errorf("%w: Refer-To %s would leave a sips: call", ErrInvalidInput, base)}
	}
	return t, nil
}

// takeHeaders reads the "?h1=v1&h2=v2" part of a Refer-To URI: every value
// is unescaped and checked, and only Replaces is kept.
func (t *referTarget) takeHeaders(query string) error {
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return fmt.Errorf("%w: Refer-To header name %q: %v", ErrInvalidInput, k, err)
		}
		value, err := url.PathUnescape(v)
		if err != nil {
			return fmt.Errorf("%w: Refer-To header %s: %v", ErrInvalidInput, name, err)
		}
		if err := ValidateHeader(name, value); err != nil {
			return fmt.Errorf("refer-to header: %w", err)
		}
		if strings.EqualFold(name, "Replaces") {
			t.headers["Replaces"] = value
		}
	}
	return nil
}

// secureDialog reports whether c's dialog is a secure one (RFC 5630 §3.1.3):
// set up over TLS, or with a sips: URI on either side. req is a request of
// the dialog, whose Request-URI is our sips: Contact in such a dialog.
func (c *call) secureDialog(req *sip.Request) bool {
	c.mu.Lock()
	remote, rt := c.remoteURI, c.remoteTarget
	c.mu.Unlock()
	return strings.EqualFold(c.transport, "TLS") ||
		strings.EqualFold(req.Transport(), "TLS") ||
		strings.EqualFold(req.Recipient.Scheme, "sips") ||
		strings.HasPrefix(strings.ToLower(remote), "sips:") ||
		(rt != nil && strings.EqualFold(rt.Scheme, "sips"))
}
