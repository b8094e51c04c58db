package load

import (
	"context"
	"sync"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// unclaimedTTL is how long the watch of an ended call nobody claimed is
// kept: its caller may not have been handed the CallID yet when the call
// ended (a quick 486), or it never will be (a refused dial).
const unclaimedTTL = 10 * time.Second

// watch follows one call: its latest snapshot and the most RTP packets it
// was reported to have received.
type watch struct {
	mu      sync.Mutex
	info    sessions.CallInfo
	rx, tx  uint64
	stats   sessions.MediaStats // the latest statistics, with the most packets received
	digits  string              // DTMF received and not yet matched by a script's expect
	changed chan struct{}       // closed and replaced on every change
	claimed bool
	endedAt time.Time // when the loop saw it end (for unclaimed watches)
}

func newWatch() *watch { return &watch{changed: make(chan struct{})} }

func (w *watch) notifyLocked() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// snapshot returns the latest CallInfo and the RTP counters.
func (w *watch) snapshot() (sessions.CallInfo, uint64, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.info, w.rx, w.tx
}

// waitFor waits until cond holds for the call (run with w.mu held), ctx
// ends or gone is closed (no more events will come); it reports whether
// cond held.
func (w *watch) waitFor(ctx context.Context, gone <-chan struct{}, cond func(*watch) bool) bool {
	for {
		w.mu.Lock()
		ok, ch := cond(w), w.changed
		w.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-gone:
			return false
		}
	}
}

// watcher routes the Manager's call and media events to the watches of
// the calls being placed, from one subscription.
type watcher struct {
	sub  *sessions.Subscription
	done chan struct{} // closed when loop ends

	mu     sync.Mutex
	calls  map[sessions.CallID]*watch
	lastGC time.Time
}

// startWatcher subscribes to m and starts the loop; stop ends it.
func startWatcher(m *sessions.Manager) *watcher {
	w := &watcher{sub: m.Subscribe(), done: make(chan struct{}), calls: make(map[sessions.CallID]*watch)}
	go w.loop()
	return w
}

// stop ends the subscription and waits for the loop.
func (w *watcher) stop() {
	w.sub.Close()
	<-w.done
}

// gone reports whether the loop ended: no more events will come.
func (w *watcher) gone() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *watcher) loop() {
	defer close(w.done)
	for ev := range w.sub.C() {
		switch ev := ev.(type) {
		case sessions.CallEvent:
			w.onCall(ev.Call)
		case sessions.MediaEvent:
			w.onMedia(ev)
		case sessions.DTMFEvent:
			w.onDTMF(ev)
		}
	}
}

func (w *watcher) onCall(c sessions.CallInfo) {
	if c.Direction != sessions.DirectionOutgoing {
		return
	}
	now := time.Now()
	w.mu.Lock()
	cw, ok := w.calls[c.ID]
	if !ok {
		cw = newWatch()
		w.calls[c.ID] = cw
	}
	w.gcLocked(now)
	w.mu.Unlock()
	cw.mu.Lock()
	cw.info = c
	cw.rx, cw.tx = max(cw.rx, c.Stats.RxPackets), max(cw.tx, c.Stats.TxPackets)
	cw.keepStatsLocked(c.Stats)
	if c.State.Final() && !cw.claimed {
		cw.endedAt = now
	}
	cw.notifyLocked()
	cw.mu.Unlock()
}

func (w *watcher) onMedia(e sessions.MediaEvent) {
	w.mu.Lock()
	cw := w.calls[e.CallID]
	w.mu.Unlock()
	if cw == nil {
		return
	}
	cw.mu.Lock()
	cw.rx, cw.tx = max(cw.rx, e.Stats.RxPackets), max(cw.tx, e.Stats.TxPackets)
	cw.keepStatsLocked(e.Stats)
	cw.notifyLocked()
	cw.mu.Unlock()
}

func (w *watcher) onDTMF(e sessions.DTMFEvent) {
	if !e.Received {
		return
	}
	w.mu.Lock()
	cw := w.calls[e.CallID]
	w.mu.Unlock()
	if cw == nil {
		return
	}
	cw.mu.Lock()
	cw.digits += e.Digit
	if len(cw.digits) > maxDigits {
		cw.digits = cw.digits[len(cw.digits)-maxDigits:]
	}
	cw.notifyLocked()
	cw.mu.Unlock()
}

// maxDigits bounds the received DTMF kept per call for expect dtmf.
const maxDigits = 256

// keepStatsLocked keeps st when it is at least as recent as the kept
// statistics (no fewer packets received): the MOS of the call is that of
// its latest report.
func (w *watch) keepStatsLocked(st sessions.MediaStats) {
	if st.RxPackets >= w.stats.RxPackets && (st.RxPackets > 0 || st.TxPackets >= w.stats.TxPackets) {
		w.stats = st
	}
}

// latestStats returns the kept statistics.
func (w *watch) latestStats() sessions.MediaStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// gcLocked drops, at most once a second, the watches of calls that ended
// unclaimed more than unclaimedTTL ago.
func (w *watcher) gcLocked(now time.Time) {
	if now.Sub(w.lastGC) < time.Second {
		return
	}
	w.lastGC = now
	for id, cw := range w.calls {
		cw.mu.Lock()
		stale := !cw.claimed && !cw.endedAt.IsZero() && now.Sub(cw.endedAt) > unclaimedTTL
		cw.mu.Unlock()
		if stale {
			delete(w.calls, id)
		}
	}
}

// claim returns the watch of id for its caller, who must release it.
func (w *watcher) claim(id sessions.CallID) *watch {
	w.mu.Lock()
	defer w.mu.Unlock()
	cw, ok := w.calls[id]
	if !ok {
		cw = newWatch()
		w.calls[id] = cw
	}
	cw.mu.Lock()
	cw.claimed = true
	cw.mu.Unlock()
	return cw
}

// release forgets the watch of id. An event of the call coming later (it
// did not end in time) makes an unclaimed watch, dropped by gcLocked.
func (w *watcher) release(id sessions.CallID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.calls, id)
}

// size is the number of watches kept (for tests).
func (w *watcher) size() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls)
}
