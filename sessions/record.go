package sessions

import (
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultRecordTemplate names recordings: {date}, {remote}, {call_id},
// {line} and {direction} are replaced.
const DefaultRecordTemplate = "{date}-{remote}-{call_id}.wav"

// RecordPath is where a call's recording goes: dir joined with the file name
// template tmpl ("" = DefaultRecordTemplate) expanded for the call.
func RecordPath(dir, tmpl string, t time.Time, c CallInfo) string {
	if tmpl == "" {
		tmpl = DefaultRecordTemplate
	}
	return filepath.Join(dir, expand(tmpl, t, c))
}

// expand replaces {date}, {remote}, {call_id}, {line} and {direction} in a
// file name template with values safe in a file name.
func expand(tmpl string, t time.Time, c CallInfo) string {
	return strings.NewReplacer(
		"{date}", t.UTC().Format("20060102T150405Z"),
		"{remote}", FileSafe(c.RemoteURI),
		"{call_id}", FileSafe(string(c.ID)),
		"{line}", strconv.Itoa(c.Line),
		"{direction}", string(c.Direction),
	).Replace(tmpl)
}

// FileSafe turns a remote URI into a file name part: scheme and parameters
// dropped, only letters, digits and @ . _ + - kept (others become _), no
// leading dot, at most 64 bytes.
func FileSafe(s string) string {
	for _, scheme := range []string{"sip:", "sips:", "tel:"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
			break
		}
	}
	if i := strings.IndexAny(s, ";?>"); i >= 0 {
		s = s[:i]
	}
	b := []byte(s)
	for i, ch := range b {
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			ch == '@', ch == '.', ch == '_', ch == '+', ch == '-':
		default:
			b[i] = '_'
		}
	}
	out := strings.TrimLeft(string(b), ".")
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		return "unknown"
	}
	return out
}
