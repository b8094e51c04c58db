package sessions_test

import (
	"fmt"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

func ExampleParseDisplayName() {
	for _, h := range []string{
		`"Alice \"Al\" Smith" <sip:alice@example.com>;tag=1`,
		`Bob Jones <sip:bob@example.com>`,
		`sip:carol@example.com;tag=2`,
	} {
		d, u := sessions.ParseDisplayName(h)
		fmt.Printf("%q %q\n", d, u)
	}
	// Output:
	// "Alice \"Al\" Smith" "sip:alice@example.com"
	// "Bob Jones" "sip:bob@example.com"
	// "" "sip:carol@example.com"
}

func ExampleRules() {
	rules := sessions.Rules{
		Rules: []sessions.Rule{
			{Match: "*@spam.example", Policy: sessions.Policy{Action: sessions.ActionReject, Code: 603}},
			{Match: "sip:100@*", Policy: sessions.Policy{Action: sessions.ActionAccept, Delay: 2 * time.Second}},
		},
		Default: sessions.Policy{Action: sessions.ActionDefer},
	}
	if err := rules.Validate(); err != nil {
		panic(err)
	}
	for _, from := range []string{"sip:bot@spam.example", `"Desk" <sip:100@pbx>`, "sip:friend@example.com"} {
		fmt.Println(rules.Decide(from))
	}
	// Output:
	// reject 603
	// accept after 2s
	// defer
}
