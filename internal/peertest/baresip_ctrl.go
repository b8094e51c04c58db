package peertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Command runs one ctrl_tcp command (params "" for none) and returns the
// response data. A response with ok:false is an error carrying the data.
// Call commands (hold, sndcode, ...) fail while no call exists.
func (b *Baresip) Command(cmd, params string) (string, error) {
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return "", b.readErr
	}
	b.token++
	tok := "t" + strconv.Itoa(b.token)
	ch := make(chan ctrlMessage, 1)
	b.pending[tok] = ch
	b.mu.Unlock()
	forget := func() {
		b.mu.Lock()
		delete(b.pending, tok)
		b.mu.Unlock()
	}

	req, _ := json.Marshal(ctrlRequest{Command: cmd, Params: params, Token: tok})
	b.wmu.Lock()
	_ = b.conn.SetWriteDeadline(time.Now().Add(CommandTimeout))
	err := writeNetstring(b.conn, req)
	b.wmu.Unlock()
	if err != nil {
		forget()
		return "", fmt.Errorf("baresip %s: sending %q: %w", b.cfg.User, cmd, err)
	}
	t := time.NewTimer(CommandTimeout)
	defer t.Stop()
	select {
	case m := <-ch:
		if !m.OK {
			return m.Data, fmt.Errorf("baresip %s: %s %s: %s", b.cfg.User, cmd, params, strings.TrimSpace(stripANSI(m.Data)))
		}
		return m.Data, nil
	case <-b.readerDone:
		forget()
		return "", fmt.Errorf("baresip %s: %s: control connection closed", b.cfg.User, cmd)
	case <-t.C:
		forget()
		return "", fmt.Errorf("baresip %s: no response to %q within %v", b.cfg.User, cmd, CommandTimeout)
	}
}

// Mark returns the current length of the event list, to be passed as
// "since" to WaitEvent, Events and DTMFReceived. Take it before acting.
func (b *Baresip) Mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

// Events returns a copy of the events at index since and later.
func (b *Baresip) Events(since int) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	if since < 0 {
		since = 0
	}
	if since >= len(b.events) {
		return nil
	}
	return append([]Event(nil), b.events[since:]...)
}

// WaitEvent waits up to timeout for the first event of type typ at index
// since or later and returns it. The error lists the event types seen.
func (b *Baresip) WaitEvent(since int, typ string, timeout time.Duration) (Event, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		b.mu.Lock()
		for i := max(since, 0); i < len(b.events); i++ {
			if b.events[i].Type == typ {
				ev := b.events[i]
				b.mu.Unlock()
				return ev, nil
			}
		}
		changed, readErr := b.changed, b.readErr
		b.mu.Unlock()
		if readErr != nil {
			return Event{}, fmt.Errorf("waiting for %s: %w (events since %d: %s)", typ, readErr, since, b.eventSummary(since))
		}
		select {
		case <-changed:
		case <-t.C:
			return Event{}, fmt.Errorf("baresip %s: no %s event within %v (events since %d: %s)", b.cfg.User, typ, timeout, since, b.eventSummary(since))
		}
	}
}

func (b *Baresip) eventSummary(since int) string {
	var s []string
	for _, ev := range b.Events(since) {
		if ev.Param != "" {
			s = append(s, ev.Type+"("+ev.Param+")")
		} else {
			s = append(s, ev.Type)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}

// DTMFReceived returns the digits of the CALL_DTMF_START events at index
// since or later, concatenated.
func (b *Baresip) DTMFReceived(since int) string {
	var s strings.Builder
	for _, ev := range b.Events(since) {
		if ev.Type == "CALL_DTMF_START" {
			s.WriteString(ev.Param)
		}
	}
	return s.String()
}

// Dial calls uri, a full SIP URI with a user part (e.g. sip:bob@127.0.0.1:PORT;
// add ";transport=tcp" for TCP). Wait for CALL_ESTABLISHED or CALL_CLOSED.
func (b *Baresip) Dial(uri string) error { _, err := b.Command("dial", uri); return err }

// Hangup ends the current call (rejects an unanswered incoming one with 486).
func (b *Baresip) Hangup() error { _, err := b.Command("hangup", ""); return err }

// Accept answers the incoming call (answer modes manual and early).
func (b *Baresip) Accept() error { _, err := b.Command("accept", ""); return err }

// Hold puts the current call on hold (re-INVITE with a=sendonly). Note that
// after any hold/resume baresip stops recording received audio for that call.
func (b *Baresip) Hold() error { _, err := b.Command("hold", ""); return err }

// Resume resumes the held call (re-INVITE with a=sendrecv).
func (b *Baresip) Resume() error { _, err := b.Command("resume", ""); return err }

// SendDTMF sends digits (0-9*#A-D) as RFC 4733 events; each digit takes about
// 240 ms on the wire.
func (b *Baresip) SendDTMF(digits string) error { _, err := b.Command("sndcode", digits); return err }

// Transfer blind-transfers the current call to uri (REFER).
func (b *Baresip) Transfer(uri string) error { _, err := b.Command("transfer", uri); return err }

// AudioDebug returns the audio_debug output of the current call, e.g.
// "audio dir=sendrecv pt_enc=0" and "encode: PCMU 8000Hz/1ch".
func (b *Baresip) AudioDebug() (string, error) {
	d, err := b.Command("audio_debug", "")
	return stripANSI(d), err
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

func stripANSI(s string) string { return ansiRE.ReplaceAllString(s, "") }

// RegState returns the registration status that reginfo shows for the
// account — "OK", "ERR", "zzz" (pending) or "" — and the account's reginfo
// line (ANSI codes stripped), e.g.
// "> sip:bob@127.0.0.1:5060  OK  kamailio-test-peer Expires 300s".
func (b *Baresip) RegState() (state, line string, err error) {
	d, err := b.Command("reginfo", "")
	if err != nil {
		return "", "", err
	}
	for _, l := range strings.Split(stripANSI(d), "\n") {
		if !strings.Contains(l, b.aor) {
			continue
		}
		line = strings.Join(strings.Fields(l), " ")
		for _, f := range strings.Fields(l) {
			switch f {
			case "OK", "ERR", "zzz":
				return f, line, nil
			}
		}
	}
	return "", line, nil
}

// WaitRegistered polls reginfo until the account is registered (OK). It
// returns an error as soon as reginfo shows ERR (e.g. a wrong password),
// or after timeout. The REGISTER_OK/REGISTER_FAIL events usually fire
// before the control connection exists, so they cannot be waited for.
func (b *Baresip) WaitRegistered(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		state, line, err := b.RegState()
		if err != nil {
			return err
		}
		switch state {
		case "OK":
			return nil
		case "ERR":
			return fmt.Errorf("registration of %s failed (reginfo ERR): %s", b.aor, line)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not registered within %v: reginfo %q", b.aor, timeout, line)
		}
		time.Sleep(pollInterval)
	}
}

// LatestRecording returns the newest recording of kind "dec" (received audio,
// decoded: 16-bit 8 kHz mono for G.711) or "enc" (sent audio) in RecDir. Call
// it after CALL_CLOSED: it polls (up to 10 s) until the WAV header is
// finalised and the file size is stable. Recording names have a 1 s
// resolution, so leave a second between calls whose audio you analyse.
func (b *Baresip) LatestRecording(kind string) (string, error) {
	if kind != "dec" && kind != "enc" {
		return "", fmt.Errorf("LatestRecording: kind %q, want dec or enc", kind)
	}
	deadline := time.Now().Add(CommandTimeout)
	var last string
	var lastSize int64 = -1
	for {
		files, _ := filepath.Glob(filepath.Join(b.RecDir, "*-"+kind+".wav"))
		sort.Strings(files) // dump-YYYY-MM-DD-HH-MM-SS: lexical = chronological
		if len(files) > 0 {
			path := files[len(files)-1]
			size, ok := wavFinalised(path)
			if ok && path == last && size == lastSize {
				return path, nil
			}
			last, lastSize = path, size
			if !ok {
				lastSize = -1
			}
		}
		if time.Now().After(deadline) {
			if last == "" {
				return "", fmt.Errorf("no *-%s.wav in %s", kind, b.RecDir)
			}
			return "", fmt.Errorf("%s: WAV header not finalised within %v", last, CommandTimeout)
		}
		time.Sleep(2 * pollInterval)
	}
}

// wavFinalised reports the file size and whether the RIFF size field matches
// it (libsndfile writes the sizes when the file is closed).
func wavFinalised(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false
	}
	var h [12]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		return st.Size(), false
	}
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
		return st.Size(), false
	}
	riff := int64(h[4]) | int64(h[5])<<8 | int64(h[6])<<16 | int64(h[7])<<24
	return st.Size(), riff == st.Size()-8
}
