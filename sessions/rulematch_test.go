package sessions

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

func ptr[T any](v T) *T { return &v }

// baseFacts is a call every matcher table starts from.
func baseFacts() CallFacts {
	return CallFacts{
		From: "sip:alice@example.com", Display: "Alice Smith",
		To:      []string{"<sip:me@example.com>;tag=1", "sip:me@10.0.0.1:5060"},
		Subject: "Quarterly numbers", Account: "work",
		Headers: []phone.Header{
			{Name: "Via", Value: "SIP/2.0/UDP 10.0.0.2"},
			{Name: "User-Agent", Value: "baresip v3"},
			{Name: "X-Tag", Value: "first"},
			{Name: "x-tag", Value: "second"},
			{Name: "s", Value: "Quarterly numbers"},
		},
		At: time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC), // a Friday
	}
}

// TestRuleMatchers: every matcher, alone, matching and not, and the reason
// given for the first key that fails.
func TestRuleMatchers(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		name  string
		rule  Rule
		edit  func(*CallFacts)
		match bool
		why   string // a substring of the reason
	}{
		{"no keys", Rule{}, nil, true, "every call"},
		{"from glob", Rule{Match: "sip:alice@*"}, nil, true, `from "sip:alice@*"`},
		{"from without scheme", Rule{Match: "*@EXAMPLE.com"}, nil, true, ""},
		{"from mismatch", Rule{Match: "sip:bob@*"}, nil, false, `from: "sip:alice@example.com" does not match "sip:bob@*"`},
		{"to header", Rule{To: "sip:me@example.com"}, nil, true, `to "sip:me@example.com"`},
		{"to request-uri", Rule{To: "*@10.0.0.1:*"}, nil, true, ""},
		{"to mismatch", Rule{To: "sip:home@*"}, nil, false, `to: "sip:me@example.com", "sip:me@10.0.0.1:5060" does not match`},
		{"display", Rule{Display: "alice*"}, nil, true, `display "alice*"`},
		{"display mismatch", Rule{Display: "bob*"}, nil, false, `display: "Alice Smith" does not match "bob*"`},
		{"display missing", Rule{Display: "?*"}, func(f *CallFacts) { f.Display = "" }, false, `display: ""`},
		{"subject", Rule{Subject: "*NUMBERS"}, nil, true, ""},
		{"subject mismatch", Rule{Subject: "urgent*"}, nil, false, "subject:"},
		{"account exact", Rule{Account: ptr("work")}, nil, true, `account "work"`},
		{"account glob", Rule{Account: ptr("w*")}, nil, true, ""},
		{"account mismatch", Rule{Account: ptr("home")}, nil, false, `account: "work" does not match "home"`},
		{"account direct", Rule{Account: ptr("")}, func(f *CallFacts) { f.Account = "" }, true, `account ""`},
		{"account direct mismatch", Rule{Account: ptr("")}, nil, false, "not a direct call"},
		{"header glob", Rule{Headers: []HeaderMatch{{"user-agent", "baresip*"}}}, nil, true, "header user-agent"},
		{"header any value", Rule{Headers: []HeaderMatch{{"X-Tag", "second"}}}, nil, true, ""},
		{"header compact name", Rule{Headers: []HeaderMatch{{"Subject", "quarterly*"}}}, nil, true, ""},
		{"header long for compact", Rule{Headers: []HeaderMatch{{"s", "Quarterly*"}}}, func(f *CallFacts) {
			f.Headers = []phone.Header{{Name: "Subject", Value: "Quarterly numbers"}}
		}, true, ""},
		{"header list element", Rule{Headers: []HeaderMatch{{"Allow", "refer"}}}, func(f *CallFacts) {
			f.Headers = append(f.Headers, phone.Header{Name: "Allow", Value: "INVITE, ACK, REFER"})
		}, true, ""},
		{"header missing", Rule{Headers: []HeaderMatch{{"X-Missing", "*"}}}, nil, false, "header X-Missing: missing"},
		{"header mismatch", Rule{Headers: []HeaderMatch{{"X-Tag", "third"}}}, nil, false, `"first", "second" does not match "third"`},
		{"header regexp", Rule{Headers: []HeaderMatch{{"User-Agent", "re:^baresip v[0-9]+$"}}}, nil, true, ""},
		{"header regexp part", Rule{Headers: []HeaderMatch{{"User-Agent", "re:resip"}}}, nil, true, ""},
		{"header regexp case", Rule{Headers: []HeaderMatch{{"User-Agent", "re:^BARESIP"}}}, nil, false, ""},
		{"header regexp (?i)", Rule{Headers: []HeaderMatch{{"User-Agent", "re:(?i)^BARESIP"}}}, nil, true, ""},
		{"glob star spans slashes", Rule{Subject: "q3*q4"}, func(f *CallFacts) { f.Subject = "Q3/Q4" }, true, ""},
		{"two headers", Rule{Headers: []HeaderMatch{{"X-Tag", "first"}, {"Via", "*udp*"}}}, nil, true, ""},
		{"hours", Rule{Window: Window{HasHours: true, Start: 18 * 60, End: 20 * 60, Location: utc}}, nil, true, "hours 18:00-20:00"},
		{"hours end exclusive", Rule{Window: Window{HasHours: true, Start: 17 * 60, End: 19 * 60, Location: utc}}, nil, false, "19:00 UTC is outside hours 17:00-19:00"},
		{"weekdays", Rule{Window: Window{Weekdays: []time.Weekday{time.Friday}, Location: utc}}, nil, true, "weekdays [fri]"},
		{"weekdays mismatch", Rule{Window: Window{Weekdays: []time.Weekday{time.Saturday, time.Sunday}, Location: utc}}, nil, false, "fri is not in weekdays [sat sun]"},
		{"timezone", Rule{Window: Window{HasHours: true, Start: 20 * 60, End: 21 * 60, Location: time.FixedZone("CET", 3600)}}, nil, true, ""},
		{"in contacts", Rule{InContacts: ptr(true), Contacts: []string{"sip:bob@x", "sips:Alice@EXAMPLE.com:5061;transport=tls"}}, func(f *CallFacts) {
			f.From = "sip:Alice@example.com"
		}, true, "in_contacts = true"},
		{"not in contacts", Rule{InContacts: ptr(true), Contacts: []string{"sip:bob@x"}}, nil, false, `"sip:alice@example.com" is not in the contacts`},
		{"in_contacts false", Rule{InContacts: ptr(false), Contacts: []string{"sip:bob@x"}}, nil, true, ""},
		{"in_contacts false mismatch", Rule{InContacts: ptr(false), Contacts: []string{"sip:alice@example.com"}}, nil, false, "is in the contacts"},
		{"auto-answer header", Rule{AutoAnswerHeader: true}, func(f *CallFacts) {
			f.Headers = append(f.Headers, phone.Header{Name: "Call-Info", Value: "<sip:x>;answer-after=3"})
		}, true, "auto_answer_header (Call-Info answer-after=3)"},
		{"auto-answer header missing", Rule{AutoAnswerHeader: true}, nil, false, "asks for no auto-answer"},
		{"all keys", Rule{Match: "sip:alice@*", Display: "alice*", Subject: "quarterly*", Account: ptr("work"),
			Headers: []HeaderMatch{{"User-Agent", "baresip*"}}}, nil, true,
			`from "sip:alice@*", display "alice*", subject "quarterly*", account "work", header User-Agent "baresip*"`},
		{"all keys, one fails", Rule{Match: "sip:alice@*", Display: "alice*", Subject: "other"}, nil, false, "subject:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := baseFacts()
			if tt.edit != nil {
				tt.edit(&f)
			}
			rules := Rules{Rules: []Rule{tt.rule}, Default: Policy{Action: ActionReject}}
			if err := rules.Validate(); err != nil {
				t.Fatal(err)
			}
			ok, why := tt.rule.matches(f)
			if ok != tt.match || !strings.Contains(why, tt.why) {
				t.Errorf("matches = %v, %q; want %v, containing %q", ok, why, tt.match, tt.why)
			}
		})
	}
}

func TestSameAddress(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"sip:alice@example.com", "sip:alice@example.com", true},
		{"sip:alice@example.com", "sip:alice@EXAMPLE.COM", true},
		{"sip:alice@example.com", "sips:alice@example.com", true},
		{"sip:alice@example.com", "sip:alice@example.com:5070", true},
		{"sip:alice@example.com:5060", "sip:alice@example.com:5070", false},
		{"sip:alice@example.com;transport=tcp", "sip:alice@example.com", true},
		{`"Alice" <sip:alice@example.com>;tag=9`, "sip:alice@example.com", true},
		{"sip:alice@example.com", "sip:Alice@example.com", false}, // RFC 3261 §19.1.4: user is case-sensitive
		{"sip:alice@example.com", "sip:bob@example.com", false},
		{"sip:alice@example.com", "sip:alice@example.org", false},
		{"tel:+1-555-0100", "tel:+15550100", true},
		{"tel:+15550100", "sip:+15550100@example.com", false},
		{"", "sip:alice@example.com", false},
		{"garbage", "garbage", false},
	}
	for _, tt := range tests {
		if got := SameAddress(tt.a, tt.b); got != tt.want {
			t.Errorf("SameAddress(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestExplain: the first matching rule decides, with its label and line;
// every rule before it says why it did not; no match is the default.
func TestExplain(t *testing.T) {
	r := Rules{
		Rules: []Rule{
			{Match: "sip:bob@*", Line: 2, Policy: Policy{Action: ActionAccept}},
			{Match: "sip:alice@*", Line: 6, Policy: Policy{Action: ActionAccept, Delay: 2 * time.Second}},
			{Label: "night", Policy: Policy{Action: ActionReject, Code: 403}},
		},
		Default: Policy{Action: ActionDefer},
	}
	v := r.Explain(baseFacts())
	if v.Rule != "rules[1]" || v.Line != 6 || v.Policy.String() != "accept after 2s" || v.Why != `from "sip:alice@*"` {
		t.Errorf("verdict %+v", v)
	}
	want := []RuleResult{
		{Label: "rules[0]", Line: 2, Why: `from: "sip:alice@example.com" does not match "sip:bob@*"`},
		{Label: "rules[1]", Line: 6, Matched: true, Why: `from "sip:alice@*"`},
	}
	if !slices.Equal(v.Results, want) {
		t.Errorf("results %+v\nwant %+v", v.Results, want)
	}
	f := baseFacts()
	f.From = "sip:carol@x"
	if v := r.Explain(f); v.Rule != "night" || v.Policy.Code != 403 || len(v.Results) != 3 {
		t.Errorf("labelled rule: %+v", v)
	}
	r.Rules = r.Rules[:2]
	if v := r.Explain(f); v.Rule != "default" || v.Why != "no rule matched" || v.Policy.Action != ActionDefer || len(v.Results) != 2 {
		t.Errorf("default: %+v", v)
	}
}

// TestDelayFromHeader: an accept rule with DelayFromHeader takes
// answer-after as its delay, else its own Delay.
func TestDelayFromHeader(t *testing.T) {
	r := Rules{Rules: []Rule{{AutoAnswerHeader: true,
		Policy: Policy{Action: ActionAccept, Delay: time.Second, DelayFromHeader: true}}}}
	f := baseFacts()
	f.Headers = []phone.Header{{Name: "Call-Info", Value: "<sip:pbx>;answer-after=5"}}
	if v := r.Explain(f); v.Policy.Delay != 5*time.Second || v.Policy.DelayFromHeader {
		t.Errorf("answer-after=5: %+v", v.Policy)
	}
	f.Headers = []phone.Header{{Name: "Answer-Mode", Value: "Auto"}}
	if v := r.Explain(f); v.Rule != "rules[0]" || v.Policy.Delay != time.Second {
		t.Errorf("Answer-Mode: %+v", v)
	}
	f.Headers = nil
	if v := r.Explain(f); v.Rule != "default" || v.Policy.Action != ActionDefer {
		t.Errorf("no header: %+v", v)
	}
}

// TestRulesValidateNew: bad patterns and misplaced keys of the new matchers
// and actions are ErrInvalidRules.
func TestRulesValidateNew(t *testing.T) {
	accept := Policy{Action: ActionAccept}
	bad := []Rules{
		{Rules: []Rule{{Display: "[", Policy: accept}}},
		{Rules: []Rule{{Subject: "[", Policy: accept}}},
		{Rules: []Rule{{Account: ptr("["), Policy: accept}}},
		{Rules: []Rule{{Headers: []HeaderMatch{{"", "x"}}, Policy: accept}}},
		{Rules: []Rule{{Headers: []HeaderMatch{{"X", "re:("}}, Policy: accept}}},
		{Rules: []Rule{{Headers: []HeaderMatch{{"X", "["}}, Policy: accept}}},
		{Rules: []Rule{{Policy: Policy{Action: ActionReject, DelayFromHeader: true}}}},
		{Default: Policy{Action: ActionDefer, Then: &Policy{Action: ActionIgnore}}},
		{Rules: []Rule{{Window: Window{HasHours: true, Start: 600, End: 600}, Policy: accept}}},
		{Rules: []Rule{{Window: Window{HasHours: true, Start: 0, End: 2000}, Policy: accept}}},
		{Rules: []Rule{{Window: Window{Weekdays: []time.Weekday{9}}, Policy: accept}}},
		{Default: Policy{Action: ActionDefer, Then: &Policy{Action: ActionReject, Code: 200}}},
		{Default: Policy{Action: ActionIgnore, Then: &Policy{Action: ActionReject}}},
		{Default: Policy{Action: ActionDefer, Then: &Policy{Action: ActionDefer, Then: &Policy{Action: ActionReject}}}},
	}
	for i, r := range bad {
		if err := r.Validate(); !errors.Is(err, ErrInvalidRules) {
			t.Errorf("case %d: Validate() = %v, want ErrInvalidRules", i, err)
		}
	}
	good := Rules{Default: Policy{Action: ActionDefer, RingTimeout: time.Second, Then: &Policy{Action: ActionForward, Target: "sip:vm@pbx"}}}
	if err := good.Validate(); err != nil {
		t.Error(err)
	}
	if s := good.Default.String(); s != "defer 1s, then forward sip:vm@pbx" {
		t.Errorf("String() = %q", s)
	}
}

// FuzzRuleMatch: whatever a caller puts in From, the display name and
// any header, matching neither panics nor disagrees with itself.
func FuzzRuleMatch(f *testing.F) {
	f.Add("sip:alice@example.com", "Alice", "X-Tag", "a, <b,c>; d", "a")
	f.Add(`"Bob" <sips:bob@[::1]:5061;transport=tls>`, "", "s", "Q3/Q4", "re:^Q[0-9]")
	f.Add("tel:+1-555-0100", "\x00\xff", "Call-Info", "<sip:x>;answer-after=1", "[")
	f.Fuzz(func(t *testing.T, from, display, name, value, pattern string) {
		facts := CallFacts{From: from, Display: display, Headers: []phone.Header{{Name: name, Value: value}},
			At: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)}
		r := Rules{Rules: []Rule{
			{Match: pattern, Display: pattern, Headers: []HeaderMatch{{Name: name, Pattern: pattern}},
				InContacts: ptr(true), Contacts: []string{from, "sip:alice@example.com"}, AutoAnswerHeader: true,
				Policy: Policy{Action: ActionAccept, DelayFromHeader: true}},
		}}
		v1, v2 := r.Explain(facts), r.Explain(facts)
		if v1.Rule != v2.Rule || v1.Why != v2.Why || v1.Policy.Delay != v2.Policy.Delay {
			t.Fatalf("two verdicts: %+v, %+v", v1, v2)
		}
		if v1.Policy.Delay < 0 || v1.Policy.Delay > maxAnswerAfter {
			t.Fatalf("delay %v", v1.Policy.Delay)
		}
		_ = SameAddress(from, value)
	})
}
