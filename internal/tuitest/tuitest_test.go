package tuitest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
)

// Bounds of the test. Every wait polls; none sleeps for correctness.
const (
	buildTimeout = 5 * time.Minute  // go build of teaphone (cold cache on a small machine)
	waitTimeout  = 15 * time.Second // one step of the flow
	pollEvery    = 100 * time.Millisecond
	cmdTimeout   = 10 * time.Second // one tmux command
	width        = 80
	height       = 24
)

// needTmux skips the test when tmux is missing, or fails it under CI=true
// (the Makefile installs tmux for make test, so CI must run this test).
func needTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err == nil {
		return
	}
	msg := "tmux not installed: apt-get install --no-install-recommends tmux"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the terminal test is mandatory)")
	}
	t.Skip(msg)
}

// buildTeaphone builds the teaphone binary (without -race) into dir.
func buildTeaphone(t *testing.T, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found to build teaphone: %v", err)
	}
	bin := filepath.Join(dir, "teaphone")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "github.com/teaphone/teaphone")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build teaphone: %v\n%s", err, out)
	}
	return bin
}

// terminal is one detached tmux session on its own server socket.
type terminal struct {
	t          *testing.T
	socket     string // tmux -L name: a server of our own, never the user's
	target     string // session name
	killed     bool
	socketPath string // the server's socket file, removed by kill
}

// startTerminal starts command in a new detached width×height tmux session
// on a private server and kills that server in t.Cleanup.
func startTerminal(t *testing.T, command string) *terminal {
	t.Helper()
	tt := &terminal{
		t:      t,
		socket: fmt.Sprintf("teaphone-tuitest-%d-%d", os.Getpid(), time.Now().UnixNano()),
		target: "tp",
	}
	// -f /dev/null: the user's ~/.tmux.conf must not change the terminal.
	if _, err := tt.tmux("-f", "/dev/null", "new-session", "-d", "-s", tt.target,
		"-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tt.kill)
	tt.socketPath = tt.format("#{socket_path}")
	return tt
}

// kill stops the tmux server and everything running in it. It is
// idempotent.
func (tt *terminal) kill() {
	if tt.killed {
		return
	}
	tt.killed = true
	if _, err := tt.tmux("kill-server"); err != nil {
		tt.t.Logf("tmux kill-server: %v", err)
	}
	// The server leaves its socket file behind in /tmp/tmux-UID.
	if tt.socketPath != "" {
		if err := os.Remove(tt.socketPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			tt.t.Logf("remove tmux socket: %v", err)
		}
	}
}

// tmux runs one tmux command against our server.
func (tt *terminal) tmux(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-L", tt.socket}, args...)...)
	// Not nested in the caller's tmux (if any): this is a separate server.
	cmd.Env = withoutEnv(os.Environ(), "TMUX")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// keys types into the pane: tmux key names (a, Escape, C-c …).
func (tt *terminal) keys(keys ...string) {
	tt.t.Helper()
	if _, err := tt.tmux(append([]string{"send-keys", "-t", tt.target}, keys...)...); err != nil {
		tt.t.Fatal(err)
	}
}

// screen returns the visible pane as text, one line per row.
func (tt *terminal) screen() string {
	tt.t.Helper()
	out, err := tt.tmux("capture-pane", "-p", "-t", tt.target)
	if err != nil {
		tt.t.Fatal(err)
	}
	return out
}

// format returns a tmux format of the pane, e.g. #{alternate_on}.
func (tt *terminal) format(f string) string {
	tt.t.Helper()
	out, err := tt.tmux("display-message", "-p", "-t", tt.target, f)
	if err != nil {
		tt.t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// waitScreen polls the pane until it contains every one of texts and
// returns that screen.
func (tt *terminal) waitScreen(step string, texts ...string) string {
	tt.t.Helper()
	return tt.waitScreenOr(step, "", texts...)
}

// waitScreenOr is waitScreen that also stops, without failing, as soon as
// the pane shows stop (when not empty).
func (tt *terminal) waitScreenOr(step, stop string, texts ...string) string {
	tt.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		s := tt.screen()
		if stop != "" && strings.Contains(s, stop) {
			return s
		}
		missing := ""
		for _, x := range texts {
			if !strings.Contains(s, x) {
				missing = x
				break
			}
		}
		if missing == "" {
			return s
		}
		if time.Now().After(deadline) {
			tt.t.Fatalf("%s: screen lacks %q after %s:\n%s", step, missing, waitTimeout, s)
		}
		time.Sleep(pollEvery)
	}
}

// keepScreen logs a captured screen and writes it to $TEAPHONE_SCREEN_DIR
// when set.
func keepScreen(t *testing.T, name, s string) {
	t.Helper()
	t.Logf("screen %s (%d×%d):\n%s", name, width, height, s)
	dir := os.Getenv("TEAPHONE_SCREEN_DIR")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("TEAPHONE_SCREEN_DIR: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(s), 0o644); err != nil {
		t.Errorf("TEAPHONE_SCREEN_DIR: %v", err)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, step string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s; last: %s", step, waitTimeout, last)
		}
		time.Sleep(pollEvery)
	}
}

// startTeaphone runs the binary in a new terminal on free ports and waits
// for its first screen. A port taken by someone else between the check and
// teaphone's bind makes it exit at once: then it tries again on others.
func startTeaphone(t *testing.T, dir, bin string) (*terminal, int) {
	t.Helper()
	logFile := filepath.Join(dir, "teaphone.log")
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("teaphone log:\n%s", b)
		}
	})
	const attempts = 3
	for attempt := 1; ; attempt++ {
		port, err := peertest.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		rtp, err := peertest.FreePorts(20, 2)
		if err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "config.toml")
		conf := fmt.Sprintf("[sip]\nlisten = \"127.0.0.1:%d\"\n\n[media]\nrtp_ports = [%d, %d]\naudio = \"null\"\n\n[history]\nfile = %q\n",
			port, rtp, rtp+19, filepath.Join(dir, "history.db"))
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		// The shell outlives teaphone so that the pane shows what is left
		// on the terminal after it quit, and its exit status.
		script := filepath.Join(dir, "run.sh")
		sh := fmt.Sprintf("#!/bin/sh\n%s --config %s --audio null --log-file %s\necho \"EXITED $?\"\nsleep 30\n",
			shQuote(bin), shQuote(cfg), shQuote(logFile))
		if err := os.WriteFile(script, []byte(sh), 0o755); err != nil {
			t.Fatal(err)
		}
		term := startTerminal(t, "sh "+shQuote(script))
		if got := term.format("#{pane_width}x#{pane_height}"); got != fmt.Sprintf("%dx%d", width, height) {
			t.Fatalf("pane is %s, want %dx%d", got, width, height)
		}
		s := term.waitScreenOr("start", "EXITED", "teaphone", "calls (0)", "dial>")
		if !strings.Contains(s, "EXITED") {
			return term, port
		}
		term.kill()
		if attempt == attempts {
			t.Fatalf("teaphone exited at start %d times; last screen:\n%s", attempts, s)
		}
		t.Logf("teaphone exited at start (port %d taken?), trying other ports:\n%s", port, s)
	}
}

// shQuote quotes s for sh.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestTerminalCallFromBaresip runs the built teaphone in an 80×24 tmux
// pane: baresip calls it, a answers, h holds, e hangs up; a second call is
// answered and q (confirmed with y) hangs it up and quits, leaving the
// terminal as it was.
func TestTerminalCallFromBaresip(t *testing.T) {
	needTmux(t)
	peertest.NeedBaresip(t)

	dir := t.TempDir()
	bin := buildTeaphone(t, dir)
	alice := peertest.StartBaresip(t, peertest.BaresipConfig{User: "alice"})
	term, port := startTeaphone(t, dir, bin)
	if got := term.format("#{alternate_on}"); got != "1" {
		t.Errorf("alternate screen while running = %q, want 1", got)
	}
	teaURI := fmt.Sprintf("sip:bob@127.0.0.1:%d", port)

	// 1. baresip calls: the prompt rings on screen with the caller's URI.
	mark := alice.Mark()
	if err := alice.Dial(teaURI); err != nil {
		t.Fatal(err)
	}
	incoming := term.waitScreen("incoming call", "Incoming call · line 1", alice.URI(), "a answer", "1 in  incoming")
	keepScreen(t, "incoming-80x24", incoming)

	// 2. a answers: baresip is connected, so is the screen, with media
	// figures once RTP flows.
	term.keys("a")
	if _, err := alice.WaitEvent(mark, "CALL_ESTABLISHED", waitTimeout); err != nil {
		t.Fatal(err)
	}
	connected := term.waitScreen("connected", "1 in  connected", alice.URI(), "codec PCMU", "jitter", "e end")
	keepScreen(t, "connected-80x24", connected)

	// 3. h holds: teaphone offers sendonly, baresip answers recvonly.
	term.keys("h")
	term.waitScreen("hold", "[held]", "h resume")
	waitFor(t, "baresip sees the hold", func() (bool, string) {
		d, err := alice.AudioDebug()
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(d, "dir=recvonly"), d
	})

	// 4. e hangs up: baresip's call closes, the screen has no call left.
	term.keys("e")
	if _, err := alice.WaitEvent(mark, "CALL_CLOSED", waitTimeout); err != nil {
		t.Fatal(err)
	}
	term.waitScreen("ended", "calls (0)", "no calls")

	// 5. A second call, answered; q asks (a call is up), y hangs up and
	// quits. (With no call up q quits at once.)
	mark = alice.Mark()
	if err := alice.Dial(teaURI); err != nil {
		t.Fatal(err)
	}
	term.waitScreen("second call", "Incoming call · line 1", alice.URI())
	term.keys("a")
	if _, err := alice.WaitEvent(mark, "CALL_ESTABLISHED", waitTimeout); err != nil {
		t.Fatal(err)
	}
	term.waitScreen("second call connected", "1 in  connected")
	term.keys("q")
	term.waitScreen("quit question", "Hang up all and quit?")
	term.keys("y")
	if _, err := alice.WaitEvent(mark, "CALL_CLOSED", waitTimeout); err != nil {
		t.Fatal(err)
	}

	// 6. The terminal is as it was: the shell's normal screen, no
	// alternate screen, nothing of the phone left, exit status 0.
	after := term.waitScreen("exit", "EXITED ")
	if !strings.Contains(after, "EXITED 0") {
		t.Errorf("teaphone exit status:\n%s", after)
	}
	if got := term.format("#{alternate_on}"); got != "0" {
		t.Errorf("alternate screen after quit = %q, want 0", got)
	}
	for _, leftover := range []string{"teaphone", "calls (", "dial>", "Hang up all"} {
		if strings.Contains(after, leftover) {
			t.Errorf("the terminal still shows %q after quit:\n%s", leftover, after)
		}
	}
	if got := strings.TrimSpace(after); got != "EXITED 0" {
		t.Errorf("terminal after quit = %q, want only the shell's EXITED 0", got)
	}
}
