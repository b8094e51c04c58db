//go:build unix

package bench

import (
	"container/heap"
	"math/rand/v2"
	"time"
)

// impairment is what the relay does to RTP in each direction: drop each
// packet with probability Loss, delay each other one by a uniform random
// time in [0, Jitter) (so packets overtake each other, as on a real path
// with jitter). Seed fixes both random streams, so two calls through relays
// with the same impairment see the same loss and delay per packet index.
type impairment struct {
	Loss   float64
	Jitter time.Duration
	Seed   uint64
}

func (im impairment) String() string {
	return formatCell(im.Loss, im.Jitter)
}

// impairer draws the fate of each packet of one direction. Loss and delay
// come from separate streams: the loss pattern does not depend on the
// jitter setting, so the 3 % cells with and without jitter lose the same
// packets.
type impairer struct {
	loss   float64
	jitter time.Duration
	lossR  *rand.Rand
	delayR *rand.Rand
}

// newImpairer returns the impairer of direction dir (0 or 1) of im.
func newImpairer(im impairment, dir uint64) *impairer {
	return &impairer{
		loss:   im.Loss,
		jitter: im.Jitter,
		lossR:  rand.New(rand.NewPCG(im.Seed, 2*dir)),
		delayR: rand.New(rand.NewPCG(im.Seed, 2*dir+1)),
	}
}

// next returns whether the next packet is dropped and, if not, its delay.
// Both streams advance once per packet, dropped or not.
func (p *impairer) next() (drop bool, delay time.Duration) {
	drop = p.lossR.Float64() < p.loss
	u := p.delayR.Float64()
	if p.jitter > 0 {
		delay = time.Duration(u * float64(p.jitter))
	}
	return drop, delay
}

// delayQueue holds delayed packets in order of their due time (ties in
// order of arrival).
type delayQueue []queued

type queued struct {
	due time.Time
	seq uint64
	pkt []byte
}

func (q delayQueue) Len() int { return len(q) }
func (q delayQueue) Less(i, j int) bool {
	if q[i].due.Equal(q[j].due) {
		return q[i].seq < q[j].seq
	}
	return q[i].due.Before(q[j].due)
}
func (q delayQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *delayQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *delayQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (q *delayQueue) add(due time.Time, seq uint64, pkt []byte) {
	heap.Push(q, queued{due: due, seq: seq, pkt: pkt})
}

// popDue removes and returns the earliest packet if it is due at now.
func (q *delayQueue) popDue(now time.Time) ([]byte, bool) {
	if len(*q) == 0 || (*q)[0].due.After(now) {
		return nil, false
	}
	return heap.Pop(q).(queued).pkt, true
}

// nextDue is the due time of the earliest packet (ok false when empty).
func (q delayQueue) nextDue() (time.Time, bool) {
	if len(q) == 0 {
		return time.Time{}, false
	}
	return q[0].due, true
}
