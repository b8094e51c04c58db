//go:build unix

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// pulse is a private PulseAudio (a daemon of this test's own, on a socket in
// a temp dir, with null sinks that give a real-time device clock) laid out
// for mouth-to-ear measurements on one device clock:
//
//	bus      stereo null sink at 8 kHz: left = the "mouth", right = the "ear"
//	micfeed  mono remap sink onto bus left: paplay the clicks here
//	mic      mono remap source of bus.monitor left: phone A's microphone
//	spk      mono remap sink onto bus right: phone B's speaker
//	junkA    null sink: phone A's speaker (discarded)
//	quiet    null sink whose monitor is phone B's (silent) microphone
//
// One parecord of bus.monitor then holds the clicks (left) and what B played
// (right) sample-aligned, so the delay needs no clock alignment between
// recorders: it is mouth (entering the bus) to ear (leaving B into the bus).
type pulse struct {
	dir    string
	server string // PULSE_SERVER value
}

func startPulse(t *testing.T) (*pulse, error) {
	return startPulseLayout(t, `load-module module-null-sink sink_name=bus rate=8000 channels=2 format=s16le channel_map=front-left,front-right
load-module module-remap-sink sink_name=micfeed master=bus channels=1 master_channel_map=front-left channel_map=mono remix=no
load-module module-remap-sink sink_name=spk master=bus channels=1 master_channel_map=front-right channel_map=mono remix=no
load-module module-remap-source source_name=mic master=bus.monitor channels=1 master_channel_map=front-left channel_map=mono remix=no
load-module module-null-sink sink_name=junkA rate=8000 channels=1 format=s16le
load-module module-null-sink sink_name=quiet rate=8000 channels=1 format=s16le
set-default-sink junkA
set-default-source quiet.monitor
`, []string{"micfeed", "spk", "junkA", "quiet"})
}

// startPulseLayout starts a private PulseAudio with the given module
// lines (after its own socket module) and keeps the mono 8 kHz sinks in
// keepAlive awake.
func startPulseLayout(t *testing.T, modules string, keepAlive []string) (*pulse, error) {
	t.Helper()
	// A short path: unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("", "tpb")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, err
	}
	sock := filepath.Join(dir, "native")
	pa := fmt.Sprintf("load-module module-native-protocol-unix socket=%s auth-anonymous=1\n%s", sock, modules)
	if err := os.WriteFile(filepath.Join(dir, "test.pa"), []byte(pa), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("pulseaudio", "-n", "-F", filepath.Join(dir, "test.pa"), "--daemonize=no", "--exit-idle-time=-1",
		"--disable-shm=yes", "--use-pid-file=no", "--realtime=no", "--high-priority=no", "--log-target=stderr")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir)
	cmd.Dir = dir
	p, err := startProc(t, "pulseaudio", cmd)
	if err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 100 || p.exited() {
			return nil, fmt.Errorf("pulseaudio did not start: %s", tail(p.out.String(), 800))
		}
		time.Sleep(50 * time.Millisecond)
	}
	pu := &pulse{dir: dir, server: "unix:" + sock}
	// Keep-alive streams: an idle null sink sleeps in cycles of up to 2 s and
	// stalls new streams (§7).
	for _, dev := range keepAlive {
		if _, err := startProc(t, "keepalive "+dev, pu.cmd("pacat", "-p", "--raw", "--device="+dev, "--format=s16le", "--rate=8000",
			"--channels=1", "--latency-msec=10", "/dev/zero")); err != nil {
			return nil, err
		}
	}
	time.Sleep(2100 * time.Millisecond)
	return pu, nil
}

// env is the environment of a PulseAudio client of this server.
func (pu *pulse) env() []string {
	return []string{"PULSE_SERVER=" + pu.server, "HOME=" + pu.dir, "XDG_RUNTIME_DIR=" + pu.dir}
}

func (pu *pulse) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Env = append(os.Environ(), pu.env()...)
	return c
}

// alsaConf writes an ALSA config whose "default" plays to sink and captures
// from source through the pulse plugin, and returns the environment that
// selects it (ALSA_CONFIG_PATH, plus PULSE_SINK/PULSE_SOURCE for good measure).
func (pu *pulse) alsaConf(name, sink, source string) ([]string, error) {
	conf := fmt.Sprintf(`pcm.!default {
    type asym
    playback.pcm { type pulse device "%s" }
    capture.pcm { type pulse device "%s" }
}
ctl.!default { type pulse }
`, sink, source)
	path := filepath.Join(pu.dir, "asound-"+name+".conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return append(pu.env(), "ALSA_CONFIG_PATH="+path, "PULSE_SINK="+sink, "PULSE_SOURCE="+source), nil
}
