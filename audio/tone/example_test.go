package tone_test

import (
	"fmt"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/tone"
)

func ExampleNewDTMF() {
	g, err := tone.NewDTMF('7', 100*time.Millisecond, 100*time.Millisecond)
	if err != nil {
		panic(err)
	}
	var played []int16
	frame := make([]int16, audio.FrameSamples)
	for g.ReadFrame(frame) == nil { // io.EOF after 200 ms
		played = append(played, frame...)
	}
	fmt.Println(len(played)/audio.FrameSamples, "frames:", analyze.DetectDTMF(played, audio.SampleRate))
	// Output: 10 frames: 7
}
