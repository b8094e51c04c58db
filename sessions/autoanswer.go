package sessions

import (
	"strconv"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/rulesyntax"
	"github.com/teaphone/teaphone/phone"
)

// maxAnswerAfter caps the delay a caller may ask for with answer-after.
const maxAnswerAfter = time.Hour

// AutoAnswerRequest is what an INVITE's headers ask about answering it by
// itself, found by AutoAnswerHeader.
type AutoAnswerRequest struct {
	// Header names the header that asked ("Call-Info", "Alert-Info",
	// "Answer-Mode", "Priv-Answer-Mode").
	Header string
	// Delay is Call-Info's answer-after (0 otherwise).
	Delay time.Duration
}

// AutoAnswerHeader reports whether the headers ask the callee to answer by
// itself, the way intercom and paging systems do. It only says so: nothing
// answers a call because of it unless a rule with AutoAnswerHeader set
// matches (an opt-in, as baresip PR #783 argued: a caller must not be able
// to open a microphone by asking).
//
// Three forms are recognised, the first found wins:
//
//   - Call-Info: <uri>;answer-after=N (N seconds) — a de-facto extension
//     used by Asterisk, Polycom, Snom and others; no RFC defines it.
//   - Alert-Info: <uri>;info=alert-autoanswer, or any Alert-Info value that
//     says "autoanswer"/"auto-answer" (vendor conventions; RFC 3261 §20.4
//     defines Alert-Info only as a ring tone URI, RFC 7462 its info params).
//   - Answer-Mode: Auto or Priv-Answer-Mode: Auto (RFC 5373 §4.1, §4.2).
//
// Values come from the network: anything malformed is not a request.
func AutoAnswerHeader(headers []phone.Header) (AutoAnswerRequest, bool) {
	for _, h := range headers {
		name := rulesyntax.CanonicalHeader(h.Name)
		switch name {
		case "call-info":
			for _, entry := range splitHeaderList(h.Value) {
				if v, ok := headerParam(entry, "answer-after"); ok {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						continue
					}
					d := maxAnswerAfter
					if n < int(maxAnswerAfter/time.Second) {
						d = time.Duration(n) * time.Second
					}
					return AutoAnswerRequest{Header: "Call-Info", Delay: d}, true
				}
			}
		case "alert-info":
			l := strings.ToLower(h.Value)
			if strings.Contains(l, "autoanswer") || strings.Contains(l, "auto-answer") {
				return AutoAnswerRequest{Header: "Alert-Info"}, true
			}
		case "answer-mode", "priv-answer-mode":
			// RFC 5373 §4.1: answer-mode-value *(SEMI answer-mode-param).
			v, _, _ := strings.Cut(h.Value, ";")
			if strings.EqualFold(strings.TrimSpace(v), "auto") {
				hdr := "Answer-Mode"
				if name == "priv-answer-mode" {
					hdr = "Priv-Answer-Mode"
				}
				return AutoAnswerRequest{Header: hdr}, true
			}
		}
	}
	return AutoAnswerRequest{}, false
}

// splitHeaderList splits a header value at the commas between entries
// (RFC 3261 §7.3.1), not those inside <…> or quotes.
func splitHeaderList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// headerParam returns the value of the header parameter name (after the
// URI's closing '>', or after the first ';' without one), unquoted.
func headerParam(entry, name string) (string, bool) {
	rest := entry
	if i := strings.LastIndexByte(entry, '>'); i >= 0 {
		rest = entry[i+1:]
	} else if i := strings.IndexByte(entry, ';'); i >= 0 {
		rest = entry[i:]
	} else {
		return "", false
	}
	for _, p := range strings.Split(rest, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`), true
		}
	}
	return "", false
}
