package sipaddr

import (
	"strings"
)

// MaxTargetLen bounds what a person may type as a call target, in bytes.
const MaxTargetLen = 512

// NormalizeTarget checks what a person typed to call, transfer or forward
// to, before any account is chosen, and returns it tidied:
//
//	sip:bob@example.com, SIPS:bob@example.com:5061, tel:+1-555-0100
//	    a URI (ParseURI); returned with the scheme in lower case
//	"Bob" <sip:bob@example.com>, Bob <sip:bob@example.com>
//	    a pasted name-addr; its URI is returned
//	bob@example.com, bob@example.com:5070
//	    a user at a host; returned as typed, ResolveTarget adds "sip:"
//	1000, +15550100, *97#, alice
//	    a user or number; returned as typed, ResolveTarget adds the
//	    account's domain
//
// Surrounding white space is trimmed. Control characters (anywhere: no
// CR/LF injection into headers), white space, quotes or brackets left in
// the address, other schemes ("http:"), a ":" in a user part typed without
// a scheme ("host:5060" is neither a user nor a URI), and input longer than
// MaxTargetLen are refused.
func NormalizeTarget(typed string) (string, error) {
	t, err := classify(typed)
	if err != nil {
		return "", err
	}
	return t.text, nil
}

// ResolveTarget turns what a person typed (any form NormalizeTarget takes)
// into the URI to send a request to. domain is the host[:port] of the
// account that calls; it completes a bare user or number ("1000" →
// sip:1000@domain) and a tel: URI, which becomes
// sip:NUMBER;PARAMS@domain;user=phone (RFC 3261 §19.1.6). Without a domain
// those forms are refused. A "#" typed in a user part (feature codes such
// as "*97#") is percent-encoded, since RFC 3261 §25.1 allows it in a user
// part only as %23.
func ResolveTarget(typed, domain string) (URI, error) {
	t, err := classify(typed)
	if err != nil {
		return URI{}, err
	}
	switch t.form {
	case formURI:
		if t.uri.Scheme != "tel" {
			return t.uri, nil
		}
		user := t.uri.User
		for _, p := range t.uri.Params {
			user += ";" + p.Name
			if p.Value != "" {
				user += "=" + p.Value
			}
		}
		return atDomain(escapeHash(user), domain, Param{Name: "user", Value: "phone"})
	case formUserHost:
		return ParseURI("sip:" + escapeHash(t.text))
	}
	return atDomain(escapeHash(t.text), domain)
}

// atDomain builds sip:user@domain.
func atDomain(user, domain string, params ...Param) (URI, error) {
	if domain == "" {
		return URI{}, errorf(ErrInvalidURI, "not a SIP URI, and no account gives a domain to call it at")
	}
	host, port, err := ParseHostPort(domain)
	if err != nil {
		return URI{}, errorf(ErrInvalidURI, "account domain %q: %v", domain, err)
	}
	u := URI{Scheme: "sip", User: user, Host: host, Port: port, Params: params}
	// Check the whole, as a request URI will be read back.
	if _, err := ParseURI(u.String()); err != nil {
		return URI{}, err
	}
	return u, nil
}

// escapeHash percent-encodes "#" in the user part of user[@hostport].
func escapeHash(s string) string {
	user, host, hasHost := strings.Cut(s, "@")
	user = strings.ReplaceAll(user, "#", "%23")
	if hasHost {
		return user + "@" + host
	}
	return user
}

type targetForm int

const (
	formURI      targetForm = iota // sip:, sips: or tel: URI
	formUserHost                   // user@host[:port]
	formUser                       // a bare user or number
)

type target struct {
	form targetForm
	text string // what NormalizeTarget returns
	uri  URI    // formURI only
}

// classify checks a typed target and tells its form.
func classify(typed string) (target, error) {
	if err := CheckText(typed); err != nil {
		return target{}, rekind(ErrInvalidURI, err)
	}
	s := strings.TrimSpace(typed)
	switch {
	case s == "":
		return target{}, errorf(ErrInvalidURI, "empty")
	case len(s) > MaxTargetLen:
		return target{}, errorf(ErrInvalidURI, "longer than %d bytes", MaxTargetLen)
	}
	if s[0] == '"' || strings.ContainsAny(s, "<>") {
		a, err := ParseNameAddr(s)
		if err != nil {
			return target{}, rekind(ErrInvalidURI, err)
		}
		s = a.URI
	}
	if strings.ContainsAny(s, " \t\"<>") {
		return target{}, errorf(ErrInvalidURI, "%q contains white space, quotes or brackets", s)
	}
	if HasSIPScheme(s) || hasPrefixFold(s, "tel:") {
		u, err := ParseURI(s)
		if err != nil {
			return target{}, err
		}
		return target{form: formURI, text: u.String(), uri: u}, nil
	}
	user, _, hasHost := strings.Cut(s, "@")
	if strings.Contains(user, ":") {
		return target{}, errorf(ErrInvalidURI, "%q: want a sip:, sips: or tel: URI, a user@host or a number", s)
	}
	if hasHost {
		if _, err := ParseURI("sip:" + escapeHash(s)); err != nil {
			return target{}, err
		}
		return target{form: formUserHost, text: s}, nil
	}
	if err := checkChars(escapeHash(s), isUserChar, "user"); err != nil {
		return target{}, err
	}
	return target{form: formUser, text: s}, nil
}
