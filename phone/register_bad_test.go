package phone

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// scriptedRegistrar answers the n-th REGISTER (from 0) with what answer
// builds from it.
func scriptedRegistrar(t *testing.T, answer func(n int, req *sip.Request) *sip.Response) *fakePeer {
	return newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(answer(len(fp.requests(sip.REGISTER))-1, req))
		})
	})
}

// reply builds a response to req with extra headers given as "Name: value".
func reply(req *sip.Request, code int, reason string, hdrs ...string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		name, value, _ := strings.Cut(h, ": ")
		res.AppendHeader(sip.NewHeader(name, value))
	}
	return res
}

// ourContact is the request's Contact with params appended, as a
// registrar lists a binding.
func ourContact(req *sip.Request, params string) string {
	return "Contact: <" + req.Contact().Address.String() + ">" + params
}

// A broken registrar never crashes or stalls the phone: each odd answer is
// a state the UI sees (registered with a sane expiry, or failed with a
// readable reason) and a warning in the log, and an answer that would make
// a naive client loop (a 401 to every answer, a 423) does not.
func TestRegisterBadAnswers(t *testing.T) {
	const asked = "60"
	for _, tc := range []struct {
		name     string
		answer   func(n int, req *sip.Request) *sip.Response
		password string
		state    RegState
		expires  int      // of the registered event
		code     int      // of the failed event
		reason   string   // in the failed event's reason
		log      string   // a warning the log has
		expiries []string // Expires of each REGISTER, when checked
		quiet    bool     // no REGISTER in the 1.5 s after the event
	}{
		{
			name:   "200 without Contact",
			answer: func(_ int, req *sip.Request) *sip.Response { return reply(req, 200, "OK", "Expires: 50") },
			state:  RegRegistered, expires: 50, log: "no Contact listed",
		},
		{
			name: "200 with expires=0 on our Contact",
			answer: func(_ int, req *sip.Request) *sip.Response {
				return reply(req, 200, "OK", ourContact(req, ";expires=0"))
			},
			state: RegFailed, code: 200, reason: "expires=0: the registrar kept no binding",
		},
		{
			name:   "200 with Expires: 0",
			answer: func(_ int, req *sip.Request) *sip.Response { return reply(req, 200, "OK", "Expires: 0") },
			state:  RegFailed, code: 200, reason: "expires=0",
		},
		{
			name:   "200 with an Expires past 2^32-1",
			answer: func(_ int, req *sip.Request) *sip.Response { return reply(req, 200, "OK", "Expires: 99999999999") },
			state:  RegRegistered, expires: 60, log: `Expires \"99999999999\" is not a number of seconds`,
		},
		{
			name:   "200 granting more than asked",
			answer: func(_ int, req *sip.Request) *sip.Response { return reply(req, 200, "OK", "Expires: 4294967295") },
			state:  RegRegistered, expires: 60, log: "more than the 1m0s asked for",
		},
		{
			name:   "200 with a garbage Expires",
			answer: func(_ int, req *sip.Request) *sip.Response { return reply(req, 200, "OK", "Expires: soon") },
			state:  RegRegistered, expires: 60, log: `Expires \"soon\" is not a number of seconds`,
		},
		{
			name: "200 with a garbage expires on our Contact",
			answer: func(_ int, req *sip.Request) *sip.Response {
				return reply(req, 200, "OK", ourContact(req, ";expires=-5"), "Expires: 40")
			},
			state: RegRegistered, expires: 40, log: `Contact expires \"-5\" is not a number of seconds`,
		},
		{
			name: "423 with Min-Expires",
			answer: func(n int, req *sip.Request) *sip.Response {
				if n == 0 {
					return reply(req, 423, "Interval Too Brief", "Min-Expires: 120")
				}
				return reply(req, 200, "OK", ourContact(req, ";expires=120"))
			},
			state: RegRegistered, expires: 120, expiries: []string{asked, "120"},
		},
		{
			name:   "423 without Min-Expires",
			answer: func(_ int, req *sip.Request) *sip.Response { return reply(req, 423, "Interval Too Brief") },
			state:  RegFailed, code: 423, reason: "no Min-Expires to retry with", expiries: []string{asked},
		},
		{
			name: "423 with a Min-Expires not above the expiry asked",
			answer: func(_ int, req *sip.Request) *sip.Response {
				return reply(req, 423, "Interval Too Brief", "Min-Expires: 30")
			},
			state: RegFailed, code: 423, reason: "Min-Expires 30s is not above the 1m0s asked for", expiries: []string{asked},
		},
		{
			name: "401 to every answer (wrong password)",
			answer: func(_ int, req *sip.Request) *sip.Response {
				return reply(req, 401, "Unauthorized", `WWW-Authenticate: Digest realm="test", nonce="abc", algorithm=MD5`)
			},
			password: "wrong",
			state:    RegFailed, code: 401, reason: "authentication failed: 401 Unauthorized", expiries: []string{asked, asked}, quiet: true,
		},
		{
			name: "401 with a challenge that cannot be answered",
			answer: func(_ int, req *sip.Request) *sip.Response {
				return reply(req, 401, "Unauthorized", `WWW-Authenticate: Basic realm="test"`)
			},
			password: "secret",
			state:    RegFailed, code: 401, reason: "challenge not answered", expiries: []string{asked},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := scriptedRegistrar(t, tc.answer)
			var log lockedBuffer
			a := newTestPhone(t, Options{
				Transports: []string{"udp"},
				Logger:     slog.New(slog.NewTextHandler(&log, nil)),
				Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: reg.addr, Register: true,
					Expires: time.Minute, Password: tc.password}},
			})
			var got RegistrationEvent
			if !a.waitFor(wait, func(ev Event) bool {
				r, ok := ev.(RegistrationEvent)
				if ok && (r.State == RegRegistered || r.State == RegFailed) {
					got = r
					return true
				}
				return false
			}) {
				t.Fatalf("neither registered nor failed within %v: %s", wait, a.dump())
			}
			if got.State != tc.state {
				t.Fatalf("state %v (%d %s), want %v", got.State, got.Code, got.Reason, tc.state)
			}
			if tc.state == RegRegistered && got.Expires != tc.expires {
				t.Errorf("registered for %d s, want %d", got.Expires, tc.expires)
			}
			if tc.state == RegFailed && (got.Code != tc.code || !strings.Contains(got.Reason, tc.reason)) {
				t.Errorf("failed with %d %q, want %d and %q", got.Code, got.Reason, tc.code, tc.reason)
			}
			if tc.log != "" && !strings.Contains(log.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, log.String())
			}
			if tc.quiet {
				// The backoff tries again after 2 to 2.5 s, then longer:
				// not at once, as answering each challenge would.
				time.Sleep(1500 * time.Millisecond)
			}
			if tc.expiries != nil {
				var exps []string
				for _, r := range reg.requests(sip.REGISTER) {
					exps = append(exps, r.GetHeader("Expires").Value())
				}
				if fmt.Sprint(exps) != fmt.Sprint(tc.expiries) {
					t.Errorf("REGISTERs with Expires %v, want %v", exps, tc.expiries)
				}
			}
		})
	}
}

// An SRV record pointing nowhere (a name that does not resolve, port 0)
// is skipped: the registration goes to the next record, or fails at once
// with a reason naming the domain and the record, never hangs.
func TestRegisterSRVPointingNowhere(t *testing.T) {
	good := registrar(t, 200)
	for _, tc := range []struct {
		name   string
		srvs   string // SRV records of _sip._udp.pbx.example.test
		state  RegState
		reason []string // in the failed event's reason, or its Server when registered
	}{
		{"a name that does not resolve", "SRV 10 0 5060 nowhere.example.test.", RegFailed,
			[]string{"locate pbx.example.test: no SIP server found", "SRV _sip._udp.pbx.example.test -> nowhere.example.test"}},
		{"port 0", "SRV 10 0 0 sip.example.test.", RegFailed,
			[]string{"locate pbx.example.test: no SIP server found", `record 10 0 0 "sip.example.test." skipped`}},
		{"a good record after a bad one", fmt.Sprintf("SRV 10 0 5060 nowhere.example.test.\n_sip._udp.pbx.example.test. SRV 20 0 %d sip.example.test.", mustPort(good.addr)),
			RegRegistered, []string{"(sip.example.test)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zone := "_sip._udp.pbx.example.test. " + tc.srvs + "\nsip.example.test. A 127.0.0.1"
			a := newTestPhone(t, Options{Transports: []string{"udp"}, DNSServers: []string{dnsServer(t, zone)},
				Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "pbx.example.test", Register: true, Expires: time.Minute}}})
			var got RegistrationEvent
			if !a.waitFor(wait, func(ev Event) bool {
				r, ok := ev.(RegistrationEvent)
				if ok && (r.State == RegRegistered || r.State == RegFailed) {
					got = r
					return true
				}
				return false
			}) {
				t.Fatalf("neither registered nor failed within %v: %s", wait, a.dump())
			}
			if got.State != tc.state {
				t.Fatalf("state %v (%s), want %v", got.State, got.Reason, tc.state)
			}
			for _, s := range tc.reason {
				if !strings.Contains(got.Reason+" "+got.Server, s) {
					t.Errorf("event %+v lacks %q", got, s)
				}
			}
		})
	}
}
