package phone

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

func (p *Phone) onInfo(c *call, req *sip.Request, tx sip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		digit, ok := parseDTMFRelay(string(req.Body()))
		if !ok {
			respond(tx, req, 400, "Bad Request (no Signal)")
			return
		}
		respond(tx, req, 200, "OK")
		p.emit(DTMFEvent{Time: time.Now(), Session: c.id, Digit: digit, Received: true, Method: "info"})
	case strings.HasPrefix(ct, "application/dtmf"):
		d := strings.TrimSpace(string(req.Body()))
		if len(d) != 1 || !isDTMF(rune(d[0])) {
			respond(tx, req, 400, "Bad Request")
			return
		}
		respond(tx, req, 200, "OK")
		p.emit(DTMFEvent{Time: time.Now(), Session: c.id, Digit: rune(d[0]), Received: true, Method: "info"})
	case len(req.Body()) == 0:
		respond(tx, req, 200, "OK") // keep-alive INFO
	default:
		respond(tx, req, 415, "Unsupported Media Type")
	}
}

// parseDTMFRelay reads "Signal=5\r\nDuration=160" (application/dtmf-relay).
func parseDTMFRelay(body string) (rune, bool) {
	for _, line := range strings.FieldsFunc(body, func(r rune) bool { return r == '\n' || r == '\r' }) {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
			continue
		}
		v = strings.ToUpper(strings.TrimSpace(v))
		switch v {
		case "10":
			return '*', true
		case "11":
			return '#', true
		}
		if len(v) == 1 && isDTMF(rune(v[0])) {
			return rune(v[0]), true
		}
		return 0, false
	}
	return 0, false
}

func isDTMF(r rune) bool {
	return r >= '0' && r <= '9' || r == '*' || r == '#' || r >= 'A' && r <= 'D'
}

// SendDTMF sends digits: RFC 4733 events on the remote's telephone-event
// payload type when it was negotiated (and media runs), else SIP INFO with
// application/dtmf-relay. Digits are sent one after another in the background.
func (p *Phone) SendDTMF(id SessionID, digits string) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	digits = strings.ToUpper(digits)
	for _, d := range digits {
		if !isDTMF(d) {
			return fmt.Errorf("%w: %q is not a DTMF digit (0-9 * # A-D)", ErrInvalidInput, d)
		}
	}
	if digits == "" {
		return fmt.Errorf("%w: no digits", ErrInvalidInput)
	}
	if !p.spawn(func() {
		c.dtmfMu.Lock()
		defer c.dtmfMu.Unlock()
		for _, d := range digits {
			if c.getState().Final() {
				return
			}
			method := "rfc4733"
			if !p.opts.DTMFInfo && c.media.sendDTMF(d) {
				// queued on the RTP stream
			} else {
				method = "info"
				if err := c.sendInfoDTMF(d); err != nil {
					p.emit(ErrorEvent{Time: time.Now(), Session: c.id, Err: fmt.Errorf("dtmf %c: %w", d, err)})
					return
				}
				// Space the digits as their tones would be (Duration=160 plus
				// a gap): PBXs and IVRs merge or drop INFOs sent back to back.
				select {
				case <-time.After(240 * time.Millisecond):
				case <-c.ctx.Done():
				}
			}
			p.emit(DTMFEvent{Time: time.Now(), Session: c.id, Digit: d, Received: false, Method: method})
		}
	}) {
		return ErrClosed
	}
	return nil
}

func (c *call) sendInfoDTMF(d rune) error {
	req := c.newRequest(sip.INFO)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=" + string(d) + "\r\nDuration=160\r\n"))
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	res, err := c.request(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("INFO answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}
