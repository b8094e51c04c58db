package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// TestSvwarFindsNothing scans a teaphone registered at Kamailio with
// sipvicious' svwar, as an attacker would: REGISTER, OPTIONS and INVITE
// for a dictionary holding the account's own user among common guesses.
// Every guess gets the same answer, so svwar reports "found nothing", and
// no scan INVITE rings (issue 13). The account's calls still come in:
// Kamailio delivers them to the Contact it holds, whose user is secret.
func TestSvwarFindsNothing(t *testing.T) {
	peertest.NeedSvwar(t)
	k := startProxy(t)
	h := newCallHandler(phone.Reject(486, ""))
	ph := startPhone(t, phone.Options{Accounts: []phone.Account{daveAccount(k, "davepw")}, Handler: h})
	ph.waitReg(0, phone.RegRegistered, waitLong)

	dict := filepath.Join(t.TempDir(), "users.txt")
	guesses := []string{"dave", "alice", "100", "101", "200", "1000", "admin", "root", "operator", "sip"}
	if err := os.WriteFile(dict, []byte(strings.Join(guesses, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := portOf(ph.LocalAddr())
	for _, method := range []string{"REGISTER", "OPTIONS", "INVITE"} {
		t.Run(method, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "svwar", "-m", method, "-d", dict, "-p", port, "127.0.0.1").CombinedOutput()
			text := string(out)
			if ctx.Err() != nil {
				t.Fatalf("svwar did not finish within 60 s:\n%s", text)
			}
			if err != nil {
				t.Logf("svwar: %v", err)
			}
			if !strings.Contains(text, "found nothing") {
				t.Errorf("svwar -m %s found something:\n%s", method, text)
			}
		})
	}
	select {
	case ic := <-h.calls:
		t.Errorf("a scan INVITE rang: %+v", ic)
	default:
	}

	// The account is still reachable the way its registrar reaches it.
	alice := peertest.StartBaresip(t, peertest.BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw"})
	if err := alice.Dial(k.URI("dave")); err != nil {
		t.Fatal(err)
	}
	if ic := h.next(t, waitLong); ic.Account != "dave" {
		t.Errorf("call through Kamailio: account %q, want dave", ic.Account)
	}
}
