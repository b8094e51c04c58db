package doctor

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	lan      = netip.MustParseAddrPort("10.77.0.2:5060")
	pub      = netip.MustParseAddrPort("198.51.100.1:5060")
	pubOther = netip.MustParseAddrPort("198.51.100.1:61234")
	rtpLocal = netip.MustParseAddrPort("10.77.0.2:20000")
	rtpPub   = netip.MustParseAddrPort("198.51.100.1:20000")
)

// healthy is a phone behind a port-preserving NAT with STUN, everything fine.
func healthy() Findings {
	return Findings{
		Account:        "alice",
		Resolve:        Resolution{Host: "provider.test", Targets: []string{"UDP 198.51.100.10:5060 (sip.provider.test)"}},
		Local:          lan,
		STUNServer:     "stun.provider.test",
		SIPMapping:     Mapping{Local: lan, Public: pub},
		RTPMapping:     Mapping{Local: rtpLocal, Public: rtpPub},
		Register:       Registration{Done: true, OK: true, Server: "UDP 198.51.100.10:5060 (sip.provider.test)", Public: pub, Code: 200},
		Reach:          Probe{Asked: true, Arrived: true, Code: 200},
		Idle:           35 * time.Second,
		ReachIdle:      Probe{Asked: true, Arrived: true, Code: 200},
		ContactRewrite: true,
		KeepAlive:      25 * time.Second,
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Findings)
		problem string   // substring of Report.Problem, "" = none
		want    []string // "MARK substring" lines that must be there, in order
		notWant []Status // statuses no line may have
	}{
		{
			name: "port-preserving NAT, all fine",
			want: []string{
				"✓ resolved provider.test → UDP 198.51.100.10:5060 (sip.provider.test)",
				"✓ registered at UDP 198.51.100.10:5060",
				"✓ behind NAT: we are 10.77.0.2:5060, the registrar sees 198.51.100.1:5060 (port kept)",
				"✓ NAT keeps your mapping",
				"✓ UDP comes back to RTP port 20000",
				"✓ a request to our own address through the provider reached us",
				"✓ the NAT binding survived 35s idle (nat.keepalive 25s)",
			},
			notWant: []Status{StatusWarn, StatusFail},
		},
		{
			name:   "symmetric NAT is a warning",
			change: func(f *Findings) { f.Register.Public = pubOther },
			want: []string{
				"✓ behind NAT: we are 10.77.0.2:5060, the registrar sees 198.51.100.1:61234 (port changed)",
				"! symmetric NAT (address-dependent mapping): from local port 5060 the registrar sees 198.51.100.1:61234 but STUN (stun.provider.test) sees 198.51.100.1:5060",
				"✓ the NAT binding survived",
			},
			notWant: []Status{StatusFail},
		},
		{
			name: "domain does not resolve",
			change: func(f *Findings) {
				f.Resolve = Resolution{Host: "nowhere.test", Err: "locate nowhere.test: no SIP server found"}
			},
			problem: "nowhere.test does not resolve",
			want:    []string{"✗ nowhere.test does not resolve: locate nowhere.test: no SIP server found"},
		},
		{
			name: "IP literal, no server answers",
			change: func(f *Findings) {
				f.Resolve = Resolution{Host: "198.51.100.10:5060", Literal: true, Targets: []string{"UDP 198.51.100.10:5060"}}
				f.Register = Registration{Err: "nothing final within 1m0s"}
			},
			problem: "no answer to REGISTER from UDP 198.51.100.10:5060: nothing final within 1m0s",
			want:    []string{"✓ provider 198.51.100.10:5060 is an IP address", "✗ no answer to REGISTER from UDP 198.51.100.10:5060"},
		},
		{
			name: "transport error",
			change: func(f *Findings) {
				f.Register = Registration{Done: true, Server: "UDP 198.51.100.10:5060", Reason: "register alice: transaction timed out"}
			},
			problem: "no answer from UDP 198.51.100.10:5060",
		},
		{
			name: "port unreachable",
			change: func(f *Findings) {
				f.Register = Registration{Done: true, Server: "UDP 198.51.100.10:5060",
					Reason: "every server failed: UDP 198.51.100.10:5060: register alice: transaction transport error: port unreachable"}
			},
			problem: "nothing answers SIP at UDP 198.51.100.10:5060 (ICMP port unreachable)",
		},
		{
			name: "wrong password",
			change: func(f *Findings) {
				f.Register = Registration{Done: true, Server: "UDP 198.51.100.10:5060", Code: 401, Reason: "Unauthorized (wrong username or password?)"}
			},
			problem: "registration refused by UDP 198.51.100.10:5060: 401 Unauthorized (wrong username or password?)",
		},
		{
			name:    "setup error",
			change:  func(f *Findings) { f.Err = "no account \"bob\"" },
			problem: "no account",
		},
		{
			name: "no NAT, no STUN",
			change: func(f *Findings) {
				f.Register.Public, f.STUNServer, f.SIPMapping, f.RTPMapping = lan, "", Mapping{}, Mapping{}
			},
			want: []string{
				"✓ no NAT: the registrar sees us at 10.77.0.2:5060",
				"- RTP coming back not checked (set nat.stun_server)",
				"✓ after 35s idle requests through the provider still reach us",
			},
			notWant: []Status{StatusWarn, StatusFail},
		},
		{
			name:   "NAT without STUN",
			change: func(f *Findings) { f.STUNServer, f.SIPMapping, f.RTPMapping = "", Mapping{}, Mapping{} },
			want:   []string{"- NAT type not checked (set nat.stun_server)", "- RTP coming back not checked (set nat.stun_server)"},
		},
		{
			name: "STUN silent on both ports",
			change: func(f *Findings) {
				f.SIPMapping = Mapping{Local: lan, Err: "stun: no answer from 198.51.100.12:3478"}
				f.RTPMapping = Mapping{Local: rtpLocal, Err: "stun: no answer from 198.51.100.12:3478"}
			},
			want: []string{"! STUN server stun.provider.test did not answer", "! no STUN answer on RTP port 20000: UDP may not come back"},
		},
		{
			name:   "two public addresses",
			change: func(f *Findings) { f.SIPMapping.Public = netip.MustParseAddrPort("203.0.113.9:5060") },
			want:   []string{"! STUN (stun.provider.test) sees us at 203.0.113.9:5060 but the registrar at 198.51.100.1:5060"},
		},
		{
			name:   "binding lost after idle without keep-alives",
			change: func(f *Findings) { f.KeepAlive = 0; f.ReachIdle = Probe{Asked: true} },
			want:   []string{"✓ a request to our own address", "! after 35s idle a request through the provider no longer reached us (no answer): the NAT forgot the binding, incoming calls will fail; set nat.keepalive"},
		},
		{
			name:   "binding lost with keep-alives",
			change: func(f *Findings) { f.ReachIdle = Probe{Asked: true, Code: 408, Reason: "Request Timeout"} },
			want:   []string{"! after 35s idle a request through the provider no longer reached us (408 Request Timeout): the NAT forgot the binding, incoming calls will fail; keep-alives every 25s were not enough"},
		},
		{
			name: "private Contact never reached",
			change: func(f *Findings) {
				f.ContactRewrite = false
				f.Reach = Probe{Asked: true}
			},
			want: []string{
				"! nat.contact_rewrite is off",
				"! a request to our own address through the provider did not reach us (no answer): incoming calls will fail; set nat.contact_rewrite = true",
				"- binding after idle not checked (nothing reached us before it)",
			},
		},
		{
			name:   "provider does not route OPTIONS",
			change: func(f *Findings) { f.Reach = Probe{Asked: true, Code: 404, Reason: "Not Found"} },
			want: []string{
				"- could not check incoming requests: the provider answered 404 Not Found itself",
				"- binding after idle not checked",
			},
			notWant: []Status{StatusWarn, StatusFail},
		},
		{
			name:   "provider answers itself after idle",
			change: func(f *Findings) { f.ReachIdle = Probe{Asked: true, Code: 403, Reason: "Forbidden"} },
			want:   []string{"- could not check the binding after 35s idle: the provider answered 403 Forbidden itself"},
		},
		{
			name:   "probe not sent",
			change: func(f *Findings) { f.Reach = Probe{Asked: true, Err: "probe alice: only UDP accounts"} },
			want:   []string{"- incoming requests not checked: probe alice: only UDP accounts"},
		},
		{
			name:   "idle skipped",
			change: func(f *Findings) { f.Idle, f.ReachIdle = 0, Probe{} },
			want:   []string{"- binding after idle not checked (--idle 0)"},
		},
		{
			name:   "registrar without rport",
			change: func(f *Findings) { f.Register.Public = netip.AddrPort{} },
			want:   []string{"- the registrar did not say where it saw us", "- STUN (stun.provider.test) sees the SIP port 10.77.0.2:5060 at 198.51.100.1:5060"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := healthy()
			if tc.change != nil {
				tc.change(&f)
			}
			rep := Build(f)
			var b bytes.Buffer
			if err := rep.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			text := b.String()
			if tc.problem == "" && rep.Failed() {
				t.Errorf("problem %q, want none\n%s", rep.Problem, text)
			}
			if tc.problem != "" && !strings.Contains(rep.Problem, tc.problem) {
				t.Errorf("problem %q, want it to contain %q\n%s", rep.Problem, tc.problem, text)
			}
			if strings.Contains(rep.Problem, "\n") {
				t.Errorf("problem %q is not one line", rep.Problem)
			}
			rest := text
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("missing (or out of order) %q in\n%s", w, text)
					continue
				}
				rest = rest[i+len(w):]
			}
			for _, l := range rep.Lines {
				for _, s := range tc.notWant {
					if l.Status == s {
						t.Errorf("unexpected %v line %q", s, l.Text)
					}
				}
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	f := healthy()
	f.Register.Public = pubOther
	var b bytes.Buffer
	if err := Build(f).WriteJSON(&b, f); err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK     bool
		Report struct {
			Lines []struct{ Status, Text string }
		}
		Findings struct {
			Register struct{ Public string }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if !got.OK || got.Findings.Register.Public != "198.51.100.1:61234" || len(got.Report.Lines) == 0 {
		t.Errorf("JSON %s", b.String())
	}
	warned := false
	for _, l := range got.Report.Lines {
		warned = warned || (l.Status == "warn" && strings.Contains(l.Text, "symmetric NAT"))
	}
	if !warned {
		t.Errorf("no warn line about the symmetric NAT in %s", b.String())
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusInfo: "info", StatusOK: "ok", StatusWarn: "warn", StatusFail: "fail", Status(9): "unknown"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d) = %q, want %q", int(s), got, want)
		}
	}
}
