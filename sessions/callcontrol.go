package sessions

import (
	"errors"
	"fmt"
	"os"
)

// conferencer is the optional phone capability behind Conference.
type conferencer interface {
	Conference(a, b SessionID) error
}

// Conference joins two connected calls into a local three-way conference:
// each remote party hears the other and the user, and the user hears both.
// Held calls are resumed first.
func (m *Manager) Conference(a, b CallID) error {
	if a == b {
		return opError("conference", m.labelOf(a), errors.New("needs two different calls"))
	}
	rb, err := m.resolve("conference", b, false)
	if err != nil {
		return err
	}
	return m.do("conference", a, func(ph Phone, sid SessionID) error {
		cf, ok := ph.(conferencer)
		if !ok {
			return errors.New("conference is not available")
		}
		for _, id := range []CallID{a, b} {
			if info, ok := m.Call(id); ok && info.HeldLocal {
				if err := m.Resume(id); err != nil {
					return err
				}
			}
		}
		if err := cf.Conference(sid, rb.sid); err != nil {
			return fmt.Errorf("with call %s: %w", rb.label, err)
		}
		return nil
	})
}

// holdOthers puts every connected call but except on hold (call waiting,
// WithAutoHold). Failures are published, not returned: the new call goes on.
func (m *Manager) holdOthers(except CallID) {
	if !m.cfg.autoHold {
		return
	}
	for _, c := range m.Calls() {
		if c.ID == except || c.State != StateConnected || c.HeldLocal {
			continue
		}
		if err := m.Hold(c.ID); err != nil {
			m.publishError(c.ID, err)
		}
	}
}

// SetRecording starts (on) or stops recording the call to a stereo WAV in
// the recording directory (WithRecording), remote left and local right.
func (m *Manager) SetRecording(id CallID, on bool) error {
	if !on {
		return m.StopRecording(id)
	}
	info, ok := m.Call(id)
	if !ok {
		return opError("record", string(id), ErrNoSuchCall)
	}
	if m.cfg.recordDir == "" {
		return opError("record", m.labelOf(id), errors.New("no recording directory configured (media.record_dir)"))
	}
	if err := os.MkdirAll(m.cfg.recordDir, 0o700); err != nil { // recordings are private
		return opError("record", m.labelOf(id), err)
	}
	return m.Record(id, RecordPath(m.cfg.recordDir, m.cfg.recordTemplate, m.cfg.now(), info))
}
