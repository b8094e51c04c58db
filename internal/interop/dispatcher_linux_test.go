package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// Deploy files of issue 15, used as shipped: the test replaces only the
// listen port and the dispatcher.list path and ports.
const (
	deployKamailioCfg  = "../../deploy/kamailio/kamailio.cfg"
	deployDispatchList = "../../deploy/kamailio/dispatcher.list"
)

// dispatcherInstance is one "teaphone answer" behind the dispatcher; runs
// holds every process started on its port (a restart adds one).
type dispatcherInstance struct {
	addr string
	runs []*teaphoneCmd
}

// start starts "teaphone answer" on the instance's port, in a process
// group of its own, and waits until it answers OPTIONS.
func (in *dispatcherInstance) start(t *testing.T) {
	t.Helper()
	tc := newTeaphoneCmd(t, "answer", "--listen", in.addr, "--audio", "tone:440", "--rtp-ports", rtpPortsFlag(t))
	tc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	tc.start(t)
	if code, err := peertest.ProbeOptions(in.addr, waitShort); err != nil || code != 200 {
		t.Fatalf("teaphone answer on %s does not answer OPTIONS: %d %v", in.addr, code, err)
	}
	in.runs = append(in.runs, tc)
}

// connected returns the SIP Call-IDs of the calls the instance answered,
// over all its runs.
func (in *dispatcherInstance) connected(t *testing.T) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, tc := range in.runs {
		var ringing = map[string]string{} // call_id -> sip_call_id
		for _, ev := range tc.jsonEvents(t) {
			if ev["event"] != "call" {
				continue
			}
			id, _ := ev["call_id"].(string)
			if s, ok := ev["sip_call_id"].(string); ok && s != "" {
				ringing[id] = s
			}
			if ev["state"] == "connected" {
				ids[ringing[id]] = true
			}
		}
	}
	return ids
}

// dispatcherConfig reads the shipped kamailio.cfg and dispatcher.list and
// fills in Kamailio's port, the list's path and the instances' ports.
func dispatcherConfig(t *testing.T, insts []*dispatcherInstance) func(port int, dir string) (string, error) {
	cfg, err := os.ReadFile(deployKamailioCfg)
	if err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(deployDispatchList)
	if err != nil {
		t.Fatal(err)
	}
	return func(port int, dir string) (string, error) {
		listPath := filepath.Join(dir, "dispatcher.list")
		l := string(list)
		for i, in := range insts {
			old := fmt.Sprintf("sip:127.0.0.1:%d", 5071+i)
			if strings.Count(l, old) != 1 {
				return "", fmt.Errorf("%s: want one %q", deployDispatchList, old)
			}
			l = strings.Replace(l, old, "sip:"+in.addr, 1)
		}
		if err := os.WriteFile(listPath, []byte(l), 0o644); err != nil {
			return "", err
		}
		c := string(cfg)
		for _, r := range [][2]string{
			{"listen=udp:127.0.0.1:5060\n", fmt.Sprintf("listen=udp:127.0.0.1:%d\n", port)},
			{"listen=tcp:127.0.0.1:5060\n", fmt.Sprintf("listen=tcp:127.0.0.1:%d\n", port)},
			{`"/etc/kamailio/dispatcher.list"`, `"` + listPath + `"`},
		} {
			if strings.Count(c, r[0]) != 1 {
				return "", fmt.Errorf("%s: want one %q", deployKamailioCfg, r[0])
			}
			c = strings.Replace(c, r[0], r[1], 1)
		}
		return c, nil
	}
}

// TestDispatcher (issue 15): Kamailio with deploy/kamailio/kamailio.cfg
// (dispatcher, round-robin, OPTIONS probing every second) in front of three
// "teaphone answer" processes. 60 short calls, four at a time, from an
// in-process phone: all are answered and they land on every instance; one
// instance is SIGKILLed while calls are up on the others; once the probe
// has marked it down the other two take every call and the calls up on
// them go on; restarted on the same port, it is marked up and answers
// calls again.
func TestDispatcher(t *testing.T) {
	peertest.NeedKamailio(t)
	teaphoneBinary(t)
	ports, err := peertest.FreePorts(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	insts := make([]*dispatcherInstance, 3)
	for i := range insts {
		insts[i] = &dispatcherInstance{addr: fmt.Sprintf("127.0.0.1:%d", ports+i)}
		insts[i].start(t)
	}
	k := peertest.StartKamailio(t, peertest.KamailioConfig{Config: dispatcherConfig(t, insts)})
	target := "sip:robot@" + k.Addr()
	ph := startPhone(t, phone.Options{})

	// call places one call through Kamailio, holds it for hold and hangs up.
	call := func(hold time.Duration) (string, error) {
		pm := ph.mark()
		id, err := ph.Dial(context.Background(), target, phone.DialOptions{})
		if err != nil {
			return "", err
		}
		ev, _, ok := ph.waitEvent(pm, waitShort, func(ev phone.Event) bool {
			c, ok := ev.(phone.CallEvent)
			return ok && c.Session == id && (c.State == phone.StateActive || c.State.Final())
		})
		if !ok {
			_ = ph.Hangup(id)
			return "", fmt.Errorf("call %s: not answered within %v", id, waitShort)
		}
		ce := ev.(phone.CallEvent)
		if ce.State != phone.StateActive {
			return ce.SIPCallID, fmt.Errorf("call %s: %v %d %s", id, ce.State, ce.Code, ce.Reason)
		}
		time.Sleep(hold)
		hm := ph.mark()
		if err := ph.Hangup(id); err != nil {
			return ce.SIPCallID, err
		}
		if end := ph.waitFinal(hm, id, waitShort); end.State != phone.StateTerminated {
			return ce.SIPCallID, fmt.Errorf("call %s: end %v %d %s, want terminated", id, end.State, end.Code, end.Reason)
		}
		return ce.SIPCallID, nil
	}
	// batch places n calls, par at a time, and fails the test for each
	// that was not answered and ended normally.
	placed := 0
	batch := func(n, par int) {
		t.Helper()
		sem := make(chan struct{}, par)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		for range n {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := call(300 * time.Millisecond); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		placed += n
		for _, err := range errs {
			t.Error(err)
		}
	}
	// counts returns the calls each instance answered since the last call.
	last := make([]int, len(insts))
	counts := func() []int {
		out := make([]int, len(insts))
		for i, in := range insts {
			n := len(in.connected(t))
			out[i], last[i] = n-last[i], n
		}
		return out
	}
	start := time.Now()

	// Phase 1: all three up.
	batch(21, 4)
	c1 := counts()
	t.Logf("phase 1 (all up): calls per instance %v", c1)
	for i, n := range c1 {
		if n == 0 {
			t.Errorf("instance %d (%s) got no call of the first 21", i, insts[i].addr)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Calls in progress on every instance while one is killed.
	type longCall struct {
		id    phone.SessionID
		sipID string
		inst  int
		since int
	}
	var longs []longCall
	for range 3 {
		pm := ph.mark()
		id, err := ph.Dial(context.Background(), target, phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		act := ph.waitCall(pm, id, phone.StateActive, waitShort)
		longs = append(longs, longCall{id: id, sipID: act.SIPCallID, inst: -1, since: pm})
	}
	for j := range longs {
		for i, in := range insts {
			if in.connected(t)[longs[j].sipID] {
				longs[j].inst = i
			}
		}
	}
	counts() // the long calls are not counted in the phases
	victim := 1
	vic := insts[victim]
	killed := time.Now()
	run := vic.runs[len(vic.runs)-1]
	if err := syscall.Kill(-run.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-run.waitDone
	// Before the probe notices: the call round-robin gives the dead
	// instance is failed over to the next one after fr_timer (2 s).
	batch(3, 3)
	cw := counts()
	failovers := strings.Count(k.Log(), "failed over to")
	t.Logf("right after the kill: 3 calls answered by instances %v, %d failed over", cw, failovers)
	if failovers == 0 {
		t.Errorf("no call failed over from the killed instance")
	}
	down := "dispatcher: destination sip:" + vic.addr + " down"
	if !waitUntil(10*time.Second, func() bool { return strings.Contains(k.Log(), down) }) {
		t.Fatalf("the probe did not mark %s down within 10 s", vic.addr)
	}
	downAfter := time.Since(killed)
	t.Logf("instance %d (%s) SIGKILLed; marked down after %v", victim, vic.addr, downAfter.Round(time.Millisecond))

	// Phase 2: two instances.
	batch(18, 4)
	c2 := counts()
	t.Logf("phase 2 (instance %d down): calls per instance %v", victim, c2)
	if c2[victim] != 0 {
		t.Errorf("the killed instance answered %d calls", c2[victim])
	}
	for i, n := range c2 {
		if i != victim && n == 0 {
			t.Errorf("instance %d got no call while instance %d was down", i, victim)
		}
	}
	// The calls in progress on the other two were not affected.
	onOthers := 0
	for _, lc := range longs {
		if lc.inst == victim {
			_ = ph.Hangup(lc.id) // its BYE goes nowhere; not checked
			continue
		}
		onOthers++
		for _, ev := range ph.eventsSince(lc.since) {
			if ce, ok := ev.(phone.CallEvent); ok && ce.Session == lc.id && ce.State.Final() {
				t.Errorf("call in progress on instance %d ended while instance %d was down: %+v", lc.inst, victim, ce)
			}
		}
		hm := ph.mark()
		if err := ph.Hangup(lc.id); err != nil {
			t.Error(err)
			continue
		}
		if end := ph.waitFinal(hm, lc.id, waitShort); end.State != phone.StateTerminated {
			t.Errorf("call in progress on instance %d: end %v %d %s, want terminated", lc.inst, end.State, end.Code, end.Reason)
		}
	}
	t.Logf("calls in progress: on instances %v; %d on the others ended normally", []int{longs[0].inst, longs[1].inst, longs[2].inst}, onOthers)

	// Phase 3: the instance is back on its port.
	back := time.Now()
	vic.start(t)
	up := "dispatcher: destination sip:" + vic.addr + " up"
	if !waitUntil(10*time.Second, func() bool { return strings.Contains(k.Log(), up) }) {
		t.Fatalf("the probe did not mark %s up within 10 s", vic.addr)
	}
	t.Logf("instance %d restarted; marked up after %v", victim, time.Since(back).Round(time.Millisecond))
	batch(18, 4)
	c3 := counts()
	t.Logf("phase 3 (instance %d back): calls per instance %v", victim, c3)
	if c3[victim] == 0 {
		t.Errorf("the restarted instance got none of 18 calls")
	}
	t.Logf("%d short calls (+3 in progress across the kill) in %v", placed, time.Since(start).Round(time.Millisecond))
}
