package phone

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A registrar given by name is located again at a refresh once the DNS
// records it was found through have expired, so a provider that moves
// its SIP server is followed; before they expire, the refreshes stay
// where they were.
func TestRegisterRelocatesOnTTL(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ttl   int
		moved bool // whether the refreshes follow the move
	}{
		{"records expired", 1, true},
		{"records still valid", 3600, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, moved := registrar(t, 200), registrar(t, 200) // both grant 1 s
			zone := func(port int) string {
				return fmt.Sprintf(`_sip._udp.pbx.example.test. %d SRV 10 0 %d sip.pbx.example.test.
					sip.pbx.example.test. %d A 127.0.0.1`, tc.ttl, port, tc.ttl)
			}
			dns := newDNSZone(t, zone(mustPort(old.addr)))
			newTestPhone(t, Options{Transports: []string{"udp"}, DNSServers: []string{dns.addr},
				Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "pbx.example.test", Register: true, Expires: time.Minute}}})
			old.waitRequests(t, sip.REGISTER, 1)
			dns.set(t, zone(mustPort(moved.addr))) // the provider moves its server
			if tc.moved {
				moved.waitRequests(t, sip.REGISTER, 1)
				return
			}
			n := len(old.waitRequests(t, sip.REGISTER, 3)) // two refreshes after the move
			if got := len(moved.requests(sip.REGISTER)); got != 0 {
				t.Errorf("%d REGISTERs at the new server while the old records were valid (%d at the old)", got, n)
			}
		})
	}
}
