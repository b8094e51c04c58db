package metrics

import "github.com/teaphone/teaphone/sessions"

// endedMemory is how many ended calls a Metrics remembers, so that a late
// event of one is not counted as a new call.
const endedMemory = 1024

// endedSet remembers the last n call IDs added, oldest forgotten first.
type endedSet struct {
	ids  map[sessions.CallID]struct{}
	ring []sessions.CallID
	next int
}

func newEndedSet(n int) endedSet {
	return endedSet{ids: make(map[sessions.CallID]struct{}, n), ring: make([]sessions.CallID, n)}
}

func (s *endedSet) has(id sessions.CallID) bool {
	_, ok := s.ids[id]
	return ok
}

func (s *endedSet) add(id sessions.CallID) {
	if s.has(id) {
		return
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % len(s.ring)
	s.ids[id] = struct{}{}
}
