package phone

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/phone/sdp"
)

// TestReInviteWithoutSDP: an INVITE without an offer inside the dialog gets
// our current offer in the 200, and the answer comes in the ACK (RFC 3261 §14.2).
func TestReInviteWithoutSDP(t *testing.T) {
	a, b, h := pair(t, Accept())
	ida, idb := connect(t, a, b, h)
	ca, err := a.lookup(ida)
	if err != nil {
		t.Fatal(err)
	}
	req := ca.newRequest(sip.INVITE)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	res, err := ca.request(ctx, req)
	cancel()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("offer-less re-INVITE: %v %v", res, err)
	}
	offer, err := sdp.Parse(res.Body())
	if err != nil || offer.Port == 0 || offer.Direction != sdp.SendRecv {
		t.Fatalf("200 carries no usable offer: %+v %v\n%s", offer, err, res.Body())
	}
	answer, err := ca.media.answer(res.Body())
	if err != nil {
		t.Fatal(err)
	}
	ack := sip.NewRequest(sip.ACK, res.Contact().Address)
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(answer)
	ca.mu.Lock()
	cs, ss := ca.cs, ca.ss
	ca.mu.Unlock()
	ca.dialogMu.Lock()
	if cs != nil {
		err = cs.WriteRequest(ack) // the CSeq is still the re-INVITE's
	} else {
		err = ss.WriteRequest(ack)
	}
	ca.dialogMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	// The call goes on: a hold after it still works both ways.
	if err := a.Hold(ida); err != nil {
		t.Fatal(err)
	}
	b.waitFlags(idb, false, true)
}

func TestMuteSendsSilence(t *testing.T) {
	aAudio := &toneAudio{hz: 1000}
	bAudio := &toneAudio{hz: 440}
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: aAudio})
	b := newTestPhone(t, Options{Audio: bAudio, Handler: h})
	ida, idb := connect(t, a, b, h)
	bAudio.after(0, 4000)
	if err := a.Mute(ida, true); err != nil {
		t.Fatal(err)
	}
	a.waitFor(wait, func(ev Event) bool { ce, ok := ev.(CallEvent); return ok && ce.Muted })
	time.Sleep(200 * time.Millisecond)
	muted := bAudio.after(len(bAudio.received()), 4000)
	if db := analyze.DBFS(muted); db > -50 {
		t.Errorf("muted call still carries audio: %.1f dBFS", db)
	}
	// Mute does not touch the call or hold: b still sends, a still hears.
	assertTone(t, "a hears b while muted", aAudio.after(len(aAudio.received())-4000, 4000), 440)
	if err := a.Mute(ida, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	assertTone(t, "after unmute", bAudio.after(len(bAudio.received()), 6000), 1000)
	if ev := b.waitFlags(idb, false, false); ev.State != StateActive {
		t.Errorf("%+v", ev)
	}
}

// TestHoldOldStyle: with HoldC0 the hold offer says c=0.0.0.0 (RFC 2543
// style, for old PBXs); the held side sees it as hold and resume works.
func TestHoldOldStyle(t *testing.T) {
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{HoldC0: true})
	b := newTestPhone(t, Options{Handler: h})
	ida, idb := connect(t, a, b, h)
	ca, _ := a.lookup(ida)
	ca.media.mu.Lock()
	ca.media.localDir = sdp.SendOnly
	ca.media.mu.Unlock()
	offer, _ := ca.media.offer()
	ca.media.setLocalDir(sdp.SendRecv)
	if !strings.Contains(string(offer), "c=IN IP4 0.0.0.0") {
		t.Fatalf("hold offer without c=0.0.0.0:\n%s", offer)
	}
	if err := a.Hold(ida); err != nil {
		t.Fatal(err)
	}
	b.waitFlags(idb, false, true)
	if err := a.Resume(ida); err != nil {
		t.Fatal(err)
	}
	b.waitFlags(idb, false, false)
}
