package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestStrangerKeysAndRules: bad [[rules]] and the [sip] keys against
// strangers are errors naming the key and its line.
func TestStrangerKeysAndRules(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string // a leading "@" stands for the file path
	}{
		{"foreign code", "[sip]\nforeign_uri_code = 486\n", `@:2: sip.foreign_uri_code: want 404 (Not Found) or 403 (Forbidden), got 486`},
		{"rate negative", "[sip]\nmax_new_calls_per_s = -1\n", `@:2: sip.max_new_calls_per_s: want 0 (no limit) or 1..1000, got -1`},
		{"action missing", "[[rules]]\nfrom = \"sip:a@*\"\n", `@:1: rules[0].action: required`},
		{"action unknown", "[[rules]]\naction = \"answer\"\n", `@:2: rules[0].action: want "accept", "reject", "forward", "defer" or "ignore", got "answer"`},
		{"bad from glob", "[[rules]]\naction = \"accept\"\nfrom = \"sip:[a@*\"\n", `@:3: rules[0].from: want a glob`},
		{"bad to glob", "[[rules]]\naction = \"accept\"\n\nto = \"[\"\n", `@:4: rules[0].to: want a glob`},
		{"second rule", "[[rules]]\naction = \"defer\"\n[[rules]]\naction = \"reject\"\ncode = 200\n", `@:5: rules[1].code: want a final status 400..699`},
		{"code on accept", "[[rules]]\naction = \"accept\"\ncode = 486\n", `@:3: rules[0].code: only used with action = "reject", not "accept"`},
		{"delay on reject", "[[rules]]\naction = \"reject\"\ndelay = \"2s\"\n", `@:3: rules[0].delay: only used with action = "accept"`},
		{"negative delay", "[[rules]]\naction = \"accept\"\ndelay = \"-2s\"\n", `@:3: rules[0].delay: want 0s..1h`},
		{"forward without target", "[[rules]]\naction = \"forward\"\n", `@:1: rules[0].target: required with action = "forward"`},
		{"target on defer", "[[rules]]\naction = \"defer\"\ntarget = \"sip:a@b\"\n", `@:3: rules[0].target: only used with action = "forward"`},
		{"bad target", "[[rules]]\naction = \"forward\"\ntarget = \"http://x\"\n", `@:3: rules[0].target: want a SIP URI or a number`},
		{"bad display glob", "[[rules]]\naction = \"accept\"\ndisplay = \"[\"\n", `@:3: rules[0].display: want a glob`},
		{"bad subject glob", "[[rules]]\naction = \"accept\"\nsubject = \"[x\"\n", `@:3: rules[0].subject: want a glob`},
		{"bad account glob", "[[rules]]\naction = \"accept\"\naccount = \"[\"\n", `@:3: rules[0].account: want a glob`},
		{"header one string", "[[rules]]\naction = \"accept\"\nheader = [\"X-A\"]\n", `@:3: rules[0].header: want ["Name", "pattern"]`},
		{"header bad regexp", "[[rules]]\naction = \"accept\"\n\nheader = [\"X-A\", \"re:(a\"]\n", `@:4: rules[0].header: bad regexp "(a"`},
		{"header bad name", "[[rules]]\naction = \"accept\"\nheader = [\"X A\", \"*\"]\n", `@:3: rules[0].header: want a header name`},
		{"bad hours", "[[rules]]\naction = \"accept\"\nhours = \"18-08\"\n", `@:3: rules[0].hours: want a time HH:MM`},
		{"all-day hours", "[[rules]]\naction = \"accept\"\nhours = \"08:00-08:00\"\n", `@:3: rules[0].hours: "08:00-08:00" is every hour`},
		{"bad weekday", "[[rules]]\naction = \"accept\"\nweekdays = [\"sat\",\n \"sonntag\"]\n", `@:4: rules[0].weekdays[1]: want a weekday`},
		{"empty weekdays", "[[rules]]\naction = \"accept\"\nweekdays = []\n", `@:3: rules[0].weekdays: empty`},
		{"unknown zone", "[[rules]]\naction = \"accept\"\nhours = \"18:00-08:00\"\ntimezone = \"Mars/Olympus\"\n", `@:4: rules[0].timezone: unknown time zone "Mars/Olympus"`},
		{"zone without window", "[[rules]]\naction = \"accept\"\ntimezone = \"UTC\"\n", `@:3: rules[0].timezone: only used with hours or weekdays`},
		{"in_contacts without contacts", "[[rules]]\naction = \"accept\"\nin_contacts = true\n", `@:3: rules[0].in_contacts: true, but there are no [[contacts]]`},
		{"delay_from_header on reject", "[[rules]]\naction = \"reject\"\ndelay_from_header = true\n", `@:3: rules[0].delay_from_header: only used with action = "accept"`},
		{"timeout on accept", "[[rules]]\naction = \"accept\"\ntimeout = \"20s\"\n", `@:3: rules[0].timeout: only used with action = "defer"`},
		{"then on ignore", "[[rules]]\naction = \"ignore\"\nthen = \"reject\"\n", `@:3: rules[0].then: only used with action = "defer"`},
		{"code on defer without then", "[[rules]]\naction = \"defer\"\ncode = 480\n", `@:3: rules[0].code: only used with action = "reject" or then = "reject", not action = "defer" without then`},
		{"bad then", "[[rules]]\naction = \"defer\"\nthen = \"ignore\"\n", `@:3: rules[0].then: want "reject", "forward" or "accept", got "ignore"`},
		{"then forward without target", "[[rules]]\naction = \"defer\"\nthen = \"forward\"\n", `@:1: rules[0].target: required with then = "forward"`},
		{"code on defer then forward", "[[rules]]\naction = \"defer\"\nthen = \"forward\"\ntarget = \"sip:vm@x\"\ncode = 480\n", `@:5: rules[0].code: only used with action = "reject" or then = "reject", not then = "forward"`},
		{"negative timeout", "[[rules]]\naction = \"defer\"\ntimeout = \"-1s\"\n", `@:3: rules[0].timeout: want 0s..1h`},
		{"CRLF in reason", "[[rules]]\naction = \"reject\"\nreason = \"No\\r\\nX: 1\"\n", `@:3: rules[0].reason: must not contain CR, LF`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			err = cfg.Validate()
			want := tt.want
			if strings.HasPrefix(want, "@") {
				want = path + want[1:]
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Validate = %v\nwant it to contain\n%s", err, want)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key == "" || ce.Line == 0 {
				t.Errorf("errors.As(*Error) = %+v, want a key and a line", ce)
			}
		})
	}
}

func TestStrangerKeysLoad(t *testing.T) {
	cfg, err := Load(writeConfig(t, `[sip]
accept_direct = false
foreign_uri_code = 403
max_new_calls_per_s = 0

[[rules]]
from = "sip:alice@*"
action = "accept"
delay = "2s"

[[rules]]
to = "sip:home@*"
action = "reject"
code = 603
reason = "Decline"
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.SIP.AcceptDirect == nil || *cfg.SIP.AcceptDirect || cfg.SIP.ForeignURICode != 403 || cfg.SIP.NewCallRate != 0 {
		t.Errorf("sip = %+v", cfg.SIP)
	}
	want := []Rule{
		{From: "sip:alice@*", Action: RuleAccept, Delay: Duration{2 * time.Second}},
		{To: "sip:home@*", Action: RuleReject, Code: 603, Reason: "Decline"},
	}
	if !reflect.DeepEqual(cfg.Rules, want) {
		t.Errorf("rules = %+v, want %+v", cfg.Rules, want)
	}
	if d := Default(); d.SIP.AcceptDirect != nil || d.SIP.ForeignURICode != 404 || d.SIP.NewCallRate != 5 {
		t.Errorf("defaults: %+v", d.SIP)
	}
}

// TestNewRuleKeysLoad: every match key and the defer keys decode, validate
// and keep their lines.
func TestNewRuleKeysLoad(t *testing.T) {
	cfg, err := Load(writeConfig(t, `[[contacts]]
uri = "sip:bob@example.com"

[[rules]]
display = "*bob*"
subject = "hello*"
account = ""
header = ["X-Priority", "re:^urgent"]
hours = "18:00-08:00"
weekdays = ["fri", "Sat"]
timezone = "Europe/Berlin"
in_contacts = true
action = "defer"
timeout = "20s"
then = "reject"
code = 480

[[rules]]
auto_answer_header = true
action = "accept"
delay_from_header = true
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := cfg.Rules[0]
	if r.Account == nil || *r.Account != "" || r.InContacts == nil || !*r.InContacts || len(r.Header) != 2 ||
		r.Timeout.Duration != 20*time.Second || r.Then != RuleReject || r.EffectiveAction() != RuleReject {
		t.Errorf("rules[0] = %+v", r)
	}
	if !cfg.Rules[1].AutoAnswerHeader || !cfg.Rules[1].DelayFromHeader {
		t.Errorf("rules[1] = %+v", cfg.Rules[1])
	}
	if l0, l1, l2 := cfg.RuleLine(0), cfg.RuleLine(1), cfg.RuleLine(2); l0 != 4 || l1 != 18 || l2 != 0 {
		t.Errorf("RuleLine = %d, %d, %d; want 4, 18, 0", l0, l1, l2)
	}
}
