package phone

import (
	"crypto/rand"
	"encoding/base32"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// A registering account's Contact user is a random token, not the
// account's user name. The registrar sends the account's calls to the
// Contact it holds (RFC 3261 §10.3 step 8, §16.5: the Request-URI becomes
// the registered Contact), so a call from it names the token, while a
// scanner guessing user names at our address (sipvicious' svwar sends an
// INVITE, OPTIONS or REGISTER per guess and compares the answers) gets the
// same answer for the account's user as for any other: with direct calls
// off, 404 for all of them.
func newContactUser() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// contactUser is the user part of a's Contacts: the token for an account
// that registers, the AOR's user for one that does not (it is called at
// our address by that user).
func (a *account) contactUser() string {
	if a.cfg.Register {
		return a.token
	}
	return a.user()
}

// matchAccount finds the account an incoming request is for: the
// Request-URI is one of our registered Contacts (the token), the account's
// AOR itself (some registrars deliver to the AOR), or, for an account that
// does not register, its user at our address. nil: none of ours.
func (p *Phone) matchAccount(req *sip.Request) *account {
	ru := req.Recipient
	for _, a := range p.accounts {
		if a.cfg.Register && ru.User == a.token {
			return a
		}
	}
	for _, a := range p.accounts {
		if !strings.EqualFold(a.user(), ru.User) {
			continue
		}
		if !a.cfg.Register || sameHostPort(a.aor, ru) {
			return a
		}
	}
	return nil
}

// sameHostPort compares two URIs' hosts (case-insensitively) and ports,
// an absent port being the scheme's default.
func sameHostPort(a, b sip.Uri) bool {
	port := func(u sip.Uri) int {
		switch {
		case u.Port != 0:
			return u.Port
		case strings.EqualFold(u.Scheme, "sips"):
			return 5061
		}
		return 5060
	}
	return strings.EqualFold(strings.Trim(a.Host, "[]"), strings.Trim(b.Host, "[]")) && port(a) == port(b)
}
