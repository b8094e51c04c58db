package sipaddr

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{"", ""},
		{"Alice Smith", ""},
		{"Zoë \u202e Ångström", ""},
		{"tab\tis LWS", ""},
		{"Alice\r\nX-Evil: 1", "must not contain CR, LF or other control characters (found U+000D)"},
		{"a\nb", "(found U+000A)"},
		{"nul\x00", "(found U+0000)"},
		{"esc\x1b[2J", "(found U+001B)"},
		{"del\x7f", "(found U+007F)"},
		{"c1\u0085", "(found U+0085)"},
		{"csi\u009b", "(found U+009B)"},
		{"bad \xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		err := CheckText(tt.in)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckText(%q) = %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidText) {
			t.Errorf("CheckText(%q) = %v; want an ErrInvalidText containing %q", tt.in, err, tt.wantErr)
		}
	}
}

// FuzzCheckText checks that accepted text never holds what would end a
// header line.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"a", "a\r\nb", "\u0085", "\xff", "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckText(s) == nil && strings.ContainsAny(s, "\r\n\x00") {
			t.Fatalf("CheckText accepted %q", s)
		}
	})
}
