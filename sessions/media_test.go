package sessions

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/wav"
	"github.com/teaphone/teaphone/phone"
)

// writeWAV writes n samples of 8 kHz mono audio to a file in dir.
func writeWAV(t *testing.T, dir string, n int) string {
	t.Helper()
	p := filepath.Join(dir, "prompt.wav")
	w, err := wav.Create(p, audio.SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrames(make([]int16, n)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlayFilePlaysToTheEnd(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	var got audio.Source
	fp.onSource = func(_ phone.SessionID, src audio.Source) { got = src }
	pb, err := m.StartPlayback(id, writeWAV(t, t.TempDir(), 3*audio.FrameSamples))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(fp.recorded(), "source "+string(sid)) || got != pb {
		t.Fatalf("ops %v, source %v", fp.recorded(), got)
	}
	frame := make([]int16, audio.FrameSamples)
	frames := 0
	for ; frames < 100; frames++ {
		if err := pb.ReadFrame(frame); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if frames < 3 || frames > 5 {
		t.Fatalf("played %d frames of a 3-frame file", frames)
	}
	select {
	case <-pb.Done():
	default:
		t.Fatal("Done not closed at the end of the file")
	}
	if err := pb.ReadFrame(frame); !errors.Is(err, io.EOF) || pb.Err() != nil {
		t.Fatalf("after the end: %v, %v", err, pb.Err())
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPlayFileErrors(t *testing.T) {
	m, fp, sub := setup(t)
	id, _ := dial(t, m, fp, sub)
	err := m.PlayFile(id, filepath.Join(t.TempDir(), "missing.wav"))
	if err == nil || !strings.Contains(err.Error(), "play call 1:") || !strings.Contains(err.Error(), "missing.wav") {
		t.Fatalf("missing file: %v", err)
	}
	if err := m.PlayFile(id, ""); err == nil {
		t.Fatal("empty path accepted")
	}
	if err := m.PlayFile("nope", "x.wav"); !errors.Is(err, ErrNoSuchCall) {
		t.Fatalf("unknown call: %v", err)
	}
	for _, op := range fp.recorded() {
		if strings.HasPrefix(op, "source") {
			t.Fatalf("source set despite the error: %v", fp.recorded())
		}
	}
	fp.mu.Lock()
	fp.opErr = errFake
	fp.mu.Unlock()
	if err := m.PlayFile(id, writeWAV(t, t.TempDir(), 160)); !errors.Is(err, errFake) {
		t.Fatalf("phone error: %v", err)
	}
}

func TestPlaybackCloseStopsEarly(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	pb, err := m.StartPlayback(id, writeWAV(t, t.TempDir(), 100*audio.FrameSamples))
	if err != nil {
		t.Fatal(err)
	}
	_ = pb.Close()
	_ = pb.Close()
	<-pb.Done()
	if err := pb.ReadFrame(make([]int16, audio.FrameSamples)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after close: %v", err)
	}
	if err := m.StopPlayback(id); err != nil {
		t.Fatal(err)
	}
	if ops := fp.recorded(); ops[len(ops)-1] != "source "+string(sid)+" nil" {
		t.Fatalf("ops %v", ops)
	}
}

func TestRecordAndStop(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	if err := m.Record(id, "/tmp/x.wav"); err != nil {
		t.Fatal(err)
	}
	if ce := recvCall(t, sub); !ce.Call.Recording {
		t.Fatalf("recording flag not set: %+v", ce.Call)
	}
	if err := m.StopRecording(id); err != nil {
		t.Fatal(err)
	}
	if ce := recvCall(t, sub); ce.Call.Recording {
		t.Fatalf("recording flag not cleared: %+v", ce.Call)
	}
	want := []string{"record " + string(sid) + " /tmp/x.wav", "stoprecording " + string(sid)}
	if ops := fp.recorded(); !slices.Equal(ops[len(ops)-2:], want) {
		t.Fatalf("ops %v", ops)
	}
	if err := m.Record(id, ""); err == nil {
		t.Fatal("empty path accepted")
	}
	fp.mu.Lock()
	fp.opErr = errFake
	fp.mu.Unlock()
	if err := m.Record(id, "/tmp/y.wav"); !errors.Is(err, errFake) {
		t.Fatalf("phone error: %v", err)
	}
	if c, _ := m.Call(id); c.Recording {
		t.Fatal("recording flag set although the phone refused")
	}
}
