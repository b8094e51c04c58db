package metrics_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/metrics"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// scrape returns the samples of the exposition at url, by series as
// written ("name" or `name{label="v"}`).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// waitScrape scrapes url until ok holds for the samples (5 s at most).
func waitScrape(t *testing.T, url, what string, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := scrape(t, url)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never seen; last scrape: %v", what, teaphoneSamples(s))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func teaphoneSamples(s map[string]float64) map[string]float64 {
	out := make(map[string]float64)
	for k, v := range s {
		if strings.HasPrefix(k, "teaphone_") && !strings.Contains(k, "_bucket") {
			out[k] = v
		}
	}
	return out
}

// startPhone starts a phone on 127.0.0.1 driven by a Manager with rules.
func startPhone(t *testing.T, rtp int, rules sessions.Rules) (*phone.Phone, *sessions.Manager) {
	t.Helper()
	mgr := sessions.New()
	if err := mgr.SetRules(rules); err != nil {
		t.Fatal(err)
	}
	p, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: rtp, RTPPortMax: rtp + 99, Handler: mgr,
		Accounts: []phone.Account{{Name: "me", AOR: "sip:me@127.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Start(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	return p, mgr
}

// TestCallScraped places a real call between two phones over 127.0.0.1
// and reads the caller's /metrics over HTTP during and after it.
func TestCallScraped(t *testing.T) {
	callee, _ := startPhone(t, 28200, sessions.AcceptAll(0))
	caller, mgr := startPhone(t, 28300, sessions.Rules{})
	m := metrics.New(nil)
	srv, err := metrics.Serve("127.0.0.1:0", m.Handler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := m.Start(mgr); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(mgr); !errors.Is(err, metrics.ErrStarted) {
		t.Errorf("second Start: %v, want ErrStarted", err)
	}
	ctx := context.Background()
	for _, p := range []*phone.Phone{callee, caller} {
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer p.Close()
	}
	url := "http://" + srv.Addr() + "/metrics"

	id, err := mgr.Dial(ctx, "sip:robot@"+callee.LocalAddr(), sessions.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := mgr.WaitState(wctx, id, sessions.StateConnected); err != nil {
		t.Fatal(err)
	}
	during := waitScrape(t, url, "an active call with RTP both ways", func(s map[string]float64) bool {
		return s["teaphone_calls_active"] == 1 && s["teaphone_rtp_packets_received_total"] > 0 && s["teaphone_rtp_packets_sent_total"] > 0
	})
	if during["teaphone_call_setup_seconds_count{direction=\"outgoing\"}"] != 1 {
		t.Errorf("setup time not observed: %v", teaphoneSamples(during))
	}
	if _, ok := during["go_goroutines"]; !ok {
		t.Error("no go_goroutines: the Go collector is missing")
	}
	if err := mgr.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.WaitState(wctx, id, sessions.StateTerminated); err != nil {
		t.Fatal(err)
	}
	after := waitScrape(t, url, "the call counted as ended", func(s map[string]float64) bool {
		return s[`teaphone_calls_total{direction="outgoing",result="answered"}`] == 1
	})
	if after["teaphone_calls_active"] != 0 || after["teaphone_call_mos_count"] != 1 || after["teaphone_call_jitter_seconds_count"] != 1 {
		t.Errorf("after the call: %v", teaphoneSamples(after))
	}
	if rx := after["teaphone_rtp_packets_received_total"]; rx < during["teaphone_rtp_packets_received_total"] {
		t.Errorf("rx packets went down: %v then %v", during["teaphone_rtp_packets_received_total"], rx)
	}
}

// TestServeAddressInUse: a port in use is an error naming the address.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	srv, err := metrics.Serve(addr, metrics.New(nil).Handler(), nil)
	if err == nil {
		srv.Close()
		t.Fatal("Serve on a port in use succeeded")
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name %s", err, addr)
	}
}
