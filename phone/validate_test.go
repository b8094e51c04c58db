package phone

import (
	"errors"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"sip:alice@example.com", "sip:alice@example.com"},
		{"SIPS:alice@example.com:5061;transport=tcp", "sips:alice@example.com:5061;transport=tcp"},
		{"alice@example.com", "sip:alice@example.com"},
		{"alice@example.com:5070", "sip:alice@example.com:5070"},
		{"sip:alice@[2001:db8::1]:5060", "sip:alice@[2001:db8::1]:5060"},
		{"", ""},
		{"1000", ""},
		{"tel:+15550100", ""},
		{"mailto:a@b", ""},
		{"sip:alice@example.com\r\nX: y", ""},
		{"sip:alice@example.com\tx", ""},
		{"<sip:alice@example.com>", ""},
		{"sip:alice@example.com:0", ""},
		{"sip:@example.com", ""},
	}
	for _, tt := range tests {
		u, err := ParseURI(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("ParseURI(%q) = %q, %v; want ErrInvalidInput", tt.in, u.String(), err)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("ParseURI(%q) = %q, %v; want %q", tt.in, u.String(), err, tt.want)
		}
	}
}

func TestResolveTarget(t *testing.T) {
	tests := []struct {
		in, domain, want string // want "" means refused
	}{
		{"1000", "pbx.example.com", "sip:1000@pbx.example.com"},
		{"*97#", "pbx.example.com:5080", "sip:*97%23@pbx.example.com:5080"},
		{"bob@example.com", "", "sip:bob@example.com"},
		{"sip:bob@example.com", "", "sip:bob@example.com"},
		{"tel:+1-555-0100", "gw.example.com", "sip:+1-555-0100@gw.example.com;user=phone"},
		{"tel:+1-555-0100", "", ""},
		{"1000", "", ""},
		{"host:5060", "pbx", ""},
		{"http://example.com", "pbx", ""},
		{"<sip:bob@example.com>", "pbx", ""},
		{"bob\n@example.com", "pbx", ""},
	}
	for _, tt := range tests {
		u, err := ResolveTarget(tt.in, tt.domain)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("ResolveTarget(%q, %q) = %q, %v; want ErrInvalidInput", tt.in, tt.domain, u.String(), err)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("ResolveTarget(%q, %q) = %q, %v; want %q", tt.in, tt.domain, u.String(), err, tt.want)
		}
	}
}

func TestHostPortOrURI(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"pbx.example.com", "sip:pbx.example.com"},
		{"pbx.example.com:5080", "sip:pbx.example.com:5080"},
		{"[2001:db8::1]:5060", "sip:[2001:db8::1]:5060"},
		{"sip:pbx.example.com;transport=tcp", "sip:pbx.example.com;transport=tcp"},
		{"alice@pbx", ""},
		{"pbx:0", ""},
		{"pbx;transport=tcp", ""},
		{"pbx\r\n", ""},
	}
	for _, tt := range tests {
		u, err := hostPortOrURI(tt.in)
		if tt.want == "" {
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("hostPortOrURI(%q) = %q, %v; want ErrInvalidInput", tt.in, u.String(), err)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("hostPortOrURI(%q) = %q, %v; want %q", tt.in, u.String(), err, tt.want)
		}
	}
}

func TestValidateText(t *testing.T) {
	for _, ok := range []string{"", "Alice", `Al "the pal" \o/`, "tab\tok", "Zoë"} {
		if err := ValidateDisplayName(ok); err != nil {
			t.Errorf("ValidateDisplayName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"A\r\nB", "nul\x00", "c1\u0085", "bad\xff"} {
		if err := ValidateDisplayName(bad); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("ValidateDisplayName(%q) = %v; want ErrInvalidInput", bad, err)
		}
	}
	if err := ValidateHeader("X-A", "1\n2"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ValidateHeader with LF = %v", err)
	}
	if err := ValidateHeader("X A", "1"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ValidateHeader with a space in the name = %v", err)
	}
}

// TestDisplayNameQuoted checks that a display name with quotes and
// backslashes is written as a valid quoted-string in From and To, and that
// sipgo reads back the same escaped text.
func TestDisplayNameQuoted(t *testing.T) {
	a, err := newAccount(Account{Name: "w", AOR: "sip:alice@example.com", DisplayName: `Al "the pal" \o/`})
	if err != nil {
		t.Fatal(err)
	}
	from := a.fromHeader()
	want := `"Al \"the pal\" \\o/" <sip:alice@example.com>`
	if got := from.Value(); !strings.HasPrefix(got, want) {
		t.Fatalf("From = %q, want it to start with %q", got, want)
	}
	var u sip.Uri
	var params sip.HeaderParams
	display, err := sip.ParseAddressValue(from.Value(), &u, &params)
	if err != nil || display != a.displayName() {
		t.Errorf("sipgo reads %q back as %q, %v; want %q", from.Value(), display, err, a.displayName())
	}
}
