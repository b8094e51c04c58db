package phone

import (
	"fmt"
	"testing"
	"time"
)

func TestNewCallLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		src   string
		ms    int
		ok    bool
		retry time.Duration
	}
	tests := []struct {
		name        string
		rate        float64
		burst, maxN int
		steps       []step
	}{
		{"unlimited", 0, 1, 0, []step{{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0}}},
		{"burst then refused", 1, 2, 0, []step{
			{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, false, time.Second}, {"a", 500, false, 500 * time.Millisecond},
		}},
		{"refills at rate", 2, 1, 0, []step{
			{"a", 0, true, 0}, {"a", 100, false, 400 * time.Millisecond}, {"a", 500, true, 0}, {"a", 600, false, 400 * time.Millisecond},
		}},
		{"refill stops at burst", 10, 2, 0, []step{
			{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 10000, true, 0}, {"a", 10000, true, 0}, {"a", 10000, false, 100 * time.Millisecond},
		}},
		{"sources are apart", 1, 1, 0, []step{
			{"a", 0, true, 0}, {"a", 0, false, time.Second}, {"b", 0, true, 0}, {"b", 0, false, time.Second},
		}},
		{"full table: newcomers share a bucket", 1, 1, 2, []step{
			{"a", 0, true, 0}, {"b", 0, true, 0}, {"c", 0, true, 0}, {"d", 0, false, time.Second}, {"a", 0, false, time.Second},
		}},
		{"full table: refilled sources make room", 1, 1, 2, []step{
			{"a", 0, true, 0}, {"b", 0, true, 0}, {"c", 1000, true, 0}, {"d", 1000, true, 0}, {"e", 1000, true, 0}, {"f", 1000, false, time.Second},
		}},
		{"full table: swept once a second", 1, 1, 2, []step{
			{"a", 0, true, 0}, {"b", 0, true, 0}, {"c", 1000, true, 0}, {"d", 1000, true, 0},
			{"e", 1500, true, 0}, {"f", 1500, false, time.Second}, // c, d not swept yet: e and f share one bucket
			{"g", 2000, true, 0}, {"h", 2000, true, 0}, // the sweep at 2 s drops c and d
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newNewCallLimiter(tt.rate, tt.burst, tt.maxN)
			for i, s := range tt.steps {
				ok, retry := l.allow(s.src, at(s.ms))
				if ok != s.ok || retry != s.retry {
					t.Errorf("step %d (%s at %dms): allow = %v, %s; want %v, %s", i, s.src, s.ms, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
}

// TestNewCallLimiterBounded: twenty thousand sources in two seconds leave
// at most maxSources remembered.
func TestNewCallLimiterBounded(t *testing.T) {
	l := newNewCallLimiter(5, 10, 100)
	now := time.Now()
	for i := range 20000 {
		l.allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256), now.Add(time.Duration(i)*100*time.Microsecond))
	}
	if n := l.size(); n > 100 {
		t.Errorf("%d sources remembered, want at most 100", n)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {10 * time.Second, 10}} {
		if got := retryAfter(tt.wait); got != tt.want {
			t.Errorf("retryAfter(%s) = %d, want %d", tt.wait, got, tt.want)
		}
	}
}
