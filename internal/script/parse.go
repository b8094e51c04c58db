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

// maxErrors bounds how many problems Parse reports at once.
const maxErrors = 10

// Error is a problem with one command of a script.
type Error struct {
	Line, Index int // as in Command
	Msg         string
}

// Error returns "line 3: expect: unknown state …" (with ", command 2" when
// the line holds several commands).
func (e *Error) Error() string {
	c := Command{Line: e.Line, Index: e.Index}
	return c.Where() + ": " + e.Msg
}

// rawCommand is the text of one command and where it was.
type rawCommand struct {
	text        string
	line, index int
	err         string // a lexical problem (unterminated quote)
}

// Parse reads a script. Every problem is reported (up to ten), each naming
// its line; the errors are *Error values joined with errors.Join.
func Parse(src string) (Script, error) {
	var s Script
	var errs []error
	report := func(line, index int, format string, args ...any) {
		if len(errs) < maxErrors {
			errs = append(errs, &Error{Line: line, Index: index, Msg: fmt.Sprintf(format, args...)})
		}
	}
	if !utf8.ValidString(src) {
		return Script{}, &Error{Line: firstInvalidLine(src), Msg: "not valid UTF-8"}
	}
	for _, rc := range split(src) {
		if rc.err != "" {
			report(rc.line, rc.index, "%s", rc.err)
			continue
		}
		if len(s.Commands) >= MaxCommands {
			report(rc.line, rc.index, "more than %d commands", MaxCommands)
			break
		}
		c, err := parseCommand(rc.text)
		if err != nil {
			report(rc.line, rc.index, "%v", err)
			continue
		}
		c.Line, c.Index, c.N = rc.line, rc.index, len(s.Commands)+1
		s.Commands = append(s.Commands, c)
	}
	if len(errs) > 0 {
		return Script{}, errors.Join(errs...)
	}
	return s, nil
}

// MustParse is Parse for scripts known to be valid (tests, constants); it
// panics on an error.
func MustParse(src string) Script {
	s, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return s
}

func firstInvalidLine(src string) int {
	line := 1
	for i, r := range src {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(src[i:]); size <= 1 {
				return line
			}
		}
		if r == '\n' {
			line++
		}
	}
	return line
}

// split cuts src into commands at ";" and newlines outside quotes and drops
// comments and empty commands.
func split(src string) []rawCommand {
	var out []rawCommand
	line, index := 1, 0
	var cur strings.Builder
	inQuote, escaped := false, false
	flush := func(errMsg string) {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" && errMsg == "" {
			return
		}
		index++
		out = append(out, rawCommand{text: text, line: line, index: index, err: errMsg})
	}
	for i := 0; i < len(src); i++ {
		ch := src[i]
		if inQuote {
			switch {
			case ch == '\n':
				inQuote = false
				flush("unterminated quoted string")
				line++
				index = 0
				continue
			case escaped:
				escaped = false
			case ch == '\\':
				escaped = true
			case ch == '"':
				inQuote = false
			}
			cur.WriteByte(ch)
			continue
		}
		switch ch {
		case '\n':
			flush("")
			line++
			index = 0
		case ';':
			flush("")
		case '"':
			inQuote = true
			cur.WriteByte(ch)
		case '#':
			if isComment(src, i, cur.String()) {
				for i+1 < len(src) && src[i+1] != '\n' {
					i++
				}
				continue
			}
			cur.WriteByte(ch)
		default:
			cur.WriteByte(ch)
		}
	}
	if inQuote {
		flush("unterminated quoted string")
	} else {
		flush("")
	}
	return out
}

// isComment reports whether the "#" at src[i] starts a comment: at the start
// of a command, or between white space and a space or tab.
func isComment(src string, i int, before string) bool {
	if strings.TrimSpace(before) == "" {
		return true
	}
	return isSpace(before[len(before)-1]) && i+1 < len(src) && (src[i+1] == ' ' || src[i+1] == '\t')
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\v' || b == '\f' }

// commandNames are the first words Parse knows, for errors and suggestions.
var commandNames = []string{
	"wait", "hangup", "dtmf", "play", "record", "hold", "resume", "mute", "unmute",
	"transfer", "transfer-attended", "expect", "answer", "reject", "log",
}

var simpleOps = map[string]Op{
	"hangup": OpHangup, "hold": OpHold, "resume": OpResume, "mute": OpMute, "unmute": OpUnmute, "answer": OpAnswer,
}

// parseCommand parses the text of one command (trimmed, not empty).
func parseCommand(text string) (Command, error) {
	name, rest := cutWord(text)
	name = strings.ToLower(name)
	if name == "transfer_attended" {
		name = "transfer-attended"
	}
	fail := func(format string, args ...any) (Command, error) {
		return Command{}, fmt.Errorf(name+": "+format, args...)
	}
	if op, ok := simpleOps[name]; ok {
		if rest != "" {
			return fail("unexpected argument %q", rest)
		}
		return Command{Op: op}, nil
	}
	switch name {
	case "wait":
		f := strings.Fields(rest)
		if len(f) != 1 {
			return fail("want one duration (wait 2s), got %q", rest)
		}
		d, err := parseDuration(f[0])
		if err != nil {
			return fail("%v", err)
		}
		return Command{Op: OpWait, Duration: d}, nil
	case "dtmf":
		digits, err := parseDigits(strings.Join(strings.Fields(rest), ""))
		if err != nil {
			return fail("%v", err)
		}
		return Command{Op: OpDTMF, Arg: digits}, nil
	case "play":
		arg, err := parseArg(rest, "file")
		if err != nil {
			return fail("%v", err)
		}
		return Command{Op: OpPlay, Arg: arg}, nil
	case "record":
		switch strings.ToLower(rest) {
		case "start":
			return Command{Op: OpRecordStart}, nil
		case "stop":
			return Command{Op: OpRecordStop}, nil
		}
		arg, err := parseArg(rest, "file (or start, stop)")
		if err != nil {
			return fail("%v", err)
		}
		return Command{Op: OpRecord, Arg: arg}, nil
	case "transfer":
		arg, err := parseArg(rest, "target (transfer sip:alice@example.com)")
		if err != nil {
			return fail("%v", err)
		}
		t, err := sessions.NormalizeTarget(arg)
		if err != nil {
			return fail("%v", err)
		}
		return Command{Op: OpTransfer, Arg: t}, nil
	case "transfer-attended":
		f := strings.Fields(rest)
		if len(f) != 1 || strings.ContainsAny(f[0], "\"\\") {
			return fail("want the line or call ID of the consultation call (transfer-attended 2), got %q", rest)
		}
		if n, err := strconv.Atoi(f[0]); err == nil && n < 1 {
			return fail("line %d: want 1 or more", n)
		}
		return Command{Op: OpTransferAttended, Arg: f[0]}, nil
	case "expect":
		return parseExpect(rest)
	case "reject":
		return parseReject(rest)
	case "log":
		arg, err := parseArg(rest, "text")
		if err != nil {
			return fail("%v", err)
		}
		return Command{Op: OpLog, Arg: arg}, nil
	}
	if s := suggest(name); s != "" {
		return Command{}, fmt.Errorf("unknown command %q (did you mean %s?)", name, s)
	}
	return Command{}, fmt.Errorf("unknown command %q (want one of %s)", name, strings.Join(commandNames, ", "))
}

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
