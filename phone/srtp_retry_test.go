package phone

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/sdp"
)

// savpOnlyCallee is a peer that, like baresip's srtp-mand, refuses an
// RTP/AVP offer with 488 (or every offer when always488) and answers an
// RTP/SAVP one with its own key, as sdp.Answer makes it.
func savpOnlyCallee(t *testing.T, always488 bool) *fakePeer {
	local := &sdp.Local{Addr: "127.0.0.1", Port: 9, SRTP: &sdp.SRTP{Mandatory: true}}
	return newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			m, err := sdp.Parse(req.Body())
			if always488 || err != nil || !m.SAVP {
				_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
				return
			}
			ans, _, _, err := sdp.Answer(local, req.Body(), sdp.SendRecv)
			if err != nil {
				_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
				return
			}
			res := fp.sdpResponse(req, 200, "OK", "x")
			res.SetBody(ans)
			_ = tx.Respond(res)
			select {
			case <-tx.Acks():
			case <-time.After(5 * time.Second):
			}
		})
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
}

// TestSRTPOptionalRetriesSAVP: an srtp-optional call refused with 488 by a
// peer that only does RTP/SAVP is offered again, once, as RTP/SAVP with the
// same keys, Call-ID and From tag and the next CSeq, and is encrypted; a
// peer that refuses that too ends the call with its 488 after two INVITEs;
// mandatory and plain calls are never retried.
func TestSRTPOptionalRetriesSAVP(t *testing.T) {
	t.Run("retried", func(t *testing.T) {
		fp := savpOnlyCallee(t, false)
		a := newTestPhone(t, Options{Encryption: EncryptionSRTPOptional})
		start := time.Now()
		id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		act := a.waitCall(id, StateActive, wait)
		t.Logf("active after %v", time.Since(start).Round(time.Millisecond))
		if act.SRTP != string(sdp.AESCM128SHA1x80) {
			t.Errorf("active event srtp %q, want %s", act.SRTP, sdp.AESCM128SHA1x80)
		}
		invs := fp.requests(sip.INVITE)
		if len(invs) != 2 {
			t.Fatalf("%d INVITEs, want 2", len(invs))
		}
		first, err1 := sdp.Parse(invs[0].Body())
		retry, err2 := sdp.Parse(invs[1].Body())
		if err1 != nil || err2 != nil || first.SAVP || !retry.SAVP {
			t.Fatalf("offers: first SAVP %v (%v), retry SAVP %v (%v); want RTP/AVP then RTP/SAVP", first.SAVP, err1, retry.SAVP, err2)
		}
		if len(first.Crypto) == 0 || len(first.Crypto) != len(retry.Crypto) {
			t.Fatalf("a=crypto lines: %d then %d", len(first.Crypto), len(retry.Crypto))
		}
		for i := range first.Crypto {
			if first.Crypto[i].Suite != retry.Crypto[i].Suite || !bytes.Equal(first.Crypto[i].Key, retry.Crypto[i].Key) {
				t.Errorf("line %d: the retry changed the key", i)
			}
		}
		if invs[0].CallID().Value() != invs[1].CallID().Value() || invs[1].CSeq().SeqNo != invs[0].CSeq().SeqNo+1 {
			t.Errorf("retry Call-ID %q CSeq %d, first %q %d", invs[1].CallID().Value(), invs[1].CSeq().SeqNo, invs[0].CallID().Value(), invs[0].CSeq().SeqNo)
		}
		t1, _ := invs[0].From().Params.Get("tag")
		t2, _ := invs[1].From().Params.Get("tag")
		if t1 != t2 {
			t.Errorf("From tags %q and %q differ", t1, t2)
		}
		// A re-INVITE (hold) keeps offering RTP/SAVP.
		if err := a.Hold(id); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(wait)
		for len(fp.requests(sip.INVITE)) < 3 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if invs = fp.requests(sip.INVITE); len(invs) < 3 {
			t.Fatal("no hold re-INVITE")
		}
		if hold, err := sdp.Parse(invs[2].Body()); err != nil || !hold.SAVP {
			t.Errorf("hold re-offer not RTP/SAVP (%v)", err)
		}
		_ = a.Hangup(id)
		a.waitCall(id, StateTerminated, wait)
	})
	for _, tc := range []struct {
		name    string
		enc     Encryption
		always  bool
		invites int
		reason  string
	}{
		{"second 488", EncryptionSRTPOptional, true, 2, "Not Acceptable Here (to our RTP/AVP and our RTP/SAVP offer)"},
		{"mandatory", EncryptionSRTPMandatory, true, 1, "Not Acceptable Here (the peer refused SRTP, which media.encryption = srtp-mandatory requires)"},
		{"plain", EncryptionNone, false, 1, "Not Acceptable Here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := savpOnlyCallee(t, tc.always)
			a := newTestPhone(t, Options{Encryption: tc.enc})
			id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ev := a.waitCall(id, StateFailed, wait); ev.Code != 488 || ev.Reason != tc.reason {
				t.Errorf("failed with %d %q, want 488 %q", ev.Code, ev.Reason, tc.reason)
			}
			if n := len(fp.requests(sip.INVITE)); n != tc.invites {
				t.Errorf("%d INVITEs, want %d", n, tc.invites)
			}
		})
	}
}
