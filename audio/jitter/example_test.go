package jitter_test

import (
	"fmt"
	"time"

	"github.com/teaphone/teaphone/audio/jitter"
)

// A receive path: packets 0–4 of a 20 ms stream, packet 2 lost, played by a
// clock ticking every 20 ms.
func Example() {
	jb := jitter.New()
	var plc jitter.Concealer
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	payload := make([]byte, 160)
	buf := make([]byte, 160)
	pcm := make([]int16, 160)

	for tick := range 6 {
		now := start.Add(time.Duration(tick) * 20 * time.Millisecond)
		if seq := uint16(tick); seq < 5 && seq != 2 {
			jb.Push(seq, uint32(seq)*160, 0xbeef, seq == 0, payload, now)
		}
		n, st := jb.Pop(now, buf)
		switch st {
		case jitter.Frame:
			_ = buf[:n] // decode into pcm
			plc.Good(pcm)
		case jitter.Lost:
			plc.Conceal(pcm)
		default:
			clear(pcm) // silence or comfort noise
			plc.Good(pcm)
		}
		fmt.Println(tick, st)
	}
	s := jb.Stats()
	fmt.Println("played", s.Played, "lost", s.Lost, "delay", s.CurrentDelay)
	// Output:
	// 0 buffering
	// 1 frame
	// 2 frame
	// 3 lost
	// 4 frame
	// 5 frame
	// played 4 lost 1 delay 20ms
}
