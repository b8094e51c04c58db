package callhistory

import (
	"context"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// fakePhone feeds a Manager synthetic session-core events. It implements
// no command: the tests issue none.
type fakePhone struct {
	sessions.Phone
	events chan phone.Event
}

func (f *fakePhone) Events() <-chan phone.Event { return f.events }

func (f *fakePhone) emit(t testing.TB, evs ...phone.Event) {
	t.Helper()
	for _, ev := range evs {
		select {
		case f.events <- ev:
		case <-time.After(5 * time.Second):
			t.Fatalf("the Manager's pump is blocked: could not deliver %T", ev)
		}
	}
}

// newRig starts a Manager on a fake phone and a Recorder writing to db.
func newRig(t testing.TB, db *DB) (*fakePhone, *sessions.Manager, *Recorder) {
	t.Helper()
	return newRigWith(t, db)
}

// newRigWith is newRig with Recorder options.
func newRigWith(t testing.TB, db *DB, opts ...RecordOption) (*fakePhone, *sessions.Manager, *Recorder) {
	t.Helper()
	ph := &fakePhone{events: make(chan phone.Event)}
	mgr := sessions.New()
	if err := mgr.Start(ph); err != nil {
		t.Fatal(err)
	}
	rec := Record(db, mgr, nil, opts...)
	t.Cleanup(func() {
		_ = mgr.Close() // ends the subscription: rec.Close does not wait
		rec.Close()
	})
	return ph, mgr, rec
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

// callTo is the session-core event of session sid in state st.
func callTo(sid phone.SessionID, dir phone.Direction, remote string, st phone.State, s int) phone.CallEvent {
	return phone.CallEvent{Time: at(s), Session: sid, Direction: dir, State: st, RemoteURI: remote,
		RemoteDisplay: "Bob", Account: "work"}
}

// waitCall polls db until the call with that remote satisfies ok.
func waitCall(t testing.TB, db *DB, remote string, ok func(Call) bool) Call {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var last Call
	for time.Now().Before(deadline) {
		calls, err := db.Recent(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if c.RemoteURI == remote {
				last = c
				if ok(c) {
					return c
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("call to %s not as expected in time; last seen %+v", remote, last)
	return last
}

func ended(c Call) bool { return !c.EndedAt.IsZero() }

// TestRecordAnsweredCall: an outgoing call answered and hung up, with its
// codec and last MOS.
func TestRecordAnsweredCall(t *testing.T) {
	db := openTest(t)
	ph, _, _ := newRig(t, db)
	const bob = "sip:bob@example.com"
	ph.emit(t, callTo("s1", phone.DirectionOutgoing, bob, phone.StateInitiating, 0))
	first := waitCall(t, db, bob, func(Call) bool { return true })
	if first.State != "initiating" || ended(first) || !first.AnsweredAt.IsZero() {
		t.Errorf("at start: %+v", first)
	}
	active := callTo("s1", phone.DirectionOutgoing, bob, phone.StateActive, 3)
	active.Codec = "PCMU"
	done := callTo("s1", phone.DirectionOutgoing, bob, phone.StateTerminated, 63)
	done.Code, done.Reason = 200, "remote hangup"
	ph.emit(t, callTo("s1", phone.DirectionOutgoing, bob, phone.StateRinging, 1), active,
		phone.MediaEvent{Time: at(10), Session: "s1", Stats: phone.MediaStats{Codec: "PCMU", MOS: 4.3}}, done)
	got := waitCall(t, db, bob, ended)
	want := Call{ID: first.ID, Direction: "outgoing", RemoteURI: bob, DisplayName: "Bob", Account: "work",
		State: "terminated", StartedAt: at(0), AnsweredAt: at(3), EndedAt: at(63), EndReason: "remote hangup",
		EndCode: 200, Codec: "PCMU", MOS: 4.3}
	if got != want {
		t.Errorf("answered call:\n got %+v\nwant %+v", got, want)
	}
	if got.Duration() != time.Minute {
		t.Errorf("duration %v", got.Duration())
	}
}

// TestRecordMissedCall: an incoming call the caller gave up on is missed;
// one our rules rejected is not.
func TestRecordMissedCall(t *testing.T) {
	db := openTest(t)
	ph, mgr, _ := newRig(t, db)
	const alice, spam = "sip:alice@example.com", "sip:spam@example.com"
	mgr.OnIncomingCall(phone.IncomingCall{Session: "s2", RemoteURI: alice, Account: "work", Received: at(0)})
	gone := callTo("s2", phone.DirectionIncoming, alice, phone.StateCancelled, 20)
	gone.Code, gone.Reason = 487, "Request Terminated"
	ph.emit(t, gone)
	got := waitCall(t, db, alice, ended)
	if !got.Missed || got.Direction != "incoming" || got.EndCode != 487 || !got.AnsweredAt.IsZero() || got.State != "cancelled" {
		t.Errorf("missed call: %+v", got)
	}

	if err := mgr.SetRules(sessions.RejectAll(486)); err != nil {
		t.Fatal(err)
	}
	mgr.OnIncomingCall(phone.IncomingCall{Session: "s3", RemoteURI: spam, Received: at(30)})
	rejected := callTo("s3", phone.DirectionIncoming, spam, phone.StateCancelled, 30)
	rejected.Code, rejected.Reason = 486, "Busy Here"
	ph.emit(t, rejected)
	if got := waitCall(t, db, spam, ended); got.Missed || got.EndCode != 486 {
		t.Errorf("rejected call: %+v", got)
	}
	missed, err := db.MissedSince(context.Background(), time.Time{})
	if err != nil || len(missed) != 1 || missed[0].RemoteURI != alice {
		t.Errorf("missed calls: %+v, %v", missed, err)
	}
}

// TestRecordFailedCall: an outgoing call refused with a SIP code.
func TestRecordFailedCall(t *testing.T) {
	db := openTest(t)
	ph, _, _ := newRig(t, db)
	const carol = "sip:carol@example.com"
	busy := callTo("s4", phone.DirectionOutgoing, carol, phone.StateFailed, 2)
	busy.Code, busy.Reason = 486, "Busy Here"
	ph.emit(t, callTo("s4", phone.DirectionOutgoing, carol, phone.StateInitiating, 0), busy)
	got := waitCall(t, db, carol, ended)
	if got.State != "failed" || got.EndCode != 486 || got.EndReason != "Busy Here" || got.Missed || !got.AnsweredAt.IsZero() {
		t.Errorf("failed call: %+v", got)
	}
}

// TestRecordLockedDoesNotBlock: while another connection holds the
// database, the phone's events flow on; the calls' rows are written by
// their next change once the lock is gone.
func TestRecordLockedDoesNotBlock(t *testing.T) {
	d := openTest(t)
	path := d.Path()
	d.Close()
	db, err := Open(path, WithBusyTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ph, _, _ := newRig(t, db)

	lock, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	tx, err := lock.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`DELETE FROM calls`); err != nil { // takes the write lock
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 20 {
		ph.emit(t, callTo(phone.SessionID("L"+string(rune('a'+i))), phone.DirectionOutgoing, "sip:locked@example.com", phone.StateInitiating, i))
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("20 events took %v to deliver while the database was locked", el)
	}
	_ = tx.Rollback()
	ph.emit(t, callTo("La", phone.DirectionOutgoing, "sip:locked@example.com", phone.StateTerminated, 30))
	waitCall(t, db, "sip:locked@example.com", ended)
}

// TestRecorderDrainsAtExit: when the phone's event stream ends (teaphone
// exits after hanging up), Close writes what was still queued.
func TestRecorderDrainsAtExit(t *testing.T) {
	db := openTest(t)
	ph, _, rec := newRig(t, db)
	done := callTo("s5", phone.DirectionOutgoing, "sip:dave@example.com", phone.StateTerminated, 5)
	ph.emit(t, callTo("s5", phone.DirectionOutgoing, "sip:dave@example.com", phone.StateActive, 1), done)
	close(ph.events)
	rec.Close()
	calls, err := db.Recent(context.Background(), 0)
	if err != nil || len(calls) != 1 || !ended(calls[0]) {
		t.Errorf("after Close: %+v, %v", calls, err)
	}
}
