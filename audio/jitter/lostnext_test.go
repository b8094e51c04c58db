package jitter

import (
	"testing"
	"time"
)

func TestLostNext(t *testing.T) {
	b := New(WithMinDelay(40 * time.Millisecond))
	t0 := time.Unix(1000, 0)
	frame := 20 * time.Millisecond
	// Packets 0..9 except 4 arrive on time.
	for i := range 10 {
		if i == 4 {
			continue
		}
		b.Push(uint16(i), uint32(i*160), 7, i == 0, []byte{byte(i), 0xaa}, t0.Add(time.Duration(i)*frame))
	}
	dst := make([]byte, 16)
	var got []string
	for k := range 12 {
		n, st := b.Pop(t0.Add(time.Duration(k)*frame+45*time.Millisecond), dst)
		ln := b.LostNext(dst[8:])
		switch st {
		case Frame:
			if ln != 0 {
				t.Fatalf("pop %d played frame %d and LostNext gave %d bytes", k, dst[0], ln)
			}
			got = append(got, "f"+string('0'+rune(dst[0])))
			_ = n
		case Lost:
			if len(got) == 4 && (ln != 2 || dst[8] != 5) {
				t.Fatalf("pop %d lost frame 4: LostNext gave %d bytes %v, want packet 5's", k, ln, dst[8:8+ln])
			}
			if len(got) > 4 && ln != 0 {
				t.Fatalf("pop %d: underrun after the last packet, LostNext gave %d bytes", k, ln)
			}
			got = append(got, "lost")
		}
	}
	want := []string{"f0", "f1", "f2", "f3", "lost", "f5"}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("playout %v, want it to start %v", got, want)
		}
	}
}
