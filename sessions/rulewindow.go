package sessions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Window is a time-of-day and weekday window of a Rule, in Location (nil =
// local time). Its zero value is always open.
//
// Hours run from Start (inclusive) to End (exclusive), in minutes after
// midnight; End < Start wraps midnight ("18:00-08:00"). Weekdays, when set,
// are the days a window may start on: with hours that wrap midnight, the
// early hours belong to the day before, so "Fri 18:00-08:00" is open from
// Friday 18:00 to Saturday 08:00, and not from Friday 00:00 to 08:00.
// Without hours, Weekdays are whole days.
type Window struct {
	// HasHours is false when the window has no hours (all day).
	HasHours   bool
	Start, End int // minutes after midnight, 0..1440
	// Weekdays are the days the window starts on; empty = every day.
	Weekdays []time.Weekday
	Location *time.Location
}

// IsZero reports whether the window is always open.
func (w Window) IsZero() bool { return !w.HasHours && len(w.Weekdays) == 0 }

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

// weekdayName is the short name ParseWeekday takes.
func weekdayName(d time.Weekday) string { return weekdayNames[d%7] }

// Contains reports whether t falls in the window, and if not, why.
func (w Window) Contains(t time.Time) (bool, string) {
	if w.Location != nil {
		t = t.In(w.Location)
	}
	day := t.Weekday()
	if w.HasHours {
		now := t.Hour()*60 + t.Minute()
		in := false
		switch {
		case w.Start < w.End:
			in = now >= w.Start && now < w.End
		case now >= w.Start: // wraps midnight: the evening part
			in = true
		case now < w.End: // the morning part belongs to yesterday's window
			in = true
			day = (day + 6) % 7
		}
		if !in {
			return false, fmt.Sprintf("%s is outside hours %s", t.Format("15:04"), w.hoursText())
		}
	}
	if len(w.Weekdays) > 0 && !slices.Contains(w.Weekdays, day) {
		if w.HasHours && day != t.Weekday() {
			return false, fmt.Sprintf("%s %s is in the window of %s, not in weekdays %s",
				weekdayName(t.Weekday()), t.Format("15:04"), weekdayName(day), w.weekdaysText())
		}
		return false, fmt.Sprintf("%s is not in weekdays %s", weekdayName(day), w.weekdaysText())
	}
	return true, ""
}

func (w Window) hoursText() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
}

func (w Window) weekdaysText() string {
	names := make([]string, len(w.Weekdays))
	for i, d := range w.Weekdays {
		names[i] = weekdayName(d)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// String describes the window as the config writes it:
// "hours 18:00-08:00 weekdays [fri] (Europe/Berlin)".
func (w Window) String() string {
	var parts []string
	if w.HasHours {
		parts = append(parts, "hours "+w.hoursText())
	}
	if len(w.Weekdays) > 0 {
		parts = append(parts, "weekdays "+w.weekdaysText())
	}
	if w.Location != nil && len(parts) > 0 {
		parts = append(parts, "("+w.Location.String()+")")
	}
	return strings.Join(parts, " ")
}
