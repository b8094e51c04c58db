package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"
)

var testCreds = ICECredentials{Ufrag: "lite", Pwd: "0123456789abcdefghijkl"}

// check builds a connectivity check as a full agent sends it to us (RFC
// 8445 §7.2.2): USERNAME user (our ufrag, a colon, the agent's),
// PRIORITY, ICE-CONTROLLING, optionally USE-CANDIDATE, MESSAGE-INTEGRITY
// with pwd (none if ""), FINGERPRINT.
func check(t testing.TB, user, pwd string, nominate bool) *stun.Message {
	t.Helper()
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest, stun.NewUsername(user),
		stun.RawAttribute{Type: stun.AttrPriority, Value: []byte{0x6e, 0, 0x1e, 0xff}},
		stun.RawAttribute{Type: stun.AttrICEControlling, Value: make([]byte, 8)}}
	if nominate {
		setters = append(setters, stun.RawAttribute{Type: stun.AttrUseCandidate})
	}
	if pwd != "" {
		setters = append(setters, stun.NewShortTermIntegrity(pwd))
	}
	setters = append(setters, stun.Fingerprint)
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAnswerCheck(t *testing.T) {
	from := netip.MustParseAddrPort("192.0.2.9:7078")
	ok := check(t, "lite:peer", testCreds.Pwd, false)
	for _, tc := range []struct {
		name     string
		b        []byte
		creds    ICECredentials
		code     int // 0: success; -1: no reply
		nominate bool
	}{
		{name: "valid check", b: ok.Raw, creds: testCreds},
		{name: "nominating check", b: check(t, "lite:peer", testCreds.Pwd, true).Raw, creds: testCreds, nominate: true},
		{name: "ICE off", b: ok.Raw, code: -1},
		{name: "another username", b: check(t, "other:peer", testCreds.Pwd, false).Raw, creds: testCreds, code: 401},
		{name: "username without colon", b: check(t, "lite", testCreds.Pwd, false).Raw, creds: testCreds, code: 401},
		{name: "wrong password", b: check(t, "lite:peer", "wrongwrongwrongwrongwr", false).Raw, creds: testCreds, code: 401},
		{name: "no integrity", b: check(t, "lite:peer", "", false).Raw, creds: testCreds, code: 400},
		{name: "a response", b: func() []byte {
			m, _ := stun.Build(stun.TransactionID, stun.BindingSuccess, stun.Fingerprint)
			return m.Raw
		}(), creds: testCreds, code: -1},
		{name: "bad fingerprint", b: func() []byte {
			b := append([]byte(nil), ok.Raw...)
			b[len(b)-1] ^= 0xff
			return b
		}(), creds: testCreds, code: -1},
		{name: "truncated", b: ok.Raw[:30], creds: testCreds, code: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chk := answerCheck(tc.b, from, tc.creds)
			if tc.code == -1 {
				if chk.reply != nil {
					t.Fatalf("replied to what needs no reply")
				}
				return
			}
			res := &stun.Message{Raw: chk.reply}
			if err := res.Decode(); err != nil {
				t.Fatalf("reply does not decode: %v", err)
			}
			if err := stun.Fingerprint.Check(res); err != nil {
				t.Errorf("reply fingerprint: %v", err)
			}
			if chk.nominate != tc.nominate {
				t.Errorf("nominate = %v, want %v", chk.nominate, tc.nominate)
			}
			if tc.code != 0 {
				var ec stun.ErrorCodeAttribute
				if res.Type != stun.BindingError || ec.GetFrom(res) != nil || int(ec.Code) != tc.code {
					t.Fatalf("reply %v %v, want error %d", res.Type, ec, tc.code)
				}
				return
			}
			if res.Type != stun.BindingSuccess {
				t.Fatalf("reply type %v, want success", res.Type)
			}
			if err := stun.NewShortTermIntegrity(testCreds.Pwd).Check(res); err != nil {
				t.Errorf("reply integrity: %v", err)
			}
			var xa stun.XORMappedAddress
			if err := xa.GetFrom(res); err != nil || xa.String() != from.String() {
				t.Errorf("XOR-MAPPED-ADDRESS %v (%v), want %v", xa, err, from)
			}
		})
	}
}

// TestStreamAnswersChecks: a started stream answers a full agent's checks
// on its RTP and RTCP ports, and a nominating check from another address
// moves where its RTP goes (RFC 8445 §7.3.1.5).
func TestStreamAnswersChecks(t *testing.T) {
	p := newPeer(t, 440, func(c *StreamConfig) { c.ICE = testCreds })
	agent, agentRTCP := listenUDP(t), listenUDP(t)
	// The SDP address is somewhere else (an unreachable default candidate).
	p.s.SetRemote(netip.MustParseAddrPort("127.0.0.1:9"), netip.MustParseAddrPort("127.0.0.1:10"))
	p.s.Start()
	ask := func(c *net.UDPConn, to netip.AddrPort, nominate bool) *stun.Message {
		t.Helper()
		req := check(t, "lite:peer", testCreds.Pwd, nominate)
		buf := make([]byte, 1500)
		for try := 0; try < 20; try++ {
			if _, err := c.WriteToUDPAddrPort(req.Raw, to); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			for {
				n, err := c.Read(buf)
				if err != nil {
					break
				}
				res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
				if res.Decode() == nil && res.TransactionID == req.TransactionID {
					return res
				}
			}
		}
		t.Fatalf("no answer to a check sent to %v", to)
		return nil
	}
	res := ask(agent, p.rtp, false)
	if res.Type != stun.BindingSuccess {
		t.Fatalf("RTP check answered %v", res.Type)
	}
	if res := ask(agentRTCP, p.rtcp, true); res.Type != stun.BindingSuccess {
		t.Fatalf("RTCP check answered %v", res.Type)
	}
	// Nominated: RTP now goes to the agent's socket.
	ask(agent, p.rtp, true)
	buf := make([]byte, 1500)
	waitFor(t, 3*time.Second, "RTP at the nominated address", func() bool {
		_ = agent.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := agent.Read(buf)
		return err == nil && n >= 12 && buf[0]&0xc0 == 0x80 && buf[1]&0x7f == 0
	})
}
