package peertest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BaresipConfig describes one baresip peer with a single account.
type BaresipConfig struct {
	// User is the account's user part, e.g. "bob" (required). baresip
	// answers only INVITEs whose Request-URI carries this user.
	User string
	// Display is an optional display name.
	Display string
	// Registrar is "" for a direct account that never registers (AOR
	// sip:User@127.0.0.1:SIPPort), or "127.0.0.1:PORT" of a registrar such
	// as Kamailio: the AOR becomes sip:User@Registrar and the account
	// registers with digest auth using Password.
	Registrar string
	// Password is the digest password for Registrar.
	Password string
	// AnswerMode is "auto" (default), "manual" or "early". Only "manual"
	// produces CALL_INCOMING events; "early" answers 183 with media and
	// waits for Accept.
	AnswerMode string
	// AudioSource is what baresip sends: "ausine,HZ" (default "ausine,440")
	// or "aufile,/abs/path.wav" with a 16-bit 48 kHz stereo WAV (baresip
	// hangs up when the file ends).
	AudioSource string
	// Codecs is the account's audio_codecs list (default "pcmu,pcma").
	Codecs string
	// TCP puts ";transport=tcp" into the account's AOR, so a registered
	// account REGISTERs and is reached over TCP.
	TCP bool
	// NoRegisterWait makes StartBaresip return without waiting for the
	// registration to succeed; use WaitRegistered. Ignored for direct
	// accounts.
	NoRegisterWait bool
}

// Event is one ctrl_tcp event, e.g. CALL_ESTABLISHED.
type Event struct {
	// Index is the event's position in the peer's event list: Index+1 is
	// a mark for "events after this one".
	Index      int
	Type       string // e.g. CALL_ESTABLISHED, CALL_CLOSED, CALL_DTMF_START
	Class      string // "call" or "other"
	AccountAOR string
	Direction  string // "incoming" or "outgoing" (call events)
	PeerURI    string
	ID         string // call id (baresip's, not the SIP Call-ID)
	Param      string // e.g. the digit of CALL_DTMF_START, the reason of CALL_CLOSED
	Raw        string // the whole JSON object (CALL_RTCP carries rtcp_stats)
}

// Baresip is a running baresip peer controlled over one ctrl_tcp connection.
// Its methods may be called from any goroutine.
type Baresip struct {
	// SIPPort is the UDP+TCP SIP port; SIPPort+1 is baresip's TLS listener.
	SIPPort int
	// CtrlPort is the ctrl_tcp port.
	CtrlPort int
	// RTPMin and RTPMax bound the RTP/RTCP ports this peer uses.
	RTPMin, RTPMax int
	// Dir holds config, accounts and baresip.log (its -s SIP trace).
	Dir string
	// RecDir is where sndfile records every call (*-dec.wav received,
	// *-enc.wav sent).
	RecDir string

	cfg       BaresipConfig
	aor       string
	proc      *proc
	abandoned bool // a failed start attempt replaced by a retry

	conn       net.Conn
	wmu        sync.Mutex // serialises writes
	readerDone chan struct{}

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced whenever events grow or the reader ends
	pending map[string]chan ctrlMessage
	readErr error // set when the reader has ended
	token   int
}

// errPortRace marks a start failure that a retry on other ports may fix.
var errPortRace = errors.New("port already in use")

// StartBaresip writes a config for cfg into a t.TempDir(), starts
// "baresip -f DIR -s" on free ports, waits until it is ready, connects its
// ctrl_tcp port and, for a registered account, waits until reginfo shows OK
// (unless cfg.NoRegisterWait). It fails the test if any of that fails. The
// peer is stopped in t.Cleanup; on failure its log tail is logged.
func StartBaresip(t testing.TB, cfg BaresipConfig) *Baresip {
	t.Helper()
	NeedBaresip(t)
	if cfg.User == "" {
		t.Fatal("peertest: BaresipConfig.User is required")
	}
	if cfg.AnswerMode == "" {
		cfg.AnswerMode = "auto"
	}
	if cfg.AudioSource == "" {
		cfg.AudioSource = "ausine,440"
	}
	if cfg.Codecs == "" {
		cfg.Codecs = "pcmu,pcma"
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	if err := os.Mkdir(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	var b *Baresip
	var err error
	for attempt := 1; ; attempt++ {
		b, err = startBaresip(t, cfg, dir, rec)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortRace) || attempt == 4 {
			t.Fatalf("peertest: starting baresip %s: %v", cfg.User, err)
		}
		t.Logf("peertest: baresip %s: %v; retrying on other ports", cfg.User, err)
	}
	if cfg.Registrar != "" && !cfg.NoRegisterWait {
		if err := b.WaitRegistered(ReadyTimeout); err != nil {
			t.Fatalf("peertest: baresip %s: %v", cfg.User, err)
		}
	}
	return b
}

func startBaresip(t testing.TB, cfg BaresipConfig, dir, rec string) (*Baresip, error) {
	sip, err := FreePorts(3, 2) // SIP (UDP+TCP), SIP+1 (TLS), SIP+2 ctrl
	if err != nil {
		return nil, err
	}
	rtp, err := FreePorts(40, 2)
	if err != nil {
		return nil, err
	}
	b := &Baresip{
		SIPPort: sip, CtrlPort: sip + 2, RTPMin: rtp, RTPMax: rtp + 39,
		Dir: dir, RecDir: rec, cfg: cfg,
		readerDone: make(chan struct{}),
		changed:    make(chan struct{}),
		pending:    map[string]chan ctrlMessage{},
	}
	host := cfg.Registrar
	if host == "" {
		host = "127.0.0.1:" + strconv.Itoa(sip)
	}
	b.aor = "sip:" + cfg.User + "@" + host
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(b.configFile()), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(b.accountLine()+"\n"), 0o644); err != nil {
		return nil, err
	}
	p, err := startProc(dir, filepath.Join(dir, "baresip.log"), nil, nil, "baresip", "-f", dir, "-s")
	if err != nil {
		return nil, err
	}
	b.proc = p
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() && !b.abandoned {
			t.Logf("peertest: baresip %s (%s) log tail:\n%s", cfg.User, p.exitStatus(), logTail(p.logPath, logTailBytes))
		}
	})
	if err := b.waitReady(); err != nil {
		b.abandoned = errors.Is(err, errPortRace)
		b.Stop()
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(b.CtrlPort)), CommandTimeout)
	if err != nil {
		b.Stop()
		return nil, fmt.Errorf("connecting ctrl_tcp: %w", err)
	}
	b.conn = conn
	go b.readLoop()
	return b, nil
}

func (b *Baresip) waitReady() error {
	deadline := time.Now().Add(ReadyTimeout)
	for {
		log := b.proc.log()
		if strings.Contains(log, "ctrl_tcp: failed to listen") {
			return fmt.Errorf("ctrl_tcp port %d: %w", b.CtrlPort, errPortRace)
		}
		if strings.Contains(log, "baresip is ready.") {
			return nil
		}
		if b.proc.exited() {
			if strings.Contains(log, "Address already in use") {
				return fmt.Errorf("SIP port %d: %w", b.SIPPort, errPortRace)
			}
			return fmt.Errorf("baresip exited before it was ready (%s):\n%s", b.proc.exitStatus(), logTail(b.proc.logPath, logTailBytes))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("baresip not ready after %v:\n%s", ReadyTimeout, logTail(b.proc.logPath, logTailBytes))
		}
		time.Sleep(pollInterval)
	}
}

func (b *Baresip) configFile() string {
	var s strings.Builder
	kv := func(k, v string) { fmt.Fprintf(&s, "%-20s %s\n", k, v) }
	kv("poll_method", "epoll")
	kv("sip_listen", "127.0.0.1:"+strconv.Itoa(b.SIPPort))
	kv("net_interface", "127.0.0.1")
	kv("dns_server", "127.0.0.1:53")
	kv("call_local_timeout", "120")
	kv("call_max_calls", "4")
	kv("audio_buffer", "20-160")
	kv("audio_source", b.cfg.AudioSource)
	kv("ausrc_srate", "48000")
	kv("ausrc_channels", "2")
	kv("rtp_ports", fmt.Sprintf("%d-%d", b.RTPMin, b.RTPMax))
	kv("rtcp_mux", "no")
	kv("jitter_buffer_delay", "5-10")
	kv("rtp_stats", "no")
	kv("module_path", "/usr/lib/baresip/modules")
	for _, m := range []string{"g711.so", "aufile.so", "ausine.so", "sndfile.so"} {
		kv("module", m)
	}
	kv("module_tmp", "account.so")
	kv("module_app", "menu.so")
	kv("module_app", "ctrl_tcp.so")
	kv("ctrl_tcp_listen", "127.0.0.1:"+strconv.Itoa(b.CtrlPort))
	kv("snd_path", b.RecDir)
	kv("statmode_default", "off")
	kv("ringback_disabled", "yes")
	kv("menu_bell", "no")
	return s.String()
}

func (b *Baresip) accountLine() string {
	var s strings.Builder
	if b.cfg.Display != "" {
		fmt.Fprintf(&s, "%q ", b.cfg.Display)
	}
	s.WriteString("<" + b.aor)
	if b.cfg.TCP {
		s.WriteString(";transport=tcp")
	}
	s.WriteString(">")
	if b.cfg.Registrar != "" {
		fmt.Fprintf(&s, ";auth_pass=%s;regint=300", b.cfg.Password)
	} else {
		s.WriteString(";regint=0")
	}
	fmt.Fprintf(&s, ";answermode=%s;audio_codecs=%s;ptime=20", b.cfg.AnswerMode, b.cfg.Codecs)
	return s.String()
}

// URI returns the peer's direct address sip:User@127.0.0.1:SIPPort, which
// reaches it without a registrar.
func (b *Baresip) URI() string {
	return "sip:" + b.cfg.User + "@127.0.0.1:" + strconv.Itoa(b.SIPPort)
}

// AOR returns the account's address of record: URI() for a direct account,
// sip:User@Registrar for a registered one.
func (b *Baresip) AOR() string { return b.aor }

// Log returns baresip's output so far (including the -s SIP trace).
func (b *Baresip) Log() string { return b.proc.log() }

// Stop closes the control connection and stops baresip (SIGTERM, which
// un-REGISTERs and finalises recordings; SIGKILL after 5 s) and waits for
// it. It is idempotent and also runs in the test's cleanup.
func (b *Baresip) Stop() {
	if b.conn != nil {
		b.conn.Close()
		<-b.readerDone
	}
	b.proc.stop(2*time.Second, stopGrace)
}

func (b *Baresip) readLoop() {
	defer close(b.readerDone)
	r := bufio.NewReader(b.conn)
	var err error
	for {
		var raw []byte
		raw, err = readNetstring(r)
		if err != nil {
			break
		}
		var m ctrlMessage
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		b.mu.Lock()
		switch {
		case m.Response:
			if ch, ok := b.pending[m.Token]; ok {
				delete(b.pending, m.Token)
				ch <- m // buffered
			}
		case m.Event:
			b.events = append(b.events, Event{
				Index: len(b.events), Type: m.Type, Class: m.Class, AccountAOR: m.AccountAOR,
				Direction: m.Direction, PeerURI: m.PeerURI, ID: m.ID, Param: m.Param, Raw: string(raw),
			})
			close(b.changed)
			b.changed = make(chan struct{})
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.readErr = fmt.Errorf("baresip %s: control connection closed: %w", b.cfg.User, err)
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

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
