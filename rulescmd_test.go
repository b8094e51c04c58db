package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

// TestRulesCommand: teaphone rules test says which rule decides and why,
// for every kind of matcher (golden files; the times carry their zone, the
// rules theirs, so the output does not depend on the machine's).
func TestRulesCommand(t *testing.T) {
	const cfg = "testdata/rules.toml"
	monday := "2026-12-07T10:00:00+01:00"
	tests := []struct {
		name string
		args []string
	}{
		{"alice", []string{"--from", "sip:alice@example.com", "--display", "Alice", "--account", "work", "--at", monday}},
		{"alice_direct", []string{"--from", "sip:alice@example.com", "--display", "Alice", "--account", "", "--at", monday}},
		{"spam", []string{"--from", "sip:robot@spam.example", "--to", "sip:me@example.com", "--at", monday}},
		{"paging", []string{"--from", "sip:door@pbx.example.com", "--header", "Call-Info: <sip:pbx.example.com>;answer-after=3", "--at", monday}},
		{"paging_without_header", []string{"--from", "sip:door@pbx.example.com", "--at", monday}},
		{"contact_urgent", []string{"--from", "sip:bob@example.com", "--header", "Priority: Urgent", "--subject", "server down", "--at", monday}},
		{"contact_not_urgent", []string{"--from", "sip:bob@example.com", "--header", "Priority: normal", "--at", monday}},
		// The Friday 18:00-08:00 window holds Saturday 03:00, not Friday 03:00.
		{"friday_night", []string{"--from", "sip:carol@example.org", "--at", "2026-12-05T03:00:00+01:00"}},
		{"thursday_night", []string{"--from", "sip:carol@example.org", "--at", "2026-12-04T03:00:00+01:00"}},
		{"answer_mode", []string{"--from", "sip:carol@example.org", "--at", monday, "--mode", "answer", "--answer-delay", "1s"}},
		{"json", []string{"--from", "sip:alice@example.com", "--display", "Alice", "--account", "work", "--at", monday, "--json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.RequireEqual(t, []byte(runOut(t, append([]string{"rules", "test", "--config", cfg}, tt.args...)...)))
		})
	}
}

// TestRulesCommandNow: without --at the call comes in now.
func TestRulesCommandNow(t *testing.T) {
	var out, errOut strings.Builder
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	if err := runRulesAt([]string{"test", "--config", "testdata/rules.toml", "--json"}, now, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	if !strings.Contains(out.String(), `"at": "2026-12-06T09:00:00Z"`) {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestRulesCommandErrors: a bad configuration is its error (key and line),
// bad flags are usage errors; both exit 2.
func TestRulesCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.toml"
	writeFile(t, bad, "[[rules]]\naction = \"accept\"\n\nheader = [\"X-A\", \"re:(\"]\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"test", "--config", bad}, bad + `:4: rules[0].header: bad regexp "("`},
		{[]string{"test", "--config", "testdata/rules.toml", "--at", "tomorrow"}, `--at "tomorrow"`},
		{[]string{"test", "--config", "testdata/rules.toml", "--mode", "dial"}, `--mode "dial"`},
		{[]string{"test", "--config", "testdata/rules.toml", "--header", "no colon"}, `want "Name: value"`},
		{[]string{"test", "extra"}, `unexpected argument "extra"`},
		{[]string{"check"}, `want "rules test"`},
		{nil, `want "rules test"`},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		err := run(context.Background(), append([]string{"rules"}, tt.args...), &out, &errOut)
		code := exitCode(err, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("rules %q: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut.String(), tt.want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
