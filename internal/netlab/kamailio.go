//go:build linux

package netlab

import (
	"os/exec"
	"testing"

	"github.com/teaphone/teaphone/internal/peertest"
)

// StartKamailio starts internal/peertest's Kamailio registrar/proxy, as cfg
// describes it, inside ns: it listens on ns.Addr, port 5060 unless cfg.Port
// says otherwise, with ns.Addr as its SIP domain and realm, and is ready
// when it has answered OPTIONS from inside ns. cfg.Addr and cfg.Netns are
// set here. peertest stops it in t.Cleanup (before the lab's teardown, which
// runs later); it skips (or under CI=true fails) the test when Kamailio is
// not installed.
func (l *Lab) StartKamailio(t testing.TB, ns Namespace, cfg peertest.KamailioConfig) *peertest.Kamailio {
	t.Helper()
	if !l.has(ns) {
		t.Fatalf("netlab: %q is not a namespace of this lab", ns.Name)
	}
	cfg.Addr = ns.Addr
	cfg.Netns = netns{lab: l, ns: ns}
	return peertest.StartKamailio(t, cfg)
}

// netns is one namespace of a lab as a peertest.Netns.
type netns struct {
	lab *Lab
	ns  Namespace
}

func (n netns) Command(name string, args ...string) *exec.Cmd {
	return n.lab.Command(n.ns, name, args...)
}

func (n netns) Do(f func() error) error { return n.lab.Do(n.ns, f) }
