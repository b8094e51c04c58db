package aec

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkProcess: ns/op is one 20 ms frame (echo filter with a 200 ms
// tail, residual echo and noise suppression), at 8, 16 and 48 kHz.
//
//	go test -run '^$' -bench . -benchmem ./audio/aec/
func BenchmarkProcess(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprintf("%dHz", rate), func(b *testing.B) {
			requireAEC(b)
			f := rate / 50
			c, err := New(rate, f, 200*time.Millisecond)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			far := farEndSpeech(rate, rate, 1)
			mic := make([]int16, len(far))
			for i, v := range far { // a plain 10 ms echo at half level
				if j := i + rate/100; j < len(mic) {
					mic[j] = v / 2
				}
			}
			out := make([]int16, f)
			frames := len(far) / f
			i := 0
			for b.Loop() {
				k := i % frames * f
				c.Process(out, mic[k:k+f], far[k:k+f])
				i++
			}
		})
	}
}
