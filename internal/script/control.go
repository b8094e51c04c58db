package script

import (
	"fmt"

	"github.com/teaphone/teaphone/sessions"
)

// CallController is what the plain call-control commands act on: a
// sessions.Manager.
type CallController interface {
	Hangup(id sessions.CallID) error
	SendDTMF(id sessions.CallID, digits string) error
	Hold(id sessions.CallID) error
	Resume(id sessions.CallID) error
	Mute(id sessions.CallID) error
	Unmute(id sessions.CallID) error
	Transfer(id sessions.CallID, target string) error
	Resolve(ref string) (sessions.CallID, bool)
	AttendedTransfer(id, consult sessions.CallID) error
	Reject(id sessions.CallID, code int, reason string) error
	Forward(id sessions.CallID, target string) error
	Ignore(id sessions.CallID) error
}

// Control runs c on call id when it is one of the commands that are a
// single Manager call whoever runs them (hangup, dtmf, hold, resume,
// mute, unmute, transfer, transfer-attended, reject, forward, ignore), and
// reports whether it was
// one; the call scripts of headless mode and the control socket both run
// them through here.
func Control(m CallController, id sessions.CallID, c Command) (handled bool, err error) {
	switch c.Op {
	case OpHangup:
		return true, m.Hangup(id)
	case OpDTMF:
		return true, m.SendDTMF(id, c.Arg)
	case OpHold:
		return true, m.Hold(id)
	case OpResume:
		return true, m.Resume(id)
	case OpMute:
		return true, m.Mute(id)
	case OpUnmute:
		return true, m.Unmute(id)
	case OpTransfer:
		return true, m.Transfer(id, c.Arg)
	case OpTransferAttended:
		consult, ok := m.Resolve(c.Arg)
		if !ok {
			return true, fmt.Errorf("transfer-attended: no call %s", c.Arg)
		}
		return true, m.AttendedTransfer(id, consult)
	case OpReject:
		return true, m.Reject(id, c.Code, c.Arg)
	case OpForward:
		return true, m.Forward(id, c.Arg)
	case OpIgnore:
		return true, m.Ignore(id)
	}
	return false, nil
}
