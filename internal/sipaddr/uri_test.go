package sipaddr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in      string
		want    URI
		wantErr string // substring of the error; "" when the URI is valid
	}{
		{"sip:alice@example.com", URI{Scheme: "sip", User: "alice", Host: "example.com"}, ""},
		{"SIP:alice@Example.COM", URI{Scheme: "sip", User: "alice", Host: "Example.COM"}, ""},
		{"sips:alice:secret@pbx.example.com:5061;transport=tls;lr?subject=hi&x=",
			URI{Scheme: "sips", User: "alice", Password: "secret", Host: "pbx.example.com", Port: 5061,
				Params: []Param{{"transport", "tls"}, {"lr", ""}}, Headers: "subject=hi&x="}, ""},
		{"sip:+1-555-0100@[2001:db8::1]:5060", URI{Scheme: "sip", User: "+1-555-0100", Host: "2001:db8::1", Port: 5060}, ""},
		{"sip:[::ffff:10.0.0.1]", URI{Scheme: "sip", Host: "::ffff:10.0.0.1"}, ""},
		{"sip:pbx.example.com", URI{Scheme: "sip", Host: "pbx.example.com"}, ""},
		{"sip:10.0.0.1:5070", URI{Scheme: "sip", Host: "10.0.0.1", Port: 5070}, ""},
		{"sip:a;b?c@h", URI{Scheme: "sip", User: "a;b?c", Host: "h"}, ""},
		{"sip:al%20ice@my_host.example.com.", URI{Scheme: "sip", User: "al%20ice", Host: "my_host.example.com."}, ""},
		{"sip:*97%23@h;user=phone", URI{Scheme: "sip", User: "*97%23", Host: "h", Params: []Param{{"user", "phone"}}}, ""},
		{"sip:h;maddr=[::1]", URI{Scheme: "sip", Host: "h", Params: []Param{{"maddr", "[::1]"}}}, ""},
		{"tel:+1-555-0100", URI{Scheme: "tel", User: "+1-555-0100"}, ""},
		{"TEL:*97#;phone-context=example.com", URI{Scheme: "tel", User: "*97#", Params: []Param{{"phone-context", "example.com"}}}, ""},

		{"", URI{}, "no sip:, sips: or tel: scheme"},
		{"alice@example.com", URI{}, "no sip:, sips: or tel: scheme"},
		{"http://example.com", URI{}, `scheme "http"`},
		{"sip:", URI{}, "empty host"},
		{"sip:@x", URI{}, "empty user"},
		{"sip:a@", URI{}, "empty host"},
		{"sip:a:@x", URI{}, "empty password"},
		{"sip:a@b@c", URI{}, "more than one '@'"},
		{"sip:a@x:", URI{}, "empty port"},
		{"sip:a@x:0", URI{}, `port "0"`},
		{"sip:a@x:99999", URI{}, `port "99999"`},
		{"sip:a@x:+5", URI{}, `port "+5"`},
		{"sip:a@x:5060x", URI{}, `port "5060x"`},
		{"sip:a@ex ample.com", URI{}, "must not contain spaces"},
		{"sip:a@x\t", URI{}, "must not contain spaces"},
		{"sip:a@<x>", URI{}, "must not contain spaces"},
		{`sip:"a"@x`, URI{}, "must not contain spaces"},
		{"sip:a@x\r\nVia: evil", URI{}, "control characters (found U+000D)"},
		{"sip:a@x\x00", URI{}, "control characters (found U+0000)"},
		{"sip:a@x\u0085", URI{}, "control characters (found U+0085)"},
		{"sip:a@x\xff", URI{}, "not valid UTF-8"},
		{"sip:zoë@x", URI{}, "non-ASCII character in the user part"},
		{"sip:a#b@x", URI{}, `character '#' is not allowed in the user part`},
		{"sip:a%2@x", URI{}, "bad percent escape"},
		{"sip:a@[::1", URI{}, "missing ']'"},
		{"sip:a@[::1]x", URI{}, "unexpected"},
		{"sip:a@[1.2.3.4]", URI{}, "bad IPv6 address"},
		{"sip:a@[fe80::1%25eth0]", URI{}, "bad IPv6 address"},
		{"sip:a@2001:db8::1", URI{}, "must be in brackets"},
		{"sip:a@x..y", URI{}, "bad host name"},
		{"sip:a@-x.com", URI{}, "bad host name"},
		{"sip:a@x!.com", URI{}, "bad host name"},
		{"sip:a@" + strings.Repeat("a.", 127) + "com", URI{}, "longer than 253"},
		{"sip:a@10.0.0.300", URI{}, "bad IPv4 address"},
		{"sip:1000", URI{}, "bad IPv4 address"},
		{"sip:a@x;", URI{}, "empty parameter name"},
		{"sip:a@x;lr=", URI{}, "empty value"},
		{"sip:a@x;a=b=c", URI{}, `character '=' is not allowed in the parameter part`},
		{"sip:a@x?subject", URI{}, "want name=value"},
		{"tel:", URI{}, "without digits"},
		{"tel:+", URI{}, "without digits"},
		{"tel:+1A", URI{}, `character 'A'`},
		{"tel:555 0100", URI{}, "must not contain spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURI(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidURI) {
					t.Fatalf("ParseURI(%q) = %+v, %v; want an ErrInvalidURI containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseURI(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestURIString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SIPS:alice:pw@h:5061;transport=tls;lr?a=b", "sips:alice:pw@h:5061;transport=tls;lr?a=b"},
		{"sip:[2001:db8::1]:05060", "sip:[2001:db8::1]:5060"},
		{"Tel:+1-555;ext=22", "tel:+1-555;ext=22"},
	}
	for _, tt := range tests {
		u, err := ParseURI(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.String(); got != tt.want {
			t.Errorf("ParseURI(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURIParam(t *testing.T) {
	u, err := ParseURI("sip:h;Transport=TCP;lr")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, value string
		ok          bool
	}{{"transport", "TCP", true}, {"LR", "", true}, {"maddr", "", false}} {
		if v, ok := u.Param(tt.name); v != tt.value || ok != tt.ok {
			t.Errorf("Param(%q) = %q, %v; want %q, %v", tt.name, v, ok, tt.value, tt.ok)
		}
	}
}

func TestHasSIPScheme(t *testing.T) {
	for s, want := range map[string]bool{"sip:a": true, "SIPS:a": true, "Sip:": true, "sip": false, "tel:1": false, "a@sip:": false} {
		if got := HasSIPScheme(s); got != want {
			t.Errorf("HasSIPScheme(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzParseURI checks that ParseURI never panics, never accepts what could
// break a header line, and reads back what String writes.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"sip:a@b", "sips:a:p@[::1]:5;x=y;lr?h=v&i=", "sip:a@b;x=y?z", "sip:\r\n", "tel:+1-2;a=b",
		"sip:%41@h", "sip:a@1.2.3.4", "sip:a@[::ffff:1.2.3.4]:65535",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidURI) {
				t.Fatalf("ParseURI(%q) error %v is not an ErrInvalidURI", s, err)
			}
			return
		}
		if strings.ContainsAny(s, "\r\n\x00 \t<>\"") {
			t.Fatalf("ParseURI accepted %q", s)
		}
		back, err := ParseURI(u.String())
		if err != nil || !reflect.DeepEqual(back, u) {
			t.Fatalf("ParseURI(%q) = %+v; its String %q reads back as %+v, %v", s, u, u.String(), back, err)
		}
	})
}
