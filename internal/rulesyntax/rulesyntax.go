// Package rulesyntax parses the pieces of answering rules that the
// configuration checks and the session manager uses alike: time windows,
// weekdays, globs and header patterns. Standard library only, so that
// internal/config need not import the session layers.
package rulesyntax

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ParseHours parses "HH:MM-HH:MM" (24-hour clock, end exclusive, "24:00"
// allowed as an end) into minutes after midnight. Start and end must
// differ: a rule without hours is open all day.
func ParseHours(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("want \"HH:MM-HH:MM\" like \"18:00-08:00\", got %q", s)
	}
	if start, err = parseClock(a, false); err != nil {
		return 0, 0, err
	}
	if end, err = parseClock(b, true); err != nil {
		return 0, 0, err
	}
	if start == end || start == 0 && end == 24*60 {
		return 0, 0, fmt.Errorf("%q is every hour of the day: leave hours out", s)
	}
	return start, end, nil
}

// parseClock parses "HH:MM"; "24:00" only when end is set.
func parseClock(s string, end bool) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	switch {
	case !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) == 0 || len(h) > 2:
		return 0, fmt.Errorf("want a time HH:MM, got %q", s)
	case end && hh == 24 && mm == 0:
		return 24 * 60, nil
	case hh < 0 || hh > 23 || mm < 0 || mm > 59:
		return 0, fmt.Errorf("time %q out of range 00:00..23:59", s)
	}
	return hh*60 + mm, nil
}

var weekdayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWeekday parses "mon" … "sun" (or the full English name), in any case.
func ParseWeekday(s string) (time.Weekday, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for i, n := range weekdayNames {
		if l == n || l == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("want a weekday mon, tue, wed, thu, fri, sat or sun, got %q", s)
}

// WeekdayName is the short name ParseWeekday takes ("mon").
func WeekdayName(d time.Weekday) string { return weekdayNames[d%7] }

// RegexpPrefix marks a header pattern as a Go regexp rather than a glob.
const RegexpPrefix = "re:"

// CheckGlob reports a glob path.Match cannot use.
func CheckGlob(glob string) error {
	_, err := path.Match(strings.ToLower(glob), "")
	return err
}

// Glob reports whether value matches the glob, case-insensitively, with
// path.Match's syntax (*, ?, [a-z], \\ escapes) except that "*" and "?"
// match "/" too (header values and subjects have slashes: "SIP/2.0/UDP",
// "Q3/Q4").
func Glob(glob, value string) bool {
	slash := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "/", "\x00") }
	ok, _ := path.Match(slash(glob), slash(value))
	return ok
}

// CheckHeaderPattern reports a bad header name or pattern (a glob, or
// RegexpPrefix and a regexp in RE2 syntax).
func CheckHeaderPattern(name, pattern string) error {
	if strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t:\r\n") {
		return fmt.Errorf("want a header name, got %q", name)
	}
	if re, ok := strings.CutPrefix(pattern, RegexpPrefix); ok {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("bad regexp %q: %w", re, err)
		}
		return nil
	}
	if err := CheckGlob(pattern); err != nil {
		return fmt.Errorf("bad glob %q: %w", pattern, err)
	}
	return nil
}

// HeaderMatcher returns a function reporting whether a header value matches
// pattern: a glob (case-insensitive, the value trimmed), or RegexpPrefix
// and a regexp that may match any part of the value. A bad pattern matches
// nothing.
func HeaderMatcher(pattern string) func(string) bool {
	if src, ok := strings.CutPrefix(pattern, RegexpPrefix); ok {
		re, err := compile(src)
		if err != nil {
			return func(string) bool { return false }
		}
		return re.MatchString
	}
	return func(v string) bool { return Glob(pattern, strings.TrimSpace(v)) }
}

// compiled caches the regexps of header patterns: each incoming call is
// matched against the same few, which come from the configuration.
var compiled struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

// maxCompiled bounds the cache; patterns beyond it are compiled each time.
const maxCompiled = 256

func compile(src string) (*regexp.Regexp, error) {
	compiled.Lock()
	re, ok := compiled.m[src]
	compiled.Unlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	compiled.Lock()
	if compiled.m == nil {
		compiled.m = make(map[string]*regexp.Regexp)
	}
	if len(compiled.m) < maxCompiled {
		compiled.m[src] = re
	}
	compiled.Unlock()
	return re, nil
}

// compactHeaders maps RFC 3261 §7.3.3 (and later RFCs') compact header
// names to their long forms, in lower case.
var compactHeaders = map[string]string{
	"a": "accept-contact", "b": "referred-by", "c": "content-type", "d": "request-disposition",
	"e": "content-encoding", "f": "from", "i": "call-id", "j": "reject-contact", "k": "supported",
	"l": "content-length", "m": "contact", "o": "event", "r": "refer-to", "s": "subject",
	"t": "to", "u": "allow-events", "v": "via", "x": "session-expires", "y": "identity",
}

// CanonicalHeader is a header name in lower case, compact forms expanded.
func CanonicalHeader(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if long, ok := compactHeaders[n]; ok {
		return long
	}
	return n
}
