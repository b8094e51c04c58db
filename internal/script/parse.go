package script

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

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
	"transfer", "transfer-attended", "expect", "answer", "reject", "forward", "ignore", "log",
}

var simpleOps = map[string]Op{
	"hangup": OpHangup, "hold": OpHold, "resume": OpResume, "mute": OpMute, "unmute": OpUnmute, "answer": OpAnswer,
	"ignore": OpIgnore,
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
	case "forward":
		arg, err := parseArg(rest, "target (forward sip:voicemail@pbx.example.com)")
		if err != nil {
			return fail("%v", err)
		}
		t, err := sessions.NormalizeTarget(arg)
		if err != nil {
			return fail("%v", err)
		}
		return Command{Op: OpForward, Arg: t}, nil
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
