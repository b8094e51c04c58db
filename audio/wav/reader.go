// Package wav reads and writes RIFF WAVE files.
//
// The Reader accepts integer PCM (8, 16, 24 and 32 bits), IEEE float (32 and
// 64 bits) and G.711 A-law/µ-law (format tags 6 and 7), plain or in
// WAVE_FORMAT_EXTENSIBLE form, with 1 to MaxChannels channels at any rate;
// every encoding is delivered as interleaved int16 samples. Anything else
// is refused with an error wrapping ErrUnsupported; damaged input gives an
// error (ErrNotWAV, ErrMalformed, ErrTruncated), never a panic.
//
// The Writer streams 16-bit PCM to an io.WriteSeeker and patches the header
// sizes on Flush and Close.
//
// Neither type is safe for concurrent use.
package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/teaphone/teaphone/audio/g711"
)

// MaxChannels is the largest channel count the Reader accepts.
const MaxChannels = 16

// unknownSize is the RIFF/data size streaming writers leave in the header
// when they cannot seek back to fill it in: read until the end of input.
const unknownSize = 0xffffffff

// readBufSize is the size of the reader's conversion buffer in bytes.
const readBufSize = 4096

// Reader decodes the samples of a WAV stream. Create it with Open or NewReader.
type Reader struct {
	src    io.Reader
	closer io.Closer // set by Open

	format     Format
	rate       int
	channels   int
	bits       int   // container bits per sample
	sampleSize int   // bytes per sample (one channel)
	frameSize  int   // bytes per sample frame (all channels)
	dataLen    int64 // data chunk length in bytes, -1 if unknown (read to EOF)

	seeker    io.Seeker // src as a seeker, or nil
	dataStart int64     // absolute offset of the first data byte (when seeker != nil)
	left      int64     // data bytes not yet consumed; -1 if unknown
	err       error     // sticky error (io.EOF at the end)
	buf       []byte
}

// Open opens the WAV file at path and reads its header. Close the Reader
// to close the file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// NewReader reads the WAV header from r and returns a Reader positioned at
// the first sample. If r is also an io.Seeker, unknown chunks are skipped by
// seeking and Rewind works.
func NewReader(r io.Reader) (*Reader, error) {
	wr := &Reader{src: r, dataLen: -1, left: -1}
	var pos int64
	if s, ok := r.(io.Seeker); ok {
		if p, err := s.Seek(0, io.SeekCurrent); err == nil {
			wr.seeker, pos = s, p
		}
	}
	if err := wr.readHeader(pos); err != nil {
		return nil, err
	}
	return wr, nil
}

// readHeader parses chunks up to the start of "data"; pos is the current
// offset of src.
func (r *Reader) readHeader(pos int64) error {
	var hdr [12]byte
	n, err := io.ReadFull(r.src, hdr[:])
	if err != nil {
		if n == 0 && err == io.EOF {
			return fmt.Errorf("%w: empty input", ErrNotWAV)
		}
		if n < 4 || string(hdr[:4]) != "RIFF" {
			return ErrNotWAV
		}
		return fmt.Errorf("%w: header cut short", ErrTruncated)
	}
	pos += 12
	switch string(hdr[:4]) {
	case "RIFF":
	case "RIFX":
		return fmt.Errorf("%w: big-endian RIFX", ErrUnsupported)
	case "RF64":
		return fmt.Errorf("%w: RF64 (files over 4 GiB)", ErrUnsupported)
	default:
		return ErrNotWAV
	}
	if string(hdr[8:12]) != "WAVE" {
		return fmt.Errorf("%w: RIFF form %q is not WAVE", ErrNotWAV, hdr[8:12])
	}

	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r.src, ch[:]); err != nil {
			if !haveFmt {
				return fmt.Errorf("%w: no fmt chunk", ErrMalformed)
			}
			return fmt.Errorf("%w: no data chunk", ErrMalformed)
		}
		pos += 8
		id, size := string(ch[:4]), binary.LittleEndian.Uint32(ch[4:])
		switch id {
		case "fmt ":
			if haveFmt {
				return fmt.Errorf("%w: two fmt chunks", ErrMalformed)
			}
			if size < 16 || size > 1024 {
				return fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformed, size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(r.src, b); err != nil {
				return fmt.Errorf("%w: fmt chunk cut short", ErrTruncated)
			}
			pos += int64(len(b))
			if err := r.parseFmt(b[:size]); err != nil {
				return err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformed)
			}
			if size != unknownSize {
				r.dataLen = int64(size)
			}
			r.left = r.dataLen
			r.dataStart = pos
			bufLen := readBufSize - readBufSize%r.frameSize
			if bufLen == 0 {
				bufLen = r.frameSize
			}
			r.buf = make([]byte, bufLen)
			return nil
		default:
			skip := int64(size) + int64(size&1)
			if err := r.skip(skip); err != nil {
				return fmt.Errorf("%w: chunk %q cut short", ErrTruncated, ch[:4])
			}
			pos += skip
		}
	}
}

// skip discards n bytes of src.
func (r *Reader) skip(n int64) error {
	if r.seeker != nil {
		cur, err := r.seeker.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		end, err := r.seeker.Seek(0, io.SeekEnd)
		if err != nil {
			return err
		}
		if cur+n > end {
			return io.ErrUnexpectedEOF
		}
		_, err = r.seeker.Seek(cur+n, io.SeekStart)
		return err
	}
	got, err := io.CopyN(io.Discard, r.src, n)
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// GUID tail shared by the KSDATAFORMAT_SUBTYPE_* sub-formats.
var subformatTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}

func (r *Reader) parseFmt(b []byte) error {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:])
	channels := int(le.Uint16(b[2:]))
	rate := le.Uint32(b[4:])
	bits := int(le.Uint16(b[14:]))
	if tag == formatExtensible {
		if len(b) < 40 || le.Uint16(b[16:]) < 22 {
			return fmt.Errorf("%w: extensible fmt chunk too short", ErrMalformed)
		}
		if !bytes.Equal(b[26:40], subformatTail) {
			return fmt.Errorf("%w: extensible sub-format %x", ErrUnsupported, b[24:40])
		}
		tag = le.Uint16(b[24:])
	}
	switch f := Format(tag); f {
	case FormatPCM:
		if bits != 8 && bits != 16 && bits != 24 && bits != 32 {
			return fmt.Errorf("%w: %d-bit pcm", ErrUnsupported, bits)
		}
	case FormatFloat:
		if bits != 32 && bits != 64 {
			return fmt.Errorf("%w: %d-bit float", ErrUnsupported, bits)
		}
	case FormatAlaw, FormatUlaw:
		if bits != 8 {
			return fmt.Errorf("%w: %d-bit %s", ErrUnsupported, bits, f)
		}
	default:
		return fmt.Errorf("%w: format tag %#04x (only pcm, float, a-law, mu-law)", ErrUnsupported, tag)
	}
	if channels < 1 || channels > MaxChannels {
		return fmt.Errorf("%w: %d channels", ErrUnsupported, channels)
	}
	if rate == 0 || rate > 1_000_000 {
		return fmt.Errorf("%w: sample rate %d", ErrUnsupported, rate)
	}
	r.format = Format(tag)
	r.rate = int(rate)
	r.channels = channels
	r.bits = bits
	r.sampleSize = bits / 8
	r.frameSize = r.sampleSize * channels
	return nil
}

// Rate returns the sample rate in Hz.
func (r *Reader) Rate() int { return r.rate }

// Channels returns the number of interleaved channels.
func (r *Reader) Channels() int { return r.channels }

// Format returns the file's sample encoding.
func (r *Reader) Format() Format { return r.format }

// BitsPerSample returns the stored size of one sample in bits.
func (r *Reader) BitsPerSample() int { return r.bits }

// Len returns the number of sample frames (samples per channel) the header
// announces, or -1 when the writer left the size unknown.
func (r *Reader) Len() int64 {
	if r.dataLen < 0 {
		return -1
	}
	return r.dataLen / int64(r.frameSize)
}

// Duration returns Len as a duration, or -1 when the length is unknown.
func (r *Reader) Duration() time.Duration {
	n := r.Len()
	if n < 0 {
		return -1
	}
	return time.Duration(n) * time.Second / time.Duration(r.rate)
}

// ReadSamples decodes up to len(dst) interleaved samples into dst and
// returns how many it stored, always a whole number of sample frames
// (a multiple of Channels). At the end of the data it returns 0, io.EOF; if
// the file was cut short it returns ErrTruncated after the last whole frame.
// A dst shorter than one frame gives io.ErrShortBuffer.
func (r *Reader) ReadSamples(dst []int16) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	frames := len(dst) / r.channels
	if frames == 0 {
		if len(dst) == 0 {
			return 0, nil
		}
		return 0, io.ErrShortBuffer
	}
	want := min(frames*r.frameSize, len(r.buf))
	if r.left >= 0 && int64(want) > r.left {
		want = int(r.left) - int(r.left)%r.frameSize
		if want == 0 {
			if r.left > 0 {
				r.err = fmt.Errorf("%w: data chunk ends inside a sample frame", ErrMalformed)
			} else {
				r.err = io.EOF
			}
			return 0, r.err
		}
	}
	got, err := io.ReadFull(r.src, r.buf[:want])
	if r.left >= 0 {
		r.left -= int64(got)
	}
	got -= got % r.frameSize
	n := r.decode(dst, r.buf[:got])
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		if r.left < 0 {
			r.err = io.EOF // unknown length: end of input is the end
		} else {
			r.err = fmt.Errorf("%w: %d data bytes missing", ErrTruncated, r.left)
		}
	default:
		r.err = err
	}
	if n == 0 && r.err != nil {
		return 0, r.err
	}
	return n, nil
}

// decode converts whole sample frames in b into dst and returns the sample count.
func (r *Reader) decode(dst []int16, b []byte) int {
	n := len(b) / r.sampleSize
	dst = dst[:n]
	switch {
	case r.format == FormatPCM && r.bits == 16:
		for i := range dst {
			dst[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case r.format == FormatPCM && r.bits == 8:
		for i := range dst {
			dst[i] = int16(b[i]-0x80) << 8
		}
	case r.format == FormatPCM: // 24 or 32: keep the top 16 bits
		for i := range dst {
			j := (i+1)*r.sampleSize - 2
			dst[i] = int16(binary.LittleEndian.Uint16(b[j:]))
		}
	case r.format == FormatFloat && r.bits == 32:
		for i := range dst {
			dst[i] = floatToInt16(float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))))
		}
	case r.format == FormatFloat:
		for i := range dst {
			dst[i] = floatToInt16(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case r.format == FormatAlaw:
		g711.DecodeAlaw(dst, b)
	case r.format == FormatUlaw:
		g711.DecodeUlaw(dst, b)
	}
	return n
}

// floatToInt16 scales [-1, 1) to int16 with rounding and saturation.
func floatToInt16(f float64) int16 {
	v := math.Round(f * 32768)
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v != v: // NaN
		return 0
	}
	return int16(v)
}

// Rewind moves back to the first sample. It needs a seekable input
// (always the case for Open).
func (r *Reader) Rewind() error {
	if r.seeker == nil {
		return errors.New("wav: rewind: input is not seekable")
	}
	if errors.Is(r.err, ErrClosed) {
		return ErrClosed
	}
	if _, err := r.seeker.Seek(r.dataStart, io.SeekStart); err != nil {
		return fmt.Errorf("wav: rewind: %w", err)
	}
	r.left, r.err = r.dataLen, nil
	return nil
}

// Close closes the file opened by Open; for a NewReader it only marks the
// Reader closed.
func (r *Reader) Close() error {
	if errors.Is(r.err, ErrClosed) {
		return nil
	}
	r.err = ErrClosed
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// ReadFile reads a whole WAV file and returns its interleaved samples,
// sample rate and channel count. For a truncated file it returns the
// samples before the cut together with an error wrapping ErrTruncated.
func ReadFile(path string) (samples []int16, rate, channels int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	samples, rate, channels, err = Decode(b)
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return samples, rate, channels, err
}

// Decode is ReadFile for a WAV file already in memory.
func Decode(b []byte) (samples []int16, rate, channels int, err error) {
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0, err
	}
	// The input size bounds the allocation, whatever the header claims.
	remain := int64(len(b)) - r.dataStart
	if r.dataLen >= 0 {
		remain = min(remain, r.dataLen)
	}
	// One spare frame leaves room to observe the end of data.
	samples = make([]int16, 0, max(remain, 0)/int64(r.sampleSize)+int64(r.channels))
	for {
		n, err := r.ReadSamples(samples[len(samples):cap(samples)])
		samples = samples[:len(samples)+n]
		if err == io.EOF {
			return samples, r.rate, r.channels, nil
		}
		if err != nil {
			return samples, r.rate, r.channels, err
		}
		if n == 0 { // cannot happen given the bound above, but never spin
			return samples, r.rate, r.channels, fmt.Errorf("%w: more data than the file holds", ErrMalformed)
		}
	}
}
