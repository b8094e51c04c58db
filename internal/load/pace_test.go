package load

import (
	"testing"
	"time"
)

func TestPacerTake(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name  string
		rate  float64
		ready []time.Time // when each call is ready (a slot is free)
		want  []time.Time // when it starts
	}{
		{"on time: spaced by 1/rate", 10, []time.Time{ms(0), ms(0), ms(0), ms(0)}, []time.Time{ms(0), ms(100), ms(200), ms(300)}},
		{"ready before its turn waits", 50, []time.Time{ms(0), ms(5), ms(30)}, []time.Time{ms(0), ms(20), ms(40)}},
		{"late call starts when ready, the next is spaced from it", 10,
			[]time.Time{ms(0), ms(250), ms(260), ms(400)}, []time.Time{ms(0), ms(250), ms(350), ms(450)}},
		{"no bursts to catch up", 100, []time.Time{ms(0), ms(500), ms(500), ms(500)}, []time.Time{ms(0), ms(500), ms(510), ms(520)}},
		{"fractional rate", 0.5, []time.Time{ms(0), ms(0)}, []time.Time{ms(0), ms(2000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPacer(tt.rate)
			for i, r := range tt.ready {
				if got := p.take(r); !got.Equal(tt.want[i]) {
					t.Errorf("call %d ready at %s: starts at %s, want %s", i, r.Sub(t0), got.Sub(t0), tt.want[i].Sub(t0))
				}
			}
		})
	}
}

func TestMore(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := t0.Add(time.Minute)
	tests := []struct {
		name  string
		n     int
		calls int
		at    time.Time
		end   time.Time
		want  bool
	}{
		{"calls left", 9, 10, t0, time.Time{}, true},
		{"calls done", 10, 10, t0, time.Time{}, false},
		{"before the end", 0, 0, end.Add(-time.Millisecond), end, true},
		{"at the end", 0, 0, end, end, false},
		{"both: the count first", 5, 5, t0, end, false},
		{"both: the time first", 1, 100, end.Add(time.Second), end, false},
		{"no limit", 1 << 20, 0, end, time.Time{}, true},
	}
	for _, tt := range tests {
		if got := more(tt.n, tt.calls, tt.at, tt.end); got != tt.want {
			t.Errorf("%s: more(%d, %d) = %v, want %v", tt.name, tt.n, tt.calls, got, tt.want)
		}
	}
}
