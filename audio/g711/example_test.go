package g711_test

import (
	"fmt"

	"github.com/teaphone/teaphone/audio/g711"
)

func ExampleEncodeUlaw() {
	frame := []int16{0, 1000, -1000, 32767}
	payload := make([]byte, len(frame))
	n := g711.EncodeUlaw(payload, frame)
	decoded := make([]int16, n)
	g711.DecodeUlaw(decoded, payload[:n])
	fmt.Printf("% x\n%v\n", payload, decoded)
	// Output:
	// ff ce 4e 80
	// [0 988 -988 32124]
}
