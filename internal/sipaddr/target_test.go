package sipaddr

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeTarget(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"sip:bob@example.com", "sip:bob@example.com", ""},
		{"  SIP:bob@example.com  ", "sip:bob@example.com", ""},
		{"sip:bob@example.com;transport=tcp", "sip:bob@example.com;transport=tcp", ""},
		{"tel:+1-555-0100", "tel:+1-555-0100", ""},
		{"bob@example.com", "bob@example.com", ""},
		{"bob@example.com:5070", "bob@example.com:5070", ""},
		{"100", "100", ""},
		{"+15550100", "+15550100", ""},
		{"*97#", "*97#", ""},
		{`"Bob" <sip:bob@example.com>`, "sip:bob@example.com", ""},
		{`Bob <sip:bob@example.com>;tag=1`, "sip:bob@example.com", ""},
		{"sip:bob@example.com\t", "sip:bob@example.com", ""},

		{"", "", "empty"},
		{"   ", "", "empty"},
		{"sip:bob@example.com\r\nX-Evil: 1", "", "control characters"},
		{"sip:bob@example.com\n", "", "control characters"},
		{"sip:b\x00ob@example.com", "", "control characters"},
		{"sip:bob@exa mple.com", "", "white space"},
		{"1 2", "", "white space"},
		{`sip:"bob"@example.com`, "", "quotes"},
		{"<sip:bob@example.com", "", "missing '>'"},
		{`Bob <mailto:bob@example.com>`, "", "want a sip:"},
		{"http://example.com", "", "want a sip:"},
		{"host:5060", "", "want a sip:"},
		{"mailto:a@b", "", "want a sip:"},
		{"sip:bob@x:0", "", `port "0"`},
		{"bob@", "", "empty host"},
		{"zoë", "", "non-ASCII"},
		{"sip:" + strings.Repeat("a", MaxTargetLen), "", "longer than 512 bytes"},
	}
	for _, tt := range tests {
		got, err := NormalizeTarget(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidURI) {
				t.Errorf("NormalizeTarget(%q) = %q, %v; want an ErrInvalidURI containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeTarget(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		in, domain, want, wantErr string
	}{
		{"1000", "pbx.example.com", "sip:1000@pbx.example.com", ""},
		{"1000", "pbx.example.com:5080", "sip:1000@pbx.example.com:5080", ""},
		{"1000", "[2001:db8::1]:5060", "sip:1000@[2001:db8::1]:5060", ""},
		{"*97#", "pbx", "sip:*97%23@pbx", ""},
		{"bob@example.com", "", "sip:bob@example.com", ""},
		{"1#2@example.com:5070", "", "sip:1%232@example.com:5070", ""},
		{"sips:bob@example.com", "pbx", "sips:bob@example.com", ""},
		{`"Bob" <sip:bob@example.com;transport=tcp>`, "", "sip:bob@example.com;transport=tcp", ""},
		{"tel:+1-555-0100", "gw.example.com", "sip:+1-555-0100@gw.example.com;user=phone", ""},
		{"tel:*97#;phone-context=example.com", "gw", "sip:*97%23;phone-context=example.com@gw;user=phone", ""},

		{"1000", "", "", "no account gives a domain"},
		{"tel:+1555", "", "", "no account gives a domain"},
		{"1000", "bad domain", "", "account domain"},
		{"sip:bob@example.com\r\n", "pbx", "", "control characters"},
		{"host:5060", "pbx", "", "want a sip:"},
	}
	for _, tt := range tests {
		got, err := ResolveTarget(tt.in, tt.domain)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidURI) {
				t.Errorf("ResolveTarget(%q, %q) = %v, %v; want an ErrInvalidURI containing %q", tt.in, tt.domain, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ResolveTarget(%q, %q) = %q, %v; want %q", tt.in, tt.domain, got.String(), err, tt.want)
		}
	}
}

// FuzzResolveTarget checks that a typed target never panics the
// normaliser, that NormalizeTarget and ResolveTarget agree on what they
// refuse, and that a resolved target is a valid URI with nothing in it that
// could break a header.
func FuzzResolveTarget(f *testing.F) {
	for _, s := range []string{"1000", "*97#", "bob@h", "sip:a@b", "tel:+1", `"B" <sip:b@c>`, "a\r\nb", "h:1", "#@h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, nerr := NormalizeTarget(s)
		u, rerr := ResolveTarget(s, "pbx.example.com")
		if (nerr == nil) != (rerr == nil) {
			t.Fatalf("NormalizeTarget(%q) = %q, %v but ResolveTarget = %v, %v", s, n, nerr, u, rerr)
		}
		if rerr != nil {
			return
		}
		if u.Scheme != "sip" && u.Scheme != "sips" {
			t.Fatalf("ResolveTarget(%q) = %q: scheme %q", s, u.String(), u.Scheme)
		}
		if _, err := ParseURI(u.String()); err != nil {
			t.Fatalf("ResolveTarget(%q) = %q, which ParseURI refuses: %v", s, u.String(), err)
		}
		if again, err := NormalizeTarget(n); err != nil || again != n {
			t.Fatalf("NormalizeTarget(%q) = %q, but NormalizeTarget of that = %q, %v", s, n, again, err)
		}
	})
}
