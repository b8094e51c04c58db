package wav

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// headerSize is the size of the canonical 44-byte PCM header the Writer emits.
const headerSize = 44

// writeBufSize is the size of the writer's staging buffer in bytes.
const writeBufSize = 8192

// Writer streams interleaved 16-bit PCM samples into a WAV file. The header
// is written first with the sizes set to 0xFFFFFFFF (which readers treat as
// "until the end of the file", so a file cut off by a crash stays readable)
// and patched by Flush and Close.
type Writer struct {
	w        io.WriteSeeker
	closer   io.Closer // set by Create
	channels int
	rate     int
	written  int64 // data bytes written to w (excluding buf)
	buf      []byte
	n        int // bytes staged in buf
	err      error
}

// NewWriter writes a 16-bit PCM WAV header to w (at its current position,
// normally 0) and returns a Writer for rate Hz and the given channel count.
// Close patches the header but does not close w.
func NewWriter(w io.WriteSeeker, rate, channels int) (*Writer, error) {
	if channels < 1 || channels > MaxChannels {
		return nil, fmt.Errorf("%w: %d channels", ErrUnsupported, channels)
	}
	if rate < 1 || rate > 1_000_000 {
		return nil, fmt.Errorf("%w: sample rate %d", ErrUnsupported, rate)
	}
	wr := &Writer{w: w, rate: rate, channels: channels, buf: make([]byte, writeBufSize)}
	h := wr.header(unknownSize)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("wav: write header: %w", err)
	}
	return wr, nil
}

// Create creates (or truncates) the file at path and returns a Writer on
// it; Close also closes the file.
func Create(path string, rate, channels int) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, rate, channels)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.closer = f
	return w, nil
}

// header builds the 44-byte header for dataLen data bytes (unknownSize
// while streaming).
func (wr *Writer) header(dataLen uint32) [headerSize]byte {
	var h [headerSize]byte
	le := binary.LittleEndian
	riffLen := uint32(unknownSize)
	if dataLen != unknownSize {
		riffLen = dataLen + headerSize - 8
	}
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], riffLen)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], uint16(FormatPCM))
	le.PutUint16(h[22:], uint16(wr.channels))
	le.PutUint32(h[24:], uint32(wr.rate))
	le.PutUint32(h[28:], uint32(wr.rate*wr.channels*2))
	le.PutUint16(h[32:], uint16(wr.channels*2))
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataLen)
	return h
}

// Rate returns the sample rate in Hz.
func (wr *Writer) Rate() int { return wr.rate }

// Channels returns the number of interleaved channels.
func (wr *Writer) Channels() int { return wr.channels }

// Len returns the number of sample frames (samples per channel) written so far.
func (wr *Writer) Len() int64 { return (wr.written + int64(wr.n)) / int64(2*wr.channels) }

// WriteFrames appends interleaved samples (channel 0, channel 1, … for each
// sample frame). len(samples) must be a multiple of Channels. Samples are
// staged in an internal buffer, so most calls do no I/O and none allocates.
func (wr *Writer) WriteFrames(samples []int16) error {
	if wr.err != nil {
		return wr.err
	}
	if len(samples)%wr.channels != 0 {
		return fmt.Errorf("wav: write %d samples: not a multiple of %d channels", len(samples), wr.channels)
	}
	if wr.written+int64(wr.n)+2*int64(len(samples)) > math.MaxUint32-headerSize {
		return ErrTooLarge
	}
	for len(samples) > 0 {
		k := min(len(samples), (len(wr.buf)-wr.n)/2)
		b := wr.buf[wr.n : wr.n+2*k]
		for i, s := range samples[:k] {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
		}
		wr.n += 2 * k
		samples = samples[k:]
		if wr.n == len(wr.buf) {
			if err := wr.drain(); err != nil {
				return err
			}
		}
	}
	return nil
}

// drain writes the staged bytes to w.
func (wr *Writer) drain() error {
	if wr.n == 0 {
		return nil
	}
	k, err := wr.w.Write(wr.buf[:wr.n])
	wr.written += int64(k)
	if err != nil {
		wr.err = fmt.Errorf("wav: write: %w", err)
		return wr.err
	}
	wr.n = 0
	return nil
}

// Flush writes staged samples and patches the header sizes, so the file is
// complete as of now; writing can continue afterwards.
func (wr *Writer) Flush() error {
	if wr.err != nil {
		return wr.err
	}
	if err := wr.drain(); err != nil {
		return err
	}
	return wr.patch()
}

// patch rewrites the header with the current size and returns to the end.
func (wr *Writer) patch() error {
	end, err := wr.w.Seek(0, io.SeekCurrent)
	if err == nil {
		h := wr.header(uint32(wr.written))
		_, err = wr.w.Seek(end-wr.written-headerSize, io.SeekStart)
		if err == nil {
			_, err = wr.w.Write(h[:])
		}
		if err == nil {
			_, err = wr.w.Seek(end, io.SeekStart)
		}
	}
	if err != nil {
		wr.err = fmt.Errorf("wav: patch header: %w", err)
	}
	return wr.err
}

// Close flushes, patches the header and, for a Writer made by Create,
// closes the file. Further writes return ErrClosed.
func (wr *Writer) Close() error {
	if wr.err == ErrClosed {
		return nil
	}
	err := wr.Flush()
	if wr.closer != nil {
		if cerr := wr.closer.Close(); err == nil {
			err = cerr
		}
	}
	wr.err = ErrClosed
	return err
}
