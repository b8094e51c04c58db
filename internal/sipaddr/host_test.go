package sipaddr

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHostPort(t *testing.T) {
	tests := []struct {
		in      string
		host    string
		port    int
		wantErr string
	}{
		{"pbx.example.com", "pbx.example.com", 0, ""},
		{"pbx.example.com:5080", "pbx.example.com", 5080, ""},
		{"10.0.0.1:5060", "10.0.0.1", 5060, ""},
		{"[2001:db8::1]", "2001:db8::1", 0, ""},
		{"[2001:db8::1]:5061", "2001:db8::1", 5061, ""},
		{"localhost", "localhost", 0, ""},
		{"", "", 0, "empty host"},
		{":5060", "", 0, "empty host"},
		{"pbx:", "", 0, "empty port"},
		{"pbx:0", "", 0, `port "0"`},
		{"pbx;transport=tcp", "", 0, "bad host name"},
		{"2001:db8::1", "", 0, "must be in brackets"},
		{"[2001:db8::1]5060", "", 0, "unexpected"},
		{"user@pbx", "", 0, "bad host name"},
	}
	for _, tt := range tests {
		host, port, err := ParseHostPort(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidURI) {
				t.Errorf("ParseHostPort(%q) = %q, %d, %v; want an error containing %q", tt.in, host, port, err, tt.wantErr)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("ParseHostPort(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
		}
	}
}

func TestHostPort(t *testing.T) {
	tests := []struct {
		u    URI
		want string
	}{
		{URI{Host: "h"}, "h"},
		{URI{Host: "h", Port: 5060}, "h:5060"},
		{URI{Host: "::1"}, "[::1]"},
		{URI{Host: "::1", Port: 5060}, "[::1]:5060"},
	}
	for _, tt := range tests {
		if got := tt.u.HostPort(); got != tt.want {
			t.Errorf("%+v.HostPort() = %q, want %q", tt.u, got, tt.want)
		}
	}
}

// FuzzParseHostPort checks that ParseHostPort never panics and that what it
// accepts is a valid host of a URI.
func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{"h", "h:1", "[::1]:5060", "1.2.3.4", "a_b.c-d.", "[", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := ParseHostPort(s)
		if err != nil {
			return
		}
		u := URI{Scheme: "sip", Host: host, Port: port}
		back, err := ParseURI(u.String())
		if err != nil || back.Host != host || back.Port != port {
			t.Fatalf("ParseHostPort(%q) = %q, %d, but %q reads back as %+v, %v", s, host, port, u.String(), back, err)
		}
	})
}
