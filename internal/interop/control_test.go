package interop

// Call control against real baresip 1.0 (issue 4): hold and resume in both
// directions, blind transfer in both roles, DTMF over SIP INFO; and
// attended transfer with linphonec 5.1 as the transferee (issue 10).
// Everything runs on 127.0.0.1; where a test allows for a peculiarity of a
// peer, it says which. Every flow ends with ctlFinish (or ctlFinishAll): no
// session left, every session ended in a final state, and no goroutine left
// once the phones are closed.

import (
	"context"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

const (
	ctlTeaphoneHz = 1000 // what teaphone sends
	ctlBobHz      = 440  // what bob (baresip) sends
	ctlCarolHz    = 660  // what carol (baresip) sends
)

// ctlDialBob has tp call bob and waits until both sides are established.
// uriParams (e.g. ";transport=tcp") is appended to bob's URI.
func ctlDialBob(t *testing.T, tp *ctlPhone, bob *peertest.Baresip, uriParams string) phone.SessionID {
	t.Helper()
	bm, em := bob.Mark(), tp.mark()
	id, err := tp.Dial(context.Background(), bob.URI()+uriParams, phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tp.waitCall(em, id, phone.StateActive)
	ctlWaitPeer(t, bob, "bob", bm, "CALL_ESTABLISHED")
	return id
}

// ctlBobDials has bob call tp and waits until both sides are established.
// uriParams (e.g. ";transport=tcp") is appended to teaphone's URI.
func ctlBobDials(t *testing.T, tp *ctlPhone, bob *peertest.Baresip, uriParams string) phone.SessionID {
	t.Helper()
	bm, em := bob.Mark(), tp.mark()
	if err := bob.Dial(tp.uri("alice") + uriParams); err != nil {
		t.Fatal(err)
	}
	ctlWaitPeer(t, bob, "bob", bm, "CALL_ESTABLISHED")
	return tp.waitIncomingActive(em).Session
}

// ctlReinviteAnswer returns the SDP bodies of the first re-INVITE bob sent to
// teaphone after log offset since and of teaphone's 200 to it.
func ctlReinviteAnswer(t *testing.T, bob *peertest.Baresip, tp *ctlPhone, since int) (offer, answer string) {
	t.Helper()
	addr := tp.LocalAddr()
	// The 200 may still be on its way into the log when the event arrives.
	deadline := time.Now().Add(ctlWait)
	for {
		log := bob.Log()
		invites := ctlFindSIP(log, since, func(m ctlSIPMsg) bool { return m.isRequest("INVITE") && m.Dst == addr })
		oks := ctlFindSIP(log, since, func(m ctlSIPMsg) bool { return m.isResponse(200, "INVITE") && m.Src == addr })
		if len(invites) > 0 && len(oks) > 0 {
			return invites[0].body(), oks[0].body()
		}
		if time.Now().After(deadline) {
			t.Fatalf("no re-INVITE from bob answered 200 by teaphone in bob's trace:\n%s", ctlTail(log[min(since, len(log)):], 8000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ctlSDPDir returns the direction attribute of an SDP body (sendrecv if none).
func ctlSDPDir(sdp string) string {
	for _, line := range strings.Split(sdp, "\n") {
		switch a := strings.TrimSpace(line); a {
		case "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive":
			return a[2:]
		}
	}
	return "sendrecv"
}

// ctlTxFlat checks that teaphone sends no RTP on id for a while (held by
// a recvonly answer, RFC 3264 §6.1: "MUST NOT send media").
func ctlTxFlat(t *testing.T, tp *ctlPhone, id phone.SessionID, who string) {
	t.Helper()
	s1, err := tp.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	s2, err := tp.Stats(id)
	if err != nil {
		t.Fatal(err)
	}
	if d := s2.TxPackets - s1.TxPackets; d > 2 {
		t.Errorf("%s: teaphone sent %d RTP packets in 600 ms while held", who, d)
	}
}

// ctlHearsTone waits until audio arrives on id (the sink also gets silence
// while the jitter buffer fills, which takes long on a loaded machine), then
// checks the tone of the next second.
func ctlHearsTone(t *testing.T, au *ctlToneAudio, id phone.SessionID, who string, hz float64) {
	t.Helper()
	from, ok := au.waitOnset(id, au.received(id))
	if !ok {
		t.Errorf("%s: no audio above -40 dBFS within %v", who, ctlWait)
		return
	}
	ctlAssertTone(t, who, au.waitSamples(id, from, 8000), hz)
}

// 1. baresip holds teaphone and resumes, with the call placed either way,
// over UDP and TCP.
func TestCtlBaresipHoldsTeaphone(t *testing.T) {
	t.Run("bob called teaphone", func(t *testing.T) { ctlBaresipHolds(t, true, "") })
	t.Run("teaphone called bob", func(t *testing.T) { ctlBaresipHolds(t, false, "") })
	t.Run("bob called teaphone over tcp", func(t *testing.T) { ctlBaresipHolds(t, true, ";transport=tcp") })
}

func ctlBaresipHolds(t *testing.T, bobCalls bool, uriParams string) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
	base := runtime.NumGoroutine()
	au := ctlNewToneAudio(ctlTeaphoneHz)
	tp := ctlStartPhone(t, "alice", phone.Options{Audio: au})
	var id phone.SessionID
	if bobCalls {
		id = ctlBobDials(t, tp, bob, uriParams)
	} else {
		id = ctlDialBob(t, tp, bob, uriParams)
	}
	ctlHearsTone(t, au, id, "teaphone hears bob before hold", ctlBobHz)

	lm, em := len(bob.Log()), tp.mark()
	if err := bob.Hold(); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, false, true)
	offer, answer := ctlReinviteAnswer(t, bob, tp, lm)
	if o, a := ctlSDPDir(offer), ctlSDPDir(answer); o != "sendonly" || a != "recvonly" {
		t.Errorf("hold: bob offered %s, teaphone answered %s; want sendonly/recvonly:\n%s", o, a, answer)
	}
	// The holder's own view: it may only send.
	ctlWaitAudioDir(t, bob, "bob holding", "sendonly")
	rx := ctlPeerRxTime(t, bob)
	ctlTxFlat(t, tp, id, "held by bob")
	if d := ctlPeerRxTime(t, bob) - rx; d > 0.1 {
		t.Errorf("bob received %.2f s of audio from teaphone while holding it (recvonly)", d)
	}

	lm, em = len(bob.Log()), tp.mark()
	if err := bob.Resume(); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, false, false)
	offer, answer = ctlReinviteAnswer(t, bob, tp, lm)
	if o, a := ctlSDPDir(offer), ctlSDPDir(answer); o != "sendrecv" || a != "sendrecv" {
		t.Errorf("resume: bob offered %s, teaphone answered %s; want sendrecv/sendrecv:\n%s", o, a, answer)
	}
	ctlWaitAudioDir(t, bob, "bob resumed", "sendrecv")
	rx = ctlPeerRxTime(t, bob)
	s1, _ := tp.Stats(id)
	ctlHearsTone(t, au, id, "teaphone hears bob after resume", ctlBobHz)
	if s2, _ := tp.Stats(id); s2.TxPackets-s1.TxPackets < 20 {
		t.Errorf("teaphone sends no RTP after resume: %d packets in ~1 s", s2.TxPackets-s1.TxPackets)
	}
	ctlWaitPeerReceives(t, bob, "bob hears teaphone after resume", rx, 0.5)

	bm, em := bob.Mark(), tp.mark()
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	ctlWaitPeer(t, bob, "bob", bm, "CALL_CLOSED")
	if ev := tp.waitCall(em, id, phone.StateTerminated); ev.HeldLocal || ev.HeldRemote {
		t.Errorf("final event still carries hold flags: %+v", ev)
	}
	ctlCheckTransport(t, bob, ctlProto(uriParams))
	ctlFinish(t, tp, base)
}

// 2. teaphone holds baresip and resumes, over UDP and TCP.
func TestCtlTeaphoneHoldsBaresip(t *testing.T) {
	t.Run("udp", func(t *testing.T) { ctlTeaphoneHolds(t, "") })
	t.Run("tcp", func(t *testing.T) { ctlTeaphoneHolds(t, ";transport=tcp") })
}

func ctlTeaphoneHolds(t *testing.T, uriParams string) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
	base := runtime.NumGoroutine()
	au := ctlNewToneAudio(ctlTeaphoneHz)
	tp := ctlStartPhone(t, "alice", phone.Options{Audio: au})
	id := ctlDialBob(t, tp, bob, uriParams)
	ctlHearsTone(t, au, id, "teaphone hears bob before hold", ctlBobHz)

	em := tp.mark()
	if err := tp.Hold(id); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, true, false)
	// Offered sendonly, so baresip must have answered recvonly.
	ctlWaitAudioDir(t, bob, "bob held by teaphone", "recvonly")

	em = tp.mark()
	if err := tp.Resume(id); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, false, false)
	ctlWaitAudioDir(t, bob, "bob resumed by teaphone", "sendrecv")
	rx := ctlPeerRxTime(t, bob)
	ctlHearsTone(t, au, id, "teaphone hears bob after resume", ctlBobHz)
	ctlWaitPeerReceives(t, bob, "bob hears teaphone after resume", rx, 0.5)

	bm, em := bob.Mark(), tp.mark()
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	tp.waitCall(em, id, phone.StateTerminated)
	ctlWaitPeer(t, bob, "bob", bm, "CALL_CLOSED")
	ctlCheckTransport(t, bob, ctlProto(uriParams))
	ctlFinish(t, tp, base)
}

// ctlProto is the transport that URI parameters select.
func ctlProto(uriParams string) string {
	if strings.Contains(uriParams, "transport=tcp") {
		return "TCP"
	}
	return "UDP"
}

// 2b. Both hold (RFC 3264 §8.4): teaphone holds, bob holds too, teaphone
// resumes while still held, bob resumes; media must come back both ways.
func TestCtlHoldBothSides(t *testing.T) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
	base := runtime.NumGoroutine()
	au := ctlNewToneAudio(ctlTeaphoneHz)
	tp := ctlStartPhone(t, "alice", phone.Options{Audio: au})
	id := ctlDialBob(t, tp, bob, "")

	em := tp.mark()
	if err := tp.Hold(id); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, true, false)
	ctlWaitAudioDir(t, bob, "bob held by teaphone", "recvonly")

	em, lm := tp.mark(), len(bob.Log())
	if err := bob.Hold(); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, true, true)
	offer, answer := ctlReinviteAnswer(t, bob, tp, lm)
	// bob (baresip 1.0) offers sendonly even though it is held, where
	// RFC 3264 §8.4 suggests inactive; teaphone, holding too, neither sends
	// nor receives: inactive.
	if a := ctlSDPDir(answer); a != "inactive" {
		t.Errorf("both on hold: bob offered %s, teaphone answered %s; want inactive", ctlSDPDir(offer), a)
	}
	ctlWaitAudioDir(t, bob, "both on hold", "inactive")

	em = tp.mark()
	if err := tp.Resume(id); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, false, true)
	// bob still holds: it may only send.
	ctlWaitAudioDir(t, bob, "teaphone resumed, bob still holding", "sendonly")
	ctlTxFlat(t, tp, id, "still held by bob")

	em, lm = tp.mark(), len(bob.Log())
	if err := bob.Resume(); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(em, id, false, false)
	if _, answer := ctlReinviteAnswer(t, bob, tp, lm); ctlSDPDir(answer) != "sendrecv" {
		t.Errorf("bob resumed, teaphone answered %s; want sendrecv", ctlSDPDir(answer))
	}
	ctlWaitAudioDir(t, bob, "both resumed", "sendrecv")
	rx := ctlPeerRxTime(t, bob)
	ctlHearsTone(t, au, id, "teaphone hears bob after both resumed", ctlBobHz)
	ctlWaitPeerReceives(t, bob, "bob hears teaphone after both resumed", rx, 0.5)

	bm, em := bob.Mark(), tp.mark()
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	ctlWaitPeer(t, bob, "bob", bm, "CALL_CLOSED")
	tp.waitCall(em, id, phone.StateTerminated)
	ctlFinish(t, tp, base)
}

// 3. baresip (bob) blind-transfers teaphone to another baresip (carol);
// teaphone is the transferee. Run with the first call placed either way,
// because the REFER then arrives on a UAS or a UAC dialog, and with bob
// holding teaphone first (the hold must not leak into the new call).
func TestCtlBaresipTransfersTeaphone(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bobCalls  bool
		holdFirst bool // bob holds teaphone before transferring it
	}{
		{"bob called teaphone", true, false},
		{"teaphone called bob", false, false},
		{"bob holds then transfers", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
			carol := peertest.StartBaresip(t, peertest.BaresipConfig{User: "carol", AudioSource: "ausine,660"})
			base := runtime.NumGoroutine()
			au := ctlNewToneAudio(ctlTeaphoneHz)
			tp := ctlStartPhone(t, "alice", phone.Options{Audio: au, Transfer: phone.TransferPolicy{Mode: phone.TransferAlways}})
			var old phone.SessionID
			if tc.bobCalls {
				old = ctlBobDials(t, tp, bob, "")
			} else {
				old = ctlDialBob(t, tp, bob, "")
			}

			if tc.holdFirst {
				em := tp.mark()
				if err := bob.Hold(); err != nil {
					t.Fatal(err)
				}
				tp.waitFlags(em, old, false, true)
			}

			em, bm, cm, lm := tp.mark(), bob.Mark(), carol.Mark(), len(bob.Log())
			if err := bob.Transfer(carol.URI()); err != nil {
				t.Fatal(err)
			}
			// teaphone accepts the REFER and dials carol.
			req := tp.waitTransfer(em, old, "transfer requested", func(te phone.TransferEvent) bool {
				return !te.Outgoing && te.NewSession != ""
			})
			if !strings.Contains(req.Target, "carol@") {
				t.Errorf("transfer target %q, want carol", req.Target)
			}
			nid := req.NewSession
			if ev := tp.waitCall(em, nid, phone.StateActive); ev.Direction != phone.DirectionOutgoing || ev.HeldLocal || ev.HeldRemote {
				t.Errorf("new call active event %+v: want outgoing, not held", ev)
			}
			ce := ctlWaitPeer(t, carol, "carol", cm, "CALL_ESTABLISHED")
			if ce.Direction != "incoming" {
				t.Errorf("carol's call is %s", ce.Direction)
			}
			fin := tp.waitTransfer(em, old, "final", func(te phone.TransferEvent) bool { return !te.Outgoing && te.Final })
			if fin.Code/100 != 2 || fin.NewSession != nid {
				t.Errorf("final transfer event %+v, want 2xx for %s", fin, nid)
			}
			// bob got 202 and NOTIFYs, closes its call on the 2xx sipfrag.
			if ev := ctlWaitPeer(t, bob, "bob", bm, "CALL_CLOSED"); ev.Param != "Call transfered" {
				t.Errorf("bob closed its call with %q, want \"Call transfered\"", ev.Param)
			}
			if ev := tp.waitCall(em, old, phone.StateTerminated); ev.Reason == "" {
				t.Errorf("old call ended without reason: %+v", ev)
			}
			ctlCheckReferTrace(t, bob, tp, lm)

			// The new call carries audio both ways. carol has no other call,
			// so its only recording is this one (baresip names recordings
			// by the second: two calls in one second overwrite each other).
			ctlHearsTone(t, au, nid, "teaphone hears carol", ctlCarolHz)
			cm = carol.Mark()
			if err := tp.Hangup(nid); err != nil {
				t.Fatal(err)
			}
			tp.waitCall(em, nid, phone.StateTerminated)
			ctlWaitPeer(t, carol, "carol", cm, "CALL_CLOSED")
			ctlAssertRecording(t, "carol hears teaphone", carol, ctlTeaphoneHz)
			ctlFinish(t, tp, base)
		})
	}
}

// ctlCheckReferTrace checks bob's trace of the transfer teaphone executed:
// 202 to the REFER, then NOTIFYs (Event: refer, message/sipfrag) ending with
// a 2xx sipfrag and terminated subscription.
func ctlCheckReferTrace(t *testing.T, bob *peertest.Baresip, tp *ctlPhone, since int) {
	t.Helper()
	addr := tp.LocalAddr()
	log := bob.Log()
	if r := ctlFindSIP(log, since, func(m ctlSIPMsg) bool { return m.isResponse(202, "REFER") && m.Src == addr }); len(r) != 1 {
		t.Errorf("teaphone sent %d 202 responses to the REFER, want 1", len(r))
	}
	notifies := ctlFindSIP(log, since, func(m ctlSIPMsg) bool { return m.isRequest("NOTIFY") && m.Src == addr })
	if len(notifies) < 2 {
		t.Errorf("teaphone sent %d NOTIFYs, want at least 2 (100 and 200)", len(notifies))
		return
	}
	for _, n := range notifies {
		if ev := n.header("Event"); !strings.HasPrefix(ev, "refer") {
			t.Errorf("NOTIFY with Event %q", ev)
		}
		if ct := n.header("Content-Type"); !strings.HasPrefix(ct, "message/sipfrag") {
			t.Errorf("NOTIFY with Content-Type %q", ct)
		}
	}
	last := notifies[len(notifies)-1]
	if !strings.HasPrefix(last.body(), "SIP/2.0 200") || !strings.HasPrefix(last.header("Subscription-State"), "terminated") {
		t.Errorf("last NOTIFY: Subscription-State %q, body %q", last.header("Subscription-State"), last.body())
	}
	for _, n := range notifies {
		cseq := n.header("CSeq")
		if ok := ctlFindSIP(log, since, func(m ctlSIPMsg) bool {
			return m.Src != addr && strings.HasPrefix(m.Start, "SIP/2.0 200") && m.header("CSeq") == cseq
		}); len(ok) == 0 {
			t.Errorf("bob did not answer teaphone's NOTIFY (CSeq %s) with 200", cseq)
		}
	}
}

// 4. teaphone blind-transfers baresip (bob) to another baresip (carol).
func TestCtlTeaphoneTransfersBaresip(t *testing.T) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
	carol := peertest.StartBaresip(t, peertest.BaresipConfig{User: "carol", AudioSource: "ausine,660"})
	base := runtime.NumGoroutine()
	tp := ctlStartPhone(t, "alice", phone.Options{Audio: ctlNewToneAudio(ctlTeaphoneHz)})
	id := ctlDialBob(t, tp, bob, "")

	em, bm, cm := tp.mark(), bob.Mark(), carol.Mark()
	if err := tp.Transfer(id, carol.URI()); err != nil {
		t.Fatal(err)
	}
	if ev := ctlWaitPeer(t, bob, "bob", bm, "TRANSFER"); !strings.Contains(ev.Param, carol.URI()) {
		t.Errorf("bob's TRANSFER event names %q, want %s", ev.Param, carol.URI())
	}
	ce := ctlWaitPeer(t, carol, "carol", cm, "CALL_ESTABLISHED")
	if !strings.Contains(ce.PeerURI, "bob@") {
		t.Errorf("carol's call comes from %q, want bob", ce.PeerURI)
	}
	fin := tp.waitTransfer(em, id, "final", func(te phone.TransferEvent) bool { return te.Outgoing && te.Final })
	if fin.Code/100 != 2 {
		t.Errorf("final transfer event %+v, want 2xx", fin)
	}
	if ev := tp.waitCall(em, id, phone.StateTerminated); ev.Reason != "transferred" {
		t.Errorf("transferred call ended with reason %q, want \"transferred\": %+v", ev.Reason, ev)
	}
	// bob's old call is gone, the new one with carol stays up.
	ctlWaitPeerCall(t, bob, bm, "bob's call with teaphone closed", func(ev peertest.Event) bool {
		return ev.Type == "CALL_CLOSED" && strings.Contains(ev.PeerURI, tp.LocalAddr())
	})
	if evs := carol.Events(cm); ctlHasEvent(evs, "CALL_CLOSED") {
		t.Errorf("carol's call closed early: %+v", evs)
	}

	bm, cm = bob.Mark(), carol.Mark()
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	ctlWaitPeer(t, bob, "bob", bm, "CALL_CLOSED")
	ctlWaitPeer(t, carol, "carol", cm, "CALL_CLOSED")
	ctlFinish(t, tp, base)
}

func ctlHasEvent(evs []peertest.Event, typ string) bool {
	for _, ev := range evs {
		if ev.Type == typ {
			return true
		}
	}
	return false
}

// ctlWaitPeerCall waits for a baresip event that match accepts.
func ctlWaitPeerCall(t *testing.T, b *peertest.Baresip, since int, what string, match func(peertest.Event) bool) peertest.Event {
	t.Helper()
	deadline := time.Now().Add(ctlWait)
	for {
		for _, ev := range b.Events(since) {
			if match(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within %v; events: %+v", what, ctlWait, b.Events(since))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// 4b. A blind transfer whose target refuses (baresip answers 404 to a
// Request-URI user other than its account's): the transferee keeps the
// original call and reports the failure; the transferor learns it from the
// NOTIFY.
func TestCtlTransferFailure(t *testing.T) {
	t.Run("teaphone transfers bob", func(t *testing.T) {
		bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
		carol := peertest.StartBaresip(t, peertest.BaresipConfig{User: "carol", AudioSource: "ausine,660"})
		base := runtime.NumGoroutine()
		au := ctlNewToneAudio(ctlTeaphoneHz)
		tp := ctlStartPhone(t, "alice", phone.Options{Audio: au})
		id := ctlDialBob(t, tp, bob, "")
		nobody := strings.Replace(carol.URI(), "carol@", "nobody@", 1)

		em, bm := tp.mark(), bob.Mark()
		if err := tp.Transfer(id, nobody); err != nil {
			t.Fatal(err)
		}
		ctlWaitPeer(t, bob, "bob", bm, "TRANSFER")
		fin := tp.waitTransfer(em, id, "final", func(te phone.TransferEvent) bool { return te.Outgoing && te.Final })
		if fin.Code < 300 {
			t.Errorf("final transfer event %+v, want a failure", fin)
		}
		if ev := tp.waitCall(em, id, phone.StateActive); !strings.Contains(ev.Reason, "transfer failed") {
			t.Errorf("call back to active with reason %q, want \"transfer failed: …\"", ev.Reason)
		}
		// The call is intact: bob did not close it (only its attempt to
		// nobody), media flows, and it can be hung up.
		for _, ev := range bob.Events(bm) {
			if ev.Type == "CALL_CLOSED" && strings.Contains(ev.PeerURI, tp.LocalAddr()) {
				t.Errorf("bob closed its call with teaphone: %+v", ev)
			}
		}
		ctlHearsTone(t, au, id, "teaphone hears bob after the failed transfer", ctlBobHz)
		bm, em = bob.Mark(), tp.mark()
		if err := tp.Hangup(id); err != nil {
			t.Fatal(err)
		}
		tp.waitCall(em, id, phone.StateTerminated)
		ctlWaitPeer(t, bob, "bob", bm, "CALL_CLOSED")
		ctlFinish(t, tp, base)
	})
	t.Run("bob transfers teaphone", func(t *testing.T) {
		bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
		carol := peertest.StartBaresip(t, peertest.BaresipConfig{User: "carol", AudioSource: "ausine,660"})
		base := runtime.NumGoroutine()
		au := ctlNewToneAudio(ctlTeaphoneHz)
		tp := ctlStartPhone(t, "alice", phone.Options{Audio: au, Transfer: phone.TransferPolicy{Mode: phone.TransferAlways}})
		id := ctlBobDials(t, tp, bob, "")
		nobody := strings.Replace(carol.URI(), "carol@", "nobody@", 1)

		em, bm, lm := tp.mark(), bob.Mark(), len(bob.Log())
		if err := bob.Transfer(nobody); err != nil {
			t.Fatal(err)
		}
		req := tp.waitTransfer(em, id, "requested", func(te phone.TransferEvent) bool { return !te.Outgoing && te.NewSession != "" })
		if ev := tp.waitCall(em, req.NewSession, phone.StateFailed); ev.Code != 404 {
			t.Errorf("new call to %s failed with %d, want 404: %+v", nobody, ev.Code, ev)
		}
		fin := tp.waitTransfer(em, id, "final", func(te phone.TransferEvent) bool { return !te.Outgoing && te.Final })
		if fin.Code != 404 {
			t.Errorf("final transfer event %+v, want 404", fin)
		}
		ctlWaitPeer(t, bob, "bob", bm, "TRANSFER_FAILED")
		// teaphone's last NOTIFY carries the failure and ends the subscription.
		deadline := time.Now().Add(ctlWait)
		for {
			notifies := ctlFindSIP(bob.Log(), lm, func(m ctlSIPMsg) bool { return m.isRequest("NOTIFY") && m.Src == tp.LocalAddr() })
			if n := len(notifies); n > 0 && strings.HasPrefix(notifies[n-1].body(), "SIP/2.0 404") {
				if st := notifies[n-1].header("Subscription-State"); !strings.HasPrefix(st, "terminated") {
					t.Errorf("failure NOTIFY with Subscription-State %q", st)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no NOTIFY with a 404 sipfrag in bob's trace")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// baresip 1.0's menu hangs up the call itself after a failed
		// transfer (BYE, and no CALL_CLOSED event for it). teaphone must
		// have kept the call until that BYE.
		if ev := tp.waitCall(em, id, phone.StateTerminated); ev.Reason != "remote hangup" {
			t.Errorf("old call ended with %q, want \"remote hangup\" (bob's BYE): %+v", ev.Reason, ev)
		}
		for _, ev := range tp.snapshot()[em:] {
			if ce, ok := ev.(phone.CallEvent); ok && ce.Session == id && ce.State != phone.StateTerminated {
				t.Errorf("old call changed state during the failed transfer: %+v", ce)
			}
		}
		if byes := ctlFindSIP(bob.Log(), lm, func(m ctlSIPMsg) bool { return m.isRequest("BYE") && m.Src == tp.LocalAddr() }); len(byes) > 0 {
			t.Errorf("teaphone sent BYE on the old call itself:\n%s", byes[0].Text)
		}
		ctlFinish(t, tp, base)
	})
}

// 5. DTMF over SIP INFO (application/dtmf-relay) to baresip: forced by
// Options.DTMFInfo, and chosen by teaphone while RTP cannot carry RFC 4733
// events (either side holds).
func TestCtlDTMFInfo(t *testing.T) {
	t.Run("DTMFInfo option", func(t *testing.T) { ctlDTMFInfo(t, true, "") })
	t.Run("while teaphone holds", func(t *testing.T) { ctlDTMFInfo(t, false, "teaphone") })
	t.Run("while bob holds", func(t *testing.T) { ctlDTMFInfo(t, false, "bob") })
}

func ctlDTMFInfo(t *testing.T, forceInfo bool, holder string) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440"})
	base := runtime.NumGoroutine()
	tp := ctlStartPhone(t, "alice", phone.Options{DTMFInfo: forceInfo})
	id := ctlDialBob(t, tp, bob, "")
	switch em := tp.mark(); holder {
	case "teaphone":
		if err := tp.Hold(id); err != nil {
			t.Fatal(err)
		}
		tp.waitFlags(em, id, true, false)
	case "bob":
		if err := bob.Hold(); err != nil {
			t.Fatal(err)
		}
		tp.waitFlags(em, id, false, true)
	}

	const digits = "123*#"
	bm, lm := bob.Mark(), len(bob.Log())
	if err := tp.SendDTMF(id, digits); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(ctlWait)
	// teaphone reports a digit sent once its INFO got the 200: then bob's
	// trace holds the 200 too.
	for time.Now().Before(deadline) {
		if sent, _ := tp.sentDTMF(id); len(bob.DTMFReceived(bm)) >= len(digits) && len(sent) >= len(digits) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := bob.DTMFReceived(bm); got != digits {
		t.Errorf("bob received DTMF %q, want %q", got, digits)
	}
	if sent, methods := tp.sentDTMF(id); sent != digits || strings.Join(methods, ",") != strings.TrimSuffix(strings.Repeat("info,", len(digits)), ",") {
		t.Errorf("teaphone reports sent %q by %v, want %q by info", sent, methods, digits)
	}
	addr := tp.LocalAddr()
	infos := ctlFindSIP(bob.Log(), lm, func(m ctlSIPMsg) bool { return m.isRequest("INFO") && m.Src == addr })
	var signals []string
	for _, m := range infos {
		if ct := m.header("Content-Type"); ct != "application/dtmf-relay" {
			t.Errorf("INFO Content-Type %q", ct)
		}
		body := m.body()
		if !strings.Contains(body, "Duration=") {
			t.Errorf("INFO body without Duration: %q", body)
		}
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Signal="); ok {
				signals = append(signals, v)
			}
		}
	}
	if strings.Join(signals, "") != digits {
		t.Errorf("INFO Signals %q in bob's trace, want %q", signals, digits)
	}
	if oks := ctlFindSIP(bob.Log(), lm, func(m ctlSIPMsg) bool { return m.isResponse(200, "INFO") && m.Dst == addr }); len(oks) != len(digits) {
		t.Errorf("bob answered %d INFOs with 200, want %d", len(oks), len(digits))
	}

	bm, em := bob.Mark(), tp.mark()
	if err := tp.Hangup(id); err != nil {
		t.Fatal(err)
	}
	tp.waitCall(em, id, phone.StateTerminated)
	ctlWaitPeer(t, bob, "bob", bm, "CALL_CLOSED")
	ctlFinish(t, tp, base)
}

// 6. Attended transfer (RFC 5589 §7) with a real transferee: teaphone
// alice calls linphonec bob and holds him, consults teaphone carol, then
// AttendedTransfer sends bob a REFER whose Refer-To carries "?Replaces="
// for the alice-carol dialog (RFC 3891 §3, RFC 3515 §2.1). bob must INVITE
// carol with that Replaces header; carol replaces her call with alice by
// the new one; bob's NOTIFYs end in a 200 sipfrag, after which alice's two
// calls end. bob is linphonec because baresip 1.0 cannot take this role: it
// copies the escaped "?Replaces=" into its INVITE's Request-URI and sends
// no Replaces header, so carol would see an unrelated call.
func TestCtlAttendedTransferLinphonecTransferee(t *testing.T) {
	const bobHz, carolHz = 440, 660
	dir := t.TempDir()
	play := filepath.Join(dir, "bob-440.wav")
	ctlWriteToneWAV(t, play, bobHz, 4)
	bob := peertest.StartLinphonec(t, peertest.LinphoneConfig{User: "bob", AutoAnswer: true, PlayWAV: play})
	base := runtime.NumGoroutine()
	alice := ctlStartPhone(t, "alice", phone.Options{Audio: ctlNewToneAudio(ctlTeaphoneHz)})
	cau := ctlNewToneAudio(carolHz)
	carol := ctlStartPhone(t, "carol", phone.Options{Audio: cau})
	bobAddr := "127.0.0.1:" + strconv.Itoa(bob.SIPPort)

	// alice calls bob, then holds him.
	am, bm := alice.mark(), bob.Mark()
	ab, err := alice.Dial(context.Background(), bob.URI(), phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitCall(am, ab, phone.StateActive)
	if _, err := bob.WaitOutput(bm, "connected.", ctlWait); err != nil {
		t.Fatal(err)
	}
	am, bm = alice.mark(), bob.Mark()
	if err := alice.Hold(ab); err != nil {
		t.Fatal(err)
	}
	alice.waitFlags(am, ab, true, false)
	if _, err := bob.WaitOutput(bm, "has been paused by", ctlWait); err != nil {
		t.Fatal(err)
	}

	// The consultation call: alice calls carol.
	am, cm := alice.mark(), carol.mark()
	ac, err := alice.Dial(context.Background(), carol.uri("carol"), phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice.waitCall(am, ac, phone.StateActive)
	old := carol.waitIncomingActive(cm)

	// What bob receives from carol goes to a recording of its own (a
	// "record" command applies to the calls that follow it).
	rec := filepath.Join(dir, "bob-from-carol.wav")
	if _, err := bob.Exec("record " + rec); err != nil {
		t.Fatal(err)
	}

	am, bm, cm, lm := alice.mark(), bob.Mark(), carol.mark(), len(bob.DebugLog())
	if err := alice.AttendedTransfer(ab, ac); err != nil {
		t.Fatal(err)
	}

	// bob got the REFER with the escaped Replaces in Refer-To …
	refer := ctlWaitLinphoneSIP(t, bob, lm, "REFER from alice", func(m ctlSIPMsg) bool {
		return m.isRequest("REFER") && m.Src == alice.LocalAddr()
	})
	referTo := refer.header("Refer-To")
	_, escaped, ok := strings.Cut(strings.Trim(referTo, "<>"), "?Replaces=")
	if !ok {
		t.Fatalf("Refer-To %q carries no Replaces", referTo)
	}
	wantRep, err := url.QueryUnescape(escaped)
	if err != nil {
		t.Fatalf("Refer-To %q: %v", referTo, err)
	}
	// … and sent carol an INVITE with it as a Replaces header naming the
	// alice-carol dialog: its Call-ID, carol's tag as to-tag, alice's as
	// from-tag (RFC 3891 §3). The tags are compared with the Refer-To's;
	// that they are carol's shows below, when she replaces the call
	// (teaphone answers 481 to a Replaces whose tags do not match).
	inv := ctlWaitLinphoneSIP(t, bob, lm, "INVITE to carol", func(m ctlSIPMsg) bool {
		return m.isRequest("INVITE") && m.Dst == carol.LocalAddr()
	})
	rep := inv.header("Replaces")
	if rep == "" {
		t.Fatalf("bob's INVITE to carol has no Replaces header:\n%s", inv.Text)
	}
	gotID, gotTags := ctlReplacesParts(rep)
	wantID, wantTags := ctlReplacesParts(wantRep)
	if gotID != old.SIPCallID || gotID != wantID || gotTags != wantTags {
		t.Errorf("Replaces: %q, want Call-ID %s (carol's call with alice) and the tags of the Refer-To's %q", rep, old.SIPCallID, wantRep)
	}
	if acc := ctlWaitLinphoneSIP(t, bob, lm, "202 to the REFER", func(m ctlSIPMsg) bool { return m.isResponse(202, "REFER") }); acc.Dst != alice.LocalAddr() {
		t.Errorf("bob answered the REFER to %s", acc.Dst)
	}

	// carol answered the INVITE at once (no ringing: it replaces a
	// connected call) and ended her call with alice, replaced by it.
	nc := carol.waitIncomingActive(cm)
	if nc.Session == old.Session || nc.SIPCallID != inv.header("Call-ID") || !strings.Contains(nc.RemoteURI, "bob@") {
		t.Errorf("carol's new call %+v, want bob's INVITE (Call-ID %s)", nc, inv.header("Call-ID"))
	}
	if ev := carol.waitCall(cm, old.Session, phone.StateTerminated); ev.Reason != "replaced" || ev.ReplacedBy != nc.Session {
		t.Errorf("carol's call with alice ended %+v, want replaced by %s", ev, nc.Session)
	}
	for _, ev := range carol.snapshot()[cm:] {
		if ce, ok := ev.(phone.CallEvent); ok && ce.Session == nc.Session && ce.State == phone.StateRinging {
			t.Errorf("carol's replacing call rang: %+v", ce)
		}
	}
	ctlWaitLinphoneSIP(t, bob, lm, "carol's 200 to the INVITE", func(m ctlSIPMsg) bool {
		return m.isResponse(200, "INVITE") && m.Src == carol.LocalAddr()
	})

	// bob reports the outcome (RFC 3515 §2.4.5): NOTIFYs with sipfrag, the
	// last a 200 ending the subscription. Then alice's calls end.
	fin := alice.waitTransfer(am, ab, "final", func(te phone.TransferEvent) bool { return te.Outgoing && te.Final })
	if fin.Code != 200 {
		t.Errorf("final transfer event %+v, want 200", fin)
	}
	last := ctlWaitLinphoneSIP(t, bob, lm, "final NOTIFY", func(m ctlSIPMsg) bool {
		return m.isRequest("NOTIFY") && m.Dst == alice.LocalAddr() && strings.HasPrefix(m.header("Subscription-State"), "terminated")
	})
	if ev, ct := last.header("Event"), last.header("Content-Type"); ev != "refer" || !strings.HasPrefix(ct, "message/sipfrag") || !strings.HasPrefix(last.body(), "SIP/2.0 200") {
		t.Errorf("final NOTIFY: Event %q, Content-Type %q, body %q", ev, ct, last.body())
	}
	if ev := alice.waitCall(am, ab, phone.StateTerminated); ev.Reason != "transferred" {
		t.Errorf("alice's call with bob ended %+v, want \"transferred\"", ev)
	}
	// carol ends the replaced dialog herself (RFC 3891 §3); alice sends BYE
	// there only if carol's has not come 2 s after the NOTIFY.
	if ev := alice.waitCall(am, ac, phone.StateTerminated); ev.Reason != "remote hangup" && ev.Reason != "transferred" {
		t.Errorf("alice's call with carol ended %+v, want carol's BYE or \"transferred\"", ev)
	}
	if _, err := bob.WaitOutput(bm, alice.LocalAddr()+" ended (", ctlWait); err != nil {
		t.Errorf("bob's call with alice: %v", err)
	}
	for _, m := range ctlLinphoneTrace(bob.DebugLog(), bobAddr, lm) {
		if strings.HasPrefix(m.Start, "SIP/2.0 4") || strings.HasPrefix(m.Start, "SIP/2.0 5") {
			t.Errorf("%s -> %s: %s", m.Src, m.Dst, m.Start)
		}
	}

	// bob and carol hear each other.
	ctlHearsTone(t, cau, nc.Session, "carol hears bob", bobHz)
	bm, cm = bob.Mark(), carol.mark()
	if err := carol.Hangup(nc.Session); err != nil {
		t.Fatal(err)
	}
	carol.waitCall(cm, nc.Session, phone.StateTerminated)
	if _, err := bob.WaitOutput(bm, "ended (", ctlWait); err != nil {
		t.Fatal(err)
	}
	ctlAssertTone(t, "bob hears carol ("+rec+")", ctlLinphoneRecording(t, rec), carolHz)
	ctlFinishAll(t, base, alice, carol)
}

// ctlReplacesParts splits a Replaces value (RFC 3891 §6.1) into its Call-ID
// and its to-tag and from-tag, lowercased names, in a fixed order.
func ctlReplacesParts(v string) (callID, tags string) {
	parts := strings.Split(v, ";")
	var to, from string
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			to = val
		case "from-tag":
			from = val
		}
	}
	return strings.TrimSpace(parts[0]), "to-tag=" + to + ";from-tag=" + from
}
