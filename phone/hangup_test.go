package phone

import (
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestRacingHangupsSendOneBye: hang-ups that race (the user twice, as a
// key held down would) while the first BYE still waits for its answer
// send one BYE, not one each.
func TestRacingHangupsSendOneBye(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			time.Sleep(300 * time.Millisecond) // the answer is slow: the race window
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {})
	})
	a := newTestPhone(t, Options{Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	_, in := callPhone(t, fp, a, "alice", sip.Uri{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = a.Hangup(in)
		}()
	}
	wg.Wait()
	a.waitCall(in, StateTerminated, wait)
	time.Sleep(200 * time.Millisecond) // a second BYE would have been sent by now
	if n := len(fp.requests(sip.BYE)); n != 1 {
		t.Fatalf("%d BYEs for one call, want 1", n)
	}
}
