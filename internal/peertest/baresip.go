package peertest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
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
	// sip:User@ADDR:SIPPort, see Addr), or "127.0.0.1:PORT" of a registrar such
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
	// TLS is TCP's ";transport=tls" (Registrar: the TLS address); baresip
	// 1.0 does not verify the server's certificate (CAFile only adds CAs).
	TLS bool
	// CAFile, if set, is baresip's sip_cafile (PEM CAs it trusts).
	CAFile string
	// Addr is the address baresip's SIP and RTP sockets use (sip_listen,
	// net_interface), e.g. ::1 for IPv6 calls; the zero value means
	// 127.0.0.1. Its ctrl_tcp port stays on 127.0.0.1.
	Addr netip.Addr
	// NoRegisterWait makes StartBaresip return without waiting for the
	// registration to succeed; use WaitRegistered. Ignored for direct
	// accounts.
	NoRegisterWait bool
	// MediaNAT is the account's medianat: "ice" loads baresip's ice module
	// and offers ICE candidates (RFC 5245) in its SDP; "" uses none.
	MediaNAT string
	// RTCPMux sets baresip's rtcp_mux: with it baresip 1.0 offers
	// a=rtcp-mux (RFC 5761), answers an offer that has it with it, and then
	// multiplexes; without it (the default) it never writes the attribute
	// and drops RTCP that arrives on its RTP port.
	RTCPMux bool
	// MediaEnc is the account's mediaenc, loading the srtp module: "srtp"
	// (RTP/AVP offers with SDES a=crypto) or "srtp-mand" (RTP/SAVP); or
	// the dtls_srtp module: "dtls_srtp" (DTLS-SRTP, RFC 5764: baresip 1.0
	// offers UDP/TLS/RTP/SAVPF with session-level a=setup:actpass and
	// a=fingerprint:SHA-256, answers a=setup:active, and holds its media
	// until the handshake is done).
	MediaEnc string
	// Netns, if not nil, runs baresip inside that network namespace, with
	// SIP on Addr (which must then be the namespace's address) port 5060,
	// RTP on 30000-30039, and its ctrl_tcp on 127.0.0.1:5062 there, which
	// the control connection reaches from inside the namespace. Give each
	// baresip a namespace of its own: it binds RTP to 0.0.0.0, so with
	// several addresses in one namespace its RTP may leave from the wrong
	// one.
	Netns Netns
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
	if cfg.Netns != nil && !cfg.Addr.IsValid() {
		t.Fatal("peertest: baresip in a network namespace needs BaresipConfig.Addr")
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
		if !errors.Is(err, errPortRace) || attempt == 4 || cfg.Netns != nil {
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
	sip, rtp := 5060, 30000 // a namespace of its own has every port free
	if cfg.Netns == nil {
		var err error
		if sip, err = FreePorts(3, 2); err != nil { // SIP (UDP+TCP), SIP+1 (TLS), SIP+2 ctrl
			return nil, err
		}
		if rtp, err = FreePorts(40, 2); err != nil {
			return nil, err
		}
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
		host = net.JoinHostPort(b.addr().String(), strconv.Itoa(sip))
	}
	b.aor = "sip:" + cfg.User + "@" + host
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(b.configFile()), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(b.accountLine()+"\n"), 0o644); err != nil {
		return nil, err
	}
	argv := []string{"baresip", "-f", dir, "-s"}
	cmd := exec.Command(argv[0], argv[1:]...)
	if cfg.Netns != nil {
		cmd = cfg.Netns.Command(argv[0], argv[1:]...)
	}
	p, err := startCmd(cmd, dir, filepath.Join(dir, "baresip.log"), nil, nil)
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
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.CtrlPort))
	var conn net.Conn
	if cfg.Netns != nil {
		err = cfg.Netns.Do(func() error {
			var err error
			conn, err = net.DialTimeout("tcp", ctrl, CommandTimeout)
			return err
		})
	} else {
		conn, err = net.DialTimeout("tcp", ctrl, CommandTimeout)
	}
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
	kv("sip_listen", net.JoinHostPort(b.addr().String(), strconv.Itoa(b.SIPPort)))
	kv("net_interface", b.addr().String())
	kv("dns_server", "127.0.0.1:53")
	kv("call_local_timeout", "120")
	kv("call_max_calls", "4")
	kv("audio_buffer", "20-160")
	kv("audio_source", b.cfg.AudioSource)
	kv("ausrc_srate", "48000")
	kv("ausrc_channels", "2")
	kv("rtp_ports", fmt.Sprintf("%d-%d", b.RTPMin, b.RTPMax))
	kv("rtcp_mux", map[bool]string{false: "no", true: "yes"}[b.cfg.RTCPMux])
	kv("jitter_buffer_delay", "5-10")
	kv("rtp_stats", "no")
	kv("module_path", "/usr/lib/baresip/modules")
	for _, m := range []string{"g711.so", "g722.so", "opus.so", "aufile.so", "ausine.so", "sndfile.so"} {
		kv("module", m)
	}
	if b.cfg.MediaNAT != "" {
		kv("module", b.cfg.MediaNAT+".so")
	}
	switch {
	case strings.HasPrefix(b.cfg.MediaEnc, "dtls_srtp"):
		kv("module", "dtls_srtp.so")
	case b.cfg.MediaEnc != "":
		kv("module", "srtp.so")
	}
	kv("module_tmp", "account.so")
	kv("module_app", "menu.so")
	kv("module_app", "ctrl_tcp.so")
	kv("ctrl_tcp_listen", "127.0.0.1:"+strconv.Itoa(b.CtrlPort))
	kv("snd_path", b.RecDir)
	kv("statmode_default", "off")
	kv("ringback_disabled", "yes")
	kv("menu_bell", "no")
	if b.cfg.CAFile != "" {
		kv("sip_cafile", b.cfg.CAFile)
	}
	return s.String()
}

func (b *Baresip) accountLine() string {
	var s strings.Builder
	if b.cfg.Display != "" {
		fmt.Fprintf(&s, "%q ", b.cfg.Display)
	}
	s.WriteString("<" + b.aor)
	switch {
	case b.cfg.TCP:
		s.WriteString(";transport=tcp")
	case b.cfg.TLS:
		s.WriteString(";transport=tls")
	}
	s.WriteString(">")
	if b.cfg.Registrar != "" {
		fmt.Fprintf(&s, ";auth_pass=%s;regint=300", b.cfg.Password)
	} else {
		s.WriteString(";regint=0")
	}
	fmt.Fprintf(&s, ";answermode=%s;audio_codecs=%s;ptime=20", b.cfg.AnswerMode, b.cfg.Codecs)
	if b.cfg.MediaNAT != "" {
		fmt.Fprintf(&s, ";medianat=%s", b.cfg.MediaNAT)
	}
	if b.cfg.MediaEnc != "" {
		s.WriteString(";mediaenc=" + b.cfg.MediaEnc)
	}
	return s.String()
}

// URI returns the peer's direct address sip:User@ADDR:SIPPort (by default
// 127.0.0.1, [::1] for Addr ::1), which reaches it without a registrar.
func (b *Baresip) URI() string {
	return "sip:" + b.cfg.User + "@" + net.JoinHostPort(b.addr().String(), strconv.Itoa(b.SIPPort))
}

// addr is the address of baresip's SIP and RTP sockets.
func (b *Baresip) addr() netip.Addr {
	if b.cfg.Addr.IsValid() {
		return b.cfg.Addr
	}
	return netip.MustParseAddr("127.0.0.1")
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
