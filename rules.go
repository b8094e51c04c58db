package main

import (
	"fmt"
	"time"
	// Rules name IANA time zones (timezone = "Europe/Berlin"): the binary
	// carries the database for systems without one.
	_ "time/tzdata"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/internal/rulesyntax"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// configRules are the [[rules]] of cfg as the session manager takes them;
// the mode adds its default. Each is labelled "rules[i]" (as configuration
// errors name it) with the line of its table.
func configRules(cfg config.Config) ([]sessions.Rule, error) {
	var contacts []string
	for _, c := range cfg.Contacts {
		contacts = append(contacts, c.URI)
	}
	var out []sessions.Rule
	for i, r := range cfg.Rules {
		rule, err := configRule(r, contacts)
		if err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
		rule.Label, rule.Line = fmt.Sprintf("rules[%d]", i), cfg.RuleLine(i)
		out = append(out, rule)
	}
	if err := (sessions.Rules{Rules: out}).Validate(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return out, nil
}

// configRule converts one [[rules]] table.
func configRule(r config.Rule, contacts []string) (sessions.Rule, error) {
	action, err := sessions.ParseAction(r.Action)
	if err != nil {
		return sessions.Rule{}, err
	}
	rule := sessions.Rule{
		Match: r.From, To: r.To, Display: r.Display, Subject: r.Subject, Account: r.Account,
		InContacts: r.InContacts, AutoAnswerHeader: r.AutoAnswerHeader,
		Policy: sessions.Policy{Action: action, Delay: r.Delay.Duration, DelayFromHeader: r.DelayFromHeader,
			Code: r.Code, Reason: r.Reason, Target: r.Target, RingTimeout: r.Timeout.Duration},
	}
	if r.InContacts != nil {
		rule.Contacts = contacts
	}
	if len(r.Header) == 2 {
		rule.Headers = []sessions.HeaderMatch{{Name: r.Header[0], Pattern: r.Header[1]}}
	}
	if r.Hours != "" {
		if rule.Window.Start, rule.Window.End, err = rulesyntax.ParseHours(r.Hours); err != nil {
			return sessions.Rule{}, fmt.Errorf("hours: %w", err)
		}
		rule.Window.HasHours = true
	}
	for _, d := range r.Weekdays {
		wd, err := rulesyntax.ParseWeekday(d)
		if err != nil {
			return sessions.Rule{}, fmt.Errorf("weekdays: %w", err)
		}
		rule.Window.Weekdays = append(rule.Window.Weekdays, wd)
	}
	if r.Timezone != "" {
		if rule.Window.Location, err = time.LoadLocation(r.Timezone); err != nil {
			return sessions.Rule{}, fmt.Errorf("timezone: %w", err)
		}
	}
	if action == sessions.ActionDefer && r.Then != "" {
		// The then-action takes the code, reason and target; a refusal
		// by timeout is 480 Temporarily Unavailable unless code says.
		then, err := sessions.ParseAction(r.Then)
		if err != nil {
			return sessions.Rule{}, fmt.Errorf("then: %w", err)
		}
		p := rule.Policy
		rule.Policy = sessions.Policy{Action: action, RingTimeout: p.RingTimeout,
			Then: &sessions.Policy{Action: then, Code: p.Code, Reason: p.Reason, Target: p.Target}}
		if then == sessions.ActionReject && p.Code == 0 {
			rule.Then.Code = 480
		}
	}
	return rule, nil
}

// tuiRules are the terminal UI's rules: the configured ones, then every
// other call rings until the person decides. Nothing a caller sends
// (Call-Info answer-after, Alert-Info autoanswer) answers a call.
func tuiRules(configured []sessions.Rule) sessions.Rules {
	r := sessions.DeferAll()
	r.Rules = configured
	return r
}

// startRules are the rules from the moment the listeners open: the TUI's
// own (it sets no others); for answer mode 503 (try again) until it has
// set its rules (the configured ones first) and follows its calls; dial
// mode (and any other) the configured rules, then every other call rings
// until a control-socket client decides or the ring times out.
func startRules(mode string, configured []sessions.Rule) sessions.Rules {
	switch mode {
	case "tui":
		return tuiRules(configured)
	case "answer":
		return sessions.RejectAll(503)
	}
	r := sessions.DeferAll()
	r.Rules = configured
	return r
}

// directCalls is sip.accept_direct for the phone: unset leaves it to the
// accounts (phone.DirectAuto).
func directCalls(s config.SIP) phone.DirectCalls {
	switch {
	case s.AcceptDirect == nil:
		return phone.DirectAuto
	case *s.AcceptDirect:
		return phone.DirectAccept
	}
	return phone.DirectRefuse
}
