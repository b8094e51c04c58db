package peertest

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// kamailioGrace is how long Kamailio gets after SIGTERM. Its shutdown
// normally takes milliseconds, but now and then a worker that was busy
// logging when the signal came never exits (its signal handler logs too), and
// the main process then waits for it for a minute. Nothing of value is lost
// by killing it: its state lives in memory only.
const kamailioGrace = 2 * time.Second

// KamailioConfig describes a Kamailio registrar/proxy on one address, by
// default 127.0.0.1, which is also its SIP domain and digest realm.
type KamailioConfig struct {
	// Users maps user names to plain-text digest passwords. Only these
	// users may REGISTER, and requests from them are challenged (407).
	Users map[string]string
	// RecordRoute adds Record-Route on INVITE/SUBSCRIBE/REFER, so that
	// in-dialog requests go through the proxy.
	RecordRoute bool
	// QOP makes the 401/407 challenges carry qop="auth".
	QOP bool
	// Verbose raises the log level from 2 to 3.
	Verbose bool
	// Addr is the address Kamailio listens on (UDP and TCP), its SIP
	// domain and digest realm. The zero value means 127.0.0.1.
	Addr netip.Addr
	// Port is the SIP port. 0 means a free port on 127.0.0.1 (another one
	// is tried should Kamailio lose a race for it), or 5060 inside Netns.
	Port int
	// SessionTimer, when positive, loads the dialog and sst modules and
	// makes every initial INVITE through the proxy a timed session (RFC
	// 4028 as a proxy): an INVITE without Session-Expires gets one of this
	// many seconds, and so does a 2xx without one (refresher=uac); an
	// INVITE that asks for less gets 422 with Min-SE: SessionTimer. It
	// implies RecordRoute.
	SessionTimer int
	// TransactionTimeout is how long the proxy waits for a final response
	// to a request it relayed before it answers 408 (tm's fr_timer). The
	// zero value means 30 s.
	TransactionTimeout time.Duration
	// Netns, if not nil, runs Kamailio, its config check and its
	// readiness probe inside that network namespace; Addr must then be
	// one of the namespace's addresses.
	Netns Netns
	// Domains are further SIP domains Kamailio serves (its aliases, any
	// port), e.g. "provider.test" for a lab provider found through DNS:
	// REGISTERs for them are accepted and requests to their users looked
	// up in the location table like those for Addr.
	Domains []string
	// TLS, if not nil, loads the tls module and listens for TLS on
	// another free port of Addr (Kamailio.TLSPort) with this certificate.
	TLS *KamailioTLS
	// InitialRequest is Kamailio script run on every initial request
	// (after authentication and Record-Route, before the location lookup
	// or relay), e.g. to add a header the way a PBX's paging feature does:
	// if (is_method("INVITE") && $fU == "pager") { append_hf("Call-Info: <sip:pbx>;answer-after=0\r\n"); }
	InitialRequest string
	// Config, if not nil, returns the whole kamailio.cfg for the SIP port
	// and Kamailio's directory (where it may write further files, e.g. a
	// dispatcher.list) instead of the built-in registrar/proxy; the other
	// fields but Addr, Port and Netns are then ignored. It must listen on
	// udp+tcp Addr:port and answer an OPTIONS for sip:Addr:port with 200,
	// logging its Call-ID (the readiness probe).
	Config func(port int, dir string) (string, error)
}

// KamailioTLS is the server certificate of Kamailio's TLS listener (PEM
// files, e.g. from CA.Issue).
type KamailioTLS struct {
	CertFile, KeyFile string
}

// Kamailio is a running Kamailio.
type Kamailio struct {
	// Port is the UDP+TCP SIP port on its address (Addr).
	Port int
	// TLSPort is the TLS port (KamailioConfig.TLS), 0 without TLS.
	TLSPort int
	// Dir holds kamailio.cfg, kamailio.log and the kamailio_ctl socket. It
	// is a short directory under os.TempDir() (Unix socket paths are limited
	// to 107 bytes) that is removed in the test's cleanup.
	Dir string

	addr      netip.Addr
	netns     Netns // nil: the machine's own network
	proc      *proc
	abandoned bool
}

// StartKamailio writes the config for cfg, checks it with "kamailio -c",
// starts "kamailio -DD -E" on cfg's address and port (by default 127.0.0.1
// and a free port, inside cfg.Netns if given) and waits until it answers
// OPTIONS with 200. It fails the test if any of that fails. Kamailio (with
// its children) is stopped in t.Cleanup; on failure its log tail is logged.
// Start Kamailio before the peers that register with it, so that they are
// stopped (and un-REGISTER) first.
func StartKamailio(t testing.TB, cfg KamailioConfig) *Kamailio {
	t.Helper()
	NeedKamailio(t)
	for u, pw := range cfg.Users {
		if u == "" || pw == "" || strings.ContainsAny(u+pw, "\"\\\n\r") {
			t.Fatalf("peertest: bad Kamailio user %q / password %q", u, pw)
		}
	}
	for _, d := range cfg.Domains {
		if d == "" || strings.ContainsAny(d, "\"\\\n\r:; ") {
			t.Fatalf("peertest: bad Kamailio domain %q", d)
		}
	}
	if cfg.Netns != nil && !cfg.Addr.IsValid() {
		t.Fatal("peertest: Kamailio in a network namespace needs KamailioConfig.Addr")
	}
	mpath, err := kamailioModulePath()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "kam")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	for attempt := 1; ; attempt++ {
		k, err := startKamailio(t, cfg, dir, mpath, attempt == 1)
		if err == nil {
			return k
		}
		if !errors.Is(err, errPortRace) || attempt == 4 || cfg.Port != 0 || cfg.Netns != nil {
			t.Fatalf("peertest: starting Kamailio: %v", err)
		}
		t.Logf("peertest: Kamailio: %v; retrying on another port", err)
	}
}

func startKamailio(t testing.TB, cfg KamailioConfig, dir, mpath string, check bool) (*Kamailio, error) {
	port := cfg.Port
	switch {
	case port != 0:
	case cfg.Netns != nil:
		port = 5060 // the namespace has its own ports
	default:
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	tlsPort := 0
	if cfg.TLS != nil {
		tlsPort = 5061 // the namespace has its own ports
		if cfg.Netns == nil {
			var err error
			if tlsPort, err = FreePort(); err != nil {
				return nil, err
			}
		}
		_, _, _, tlsCfg := kamailioTLS(cfg, tlsPort, dir)
		if err := os.WriteFile(filepath.Join(dir, "tls.cfg"), []byte(tlsCfg), 0o644); err != nil {
			return nil, err
		}
	}
	command := exec.Command
	if cfg.Netns != nil {
		command = cfg.Netns.Command
	}
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	text := kamailioConfig(cfg, port, tlsPort, dir, mpath)
	if cfg.Config != nil {
		var err error
		if text, err = cfg.Config(port, dir); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
		return nil, err
	}
	if check {
		out, err := outputWithin(command("kamailio", "-c", "-f", cfgPath), ReadyTimeout)
		if err != nil {
			return nil, fmt.Errorf("kamailio -c -f %s: %v\n%s", cfgPath, err, out)
		}
	}
	p, err := startCmd(command("kamailio", "-DD", "-E", "-f", cfgPath, "-m", "64", "-M", "8", "-Y", dir, "-w", dir),
		dir, filepath.Join(dir, "kamailio.log"), nil, nil)
	if err != nil {
		return nil, err
	}
	k := &Kamailio{Port: port, TLSPort: tlsPort, Dir: dir, addr: kamailioAddr(cfg), netns: cfg.Netns, proc: p}
	t.Cleanup(func() {
		k.Stop()
		if t.Failed() && !k.abandoned {
			t.Logf("peertest: Kamailio (%s) log tail:\n%s", p.exitStatus(), logTail(p.logPath, logTailBytes))
		}
	})
	if err := k.waitReady(); err != nil {
		k.abandoned = errors.Is(err, errPortRace)
		k.Stop()
		return nil, err
	}
	return k, nil
}

func (k *Kamailio) waitReady() error {
	deadline := time.Now().Add(ReadyTimeout)
	for {
		if k.proc.exited() {
			if k.proc.logContains("Address already in use") {
				return fmt.Errorf("port %d: %w", k.Port, errPortRace)
			}
			return fmt.Errorf("kamailio exited before it was ready (%s):\n%s", k.proc.exitStatus(), logTail(k.proc.logPath, logTailBytes))
		}
		code, callID, err := k.probe()
		// The answer must come from our Kamailio, not from a peer of another
		// test process that took the port after ours failed to bind it: our
		// Kamailio logs the request (with its Call-ID) before answering.
		// Kamailio binds UDP and TCP before it forks the workers that
		// answer, so then TCP is ours too.
		if err == nil && code == 200 && k.proc.logContains(callID) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kamailio did not answer OPTIONS with 200 within %v (last: %d %v):\n%s",
				ReadyTimeout, code, err, logTail(k.proc.logPath, logTailBytes))
		}
		time.Sleep(pollInterval)
	}
}

// probe sends one OPTIONS probe to Kamailio, from inside its namespace if it
// runs in one.
func (k *Kamailio) probe() (code int, callID string, err error) {
	const timeout = 300 * time.Millisecond
	if k.netns == nil {
		return probeOptions(k.Addr(), timeout)
	}
	if nsErr := k.netns.Do(func() error {
		code, callID, err = probeOptions(k.Addr(), timeout)
		return nil
	}); nsErr != nil {
		return 0, "", nsErr
	}
	return code, callID, err
}

// Addr returns "ADDR:PORT", by default "127.0.0.1:PORT".
func (k *Kamailio) Addr() string { return net.JoinHostPort(k.addr.String(), strconv.Itoa(k.Port)) }

// TLSAddr is the address of the TLS listener ("" without TLS).
func (k *Kamailio) TLSAddr() string {
	if k.TLSPort == 0 {
		return ""
	}
	return net.JoinHostPort(k.addr.String(), strconv.Itoa(k.TLSPort))
}

// URI returns sip:user@ADDR:PORT, the AOR of a user of this Kamailio.
func (k *Kamailio) URI(user string) string { return "sip:" + user + "@" + k.Addr() }

// Log returns Kamailio's log so far (one REQ/RPL line per request/reply).
func (k *Kamailio) Log() string { return k.proc.log() }

// Stop stops Kamailio (SIGTERM, SIGKILL of its process group after 2 s) and
// waits for it. It is idempotent and also runs in the test's cleanup. Its
// registrations live in memory only and are lost.
func (k *Kamailio) Stop() { k.proc.stop(kamailioGrace, kamailioGrace) }

// Registrations returns the output of "kamcmd ul.dump": every AoR (the bare
// user name, e.g. "AoR: alice") with its contacts ("Address: sip:...",
// "Socket: udp:127.0.0.1:PORT"), Expires and User-Agent.
func (k *Kamailio) Registrations() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommandTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "kamcmd", "-s", "unix:"+filepath.Join(k.Dir, "kamailio_ctl"), "ul.dump").CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kamcmd ul.dump: %v: %s", err, out)
	}
	return string(out), nil
}

// ProbeOptions sends a SIP OPTIONS request for sip:ADDR over UDP to addr
// ("127.0.0.1:PORT"), retransmitting every 100 ms, and returns the status
// code of the first final response. It fails after timeout (or when nothing
// listens and the port is reported unreachable until then).
func ProbeOptions(addr string, timeout time.Duration) (int, error) {
	code, _, err := probeOptions(addr, timeout)
	return code, err
}

// probeOptions is ProbeOptions, also returning the request's Call-ID.
func probeOptions(addr string, timeout time.Duration) (code int, callID string, err error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return 0, "", err
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return 0, "", err
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	id := strconv.FormatUint(rand.Uint64(), 36)
	callID = "probe-" + id
	msg := "OPTIONS sip:" + addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";rport;branch=z9hG4bK" + id + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: <sip:peertest@" + local + ">;tag=" + id + "\r\n" +
		"To: <sip:" + addr + ">\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Accept: application/sdp\r\n" +
		"Content-Length: 0\r\n\r\n"
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 65535)
	var lastErr error = errors.New("no response")
	for time.Now().Before(deadline) {
		if _, err := conn.Write([]byte(msg)); err != nil {
			lastErr = err
		}
		_ = conn.SetReadDeadline(minTime(deadline, time.Now().Add(100*time.Millisecond)))
		for {
			n, err := conn.Read(buf)
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					lastErr = err // e.g. connection refused (ICMP port unreachable)
					// pace the retry
					time.Sleep(min(time.Until(deadline), 100*time.Millisecond))
				}
				break
			}
			c, cid, ok := parseStatus(buf[:n])
			if !ok || cid != callID {
				continue
			}
			if c >= 200 {
				return c, callID, nil
			}
		}
	}
	return 0, callID, fmt.Errorf("OPTIONS %s: no final response within %v: %w", addr, timeout, lastErr)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// outputWithin runs cmd and returns its combined output; it kills cmd
// after timeout.
func outputWithin(cmd *exec.Cmd, timeout time.Duration) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	timer := time.AfterFunc(timeout, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return out.Bytes(), err
}

// parseStatus returns the status code and Call-ID of a SIP response.
func parseStatus(b []byte) (code int, callID string, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	if !sc.Scan() {
		return 0, "", false
	}
	f := strings.Fields(sc.Text())
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return 0, "", false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, "", false
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		name, val, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		if n := strings.TrimSpace(strings.ToLower(name)); n == "call-id" || n == "i" {
			callID = strings.TrimSpace(val)
		}
	}
	return code, callID, true
}
