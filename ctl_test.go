package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/ctl"
	"github.com/teaphone/teaphone/internal/peertest"
)

// lockedBuffer is an io.Writer read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// events returns the JSON objects written so far.
func (l *lockedBuffer) events(t *testing.T) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("event line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCtlDrivesHeadlessAnswer: a headless "teaphone answer" (in process)
// driven through its control socket by "teaphone ctl", which finds the
// socket itself: dial baresip, send DTMF 12, hold, hang up (baresip hears
// the digits, is held, sees the call end), while a second "teaphone ctl
// events" follows the events.
func TestCtlDrivesHeadlessAnswer(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	// The far end: baresip, answering every call.
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
	mark := bob.Mark()

	// teaphone answer, with its control socket in $XDG_RUNTIME_DIR/teaphone.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var answerOut, answerErr lockedBuffer
	answered := make(chan error, 1)
	go func() {
		answered <- run(ctx, []string{"answer", "--config", cfg, "--log-file", filepath.Join(dir, "a.log"),
			"--listen", "127.0.0.1:0", "--audio", "null", "--rtp-ports", "19900-19999", "--events", "jsonl"}, &answerOut, &answerErr)
	}()
	sock := ctl.SocketPath(os.Getpid())
	waitUntil(t, "the control socket", func() bool { _, err := ctl.Find(ctl.Dir()); return err == nil })
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v %v", sock, fi.Mode(), err)
	}

	ctlCmd := func(args ...string) (string, error) {
		var out, errOut strings.Builder
		err := run(context.Background(), append([]string{"ctl"}, args...), &out, &errOut)
		return out.String(), err
	}

	// The second client: teaphone ctl events.
	var events lockedBuffer
	fctx, stopFollow := context.WithCancel(context.Background())
	followed := make(chan error, 1)
	go func() { followed <- run(fctx, []string{"ctl", "events"}, &events, &answerErr) }()
	waitUntil(t, "the subscription", func() bool { return strings.Contains(events.String(), `"events":true`) })

	out, err := ctlCmd("dial", bob.URI())
	if err != nil || !strings.Contains(out, `"ok":true`) || !strings.Contains(out, `"line":1`) {
		t.Fatalf("ctl dial: %v %s", err, out)
	}
	has := func(want map[string]any) func() bool {
		return func() bool {
		next:
			for _, ev := range events.events(t) {
				for k, v := range want {
					if ev[k] != v {
						continue next
					}
				}
				return true
			}
			return false
		}
	}
	waitUntil(t, "connected in the events", has(map[string]any{"event": "call", "state": "connected"}))
	if out, err := ctlCmd("dtmf", "12"); err != nil {
		t.Fatalf("ctl dtmf 12: %v %s", err, out)
	}
	waitUntil(t, "baresip to hear 12", func() bool { return bob.DTMFReceived(mark) == "12" })
	waitUntil(t, "the sent digits in the events", has(map[string]any{"event": "dtmf", "digit": "2", "direction": "sent"}))
	if out, err := ctlCmd("hold"); err != nil {
		t.Fatalf("ctl hold: %v %s", err, out)
	}
	waitUntil(t, "held_local in the events", has(map[string]any{"event": "call", "held_local": true}))
	waitUntil(t, "baresip to be held", func() bool {
		d, err := bob.AudioDebug()
		return err == nil && strings.Contains(d, "dir=recvonly")
	})
	if out, err := ctlCmd("hangup"); err != nil {
		t.Fatalf("ctl hangup: %v %s", err, out)
	}
	waitUntil(t, "terminated in the events", has(map[string]any{"event": "call", "state": "terminated", "reason": "local hangup"}))
	if _, err := bob.WaitEvent(mark, "CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}

	// ok:false is exit status 1, with the reply printed.
	out, err = ctlCmd("hold")
	if exitCode(err, &strings.Builder{}) != 1 || !strings.Contains(out, `"ok":false`) {
		t.Errorf("ctl hold with no call: %v %s", err, out)
	}

	// The events client saw what the headless mode printed.
	if !strings.Contains(answerOut.String(), `"state":"terminated"`) {
		t.Errorf("answer's stdout lacks the call:\n%s", answerOut.String())
	}
	// teaphone ends: ctl events ends too, without an error.
	defer stopFollow()
	stop()
	if err := <-answered; err != nil {
		t.Errorf("teaphone answer: %v\n%s", err, answerErr.String())
	}
	select {
	case err := <-followed:
		if err != nil {
			t.Errorf("ctl events: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("ctl events still running after teaphone ended")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

// TestCtlSocketInAnUnsafeDirectory: a group- or world-writable socket
// directory is refused. The default socket's refusal is a warning (the
// phone runs without one); a --ctl-socket asked for must work.
func TestCtlSocketInAnUnsafeDirectory(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	open := filepath.Join(runDir, "teaphone")
	if err := os.MkdirAll(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", runDir)
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"answer", "--config", cfg, "--log-file", filepath.Join(dir, "log"),
		"--listen", "127.0.0.1:0", "--audio", "null", "--rtp-ports", "19700-19799", "--events", "none"}

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var out, errOut strings.Builder
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("answer with an unsafe default socket directory: %v\n%s", err, errOut.String())
	}
	if s := errOut.String(); !strings.Contains(s, "warning: no control socket") || !strings.Contains(s, "group or world writable") {
		t.Errorf("stderr %q, want the warning", s)
	}

	errOut.Reset()
	err := run(context.Background(), append(args, "--ctl-socket", filepath.Join(open, "mine.sock")), &out, &errOut)
	var msg strings.Builder
	if exitCode(err, &msg) != 2 || !strings.Contains(msg.String(), "group or world writable") {
		t.Errorf("--ctl-socket in an unsafe directory: %v (%q)", err, msg.String())
	}
}
