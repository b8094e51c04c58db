package phone

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/sdp"
)

// Hold puts the call on hold: a re-INVITE offering sendonly, or inactive when
// the remote already holds us (RFC 3264 §8.4).
func (p *Phone) Hold(id SessionID) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	return c.setHold(true)
}

// Resume takes the call off hold with a re-INVITE offering sendrecv.
func (p *Phone) Resume(id SessionID) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	return c.setHold(false)
}

func (c *call) setHold(hold bool) error {
	c.mu.Lock()
	if c.heldLocal == hold {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	dir := sdp.SendRecv
	if hold {
		dir = sdp.SendOnly
		if c.media.remoteHolds() {
			dir = sdp.Inactive
		}
	}
	if err := c.reinvite(dir); err != nil {
		verb := "resume"
		if hold {
			verb = "hold"
		}
		return fmt.Errorf("%s %s: %w", verb, c.id, err)
	}
	c.mu.Lock()
	c.heldLocal = hold
	c.mu.Unlock()
	reason := "resumed"
	if hold {
		reason = "held"
	}
	c.media.update()
	c.changed(reason)
	return nil
}

// errGlare is a 491 to our re-INVITE.
var errGlare = errors.New("491 Request Pending")

// reinvite sends a re-INVITE offering dir, retrying after 491 (RFC 3261
// §14.1: the owner of the Call-ID waits 2.1-4 s, the other side 0-2 s).
func (c *call) reinvite(dir sdp.Direction) error {
	for attempt := 0; ; attempt++ {
		err := c.reinviteOnce(dir)
		if !errors.Is(err, errGlare) || attempt >= 3 {
			return err
		}
		var d time.Duration
		if c.dir == DirectionOutgoing {
			d = 2100*time.Millisecond + time.Duration(rand.Int64N(int64(1900*time.Millisecond)))
		} else {
			d = time.Duration(rand.Int64N(int64(2 * time.Second)))
		}
		select {
		case <-time.After(d):
		case <-c.ended:
			return errors.New("call ended")
		}
	}
}

func (c *call) reinviteOnce(dir sdp.Direction) error {
	c.mu.Lock()
	if c.offerPending {
		c.mu.Unlock()
		return errGlare
	}
	c.offerPending = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.offerPending = false
		c.mu.Unlock()
	}()
	prev := c.media.getLocalDir()
	c.media.setLocalDir(dir)
	offer, err := c.media.offer()
	if err != nil {
		c.media.setLocalDir(prev)
		return err
	}
	req := c.newRequest(sip.INVITE)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Supported", supportedTags))
	c.mu.Lock()
	interval := c.sessionInterval
	c.mu.Unlock()
	if interval > 0 {
		// RFC 4028 §7.4: every re-INVITE refreshes, and keeps us refresher.
		req.AppendHeader(sip.NewHeader("Session-Expires", sessionExpires{interval: interval, refresher: "uac"}.String()))
	}
	req.SetBody(offer)
	// Timer B bounds the wait; hang-up cancels the call's context and
	// abandons it at once.
	ctx, cancel := context.WithTimeout(c.ctx, 64*sip.T1)
	defer cancel()
	res, err := c.request(ctx, req)
	if err != nil {
		c.media.setLocalDir(prev)
		return err
	}
	if res.StatusCode == 491 {
		c.media.setLocalDir(prev)
		return errGlare
	}
	if !res.IsSuccess() {
		c.media.setLocalDir(prev)
		return fmt.Errorf("%d %s", res.StatusCode, res.Reason)
	}
	c.ack(req, res)
	if interval > 0 {
		// Our re-INVITE refreshed the session; its 2xx says who refreshes next.
		r := timerRole{interval: interval, weRefresh: true}
		if se, present, ok := sessionExpiresOf(res); present && ok {
			r = timerRole{interval: se.interval, weRefresh: se.refresher != "uas"}
		}
		c.restartTimer(r)
	}
	if err := c.media.applyAnswer(res.Body()); err != nil {
		return fmt.Errorf("bad SDP answer: %w", err)
	}
	return nil
}

// Mute stops sending the microphone (silence is sent instead) without
// touching the call or its hold state.
func (p *Phone) Mute(id SessionID, on bool) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.state.Final() {
		c.mu.Unlock()
		return fmt.Errorf("%w: session %s has ended", ErrWrongState, id)
	}
	changed := c.muted != on
	c.muted = on
	c.mu.Unlock()
	c.media.setMute(on)
	if changed {
		reason := "unmuted"
		if on {
			reason = "muted"
		}
		c.changed(reason)
	}
	return nil
}
