package sipaddr

import (
	"errors"
	"strings"
	"testing"
)

func TestIsDTMF(t *testing.T) {
	for _, r := range "0123456789*#ABCDabcd" {
		if !IsDTMF(r) {
			t.Errorf("IsDTMF(%q) = false", r)
		}
	}
	for _, r := range "EeFf ,pPw+-.\x00\n0\u0660１" {
		if r != '0' && IsDTMF(r) {
			t.Errorf("IsDTMF(%q) = true", r)
		}
	}
}

func TestParseDTMF(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"123*#abcd", "123*#ABCD", ""},
		{"0", "0", ""},
		{"D", "D", ""},
		{"", "", "no digits"},
		{"12e", "", `invalid digit 'e' in "12e" (want 0-9 * # A-D)`},
		{"1 2", "", `invalid digit ' '`},
		{"1,2", "", `invalid digit ','`},
		{"1p2", "", `invalid digit 'p'`},
		{"1\n", "", `invalid digit '\n'`},
	}
	for _, tt := range tests {
		got, err := ParseDTMF(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalidDTMF) {
				t.Errorf("ParseDTMF(%q) = %q, %v; want an ErrInvalidDTMF containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDTMF(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestDTMFEvents pins the RFC 4733 §3.2 table both ways.
func TestDTMFEvents(t *testing.T) {
	tests := []struct {
		digit rune
		code  uint8
	}{
		{'0', 0}, {'5', 5}, {'9', 9}, {'*', 10}, {'#', 11}, {'A', 12}, {'B', 13}, {'C', 14}, {'D', 15},
	}
	for _, tt := range tests {
		if code, ok := DTMFEvent(tt.digit); !ok || code != tt.code {
			t.Errorf("DTMFEvent(%q) = %d, %v; want %d", tt.digit, code, ok, tt.code)
		}
		if d, ok := DTMFDigit(tt.code); !ok || d != tt.digit {
			t.Errorf("DTMFDigit(%d) = %q, %v; want %q", tt.code, d, ok, tt.digit)
		}
	}
	if code, ok := DTMFEvent('c'); !ok || code != 14 {
		t.Errorf("DTMFEvent('c') = %d, %v; want 14", code, ok)
	}
	for _, r := range []rune{'E', 'p', ',', -1, 0, 0x10c, 'ç'} {
		if _, ok := DTMFEvent(r); ok {
			t.Errorf("DTMFEvent(%q) ok", r)
		}
	}
	for _, c := range []uint8{16, 255} {
		if _, ok := DTMFDigit(c); ok {
			t.Errorf("DTMFDigit(%d) ok", c)
		}
	}
}

// FuzzParseDTMF checks that ParseDTMF never panics, that what it accepts is
// made of digits with event codes, and that it is idempotent.
func FuzzParseDTMF(f *testing.F) {
	for _, s := range []string{"123*#abcd", "", "1,2", "\xff", "D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDTMF(s)
		if err != nil {
			return
		}
		for _, r := range d {
			code, ok := DTMFEvent(r)
			if back, _ := DTMFDigit(code); !ok || back != r {
				t.Fatalf("ParseDTMF(%q) = %q: digit %q has no event code", s, d, r)
			}
		}
		if again, err := ParseDTMF(d); err != nil || again != d {
			t.Fatalf("ParseDTMF(%q) = %q, then %q, %v", s, d, again, err)
		}
	})
}
