package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

const rulesUsage = `usage: teaphone rules test [flags]

Says which [[rules]] table of the configuration decides a call like the one
described by the flags, and why the tables before it do not: a dry run,
without any network. Exit status 0, or 2 for a bad configuration or flags.

example:
  teaphone rules test --from sip:alice@example.com --header "Subject: hi" --at 2026-12-06T09:00

`

// headerList is a repeatable --header "Name: value" flag.
type headerList []phone.Header

func (h *headerList) String() string { return fmt.Sprint(len(*h)) }

func (h *headerList) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("want \"Name: value\", got %q", s)
	}
	*h = append(*h, phone.Header{Name: name, Value: strings.TrimSpace(value)})
	return nil
}

// rulesFlags are the flags of `teaphone rules test`.
type rulesFlags struct {
	config, from, to, display, subject, account, at, mode string
	headers                                               headerList
	accountSet, json                                      bool
	answerDelay                                           time.Duration
	reject                                                int
}

func parseRulesFlags(args []string, stderr io.Writer) (rulesFlags, error) {
	var f rulesFlags
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprint(stderr, rulesUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return f, flag.ErrHelp
		}
		return f, usageError{errors.New(`rules: want "rules test"`)}
	}
	fs := flag.NewFlagSet("teaphone rules test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, rulesUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.config, "config", "", "config file (default "+config.DefaultPath()+")")
	fs.StringVar(&f.from, "from", "", "the caller's URI, e.g. sip:alice@example.com")
	fs.StringVar(&f.to, "to", "", "the called URI (To header / Request-URI)")
	fs.StringVar(&f.display, "display", "", "the caller's display name")
	fs.StringVar(&f.subject, "subject", "", "the Subject header")
	fs.StringVar(&f.account, "account", "", "the account the call comes in on (default: a direct call)")
	fs.Var(&f.headers, "header", `a header of the INVITE, "Name: value" (repeatable)`)
	fs.StringVar(&f.at, "at", "", "when the call comes in: 2026-12-06T09:00, or RFC 3339 with a zone (default now, local time)")
	fs.StringVar(&f.mode, "mode", "tui", "whose default applies when no rule matches: tui (ask) or answer")
	fs.DurationVar(&f.answerDelay, "answer-delay", 0, "answer mode: its --answer-delay (the default accepts after it)")
	fs.IntVar(&f.reject, "reject", 0, "answer mode: its --reject CODE (the default rejects with it)")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of a table")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	fs.Visit(func(fl *flag.Flag) { f.accountSet = f.accountSet || fl.Name == "account" })
	switch {
	case fs.NArg() > 0:
		return f, usageError{fmt.Errorf("rules test: unexpected argument %q", fs.Arg(0))}
	case f.mode != "tui" && f.mode != "answer":
		return f, usageError{fmt.Errorf("rules test: --mode %q: want tui or answer", f.mode)}
	case f.reject != 0 && (f.reject < 400 || f.reject > 699):
		return f, usageError{fmt.Errorf("rules test: --reject %d: want 400..699", f.reject)}
	}
	return f, nil
}

// parseAt parses --at: RFC 3339, or without seconds and/or zone (then in
// local time).
func parseAt(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("rules test: --at %q: want 2026-12-06T09:00 or RFC 3339 (2026-12-06T09:00:00+01:00)", s)
}

// ruleReport is the output of `teaphone rules test`.
type ruleReport struct {
	Call     ruleReportCall `json:"call"`
	Rules    []ruleLine     `json:"rules"`
	Rule     string         `json:"rule"`
	Line     int            `json:"line,omitempty"`
	Why      string         `json:"why"`
	Decision string         `json:"decision"`
	Action   string         `json:"action"`
}

type ruleReportCall struct {
	From    string   `json:"from"`
	To      string   `json:"to,omitempty"`
	Display string   `json:"display,omitempty"`
	Subject string   `json:"subject,omitempty"`
	Account string   `json:"account,omitempty"`
	Headers []string `json:"headers,omitempty"`
	At      string   `json:"at"`
}

// ruleLine is one rule: whether it matches the call on its own, and
// whether it was reached (no rule before it matched).
type ruleLine struct {
	sessions.RuleResult
	Reached bool `json:"reached"`
}

// runRules is `teaphone rules test`.
func runRules(args []string, stdout, stderr io.Writer) error {
	return runRulesAt(args, time.Now(), stdout, stderr)
}

func runRulesAt(args []string, now time.Time, stdout, stderr io.Writer) error {
	f, err := parseRulesFlags(args, stderr)
	if err != nil {
		return err
	}
	at, err := parseAt(f.at, now)
	if err != nil {
		return usageError{err}
	}
	cfg, err := loadConfig(common{config: f.config})
	if err != nil {
		return usageError{err}
	}
	configured, err := configRules(cfg)
	if err != nil {
		return usageError{err}
	}
	rules := startRules("tui", configured)
	if f.mode == "answer" {
		rules = sessions.AcceptAll(f.answerDelay)
		if f.reject > 0 {
			rules = sessions.RejectAll(f.reject)
		}
		rules.Rules = configured
	}
	facts := rulesFacts(f, at)
	v := rules.Explain(facts)
	rep := ruleReport{Rule: v.Rule, Line: v.Line, Why: v.Why, Decision: v.Policy.String(), Action: v.Policy.Action.String()}
	rep.Call = ruleReportCall{From: f.from, To: f.to, Display: f.display, Subject: f.subject, At: at.Format(time.RFC3339)}
	if f.accountSet {
		rep.Call.Account = f.account
	}
	for _, h := range f.headers {
		rep.Call.Headers = append(rep.Call.Headers, h.Name+": "+h.Value)
	}
	for i, r := range configured {
		one := sessions.Rules{Rules: []sessions.Rule{r}}.Explain(facts).Results[0]
		rep.Rules = append(rep.Rules, ruleLine{RuleResult: one, Reached: i < len(v.Results)})
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printRuleReport(stdout, rep, f.accountSet)
}

// rulesFacts is the call the flags describe, with the headers a real
// INVITE would carry (From, To, Subject) unless given.
func rulesFacts(f rulesFlags, at time.Time) sessions.CallFacts {
	facts := sessions.CallFacts{From: f.from, Display: f.display, Subject: f.subject, At: at}
	if f.accountSet {
		facts.Account = f.account
	}
	if f.to != "" {
		facts.To = []string{f.to}
	}
	has := func(names ...string) bool {
		for _, h := range f.headers {
			for _, n := range names {
				if strings.EqualFold(h.Name, n) {
					return true
				}
			}
		}
		return false
	}
	var hs []phone.Header
	if f.from != "" && !has("From", "f") {
		hs = append(hs, phone.Header{Name: "From", Value: "<" + f.from + ">"})
	}
	if f.to != "" && !has("To", "t") {
		hs = append(hs, phone.Header{Name: "To", Value: "<" + f.to + ">"})
	}
	if f.subject != "" && !has("Subject", "s") {
		hs = append(hs, phone.Header{Name: "Subject", Value: f.subject})
	}
	facts.Headers = append(hs, f.headers...)
	if facts.Subject == "" {
		for _, h := range f.headers {
			if strings.EqualFold(h.Name, "Subject") || strings.EqualFold(h.Name, "s") {
				facts.Subject = h.Value
				break
			}
		}
	}
	return facts
}

// printRuleReport prints the report for people.
func printRuleReport(w io.Writer, rep ruleReport, accountSet bool) error {
	c := rep.Call
	call := "call from " + orNone(c.From)
	if c.Display != "" {
		call += fmt.Sprintf(" (%q)", c.Display)
	}
	if c.To != "" {
		call += " to " + c.To
	}
	if accountSet {
		if c.Account == "" {
			call += ", direct"
		} else {
			call += ", account " + c.Account
		}
	}
	fmt.Fprintln(w, call)
	at := rep.Call.At
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		at = t.Format("Mon ") + at
	}
	fmt.Fprintln(w, "  at "+at)
	if c.Subject != "" {
		fmt.Fprintln(w, "  subject "+c.Subject)
	}
	for _, h := range c.Headers {
		fmt.Fprintln(w, "  header "+h)
	}
	fmt.Fprintln(w)
	if len(rep.Rules) == 0 {
		fmt.Fprintln(w, "no [[rules]]")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rep.Rules {
		line := ""
		if r.Line > 0 {
			line = fmt.Sprintf("line %d", r.Line)
		}
		state := "no match"
		switch {
		case r.Matched && r.Reached:
			state = "MATCH"
		case r.Matched:
			state = "match (not reached)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Label, line, state, r.Why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	who := rep.Rule
	if rep.Line > 0 {
		who += fmt.Sprintf(" (line %d)", rep.Line)
	}
	if rep.Rule == "default" {
		who = "the default (" + rep.Why + ")"
	}
	_, err := fmt.Fprintf(w, "\ndecided by %s: %s\n", who, rep.Decision)
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
