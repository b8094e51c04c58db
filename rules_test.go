package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// freePort returns a port free for UDP and TCP on 127.0.0.1 just now.
func freePort(t *testing.T) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// testCaller is a phone calling from an account, whose call events the
// test reads from calls (every event is drained, as Close needs).
type testCaller struct {
	*phone.Phone
	calls chan phone.CallEvent
}

// caller starts a phone calling from aor.
func caller(t *testing.T, aor string, rtp int) *testCaller {
	t.Helper()
	p, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: rtp, RTPPortMax: rtp + 99,
		Accounts: []phone.Account{{Name: "me", AOR: aor}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := &testCaller{Phone: p, calls: make(chan phone.CallEvent, 256)}
	drained := make(chan struct{})
	go func() { // ends when Close closes the event stream
		defer close(drained)
		for ev := range p.Events() {
			if ce, ok := ev.(phone.CallEvent); ok {
				select {
				case c.calls <- ce:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { p.Close(); <-drained })
	return c
}

// outcome waits for call id to be answered or to end.
func (c *testCaller) outcome(t *testing.T, id phone.SessionID, d time.Duration) (phone.CallEvent, bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ce := <-c.calls:
			if ce.Session == id && (ce.State == phone.StateActive || ce.State.Final()) {
				return ce, true
			}
		case <-timeout:
			return phone.CallEvent{}, false
		}
	}
}

// TestAnswerModeRules runs "teaphone answer" with a configuration whose
// [[rules]] accept only sip:alice@*: Alice's call is answered, Mallory's
// refused with the rule's 403.
func TestAnswerModeRules(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	conf := "[[rules]]\nfrom = \"sip:alice@*\"\naction = \"accept\"\n\n[[rules]]\naction = \"reject\"\ncode = 403\nreason = \"Not You\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// The callers start before run, which sets sipgo's default logger.
	mallory := caller(t, "sip:mallory@evil.example", 19200)
	alice := caller(t, "sip:alice@example.com", 19300)
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"answer", "--config", cfg, "--log-file", filepath.Join(dir, "log"),
			"--listen", "127.0.0.1:" + strconv.Itoa(port), "--rtp-ports", "19400-19499", "--audio", "null",
			"--events", "jsonl", "--calls", "2", "--script", "wait 300ms; hangup"}, &out, &errOut)
	}()
	target := "sip:robot@127.0.0.1:" + strconv.Itoa(port)
	dialUntilUp := func(p *testCaller) phone.CallEvent {
		for range 50 { // until the answer mode listens
			id, err := p.Dial(ctx, target, phone.DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ev, ok := p.outcome(t, id, 10*time.Second)
			if !ok {
				t.Fatalf("call %s: no outcome", id)
			}
			if ev.Code != 503 && ev.Code != 408 && !strings.Contains(ev.Reason, "refused") {
				return ev
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatal("answer mode never answered")
		return phone.CallEvent{}
	}
	if ev := dialUntilUp(mallory); ev.State == phone.StateActive || ev.Code != 403 {
		t.Errorf("mallory's call: %s %d %q, want refused 403\nstderr: %s", ev.State, ev.Code, ev.Reason, errOut.String())
	}
	if ev := dialUntilUp(alice); ev.State != phone.StateActive {
		t.Errorf("alice's call: %s %d %q, want answered", ev.State, ev.Code, ev.Reason)
	}
	if err := <-done; err != nil {
		t.Fatalf("teaphone answer: %v\nstderr: %s\nstdout: %s", err, errOut.String(), out.String())
	}
}

// TestTUIRulesIgnoreAutoAnswerHeaders: under the terminal UI's rules (no
// [[rules]]) a call asking to be answered by itself (Call-Info
// answer-after=0, Alert-Info info=alert-autoanswer) rings and waits for
// the person, through a real phone and session manager.
func TestTUIRulesIgnoreAutoAnswerHeaders(t *testing.T) {
	rules, err := configRules(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	mgr := sessions.New()
	if err := mgr.SetRules(tuiRules(rules)); err != nil {
		t.Fatal(err)
	}
	b, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: 19500, RTPPortMax: 19599, Handler: mgr})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Start(b); err != nil {
		t.Fatal(err)
	}
	sub := mgr.Subscribe()
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close(); b.Close(); _ = mgr.Close() })

	a := caller(t, "sip:pager@example.com", 19200)
	id, err := a.Dial(context.Background(), "sip:me@"+b.LocalAddr(), phone.DialOptions{Headers: map[string]string{
		"Call-Info":   "<sip:" + b.LocalAddr() + ">;answer-after=0",
		"Alert-Info":  "<http://127.0.0.1/x>;info=alert-autoanswer",
		"Answer-Mode": "Auto",
		"X-Tag":       "any header reaches the rules",
		"X-Long":      strings.Repeat("x", 3000),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var ringing *sessions.CallInfo
	timeout := time.After(5 * time.Second)
	for ringing == nil {
		select {
		case ev := <-sub.C():
			if ce, ok := ev.(sessions.CallEvent); ok && ce.Call.State == sessions.StateRinging {
				ringing = &ce.Call
			}
		case <-timeout:
			t.Fatal("the call did not ring")
		}
	}
	if in, ok := mgr.Incoming(ringing.ID); !ok || !strings.Contains(in.Headers["Call-Info"], "answer-after=0") ||
		!strings.Contains(in.Headers["Alert-Info"], "alert-autoanswer") {
		t.Errorf("the call did not carry the auto-answer headers: %+v", in.Headers)
	}
	if in, _ := mgr.Incoming(ringing.ID); !slices.ContainsFunc(in.AllHeaders, func(h phone.Header) bool {
		return h.Name == "X-Tag" && h.Value == "any header reaches the rules"
	}) || len(in.AllHeaders) < 8 {
		t.Errorf("AllHeaders lacks X-Tag or the usual headers: %+v", in.AllHeaders)
	}
	if in, _ := mgr.Incoming(ringing.ID); !slices.ContainsFunc(in.AllHeaders, func(h phone.Header) bool {
		return h.Name == "X-Long" && len(h.Value) == phone.MaxHeaderValue
	}) {
		t.Errorf("X-Long not cut at %d bytes", phone.MaxHeaderValue)
	}
	if ringing.Rule != "default" {
		t.Errorf("ringing call decided by %q, want default", ringing.Rule)
	}
	if !ringing.Pending || ringing.Decision != "defer" {
		t.Errorf("ringing call: pending %v, decision %q; want pending, defer", ringing.Pending, ringing.Decision)
	}
	if ev, ok := a.outcome(t, id, time.Second); ok {
		t.Fatalf("the caller's call went %s (%d) by itself", ev.State, ev.Code)
	}
	if p := mgr.Pending(); len(p) != 1 {
		t.Fatalf("pending calls %+v, want the one ringing", p)
	}
}

// TestStartRules: from the moment the listeners open, answer mode refuses
// with 503 (try again) until it has set its rules, and the TUI has its own
// (configured first) at once.
func TestStartRules(t *testing.T) {
	alice := sessions.Rule{Match: "sip:alice@*", Policy: sessions.Policy{Action: sessions.ActionAccept}}
	if p := startRules("answer", nil).Decide("sip:bob@x"); p.Action != sessions.ActionReject || p.Code != 503 {
		t.Errorf("answer mode before its rules: %+v, want reject 503", p)
	}
	tui := startRules("tui", []sessions.Rule{alice})
	if p := tui.Decide("sip:alice@x"); p.Action != sessions.ActionAccept {
		t.Errorf("TUI, configured rule: %+v, want accept", p)
	}
	if p := tui.Decide("sip:bob@x"); p.Action != sessions.ActionDefer {
		t.Errorf("TUI default: %+v, want defer (ask the user)", p)
	}
	dial := startRules("dial", []sessions.Rule{alice})
	if p := dial.Decide("sip:alice@x"); p.Action != sessions.ActionAccept {
		t.Errorf("dial mode, configured rule: %+v, want accept", p)
	}
	if p := dial.Decide("sip:bob@x"); p.Action != sessions.ActionDefer {
		t.Errorf("dial mode default: %+v, want defer", p)
	}
}

// TestConfigRules: [[rules]] tables become labelled session rules with
// their lines, windows in their zone, the contacts for in_contacts, and a
// defer's then-action with the code, reason or target keys (480 by default).
func TestConfigRules(t *testing.T) {
	cfg, err := config.Load("testdata/rules.toml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := configRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 5 {
		t.Fatalf("%d rules", len(rules))
	}
	for i, want := range []struct {
		label string
		line  int
	}{{"rules[0]", 6}, {"rules[1]", 12}, {"rules[2]", 18}, {"rules[3]", 24}, {"rules[4]", 33}} {
		if rules[i].Label != want.label || rules[i].Line != want.line {
			t.Errorf("rule %d: %s line %d, want %s line %d", i, rules[i].Label, rules[i].Line, want.label, want.line)
		}
	}
	if r := rules[2]; len(r.Contacts) != 1 || r.InContacts == nil || len(r.Headers) != 1 {
		t.Errorf("rules[2] = %+v", r)
	}
	night := rules[3]
	if night.Window.Location == nil || night.Window.Location.String() != "Europe/Berlin" || !night.Window.HasHours ||
		night.Then == nil || night.Then.Action != sessions.ActionForward || night.RingTimeout != 20*time.Second {
		t.Errorf("rules[3] = %+v", night)
	}
	cfg.Rules = []config.Rule{{Action: "defer", Then: "reject"}}
	rules, err = configRules(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if th := rules[0].Then; th == nil || th.Action != sessions.ActionReject || th.Code != 480 {
		t.Errorf("then reject: %+v", th)
	}
}
