package script

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/teaphone/teaphone/internal/sipaddr"
	"github.com/teaphone/teaphone/internal/textdist"
	"github.com/teaphone/teaphone/sessions"
)

func parseExpect(rest string) (Command, error) {
	fail := func(format string, args ...any) (Command, error) {
		return Command{}, fmt.Errorf("expect: "+format, args...)
	}
	f := strings.Fields(rest)
	d := DefaultExpectTimeout
	if n := len(f); n >= 1 && strings.EqualFold(f[n-1], "within") {
		return fail("within: missing duration")
	}
	if n := len(f); n >= 2 && strings.EqualFold(f[n-2], "within") {
		var err error
		if d, err = parseDuration(f[n-1]); err != nil {
			return fail("within: %v", err)
		}
		if d == 0 {
			return fail("within: want a duration above 0")
		}
		f = f[:n-2]
	}
	// "state=connected" is "state connected".
	if len(f) == 1 {
		if k, v, ok := strings.Cut(f[0], "="); ok {
			f = []string{k, v}
		}
	}
	if len(f) == 0 {
		return fail("want state, dtmf, held_remote or held_local")
	}
	kind := strings.ToLower(strings.ReplaceAll(f[0], "-", "_"))
	not := false
	if kind == "not" && len(f) >= 2 {
		not = true
		f = f[1:]
		kind = strings.ToLower(strings.ReplaceAll(f[0], "-", "_"))
	}
	switch kind {
	case "state":
		if not {
			return fail("not: only for held_remote and held_local")
		}
		if len(f) != 2 {
			return fail("want expect state S within D, got %q", rest)
		}
		st, err := sessions.ParseState(strings.ToLower(f[1]))
		if err != nil {
			return fail("unknown state %q (want one of %s)", f[1], stateList())
		}
		return Command{Op: OpExpectState, State: st, Duration: d}, nil
	case "dtmf":
		if not {
			return fail("not: only for held_remote and held_local")
		}
		if len(f) < 2 {
			return fail("dtmf: missing digits")
		}
		digits, err := parseDigits(strings.Join(f[1:], ""))
		if err != nil {
			return fail("dtmf: %v", err)
		}
		return Command{Op: OpExpectDTMF, Arg: digits, Duration: d}, nil
	case "held_remote", "held_local":
		if len(f) != 1 {
			return fail("%s: unexpected argument %q", kind, strings.Join(f[1:], " "))
		}
		op := OpExpectHeldRemote
		if kind == "held_local" {
			op = OpExpectHeldLocal
		}
		return Command{Op: op, Not: not, Duration: d}, nil
	}
	return fail("unknown condition %q (want state, dtmf, held_remote or held_local)", f[0])
}

func parseReject(rest string) (Command, error) {
	c := Command{Op: OpReject, Code: DefaultRejectCode}
	if rest == "" {
		return c, nil
	}
	word, reason := cutWord(rest)
	code, err := strconv.Atoi(word)
	if err != nil || code < 400 || code > 699 {
		return Command{}, fmt.Errorf("reject: status code %q: want 400-699", word)
	}
	c.Code = code
	if reason != "" {
		if c.Arg, err = parseArg(reason, "reason"); err != nil {
			return Command{}, fmt.Errorf("reject: %v", err)
		}
	}
	return c, nil
}

// cutWord splits off the first white-space separated word.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// parseArg reads an argument that runs to the end of the command: bare text
// or one Go double-quoted string.
func parseArg(rest, what string) (string, error) {
	if rest == "" {
		return "", fmt.Errorf("missing %s", what)
	}
	arg := rest
	if rest[0] == '"' {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", fmt.Errorf("bad quoted %s %s", what, rest)
		}
		if tail := strings.TrimSpace(rest[len(q):]); tail != "" {
			return "", fmt.Errorf("unexpected %q after the quoted %s", tail, what)
		}
		arg, _ = strconv.Unquote(q)
	}
	if arg == "" {
		return "", fmt.Errorf("empty %s", what)
	}
	if strings.IndexFunc(arg, unicode.IsControl) >= 0 || !utf8.ValidString(arg) {
		return "", fmt.Errorf("%s contains a control character or invalid UTF-8", what)
	}
	return arg, nil
}

// parseDuration reads a Go duration ("1m30s", "250ms") or plain seconds
// ("2", "1.5").
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		secs, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, fmt.Errorf("bad duration %q (want 2s, 500ms, 1m or seconds)", s)
		}
		if secs < 0 || secs > MaxDuration.Seconds() {
			return 0, fmt.Errorf("duration %q out of range (0 to %s)", s, MaxDuration)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 || d > MaxDuration {
		return 0, fmt.Errorf("duration %q out of range (0 to %s)", s, MaxDuration)
	}
	return d, nil
}

// parseDigits checks DTMF digits (sipaddr.ParseDTMF: 0-9 * # A-D,
// case-insensitive) and returns them upper-cased.
func parseDigits(s string) (string, error) {
	if s == "" {
		return "", errors.New("missing digits")
	}
	return sipaddr.ParseDTMF(s)
}

// stateList names the call states a script may expect.
func stateList() string {
	var names []string
	for s := sessions.StateInitiating; s <= sessions.StateFailed; s++ {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// suggest returns the known command closest to name, if it is a likely typo.
func suggest(name string) string {
	best, bestD := "", 3
	for _, n := range commandNames {
		if d := textdist.Levenshtein(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if len(name) <= 2 && bestD > 1 {
		return ""
	}
	return best
}
