package config

import (
	"errors"
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
	if len(cfg.Rules) != 2 || cfg.Rules[0] != want[0] || cfg.Rules[1] != want[1] {
		t.Errorf("rules = %+v, want %+v", cfg.Rules, want)
	}
	if d := Default(); d.SIP.AcceptDirect != nil || d.SIP.ForeignURICode != 404 || d.SIP.NewCallRate != 5 {
		t.Errorf("defaults: %+v", d.SIP)
	}
}
