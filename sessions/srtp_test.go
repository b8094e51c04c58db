package sessions

import (
	"testing"

	"github.com/teaphone/teaphone/phone"
)

// TestSRTPCarried: the suite of a phone CallEvent reaches CallInfo and is
// published; a re-INVITE that turns SRTP off clears it, the end keeps it.
func TestSRTPCarried(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	ev := callEv(sid, phone.DirectionOutgoing, phone.StateActive, 1)
	ev.SRTP = "AES_CM_128_HMAC_SHA1_80"
	fp.emit(t, ev)
	if ce := recvCall(t, sub); ce.Call.State != StateConnected || ce.Call.SRTP != "AES_CM_128_HMAC_SHA1_80" {
		t.Fatalf("%+v", ce)
	}
	ev.SRTP = ""
	fp.emit(t, ev)
	if ce := recvCall(t, sub); ce.Call.SRTP != "" {
		t.Fatalf("SRTP off not published: %+v", ce)
	}
	ev.SRTP = "AEAD_AES_128_GCM"
	fp.emit(t, ev)
	recvCall(t, sub)
	end := callEv(sid, phone.DirectionOutgoing, phone.StateTerminated, 2)
	end.SRTP = ""
	fp.emit(t, end)
	if ce := recvCall(t, sub); ce.Call.State != StateTerminated || ce.Call.SRTP != "AEAD_AES_128_GCM" {
		t.Fatalf("end: %+v", ce)
	}
	if c, _ := m.Call(id); c.SRTP != "AEAD_AES_128_GCM" {
		t.Errorf("CallInfo %+v", c)
	}
}
