package sessions

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/phone"
)

// Phone is the part of the session core the Manager drives, declared here so
// tests can pass a fake. *phone.Phone implements it.
type Phone interface {
	Events() <-chan phone.Event
	Dial(ctx context.Context, target string, o phone.DialOptions) (phone.SessionID, error)
	Accept(id phone.SessionID) error
	Reject(id phone.SessionID, code int, reason string) error
	Forward(id phone.SessionID, target string) error
	Hangup(id phone.SessionID) error
	Hold(id phone.SessionID) error
	Resume(id phone.SessionID) error
	Mute(id phone.SessionID, on bool) error
	SendDTMF(id phone.SessionID, digits string) error
	Transfer(id phone.SessionID, target string) error
	AttendedTransfer(id, consult phone.SessionID) error
	// SetSource sets what the far end hears from now on (nil: the default
	// source). The phone owns src from then on: when it implements io.Closer
	// it is closed once it is replaced or the call ends.
	SetSource(id phone.SessionID, src audio.Source) error
	// Record records the call to a stereo WAV at path (remote left, local right).
	Record(id phone.SessionID, path string) error
	// StopRecording stops the recording of the call and closes its file.
	StopRecording(id phone.SessionID) error
}

// Defaults of the Manager's options.
const (
	DefaultHistoryLimit    = 200
	DefaultSubscriberLimit = 100_000
)

type config struct {
	autoHold        bool
	recordDir       string
	recordTemplate  string
	now             func() time.Time
	historyLimit    int
	subscriberLimit int
	ringTimeout     time.Duration
	log             *slog.Logger
}

// Option configures a Manager.
type Option func(*config)

// WithAutoHold holds the connected calls when the user answers or places
// another call (call waiting), as desk phones do.
func WithAutoHold(on bool) Option { return func(c *config) { c.autoHold = on } }

// WithRecording sets where SetRecording writes: dir and a file name template
// ("" = DefaultRecordTemplate).
func WithRecording(dir, template string) Option {
	return func(c *config) { c.recordDir, c.recordTemplate = dir, template }
}

// WithClock sets the clock used for timestamps the Manager makes itself
// (session-core events carry their own time).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithHistoryLimit bounds History to the last n ended calls (default 200).
func WithHistoryLimit(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.historyLimit = n
		}
	}
}

// WithSubscriberLimit sets how many undelivered events a subscriber may have
// before it is cut off with ErrSlowSubscriber (default 100 000; 0 = no limit).
func WithSubscriberLimit(n int) Option {
	return func(c *config) {
		if n >= 0 {
			c.subscriberLimit = n
		}
	}
}

// WithRingTimeout sets how long a deferred or ignored incoming call rings
// before the session core refuses it (0 = the session core's default).
func WithRingTimeout(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.ringTimeout = d
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// Manager is the client core: it maps the session core's SessionIDs to
// CallIDs and line numbers, keeps CallInfo and history, holds incoming calls
// awaiting a decision, applies the answer Rules, keeps counters, and fans
// events out to subscribers. It implements phone.Handler: pass it as
// phone.Options.Handler, then call Start with the phone.
//
// All methods are safe for concurrent use. Commands return quickly; their
// progress arrives as events.
type Manager struct {
	cfg config

	mu       sync.RWMutex
	ph       Phone
	closed   bool
	finished bool // the phone's event stream ended
	rules    Rules

	calls     map[CallID]*call // active and history
	bySession map[SessionID]CallID
	lines     map[int]CallID // lines in use by calls that have not ended
	history   []CallID       // ended calls, oldest first
	regs      map[string]RegistrationInfo
	stats     Stats
	subs      []*Subscription

	stop      chan struct{}
	pumpDone  chan struct{}
	doneOnce  sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// call is the Manager's record of one call. Guarded by Manager.mu.
type call struct {
	info            CallInfo
	incoming        *phone.IncomingCall // kept while pending
	ready           chan struct{}       // non-nil while OnIncomingCall for it runs
	timer           *time.Timer         // delayed auto-accept
	countedActive   bool
	declined        bool // we rejected or forwarded it
	deciding        bool // a decision is being sent to the phone
	dialing         bool // the phone's Dial for it has not returned yet
	hangupRequested bool // Hangup while the dial was in flight
	// announced is set once a CallEvent for the call was published.
	announced bool
}

// New returns a Manager with Rules that defer every incoming call (see SetRules).
func New(opts ...Option) *Manager {
	cfg := config{
		now:             time.Now,
		historyLimit:    DefaultHistoryLimit,
		subscriberLimit: DefaultSubscriberLimit,
		log:             slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg)
	}
	return &Manager{
		cfg:       cfg,
		calls:     make(map[CallID]*call),
		bySession: make(map[SessionID]CallID),
		lines:     make(map[int]CallID),
		regs:      make(map[string]RegistrationInfo),
		stop:      make(chan struct{}),
		pumpDone:  make(chan struct{}),
	}
}

// Start attaches the phone and starts the goroutine that consumes its event
// stream. Call it once, before the phone starts listening.
func (m *Manager) Start(ph Phone) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return ErrClosed
	case m.ph != nil:
		return ErrAlreadyStarted
	}
	m.ph = ph
	events := ph.Events()
	m.wg.Add(1)
	go m.pump(events)
	return nil
}

// Close stops the event pump, the auto-accept timers and every subscription
// (their channels are closed), and waits for all of them. It does not hang up
// calls or close the phone: call HangupAll and close the phone first so the
// final events are recorded. Close is idempotent.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		close(m.stop)
		for _, c := range m.calls {
			c.stopTimer()
		}
		subs := m.subs
		m.subs = nil
		started := m.ph != nil
		m.mu.Unlock()
		for _, s := range subs {
			s.stop(nil)
		}
		if !started {
			m.doneOnce.Do(func() { close(m.pumpDone) })
		}
	})
	m.wg.Wait()
	return nil
}

// Done is closed when the event pump stops: the phone's event stream ended
// or the Manager was closed.
func (m *Manager) Done() <-chan struct{} { return m.pumpDone }

func (c *call) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

func (m *Manager) at(t time.Time) time.Time {
	if t.IsZero() {
		return m.cfg.now()
	}
	return t
}

// pump is the single consumer of the phone's event stream.
func (m *Manager) pump(events <-chan phone.Event) {
	defer m.wg.Done()
	defer m.doneOnce.Do(func() { close(m.pumpDone) })
	for {
		select {
		case <-m.stop:
			return
		case ev, ok := <-events:
			if !ok {
				m.mu.Lock()
				m.finished = true
				for _, s := range m.subs {
					s.finish()
				}
				m.mu.Unlock()
				return
			}
			m.mu.Lock()
			m.dispatchLocked(ev)
			m.mu.Unlock()
		}
	}
}

// Subscribe returns a new subscription to every event published from now on.
// Close it when done.
func (m *Manager) Subscribe() *Subscription {
	s := newSubscription(m.cfg.subscriberLimit, m.unsubscribe)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		s.stop(ErrClosed)
		close(s.c)
		close(s.exited)
		return s
	}
	if m.finished {
		s.finished = true
	} else {
		m.subs = append(m.subs, s)
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		s.run()
	}()
	return s
}

func (m *Manager) unsubscribe(s *Subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := slices.Index(m.subs, s); i >= 0 {
		m.subs = slices.Delete(m.subs, i, i+1)
	}
}

// publishLocked queues ev for every subscriber, cutting off those over their limit.
func (m *Manager) publishLocked(ev Event) {
	kept := m.subs[:0]
	for _, s := range m.subs {
		if s.push(ev) {
			kept = append(kept, s)
			continue
		}
		m.cfg.log.Warn("sessions: subscriber cut off", "queued", m.cfg.subscriberLimit)
		s.stop(ErrSlowSubscriber)
	}
	clear(m.subs[len(kept):])
	m.subs = kept
}

func (m *Manager) publishCallLocked(c *call, prev State, t time.Time) {
	if !c.announced {
		prev = StateUnknown
		c.announced = true
	}
	m.publishLocked(CallEvent{Time: t, Call: c.info, Prev: prev})
}

// newCallLocked mints a CallID and the lowest free line for a new call and counts it.
func (m *Manager) newCallLocked(dir Direction, t time.Time) *call {
	line := 1
	for m.lines[line] != "" {
		line++
	}
	c := &call{info: CallInfo{ID: newCallID(), Line: line, Direction: dir, CreatedAt: t}}
	m.lines[line] = c.info.ID
	m.calls[c.info.ID] = c
	m.stats.Total++
	switch dir {
	case DirectionIncoming:
		m.stats.Incoming++
	case DirectionOutgoing:
		m.stats.Outgoing++
	}
	return c
}

func (m *Manager) bindLocked(c *call, sid SessionID) {
	if old, ok := m.bySession[sid]; ok && old != c.info.ID {
		m.cfg.log.Warn("sessions: session rebound", "session", sid, "old", old, "new", c.info.ID)
	}
	c.info.SessionID = sid
	m.bySession[sid] = c.info.ID
}

// setStateLocked moves c to s, setting timestamps once and keeping the counters.
func (m *Manager) setStateLocked(c *call, s State, t time.Time, code int, reason string) {
	c.info.State = s
	switch {
	case s == StateRinging:
		setOnce(&c.info.RingingAt, t)
	case s == StateConnected:
		setOnce(&c.info.ConnectedAt, t)
		c.info.Pending = false
		c.incoming = nil
		c.stopTimer()
		if !c.countedActive {
			c.countedActive = true
			m.stats.Active++
		}
	case s.Final():
		m.endLocked(c, t, code, reason)
	}
}

// endLocked finishes a call that reached a final state. It runs once per call.
func (m *Manager) endLocked(c *call, t time.Time, code int, reason string) {
	setOnce(&c.info.EndedAt, t)
	if r := cleanText(reason, false); r != "" {
		c.info.EndReason = r
	}
	if code != 0 {
		c.info.EndCode = code
	}
	if c.countedActive {
		c.countedActive = false
		if m.stats.Active > 0 {
			m.stats.Active--
		}
	}
	switch {
	case c.info.Direction == DirectionIncoming && c.info.ConnectedAt.IsZero():
		if c.declined {
			m.stats.Declined++
		} else {
			m.stats.Missed++
		}
	case c.info.Direction == DirectionOutgoing && c.info.State == StateFailed:
		m.stats.Failed++
	}
	c.info.Pending = false
	c.incoming = nil
	c.stopTimer()
	if m.lines[c.info.Line] == c.info.ID {
		delete(m.lines, c.info.Line)
	}
	m.history = append(m.history, c.info.ID)
	for len(m.history) > m.cfg.historyLimit {
		old := m.calls[m.history[0]]
		m.history[0] = ""
		m.history = m.history[1:]
		if old == nil {
			continue
		}
		delete(m.calls, old.info.ID)
		if old.info.SessionID != "" && m.bySession[old.info.SessionID] == old.info.ID {
			delete(m.bySession, old.info.SessionID)
		}
	}
}

func setOnce(p *time.Time, t time.Time) {
	if p.IsZero() {
		*p = t
	}
}

// snapshotsLocked returns the calls accepted by keep, sorted by line.
func (m *Manager) snapshotsLocked(keep func(*call) bool) []CallInfo {
	var out []CallInfo
	for _, c := range m.calls {
		if keep(c) {
			out = append(out, c.info)
		}
	}
	slices.SortFunc(out, func(a, b CallInfo) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// Calls returns the calls that have not ended (pending incoming calls
// included), sorted by line.
func (m *Manager) Calls() []CallInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.snapshotsLocked(func(c *call) bool { return !c.info.State.Final() })
}

// Pending returns the incoming calls awaiting a decision, sorted by line.
func (m *Manager) Pending() []CallInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.snapshotsLocked(func(c *call) bool { return c.info.Pending })
}

// Call returns a snapshot of the call, which may have ended (while it is in History).
func (m *Manager) Call(id CallID) (CallInfo, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c, ok := m.calls[id]; ok {
		return c.info, true
	}
	return CallInfo{}, false
}

// CallByLine returns the call that has not ended and holds line.
func (m *Manager) CallByLine(line int) (CallInfo, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c, ok := m.calls[m.lines[line]]; ok {
		return c.info, true
	}
	return CallInfo{}, false
}

// Resolve turns what a person or script typed into a CallID: a line number
// of a call that has not ended ("2") or a CallID.
func (m *Manager) Resolve(ref string) (CallID, bool) {
	if line, err := strconv.Atoi(ref); err == nil {
		c, ok := m.CallByLine(line)
		return c.ID, ok
	}
	c, ok := m.Call(CallID(ref))
	return c.ID, ok
}

// History returns the ended calls still kept (see WithHistoryLimit), oldest first.
func (m *Manager) History() []CallInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]CallInfo, 0, len(m.history))
	for _, id := range m.history {
		if c, ok := m.calls[id]; ok {
			out = append(out, c.info)
		}
	}
	return out
}

// Incoming returns the full description (headers, SDP) of an incoming call
// still awaiting a decision or an answer.
func (m *Manager) Incoming(id CallID) (IncomingCall, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.calls[id]
	if !ok || c.incoming == nil {
		return IncomingCall{}, false
	}
	in := *c.incoming
	in.Headers = maps.Clone(in.Headers)
	in.SDP = slices.Clone(in.SDP)
	return in, true
}

// Registrations returns the latest registration state of each account, by name.
func (m *Manager) Registrations() []RegistrationInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]RegistrationInfo, 0, len(m.regs))
	for _, r := range m.regs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RegistrationInfo) int { return cmp.Compare(a.Account, b.Account) })
	return out
}

// Stats returns a snapshot of the counters.
func (m *Manager) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.stats
	for _, c := range m.calls {
		if c.info.Pending {
			s.Pending++
		}
	}
	return s
}

// SetRules replaces the rules applied to new incoming calls.
func (m *Manager) SetRules(r Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.Rules = slices.Clone(r.Rules)
	m.mu.Lock()
	m.rules = r
	m.mu.Unlock()
	return nil
}

// Rules returns the rules in force.
func (m *Manager) Rules() Rules {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.rules
	r.Rules = slices.Clone(r.Rules)
	return r
}

// WaitState waits until the call is in one of states and returns its
// snapshot. It fails with ErrCallEnded if the call ends in another state,
// and with ctx's error on timeout — handy for scripts ("expect state
// connected within 5s").
func (m *Manager) WaitState(ctx context.Context, id CallID, states ...State) (CallInfo, error) {
	sub := m.Subscribe()
	defer sub.Close()
	info, ok := m.Call(id)
	if !ok {
		return CallInfo{}, opError("wait for", string(id), ErrNoSuchCall)
	}
	for {
		if slices.Contains(states, info.State) {
			return info, nil
		}
		if info.State.Final() {
			return info, opError("wait for", strconv.Itoa(info.Line), errEndedIn(info.State))
		}
		select {
		case <-ctx.Done():
			return info, opError("wait for", strconv.Itoa(info.Line), ctx.Err())
		case ev, ok := <-sub.C():
			if !ok {
				return info, opError("wait for", strconv.Itoa(info.Line), ErrClosed)
			}
			if ce, ok := ev.(CallEvent); ok && ce.Call.ID == id {
				info = ce.Call
			}
		}
	}
}
