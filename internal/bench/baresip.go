//go:build unix

package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// baresipOpts describes one baresip 1.0 instance for the benchmarks.
type baresipOpts struct {
	User           string
	SIPPort, Ctrl  int
	RTPMin, RTPMax int
	MaxCalls       int
	// Audio: "ausine" (ausine,440 source at 48 kHz stereo, no player, as in
	// package peertest: the load benchmark) or "alsa" (ALSA default device for
	// both directions at 8 kHz mono, for the latency measurement through
	// the pulse plugin; Env must carry ALSA_CONFIG_PATH and PULSE_SERVER).
	// "aufile" (a 40 s 440 Hz WAV at 8 kHz mono: no resampler, but
	// aufile holds the whole file in memory per call).
	Audio string
	Env   []string
	// Codec is the account's audio_codecs (default "pcmu"); Modules are
	// extra modules to load for it (e.g. "opus.so").
	Codec   string
	Modules []string
}

// startBaresip writes the config into a temp dir and starts "baresip -f DIR"
// (no -s SIP trace: it would cost CPU under load), waiting for "baresip is
// ready.". Without sndfile nothing is written per call.
func startBaresip(t testing.TB, o baresipOpts) (*proc, error) {
	t.Helper()
	dir := t.TempDir()
	audio := `audio_source         ausine,440
ausrc_srate          48000
ausrc_channels       2
module               ausine.so
`
	if o.Audio == "aufile" {
		wav := filepath.Join(dir, "tone.wav")
		x := make([]int16, 40*latRate)
		for i := range x {
			x[i] = int16(16384 * math.Sin(2*math.Pi*440*float64(i)/latRate))
		}
		if err := writeWAV(wav, x); err != nil {
			return nil, err
		}
		audio = "audio_source         aufile," + wav + "\nausrc_srate          8000\nausrc_channels       1\nmodule               aufile.so\n"
	}
	if o.Audio == "alsa" {
		audio = `audio_source         alsa,default
audio_player         alsa,default
ausrc_srate          8000
ausrc_channels       1
auplay_srate         8000
auplay_channels      1
module               alsa.so
`
	}
	cfg := fmt.Sprintf(`poll_method          epoll
sip_listen           127.0.0.1:%d
net_interface        127.0.0.1
dns_server           127.0.0.1:53
call_local_timeout   120
call_max_calls       %d
audio_buffer         20-160
rtp_ports            %d-%d
rtcp_mux             no
jitter_buffer_delay  5-10
rtp_stats            no
module_path          /usr/lib/baresip/modules
module               g711.so
%smodule_tmp           account.so
module_app           menu.so
module_app           ctrl_tcp.so
ctrl_tcp_listen      127.0.0.1:%d
statmode_default     off
ringback_disabled    yes
menu_bell            no
`, o.SIPPort, o.MaxCalls, o.RTPMin, o.RTPMax, audio, o.Ctrl)
	for _, m := range o.Modules {
		cfg += "module               " + m + "\n"
	}
	codec := o.Codec
	if codec == "" {
		codec = "pcmu"
	}
	acc := fmt.Sprintf("<sip:%s@127.0.0.1:%d>;regint=0;answermode=auto;audio_codecs=%s;ptime=20\n", o.User, o.SIPPort, codec)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acc), 0o644); err != nil {
		return nil, err
	}
	// 500 calls need > 1000 descriptors (RTP + RTCP per call).
	cmd := exec.Command("sh", "-c", `ulimit -n 8192 2>/dev/null; exec baresip -f "$0"`, dir)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Env = append(cmd.Env, "HOME="+dir)
	p, err := startProc(t, "baresip "+o.User, cmd)
	if err != nil {
		return nil, err
	}
	if err := p.waitOutput("baresip is ready.", 15*time.Second); err != nil {
		return nil, err
	}
	return p, nil
}

// baresipCtrl is a minimal ctrl_tcp client that sends commands and collects
// events: both ways each message is a netstring ("LEN:" JSON ",").
type baresipCtrl struct {
	conn   net.Conn
	events chan map[string]any
}

func dialBaresipCtrl(port int) (*baresipCtrl, error) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		return nil, err
	}
	b := &baresipCtrl{conn: c, events: make(chan map[string]any, 256)}
	go func() {
		r := bufio.NewReader(c)
		defer close(b.events)
		for {
			n, err := r.ReadString(':')
			if err != nil {
				return
			}
			var size int
			if _, err := fmt.Sscanf(n[:len(n)-1], "%d", &size); err != nil || size < 0 || size > 1<<20 {
				return
			}
			buf := make([]byte, size+1)
			if _, err := ioReadFull(r, buf); err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(buf[:size], &m) == nil {
				select {
				case b.events <- m:
				default:
				}
			}
		}
	}()
	return b, nil
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (b *baresipCtrl) command(cmd, params string) error {
	m := map[string]string{"command": cmd, "token": "t"}
	if params != "" {
		m["params"] = params
	}
	j, _ := json.Marshal(m)
	_, err := fmt.Fprintf(b.conn, "%d:%s,", len(j), j)
	return err
}

// waitEvent waits for an event of type typ.
func (b *baresipCtrl) waitEvent(typ string, timeout time.Duration) error {
	end := time.After(timeout)
	for {
		select {
		case m, ok := <-b.events:
			if !ok {
				return fmt.Errorf("ctrl connection closed before %s", typ)
			}
			if s, _ := m["type"].(string); s == typ {
				return nil
			} else if s == "CALL_CLOSED" {
				return fmt.Errorf("call closed (%v) before %s", m["param"], typ)
			}
		case <-end:
			return fmt.Errorf("no %s within %v", typ, timeout)
		}
	}
}

func (b *baresipCtrl) close() { _ = b.conn.Close() }

// needBin reports a missing binary as a reason string ("" if present).
func needBin(names ...string) string {
	var miss []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			miss = append(miss, n)
		}
	}
	if len(miss) > 0 {
		return "not installed: " + strings.Join(miss, ", ")
	}
	return ""
}
