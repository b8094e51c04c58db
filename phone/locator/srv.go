package locator

import (
	"cmp"
	"slices"
)

// srv is the part of an SRV record that decides where to go.
type srv struct {
	priority, weight, port uint16
	target                 string
}

// orderSRV returns recs in the order to try them.
//
// RFC 2782 "Usage rules": lowest priority first; within one priority, a
// weighted random draw — all records with weight 0 placed at the beginning
// of the list, a running sum of weights kept alongside, a number drawn
// uniformly from 0 to the total weight inclusive, and the first record whose
// running sum is greater than or equal to that number taken next; the draw
// is repeated on what is left. A weight-0 record is therefore taken first
// only when the draw is 0, and records that all have weight 0 keep the
// order they came in.
//
// intN returns a number in [0, n); recs is not modified.
func orderSRV(recs []srv, intN func(n int) int) []srv {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b srv) int {
		if c := cmp.Compare(a.priority, b.priority); c != 0 {
			return c
		}
		// Weight 0 first within a priority, as the rule asks.
		return cmp.Compare(min(a.weight, 1), min(b.weight, 1))
	})
	for start := 0; start < len(out); {
		end := start + 1
		for end < len(out) && out[end].priority == out[start].priority {
			end++
		}
		drawByWeight(out[start:end], intN)
		start = end
	}
	return out
}

// drawByWeight reorders one priority's records in place by repeated
// weighted draws (RFC 2782), moving each record drawn to the front of what
// is left.
func drawByWeight(group []srv, intN func(n int) int) {
	for i := 0; i < len(group)-1; i++ {
		total := 0
		for _, r := range group[i:] {
			total += int(r.weight)
		}
		n := intN(total + 1)
		sum := 0
		for j := i; j < len(group); j++ {
			sum += int(group[j].weight)
			if sum >= n {
				// Keep the others' relative order (weight 0 first).
				drawn := group[j]
				copy(group[i+1:j+1], group[i:j])
				group[i] = drawn
				break
			}
		}
	}
}
