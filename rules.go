package main

import (
	"fmt"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// configRules are the [[rules]] of cfg as the session manager takes them;
// the mode adds its default.
func configRules(cfg config.Config) ([]sessions.Rule, error) {
	var out []sessions.Rule
	for i, r := range cfg.Rules {
		action, err := sessions.ParseAction(r.Action)
		if err != nil {
			return nil, fmt.Errorf("rules[%d]: %w", i, err)
		}
		out = append(out, sessions.Rule{Match: r.From, To: r.To, Policy: sessions.Policy{
			Action: action, Delay: r.Delay.Duration, Code: r.Code, Reason: r.Reason, Target: r.Target,
		}})
	}
	if err := (sessions.Rules{Rules: out}).Validate(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return out, nil
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
// own (it sets no others), and for answer mode 503 (try again) until it
// has set its rules and follows its calls; dial mode keeps deferring as
// before.
func startRules(mode string, configured []sessions.Rule) sessions.Rules {
	switch mode {
	case "tui":
		return tuiRules(configured)
	case "answer":
		return sessions.RejectAll(503)
	}
	return sessions.DeferAll()
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
