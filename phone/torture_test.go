package phone

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
)

// TestTortureMessages feeds the RFC 4475 torture messages (valid but odd, and
// invalid ones) through the SIP parser and, when they parse, through the
// phone's request handlers. Nothing may panic or hang, and the phone must
// still place and take calls afterwards. The messages are not sent over the
// network here (TestTortureOverNetwork does that): the handlers are fed
// directly, past the screen (screen.go) that stops the malformed ones.
func TestTortureMessages(t *testing.T) {
	// The messages of RFC 4475 §3, one per file.
	files, _ := filepath.Glob(filepath.Join("testdata", "rfc4475", "*.dat"))
	if len(files) < 40 {
		t.Fatalf("RFC 4475 messages missing: %d files", len(files))
	}
	h := &handlerChan{calls: make(chan IncomingCall, 64), dec: Reject(486, "Busy Here")}
	p := newTestPhone(t, Options{Handler: h})
	parsed := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		msg, err := parseNoPanic(data)
		if err != nil {
			t.Logf("%s: refused by the parser: %v", name, err)
			continue
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			continue
		}
		if _, err := sip.ServerTxKeyMake(req); err != nil {
			// The transaction layer drops what it cannot key (no From tag:
			// RFC 2543 style): it never reaches the phone.
			t.Logf("%s: refused by the transaction layer: %v", name, err)
			continue
		}
		parsed++
		done := make(chan string, 1)
		tx := siptest.NewServerTxRecorder(req)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Sprint("panic: ", r)
				}
			}()
			p.dispatch(req, tx)
			var codes []int
			for _, res := range tx.Result() {
				codes = append(codes, res.StatusCode)
			}
			done <- fmt.Sprint(codes)
		}()
		// A final response to an INVITE waits for an ACK nobody sends here:
		// end the transaction once it is answered, as Timer H would.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if rs := tx.Result(); len(rs) > 0 && rs[len(rs)-1].StatusCode >= 200 {
				tx.Terminate()
				break
			}
			if len(done) > 0 {
				break
			}
		}
		select {
		case r := <-done:
			if len(r) > 6 && r[:6] == "panic:" {
				t.Errorf("%s: %s", name, r)
			} else {
				t.Logf("%s %s: answered %s", name, req.Method, r)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: handler did not return", name)
		}
	}
	if parsed == 0 {
		t.Fatal("no torture message parsed: the test proves nothing")
	}
	// The phone still works.
	b := newTestPhone(t, Options{})
	id, err := b.Dial(context.Background(), p.uri("bob"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := b.waitCall(id, StateFailed, wait); ev.Code != 486 {
		t.Errorf("call after torture: %+v", ev)
	}
}

func parseNoPanic(data []byte) (msg sip.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser panic: %v", r)
		}
	}()
	return sip.ParseMessage(data)
}

// dispatch routes a request as the server does.
func (p *Phone) dispatch(req *sip.Request, tx sip.ServerTransaction) {
	if h := p.handlers()[req.Method]; h != nil {
		h(req, tx)
	}
}
