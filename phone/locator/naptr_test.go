package locator

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestNAPTRService(t *testing.T) {
	tests := []struct {
		name                            string
		flags, svc, regexp, replacement string
		secure                          bool
		want                            service
		errHas                          string
	}{
		{"SIP over UDP", "s", "SIP+D2U", "", "_sip._udp.example.com", false, service{UDP, "_sip._udp.example.com."}, ""},
		{"SIP over TCP, upper-case flag", "S", "SIP+D2T", "", "_sip._tcp.example.com.", false, service{TCP, "_sip._tcp.example.com."}, ""},
		{"SIPS, lower-case service", "s", "sips+d2t", "", "_sips._tcp.example.com.", false, service{TLS, "_sips._tcp.example.com."}, ""},
		{"SIPS for a sips: URI", "s", "SIPS+D2T", "", "_sips._tcp.example.com.", true, service{TLS, "_sips._tcp.example.com."}, ""},
		{"SIP refused for a sips: URI", "s", "SIP+D2T", "", "_sip._tcp.example.com.", true, service{}, "needs SIPS+D2T"},
		{"SCTP is not ours", "s", "SIP+D2S", "", "_sip._sctp.example.com.", false, service{}, "not a SIP transport"},
		{"websocket is not ours", "s", "SIPS+D2W", "", "_sips._ws.example.com.", false, service{}, "not a SIP transport"},
		{"other application", "s", "E2U+sip", "", "_sip._udp.example.com.", false, service{}, "not a SIP transport"},
		{"non-terminal record", "", "SIP+D2U", "", "next.example.com.", false, service{}, "only terminal"},
		{"A flag", "a", "SIP+D2U", "", "sip.example.com.", false, service{}, "only terminal"},
		{"regexp refused", "s", "SIP+D2U", "!^.*$!_sip._udp.example.com!", ".", false, service{}, "regexp records are not supported"},
		{"empty replacement", "s", "SIP+D2U", "", "", false, service{}, "empty name"},
		{"root replacement", "s", "SIP+D2U", "", ".", false, service{}, "empty name"},
		{"replacement not a name", "s", "SIP+D2U", "", "a..b", false, service{}, "not a domain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := naptrService(tt.flags, tt.svc, tt.regexp, tt.replacement, tt.secure)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want one with %q", err, tt.errHas)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// FuzzNAPTRService: whatever a NAPTR record holds, a record is either
// refused or gives a transport we speak and a name we can query.
func FuzzNAPTRService(f *testing.F) {
	f.Add("s", "SIP+D2U", "", "_sip._udp.example.com.", false)
	f.Add("S", "SIPS+D2T", "", "_sips._tcp.example.com", true)
	f.Add("u", "E2U+sip", "!^.*$!sip:info@example.com!", ".", false)
	f.Add("s", "SIP+D2T", "", "\\000.example.com.", false)
	f.Fuzz(func(t *testing.T, flags, svc, regexp, replacement string, secure bool) {
		s, err := naptrService(flags, svc, regexp, replacement, secure)
		if err != nil {
			return
		}
		if s.transport != UDP && s.transport != TCP && s.transport != TLS {
			t.Fatalf("transport %q", s.transport)
		}
		if secure && s.transport != TLS {
			t.Fatalf("sips: URI given %s", s.transport)
		}
		if regexp != "" {
			t.Fatalf("regexp %q accepted", regexp)
		}
		if _, ok := dns.IsDomainName(s.name); !ok || !dns.IsFqdn(s.name) || s.name == "." {
			t.Fatalf("name %q", s.name)
		}
		m := new(dns.Msg)
		m.SetQuestion(s.name, dns.TypeSRV)
		if _, err := m.Pack(); err != nil {
			t.Fatalf("name %q cannot be asked: %v", s.name, err)
		}
	})
}
