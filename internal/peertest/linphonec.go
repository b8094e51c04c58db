package peertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// LinphoneConfig describes one linphonec peer (PCMU/PCMA only, audio from
// and to WAV files, no sound card).
type LinphoneConfig struct {
	// User is the identity's user part, e.g. "carol" (required).
	User string
	// Registrar is "" for no registration, or "127.0.0.1:PORT" of a
	// registrar such as Kamailio: StartLinphonec then registers
	// sip:User@Registrar with Password and waits until it is registered.
	Registrar string
	// Password is the digest password for Registrar.
	Password string
	// PlayWAV, if set, is a 16-bit 8 kHz mono WAV (absolute path) that
	// linphonec sends, looped.
	PlayWAV string
	// RecordWAV, if set, is where linphonec records received audio
	// (absolute path). It appends every call to that file: issue a new
	// "record PATH" command before each call you analyse.
	RecordWAV string
	// AutoAnswer makes linphonec answer incoming calls at once.
	AutoAnswer bool
}

// Linphonec is a running linphonec driven over its stdin. Its output is
// kept in a file; marks are byte offsets into it. Its methods may be called
// from any goroutine.
type Linphonec struct {
	// SIPPort is the UDP+TCP SIP port on 127.0.0.1.
	SIPPort int
	// RTPMin and RTPMax bound its RTP ports.
	RTPMin, RTPMax int
	// Dir holds linphonerc, HOME, linphonec.out (stdout+stderr) and
	// linphone.log (its debug log).
	Dir string

	cfg       LinphoneConfig
	proc      *proc
	stdin     *os.File
	wmu       sync.Mutex
	abandoned bool
}

// linphonePrompt is printed (without a newline) before every command.
const linphonePrompt = "linphonec> "

// StartLinphonec writes a fresh linphonerc for cfg, starts linphonec on free
// ports, waits until it shows its prompt and answers OPTIONS, switches it to
// WAV files, disables every codec but PCMU and PCMA and, with a Registrar,
// registers and waits for "registered". It fails the test if any of that
// fails. linphonec is stopped in t.Cleanup; on failure its output and log
// tails are logged.
func StartLinphonec(t testing.TB, cfg LinphoneConfig) *Linphonec {
	t.Helper()
	NeedLinphonec(t)
	if cfg.User == "" {
		t.Fatal("peertest: LinphoneConfig.User is required")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "home", ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	var l *Linphonec
	var err error
	for attempt := 1; ; attempt++ {
		l, err = startLinphonec(t, cfg, dir)
		if err == nil {
			break
		}
		if !errors.Is(err, errPortRace) || attempt == 4 {
			t.Fatalf("peertest: starting linphonec %s: %v", cfg.User, err)
		}
		t.Logf("peertest: linphonec %s: %v; retrying on other ports", cfg.User, err)
	}
	if err := l.setup(); err != nil {
		t.Fatalf("peertest: linphonec %s: %v", cfg.User, err)
	}
	return l
}

func startLinphonec(t testing.TB, cfg LinphoneConfig, dir string) (*Linphonec, error) {
	sip, err := FreePort()
	if err != nil {
		return nil, err
	}
	rtp, err := FreePorts(20, 2)
	if err != nil {
		return nil, err
	}
	l := &Linphonec{SIPPort: sip, RTPMin: rtp, RTPMax: rtp + 19, Dir: dir, cfg: cfg}
	rc := filepath.Join(dir, "linphonerc")
	if err := os.WriteFile(rc, []byte(l.rcFile()), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "linphone.log")
	os.Remove(logPath)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "HOME="+filepath.Join(dir, "home"), "COLUMNS=4096")
	p, err := startProc(dir, filepath.Join(dir, "linphonec.out"), env, r,
		"linphonec", "-c", rc, "-d", "5", "-l", logPath)
	r.Close()
	if err != nil {
		w.Close()
		return nil, err
	}
	l.proc, l.stdin = p, w
	t.Cleanup(func() {
		l.Stop()
		if t.Failed() && !l.abandoned {
			t.Logf("peertest: linphonec %s (%s) output tail:\n%s\nlinphone.log tail:\n%s", cfg.User, p.exitStatus(),
				logTail(p.logPath, logTailBytes), logTail(logPath, logTailBytes/2))
		}
	})
	if err := l.waitReady(logPath); err != nil {
		l.abandoned = errors.Is(err, errPortRace)
		l.Stop()
		return nil, err
	}
	return l, nil
}

func (l *Linphonec) rcFile() string {
	s := strconv.Itoa(l.SIPPort)
	return `[sip]
sip_port=` + s + `
sip_tcp_port=` + s + `
sip_tls_port=0
bind_address=127.0.0.1
default_proxy=-1
contact="` + l.cfg.User + `" <sip:` + l.cfg.User + `@127.0.0.1:` + s + `>
guess_hostname=0
inc_timeout=60
use_info=0
use_rfc2833=1
register_only_when_network_is_up=0
[rtp]
audio_rtp_port=` + strconv.Itoa(l.RTPMin) + "-" + strconv.Itoa(l.RTPMax) + `
bind_address=127.0.0.1
audio_jitt_comp=60
[sound]
echocancellation=0
[video]
enabled=0
capture=0
display=0
automatically_initiate=0
automatically_accept=0
[misc]
version_check_url_root=
`
}

func (l *Linphonec) waitReady(logPath string) error {
	deadline := time.Now().Add(ReadyTimeout)
	for {
		if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "bind() failed") {
			return fmt.Errorf("SIP port %d: %w", l.SIPPort, errPortRace)
		}
		if l.proc.exited() {
			return fmt.Errorf("linphonec exited before it was ready (%s):\n%s", l.proc.exitStatus(), logTail(l.proc.logPath, logTailBytes))
		}
		if l.proc.logContains(linphonePrompt) {
			// The answer must come from our linphonec, not from a peer of
			// another test process holding the port: ours logs the request
			// (with its Call-ID) to linphone.log.
			if code, callID, err := probeOptions(loopback(l.SIPPort), 300*time.Millisecond); err == nil && code > 0 {
				for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
					if b, _ := os.ReadFile(logPath); strings.Contains(string(b), callID) {
						return nil
					}
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("linphonec not ready after %v:\n%s", ReadyTimeout, logTail(l.proc.logPath, logTailBytes))
		}
		time.Sleep(pollInterval)
	}
}

// loopback returns "127.0.0.1:PORT".
func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

var codecLine = regexp.MustCompile(`(?m)^\s*(\d+): (\S+) \((\d+)\) (enabled|disabled)`)

func (l *Linphonec) setup() error {
	cmds := []string{"soundcard use files"}
	if l.cfg.PlayWAV != "" {
		cmds = append(cmds, "play "+l.cfg.PlayWAV)
	}
	if l.cfg.RecordWAV != "" {
		cmds = append(cmds, "record "+l.cfg.RecordWAV)
	}
	if l.cfg.AutoAnswer {
		cmds = append(cmds, "autoanswer enable")
	} else {
		cmds = append(cmds, "autoanswer disable")
	}
	for _, c := range cmds {
		if _, err := l.Exec(c); err != nil {
			return err
		}
	}
	list, err := l.Exec("codec list")
	if err != nil {
		return err
	}
	found := 0
	for _, m := range codecLine.FindAllStringSubmatch(list, -1) {
		found++
		keep := (m[2] == "PCMU" || m[2] == "PCMA") && m[3] == "8000"
		switch {
		case keep && m[4] == "disabled":
			_, err = l.Exec("codec enable " + m[1])
		case !keep && m[4] == "enabled":
			_, err = l.Exec("codec disable " + m[1])
		}
		if err != nil {
			return err
		}
	}
	if found == 0 {
		return fmt.Errorf("cannot parse codec list:\n%s", list)
	}
	if l.cfg.Registrar == "" {
		return nil
	}
	if _, err := l.Exec(fmt.Sprintf("register sip:%s@%s sip:%s %s", l.cfg.User, l.cfg.Registrar, l.cfg.Registrar, l.cfg.Password)); err != nil {
		return err
	}
	deadline := time.Now().Add(ReadyTimeout)
	for {
		out, err := l.Exec("status register")
		if err != nil {
			return err
		}
		if strings.Contains(out, "registered,") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not registered at %s within %v: %q", l.cfg.Registrar, ReadyTimeout, strings.TrimSpace(out))
		}
		time.Sleep(4 * pollInterval)
	}
}

// URI returns the peer's direct address sip:User@127.0.0.1:SIPPort.
func (l *Linphonec) URI() string { return "sip:" + l.cfg.User + "@" + loopback(l.SIPPort) }

// Command writes one command line (e.g. "call sip:bob@127.0.0.1:5060",
// "answer", "terminate", "59#") to linphonec's stdin without waiting.
func (l *Linphonec) Command(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return fmt.Errorf("linphonec command %q contains a line break", line)
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if _, err := l.stdin.Write([]byte(line + "\n")); err != nil {
		return fmt.Errorf("linphonec %s: writing %q: %w", l.cfg.User, line, err)
	}
	return nil
}

// Exec runs a command and returns its output: the text between the echo of
// the command and the next prompt (notifications printed meanwhile are
// included). Calls of Exec must not overlap.
func (l *Linphonec) Exec(line string) (string, error) {
	mark := l.Mark()
	if err := l.Command(line); err != nil {
		return "", err
	}
	end, err := l.WaitOutput(mark, line+"\n", CommandTimeout) // the echo
	if err != nil {
		return "", err
	}
	next, err := l.WaitOutput(end, linphonePrompt, CommandTimeout)
	if err != nil {
		return "", err
	}
	out := l.Output(end)
	return out[:next-len(linphonePrompt)-end], nil
}

// Mark returns the current length of the output, to be passed as "since"
// to WaitOutput and Output. Take it before acting.
func (l *Linphonec) Mark() int {
	st, err := os.Stat(l.proc.logPath)
	if err != nil {
		return 0
	}
	return int(st.Size())
}

// Output returns the output from byte offset since on.
func (l *Linphonec) Output(since int) string {
	out := l.proc.log()
	if since < 0 || since > len(out) {
		since = min(max(since, 0), len(out))
	}
	return out[since:]
}

// WaitOutput waits up to timeout until the output after offset since
// contains substr (e.g. "connected.", "ended (", "Receiving tone 5") and
// returns the offset just past the first match.
func (l *Linphonec) WaitOutput(since int, substr string, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for {
		out := l.proc.log()
		s := min(max(since, 0), len(out))
		if i := strings.Index(out[s:], substr); i >= 0 {
			return s + i + len(substr), nil
		}
		if l.proc.exited() {
			return 0, fmt.Errorf("linphonec %s exited (%s) before printing %q", l.cfg.User, l.proc.exitStatus(), substr)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("linphonec %s: no %q within %v; output since %d:\n%s", l.cfg.User, substr, timeout, since, tailString(out[s:], 4096))
		}
		time.Sleep(pollInterval)
	}
}

// DebugLog returns linphonec's debug log (Dir/linphone.log) so far. At the
// debug level StartLinphonec sets, belle-sip writes into it every SIP
// message linphonec sends or receives, whole, after a line giving its
// size and the peer's address.
func (l *Linphonec) DebugLog() string {
	b, _ := os.ReadFile(filepath.Join(l.Dir, "linphone.log"))
	return string(b)
}

// Stop stops linphonec (SIGTERM, SIGKILL after 5 s), waits for it and
// closes its stdin. It is idempotent and also runs in the test's cleanup.
func (l *Linphonec) Stop() {
	l.proc.stop(stopGrace, stopGrace)
	l.wmu.Lock()
	l.stdin.Close()
	l.wmu.Unlock()
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[…]" + s[len(s)-n:]
}
