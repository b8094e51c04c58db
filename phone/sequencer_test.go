package phone

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// runAll enters every number at once on its own goroutine (as sipgo hands
// requests to handlers) and returns the order in which they ran and the
// numbers refused.
func runAll(s *sequencer, seqs []uint32) (ran, refused []uint32) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range seqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !s.enter(n) {
				mu.Lock()
				refused = append(refused, n)
				mu.Unlock()
				return
			}
			mu.Lock()
			ran = append(ran, n)
			mu.Unlock()
			time.Sleep(time.Millisecond) // answering takes a moment
			s.leave(n)
		}()
	}
	wg.Wait()
	return ran, refused
}

func TestSequencerOrder(t *testing.T) {
	cases := []struct {
		name    string
		start   uint32 // 0: the remote's number is not known yet
		seqs    []uint32
		ran     []uint32
		refused []uint32
	}{
		{"in order after the INVITE", 1, []uint32{2, 3, 4, 5, 6, 7}, []uint32{2, 3, 4, 5, 6, 7}, nil},
		{"reversed", 1, []uint32{7, 6, 5, 4, 3, 2}, []uint32{2, 3, 4, 5, 6, 7}, nil},
		{"shuffled", 10, []uint32{13, 11, 15, 12, 14}, []uint32{11, 12, 13, 14, 15}, nil},
		{"first request of the remote (UAC side)", 0, []uint32{102, 100, 101}, []uint32{100, 101, 102}, nil},
		{"a gap is waited for, then skipped", 1, []uint32{4, 3}, []uint32{3, 4}, nil},
		{"lower than processed is refused", 5, []uint32{3}, nil, []uint32{3}},
		{"the same number again is processed", 5, []uint32{5}, []uint32{5}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s sequencer
			if tc.start != 0 {
				s.start(tc.start)
			}
			ran, refused := runAll(&s, tc.seqs)
			if !slices.Equal(ran, tc.ran) {
				t.Errorf("ran %v, want %v", ran, tc.ran)
			}
			slices.Sort(refused)
			if !slices.Equal(refused, tc.refused) {
				t.Errorf("refused %v, want %v", refused, tc.refused)
			}
		})
	}
}

// TestSequencerLateLower: a request numbered below one that already ran
// (it waited its window for the lower one, which came later) is refused.
func TestSequencerLateLower(t *testing.T) {
	var s sequencer
	s.start(1)
	if !s.enter(3) { // waits reorderWindow for 2, then runs
		t.Fatal("3 refused")
	}
	s.leave(3)
	if s.enter(2) {
		t.Fatal("2 ran after 3")
	}
	if !s.enter(4) {
		t.Fatal("4 refused")
	}
	s.leave(4)
}
