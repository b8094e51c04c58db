package jitter

import (
	"testing"
	"time"
)

// FuzzBuffer drives a Buffer with a push/pop script decoded from the input:
// mostly a plausible stream (loss, reordering, duplicates, jitter, wraps),
// with jumps, SSRC changes, bad payloads, Skips, clock jumps and Resets mixed
// in.
// Pop must never return more than len(dst) and the counters must add up.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0, 1, 2, 0, 3, 0, 0})
	f.Add([]byte{9, 255, 250, 0, 0, 0, 0, 2, 9, 3, 4, 0, 1, 4, 200, 3, 8, 0, 0, 0, 0, 3, 0, 0, 3, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 3, 0, 0, 5, 7, 7, 0, 0, 0, 3, 0, 0, 6, 1, 0, 3, 0, 0, 4, 99, 98, 3, 0, 0})
	f.Add([]byte{2, 128, 0, 0, 4, 0, 0, 4, 0, 3, 0, 0, 0, 4, 0, 6, 3, 0, 3, 1, 0, 7, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		b := New(WithCapacity(int(data[0]%80)), WithMinDelay(time.Duration(data[0]%3)*20*ms))
		seq := uint16(data[1])<<8 | uint16(data[2])
		ts := uint32(seq) * 7919
		ssrc := uint32(1)
		var now time.Duration
		payload := make([]byte, 300)
		dst := make([]byte, 200)
		push := func(s uint16, t32 uint32, marker bool, size int, at time.Duration) {
			r := b.Push(s, t32, ssrc, marker, payload[:size], t0.Add(at))
			if r <= PushUnknown || r > Invalid {
				t.Fatalf("Push returned %v", r)
			}
		}
		for data = data[3:]; len(data) >= 3; data = data[3:] {
			op, x, y := data[0], data[1], data[2]
			switch op % 8 {
			case 0, 1, 2: // the next packets, some lost, reordered or duplicated
				d := int(x%6) - 1 // -1 … 4
				s := seq + uint16(d)
				if d > 0 {
					seq = s
					ts += uint32(d) * 160
				}
				push(s, ts-uint32(int(seq-s))*160, x&0x80 != 0, 160, now+time.Duration(y)*ms)
			case 3: // a playout tick, on time give or take a few ms
				now += 20*ms + time.Duration(int(x%9)-4)*ms
				m := int(y) % len(dst)
				n, st := b.Pop(t0.Add(now), dst[:m])
				if n < 0 || n > m || (st != Frame && n != 0) || (st == Frame && m > 0 && n == 0) || st <= PopUnknown || st > Buffering {
					t.Fatalf("Pop = %d, %v with len(dst) %d", n, st, m)
				}
			case 4: // anything: jumps and strays
				seq2 := seq + uint16(x)<<8 | uint16(y)
				push(seq2, ts+uint32(y)<<16|uint32(x), false, 160, now)
				if x&1 == 1 {
					seq, ts = seq2, ts+uint32(y)<<16|uint32(x)
				}
			case 5: // a new source
				ssrc += uint32(x)
				seq, ts = uint16(y)<<8, uint32(x)<<24
				push(seq, ts, true, 160, now)
			case 6: // bad payloads, odd timing
				switch x % 4 {
				case 0:
					push(seq+1, ts+160, false, 161+int(y)%100, now)
				case 1:
					push(seq+1, ts+160, false, 0, now)
				case 2:
					seq++
					ts += 80
					push(seq, ts, false, 80, now)
				case 3:
					now += time.Duration(y) * 100 * ms // the clock jumps
				}
			case 7: // comfort noise or a telephone-event, or a Reset
				if x == 0 {
					b.Reset()
					break
				}
				s := seq + uint16(x%5)
				if x%5 != 0 && x&0x80 != 0 {
					seq = s // it takes the next numbers
				}
				if r := b.Skip(s, ssrc+uint32(y%2)); r <= PushUnknown || r > Invalid || r == Reset {
					t.Fatalf("Skip returned %v", r)
				}
			}
			checkInvariants(t, b, b.Stats())
		}
	})
}
