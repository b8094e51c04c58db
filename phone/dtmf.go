package phone

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/internal/sipaddr"
)

// onInfo takes DTMF sent as SIP INFO: application/dtmf-relay (the usual
// "Signal=5" body) or application/dtmf (the digit alone). An INFO without a
// body is a keep-alive and gets 200.
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
		d, err := sipaddr.ParseDTMF(strings.TrimSpace(string(req.Body())))
		if err != nil || len(d) != 1 {
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

// parseDTMFRelay reads the digit of an application/dtmf-relay body
// ("Signal=5\r\nDuration=160"). Signal is a digit (0-9 * # A-D, either
// case) or its RFC 4733 event code (10 is *, 11 #, 12-15 A-D), as phones
// send either.
func parseDTMFRelay(body string) (rune, bool) {
	for _, line := range strings.FieldsFunc(body, func(r rune) bool { return r == '\n' || r == '\r' }) {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
			continue
		}
		v = strings.TrimSpace(v)
		if code, err := strconv.ParseUint(v, 10, 8); err == nil && len(v) <= 2 {
			return sipaddr.DTMFDigit(uint8(code))
		}
		if d, err := sipaddr.ParseDTMF(v); err == nil && len(d) == 1 {
			return rune(d[0]), true
		}
		return 0, false
	}
	return 0, false
}

// SendDTMF sends digits: RFC 4733 events on the remote's telephone-event
// payload type when it was negotiated (and media runs), else SIP INFO with
// application/dtmf-relay. Digits are sent one after another in the background.
func (p *Phone) SendDTMF(id SessionID, digits string) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	digits, err = sipaddr.ParseDTMF(digits)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
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
