package sessions

import (
	"errors"
	"io"
	"sync"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/file"
)

// This file holds the media pass-through commands (play a WAV into a call,
// record a call), used by the headless scripts and the TUI.

// PlayFile plays the WAV file at path to the remote party of the call (what
// they hear instead of the default source) and returns at once; the call
// hears silence after the file's end. The file is opened first, so a missing
// or unreadable file is an error before anything changes.
func (m *Manager) PlayFile(id CallID, path string) error {
	_, err := m.StartPlayback(id, path)
	return err
}

// StartPlayback is PlayFile returning the Playback, whose Done channel tells
// when the file has been played to its end. Close it to stop early.
func (m *Manager) StartPlayback(id CallID, path string) (*Playback, error) {
	if _, err := m.resolve("play", id, false); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, opError("play", m.labelOf(id), errors.New("empty file name"))
	}
	src, err := file.OpenSource(path, false)
	if err != nil {
		return nil, opError("play", m.labelOf(id), err)
	}
	pb := newPlayback(src)
	if err := m.do("play", id, func(ph Phone, sid SessionID) error { return ph.SetSource(sid, pb) }); err != nil {
		_ = pb.Close()
		return nil, err
	}
	return pb, nil
}

// StopPlayback gives the call its default source back (the microphone in
// the TUI, silence headless).
func (m *Manager) StopPlayback(id CallID) error {
	return m.do("stop playing on", id, func(ph Phone, sid SessionID) error { return ph.SetSource(sid, nil) })
}

// Record records the call to a stereo WAV file at path (remote left, local
// right) and sets CallInfo.Recording.
func (m *Manager) Record(id CallID, path string) error {
	if path == "" {
		return opError("record", m.labelOf(id), errors.New("empty file name"))
	}
	if err := m.do("record", id, func(ph Phone, sid SessionID) error { return ph.Record(sid, path) }); err != nil {
		return err
	}
	return m.setRecordingFlag(id, true)
}

// StopRecording stops recording the call, closes the file and clears
// CallInfo.Recording.
func (m *Manager) StopRecording(id CallID) error {
	if err := m.do("stop recording", id, func(ph Phone, sid SessionID) error { return ph.StopRecording(sid) }); err != nil {
		return err
	}
	return m.setRecordingFlag(id, false)
}

// Playback is a WAV file being played into a call: an audio.Source the
// phone reads every 20 ms. It closes its file at the file's end, on a read
// error or on Close, whichever comes first, and then gives silence. It is
// safe for concurrent use (the media goroutine reads while a script closes).
type Playback struct {
	mu   sync.Mutex
	src  *file.Source
	err  error // read error other than io.EOF
	done chan struct{}
}

var _ audio.Source = (*Playback)(nil)

func newPlayback(src *file.Source) *Playback {
	return &Playback{src: src, done: make(chan struct{})}
}

// ReadFrame implements audio.Source. It returns io.EOF once the playback
// is over.
func (p *Playback) ReadFrame(dst []int16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.src == nil {
		clear(dst)
		return io.EOF
	}
	err := p.src.ReadFrame(dst)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			p.err = err
		}
		p.closeLocked()
	}
	return err
}

// Done is closed when the playback is over: the file was played to its end,
// could not be read further, or Close was called.
func (p *Playback) Done() <-chan struct{} { return p.done }

// Err returns the read error that ended the playback early, if any.
func (p *Playback) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Close stops the playback and closes the file. It is idempotent.
func (p *Playback) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeLocked()
	return nil
}

func (p *Playback) closeLocked() {
	if p.src == nil {
		return
	}
	_ = p.src.Close()
	p.src = nil
	close(p.done)
}
