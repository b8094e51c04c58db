// Package peertest starts and drives real SIP peers — baresip, Kamailio and
// linphonec from the Debian packages — as subprocesses of Go tests.
//
// Everything runs on 127.0.0.1 with configuration generated in temporary
// directories; the peers' peculiarities handled here were observed with
// Debian 12's baresip 1.0, Kamailio 5.6 and linphonec 5.1. Every Start
// function picks free ports (retrying on
// others if a peer still loses a bind race), waits until the peer is ready
// and registers a t.Cleanup that stops it (SIGTERM, then SIGKILL of its
// process group after a grace period) and always waits for it, so no process
// or goroutine outlives the test. When the test failed, the cleanup logs the
// tail of the peer's output (baresip's includes its SIP trace).
//
// A typical test:
//
//	func TestCallBaresip(t *testing.T) {
//		bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
//		mark := bob.Mark()
//		// ... let the code under test dial bob.URI() ...
//		if _, err := bob.WaitEvent(mark, "CALL_ESTABLISHED", 15*time.Second); err != nil {
//			t.Fatal(err)
//		}
//		// ... send DTMF, then hang up ...
//		if got := bob.DTMFReceived(mark); got != "12#" {
//			t.Errorf("bob got DTMF %q", got)
//		}
//		if _, err := bob.WaitEvent(mark, "CALL_CLOSED", 15*time.Second); err != nil {
//			t.Fatal(err)
//		}
//		wav, err := bob.LatestRecording("dec") // what bob received
//		// ... analyse wav ...
//	}
//
// Through a proxy: start Kamailio first (StartKamailio with Users), then
// baresip peers with Registrar: k.Addr(), and call k.URI("bob").
//
// Start functions must be called from the test goroutine (they may call
// t.Fatal, or t.Skip when the binary is missing — see NeedBaresip); the
// methods of the returned peers return errors and may be used from any
// goroutine. The package only does process and control plumbing; analysing
// recorded audio is left to the caller.
package peertest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Timeouts used throughout the package. They are generous because the tests
// run on small machines shared with other builds; all waits poll quickly.
const (
	// ReadyTimeout bounds how long a peer may take to become ready
	// (baresip "is ready", Kamailio answering OPTIONS, linphonec prompt).
	ReadyTimeout = 15 * time.Second
	// CommandTimeout bounds one control command (ctrl_tcp round trip,
	// kamcmd run).
	CommandTimeout = 10 * time.Second
	// stopGrace is how long a peer gets to exit after SIGTERM.
	stopGrace = 5 * time.Second
	// pollInterval is the tick of every polling loop.
	pollInterval = 50 * time.Millisecond
	// logTailBytes is how much of a peer's log a failed test prints.
	logTailBytes = 16 << 10
)

// NeedBaresip skips the test when the baresip binary is not installed, or
// fails it when the environment variable CI is "true" (CI must install the
// packages so that the interop tests really run).
func NeedBaresip(t testing.TB) {
	t.Helper()
	need(t, "baresip", "baresip baresip-core")
}

// NeedKamailio is NeedBaresip for kamailio (which also provides kamcmd).
func NeedKamailio(t testing.TB) {
	t.Helper()
	need(t, "kamailio", "kamailio")
}

// NeedLinphonec is NeedBaresip for linphonec.
func NeedLinphonec(t testing.TB) {
	t.Helper()
	need(t, "linphonec", "linphone-cli")
}

// NeedSvwar is NeedBaresip for sipvicious' svwar (the extension scanner).
func NeedSvwar(t testing.TB) {
	t.Helper()
	need(t, "svwar", "sipvicious")
}

func need(t testing.TB, bin, pkgs string) {
	t.Helper()
	if _, err := exec.LookPath(bin); err == nil {
		return
	}
	msg := fmt.Sprintf("%s not installed: apt-get install --no-install-recommends %s", bin, pkgs)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: interop peers are mandatory)")
	}
	t.Skip(msg)
}

// logTail returns at most max bytes from the end of the file at path, cut at
// a line start.
func logTail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if len(b) <= max {
		return string(b)
	}
	b = b[len(b)-max:]
	for i, c := range b {
		if c == '\n' {
			b = b[i+1:]
			break
		}
	}
	return "[…]\n" + string(b)
}
