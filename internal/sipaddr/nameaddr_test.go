package sipaddr

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNameAddr(t *testing.T) {
	tests := []struct {
		name, in string
		want     NameAddr
		wantErr  string
	}{
		{"quoted", `"Alice Smith" <sip:alice@example.com>`, NameAddr{"Alice Smith", "sip:alice@example.com", ""}, ""},
		{"quoted with params", `"Alice" <sip:alice@example.com;transport=tcp>;tag=abc`, NameAddr{"Alice", "sip:alice@example.com;transport=tcp", "tag=abc"}, ""},
		{"quoted-pairs", `"Alice \"Al\" O\\Neil" <sip:a@b>`, NameAddr{`Alice "Al" O\Neil`, "sip:a@b", ""}, ""},
		{"no space before <", `"Bob"<sip:bob@b>`, NameAddr{"Bob", "sip:bob@b", ""}, ""},
		{"utf-8", `"Zoë Ångström" <sips:zoe@example.org>`, NameAddr{"Zoë Ångström", "sips:zoe@example.org", ""}, ""},
		{"empty quoted", `"" <sip:anon@b>`, NameAddr{"", "sip:anon@b", ""}, ""},
		{"brackets inside quotes", `"a <b> c" <sip:x@y>`, NameAddr{"a <b> c", "sip:x@y", ""}, ""},
		{"controls kept in quotes", "\"M\x1b[2J\" <sip:m@evil>", NameAddr{"M\x1b[2J", "sip:m@evil", ""}, ""},
		{"unquoted words", "  Bob \t Jones   <sip:bob@example.com>  ", NameAddr{"Bob Jones", "sip:bob@example.com", ""}, ""},
		{"angle only", `<sip:carol@example.com>;tag=1`, NameAddr{"", "sip:carol@example.com", "tag=1"}, ""},
		{"params with spaces", `<sip:c@d> ; tag=1 ; x="a b"`, NameAddr{"", "sip:c@d", `tag=1 ; x="a b"`}, ""},
		{"bare addr-spec", `sip:dave@example.com;tag=9`, NameAddr{"", "sip:dave@example.com", "tag=9"}, ""},
		{"bare addr-spec space before ;", `sip:dave@example.com ;tag=9`, NameAddr{"", "sip:dave@example.com", "tag=9"}, ""},
		{"tel", `tel:+15551234`, NameAddr{"", "tel:+15551234", ""}, ""},
		{"other scheme", `"SOS" <urn:service:sos>`, NameAddr{"SOS", "urn:service:sos", ""}, ""},

		{"empty", ``, NameAddr{}, "empty"},
		{"blank", " \t ", NameAddr{}, "empty"},
		{"unterminated quote", `"Alice <sip:a@b>`, NameAddr{}, "unterminated"},
		{"trailing backslash", `"abc\`, NameAddr{}, "unterminated"},
		{"quoted name only", `"Alice"`, NameAddr{}, "no <address>"},
		{"unterminated angle", `Bob <sip:bob@b`, NameAddr{}, "missing '>'"},
		{"empty angle", `Bob <>`, NameAddr{}, "empty address"},
		{"words only", `hello world`, NameAddr{}, "no scheme"},
		{"quote in unquoted name", `Bo"b <sip:b@c>`, NameAddr{}, "quote"},
		{"junk after >", `<sip:a@b> x`, NameAddr{}, "unexpected"},
		{"space in uri", `<sip:a b@c>`, NameAddr{}, "must not contain spaces"},
		{"bad sip uri", `<sip:a@b:0>`, NameAddr{}, `port "0"`},
		{"control in bare uri", "sip:a@b\r\nVia: x", NameAddr{}, "control characters"},
		{"control in params", "<sip:a@b>;tag=1\r\nVia: x", NameAddr{}, "control characters"},
		{"space in other scheme", `<urn:a b>`, NameAddr{}, "not allowed in the address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNameAddr(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidNameAddr) || got != (NameAddr{}) {
					t.Fatalf("ParseNameAddr(%q) = %+v, %v; want an empty NameAddr and an ErrInvalidNameAddr containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseNameAddr(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNameAddrString(t *testing.T) {
	tests := []struct {
		a    NameAddr
		want string
	}{
		{NameAddr{URI: "sip:a@b"}, "<sip:a@b>"},
		{NameAddr{Display: "Bob", URI: "sip:b@c", Params: "tag=1"}, `"Bob" <sip:b@c>;tag=1`},
		{NameAddr{Display: `Al "the pal" \o/`, URI: "sip:a@b"}, `"Al \"the pal\" \\o/" <sip:a@b>`},
		{NameAddr{Display: "Mal\r\nVia: x\x1b\u009b", URI: "sip:m@e"}, `"Mal  Via: x  " <sip:m@e>`},
		{NameAddr{Display: "bad \xff", URI: "sip:m@e"}, "\"bad \uFFFD\" <sip:m@e>"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestEscapeQuoted(t *testing.T) {
	for in, want := range map[string]string{"": "", "plain": "plain", `a"b`: `a\"b`, `a\b`: `a\\b`, `\"`: `\\\"`} {
		if got := EscapeQuoted(in); got != want {
			t.Errorf("EscapeQuoted(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseNameAddr checks that ParseNameAddr never panics, never lets a
// control character, space, quote or bracket into the address, and reads
// back what String writes when the display name is valid header text.
func FuzzParseNameAddr(f *testing.F) {
	for _, s := range []string{
		`"A \"B\"" <sip:a@b>;tag=1`, `A B <sip:x@y>`, `<sip:z@h>`, `sip:q@h;x`, `"`, `\`, "<\x00>",
		`"x" <urn:a:b>`, `<tel:+1;a=b>;x="y z"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseNameAddr(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidNameAddr) || a != (NameAddr{}) {
				t.Fatalf("ParseNameAddr(%q) = %+v, %v", s, a, err)
			}
			return
		}
		if a.URI == "" || strings.ContainsAny(a.URI, " \t\r\n\x00<>\"") {
			t.Fatalf("ParseNameAddr(%q): address %q", s, a.URI)
		}
		if CheckText(a.Params) != nil {
			t.Fatalf("ParseNameAddr(%q): params %q", s, a.Params)
		}
		out := a.String()
		if CheckText(out) != nil {
			t.Fatalf("String() = %q holds control characters", out)
		}
		if CheckText(a.Display) != nil {
			return
		}
		back, err := ParseNameAddr(out)
		if err != nil || back != a {
			t.Fatalf("ParseNameAddr(%q) = %+v; its String %q reads back as %+v, %v", s, a, out, back, err)
		}
	})
}
