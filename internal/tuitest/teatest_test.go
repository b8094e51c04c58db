package tuitest

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/teaphone/teaphone/internal/ctl"
	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui"
)

// TestTeatestDrivenByCtl: the TUI's model in a teatest program, its
// Manager also served on a control socket (internal/ctl) and driven only
// through it with the ctl client, as "teaphone ctl" does: dial baresip,
// send DTMF, hold, hang up. The screen follows each step (initiating,
// connected, DTMF sent, held, ended: digits sent through ctl show as the
// TUI's own do), baresip hears the digits, sees the hold
// re-INVITE (a=sendonly) and the BYE, and the final screen (ports and
// durations masked) is a golden file (go test -update to rewrite it).
func TestTeatestDrivenByCtl(t *testing.T) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
	lipgloss.SetColorProfile(termenv.Ascii)

	mgr := sessions.New()
	ph, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: 22400, RTPPortMax: 22499, Handler: mgr})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Start(ph); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	if err := ph.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.HangupAll(); _ = ph.Close() })
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	svc, err := ctl.Start(sock, mgr, ctl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })

	sub := mgr.Subscribe() // before New: no event is lost in between
	t.Cleanup(sub.Close)
	start := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	m := ui.New(mgr, ui.Options{Events: sub.C(), Now: func() time.Time { return start }, Accounts: []string{"local"}})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(width, height))
	t.Cleanup(func() { _ = tm.Quit() })

	var seen bytes.Buffer // drawn since the last step
	screen := func(what string, texts ...string) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			_, _ = seen.ReadFrom(tm.Output())
			plain := ansi.Strip(seen.String())
			missing := ""
			for _, s := range texts {
				if !strings.Contains(plain, s) {
					missing = s
					break
				}
			}
			if missing == "" {
				seen.Reset() // the next step looks at what is drawn after this one
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %q on the screen within %v; drawn:\n%s", what, missing, waitTimeout, plain)
			}
			time.Sleep(pollEvery)
		}
	}
	teaphoneCtl := func(cmd string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		r, err := ctl.Do(ctx, sock, ctl.Request{Cmd: cmd})
		if err != nil || !r.OK {
			t.Fatalf("ctl %s: %v %s", cmd, err, r.Raw)
		}
	}

	screen("idle", "no calls")
	mark, logAt := bob.Mark(), len(bob.Log())
	teaphoneCtl("dial " + bob.URI())
	if _, err := bob.WaitEvent(mark, "CALL_ESTABLISHED", waitTimeout); err != nil {
		t.Fatal(err)
	}
	screen("connected", "1 out connected", "bob")

	teaphoneCtl("dtmf 12#")
	waitFor(t, "baresip to hear 12#", func() (bool, string) {
		got := bob.DTMFReceived(mark)
		return got == "12#", got
	})
	// The phone reports a digit sent once its last end packet is out,
	// after the far end has heard it: wait for the TUI to show the last.
	screen("dtmf sent", "DTMF # sent")

	teaphoneCtl("hold")
	screen("held", "[held]")
	waitFor(t, "baresip to see the hold", func() (bool, string) {
		d, err := bob.AudioDebug()
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(d, "dir=recvonly"), d
	})
	if log := bob.Log()[logAt:]; !strings.Contains(log, "a=sendonly") && !strings.Contains(log, "a=inactive") {
		t.Errorf("baresip's trace has no hold re-INVITE (a=sendonly or a=inactive):\n%s", log)
	}

	teaphoneCtl("hangup")
	if _, err := bob.WaitEvent(mark, "CALL_CLOSED", waitTimeout); err != nil {
		t.Fatal(err)
	}
	screen("ended", "calls (0)")
	if log := bob.Log()[logAt:]; !strings.Contains(log, "BYE sip:") {
		t.Errorf("baresip's trace has no BYE:\n%s", log)
	}

	// Quit without the quit key, which blanks the view: the final model
	// still draws the last screen.
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	tm.WaitFinished(t, teatest.WithFinalTimeout(waitTimeout))
	fm := tm.FinalModel(t).(ui.Model)
	next, _ := fm.Update(tea.WindowSizeMsg{Width: width, Height: height})
	final := next.(ui.Model).View()
	// The log pane has every state the call went through.
	for _, want := range []string{"line 1 initiating sip:bob@", "line 1 connected sip:bob@", "line 1 DTMF # sent",
		"line 1 held sip:bob@", "line 1 terminated sip:bob@"} {
		if !strings.Contains(final, want) {
			t.Errorf("final screen lacks %q:\n%s", want, final)
		}
	}
	golden.RequireEqual(t, []byte(maskScreen(final)))
}

// maskScreen replaces what changes from run to run so the screen can be a
// golden file: ports, and the log line of a 180 Ringing (baresip's comes
// or not before its 200), whose place goes to an empty line above the
// footer.
func maskScreen(s string) string {
	s = regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllString(s, "127.0.0.1:PORT")
	lines := strings.Split(s, "\n")
	kept := lines[:0:0]
	for _, l := range lines {
		if !strings.Contains(l, " line 1 ringing ") {
			kept = append(kept, l)
		}
	}
	for len(kept) < len(lines) {
		kept = append(kept[:len(kept)-1], "", kept[len(kept)-1])
	}
	return strings.Join(kept, "\n")
}
