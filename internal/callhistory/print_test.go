package callhistory

import (
	"bytes"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
)

// sample is one call of each kind, newest first.
func sample() []Call {
	return []Call{
		{ID: "6f1c…-in-progress", Direction: "incoming", RemoteURI: "sip:erin@example.com", State: "connected",
			StartedAt: at(7200), AnsweredAt: at(7205), Account: "work", Codec: "opus"},
		{ID: "c3", Direction: "outgoing", RemoteURI: "sip:carol@example.com", State: "failed", StartedAt: at(3600),
			EndedAt: at(3602), EndReason: "Busy Here", EndCode: 486, Account: "home"},
		{ID: "c2", Direction: "incoming", RemoteURI: "sip:alice@example.com", DisplayName: "Alice\x1b[31m", State: "cancelled",
			StartedAt: at(600), EndedAt: at(620), EndReason: "Request Terminated", EndCode: 487, Missed: true, Account: "work"},
		{ID: "c1", Direction: "outgoing", RemoteURI: "sip:bob@example.com", DisplayName: "Bob", State: "terminated",
			StartedAt: at(0), AnsweredAt: at(3), EndedAt: at(3725), EndReason: "remote hangup", EndCode: 200,
			Account: "work", Codec: "PCMU", MOS: 4.31},
	}
}

func TestPrintTable(t *testing.T) {
	var b bytes.Buffer
	if err := PrintTable(&b, sample(), time.UTC); err != nil {
		t.Fatal(err)
	}
	golden.RequireEqual(t, b.Bytes())
}

func TestPrintTableEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := PrintTable(&b, nil, time.UTC); err != nil || b.String() != "no calls\n" {
		t.Errorf("%q, %v", b.String(), err)
	}
}

func TestPrintJSON(t *testing.T) {
	var b bytes.Buffer
	if err := PrintJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	golden.RequireEqual(t, b.Bytes())
}
