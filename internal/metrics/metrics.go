// Package metrics exposes the phone's calls, registrations and media as
// Prometheus metrics (prefix teaphone_), with the Go runtime's and the
// process's standard collectors. A Metrics follows the client core's events
// (package sessions) from its own subscription on one goroutine, so it never
// blocks the phone; Serve puts its handler on an HTTP listener.
package metrics

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/teaphone/teaphone/sessions"
)

// Client is the part of the client core a Metrics follows; *sessions.Manager
// is one.
type Client interface {
	Subscribe() *sessions.Subscription
	Calls() []sessions.CallInfo
	Registrations() []sessions.RegistrationInfo
}

// ErrStarted is returned by Start when the Metrics already follows a client.
var ErrStarted = errors.New("metrics: already started")

// Results of teaphone_calls_total besides a SIP final status code ("486").
const (
	ResultAnswered = "answered" // the call was connected
	ResultMissed   = "missed"   // an incoming call ended unanswered, not refused by us
	ResultFailed   = "failed"   // an outgoing call ended unanswered without a final status (timeout, transport)
)

// Metrics holds the collectors and the state that feeds them. Create it
// with New, serve Handler, then Start it on the client core; Close stops it.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	active     prometheus.Gauge
	total      *prometheus.CounterVec
	setup      *prometheus.HistogramVec
	registered *prometheus.GaugeVec
	rxPackets  prometheus.Counter
	txPackets  prometheus.Counter
	lost       prometheus.Counter
	jitter     prometheus.Histogram
	mos        prometheus.Histogram

	// Owned by the follow goroutine (and by tests calling apply).
	calls map[sessions.CallID]*callState
	ended endedSet

	mu   sync.Mutex
	sub  *sessions.Subscription
	done chan struct{}
}

// callState is what Metrics remembers of a call that has not ended.
type callState struct {
	connected bool                // counted in teaphone_calls_active
	rx, tx    uint64              // RTP packets already counted
	lost      int64               // packets lost already counted
	stats     sessions.MediaStats // the latest media statistics
}

// New returns a Metrics with its collectors registered on a registry of
// its own (nothing global): the teaphone_ metrics, Go's and the process's.
// logger may be nil.
func New(logger *slog.Logger) *Metrics {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: logger,
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "teaphone_calls_active",
			Help: "Calls answered and not yet ended.",
		}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "teaphone_calls_total",
			Help: "Calls ended, by direction and result: answered, the SIP final status code (486, 487, 603, …), missed (incoming, unanswered) or failed (outgoing, no final status).",
		}, []string{"direction", "result"}),
		setup: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "teaphone_call_setup_seconds",
			Help:    "Time from the INVITE sent or received to the answer, per answered call.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60},
		}, []string{"direction"}),
		registered: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "teaphone_registered",
			Help: "1 while the account is registered, else 0.",
		}, []string{"account"}),
		rxPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teaphone_rtp_packets_received_total",
			Help: "RTP packets received, all calls.",
		}),
		txPackets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teaphone_rtp_packets_sent_total",
			Help: "RTP packets sent, all calls.",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teaphone_rtp_packets_lost_total",
			Help: "RTP packets lost on the way to us (RFC 3550 A.3), all calls.",
		}),
		jitter: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "teaphone_call_jitter_seconds",
			Help:    "Interarrival jitter (RFC 3550 A.8) of each call with media, at its end.",
			Buckets: []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2},
		}),
		mos: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "teaphone_call_mos",
			Help:    "E-model MOS estimate of each call with media, at its end.",
			Buckets: []float64{1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.3, 4.4, 4.5},
		}),
		calls: make(map[sessions.CallID]*callState),
		ended: newEndedSet(endedMemory),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.active, m.total, m.setup, m.registered, m.rxPackets, m.txPackets, m.lost, m.jitter, m.mos,
	)
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Start subscribes to c's events, then reads its calls and registrations
// (so that nothing published in between is lost), and follows them on a
// goroutine of its own until Close.
func (m *Metrics) Start(c Client) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sub != nil {
		return ErrStarted
	}
	m.sub = c.Subscribe()
	for _, r := range c.Registrations() {
		m.registration(r.Account, r.State)
	}
	for _, ci := range c.Calls() {
		m.call(ci)
	}
	m.done = make(chan struct{})
	go m.follow(m.sub, m.done)
	return nil
}

// Close ends the subscription and waits for the goroutine. The collected
// values stay readable. It is idempotent.
func (m *Metrics) Close() {
	m.mu.Lock()
	sub, done := m.sub, m.done
	m.mu.Unlock()
	if sub == nil {
		return
	}
	sub.Close()
	<-done
}

func (m *Metrics) follow(sub *sessions.Subscription, done chan struct{}) {
	defer close(done)
	for ev := range sub.C() {
		m.apply(ev)
	}
	if err := sub.Err(); err != nil {
		m.log.Warn("metrics: event stream cut off; figures stop here", "err", err)
	}
}

// apply updates the metrics with one event.
func (m *Metrics) apply(ev sessions.Event) {
	switch e := ev.(type) {
	case sessions.CallEvent:
		m.call(e.Call)
	case sessions.MediaEvent:
		if cs := m.state(e.CallID); cs != nil {
			m.media(cs, e.Stats)
		}
	case sessions.RegistrationEvent:
		m.registration(e.Account, e.State)
	}
}

// state returns the state of a call that has not ended, made on first
// sight; nil for a call already counted as ended.
func (m *Metrics) state(id sessions.CallID) *callState {
	if m.ended.has(id) {
		return nil
	}
	cs := m.calls[id]
	if cs == nil {
		cs = &callState{}
		m.calls[id] = cs
	}
	return cs
}

// call applies a call snapshot: answered once, ended once.
func (m *Metrics) call(c sessions.CallInfo) {
	cs := m.state(c.ID)
	if cs == nil {
		return
	}
	if c.Stats.RxPackets > 0 || c.Stats.TxPackets > 0 {
		m.media(cs, c.Stats)
	}
	if !cs.connected && !c.ConnectedAt.IsZero() {
		cs.connected = true
		m.active.Inc()
		if !c.CreatedAt.IsZero() && !c.ConnectedAt.Before(c.CreatedAt) {
			m.setup.WithLabelValues(string(c.Direction)).Observe(c.ConnectedAt.Sub(c.CreatedAt).Seconds())
		}
	}
	if !c.Ended() {
		return
	}
	if cs.connected {
		m.active.Dec()
	}
	m.total.WithLabelValues(string(c.Direction), Result(c)).Inc()
	if cs.stats.RxPackets > 0 {
		m.jitter.Observe(cs.stats.JitterMs / 1000)
		if cs.stats.MOS > 0 {
			m.mos.Observe(cs.stats.MOS)
		}
	}
	delete(m.calls, c.ID)
	m.ended.add(c.ID)
}

// media counts what the call's cumulative statistics add to what was
// counted before.
func (m *Metrics) media(cs *callState, s sessions.MediaStats) {
	if s.RxPackets > cs.rx {
		m.rxPackets.Add(float64(s.RxPackets - cs.rx))
		cs.rx = s.RxPackets
	}
	if s.TxPackets > cs.tx {
		m.txPackets.Add(float64(s.TxPackets - cs.tx))
		cs.tx = s.TxPackets
	}
	if s.Lost > cs.lost { // RFC 3550 A.3: duplicates may make it fall
		m.lost.Add(float64(s.Lost - cs.lost))
		cs.lost = s.Lost
	}
	if s.RxPackets >= cs.stats.RxPackets {
		cs.stats = s
	}
}

func (m *Metrics) registration(account string, s sessions.RegState) {
	v := 0.0
	if s == sessions.RegRegistered {
		v = 1
	}
	m.registered.WithLabelValues(account).Set(v)
}

// Result is the result label of an ended call in teaphone_calls_total:
// "answered" when it was connected; else for an incoming call the status
// we refused or forwarded it with ("486", "302"), or "missed"; for an
// outgoing call the final status it got ("486", "487" when we cancelled),
// or "failed" when none came.
func Result(c sessions.CallInfo) string {
	if !c.ConnectedAt.IsZero() {
		return ResultAnswered
	}
	code := ""
	if c.EndCode >= 300 && c.EndCode <= 699 {
		code = strconv.Itoa(c.EndCode)
	}
	if c.Direction == sessions.DirectionIncoming {
		if code != "" && c.Declined {
			return code
		}
		return ResultMissed
	}
	if code != "" {
		return code
	}
	return ResultFailed
}
