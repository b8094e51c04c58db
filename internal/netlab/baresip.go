//go:build linux

package netlab

import (
	"testing"

	"github.com/teaphone/teaphone/internal/peertest"
)

// StartBaresip starts internal/peertest's baresip, as cfg describes it,
// inside ns: SIP on ns.Addr port 5060, RTP on 30000-30039, its control
// connection opened from inside ns. cfg.Addr and cfg.Netns are set here.
// Give each baresip a host of its own (it binds RTP to 0.0.0.0). peertest
// stops it in t.Cleanup, before the lab's teardown; it skips (or under
// CI=true fails) the test when baresip is not installed.
func (l *Lab) StartBaresip(t testing.TB, ns Namespace, cfg peertest.BaresipConfig) *peertest.Baresip {
	t.Helper()
	if !l.has(ns) {
		t.Fatalf("netlab: %q is not a namespace of this lab", ns.Name)
	}
	cfg.Addr = ns.Addr
	cfg.Netns = netns{lab: l, ns: ns}
	return peertest.StartBaresip(t, cfg)
}
