package soak

import (
	"bytes"
	"encoding/json"
)

// finalStates are the call states of the headless contract after which a
// call is over.
var finalStates = map[string]bool{"terminated": true, "cancelled": true, "failed": true}

// Active counts the calls up in a stream of the headless modes' JSON-lines
// events (teaphone answer --events jsonl): a call is up from its first
// "call" event until one in a final state. Feed it the stream in pieces of
// any size.
type Active struct {
	up   map[string]bool
	rest []byte // an incomplete last line
}

// NewActive returns a counter with no call up.
func NewActive() *Active { return &Active{up: make(map[string]bool)} }

// Feed reads more of the stream.
func (a *Active) Feed(b []byte) {
	a.rest = append(a.rest, b...)
	for {
		i := bytes.IndexByte(a.rest, '\n')
		if i < 0 {
			break
		}
		a.line(a.rest[:i])
		a.rest = a.rest[i+1:]
	}
	a.rest = bytes.Clone(a.rest) // do not pin what was read
}

var callMark = []byte(`"event":"call"`)

func (a *Active) line(l []byte) {
	if !bytes.Contains(l, callMark) {
		return
	}
	var ev struct {
		CallID string `json:"call_id"`
		State  string `json:"state"`
	}
	if json.Unmarshal(l, &ev) != nil || ev.CallID == "" {
		return
	}
	if finalStates[ev.State] {
		delete(a.up, ev.CallID)
	} else {
		a.up[ev.CallID] = true
	}
}

// Count is the number of calls up.
func (a *Active) Count() int { return len(a.up) }
