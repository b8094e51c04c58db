package doctor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/phone/locator"
)

// Defaults of Options.
const (
	// DefaultIdle is the pause before the second reachability check. It
	// must outlast the NAT's UDP timeout to show anything: 35 s is just
	// over the 30 s that Linux-based home routers (most of them) give a
	// UDP flow whose reply came within 2 s, as a REGISTER's does, and over
	// nat.keepalive's default 25 s, so at least one keep-alive goes out.
	DefaultIdle = 35 * time.Second
	// DefaultTimeout bounds everything but the idle pause: a REGISTER that
	// nobody answers takes 32 s (RFC 3261 Timer F) to give up.
	DefaultTimeout = 60 * time.Second
	// probeTimeout bounds one reachability probe: a request the provider
	// can route reaches us within a round trip.
	probeTimeout = 6 * time.Second
)

// Options configure Run.
type Options struct {
	// Phone is the phone as the configuration describes it. Run checks one
	// of its accounts (registering it whatever its register setting),
	// with no audio and no other account.
	Phone phone.Options
	// Account names the account to check; "" is the first.
	Account string
	// Idle is the pause before the second reachability check; 0 skips it.
	Idle time.Duration
	// Timeout bounds everything but Idle (DefaultTimeout when 0).
	Timeout time.Duration
	// Progress, if set, is told what Run is waiting for.
	Progress func(string)
	Logger   *slog.Logger
}

// Run checks the account and returns what it found; it never takes longer
// than Timeout plus Idle (and the phone's bounded un-REGISTER).
func Run(ctx context.Context, o Options) Findings {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout+o.Idle)
	defer cancel()
	var f Findings
	acct, err := pick(o.Phone.Accounts, o.Account)
	if err != nil {
		f.Err = err.Error()
		return f
	}
	f.Account = acct.Name
	acct.Register = true
	o.Phone.Accounts = []phone.Account{acct}
	o.Phone.Handler, o.Phone.Audio = nil, nil
	f.ContactRewrite, f.KeepAlive = o.Phone.NAT.ContactRewrite, o.Phone.NAT.KeepAlive
	f.STUNServer = o.Phone.NAT.STUNServer

	ph, err := phone.New(o.Phone)
	if err != nil {
		f.Err = err.Error()
		return f
	}
	hop, err := ph.Hop(acct.Name)
	if err != nil {
		f.Err = err.Error()
		return f
	}
	res, err := resolver(o.Phone)
	if err != nil {
		f.Err = err.Error()
		return f
	}
	o.Progress("locating " + hop.Host)
	f.Resolve = locate(ctx, res, hop)
	if f.Resolve.Err != "" {
		return f
	}
	if f.STUNServer != "" {
		o.Progress("asking STUN server " + f.STUNServer)
		listen, err := mappings(ctx, res, o.Phone, &f)
		if err != nil {
			f.Err = err.Error()
			return f
		}
		if listen != o.Phone.Listen {
			// The listen port was 0: the phone takes the one STUN mapped.
			o.Phone.Listen = listen
			if ph, err = phone.New(o.Phone); err != nil {
				f.Err = err.Error()
				return f
			}
		}
	}
	d := &session{ph: ph, regs: make(chan phone.RegistrationEvent, 16)}
	if err := d.start(ctx); err != nil {
		f.Err = fmt.Sprintf("starting the phone: %v", err)
		return f
	}
	defer d.close()
	if ap, err := netip.ParseAddrPort(ph.LocalAddr()); err == nil {
		f.Local = ap
		if f.SIPMapping.Local.IsValid() {
			f.SIPMapping.Local = ap
		}
	}
	o.Progress("registering " + acct.AOR)
	regCtx, regCancel := context.WithTimeout(ctx, o.Timeout)
	f.Register = d.registration(regCtx, o.Timeout)
	regCancel()
	if !f.Register.OK {
		return f
	}
	o.Progress("checking that requests through the provider reach us")
	f.Reach = probe(ctx, ph, acct.Name)
	if o.Idle <= 0 || judge(f.Reach) != reachOK {
		return f
	}
	f.Idle = o.Idle
	o.Progress(fmt.Sprintf("idle for %v, to see whether the NAT keeps the binding", o.Idle))
	select {
	case <-ctx.Done():
		f.ReachIdle = Probe{Err: "interrupted"}
		return f
	case <-time.After(o.Idle):
	}
	f.ReachIdle = probe(ctx, ph, acct.Name)
	return f
}

// pick returns the account called name, or the first.
func pick(accounts []phone.Account, name string) (phone.Account, error) {
	if len(accounts) == 0 {
		return phone.Account{}, errors.New("no account configured")
	}
	if name == "" {
		return accounts[0], nil
	}
	for _, a := range accounts {
		if a.Name == name {
			return a, nil
		}
	}
	return phone.Account{}, fmt.Errorf("no account %q", name)
}

// resolver locates as the phone will: its DNS servers, its transports,
// the address family of its listener.
func resolver(o phone.Options) (*locator.Resolver, error) {
	network := "ip4"
	if host, _, err := net.SplitHostPort(o.Listen); err == nil {
		if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
			network = "ip6"
		}
	}
	opts := []locator.Option{locator.WithNetwork(network)}
	if len(o.Transports) > 0 {
		opts = append(opts, locator.WithTransports(o.Transports...))
	}
	if len(o.DNSServers) > 0 {
		opts = append(opts, locator.WithServers(o.DNSServers...))
	}
	r, err := locator.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	return r, nil
}

// locate is step 1: RFC 3263 for the account's first hop.
func locate(ctx context.Context, r *locator.Resolver, hop locator.Query) Resolution {
	res := Resolution{Host: hop.Host}
	if _, err := netip.ParseAddr(trimBrackets(hop.Host)); err == nil {
		res.Literal = true
	}
	targets, err := r.Locate(ctx, hop)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	for _, t := range targets {
		res.Targets = append(res.Targets, t.String())
	}
	if res.Literal {
		res.Host = targets[0].Addr.String()
	}
	return res
}

func trimBrackets(s string) string {
	if len(s) > 1 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

// probe is one reachability check.
func probe(ctx context.Context, ph *phone.Phone, account string) Probe {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	r, err := ph.Probe(ctx, account)
	if err != nil {
		return Probe{Asked: true, Err: err.Error()}
	}
	return Probe{Asked: true, Arrived: r.Arrived, Code: r.Code, Reason: r.Reason}
}

// session is the running phone and the goroutine draining its events.
type session struct {
	ph   *phone.Phone
	regs chan phone.RegistrationEvent
	wg   sync.WaitGroup
}

func (s *session) start(ctx context.Context) error {
	if err := s.ph.Start(ctx); err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(s.regs)
		for ev := range s.ph.Events() { // closed by Close
			if r, ok := ev.(phone.RegistrationEvent); ok && (r.State == phone.RegRegistered || r.State == phone.RegFailed) {
				select {
				case s.regs <- r:
				default: // only the first outcome matters
				}
			}
		}
	}()
	return nil
}

// close un-registers (bounded by the phone) and waits for the drain.
func (s *session) close() {
	_ = s.ph.Close()
	s.wg.Wait()
}

// registration waits for the first outcome of the REGISTER.
func (s *session) registration(ctx context.Context, limit time.Duration) Registration {
	select {
	case <-ctx.Done():
		return Registration{Err: fmt.Sprintf("nothing final within %v (is the provider up, and UDP to it open?)", limit)}
	case r, ok := <-s.regs:
		if !ok {
			return Registration{Err: "the phone stopped"}
		}
		return Registration{
			Done: true, OK: r.State == phone.RegRegistered, Server: r.Server,
			Public: r.Public, Code: r.Code, Reason: r.Reason,
		}
	}
}

// listenPort returns host and port of a listen address.
func listenPort(listen string) (string, int, error) {
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("listen address %q: %w", listen, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("listen address %q: bad port", listen)
	}
	return host, n, nil
}
