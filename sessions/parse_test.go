package sessions

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

func TestParseDisplayName(t *testing.T) {
	tests := []struct {
		name, in, display, uri string
	}{
		{"quoted", `"Alice Smith" <sip:alice@example.com>`, "Alice Smith", "sip:alice@example.com"},
		{"quoted with tag", `"Alice" <sip:alice@example.com;transport=tcp>;tag=abc`, "Alice", "sip:alice@example.com;transport=tcp"},
		{"quoted escapes", `"Alice \"Al\" O\\Neil" <sip:a@b>`, `Alice "Al" O\Neil`, "sip:a@b"},
		{"quoted no space", `"Bob"<sip:bob@b>`, "Bob", "sip:bob@b"},
		{"quoted utf8", `"Zoë Ångström" <sips:zoe@example.org>`, "Zoë Ångström", "sips:zoe@example.org"},
		{"quoted empty", `"" <sip:anon@b>`, "", "sip:anon@b"},
		{"quoted with <> inside", `"a <b> c" <sip:x@y>`, "a <b> c", "sip:x@y"},
		{"unquoted", `Bob Jones <sip:bob@example.com>`, "Bob Jones", "sip:bob@example.com"},
		{"unquoted extra space", "  Bob \t  Jones   <sip:bob@example.com>  ", "Bob Jones", "sip:bob@example.com"},
		{"angle only", `<sip:carol@example.com>`, "", "sip:carol@example.com"},
		{"angle only tag", `<sip:carol@example.com>;tag=1`, "", "sip:carol@example.com"},
		{"bare uri", `sip:dave@example.com`, "", "sip:dave@example.com"},
		{"bare uri tag", `sip:dave@example.com;tag=9`, "", "sip:dave@example.com"},
		{"tel", `tel:+15551234`, "", "tel:+15551234"},
		{"empty", ``, "", ""},
		{"spaces", `   `, "", ""},
		{"unterminated quote", `"Alice <sip:a@b>`, "", ""},
		{"unterminated angle", `Bob <sip:bob@b`, "", ""},
		{"bad port", `Bob <sip:bob@b:0>`, "", ""},
		{"empty angle", `Bob <>`, "", ""},
		{"garbage words", `hello world`, "", ""},
		{"lone quote", `"`, "", ""},
		{"lone brackets", `<<>>`, "", ""},
		{"quoted name no uri", `"Alice"`, "", ""},
		{"space in uri", `<sip:a b@c>`, "", ""},
		{"escape injection", "\"Mallory\x1b[2J\r\nX: y\" <sip:m@evil>", "Mallory[2J  X: y", "sip:m@evil"},
		{"bidi override", "\"abc\u202Edef\" <sip:a@b>", "abcdef", "sip:a@b"},
		{"control in bare uri", "sip:a@b\r\nVia: x", "", ""},
		{"trailing backslash", `"abc\`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, u := ParseDisplayName(tt.in)
			if d != tt.display || u != tt.uri {
				t.Errorf("ParseDisplayName(%q) = %q, %q; want %q, %q", tt.in, d, u, tt.display, tt.uri)
			}
		})
	}
}

func TestParseDisplayNameBounded(t *testing.T) {
	d, _ := ParseDisplayName(`"` + strings.Repeat("é", 1000) + `" <sip:a@b>`)
	if n := len([]rune(d)); n != maxTextRunes {
		t.Errorf("display name of %d runes, want %d", n, maxTextRunes)
	}
}

func FuzzParseDisplayName(f *testing.F) {
	for _, s := range []string{`"A \"B\"" <sip:a@b>;tag=1`, `A B <sip:x@y>`, `<sip:z>`, `sip:q;x`, `"`, `\`, "<\x00>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, u := ParseDisplayName(s)
		if strings.IndexFunc(d+u, unicode.IsControl) >= 0 {
			t.Fatalf("control characters leaked: %q %q", d, u)
		}
		if strings.ContainsAny(u, " <>\"") {
			t.Fatalf("uri %q holds spaces, quotes or brackets", u)
		}
	})
}

func TestDisplayNameFor(t *testing.T) {
	tests := []struct {
		display, remote, from string
		headers               map[string]string
		want                  string
	}{
		{"Core Name", `"Other" <sip:a@b>`, `"From" <sip:a@b>`, nil, "Core Name"},
		{"", `"Uri Name" <sip:a@b>`, `"From" <sip:a@b>`, nil, "Uri Name"},
		{"", "sip:a@b", `"From Name" <sip:a@b>;tag=1`, nil, "From Name"},
		{"", "sip:a@b", "", map[string]string{"FROM": `Hdr Name <sip:a@b>`}, "Hdr Name"},
		{"", "sip:a@b", "", map[string]string{"f": `Compact <sip:a@b>`}, "Compact"},
		{"", "sip:a@b", "sip:a@b", nil, ""},
	}
	for _, tt := range tests {
		if got := displayNameFor(tt.display, tt.remote, tt.from, tt.headers); got != tt.want {
			t.Errorf("displayNameFor(%q, %q, %q) = %q, want %q", tt.display, tt.remote, tt.from, got, tt.want)
		}
	}
}

func TestHeaderValue(t *testing.T) {
	h := map[string]string{"call-id": "x@y", "S": "hello", "Empty": " "}
	if got := headerValue(h, "Call-ID", "i"); got != "x@y" {
		t.Errorf("Call-ID = %q", got)
	}
	if got := headerValue(h, "Subject", "s"); got != "hello" {
		t.Errorf("Subject = %q", got)
	}
	if got := headerValue(h, "Empty", "Missing"); got != "" {
		t.Errorf("Empty = %q", got)
	}
}

func TestNormalizeTarget(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"sip:bob@example.com", "sip:bob@example.com", true},
		{"  sip:bob@example.com  ", "sip:bob@example.com", true},
		{"bob@example.com", "bob@example.com", true},
		{"100", "100", true},
		{"sip:bob@example.com;transport=tcp", "sip:bob@example.com;transport=tcp", true},
		{`"Bob" <sip:bob@example.com>`, "sip:bob@example.com", true},
		{`Bob <sip:bob@example.com>`, "sip:bob@example.com", true},
		{"", "", false},
		{"   ", "", false},
		{"sip:bob@example.com\r\nX-Evil: 1", "", false},
		{"sip:bob@example.com\n", "", false},
		{"sip:b\x00ob@example.com", "", false},
		{"sip:bob@exa mple.com", "", false},
		{`sip:"bob"@example.com`, "", false},
		{"<sip:bob@example.com", "", false},
		{"sip:" + strings.Repeat("a", sipaddr.MaxTargetLen), "", false},
		{"host:5060", "", false},
		{"http://example.com", "", false},
		{"tel:+15550100", "tel:+15550100", true},
	}
	for _, tt := range tests {
		got, err := NormalizeTarget(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("NormalizeTarget(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("NormalizeTarget(%q) error %v does not wrap ErrInvalidTarget", tt.in, err)
		}
	}
}
