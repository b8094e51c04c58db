package rulesyntax

import (
	"strings"
	"testing"
	"time"
)

func TestParseHours(t *testing.T) {
	tests := []struct {
		in         string
		start, end int
		err        string
	}{
		{"18:00-08:00", 18 * 60, 8 * 60, ""},
		{"09:30-17:00", 9*60 + 30, 17 * 60, ""},
		{" 9:00 - 12:00 ", 9 * 60, 12 * 60, ""},
		{"22:00-24:00", 22 * 60, 24 * 60, ""},
		{"00:00-24:00", 0, 0, "every hour"},
		{"08:00-08:00", 0, 0, "every hour"},
		{"24:00-08:00", 0, 0, "out of range"},
		{"18:00", 0, 0, "want \"HH:MM-HH:MM\""},
		{"18:60-19:00", 0, 0, "out of range"},
		{"6pm-8am", 0, 0, "want a time HH:MM"},
		{"18:0-19:00", 0, 0, "want a time HH:MM"},
	}
	for _, tt := range tests {
		s, e, err := ParseHours(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseHours(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || s != tt.start || e != tt.end {
			t.Errorf("ParseHours(%q) = %d, %d, %v; want %d, %d", tt.in, s, e, err, tt.start, tt.end)
		}
	}
}

func TestParseWeekday(t *testing.T) {
	for in, want := range map[string]time.Weekday{"mon": time.Monday, "SUN": time.Sunday, "Friday": time.Friday, " sat ": time.Saturday} {
		if got, err := ParseWeekday(in); err != nil || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "mo", "sonntag", "7"} {
		if _, err := ParseWeekday(in); err == nil {
			t.Errorf("ParseWeekday(%q) accepted", in)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, value string
		want        bool
	}{
		{"sip:alice@*", "SIP:Alice@example.com", true},
		{"*udp*", "SIP/2.0/UDP 10.0.0.2", true},
		{"q3?q4", "Q3/Q4", true},
		{"[a-c]*", "bob", true},
		{"[a-c]*", "dave", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := Glob(tt.glob, tt.value); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v", tt.glob, tt.value, got)
		}
	}
}

func TestHeaderPatterns(t *testing.T) {
	for _, bad := range [][2]string{{"", "x"}, {"X Y", "x"}, {"X:", "x"}, {"X", "["}, {"X", "re:("}, {"X", "re:a{2000}"}} {
		if err := CheckHeaderPattern(bad[0], bad[1]); err == nil {
			t.Errorf("CheckHeaderPattern(%q, %q) accepted", bad[0], bad[1])
		}
	}
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"urgent", " Urgent ", true},
		{"re:^urg", "urgent", true},
		{"re:^urg", "Urgent", false},
		{"re:(?i)^urg", "Urgent", true},
		{"re:ent", "urgent", true},
		{"re:(", "(", false},
	}
	for _, tt := range tests {
		if err := CheckHeaderPattern("X", tt.pattern); err != nil && !strings.HasPrefix(tt.pattern, "re:(") {
			t.Errorf("CheckHeaderPattern(%q) = %v", tt.pattern, err)
		}
		if got := HeaderMatcher(tt.pattern)(tt.value); got != tt.want {
			t.Errorf("HeaderMatcher(%q)(%q) = %v", tt.pattern, tt.value, got)
		}
	}
	for name, want := range map[string]string{"s": "subject", "Call-ID": "call-id", "I": "call-id", " X-Foo ": "x-foo"} {
		if got := CanonicalHeader(name); got != want {
			t.Errorf("CanonicalHeader(%q) = %q, want %q", name, got, want)
		}
	}
}

func BenchmarkHeaderMatcherRegexp(b *testing.B) {
	for b.Loop() {
		_ = HeaderMatcher("re:(?i)^(urgent|emergency)$")("Urgent")
	}
}
