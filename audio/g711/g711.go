// Package g711 implements ITU-T G.711 µ-law (PCMU) and A-law (PCMA)
// companding between 16-bit linear PCM and 8-bit codes.
//
// The conversion follows the ITU-T G.711 segment/quantisation rules as
// written in Sun Microsystems' public-domain g711.c, which is also what sox
// uses: a 16-bit sample is first rounded to the nearest 14-bit (µ-law) or
// 13-bit (A-law) value, halves up and clipped at the positive end, exactly as
// sox's SOX_SAMPLE_TO_SIGNED(14 or 13, …) does, then compressed.
// Output is bit-exact with sox (with dithering disabled, sox -D) for every
// 16-bit input and every 8-bit code; the tests check this.
//
// The slice functions never allocate and never fail: they convert
// min(len(dst), len(src)) samples and return that count, so a 20 ms frame is
// converted with
//
//	n := g711.EncodeUlaw(payload[:audio.FrameSamples], frame)
//
// All conversions are table lookups (tables built at package init from the
// reference algorithm: 256 entries per decoder, 16385 for the µ-law encoder
// and 8193 for A-law), which benchmarked faster than the segment search.
package g711

// Bit layout shared by both laws (G.711 §2, Sun g711.c).
const (
	signBit   = 0x80 // sign bit of a code
	quantMask = 0x0f // quantisation field
	segShift  = 4    // left shift of the segment number
	segMask   = 0x70 // segment field

	ulawBias = 0x84 // bias added before µ-law segment search (on the 16-bit scale)
	ulawClip = 8159 // largest 14-bit magnitude µ-law represents
)

// Segment end points: the largest magnitude each segment holds.
var (
	ulawSegEnd = [8]int{0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff} // 14-bit scale
	alawSegEnd = [8]int{0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff}   // 13-bit scale
)

// Lookup tables. The encoders are indexed by the rounded 14-bit (µ-law) or
// 13-bit (A-law) sample offset to be non-negative (see ulawIndex and
// alawIndex); the extra last entry is the positive value that rounding
// pushes one step past the largest representable one.
var (
	ulawEncTable [1<<14 + 1]byte
	alawEncTable [1<<13 + 1]byte
	ulawDecTable [256]int16
	alawDecTable [256]int16
)

func init() {
	for i := range ulawEncTable {
		ulawEncTable[i] = ulawCompress14(min(i-1<<13, 1<<13-1))
	}
	for i := range alawEncTable {
		alawEncTable[i] = alawCompress13(min(i-1<<12, 1<<12-1))
	}
	for i := range 256 {
		ulawDecTable[i] = ulawExpand(byte(i))
		alawDecTable[i] = alawExpand(byte(i))
	}
}

// segment returns the index of the first segment whose end point is >= v,
// or 8 when v is beyond the last one.
func segment(v int, ends *[8]int) int {
	for i, e := range ends {
		if v <= e {
			return i
		}
	}
	return 8
}

// ulawCompress14 is the reference µ-law encoder for a 14-bit sample
// (the 16-bit sample shifted right arithmetically by 2).
func ulawCompress14(v int) byte {
	mask := byte(0xff)
	if v < 0 {
		v = -v
		mask = 0x7f
	}
	if v > ulawClip {
		v = ulawClip
	}
	v += ulawBias >> 2
	seg := segment(v, &ulawSegEnd)
	if seg >= 8 {
		return 0x7f ^ mask
	}
	return (byte(seg<<segShift) | byte(v>>(seg+1))&quantMask) ^ mask
}

// alawCompress13 is the reference A-law encoder for a 13-bit sample
// (the 16-bit sample shifted right arithmetically by 3).
func alawCompress13(v int) byte {
	mask := byte(0xd5) // sign bit set, even bits inverted
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := segment(v, &alawSegEnd)
	if seg >= 8 {
		return 0x7f ^ mask
	}
	a := byte(seg << segShift)
	if seg < 2 {
		a |= byte(v>>1) & quantMask
	} else {
		a |= byte(v>>seg) & quantMask
	}
	return a ^ mask
}

// ulawExpand is the reference µ-law decoder.
func ulawExpand(u byte) int16 {
	u = ^u
	t := (int(u&quantMask) << 3) + ulawBias
	t <<= (u & segMask) >> segShift
	if u&signBit != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

// alawExpand is the reference A-law decoder.
func alawExpand(a byte) int16 {
	a ^= 0x55
	t := int(a&quantMask) << 4
	switch seg := (a & segMask) >> segShift; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&signBit != 0 {
		return int16(t)
	}
	return int16(-t)
}

// ulawIndex rounds s to 14 bits (half up) and offsets it into 0..16384.
func ulawIndex(s int16) uint32 { return (uint32(uint16(s)^0x8000) + 2) >> 2 }

// alawIndex rounds s to 13 bits (half up) and offsets it into 0..8192.
func alawIndex(s int16) uint32 { return (uint32(uint16(s)^0x8000) + 4) >> 3 }

// LinearToUlaw encodes one 16-bit linear sample as a µ-law code.
func LinearToUlaw(s int16) byte { return ulawEncTable[ulawIndex(s)] }

// UlawToLinear decodes one µ-law code to a 16-bit linear sample.
func UlawToLinear(u byte) int16 { return ulawDecTable[u] }

// LinearToAlaw encodes one 16-bit linear sample as an A-law code.
func LinearToAlaw(s int16) byte { return alawEncTable[alawIndex(s)] }

// AlawToLinear decodes one A-law code to a 16-bit linear sample.
func AlawToLinear(a byte) int16 { return alawDecTable[a] }

// EncodeUlaw encodes linear samples from src into µ-law codes in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func EncodeUlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = ulawEncTable[ulawIndex(s)]
	}
	return n
}

// DecodeUlaw decodes µ-law codes from src into linear samples in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func DecodeUlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, u := range src {
		dst[i] = ulawDecTable[u]
	}
	return n
}

// EncodeAlaw encodes linear samples from src into A-law codes in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func EncodeAlaw(dst []byte, src []int16) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, s := range src {
		dst[i] = alawEncTable[alawIndex(s)]
	}
	return n
}

// DecodeAlaw decodes A-law codes from src into linear samples in dst and
// returns the number of samples converted, min(len(dst), len(src)).
func DecodeAlaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, a := range src {
		dst[i] = alawDecTable[a]
	}
	return n
}
