package callhistory

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

const childEnv = "CALLHISTORY_KILL_CHILD_DB"

// TestKill9: a teaphone killed with SIGKILL in the middle of a call loses
// at most that call: the call that ended before is intact in the reopened
// database, which passes SQLite's integrity check; the next teaphone to
// start closes the call left in progress ("teaphone stopped") but not that
// of another teaphone still running.
func TestKill9(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9Child$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ready" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatal("the child ended without getting ready")
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("the child did not get ready")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
	calls, err := db.Recent(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("%d calls after kill -9, want 2: %+v", len(calls), calls)
	}
	inProgress, finished := calls[0], calls[1]
	want := Call{ID: finished.ID, Direction: "outgoing", RemoteURI: "sip:bob@example.com", DisplayName: "Bob",
		Account: "work", State: "terminated", StartedAt: at(0), AnsweredAt: at(1), EndedAt: at(61),
		EndReason: "remote hangup", EndCode: 200}
	if finished != want {
		t.Errorf("the finished call after kill -9:\n got %+v\nwant %+v", finished, want)
	}
	if inProgress.RemoteURI != "sip:carol@example.com" || inProgress.State != "connected" || ended(inProgress) {
		t.Errorf("the call in progress: %+v", inProgress)
	}

	// Another teaphone (this process, alive) has a call in progress in the
	// same file.
	live := Call{ID: "live", Direction: "incoming", RemoteURI: "sip:dave@example.com", State: "connected",
		StartedAt: time.Now(), AnsweredAt: time.Now()}
	if err := db.Put(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	// The next teaphone to start closes the call the killed one left in
	// progress, as of its last write, and leaves the live one's alone.
	newRig(t, db)
	closed := waitCall(t, db, "sip:carol@example.com", ended)
	if closed.State != "terminated" || closed.EndReason != StoppedReason || closed.Missed ||
		closed.EndedAt.Before(closed.AnsweredAt) || closed.AnsweredAt != inProgress.AnsweredAt {
		t.Errorf("the orphan after the next start: %+v", closed)
	}
	if c := waitCall(t, db, "sip:dave@example.com", func(Call) bool { return true }); ended(c) || c.State != "connected" {
		t.Errorf("the live process's call was closed: %+v", c)
	}
	if c := waitCall(t, db, "sip:bob@example.com", ended); c != want {
		t.Errorf("the finished call changed: %+v", c)
	}
}

// TestKill9Child is TestKill9's child process: it records a finished call,
// starts another, says "ready" and waits to be killed.
func TestKill9Child(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by TestKill9")
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ph, _, _ := newRig(t, db)
	const bob, carol = "sip:bob@example.com", "sip:carol@example.com"
	done := callTo("k1", phone.DirectionOutgoing, bob, phone.StateTerminated, 61)
	done.Code, done.Reason = 200, "remote hangup"
	ph.emit(t, callTo("k1", phone.DirectionOutgoing, bob, phone.StateInitiating, 0),
		callTo("k1", phone.DirectionOutgoing, bob, phone.StateActive, 1), done,
		callTo("k2", phone.DirectionOutgoing, carol, phone.StateInitiating, 70),
		callTo("k2", phone.DirectionOutgoing, carol, phone.StateActive, 71))
	waitCall(t, db, bob, ended)
	waitCall(t, db, carol, func(c Call) bool { return c.State == "connected" })
	os.Stdout.WriteString("ready\n")
	time.Sleep(time.Minute)
	t.Error("not killed")
}
