package sessions

import "sync"

// subscriberBuffer is the capacity of a subscriber's channel; the queue in
// front of it is unbounded up to the subscriber limit.
const subscriberBuffer = 16

// Subscription is one consumer of the Manager's events (the TUI, the
// JSON-lines printer, a script's expect). Each subscription has its own
// queue and delivery goroutine, so a slow subscriber never blocks the
// Manager, SIP or the other subscribers. Call and other state events are
// never dropped; media events are coalesced per call (latest wins) while
// they wait. A subscriber that falls more than the limit behind (see
// WithSubscriberLimit) is cut off: its channel is closed and Err reports
// ErrSlowSubscriber.
type Subscription struct {
	c      chan Event
	done   chan struct{} // closed by Close or a cut-off
	exited chan struct{} // closed when the delivery goroutine ends
	signal chan struct{} // capacity 1: "the queue changed"
	once   sync.Once
	detach func(*Subscription)
	limit  int

	mu       sync.Mutex
	q        []*queued
	head     int
	media    map[CallID]*queued // undelivered media event per call
	lastSeq  uint64             // sequence of the last queued non-media event
	seq      uint64
	finished bool // no more events will come: deliver the rest, then close
	err      error
}

type queued struct {
	ev   Event
	seq  uint64
	dead bool // superseded media event
}

func newSubscription(limit int, detach func(*Subscription)) *Subscription {
	return &Subscription{
		c:      make(chan Event, subscriberBuffer),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		signal: make(chan struct{}, 1),
		detach: detach,
		limit:  limit,
		media:  make(map[CallID]*queued),
	}
}

// C returns the channel events are delivered on, in publication order. It is
// closed after Close, after the Manager is closed, after the phone's event
// stream ends (once everything queued was delivered), or on a cut-off.
func (s *Subscription) C() <-chan Event { return s.c }

// Close stops delivery, discards what is queued and waits for the delivery
// goroutine to end. It is idempotent and safe to call from any goroutine.
func (s *Subscription) Close() {
	s.stop(nil)
	if s.detach != nil {
		s.detach(s)
	}
	<-s.exited
}

// Err returns ErrSlowSubscriber if the subscription was cut off, else nil.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// stop ends the subscription with err (nil for a normal close).
func (s *Subscription) stop(err error) {
	s.once.Do(func() {
		s.mu.Lock()
		s.err = err
		s.q, s.head = nil, 0
		clear(s.media)
		s.mu.Unlock()
		close(s.done)
	})
}

// push queues ev. It never blocks on the reader. It returns false when the
// subscriber is over its limit; the caller then cuts it off.
func (s *Subscription) push(ev Event) bool {
	s.mu.Lock()
	if s.finished || s.isDone() {
		s.mu.Unlock()
		return true
	}
	s.seq++
	if me, ok := ev.(MediaEvent); ok {
		if old := s.media[me.CallID]; old != nil {
			if old.seq > s.lastSeq {
				// Nothing but media queued since: replace in place.
				old.ev = ev
				s.mu.Unlock()
				return true
			}
			// Keep the order with state events: supersede and append.
			old.dead = true
		}
		it := &queued{ev: ev, seq: s.seq}
		s.media[me.CallID] = it
		s.q = append(s.q, it)
	} else {
		s.lastSeq = s.seq
		s.q = append(s.q, &queued{ev: ev, seq: s.seq})
	}
	over := s.limit > 0 && len(s.q)-s.head > s.limit
	s.mu.Unlock()
	if over {
		return false
	}
	s.wake()
	return true
}

// finish marks the end of the stream: the goroutine delivers what is queued
// and then closes C.
func (s *Subscription) finish() {
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription) wake() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *Subscription) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// run delivers queued events to C until the subscription stops.
func (s *Subscription) run() {
	defer close(s.exited)
	defer close(s.c)
	for {
		ev, ok := s.next()
		if !ok {
			return
		}
		select {
		case s.c <- ev:
		case <-s.done:
			return
		}
	}
}

// next waits for the next live event; ok is false when delivery must end.
func (s *Subscription) next() (Event, bool) {
	for {
		s.mu.Lock()
		for s.head < len(s.q) {
			it := s.q[s.head]
			s.q[s.head] = nil
			s.head++
			if it.dead {
				continue
			}
			if me, ok := it.ev.(MediaEvent); ok && s.media[me.CallID] == it {
				delete(s.media, me.CallID)
			}
			s.mu.Unlock()
			return it.ev, true
		}
		s.q, s.head = s.q[:0], 0
		finished := s.finished
		s.mu.Unlock()
		if finished {
			return nil, false
		}
		select {
		case <-s.signal:
		case <-s.done:
			return nil, false
		}
	}
}
