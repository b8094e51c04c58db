package phone

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// dialog is what both sipgo dialog sessions offer for in-dialog requests:
// TransactionRequest fills in From, To, Call-ID, the next CSeq and the route
// set, and sends.
type dialog interface {
	TransactionRequest(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error)
}

// dialogLocked returns the call's dialog and the remote target: the
// remote's Contact from the dialog-creating exchange, or from the latest
// target refresh (RFC 3261 §12.2.1.1, §12.2.1.2, §12.2.2). c.mu must be held.
func (c *call) dialogLocked() (dialog, sip.Uri, error) {
	var d dialog
	var target sip.Uri
	switch {
	case c.cs != nil && c.cs.InviteResponse != nil:
		d, target = c.cs, c.cs.InviteRequest.Recipient
		if ct := c.cs.InviteResponse.Contact(); ct != nil {
			target = ct.Address
		}
	case c.ss != nil:
		d, target = c.ss, c.ss.InviteRequest.Recipient
		if ct := c.ss.InviteRequest.Contact(); ct != nil {
			target = ct.Address
		}
	default:
		return nil, sip.Uri{}, errors.New("no dialog")
	}
	if c.remoteTarget != nil {
		target = *c.remoteTarget
	}
	return d, target, nil
}

// tags returns the Call-ID and our and the remote's dialog tags.
func (c *call) tags() (callID, local, remote string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cs != nil && c.cs.InviteResponse != nil {
		if f := c.cs.InviteRequest.From(); f != nil {
			local, _ = f.Params.Get("tag")
		}
		if t := c.cs.InviteResponse.To(); t != nil {
			remote, _ = t.Params.Get("tag")
		}
	} else if c.ss != nil {
		if t := c.ss.InviteRequest.To(); t != nil {
			local, _ = t.Params.Get("tag")
		}
		if f := c.ss.InviteRequest.From(); f != nil {
			remote, _ = f.Params.Get("tag")
		}
	}
	return c.sipCallID, local, remote
}

// send sends req inside the dialog, to the current remote target, and
// returns its client transaction. The dialog lock is held from the CSeq
// number to the send, never while waiting for the response.
func (c *call) send(ctx context.Context, req *sip.Request) (sip.ClientTransaction, error) {
	c.dialogMu.Lock()
	defer c.dialogMu.Unlock()
	c.mu.Lock()
	d, target, err := c.dialogLocked()
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	req.Recipient = target
	c.p.fromListener(req, c.transport)
	if req.Contact() == nil {
		ct := c.contact()
		req.AppendHeader(&ct)
	}
	return d.TransactionRequest(ctx, req)
}

// request sends req inside the dialog and waits for its final response,
// or until ctx (usually the call's: hang-up cancels it) is done.
func (c *call) request(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("transaction ended without a final response")
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// newRequest makes a request of the dialog; send addresses it.
func (c *call) newRequest(method sip.RequestMethod) *sip.Request {
	c.mu.Lock()
	_, target, _ := c.dialogLocked()
	c.mu.Unlock()
	return sip.NewRequest(method, target)
}

func (p *Phone) activeCall(id SessionID) (*call, error) {
	c, err := p.lookup(id)
	if err != nil {
		return nil, err
	}
	if st := c.getState(); st != StateActive {
		return nil, fmt.Errorf("%w: session %s is %s", ErrWrongState, id, st)
	}
	return c, nil
}

// setRemoteTarget records the remote target: the Contact of the remote's
// dialog-creating message, then of each target refresh (RFC 3261 §12.2).
// sipgo does not track it; send addresses every request we make with it.
func (c *call) setRemoteTarget(u sip.Uri) {
	c.mu.Lock()
	c.remoteTarget = &u
	c.mu.Unlock()
}
