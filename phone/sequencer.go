package phone

import (
	"sync"
	"time"
)

// reorderWindow is how long a request waits for in-dialog requests with a
// lower CSeq that are still on their way through the stack. sipgo runs each
// request's handler on a goroutine of its own, so two requests that arrived
// back to back (SIP INFO digits, RFC 3261 allows a new non-INVITE request
// before the previous one is answered) reach us in either order, a few
// microseconds apart. A real gap in the numbers (a request lost on the way)
// costs this much delay once.
const reorderWindow = 50 * time.Millisecond

// sequencer runs the requests the remote sends inside one dialog one at a
// time, in CSeq order (RFC 3261 §12.2.2).
//
// A request enters with its CSeq number and waits until it is next: its
// number follows the last one processed, or it is the lowest waiting and has
// waited reorderWindow. A request numbered below the last one processed is
// out of order and refused (the caller answers 500). ACK and CANCEL carry
// the number of the request they belong to and do not enter.
type sequencer struct {
	mu      sync.Mutex
	last    uint32 // the remote's last CSeq processed (valid when known)
	known   bool   // false until the first number is known
	busy    bool   // a request is being processed
	waiting []*seqWaiter
}

type seqWaiter struct {
	seq     uint32
	overdue bool // it has waited reorderWindow
	turn    chan struct{}
}

// start sets the remote's sequence number from the dialog-creating request
// (RFC 3261 §12.1.1: the UAS takes it from the INVITE's CSeq).
func (s *sequencer) start(seq uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known {
		s.last, s.known = seq, true
	}
}

// enter waits for seq's turn and reports true, or reports false at once
// when seq is lower than a number already processed. After true the caller
// must call leave when it has answered the request.
func (s *sequencer) enter(seq uint32) bool {
	s.mu.Lock()
	if s.known && seq < s.last {
		s.mu.Unlock()
		return false
	}
	w := &seqWaiter{seq: seq, turn: make(chan struct{})}
	i := 0
	for i < len(s.waiting) && s.waiting[i].seq <= seq {
		i++
	}
	s.waiting = append(s.waiting, nil)
	copy(s.waiting[i+1:], s.waiting[i:])
	s.waiting[i] = w
	s.nextLocked()
	s.mu.Unlock()

	timer := time.NewTimer(reorderWindow)
	defer timer.Stop()
	select {
	case <-w.turn:
	case <-timer.C:
		s.mu.Lock()
		w.overdue = true
		s.nextLocked()
		s.mu.Unlock()
		<-w.turn
	}
	return true
}

// leave ends the turn of seq and lets the next request run.
func (s *sequencer) leave(seq uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known || seq > s.last {
		s.last = seq
	}
	s.known = true
	s.busy = false
	s.nextLocked()
}

// nextLocked gives the turn to the lowest waiting request when nothing runs
// and it is next in line or has waited long enough.
func (s *sequencer) nextLocked() {
	if s.busy || len(s.waiting) == 0 {
		return
	}
	w := s.waiting[0]
	inLine := s.known && (w.seq <= s.last+1)
	if !inLine && !w.overdue {
		return
	}
	s.waiting = s.waiting[1:]
	s.busy = true
	close(w.turn)
}
