package sparkline

import (
	"slices"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	tests := []struct {
		values []float64
		width  int
		want   string
	}{
		{nil, 10, ""},
		{[]float64{1, 2, 3}, 0, ""},
		{[]float64{0, 0.5, 1}, 10, "▁▅█"},
		{[]float64{-5, 9}, 10, "▁█"},
		{[]float64{0, 1, 0, 1}, 2, "▁█"},
		{[]float64{3, 3}, 5, "██"},
	}
	for _, tc := range tests {
		if got := Render(tc.values, tc.width, 0, 1); got != tc.want {
			t.Errorf("Render(%v, %d) = %q, want %q", tc.values, tc.width, got, tc.want)
		}
	}
}

func TestSeriesWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Series{Window: time.Minute}
	a := s.Add(t0, 1)
	b := a.Add(t0.Add(30*time.Second), 2)
	c := b.Add(t0.Add(61*time.Second), 3)
	if got := c.Values(); !slices.Equal(got, []float64{2, 3}) {
		t.Errorf("values %v", got)
	}
	if got := b.Values(); !slices.Equal(got, []float64{1, 2}) {
		t.Errorf("Add changed an earlier series: %v", got)
	}
}
