package phone

import (
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// MWIEvent reports the message-waiting state of an account (RFC 3842),
// from a NOTIFY with Event: message-summary, solicited or not (Asterisk
// sends them without a subscription).
type MWIEvent struct {
	Time    time.Time
	Account string // our account's name
	Waiting bool   // Messages-Waiting: yes
	// New, Old, UrgentNew and UrgentOld are the voice message counts, 0
	// when the summary has no Voice-Message line.
	New, Old, UrgentNew, UrgentOld int
	// MessageAccount is the summary's Message-Account (the voicemail
	// URI), "" if absent.
	MessageAccount string
}

// EventTime implements Event.
func (e MWIEvent) EventTime() time.Time { return e.Time }

// eventPackage is the package of a request's Event header, lower case,
// without parameters; "" if there is none.
func eventPackage(req *sip.Request) string {
	h := req.GetHeader("Event")
	if h == nil {
		if h = req.GetHeader("o"); h == nil { // compact form (RFC 6665 §8.2.1)
			return ""
		}
	}
	return strings.ToLower(strings.TrimSpace(strings.SplitN(h.Value(), ";", 2)[0]))
}

// onNotifyRequest takes every NOTIFY: a message summary whatever its
// dialog, a NOTIFY of a dialog (or naming one, To tag set) through the
// dialog routing, and an out-of-dialog NOTIFY of any other package is 489
// Bad Event (RFC 6665 §8.2.1: the package is not one we understand).
func (p *Phone) onNotifyRequest() func(req *sip.Request, tx sip.ServerTransaction) {
	routed := p.routed(p.onNotify)
	return func(req *sip.Request, tx sip.ServerTransaction) {
		ev := eventPackage(req)
		if ev == "message-summary" {
			p.onMessageSummary(req, tx)
			return
		}
		_, tagged := req.To().Params.Get("tag")
		if ev != "refer" && ev != "" && !tagged && p.findDialog(req) == nil {
			respond(tx, req, 489, "Bad Event")
			return
		}
		routed(req, tx)
	}
}

// onMessageSummary answers a message-summary NOTIFY and reports it: 481
// when it is for none of our accounts, 400 for a body that is not a
// summary, 200 alone for an empty body, else 200 and an MWIEvent.
func (p *Phone) onMessageSummary(req *sip.Request, tx sip.ServerTransaction) {
	a := p.matchAccount(req)
	if a == nil {
		a = p.accountOfTo(req)
	}
	if a == nil {
		respond(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	// RFC 6665 §4.1.3: "terminated" ends our subscription (if it is
	// ours); the mailbox loop subscribes again as its reason says.
	if h := req.GetHeader("Subscription-State"); h != nil {
		if st := parseSubState(h.Value()); st.state == "terminated" {
			a.mailbox.terminated(req.CallID().Value(), st)
		}
	}
	if len(strings.TrimSpace(string(req.Body()))) == 0 {
		// A NOTIFY of a pending or terminated subscription may carry
		// no state (RFC 6665 §4.1.3): nothing to report.
		respond(tx, req, 200, "OK")
		return
	}
	s, err := ParseMessageSummary(req.Body())
	if err != nil {
		respond(tx, req, 400, "Bad Request (message-summary)")
		return
	}
	respond(tx, req, 200, "OK")
	voice := s.Counts["voice"]
	p.emit(MWIEvent{
		Time: time.Now(), Account: a.cfg.Name, Waiting: s.Waiting,
		New: voice.New, Old: voice.Old, UrgentNew: voice.UrgentNew, UrgentOld: voice.UrgentOld,
		MessageAccount: sanitizeWarning(s.Account),
	})
}

// accountOfTo finds the account whose AOR the To header names: an
// unsolicited NOTIFY may be addressed to the AOR rather than our Contact.
func (p *Phone) accountOfTo(req *sip.Request) *account {
	to := req.To()
	if to == nil {
		return nil
	}
	for _, a := range p.accounts {
		if strings.EqualFold(a.aor.User, to.Address.User) && sameHostPort(a.aor, to.Address) {
			return a
		}
	}
	return nil
}
