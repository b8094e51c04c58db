// Package phone is teaphone's session core: a SIP user agent on sipgo that owns
// the transports, the registrations, and one session per SIP dialog with its
// SDP offer/answer state and RTP media. It is controlled by session ID and
// reports every change on one lossless event stream (Events).
package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/dtlssrtp"
	"github.com/teaphone/teaphone/phone/locator"
	"github.com/teaphone/teaphone/phone/media"
)

// Errors returned by the control methods.
var (
	ErrNoSuchSession = errors.New("no such session")
	ErrWrongState    = errors.New("not possible in the current call state")
	ErrClosed        = errors.New("phone is closed")
)

// Phone is the SIP user agent. Create it with New, then Start it.
type Phone struct {
	opts Options
	log  *slog.Logger

	ua        *sipgo.UserAgent
	srv       *sipgo.Server
	udpCli    *sipgo.Client
	tcpCli    *sipgo.Client
	tlsCli    *sipgo.Client
	tlsLn     net.Listener // Options.ListenTLS, nil when off (tls_listen.go)
	tlsPort   int          // tlsLn's port, 0 when there is none
	tlsInj    *tlsInjector // hands sipgo the TLS connections we dial (tls_dial.go)
	tlsDials  dialLocks    // one TLS dial per server at a time
	udpConn   net.PacketConn
	udpLaddr  sip.Addr // udpConn's address, as sipgo's connection pool knows it
	tcpLn     net.Listener
	hostIP    net.IP
	dualStack bool // listening on both families' wildcard (dualstack.go)
	port      int
	ports     *portAllocator
	events    *eventQueue
	engine    *media.Engine
	accounts  []*account
	loc       *locator.Resolver // finds the servers of registrars given by name
	pongs     *pongTracker      // counts the TCP pongs of registration flows
	screen    *screen           // partial messages of stream connections (screen.go)
	limiter   *newCallLimiter   // new calls per source (stranger.go)
	dtlsPhone                   // DTLS-SRTP certificate (dtls.go)

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // call goroutines, started by spawn only
	regWG  sync.WaitGroup // registration loops
	srvWG  sync.WaitGroup // transport serve goroutines

	mu       sync.Mutex
	calls    map[SessionID]*call
	byDialog map[string]*call         // sipgo dialog ID -> call
	byCallID map[string]*call         // SIP Call-ID -> call (for Replaces, stray requests)
	probes   map[string]chan struct{} // Call-IDs of our Probes in flight
	seq      atomic.Uint64
	started  bool // Start was called
	live     bool // Start succeeded: there is something for Close to stop
	closed   bool
}

// New validates the options and builds a Phone. Nothing is bound until Start.
func New(opts Options) (*Phone, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "teaphone"
	}
	if opts.DeferTimeout <= 0 {
		opts.DeferTimeout = 60 * time.Second
	}
	if opts.MinSE <= 0 {
		opts.MinSE = defaultMinSE
	}
	if len(opts.Transports) == 0 {
		opts.Transports = []string{"udp", "tcp"}
	}
	if len(opts.Codecs) == 0 {
		opts.Codecs = []string{"PCMU", "PCMA"}
	}
	if opts.Listen == "" {
		opts.Listen = "0.0.0.0:5060"
	}
	if err := checkText("user agent", opts.UserAgent); err != nil {
		return nil, err
	}
	if err := checkStrangerOptions(&opts); err != nil {
		return nil, err
	}
	if _, err := locator.New(locator.WithServers(opts.DNSServers...)); err != nil {
		return nil, fmt.Errorf("dns servers: %w", err)
	}
	p := &Phone{
		opts:     opts,
		log:      opts.Logger,
		events:   newEventQueue(),
		pongs:    newPongTracker(),
		screen:   newScreen(),
		limiter:  newNewCallLimiter(opts.NewCallRate, opts.NewCallBurst, defaultMaxSources),
		calls:    map[SessionID]*call{},
		byDialog: map[string]*call{},
		byCallID: map[string]*call{},
	}
	cert, err := dtlssrtp.NewCertificate()
	if err != nil {
		return nil, err
	}
	p.dtlsCert = cert
	for i := range opts.Accounts {
		a, err := newAccount(opts.Accounts[i])
		if err != nil {
			return nil, err
		}
		p.accounts = append(p.accounts, a)
	}
	return p, nil
}

// Events returns the lossless event stream. It is closed after Close.
func (p *Phone) Events() <-chan Event { return p.events.out }

// LocalAddr is the host:port the SIP listeners are bound to (after Start).
func (p *Phone) LocalAddr() string {
	return net.JoinHostPort(p.hostIP.String(), strconv.Itoa(p.port))
}

// Start binds the listeners (UDP and TCP on the same port), starts serving and
// starts the registration loop of every account with Register set. When it
// fails it closes whatever it had opened; Close is still safe to call.
func (p *Phone) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.started || p.closed {
		p.mu.Unlock()
		return errors.New("phone already started or closed")
	}
	p.started = true
	p.mu.Unlock()

	var undo []func()
	rollback := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if err := p.open(&undo); err != nil {
		rollback()
		return err
	}
	p.mu.Lock()
	if p.closed {
		// Close came while we were opening: it had nothing to stop yet.
		p.mu.Unlock()
		rollback()
		return ErrClosed
	}
	p.live = true
	p.mu.Unlock()

	if p.udpConn != nil {
		p.srvWG.Add(1)
		go func() {
			defer p.srvWG.Done()
			_ = p.srv.ServeUDP(p.udpConn)
		}()
	}
	if p.tcpLn != nil {
		p.srvWG.Add(1)
		go func() {
			defer p.srvWG.Done()
			_ = p.srv.ServeTCP(p.tcpLn)
		}()
	}
	p.serveTLS()
	p.serveTLSInjector()
	if p.udpConn != nil {
		// Requests must leave from the listening socket: wait until sipgo has
		// put it in its connection pool, or the first request binds a new one.
		addr := p.udpConn.LocalAddr().String()
		for i := 0; i < 400; i++ {
			if _, err := p.ua.TransportLayer().GetConnection("udp", addr); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, a := range p.accounts {
		if a.cfg.Register {
			p.regWG.Add(1)
			go func(a *account) {
				defer p.regWG.Done()
				p.registrationLoop(a)
			}(a)
		}
		if a.cfg.MailboxSubscribe {
			p.spawn(func() { p.mailboxLoop(a) })
		}
	}
	if p.opts.RTPTimeout > 0 {
		p.spawn(func() { p.watchRTP(p.opts.RTPTimeout) })
	}
	p.log.Info("phone started", "listen", p.LocalAddr(), "transports", p.opts.Transports)
	return nil
}

// open binds the listeners and builds the media engine, the user agent, its
// server and clients. Each step that succeeds appends its undo to *undo.
func (p *Phone) open(undo *[]func()) error {
	host, portStr, err := net.SplitHostPort(p.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", p.opts.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("listen address %q: bad port", p.opts.Listen)
	}
	bindIP := net.ParseIP(host)
	if host == "" {
		bindIP = net.IPv4zero
	}
	if bindIP == nil {
		ips, err := net.LookupIP(host)
		if err != nil || len(ips) == 0 {
			return fmt.Errorf("listen address %q: cannot resolve host", p.opts.Listen)
		}
		bindIP = ips[0]
	}
	if err := p.bind(bindIP, port); err != nil {
		return err
	}
	*undo = append(*undo, p.closeListeners)
	if err := p.listenTLS(); err != nil {
		return err
	}
	p.hostIP = bindIP
	if bindIP.IsUnspecified() {
		p.hostIP = p.guessHostIP()
	}
	if p.loc, err = p.newLocator(bindIP); err != nil {
		return err
	}
	p.engine = media.NewEngine(media.WithLogger(p.log.With("component", "media")))
	*undo = append(*undo, func() { p.engine.Close() })
	p.ports = newPortAllocator(mediaBindIP(bindIP, p.hostIP), p.opts.RTPPortMin, p.opts.RTPPortMax)

	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(p.opts.UserAgent),
		sipgo.WithUserAgentHostname(p.hostIP.String()),
		sipgo.WithUserAgenTLSConfig(p.tlsConfig()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerUnhandledResponseHandler(p.onUnhandledResponse)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerReadFilter(p.readFilter)),
	)
	if err != nil {
		return fmt.Errorf("create user agent: %w", err)
	}
	p.ua = ua
	*undo = append(*undo, func() { _ = ua.Close() })
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(p.log))
	if err != nil {
		return fmt.Errorf("create server: %w", err)
	}
	p.srv = srv
	*undo = append(*undo, func() { _ = srv.Close() })
	p.registerHandlers()

	// RFC 3581 §3: every request we send asks for rport in its Via (the
	// clients add it to each Via they create, in-dialog requests, ACKs
	// and CANCELs included), so that responses come back through a NAT
	// and a registrar's 2xx tells us our public address (received, rport).
	if p.udpConn != nil {
		laddr := p.udpConn.LocalAddr().String()
		host, port, perr := sip.ParseAddr(laddr)
		if perr != nil {
			return fmt.Errorf("UDP listener address: %w", perr)
		}
		p.udpLaddr = sip.Addr{IP: net.ParseIP(host), Port: port, Hostname: host}
		p.udpCli, err = sipgo.NewClient(ua,
			sipgo.WithClientLogger(p.log),
			sipgo.WithClientHostname(p.hostIP.String()),
			sipgo.WithClientPort(p.port),
			sipgo.WithClientConnectionAddr(laddr),
			sipgo.WithClientNAT(),
		)
		if err != nil {
			return fmt.Errorf("create UDP client: %w", err)
		}
	}
	if p.tcpLn != nil {
		p.tcpCli, err = sipgo.NewClient(ua,
			sipgo.WithClientLogger(p.log),
			sipgo.WithClientHostname(p.hostIP.String()),
			sipgo.WithClientPort(p.port),
			sipgo.WithClientNAT(),
		)
		if err != nil {
			return fmt.Errorf("create TCP client: %w", err)
		}
	}
	if err := p.openTLS(ua); err != nil {
		return err
	}
	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	*undo = append(*undo, func() { p.cancel(ErrClosed) })
	return nil
}

func (p *Phone) emit(ev Event) { p.events.push(ev) }

// SetLibraryLogger routes the log output of sipgo's internals (transport and
// transaction layers) to l. Call it once, before the first Phone starts: sipgo
// keeps it in a global and would otherwise write to stderr, which corrupts a
// terminal UI.
func SetLibraryLogger(l *slog.Logger) {
	sip.SetDefaultLogger(l)
}

func (p *Phone) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// running reports whether the phone has started and is not closed.
func (p *Phone) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live && !p.closed
}

// spawn runs fn on a goroutine that Close waits for. The "closed" check and
// the WaitGroup's Add happen under one lock, so no goroutine starts once
// Close has begun (and Add never races with Wait). It reports false, and
// fn does not run, when the phone is not running.
func (p *Phone) spawn(fn func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || !p.live {
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		fn()
	}()
	return true
}

// admit makes c known to the phone. A call is either admitted before Close
// takes its snapshot of the calls (and Close ends it), or refused.
func (p *Phone) admit(c *call) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || !p.live {
		return ErrClosed
	}
	if _, dup := p.calls[c.id]; dup {
		return fmt.Errorf("%w: session %s already exists", ErrInvalidInput, c.id)
	}
	p.calls[c.id] = c
	if c.sipCallID != "" {
		p.byCallID[c.sipCallID] = c
	}
	if c.dialogID != "" {
		p.byDialog[c.dialogID] = c
	}
	return nil
}

func (p *Phone) newSessionID() SessionID {
	return SessionID("s" + strconv.FormatUint(p.seq.Add(1), 10))
}

func (p *Phone) lookup(id SessionID) (*call, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	c := p.calls[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchSession, id)
	}
	return c, nil
}
