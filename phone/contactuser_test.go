package phone

import (
	"regexp"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestMatchAccount: a call is an account's when it names the Contact the
// account registered (its secret user), the AOR itself, or, for an account
// that does not register, its user at our address; guessing the account's
// user at our address finds nothing.
func TestMatchAccount(t *testing.T) {
	reg, err := newAccount(Account{Name: "erin", AOR: "sip:erin@provider.test", Register: true})
	if err != nil {
		t.Fatal(err)
	}
	lan, err := newAccount(Account{Name: "lan", AOR: "sip:desk@192.0.2.9:5070"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[a-z2-7]{16}$`).MatchString(reg.token) || reg.contactUser() != reg.token {
		t.Fatalf("registered Contact user %q, want 16 random base32 characters", reg.contactUser())
	}
	if other, _ := newAccount(Account{AOR: "sip:erin@provider.test", Register: true}); other.token == reg.token {
		t.Fatal("two accounts drew the same token")
	}
	if lan.contactUser() != "desk" {
		t.Errorf("Contact user of an account that does not register = %q, want desk", lan.contactUser())
	}
	p := &Phone{accounts: []*account{reg, lan}}
	for _, tc := range []struct {
		ruri string
		want *account
	}{
		{"sip:" + reg.token + "@198.51.100.4:5060", reg},
		{"sip:erin@provider.test", reg},
		{"sip:erin@provider.test:5060", reg},
		{"sip:erin@198.51.100.4:5060", nil}, // a scanner's guess at our address
		{"sip:erin@provider.test:5080", nil},
		{"sip:desk@198.51.100.4:5060", lan},
		{"sip:100@198.51.100.4:5060", nil},
		{"sip:@198.51.100.4:5060", nil},
	} {
		var u sip.Uri
		if err := sip.ParseUri(tc.ruri, &u); err != nil {
			t.Fatal(err)
		}
		if got := p.matchAccount(sip.NewRequest(sip.INVITE, u)); got != tc.want {
			t.Errorf("matchAccount(%s) = %v, want %v", tc.ruri, name(got), name(tc.want))
		}
	}
}

func name(a *account) string {
	if a == nil {
		return "none"
	}
	return a.cfg.Name
}
