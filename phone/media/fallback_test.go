package media

import (
	"os"
	"time"
)

// fixedPlayout is a small fixed-delay jitter buffer used by the tests when
// audio/jitter is not available.
type fixedPlayout struct {
	slots    [32]fpSlot
	next     uint16
	started  bool
	count    int
	ssrc     uint32
	haveSSRC bool
	prefetch int
}

type fpSlot struct {
	ok   bool
	seq  uint16
	n    int
	data [256]byte
}

func newFixedPlayout() PlayoutBuffer { return &fixedPlayout{prefetch: 2} }

func (b *fixedPlayout) reset() {
	*b = fixedPlayout{prefetch: b.prefetch}
}

func (b *fixedPlayout) Push(seq uint16, _ uint32, ssrc uint32, _ bool, payload []byte, _ time.Time) {
	if b.haveSSRC && ssrc != b.ssrc {
		b.reset()
	}
	b.ssrc, b.haveSSRC = ssrc, true
	if b.started {
		d := int16(seq - b.next)
		if d < 0 {
			return // late
		}
		if int(d) >= len(b.slots) {
			b.reset()
			b.ssrc, b.haveSSRC = ssrc, true
		}
	}
	if !b.started && (b.count == 0 || int16(seq-b.next) < 0) {
		b.next = seq
	}
	s := &b.slots[int(seq)%len(b.slots)]
	if s.ok && s.seq == seq {
		return
	}
	if !s.ok {
		b.count++
	}
	s.ok, s.seq = true, seq
	s.n = copy(s.data[:], payload)
}

func (b *fixedPlayout) Pop(_ time.Time, dst []byte) (int, PlayoutStatus) {
	if !b.started {
		if b.count < b.prefetch {
			return 0, PlayoutBuffering
		}
		b.started = true
	}
	if b.count == 0 {
		b.started = false
		return 0, PlayoutEmpty
	}
	s := &b.slots[int(b.next)%len(b.slots)]
	seq := b.next
	b.next++
	if s.ok && s.seq == seq {
		s.ok = false
		b.count--
		return copy(dst, s.data[:s.n]), PlayoutFrame
	}
	return 0, PlayoutLost
}

func (b *fixedPlayout) Delay() time.Duration {
	return time.Duration(b.count) * 20 * time.Millisecond
}

// repeatConcealer repeats the last good frame at half level.
type repeatConcealer struct{ last [160]int16 }

func (c *repeatConcealer) Good(f []int16) { copy(c.last[:], f) }

func (c *repeatConcealer) Conceal(dst []int16) {
	for i := range dst {
		c.last[i%160] /= 2
		dst[i] = c.last[i%160]
	}
}

// testEngineOptions selects the playout implementation for the tests:
// the real audio/jitter one unless TEAPHONE_MEDIA_FALLBACK=1.
func testEngineOptions() []EngineOption {
	if os.Getenv("TEAPHONE_MEDIA_FALLBACK") != "1" {
		return nil
	}
	return []EngineOption{
		WithPlayout(newFixedPlayout),
		WithConcealer(func() Concealer { return &repeatConcealer{} }),
	}
}
