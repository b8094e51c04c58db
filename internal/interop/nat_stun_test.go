//go:build linux

package interop

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/netlab"
	"github.com/teaphone/teaphone/internal/peertest"
)

// natSTUNPublic is alice's log line for the STUN-mapped RTP address.
var natSTUNPublic = regexp.MustCompile(`stun: public media address.* public=(198\.51\.100\.1:(\d+))`)

// TestNATSTUNPublicAddressInSDP: teaphone behind the port-preserving NAT
// with nat.stun_server answers a call from the internet; the SDP of its
// 200 OK, as the far end parsed it (its --verbose log line "sdp: media
// addresses"), carries the router's public address
// and the port STUN mapped its RTP socket to (not 10.77.0.2), and the tones
// go both ways (alice 440 Hz, bob 660 Hz).
func TestNATSTUNPublicAddressInSDP(t *testing.T) {
	lab := netlab.New(t, netlab.Config{NAT: netlab.PortPreserving, UDPTimeout: 5 * time.Second, UDPStreamTimeout: 8 * time.Second})
	provider := lab.AddHost(t, "provider")
	bobHost := lab.AddHost(t, "bob")
	stunHost := lab.AddHost(t, "stun")
	k := lab.StartKamailio(t, provider, peertest.KamailioConfig{
		Users: map[string]string{"alice": "alicepw", "bob": "bobpw"}, RecordRoute: true,
	})
	stunAddr := lab.StartSTUN(t, stunHost)
	bin := teaphoneBinary(t)
	dir := t.TempDir()

	aliceCfg := filepath.Join(dir, "alice.toml")
	aliceLog := filepath.Join(dir, "alice.log")
	aliceText := natLabConfig(lab.LAN().Addr.String()+":5060", "alice", "alicepw", k.Addr(), true,
		[2]int{20000, 20099}, "contact_rewrite = true\nkeepalive = \"2s\"\nstun_server = \""+stunAddr.String()+"\"")
	// media.ice stays on (the default): with STUN, alice's answer carries
	// host and server-reflexive candidates, and her 200 OK, with
	// Kamailio's Via and Record-Route, is larger than the 1300 bytes
	// sipgo used to refuse to send over UDP.
	if err := os.WriteFile(aliceCfg, []byte(aliceText), 0o600); err != nil {
		t.Fatal(err)
	}
	aliceRec := filepath.Join(dir, "alice-rec")
	alice := lab.Start(t, lab.LAN(), bin, "answer", "--config", aliceCfg, "--log-file", aliceLog, "--verbose", "--events", "jsonl",
		"--record-dir", aliceRec)
	public := lab.Router().Addr.String()
	if !waitUntil(15*time.Second, func() bool {
		regs, _ := k.Registrations()
		sec, _ := aorSection(regs, "alice")
		return alice.Exited() || strings.Contains(sec, "@"+public)
	}) || alice.Exited() {
		t.Fatalf("alice never registered her public contact (%s):\n%s\n%s", alice.ExitStatus(), alice.Log(), tail(aliceLog, 60))
	}

	bobCfg := filepath.Join(dir, "bob.toml")
	if err := os.WriteFile(bobCfg, []byte(natLabConfig(bobHost.Addr.String()+":5060", "bob", "bobpw", k.Addr(), false,
		[2]int{30000, 30099}, "contact_rewrite = false\nkeepalive = \"0s\"")), 0o600); err != nil {
		t.Fatal(err)
	}
	bobLog := filepath.Join(dir, "bob.log")
	bobRec := filepath.Join(dir, "bob-rec")
	bob := lab.Start(t, bobHost, bin, "dial", "--config", bobCfg, "--log-file", bobLog, "--verbose", "--events", "jsonl",
		"--audio", "tone:660", "--record-dir", bobRec,
		"--timeout", "20s", "--script", "expect state connected within 10s; wait 2s; hangup", k.URI("alice"))
	select {
	case <-bob.Done():
	case <-time.After(25 * time.Second):
		t.Fatalf("bob's teaphone dial still running after 25s:\n%s", bob.Log())
	}
	if bob.ExitStatus() != "exit status 0" {
		t.Fatalf("bob: %s\n%s\nbob log tail:\n%s\nalice log tail:\n%s", bob.ExitStatus(), bob.Log(), tail(bobLog, 60), tail(aliceLog, 60))
	}

	m := natSTUNPublic.FindStringSubmatch(readFile(aliceLog))
	if m == nil {
		t.Fatalf("alice's log has no STUN-mapped media address:\n%s", tail(aliceLog, 80))
	}
	t.Logf("alice: %s", grepLine(readFile(aliceLog), "stun: public media address"))
	// bob's log (--verbose) says where alice's SDP answer told him to
	// send his audio.
	line := grepLine(readFile(bobLog), "sdp: media addresses")
	t.Logf("bob: %s", line)
	if !strings.Contains(line, "remote_answer="+m[1]+" ") {
		t.Errorf("bob was told to send to %q, want alice's STUN-mapped %s (the router's public address)", line, m[1])
	}
	checkTone(t, "bob hears alice", natRemote(t, bobRec, 1), 440, 1.2)
	checkTone(t, "alice hears bob", natRemote(t, aliceRec, 1), 660, 1.2)
}
