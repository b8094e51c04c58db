package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/phone/stun/stuntest"
)

// stunServer answers Binding requests on 127.0.0.1 with the address they
// came from, until the test ends.
func stunServer(t *testing.T) string {
	return stuntest.Start(t, nil).Addr().String()
}

func loopbackOptions(registrar, password, stunAddr string) Options {
	return Options{
		Phone: phone.Options{
			Listen: "127.0.0.1:0", Transports: []string{"udp"},
			RTPPortMin: 0, RTPPortMax: 0,
			Accounts: []phone.Account{{Name: "alice", AOR: "sip:alice@" + registrar, Registrar: registrar,
				Password: password, Expires: time.Minute}},
			NAT: phone.NATOptions{ContactRewrite: true, KeepAlive: time.Second, STUNServer: stunAddr},
		},
		Idle:    2 * time.Second,
		Timeout: 20 * time.Second,
	}
}

// TestRunAgainstKamailio: on loopback, against the Kamailio registrar of
// the interop tests and a STUN server in the test, the doctor resolves
// (an IP literal), registers, sees no NAT, gets STUN answers on the SIP and
// an RTP port, and its own OPTIONS comes back through Kamailio, at once
// and after the idle pause; with a wrong password it names the refusal.
func TestRunAgainstKamailio(t *testing.T) {
	k := peertest.StartKamailio(t, peertest.KamailioConfig{Users: map[string]string{"alice": "alicepw"}})
	stunAddr := stunServer(t)

	f := Run(context.Background(), loopbackOptions(k.Addr(), "alicepw", stunAddr))
	rep := Build(f)
	var b strings.Builder
	_ = rep.WriteText(&b)
	t.Logf("report:\n%s", b.String())
	if rep.Failed() {
		t.Fatalf("problem %q; findings %+v", rep.Problem, f)
	}
	if !f.Register.OK || f.Register.Public != f.Local {
		t.Errorf("register %+v, local %v: want registered, seen at our own address", f.Register, f.Local)
	}
	if f.SIPMapping.Public != f.Local || f.RTPMapping.Public.Port() == 0 {
		t.Errorf("STUN mappings %+v %+v, want the SIP one = %v and an RTP one", f.SIPMapping, f.RTPMapping, f.Local)
	}
	if !f.Reach.Arrived || !f.ReachIdle.Arrived || f.Reach.Code != 200 {
		t.Errorf("reach %+v after idle %+v: want both arrived, 200", f.Reach, f.ReachIdle)
	}
	for _, l := range rep.Lines {
		if l.Status == StatusWarn || l.Status == StatusFail {
			t.Errorf("unexpected %v line: %s", l.Status, l.Text)
		}
	}

	o := loopbackOptions(k.Addr(), "wrong", "")
	o.Idle = 0
	rep = Build(Run(context.Background(), o))
	if !rep.Failed() || !strings.Contains(rep.Problem, "401") {
		t.Errorf("wrong password: problem %q, want a 401 refusal", rep.Problem)
	}
}
