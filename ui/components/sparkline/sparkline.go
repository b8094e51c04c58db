// Package sparkline draws a one-line chart of recent samples with the eight
// block characters ▁▂▃▄▅▆▇█.
package sparkline

import (
	"strings"
	"time"
)

var blocks = []rune("▁▂▃▄▅▆▇█")

// Sample is one timed value.
type Sample struct {
	At    time.Time
	Value float64
}

// Series keeps the samples of the last Window, oldest first. It is a value:
// Add returns a new Series and leaves the receiver untouched.
type Series struct {
	Window  time.Duration
	samples []Sample
}

// Add appends a sample taken at t and drops those older than the window.
func (s Series) Add(t time.Time, v float64) Series {
	keep := make([]Sample, 0, len(s.samples)+1)
	for _, x := range s.samples {
		if s.Window <= 0 || t.Sub(x.At) < s.Window {
			keep = append(keep, x)
		}
	}
	s.samples = append(keep, Sample{At: t, Value: v})
	return s
}

// Values returns the values kept, oldest first.
func (s Series) Values() []float64 {
	out := make([]float64, len(s.samples))
	for i, x := range s.samples {
		out[i] = x.Value
	}
	return out
}

// Render draws the last width values scaled between lo and hi (values outside
// are clamped). It returns "" for no values.
func Render(values []float64, width int, lo, hi float64) string {
	if width <= 0 || len(values) == 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	var b strings.Builder
	for _, v := range values {
		f := 0.0
		if hi > lo {
			f = (v - lo) / (hi - lo)
		}
		f = min(max(f, 0), 1)
		b.WriteRune(blocks[int(f*float64(len(blocks)-1)+0.5)])
	}
	return b.String()
}
