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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/media"
)

// Errors returned by the control methods.
var (
	ErrNoSuchSession = errors.New("no such session")
	ErrWrongState    = errors.New("not possible in the current call state")
	ErrClosed        = errors.New("phone is closed")
)

// allowMethods is what we answer in Allow (RFC 3261 §20.5).
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE"

// Phone is the SIP user agent. Create it with New, then Start it.
type Phone struct {
	opts Options
	log  *slog.Logger

	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	udpCli   *sipgo.Client
	tcpCli   *sipgo.Client
	udpConn  net.PacketConn
	tcpLn    net.Listener
	hostIP   net.IP
	port     int
	ports    *portAllocator
	events   *eventQueue
	engine   *media.Engine
	accounts []*account

	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup // call goroutines
	regWG  sync.WaitGroup // registration loops
	srvWG  sync.WaitGroup // transport serve goroutines

	mu       sync.Mutex
	calls    map[SessionID]*call
	byDialog map[string]*call // sipgo dialog ID -> call
	byCallID map[string]*call // SIP Call-ID -> call (for Replaces, stray requests)
	seq      atomic.Uint64
	started  bool
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
	p := &Phone{
		opts:     opts,
		log:      opts.Logger,
		events:   newEventQueue(),
		calls:    map[SessionID]*call{},
		byDialog: map[string]*call{},
		byCallID: map[string]*call{},
	}
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
// starts the registration loop of every account with Register set.
func (p *Phone) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.started || p.closed {
		p.mu.Unlock()
		return errors.New("phone already started or closed")
	}
	p.started = true
	p.mu.Unlock()

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
	p.hostIP = bindIP
	if bindIP.IsUnspecified() {
		p.hostIP = p.guessHostIP()
	}
	p.engine = media.NewEngine(media.WithLogger(p.log.With("component", "media")))
	p.ports = newPortAllocator(mediaBindIP(bindIP, p.hostIP), p.opts.RTPPortMin, p.opts.RTPPortMax)

	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(p.opts.UserAgent),
		sipgo.WithUserAgentHostname(p.hostIP.String()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerUnhandledResponseHandler(p.onUnhandledResponse)),
	)
	if err != nil {
		p.closeListeners()
		return fmt.Errorf("create user agent: %w", err)
	}
	p.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(p.log))
	if err != nil {
		p.closeListeners()
		return fmt.Errorf("create server: %w", err)
	}
	p.srv = srv
	p.registerHandlers()

	if p.udpConn != nil {
		p.udpCli, err = sipgo.NewClient(ua,
			sipgo.WithClientLogger(p.log),
			sipgo.WithClientHostname(p.hostIP.String()),
			sipgo.WithClientPort(p.port),
			sipgo.WithClientConnectionAddr(p.udpConn.LocalAddr().String()),
		)
		if err != nil {
			p.closeListeners()
			return fmt.Errorf("create UDP client: %w", err)
		}
	}
	if p.tcpLn != nil {
		p.tcpCli, err = sipgo.NewClient(ua,
			sipgo.WithClientLogger(p.log),
			sipgo.WithClientHostname(p.hostIP.String()),
			sipgo.WithClientPort(p.port),
		)
		if err != nil {
			p.closeListeners()
			return fmt.Errorf("create TCP client: %w", err)
		}
	}

	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	if p.udpConn != nil {
		p.srvWG.Add(1)
		go func() {
			defer p.srvWG.Done()
			_ = srv.ServeUDP(p.udpConn)
		}()
	}
	if p.tcpLn != nil {
		p.srvWG.Add(1)
		go func() {
			defer p.srvWG.Done()
			_ = srv.ServeTCP(p.tcpLn)
		}()
	}
	if p.udpConn != nil {
		// Requests must leave from the listening socket: wait until sipgo has
		// put it in its connection pool, or the first request binds a new one.
		addr := p.udpConn.LocalAddr().String()
		for i := 0; i < 400; i++ {
			if _, err := ua.TransportLayer().GetConnection("udp", addr); err == nil {
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
	}
	p.log.Info("phone started", "listen", p.LocalAddr(), "transports", p.opts.Transports)
	return nil
}

func (p *Phone) wants(transport string) bool {
	for _, t := range p.opts.Transports {
		if strings.EqualFold(t, transport) {
			return true
		}
	}
	return false
}

// bind opens the UDP socket and the TCP listener on the same port. With port
// 0 it retries until both get the same free port.
func (p *Phone) bind(ip net.IP, port int) error {
	network := "udp4"
	tcpNet := "tcp4"
	if ip.To4() == nil {
		network, tcpNet = "udp6", "tcp6"
	}
	for attempt := 0; attempt < 20; attempt++ {
		var uc net.PacketConn
		p.port = port
		if p.wants("udp") {
			c, err := net.ListenPacket(network, net.JoinHostPort(ip.String(), strconv.Itoa(port)))
			if err != nil {
				return fmt.Errorf("listen udp %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(port)), err)
			}
			uc = c
			p.port = c.LocalAddr().(*net.UDPAddr).Port
		}
		if p.wants("tcp") {
			l, err := net.Listen(tcpNet, net.JoinHostPort(ip.String(), strconv.Itoa(p.port)))
			if err != nil {
				if uc != nil {
					uc.Close()
				}
				if port == 0 && p.port != 0 {
					continue // the UDP port is taken for TCP: try another
				}
				return fmt.Errorf("listen tcp %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(p.port)), err)
			}
			p.tcpLn = l
			if p.port == 0 {
				p.port = l.Addr().(*net.TCPAddr).Port
			}
		}
		p.udpConn = uc
		if uc == nil && p.tcpLn == nil {
			return errors.New("no transport enabled (want udp and/or tcp)")
		}
		return nil
	}
	return errors.New("could not find a port free for both UDP and TCP")
}

func (p *Phone) closeListeners() {
	if p.udpConn != nil {
		p.udpConn.Close()
	}
	if p.tcpLn != nil {
		p.tcpLn.Close()
	}
}

// guessHostIP picks the address to advertise when listening on 0.0.0.0: the
// local address the kernel would use towards the first registrar (no packet
// is sent by a UDP "connect"), else the first non-loopback interface address.
func (p *Phone) guessHostIP() net.IP {
	for _, a := range p.accounts {
		host := a.registrar.Host
		if ip := net.ParseIP(host); ip != nil {
			if c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: ip, Port: 5060}); err == nil {
				local := c.LocalAddr().(*net.UDPAddr).IP
				c.Close()
				return local
			}
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP
			}
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

func mediaBindIP(bind, host net.IP) net.IP {
	if bind.IsUnspecified() {
		return bind
	}
	return host
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

// Close hangs up every call, un-REGISTERs every account (bounded in time),
// stops the transports and closes the event stream. It is idempotent.
func (p *Phone) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	started := p.started
	p.closed = true
	calls := make([]*call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	if !started {
		p.events.close()
		<-p.events.done
		return nil
	}
	// Hang up every call at once: a peer that has gone away must not make
	// the others wait for its BYE to time out.
	var hangups sync.WaitGroup
	for _, c := range calls {
		hangups.Add(1)
		go func(c *call) {
			defer hangups.Done()
			c.hangup(603, "Decline", "phone closing")
		}(c)
	}
	waitTimeout(&hangups, 5*time.Second)
	// Registration loops see the cancel and un-REGISTER before they return;
	// INVITEs still waiting for a first response stop waiting at once.
	p.cancel(sipgo.WaitAnswerForceCancelErr)
	waitTimeout(&p.regWG, 6*time.Second)
	// A CANCEL must wait for a provisional response (RFC 3261 §9.1), up to
	// Timer B: give calls a moment, then stop the transaction layer, which
	// ends whatever still waits.
	waitTimeout(&p.wg, 2*time.Second)
	if p.srv != nil {
		p.srv.Close()
	}
	if p.ua != nil {
		p.ua.Close()
	}
	waitTimeout(&p.wg, 5*time.Second)
	for _, c := range calls {
		c.release()
	}
	if p.engine != nil {
		p.engine.Close()
	}
	p.closeListeners()
	waitTimeout(&p.srvWG, 2*time.Second)
	p.events.close()
	<-p.events.done
	return nil
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// clientFor returns the client and dialog UA for a transport ("UDP"/"TCP").
func (p *Phone) clientFor(transport string) (*sipgo.Client, error) {
	if strings.EqualFold(transport, "TCP") {
		if p.tcpCli == nil {
			return nil, errors.New("tcp transport is not enabled")
		}
		return p.tcpCli, nil
	}
	if p.udpCli == nil {
		return nil, errors.New("udp transport is not enabled")
	}
	return p.udpCli, nil
}

// contactFor builds our Contact for a user and transport.
func (p *Phone) contactFor(user, transport string) sip.ContactHeader {
	u := sip.Uri{Scheme: "sip", User: user, Host: p.hostIP.String(), Port: p.port}
	if strings.EqualFold(transport, "TCP") {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", "tcp")
	}
	return sip.ContactHeader{Address: u}
}

func (p *Phone) dialogUA(transport, user string) (*sipgo.DialogUA, error) {
	cli, err := p.clientFor(transport)
	if err != nil {
		return nil, err
	}
	return &sipgo.DialogUA{Client: cli, ContactHDR: p.contactFor(user, transport)}, nil
}

// onUnhandledResponse sees responses no transaction waits for: a 2xx to an
// INVITE retransmitted after our transaction ended (our ACK was lost, or the
// call was cancelled before any provisional response: RFC 3261 §13.2.2.4).
func (p *Phone) onUnhandledResponse(res *sip.Response) {
	cseq := res.CSeq()
	if cseq == nil || cseq.MethodName != sip.INVITE || !res.IsSuccess() || res.CallID() == nil {
		return
	}
	p.mu.Lock()
	c := p.byCallID[res.CallID().Value()]
	p.mu.Unlock()
	if c != nil {
		c.onLate2xx(res)
	}
}
