package config

import (
	"strconv"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// AuthUsername returns the digest user: Username, else the AOR's user part.
func (a Account) AuthUsername() string {
	if a.Username != "" {
		return a.Username
	}
	u, _ := parseSIPURI(a.AOR)
	return u.User
}

// RegistrarURI returns where to send REGISTER as a SIP URI: Registrar as is
// when it is a URI, "sip:HOST:PORT" when it is host:port (sips: for a sips:
// AOR), or the AOR's host and port when it is empty. Call it on a validated
// account.
func (a Account) RegistrarURI() string {
	if a.Registrar != "" {
		return a.targetURI(a.Registrar)
	}
	u, err := parseSIPURI(a.AOR)
	if err != nil {
		return ""
	}
	return u.Scheme + ":" + u.HostPort()
}

// OutboundProxyURI returns OutboundProxy as a SIP URI, "" when there is none.
func (a Account) OutboundProxyURI() string {
	if a.OutboundProxy == "" {
		return ""
	}
	return a.targetURI(a.OutboundProxy)
}

// targetURI turns a host[:port] or URI setting into a URI.
func (a Account) targetURI(s string) string {
	if sipaddr.HasSIPScheme(s) {
		return s
	}
	scheme := "sip"
	if u, err := parseSIPURI(a.AOR); err == nil {
		scheme = u.Scheme
	}
	return scheme + ":" + s
}

// AccountName returns the name of Accounts[i] in events, logs and the UI:
// its name, or "account1", "account2" … by position for an unnamed one
// (allowed when it is the only account).
func (c Config) AccountName(i int) string {
	if n := c.Accounts[i].Name; n != "" {
		return n
	}
	return "account" + strconv.Itoa(i+1)
}
