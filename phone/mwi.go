package phone

import (
	"errors"
	"strconv"
	"strings"
)

// MessageCount is one "<media>-Message: new/old (urgent_new/urgent_old)"
// line of a message-summary body (RFC 3842 §5.2).
type MessageCount struct {
	New, Old             int
	UrgentNew, UrgentOld int
}

// MessageSummary is a parsed application/simple-message-summary body.
type MessageSummary struct {
	Waiting bool
	Account string // Message-Account, "" if absent
	// Counts is keyed by the lower-case message context class: "voice",
	// "fax", "pager", "multimedia", "text" or "none" (RFC 3458 §4.2;
	// others are kept as they come).
	Counts map[string]MessageCount
}

// errMessageSummary is returned for a body that is not a message summary.
var errMessageSummary = errors.New("bad message-summary body")

// maxSummaryCount bounds a count, so that a hostile body cannot overflow.
const maxSummaryCount = 1 << 24

// ParseMessageSummary reads a message-summary body (RFC 3842 §5.2). The
// Messages-Waiting line is required; Message-Account and the message count
// lines are optional, other lines (optional message headers, §5.2's
// extension) are skipped. A malformed count line is an error.
func ParseMessageSummary(body []byte) (MessageSummary, error) {
	var s MessageSummary
	seen := false
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			// Optional message headers follow after a blank line
			// and may hold anything; a line without a colon is
			// skipped rather than failing the whole body.
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		switch {
		case name == "messages-waiting":
			switch strings.ToLower(value) {
			case "yes":
				s.Waiting = true
			case "no":
				s.Waiting = false
			default:
				return MessageSummary{}, errMessageSummary
			}
			seen = true
		case name == "message-account":
			s.Account = value
		case strings.HasSuffix(name, "-message") && len(name) > len("-message"):
			c, err := parseMessageCount(value)
			if err != nil {
				return MessageSummary{}, err
			}
			if s.Counts == nil {
				s.Counts = map[string]MessageCount{}
			}
			s.Counts[strings.TrimSuffix(name, "-message")] = c
		}
	}
	if !seen {
		return MessageSummary{}, errMessageSummary
	}
	return s, nil
}

// parseMessageCount reads "new/old" with an optional "(urgent_new/urgent_old)".
func parseMessageCount(v string) (MessageCount, error) {
	var c MessageCount
	pair, urgent, hasUrgent := strings.Cut(v, "(")
	var err error
	if c.New, c.Old, err = parsePair(pair); err != nil {
		return MessageCount{}, err
	}
	if hasUrgent {
		inner, ok := strings.CutSuffix(strings.TrimSpace(urgent), ")")
		if !ok {
			return MessageCount{}, errMessageSummary
		}
		if c.UrgentNew, c.UrgentOld, err = parsePair(inner); err != nil {
			return MessageCount{}, err
		}
	}
	return c, nil
}

func parsePair(v string) (int, int, error) {
	a, b, ok := strings.Cut(v, "/")
	if !ok {
		return 0, 0, errMessageSummary
	}
	x, err1 := parseCount(a)
	y, err2 := parseCount(b)
	if err1 != nil || err2 != nil {
		return 0, 0, errMessageSummary
	}
	return x, y, nil
}

func parseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 8 {
		return 0, errMessageSummary
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, errMessageSummary
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > maxSummaryCount {
		return 0, errMessageSummary
	}
	return n, nil
}
