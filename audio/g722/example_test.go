package g722_test

import (
	"fmt"
	"math"

	"github.com/teaphone/teaphone/audio/g722"
)

// One 20 ms frame of a 1 kHz tone through an Encoder and a Decoder: 320
// samples, 160 octets, 320 samples.
func Example() {
	frame := make([]int16, g722.FrameSamples)
	for i := range frame {
		frame[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/g722.SampleRate))
	}
	payload := make([]byte, g722.FrameBytes)
	n := g722.NewEncoder().Encode(payload, frame)

	decoded := make([]int16, g722.FrameSamples)
	m := g722.NewDecoder().Decode(decoded, payload[:n])
	fmt.Println(n, "octets,", m, "samples; RTP timestamp step", g722.FrameSamples*g722.RTPClockRate/g722.SampleRate)
	// Output:
	// 160 octets, 320 samples; RTP timestamp step 160
}
