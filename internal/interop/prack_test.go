package interop

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/phone"
)

// Reliable provisional responses (RFC 3262) against a scripted peer:
// baresip 1.0 (libre 1.1.0) has no 100rel at all — no account parameter,
// no PRACK, not even the strings in its binaries — so a sipgo peer with its
// own PCMU tone plays the side that requires it.

// TestPrackToCalleeRequiring100rel: teaphone calls a peer that answers
// 183 with SDP, Require: 100rel and RSeq, and only answers 200 once that
// 183 is PRACKed (RAck: RSeq, the INVITE's CSeq, INVITE). The call
// connects and the two tones arrive each way (early media from the 183
// already flows).
func TestPrackToCalleeRequiring100rel(t *testing.T) {
	media := newRTPTone(t, 660)
	pracked := make(chan *sip.Request, 1)
	sp := startScriptPeer(t, func(sp *scriptPeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			sp.record(req)
			if !hasTag(req, "Supported", "100rel") && !hasTag(req, "Require", "100rel") {
				_ = sp.respond(tx, req, 421, "Extension Required", nil, sip.NewHeader("Require", "100rel"))
				return
			}
			media.sendTo(t, req.Body())
			_ = sp.respond(tx, req, 183, "Session Progress", media.sdp(),
				sip.NewHeader("Require", "100rel"), sip.NewHeader("RSeq", "4711"))
			select {
			case <-pracked:
			case <-time.After(5 * time.Second):
				_ = sp.respond(tx, req, 504, "No PRACK", nil)
				return
			}
			_ = sp.respond(tx, req, 200, "OK", media.sdp())
			select {
			case <-tx.Acks():
			case <-time.After(5 * time.Second):
			}
		})
		srv.OnPrack(func(req *sip.Request, tx sip.ServerTransaction) {
			sp.record(req)
			_ = sp.respond(tx, req, 200, "OK", nil)
			select {
			case pracked <- req:
			default:
			}
		})
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { sp.record(req) })
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			sp.record(req)
			_ = sp.respond(tx, req, 200, "OK", nil)
		})
	})
	au := &sineAudio{hz: 440}
	ph := startPhone(t, phone.Options{Audio: au})
	pm := ph.mark()
	id, err := ph.Dial(context.Background(), "sip:rel@"+sp.addr, phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ph.waitCall(pm, id, phone.StateActive, waitShort)
	inv := sp.requests(sip.INVITE)[0]
	pr := sp.requests(sip.PRACK)
	if len(pr) != 1 {
		t.Fatalf("%d PRACKs, want 1", len(pr))
	}
	want := fmt.Sprintf("4711 %d INVITE", inv.CSeq().SeqNo)
	if h := pr[0].GetHeader("RAck"); h == nil || h.Value() != want {
		t.Errorf("PRACK RAck %v, want %q", h, want)
	}
	time.Sleep(2 * time.Second)
	if err := ph.Hangup(id); err != nil {
		t.Fatal(err)
	}
	ph.waitFinal(pm, id, waitShort)
	checkTone(t, "scripted callee hears teaphone", media.received(), 440, 1.5)
	checkTone(t, "teaphone hears the scripted callee", au.received(), 660, 1.5)
}

// TestReliable180ToCallerRequiring100rel: a scripted caller whose INVITE
// requires 100rel gets teaphone's 180 with Require: 100rel and RSeq,
// retransmitted until the caller PRACKs it (RFC 3262 §3); teaphone answers
// the PRACK 200, the call is accepted and the tones flow both ways.
func TestReliable180ToCallerRequiring100rel(t *testing.T) {
	media := newRTPTone(t, 660)
	sp := startScriptPeer(t, func(sp *scriptPeer, srv *sipgo.Server) {
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			sp.record(req)
			_ = sp.respond(tx, req, 200, "OK", nil)
		})
	})
	au := &sineAudio{hz: 440}
	h := newCallHandler(phone.Defer(0))
	ph := startPhone(t, phone.Options{Audio: au, Handler: h})
	pm := ph.mark()

	dua := sipgo.DialogUA{Client: sp.cli, ContactHDR: *sp.contact("caller")}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	port, _ := strconv.Atoi(ph.LocalAddr()[len("127.0.0.1:"):])
	cs, err := dua.Invite(ctx, sip.Uri{Scheme: "sip", User: "dave", Host: "127.0.0.1", Port: port}, media.sdp(),
		sip.NewHeader("Content-Type", "application/sdp"), sip.NewHeader("Require", "100rel"), sip.NewHeader("Supported", "100rel"))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	var reliable []*sip.Response
	var pracks []*sip.Response
	err = cs.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		if res.StatusCode != 180 || !hasTag(res, "Require", "100rel") {
			return nil
		}
		reliable = append(reliable, res)
		if len(reliable) == 1 {
			// Let teaphone retransmit once before the PRACK, then PRACK
			// and accept.
			return nil
		}
		if len(pracks) == 0 {
			pracks = append(pracks, prack(t, ctx, sp, cs.InviteRequest, res))
			go func() {
				select {
				case c := <-h.calls:
					_ = ph.Accept(c.Session)
				case <-ctx.Done():
				}
			}()
		}
		return nil
	}})
	if err != nil {
		t.Fatalf("INVITE: %v (reliable 180s seen: %d)", err, len(reliable))
	}
	if err := cs.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	if len(reliable) < 2 || reliable[0].GetHeader("RSeq") == nil || reliable[1].GetHeader("RSeq").Value() != reliable[0].GetHeader("RSeq").Value() {
		t.Errorf("want a reliable 180 retransmitted with the same RSeq, got %d", len(reliable))
	}
	if len(pracks) != 1 || pracks[0].StatusCode != 200 {
		t.Fatalf("PRACK answered %v, want 200", pracks)
	}
	media.sendTo(t, cs.InviteResponse.Body())
	ev := ph.waitCall(pm, "", phone.StateActive, waitShort)
	time.Sleep(2 * time.Second)
	if err := ph.Hangup(ev.Session); err != nil {
		t.Fatal(err)
	}
	ph.waitFinal(pm, ev.Session, waitShort)
	checkTone(t, "scripted caller hears teaphone", media.received(), 440, 1.5)
	checkTone(t, "teaphone hears the scripted caller", au.received(), 660, 1.5)
}

// prack sends the PRACK of the reliable provisional res to our INVITE inv
// in its early dialog and returns its final response.
func prack(t *testing.T, ctx context.Context, sp *scriptPeer, inv *sip.Request, res *sip.Response) *sip.Response {
	t.Helper()
	target := inv.Recipient
	if ct := res.Contact(); ct != nil {
		target = ct.Address
	}
	req := sip.NewRequest(sip.PRACK, target)
	req.AppendHeader(sip.HeaderClone(inv.From()))
	req.AppendHeader(sip.HeaderClone(res.To()))
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo + 1, MethodName: sip.PRACK})
	req.AppendHeader(sip.NewHeader("RAck", res.GetHeader("RSeq").Value()+" "+strconv.FormatUint(uint64(inv.CSeq().SeqNo), 10)+" INVITE"))
	pr, err := sp.cli.Do(ctx, req)
	if err != nil {
		t.Errorf("PRACK: %v", err)
		return &sip.Response{}
	}
	return pr
}

// hasTag reports whether a header called name of m lists the option tag.
func hasTag(m interface{ GetHeaders(string) []sip.Header }, name, tag string) bool {
	for _, h := range m.GetHeaders(name) {
		for _, v := range splitTags(h.Value()) {
			if v == tag {
				return true
			}
		}
	}
	return false
}

func splitTags(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		out = append(out, strings.ToLower(strings.TrimSpace(f)))
	}
	return out
}
