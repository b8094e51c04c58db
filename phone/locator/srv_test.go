package locator

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestOrderSRV(t *testing.T) {
	tests := []struct {
		name string
		recs []srv
		draw int // what intN returns (clamped to n-1)
		want []string
	}{
		{"empty", nil, 0, nil},
		{"priority first", []srv{{priority: 2, weight: 100, target: "b"}, {priority: 1, weight: 0, target: "a"}}, 0, []string{"a", "b"}},
		{"weight 0 goes first on a draw of 0", []srv{{weight: 10, target: "w"}, {weight: 0, target: "z"}}, 0, []string{"z", "w"}},
		{"a draw past 0 skips weight 0", []srv{{weight: 10, target: "w"}, {weight: 0, target: "z"}}, 1, []string{"w", "z"}},
		{"highest draw takes the last", []srv{{weight: 1, target: "a"}, {weight: 1, target: "b"}, {weight: 1, target: "c"}}, math.MaxInt, []string{"c", "b", "a"}},
		{"all weight 0 keep their order", []srv{{target: "a"}, {target: "b"}, {target: "c"}}, math.MaxInt, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.recs)
			got := orderSRV(tt.recs, func(n int) int { return min(tt.draw, n-1) })
			var names []string
			for _, r := range got {
				names = append(names, r.target)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("got %q, want %q", names, tt.want)
			}
			if !slices.Equal(in, tt.recs) {
				t.Errorf("input modified: %v", tt.recs)
			}
		})
	}
}

// Over many draws each record of a priority comes first as often as RFC
// 2782's rule makes it: weight/(total+1), and 1/(total+1) for a weight-0
// record; a higher priority never comes before a lower one.
func TestOrderSRVDistribution(t *testing.T) {
	recs := []srv{
		{priority: 20, weight: 10, target: "e"},
		{priority: 10, weight: 60, target: "a"},
		{priority: 10, weight: 20, target: "b"},
		{priority: 20, weight: 0, target: "d"},
		{priority: 10, weight: 20, target: "c"},
		{priority: 10, weight: 0, target: "z"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const draws = 20000
	firstOf := map[string]int{}  // first of priority 10
	secondOf := map[string]int{} // first of priority 20
	for range draws {
		got := orderSRV(recs, rng.IntN)
		for i, r := range got {
			if want := uint16(10); i >= 4 {
				want = 20
				if r.priority != want {
					t.Fatalf("position %d has priority %d: %v", i, r.priority, got)
				}
			} else if r.priority != want {
				t.Fatalf("position %d has priority %d: %v", i, r.priority, got)
			}
		}
		firstOf[got[0].target]++
		secondOf[got[4].target]++
	}
	check := func(counts map[string]int, target string, want float64) {
		t.Helper()
		got := float64(counts[target]) / draws
		if math.Abs(got-want) > 0.015 {
			t.Errorf("%s first %.3f of the time, want %.3f", target, got, want)
		}
	}
	check(firstOf, "a", 60.0/101)
	check(firstOf, "b", 20.0/101)
	check(firstOf, "c", 20.0/101)
	check(firstOf, "z", 1.0/101)
	check(secondOf, "e", 10.0/11)
	check(secondOf, "d", 1.0/11)
}

// FuzzOrderSRV: any records and any draws give a permutation ordered by
// priority.
func FuzzOrderSRV(f *testing.F) {
	f.Add([]byte{0, 10, 0, 60, 0, 10, 0, 20, 0, 20, 0, 0}, []byte{7, 3, 250})
	f.Add([]byte{}, []byte{})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0}, []byte{255})
	f.Fuzz(func(t *testing.T, spec, draws []byte) {
		var recs []srv
		for i := 0; i+4 <= len(spec) && len(recs) < 64; i += 4 {
			recs = append(recs, srv{
				priority: uint16(spec[i])<<8 | uint16(spec[i+1]),
				weight:   uint16(spec[i+2])<<8 | uint16(spec[i+3]),
				target:   string(rune('a' + len(recs)%26)),
				port:     uint16(len(recs)),
			})
		}
		k := 0
		intN := func(n int) int {
			if n <= 0 {
				t.Fatalf("intN(%d)", n)
			}
			v := 0
			if len(draws) > 0 {
				v = int(draws[k%len(draws)]) * 7919
				k++
			}
			return v % n
		}
		got := orderSRV(recs, intN)
		if len(got) != len(recs) {
			t.Fatalf("%d records in, %d out", len(recs), len(got))
		}
		seen := map[uint16]bool{}
		for i, r := range got {
			if seen[r.port] {
				t.Fatalf("record %d twice", r.port)
			}
			seen[r.port] = true
			if i > 0 && got[i-1].priority > r.priority {
				t.Fatalf("priority %d before %d", got[i-1].priority, r.priority)
			}
		}
	})
}
