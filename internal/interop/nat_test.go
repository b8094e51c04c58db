//go:build linux

package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio/resample"
	"github.com/teaphone/teaphone/audio/wav"
	"github.com/teaphone/teaphone/internal/netlab"
	"github.com/teaphone/teaphone/internal/peertest"
)

// natLabConfig is the teaphone config of a phone in the lab: UDP only on
// listen, one account at the provider's Kamailio (registrar by IP:port, so
// no DNS), a 440 Hz tone as microphone.
func natLabConfig(listen, user, pw, kamAddr string, register bool, rtp [2]int, nat string) string {
	return fmt.Sprintf(`[sip]
listen = %q
transports = ["udp"]

[[accounts]]
name = %q
aor = "sip:%s@%s"
registrar = %q
password = %q
register = %v
expires = 300

[media]
audio = "tone:440"
rtp_ports = [%d, %d]

[nat]
%s
`, listen, user, user, kamAddr, kamAddr, pw, register, rtp[0], rtp[1], nat)
}

// natEvents parses the JSON-lines events in a lab process's output (stdout
// and stderr share the log; only lines starting with '{' are events).
func natEvents(out string) []map[string]any {
	var evs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			evs = append(evs, m)
		}
	}
	return evs
}

// natCount counts the events with the given fields.
func natCount(evs []map[string]any, fields map[string]string) int {
	n := 0
	for _, ev := range evs {
		ok := true
		for k, v := range fields {
			if fmt.Sprint(ev[k]) != v {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return n
}

// natKamContacts returns the Contacts of the REGISTERs Kamailio accepted,
// from its log lines "{1 CSEQ REGISTER CALL-ID} ... REGISTER USER OK
// contact=<...> expires=N", in CSeq order: Kamailio logs a line after its
// 200 has gone out, and the next REGISTER may be logged first by another
// worker.
var natKamContact = regexp.MustCompile(`\{1 (\d+) REGISTER [^}]*\} <script>: REGISTER (\w+) OK contact=(\S+)`)

func natKamContacts(log, user string) []string {
	type reg struct {
		cseq    int
		contact string
	}
	var regs []reg
	for _, m := range natKamContact.FindAllStringSubmatch(log, -1) {
		if m[2] == user {
			n, _ := strconv.Atoi(m[1])
			regs = append(regs, reg{n, m[3]})
		}
	}
	sort.SliceStable(regs, func(i, j int) bool { return regs[i].cseq < regs[j].cseq })
	out := make([]string, len(regs))
	for i, r := range regs {
		out[i] = r.contact
	}
	return out
}

// natMaxRx returns the highest rx_packets of the media events in evs.
func natMaxRx(evs []map[string]any) float64 {
	var rx float64
	for _, ev := range evs {
		if ev["event"] == "media" {
			if n, ok := ev["rx_packets"].(float64); ok && n > rx {
				rx = n
			}
		}
	}
	return rx
}

// TestNATRegisterAndIncomingCall: teaphone (the headless "answer" mode, as
// a process inside the lab's LAN) behind a port-preserving NAT with short
// UDP bindings registers at a Kamailio that does no NAT fix-ups at all
// (no nathelper, no force_rport, no fix_nated_contact). With
// nat.contact_rewrite it re-registers with the public address the
// registrar saw, so Kamailio's location holds the router's public address;
// a second teaphone on another internet host then calls it through
// Kamailio and the call connects. After a pause longer than the NAT's UDP
// timeouts a second call connects too: nat.keepalive kept the binding.
// Every connected call must carry RTP both ways: each side's recording holds
// the other's tone (alice 440 Hz, bob 660 Hz).
//
// The far end is teaphone's "dial" mode: it latches onto the RTP that comes
// from alice's public address, while baresip 1.0 sends to the private
// address of alice's SDP (TestNATBaresipFarEndOneWayAudio). Both phones run
// as processes through "ip netns exec": a sipgo phone inside the test
// process would open later sockets outside the namespace.
func TestNATRegisterAndIncomingCall(t *testing.T) { natScenario(t, natCase{keepalive: true}) }

// TestNATWithoutKeepaliveLosesIncomingCalls is the control: the same with
// nat.keepalive = "0s". The first call connects (the registration has just
// opened the binding), but after the idle pause the router has forgotten
// the binding and drops Kamailio's INVITE, so the second call never reaches
// teaphone. It shows that the first test's second call passes thanks to the
// keep-alives and that the lab's short timeouts are real.
func TestNATWithoutKeepaliveLosesIncomingCalls(t *testing.T) { natScenario(t, natCase{}) }

// natCase is one register-and-call scenario of the NAT lab.
type natCase struct {
	nat       netlab.NAT // the router's kind (zero: port-preserving)
	keepalive bool       // alice sends keep-alives every 2 s, else none
	dns       natDNS     // how both phones find the provider (zero: by IP:port)
	// baresip makes the far end (bob) a baresip registered at Kamailio by
	// IP:port instead of teaphone's dial mode; it needs keepalive.
	baresip bool
	// oneCall leaves out the second call after the idle pause.
	oneCall bool
	// stun gives alice nat.stun_server: the lab's STUN server.
	stun bool
}

func natScenario(t *testing.T, c natCase) {
	const (
		udpTimeout    = 5 * time.Second
		streamTimeout = 8 * time.Second
		idle          = 10 * time.Second // longer than both timeouts
	)
	ka := "0s"
	if c.keepalive {
		ka = "2s"
	}
	lab := netlab.New(t, netlab.Config{NAT: c.nat, UDPTimeout: udpTimeout, UDPStreamTimeout: streamTimeout})
	bobHost := lab.AddHost(t, "bob")
	prov := natStartProvider(t, lab, c, lab.LAN(), bobHost)
	k := prov.k
	bin := teaphoneBinary(t)
	dir := t.TempDir()

	aliceCfg := filepath.Join(dir, "alice.toml")
	aliceLog := filepath.Join(dir, "alice.log")
	if err := os.WriteFile(aliceCfg, []byte(natLabConfig(lab.LAN().Addr.String()+":5060", "alice", "alicepw", prov.domain, true,
		[2]int{20000, 20099}, natAliceNAT(ka, prov.stun))), 0o600); err != nil {
		t.Fatal(err)
	}
	aliceRec := filepath.Join(dir, "alice-rec")
	alice := lab.Start(t, lab.LAN(), bin, "answer", "--config", aliceCfg, "--log-file", aliceLog, "--verbose", "--events", "jsonl",
		"--record-dir", aliceRec)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("alice output:\n%s\nalice log tail:\n%s", alice.Log(), tail(aliceLog, 80))
		}
	})

	// Kamailio's location must end up with the router's public address
	// (and only that: the rewrite removes the private binding).
	public := lab.Router().Addr.String()
	private := lab.LAN().Addr.String()
	var regs string
	if !waitUntil(prov.regWait, func() bool {
		if alice.Exited() {
			return true
		}
		regs, _ = k.Registrations()
		sec, _ := aorSection(regs, "alice")
		return strings.Contains(sec, "@"+public+":") && !strings.Contains(regs, private)
	}) || alice.Exited() {
		t.Fatalf("Kamailio's location never held only alice's public contact (alice %s):\n%s\nKamailio log:\n%s",
			alice.ExitStatus(), regs, k.Log())
	}
	for _, l := range strings.Split(regs, "\n") {
		if strings.Contains(l, "Address:") || strings.Contains(l, "Received:") || strings.Contains(l, "Socket:") {
			t.Logf("Kamailio ul.dump: %s", strings.TrimSpace(l))
		}
	}
	// Kamailio stored what it was given: first the private Contact, then,
	// after teaphone learnt its public address from the 200's Via
	// received/rport, the public one: port 5060 behind the port-preserving
	// NAT, the port the router picked for the way to Kamailio behind the
	// symmetric one.
	for _, l := range strings.Split(k.Log(), "\n") {
		if i := strings.Index(l, "REGISTER alice OK "); i >= 0 {
			t.Logf("Kamailio: %s", l[i:])
		}
	}
	contacts := natKamContacts(k.Log(), "alice")
	t.Logf("Contacts of alice's accepted REGISTERs, in order: %v", contacts)
	if len(contacts) < 2 || contactAt(contacts[0]) != private+":5060" || !strings.HasPrefix(contactAt(contacts[1]), public+":") {
		t.Fatalf("alice's REGISTER Contacts %v, want <sip:…@%s:5060> then <sip:…@%s:PORT> first", contacts, private, public)
	}
	publicContact := strings.Trim(contacts[1], "<>")
	if c.nat != netlab.Symmetric && contactAt(publicContact) != public+":5060" {
		t.Errorf("alice's public Contact %s, want port 5060 kept by the port-preserving NAT", publicContact)
	}
	if l := grepLine(readFile(aliceLog), "public address learnt"); l != "" {
		t.Logf("alice log: %s", l)
	}
	// --verbose puts the SIP on the wire in the log (both directions).
	if text := readFile(aliceLog); !strings.Contains(text, " SIP sent UDP ") || !strings.Contains(text, " SIP recv UDP ") ||
		!strings.Contains(text, "\nREGISTER sip:") {
		t.Errorf("alice's --verbose log has no SIP trace of her REGISTERs")
	}
	natCheckRegServer(t, natEvents(alice.Log()), prov.server)
	prov.checkFailover(t, "alice", aliceLog, "registrar server failed, trying the next")

	bobCfg := filepath.Join(dir, "bob.toml")
	if err := os.WriteFile(bobCfg, []byte(natLabConfig(bobHost.Addr.String()+":5060", "bob", "bobpw", prov.domain, false,
		[2]int{30000, 30099}, "contact_rewrite = false\nkeepalive = \"0s\"")), 0o600); err != nil {
		t.Fatal(err)
	}
	var baresip *peertest.Baresip
	if c.baresip {
		baresip = lab.StartBaresip(t, bobHost, peertest.BaresipConfig{User: "bob", Registrar: k.Addr(), Password: "bobpw",
			AudioSource: "ausine,660"})
	}
	call := func(n int, wantConnect bool) {
		t.Helper()
		connected := map[string]string{"event": "call", "state": "connected"}
		ringing := map[string]string{"event": "call", "state": "ringing"}
		within := prov.callWait
		if !wantConnect {
			within = 5 * time.Second // Kamailio's INVITE would reach alice within milliseconds
		}
		aliceMark := len(natEvents(alice.Log()))
		before := natCount(natEvents(alice.Log()), connected)
		if baresip != nil {
			bobHeard := natBaresipCall(t, baresip, n, k.URI("alice"), within)
			if !waitUntil(5*time.Second, func() bool { return natCount(natEvents(alice.Log()), connected) > before }) {
				t.Fatalf("call %d: alice reported no connected call:\n%s", n, alice.Log())
			}
			if got := strings.Count(k.Log(), "INVITE for alice -> "+publicContact+"\n"); got != n {
				t.Errorf("call %d: Kamailio routed %d INVITEs to alice's public contact, want %d", n, got, n)
			}
			checkTone(t, fmt.Sprintf("call %d: baresip hears alice", n), bobHeard, 440, 1.2)
			if c.stun {
				natCheckSDPAddr(t, n, baresip.Log(), public, private)
				checkTone(t, fmt.Sprintf("call %d: alice hears baresip", n), natRemote(t, aliceRec, n), 660, 1.2)
				return
			}
			natCheckBaresipOneWay(t, n, baresip, natRemote(t, aliceRec, n), natEvents(alice.Log())[aliceMark:], private)
			return
		}
		bobLog := filepath.Join(dir, fmt.Sprintf("bob%d.log", n))
		bobRec := filepath.Join(dir, fmt.Sprintf("bob%d-rec", n))
		bob := lab.Start(t, bobHost, bin, "dial", "--config", bobCfg, "--log-file", bobLog, "--verbose", "--events", "jsonl",
			"--audio", "tone:660", "--record-dir", bobRec, "--timeout", (within + 10*time.Second).String(),
			"--script", "expect state connected within "+within.String()+"; wait 2s; hangup", "sip:alice@"+prov.domain)
		select {
		case <-bob.Done():
		case <-time.After(within + 15*time.Second):
			t.Fatalf("call %d: bob's teaphone dial still running after %v:\n%s", n, within+15*time.Second, bob.Log())
		}
		if !wantConnect {
			if bob.ExitStatus() == "exit status 0" {
				t.Fatalf("call %d: connected, want it lost at the NAT:\n%s", n, bob.Log())
			}
			if got := natCount(natEvents(alice.Log())[aliceMark:], ringing); got != 0 {
				t.Fatalf("call %d: reached alice (%d ringing events), want it lost at the NAT:\n%s", n, got, alice.Log())
			}
			if got := strings.Count(k.Log(), "INVITE for alice -> "+publicContact+"\n"); got != n {
				t.Errorf("call %d: Kamailio routed %d INVITEs to alice's public contact, want %d", n, got, n)
			}
			t.Logf("call %d: lost at the NAT as expected (bob: %s)", n, bob.ExitStatus())
			return
		}
		if bob.ExitStatus() != "exit status 0" {
			t.Fatalf("call %d: bob's teaphone dial: %s\n%s\nbob log tail:\n%s\nKamailio log tail:\n%s",
				n, bob.ExitStatus(), bob.Log(), tail(bobLog, 60), ctlTail(k.Log(), 3000))
		}
		if !waitUntil(5*time.Second, func() bool { return natCount(natEvents(alice.Log()), connected) > before }) {
			t.Fatalf("call %d: alice reported no connected call:\n%s", n, alice.Log())
		}
		bobEvs := natEvents(bob.Log())
		if natCount(bobEvs, connected) == 0 {
			t.Fatalf("call %d: bob reported no connected call:\n%s", n, bob.Log())
		}
		prov.checkFailover(t, fmt.Sprintf("call %d: bob", n), bobLog, "server failed the INVITE, trying the next")
		// Kamailio sent the INVITE to the public contact.
		if got := strings.Count(k.Log(), "INVITE for alice -> "+publicContact+"\n"); got != n {
			t.Errorf("call %d: Kamailio routed %d INVITEs to alice's public contact, want %d", n, got, n)
		}
		// RTP flowed both ways through the NAT (media events every 500 ms
		// of a 2 s call: 25 packets is half a second of audio).
		aliceEvs := natEvents(alice.Log())
		if rx := natMaxRx(bobEvs); rx < 25 {
			t.Errorf("call %d: bob received %v RTP packets, want >= 25", n, rx)
		}
		if rx := natMaxRx(aliceEvs[aliceMark:]); rx < 25 {
			t.Errorf("call %d: alice received %v RTP packets, want >= 25", n, rx)
		}
		// What each side heard (the left channel of its recording): bob
		// alice's 440 Hz, alice bob's 660 Hz.
		checkTone(t, fmt.Sprintf("call %d: bob hears alice", n), natRemote(t, bobRec, 1), 440, 1.2)
		checkTone(t, fmt.Sprintf("call %d: alice hears bob", n), natRemote(t, aliceRec, n), 660, 1.2)
		t.Logf("call %d connected through the NAT", n)
	}

	call(1, true)
	if c.oneCall {
		return
	}
	t.Logf("idle for %v (NAT UDP timeouts %v / %v, nat.keepalive %s)", idle, udpTimeout, streamTimeout, ka)
	time.Sleep(idle)
	call(2, c.keepalive)
}

// natAliceNAT is alice's [nat] table: contact rewrite, keep-alives every
// ka, and the STUN server stun unless it is "".
func natAliceNAT(ka, stun string) string {
	s := "contact_rewrite = true\nkeepalive = \"" + ka + "\"\n"
	if stun != "" {
		s += "stun_server = \"" + stun + "\"\n"
	}
	return s
}

// natRemote waits until dir holds want finished recordings (stereo WAV,
// remote left) and returns the left channel of the newest.
func natRemote(t *testing.T, dir string, want int) []int16 {
	t.Helper()
	var samples []int16
	var rate, ch int
	var err error
	var files []string
	ok := waitUntil(5*time.Second, func() bool {
		files, _ = filepath.Glob(filepath.Join(dir, "*.wav"))
		if len(files) < want {
			return false
		}
		newest := files[0]
		for _, f := range files[1:] {
			if a, b := fileMTime(f), fileMTime(newest); a.After(b) {
				newest = f
			}
		}
		samples, rate, ch, err = wav.ReadFile(newest)
		return err == nil && len(samples) > 0
	})
	if !ok {
		t.Fatalf("recordings in %s: %v (want %d; last read: %v)", dir, files, want, err)
	}
	if ch != 2 || (rate != 8000 && rate != 16000 && rate != 48000) {
		t.Fatalf("recording in %s: %d Hz %d channels, want stereo at a call's rate", dir, rate, ch)
	}
	left := make([]int16, len(samples)/2)
	for i := range left {
		left[i] = samples[2*i]
	}
	// Two teaphones talk Opus (the default codecs): the recording is at
	// the call's rate; the tone checks work at 8 kHz.
	rs, err := resample.New(rate, 8000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, rs.MaxOut(len(left)))
	n, err := rs.Process(out, left)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recording in %s: %d Hz (the call's codec rate)", dir, rate)
	return out[:n]
}

func fileMTime(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// grepLine returns the first line of s containing sub, trimmed.
func grepLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// readFile returns the file's contents, or the error as text.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
