package phone

import (
	"context"
	"errors"
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// dialog is what both sipgo dialog sessions offer for in-dialog requests.
type dialog interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
	WriteRequest(req *sip.Request) error
}

// dialogLocked returns the call's dialog and the remote target (RFC 3261
// §12.2.1.1: the Contact of the remote party). c.mu must be held.
func (c *call) dialogLocked() (dialog, sip.Uri, error) {
	if c.cs != nil && c.cs.InviteResponse != nil {
		target := c.cs.InviteRequest.Recipient
		if ct := c.cs.InviteResponse.Contact(); ct != nil {
			target = ct.Address
		}
		return c.cs, target, nil
	}
	if c.ss != nil {
		target := c.ss.InviteRequest.Recipient
		if ct := c.ss.InviteRequest.Contact(); ct != nil {
			target = ct.Address
		}
		return c.ss, target, nil
	}
	return nil, sip.Uri{}, errors.New("no dialog")
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

func (c *call) contactUser() string {
	if c.acct != nil {
		return c.acct.user()
	}
	return "teaphone"
}

// inDialog sends one request inside the dialog and returns the final response.
func (c *call) inDialog(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	c.mu.Lock()
	d, _, err := c.dialogLocked()
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	ct := c.p.contactFor(c.contactUser(), c.transport)
	req.AppendHeader(&ct)
	return d.Do(ctx, req)
}

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

// setRemoteTarget records a target refresh (RFC 3261 §12.2.1.2). sipgo does
// not track it; we only use it for requests we build ourselves.
func (c *call) setRemoteTarget(u sip.Uri) {
	c.mu.Lock()
	c.remoteTarget = &u
	c.mu.Unlock()
}
