package headless

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

const cid = sessions.CallID("6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11")

var goldenCall = sessions.CallInfo{
	ID: cid, Line: 1, Direction: sessions.DirectionIncoming, State: sessions.StateRinging,
	RemoteURI: "sip:bob@example.com", RemoteDisplay: "Bob", SIPCallID: "a84b4c76e66710@pc33.example.com",
	Decision: "accept after 2s",
}

func goldenEvents() []struct {
	ev         sessions.Event
	json, text string
} {
	ended := goldenCall
	ended.State, ended.EndReason, ended.EndCode, ended.Decision = sessions.StateTerminated, "remote hangup", 200, ""
	ended.Codec, ended.Account, ended.Subject, ended.Transport = "PCMU", "work", "Quarterly numbers", "TLS"
	ended.SRTP = "AES_CM_128_HMAC_SHA1_80"
	held := goldenCall
	held.State, held.HeldRemote, held.Decision = sessions.StateConnected, true, ""
	ruled := goldenCall
	ruled.Rule, ruled.RuleWhy = "rules[1]", `from "sip:bob@*" (line 7)`
	return []struct {
		ev         sessions.Event
		json, text string
	}{
		{
			sessions.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegRegistered, Expires: 300},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"registration","account":"work","state":"registered","expires":300}`,
			`2026-11-20T10:00:00.123Z registration work registered (expires 300s)`,
		},
		{
			sessions.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegRegistered, Expires: 60, Server: "UDP 192.0.2.1:5060 (a.pbx.example.com)",
				Public: "203.0.113.7:40123"},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"registration","account":"work","state":"registered","expires":60,"server":"UDP 192.0.2.1:5060 (a.pbx.example.com)","public":"203.0.113.7:40123"}`,
			`2026-11-20T10:00:00.123Z registration work registered (expires 60s) via UDP 192.0.2.1:5060 (a.pbx.example.com)`,
		},
		{
			sessions.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegFailed, Code: 403, Reason: "Forbidden"},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"registration","account":"work","state":"failed","code":403,"reason":"Forbidden"}`,
			`2026-11-20T10:00:00.123Z registration work failed: 403 Forbidden`,
		},
		{
			sessions.CallEvent{Time: t0, Call: goldenCall},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"call","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"direction":"incoming","state":"ringing","remote":"sip:bob@example.com","display_name":"Bob","sip_call_id":"a84b4c76e66710@pc33.example.com","held_local":false,"held_remote":false,"muted":false,"recording":false,"srtp":"","decision":"accept after 2s"}`,
			`2026-11-20T10:00:00.123Z call 1 incoming ringing "Bob" <sip:bob@example.com> (accept after 2s)`,
		},
		{
			sessions.CallEvent{Time: t0, Call: ruled},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"call","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"direction":"incoming","state":"ringing","remote":"sip:bob@example.com","display_name":"Bob","sip_call_id":"a84b4c76e66710@pc33.example.com","held_local":false,"held_remote":false,"muted":false,"recording":false,"srtp":"","decision":"accept after 2s","rule":"rules[1]","rule_why":"from \"sip:bob@*\" (line 7)"}`,
			`2026-11-20T10:00:00.123Z call 1 incoming ringing "Bob" <sip:bob@example.com> (accept after 2s, rules[1])`,
		},
		{
			sessions.CallEvent{Time: t0, Call: held, Prev: sessions.StateConnected},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"call","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"direction":"incoming","state":"connected","remote":"sip:bob@example.com","display_name":"Bob","sip_call_id":"a84b4c76e66710@pc33.example.com","held_local":false,"held_remote":true,"muted":false,"recording":false,"srtp":""}`,
			`2026-11-20T10:00:00.123Z call 1 incoming connected "Bob" <sip:bob@example.com> [held-by-remote]`,
		},
		{
			sessions.CallEvent{Time: t0, Call: ended, Prev: sessions.StateConnected},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"call","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"direction":"incoming","state":"terminated","remote":"sip:bob@example.com","display_name":"Bob","sip_call_id":"a84b4c76e66710@pc33.example.com","held_local":false,"held_remote":false,"muted":false,"recording":false,"account":"work","subject":"Quarterly numbers","codec":"PCMU","srtp":"AES_CM_128_HMAC_SHA1_80","transport":"TLS","reason":"remote hangup","code":200}`,
			`2026-11-20T10:00:00.123Z call 1 incoming terminated "Bob" <sip:bob@example.com>: 200 remote hangup`,
		},
		{
			sessions.DTMFEvent{Time: t0, CallID: cid, Line: 1, Digit: "5", Received: true, Method: "rfc4733"},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"dtmf","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"digit":"5","direction":"received","method":"rfc4733"}`,
			`2026-11-20T10:00:00.123Z dtmf 1 received 5 (rfc4733)`,
		},
		{
			sessions.DTMFEvent{Time: t0, CallID: cid, Line: 1, Digit: "#", Method: "info"},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"dtmf","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"digit":"#","direction":"sent","method":"info"}`,
			`2026-11-20T10:00:00.123Z dtmf 1 sent # (info)`,
		},
		{
			sessions.MediaEvent{Time: t0, CallID: cid, Line: 1, Stats: sessions.MediaStats{
				Codec: "PCMU", RxPackets: 250, TxPackets: 251, LossPct: 0, JitterMs: 1.2, RTTMs: 0.4, MOS: 4.4093, Lost: 0, RTCPMux: true,
				SRTP: "AES_CM_128_HMAC_SHA1_80",
			}},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"media","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"codec":"PCMU","rx_packets":250,"loss_pct":0.0,"jitter_ms":1.2,"rtt_ms":0.4,"mos":4.41,"tx_packets":251,"lost":0,"rtcp_mux":true,"srtp":"AES_CM_128_HMAC_SHA1_80"}`,
			`2026-11-20T10:00:00.123Z media 1 PCMU rx 250 loss 0.0% jitter 1.2ms rtt 0.4ms MOS 4.4`,
		},
		{
			sessions.TransferEvent{Time: t0, CallID: cid, Line: 1, Transfer: sessions.TransferInfo{
				Target: "sip:carol@example.com", Outgoing: true, Code: 200, Reason: "OK", Final: true,
			}},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"transfer","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"target":"sip:carol@example.com","direction":"sent","code":200,"reason":"OK","final":true}`,
			`2026-11-20T10:00:00.123Z transfer 1 sent sip:carol@example.com 200 OK (final)`,
		},
		{
			sessions.TransferEvent{Time: t0, CallID: cid, Line: 1, Transfer: sessions.TransferInfo{
				Target: "sip:mallory@evil.example", Reason: "requested, refuse",
			}},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"transfer","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"target":"sip:mallory@evil.example","direction":"received","code":0,"reason":"requested, refuse","final":false}`,
			`2026-11-20T10:00:00.123Z transfer 1 received sip:mallory@evil.example 0 requested, refuse`,
		},
		{
			sessions.TransferEvent{Time: t0, CallID: cid, Line: 1, Transfer: sessions.TransferInfo{
				Target: "sip:mallory@evil.example", Code: 603, Reason: "refused by policy", Final: true,
			}},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"transfer","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"target":"sip:mallory@evil.example","direction":"received","code":603,"reason":"refused by policy","final":true}`,
			`2026-11-20T10:00:00.123Z transfer 1 received sip:mallory@evil.example 603 refused by policy (final)`,
		},
		{
			sessions.MWIEvent{Time: t0, Account: "work", Waiting: true, New: 3, Old: 1, MessageAccount: "sip:*97@pbx"},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"mwi","account":"work","waiting":true,"new":3,"old":1,"message_account":"sip:*97@pbx"}`,
			`2026-11-20T10:00:00.123Z mwi work waiting=true new 3 old 1`,
		},
		{
			sessions.ErrorEvent{Time: t0, Err: errors.New("register work: 403 Forbidden")},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"error","message":"register work: 403 Forbidden"}`,
			`2026-11-20T10:00:00.123Z error: register work: 403 Forbidden`,
		},
		{
			LogEvent{Time: t0, CallID: cid, Line: 1, Message: "menu played"},
			`{"ts":"2026-11-20T10:00:00.123Z","event":"log","call_id":"6f1c2a64-3b7e-4c1d-9a8e-2f0b5d7c9e11","line":1,"message":"menu played"}`,
			`2026-11-20T10:00:00.123Z log 1: menu played`,
		},
	}
}

func TestFormatGolden(t *testing.T) {
	for _, g := range goldenEvents() {
		if got := string(FormatJSON(g.ev, g.ev.EventTime())); got != g.json {
			t.Errorf("%s JSON\n got %s\nwant %s", g.ev.Kind(), got, g.json)
		}
		if got := FormatText(g.ev, g.ev.EventTime()); got != g.text {
			t.Errorf("%s text\n got %s\nwant %s", g.ev.Kind(), got, g.text)
		}
	}
}

func TestPrinter(t *testing.T) {
	var b syncBuffer
	p, err := NewPrinter(&b, "", func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	// The call's line is remembered for its error events; events without a
	// time get the clock's.
	p.Print(sessions.CallEvent{Time: t0.Add(time.Hour).In(time.FixedZone("X", 3600)), Call: goldenCall})
	p.Print(sessions.ErrorEvent{CallID: cid, Err: errors.New("hold call 1: 488 Not Acceptable Here")})
	// Media: at most one per call per MediaInterval.
	for i := range 10 {
		p.Print(sessions.MediaEvent{Time: t0.Add(time.Duration(i) * 100 * time.Millisecond), CallID: cid, Line: 1})
	}
	p.Print(sessions.MediaEvent{Time: t0, CallID: "other", Line: 2})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if !strings.HasPrefix(lines[0], `{"ts":"2026-11-20T11:00:00.123Z","event":"call"`) {
		t.Errorf("ts not UTC: %s", lines[0])
	}
	if want := `{"ts":"2026-11-20T10:00:00.123Z","event":"error","call_id":"` + string(cid) + `","line":1,"message":"hold call 1: 488 Not Acceptable Here"}`; lines[1] != want {
		t.Errorf("error line\n got %s\nwant %s", lines[1], want)
	}
	if media := strings.Count(b.String(), `"event":"media"`); media != 5 { // 0, 300, 600, 900 ms + other
		t.Errorf("%d media lines, want 5 (4 + other):\n%s", media, b.String())
	}

	var txt syncBuffer
	p, _ = NewPrinter(&txt, EventsText, nil)
	p.Print(LogEvent{Time: t0, Line: 1, Message: "a\x1b[2Jb\nc"})
	if got := txt.String(); got != "2026-11-20T10:00:00.123Z log 1: a [2Jb c\n" {
		t.Errorf("text output %q", got)
	}
	var none syncBuffer
	p, _ = NewPrinter(&none, EventsNone, nil)
	p.Print(LogEvent{Time: t0, Message: "x"})
	if none.String() != "" || p.Err() != nil {
		t.Errorf("none printed %q", none.String())
	}
	if _, err := NewPrinter(&none, "yaml", nil); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 1: "1.0", 1.2: "1.2", 4.4093: "4.41", -0.001: "0.0", math.NaN(): "0.0", math.Inf(1): "0.0", 12.345: "12.35",
	} {
		if b, _ := num(v).MarshalJSON(); string(b) != want {
			t.Errorf("num(%v) = %s, want %s", v, b, want)
		}
	}
}
