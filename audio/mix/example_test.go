package mix_test

import (
	"fmt"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/mix"
)

// A sound-card callback writes frames; the media clock reads them.
func ExampleRing() {
	r := mix.NewRing(3, audio.FrameSamples, mix.OverwriteOldest)
	frame := make([]int16, audio.FrameSamples)
	for i := range 5 { // the reader stalled: the two oldest frames are lost
		frame[0] = int16(i)
		r.Write(frame)
	}
	for r.Read(frame) {
		fmt.Print(frame[0], " ")
	}
	fmt.Println("dropped:", r.Dropped())
	// Output: 2 3 4 dropped: 2
}
