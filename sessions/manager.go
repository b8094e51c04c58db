package sessions

import (
	"context"
	"log/slog"
	"slices"
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
	// AnswerTransfer accepts or refuses the transfer request waiting on
	// the call (phone.TransferAsk).
	AnswerTransfer(id phone.SessionID, accept bool) error
	// SetSource sets what the far end hears from now on (nil: the default
	// source). The phone owns src from then on: when it implements io.Closer
	// it is closed once it is replaced or the call ends.
	SetSource(id phone.SessionID, src audio.Source) error
	// Record records the call to a stereo WAV at path (remote left, local right).
	Record(id phone.SessionID, path string) error
	// StopRecording stops the recording of the call and closes its file.
	StopRecording(id phone.SessionID) error
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
	timer           *time.Timer         // delayed auto-accept, or a defer's then-action
	timerIsThen     bool                // timer carries out a defer's then-action (Ignore keeps it)
	countedActive   bool
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
