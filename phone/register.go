package phone

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/internal/sipaddr"
	"github.com/teaphone/teaphone/phone/locator"
)

// account is the runtime state of one configured account.
type account struct {
	cfg       Account
	aor       sip.Uri
	registrar sip.Uri // where REGISTER goes (R-URI host:port)
	proxy     *sip.Uri
	transport string // "UDP", "TCP" or "TLS"
	// hop is where requests go first (the outbound proxy, else the
	// registrar) as RFC 3263 §4 starts from; byName says its host is a
	// name to locate rather than an IP address.
	hop    locator.Query
	byName bool
	token  string // the user of the Contact it registers (contactuser.go)

	mu    sync.Mutex
	state RegState
	// public is our address as the registrar sees it, when it differs
	// from the listener's (learnPublic); zero until then.
	public  netip.AddrPort
	regHost net.IP            // the address our last REGISTER's Contact gave (dual stack: hostFor)
	servers *locator.Failover // hop's located servers; nil until located
	// minExpires is the Min-Expires of the registrar's last 423, which
	// every REGISTER after it asks for at least.
	minExpires time.Duration
	// relocate is when the located servers' DNS records expire (their
	// smallest TTL); zero when no TTL is known.
	relocate time.Time
	// answeredFrom is where the last successful REGISTER's 2xx came from
	// ("" when not registered): the server Probe sends to.
	answeredFrom string
	// inFlight is the UDP REGISTER waiting for its answer, for an ICMP
	// error to end it at once (regBounced); nil when none.
	inFlight *regInFlight
	// registrations counts the successful REGISTERs (refreshes too): a
	// mailbox subscription the notifier refused waits for the next one.
	registrations uint64
	// mailbox is the message-summary subscription (mwisub.go).
	mailbox mailboxSub
}

func newAccount(cfg Account) (*account, error) {
	a := &account{cfg: cfg, transport: "UDP", token: newContactUser()}
	aor, err := ParseURI(cfg.AOR)
	if err != nil {
		return nil, fmt.Errorf("account %q aor: %w", cfg.Name, err)
	}
	if aor.User == "" {
		return nil, fmt.Errorf("account %q aor %q: %w: no user part", cfg.Name, cfg.AOR, ErrInvalidInput)
	}
	a.aor = aor
	if err := ValidateDisplayName(cfg.DisplayName); err != nil {
		return nil, fmt.Errorf("account %q: %w", cfg.Name, err)
	}
	if err := checkText("username", cfg.Username); err != nil {
		return nil, fmt.Errorf("account %q: %w", cfg.Name, err)
	}
	a.registrar = sip.Uri{Scheme: aor.Scheme, Host: aor.Host, Port: aor.Port}
	if cfg.Registrar != "" {
		r, err := hostPortOrURI(cfg.Registrar)
		if err != nil {
			return nil, fmt.Errorf("account %q registrar: %w", cfg.Name, err)
		}
		a.registrar = r
	}
	// RFC 3261 §26.2.2: a sips: AOR, registrar or proxy means TLS; a
	// transport parameter names the transport otherwise.
	a.transport = uriTransport(aor, a.transport)
	a.transport = uriTransport(a.registrar, a.transport)
	if cfg.OutboundProxy != "" {
		px, err := hostPortOrURI(cfg.OutboundProxy)
		if err != nil {
			return nil, fmt.Errorf("account %q outbound_proxy: %w", cfg.Name, err)
		}
		a.proxy = &px
		a.transport = uriTransport(px, a.transport)
	}
	if a.cfg.Expires <= 0 {
		a.cfg.Expires = 300 * time.Second
	}
	hop := a.firstHop()
	a.hop = locator.Query{Host: hop.Host, Port: hop.Port, Secure: strings.EqualFold(hop.Scheme, "sips")}
	if v, ok := hop.UriParams.Get("transport"); ok {
		a.hop.Transport = v
	} else if a.transport != "UDP" {
		a.hop.Transport = strings.ToLower(a.transport)
	}
	a.byName = !hostAddr(hop.Host).IsValid()
	return a, nil
}

// firstHop is where the account's requests go first: its outbound proxy,
// else its registrar.
func (a *account) firstHop() sip.Uri {
	if a.proxy != nil {
		return *a.proxy
	}
	return a.registrar
}

func (a *account) user() string {
	return a.aor.User
}

func (a *account) authUser() string {
	if a.cfg.Username != "" {
		return a.cfg.Username
	}
	return a.aor.User
}

// domain is the host[:port] used to complete a bare number into a URI.
func (a *account) domain() string {
	if a.aor.Port != 0 {
		return a.aor.Host + ":" + strconv.Itoa(a.aor.Port)
	}
	return a.aor.Host
}

// displayName is the account's display name as sipgo's From and To need
// it: sipgo writes DisplayName between double quotes as it is, so quotes
// and backslashes are escaped here (RFC 3261 §25.1 quoted-pair).
func (a *account) displayName() string {
	return sipaddr.EscapeQuoted(a.cfg.DisplayName)
}

func (a *account) fromHeader() *sip.FromHeader {
	return &sip.FromHeader{
		DisplayName: a.displayName(),
		Address:     sip.Uri{Scheme: a.aor.Scheme, User: a.aor.User, Host: a.aor.Host, Port: a.aor.Port},
		Params:      tagParams(sip.GenerateTagN(16)),
	}
}

// setRegState records the account's registration state and emits its
// event. seen is our address as the registrar saw it (registered only).
func (p *Phone) setRegState(a *account, st RegState, expires, code int, reason, server string, seen netip.AddrPort) {
	a.mu.Lock()
	changed := a.state != st || st == RegFailed || st == RegRegistered
	a.state = st
	if st == RegRegistered {
		a.registrations++
	}
	a.mu.Unlock()
	if changed {
		p.emit(RegistrationEvent{Time: time.Now(), Account: a.cfg.Name, State: st, Expires: expires, Code: code, Reason: reason, Server: server, Public: seen,
			TLSUnverified: st == RegRegistered && p.tlsNoVerify(p.accountTLSPeer(a)) && strings.HasPrefix(server, "TLS ")})
	}
}

// registrationLoop keeps one account registered: a fresh REGISTER transaction
// each time (same Call-ID, CSeq+1: RFC 3261 §10.2.4), refresh at 80 % of the
// granted expiry, exponential backoff on failure, un-REGISTER on exit. While
// registered it sends keep-alives (Options.NAT.KeepAlive) to the registrar
// and, over TCP, watches the connection: one that is lost, or that stops
// answering pings, is re-registered at once (waitRefresh).
func (p *Phone) registrationLoop(a *account) {
	callID := sip.CallIDHeader(sip.GenerateTagN(32))
	fromTag := sip.GenerateTagN(16)
	var cseq uint32 = 1
	backoff := 2 * time.Second
	registered := false
	var flow *tcpFlow // the TCP connection registered over, nil over UDP
	defer func() { p.release(flow) }()
	losses := 0 // flows lost in a row, without a full refresh period between
	for {
		if !registered {
			// A refresh keeps "registered": no flicker in the UI.
			p.setRegState(a, RegRegistering, 0, 0, "", "", netip.AddrPort{})
		}
		r, server, err := p.registerSomewhere(p.ctx, a, callID, fromTag, &cseq, a.cfg.Expires, nil)
		if err == nil && p.opts.NAT.ContactRewrite {
			if old := p.contactFor(a, a.transport); p.learnPublic(a, r.res, old) {
				// pjsua's default rewrite (contact_rewrite_method 2): in the
				// same registration (Call-ID), one REGISTER adds the public
				// Contact and removes the one just registered (expires=0,
				// RFC 3261 §10.2.2). One rewrite per refresh: a NAT that
				// keeps moving us is followed at the next refresh.
				r, server, err = p.registerSomewhere(p.ctx, a, callID, fromTag, &cseq, a.cfg.Expires, &old)
			}
		}
		granted, code, reason := r.granted, r.code, r.reason
		if p.ctx.Err() != nil {
			break
		}
		var wait time.Duration
		if err != nil {
			if code == 0 {
				reason = err.Error()
			}
			a.setAnsweredFrom("")
			p.setRegState(a, RegFailed, 0, code, reason, server, netip.AddrPort{})
			p.log.Warn("registration failed", "account", a.cfg.Name, "server", server, "code", code, "reason", reason)
			registered = false
			wait = backoff + time.Duration(rand.Int64N(int64(backoff/4)+1))
			backoff = min(backoff*2, 5*time.Minute)
		} else {
			registered = true
			backoff = 2 * time.Second
			// RFC 3581 §4: the 2xx's Via says where our REGISTER came from.
			seen, verr := viaSeen(r.res.Via(), a.transport)
			if verr != nil {
				seen = netip.AddrPort{} // learnPublic has logged it
			}
			a.setAnsweredFrom(r.res.Source())
			if strings.EqualFold(r.transport, "TLS") && p.tlsNoVerify(p.accountTLSPeer(a)) {
				reason += " (TLS certificate NOT verified: tls.verify = false)"
			}
			p.setRegState(a, RegRegistered, int(granted/time.Second), code, reason, server, seen)
			wait = max(granted*8/10, time.Second)
		}
		var dest string // where the registrar answered from: our NAT binding's far end
		if registered && r.res != nil {
			dest = r.res.Source()
		}
		var lost error
		if registered && !strings.EqualFold(r.transport, "UDP") && dest != "" {
			// TCP or TLS: the connection is the flow (RFC 5626 §3.5.1).
			f, ferr := p.flowFor(strings.ToLower(r.transport), dest, flow)
			if f != flow {
				p.release(flow)
			}
			flow, lost = f, ferr
		} else {
			p.release(flow)
			flow = nil
		}
		if lost == nil {
			lost = p.waitRefresh(a, wait, dest, flow)
		}
		if p.ctx.Err() != nil {
			break
		}
		if lost == nil {
			losses = 0
			continue
		}
		// The "a lost TCP connection re-registers at once": the
		// registrar cannot reach us until a REGISTER makes a new flow (RFC
		// 5626 §4.4.1); a server that is gone is failed over from then.
		p.release(flow)
		flow = nil
		registered = false
		losses++
		reason = lost.Error() + ": re-registering"
		p.log.Warn("registration flow failed", "account", a.cfg.Name, "server", server, "err", lost)
		p.setRegState(a, RegRegistering, 0, 0, reason, server, netip.AddrPort{})
		// A registrar that keeps closing the connection right after its
		// 200 gets the second re-REGISTER 2 s later, then 4 s … 5 min.
		if losses > 1 && !p.sleepCtx(min(2*time.Second<<min(losses-2, 8), 5*time.Minute)) {
			break
		}
	}
	if registered {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		r, server, err := p.registerSomewhere(ctx, a, callID, fromTag, &cseq, 0, nil)
		cancel()
		if err != nil {
			p.log.Warn("un-register failed", "account", a.cfg.Name, "server", server, "code", r.code, "reason", r.reason, "err", err)
		}
	}
	p.setRegState(a, RegUnregistered, 0, 0, "", "", netip.AddrPort{})
}

// registerSomewhere sends one REGISTER and says where it went. A registrar
// or outbound proxy given as an IP address gets it directly. One given by
// name is located (RFC 3263 §4) and its servers tried in order: on a
// transport error, a transaction timeout or a 503 the next server gets a
// fresh REGISTER (RFC 3263 §4.3), and a server that answers stays in use for
// the refreshes. Once every server has failed, the next call locates the
// name again.
func (p *Phone) registerSomewhere(ctx context.Context, a *account, callID sip.CallIDHeader, fromTag string, cseq *uint32, expires time.Duration, remove *sip.ContactHeader) (r regResult, server string, err error) {
	if !a.byName {
		hop := a.firstHop()
		r, err = p.register(ctx, a, nil, callID, fromTag, cseq, expires, remove)
		return r, a.transport + " " + hostPort(hop), err
	}
	// An un-REGISTER goes where the binding is, whatever the TTLs say, and
	// so does the contact rewrite's REGISTER: the public address it binds
	// is the one that server saw (behind a symmetric NAT another server
	// sees another port).
	servers, err := p.locateHop(ctx, a, expires == 0 || remove != nil)
	if err != nil {
		return regResult{}, "", err
	}
	for {
		t, ok := servers.Next()
		if !ok {
			a.mu.Lock()
			if a.servers == servers {
				a.servers = nil
			}
			a.mu.Unlock()
			err := servers.Err()
			return regResult{code: r.code, reason: err.Error()}, server, err
		}
		server = t.String()
		r, err = p.register(ctx, a, &t, callID, fromTag, cseq, expires, remove)
		if ctx.Err() != nil || !failsOver(r.code, err) {
			return r, server, err
		}
		p.log.Warn("registrar server failed, trying the next", "account", a.cfg.Name, "server", server, "code", r.code, "reason", r.reason, "err", err)
		if r.code != 0 {
			err = fmt.Errorf("%d %s", r.code, r.reason)
		}
		servers.Fail(t, err)
	}
}

// failsOver says whether a REGISTER's outcome means "try the next server":
// no response at all (a transport error or a timeout, RFC 3263 §4.3) or a
// 503 (RFC 3263 §4.3, RFC 3261 §21.5.4).
func failsOver(code int, err error) bool {
	return code == sip.StatusServiceUnavailable || (code == 0 && err != nil)
}

// locateHop returns the account's located servers, locating its hop when
// it has none left, or when the DNS records they came from have expired:
// at refresh time a provider that moved its servers is followed (RFC 3263
// §4 takes the DNS's TTLs, RFC 1035 §3.2.1, as how long an answer holds).
// When that new location fails, the servers in hand are kept for now, and
// so they are with keep set.
func (p *Phone) locateHop(ctx context.Context, a *account, keep bool) (*locator.Failover, error) {
	a.mu.Lock()
	servers, relocate := a.servers, a.relocate
	a.mu.Unlock()
	var left bool
	if servers != nil {
		_, left = servers.Next()
	}
	expired := !relocate.IsZero() && !time.Now().Before(relocate)
	if left && (!expired || keep) {
		return servers, nil
	}
	loc, err := p.loc.LocateTTL(ctx, a.hop)
	if err != nil {
		if left {
			p.log.Warn("registrar not located again: keeping its servers", "account", a.cfg.Name, "host", a.hop.Host, "err", err)
			return servers, nil
		}
		return nil, fmt.Errorf("register %s: %w", a.cfg.Name, err)
	}
	p.log.Info("registrar located", "account", a.cfg.Name, "host", a.hop.Host, "servers", loc.Targets, "ttl", loc.TTL, "expired", expired)
	servers = locator.NewFailover(loc.Targets)
	a.mu.Lock()
	a.servers, a.relocate = servers, time.Time{}
	if loc.HasTTL {
		a.relocate = time.Now().Add(loc.TTL)
	}
	a.mu.Unlock()
	return servers, nil
}
