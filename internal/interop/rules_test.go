package interop

import (
	"fmt"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/internal/peertest"
)

// TestHeadlessAnswerRules: "teaphone answer --reject 486" registered at
// Kamailio with [[rules]], called by three registered baresip peers. Alice
// is answered (rule), Mallory refused with the rule's 403, and the pager,
// whose INVITEs the proxy marks Call-Info: <…>;answer-after=0 (as a PBX's
// paging feature does; baresip 1.0 cannot add headers itself), is refused
// by the default while no rule asks for auto-answer headers, and answered
// by itself once one does. Each call event names its rule.
func TestHeadlessAnswerRules(t *testing.T) {
	peertest.NeedBaresip(t)
	peertest.NeedKamailio(t)
	k := peertest.StartKamailio(t, peertest.KamailioConfig{
		Users: map[string]string{"alice": "alicepw", "mallory": "mallorypw", "pager": "pagerpw",
			"robot1": "robot1pw", "robot2": "robot2pw"},
		RecordRoute: true, QOP: true,
		InitialRequest: `if (is_method("INVITE") && !has_totag() && $fU == "pager") {
		append_hf("Call-Info: <sip:127.0.0.1>;answer-after=0\r\n");
	}`,
	})
	peer := func(user string) *peertest.Baresip {
		return peertest.StartBaresip(t, peertest.BaresipConfig{User: user, Registrar: k.Addr(), Password: user + "pw"})
	}
	alice, mallory, pager := peer("alice"), peer("mallory"), peer("pager")

	const baseRules = `
[[rules]]
from = "sip:alice@*"
action = "accept"

[[rules]]
from = "sip:mallory@*"
action = "reject"
code = 403
reason = "Not You"
`
	const pagingRule = `
[[rules]]
from = "sip:pager@*"
auto_answer_header = true
action = "accept"
delay_from_header = true
`
	// answer starts teaphone answer as robot with the rules and waits until
	// it has registered.
	answer := func(robot, rules string) *teaphoneCmd {
		t.Helper()
		config := fmt.Sprintf("[[accounts]]\nname = %q\naor = %q\nregistrar = %q\npassword = %q\n%s",
			robot, k.URI(robot), k.Addr(), robot+"pw", rules)
		tc := newTeaphoneCmdConfig(t, config, "answer", "--listen", "127.0.0.1:0", "--audio", "tone:440",
			"--rtp-ports", rtpPortsFlag(t), "--reject", "486")
		tc.start(t)
		if !waitUntil(waitLong, func() bool {
			for _, e := range tc.jsonEvents(t) {
				if e["event"] == "registration" && e["state"] == "registered" {
					return true
				}
			}
			return false
		}) {
			t.Fatalf("teaphone answer never registered:\n%s", tc.stdout.String())
		}
		return tc
	}
	// ringing returns teaphone's ringing event of the call from user.
	ringing := func(tc *teaphoneCmd, user string) map[string]any {
		t.Helper()
		var got map[string]any
		if !waitUntil(waitShort, func() bool {
			for _, e := range tc.jsonEvents(t) {
				if e["event"] == "call" && e["state"] == "ringing" && strings.HasPrefix(fmt.Sprint(e["remote"]), "sip:"+user+"@") {
					got = e
					return true
				}
			}
			return false
		}) {
			t.Fatalf("no ringing event for %s on stdout:\n%s", user, tc.stdout.String())
		}
		return got
	}
	// answered has b call robot and expects the call to come up, then hangs up.
	answered := func(b *peertest.Baresip, robot string) {
		t.Helper()
		m := b.Mark()
		if err := b.Dial(k.URI(robot)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WaitEvent(m, "CALL_ESTABLISHED", waitLong); err != nil {
			t.Fatal(err)
		}
		if err := b.Hangup(); err != nil {
			t.Fatal(err)
		}
		if _, err := b.WaitEvent(m, "CALL_CLOSED", waitShort); err != nil {
			t.Fatal(err)
		}
	}
	// refused has b call robot and expects the call to be refused with code.
	refused := func(b *peertest.Baresip, robot string, code int) {
		t.Helper()
		m := b.Mark()
		if err := b.Dial(k.URI(robot)); err != nil {
			t.Fatal(err)
		}
		ev, err := b.WaitEvent(m, "CALL_CLOSED", waitLong)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range b.Events(m) {
			if e.Type == "CALL_ESTABLISHED" {
				t.Fatalf("%s's call was answered, want refused with %d", b.AOR(), code)
			}
		}
		if !strings.Contains(ev.Param, fmt.Sprint(code)) {
			t.Errorf("%s's call closed with %q, want %d", b.AOR(), ev.Param, code)
		}
	}
	check := func(e map[string]any, decision, rule, why string) {
		t.Helper()
		if e["decision"] != decision || e["rule"] != rule || !strings.Contains(fmt.Sprint(e["rule_why"]), why) {
			t.Errorf("call from %v: decision %v, rule %v (%v); want %s, %s (%s)",
				e["remote"], e["decision"], e["rule"], e["rule_why"], decision, rule, why)
		}
	}

	// Without a rule for auto-answer headers.
	tc := answer("robot1", baseRules)
	answered(alice, "robot1")
	check(ringing(tc, "alice"), "accept", "rules[0]", `from "sip:alice@*" (line `)
	refused(mallory, "robot1", 403)
	check(ringing(tc, "mallory"), "reject 403", "rules[1]", `from "sip:mallory@*"`)
	refused(pager, "robot1", 486)
	check(ringing(tc, "pager"), "reject 486", "default", "no rule matched")
	if log := tail(tc.dir+"/teaphone.log", 100000); !strings.Contains(log, "answer-after=0") {
		t.Errorf("the pager's INVITE did not reach teaphone with Call-Info answer-after=0")
	}

	// With one: the pager's call answers itself; Alice's, without the
	// header, is still decided by her own rule.
	tc2 := answer("robot2", pagingRule+baseRules)
	answered(pager, "robot2")
	check(ringing(tc2, "pager"), "accept", "rules[0]", "auto_answer_header (Call-Info answer-after=0)")
	answered(alice, "robot2")
	check(ringing(tc2, "alice"), "accept", "rules[1]", `from "sip:alice@*"`)
	refused(mallory, "robot2", 403)
}
