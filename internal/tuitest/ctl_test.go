package tuitest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/internal/ctl"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// TestTerminalDrivenByCtl runs the full-screen phone in a tmux pane and
// drives it with "teaphone ctl" from outside: dial a second phone (in this
// process), hold, hang up; the screen follows, and "teaphone ctl events"
// sees the calls the screen shows.
func TestTerminalDrivenByCtl(t *testing.T) {
	needTmux(t)
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", run) // tmux passes it on to teaphone
	bin := buildTeaphone(t, dir)

	far := sessions.New()
	if err := far.SetRules(sessions.AcceptAll(0)); err != nil {
		t.Fatal(err)
	}
	b, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: 21800, RTPPortMax: 21899, Handler: far})
	if err != nil {
		t.Fatal(err)
	}
	if err := far.Start(b); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(); _ = far.Close() })

	term, _ := startTeaphone(t, dir, bin)
	waitFor(t, "the control socket", func() (bool, string) {
		_, err := ctl.Find(ctl.Dir())
		return err == nil, ""
	})
	teaphoneCtl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"ctl"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("teaphone ctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := exec.CommandContext(ctx, bin, "ctl", "events")
	evFile := filepath.Join(dir, "events.jsonl")
	f, err := os.Create(evFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events.Stdout = f
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = events.Wait() }()
	evOut := func() string { b, _ := os.ReadFile(evFile); return string(b) }
	// Its first line, the reply to "events", says the subscription is made.
	waitFor(t, "ctl events to subscribe", func() (bool, string) {
		return strings.Contains(evOut(), `"events":true`), evOut()
	})

	farURI := "sip:carol@" + b.LocalAddr()
	if out := teaphoneCtl("dial", farURI); !strings.Contains(out, `"ok":true`) {
		t.Fatalf("ctl dial: %s", out)
	}
	term.waitScreen("connected", "1 out connected", "carol")
	teaphoneCtl("hold")
	term.waitScreen("hold", "[held]")
	teaphoneCtl("hangup")
	term.waitScreen("ended", "calls (0)")

	cancel()
	_ = events.Wait()
	if s := evOut(); !strings.Contains(s, `"state":"connected"`) || !strings.Contains(s, `"held_local":true`) {
		t.Errorf("ctl events missed the call:\n%s", s)
	}
}
