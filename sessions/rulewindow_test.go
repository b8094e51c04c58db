package sessions

import (
	"strings"
	"testing"
	"time"
)

// TestWindowContains: hours (end exclusive, wrapping midnight), weekdays
// (the day the window starts on), time zones.
func TestWindowContains(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	at := func(day, hh, mm int) time.Time { // December 2026: the 4th is a Friday
		return time.Date(2026, 12, day, hh, mm, 0, 0, time.UTC)
	}
	night := Window{HasHours: true, Start: 18 * 60, End: 8 * 60, Location: time.UTC}
	friNight := night
	friNight.Weekdays = []time.Weekday{time.Friday}
	office := Window{HasHours: true, Start: 9 * 60, End: 17 * 60, Location: time.UTC,
		Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}}
	weekend := Window{Weekdays: []time.Weekday{time.Saturday, time.Sunday}, Location: time.UTC}
	tests := []struct {
		name string
		w    Window
		t    time.Time
		want bool
		why  string
	}{
		{"zero window", Window{}, at(4, 12, 0), true, ""},
		{"night, evening", night, at(4, 18, 0), true, ""},
		{"night, just before", night, at(4, 17, 59), false, "17:59 UTC is outside hours 18:00-08:00"},
		{"night, after midnight", night, at(5, 3, 0), true, ""},
		{"night, end exclusive", night, at(5, 8, 0), false, "08:00 UTC is outside"},
		{"fri night, fri evening", friNight, at(4, 22, 0), true, ""},
		{"fri night, sat morning", friNight, at(5, 7, 59), true, ""},
		{"fri night, fri morning belongs to thu", friNight, at(4, 3, 0), false, "fri 03:00 is in the window of thu, not in weekdays [fri]"},
		{"fri night, sat evening", friNight, at(5, 19, 0), false, "sat is not in weekdays [fri]"},
		{"office hours", office, at(4, 9, 0), true, ""},
		{"office, end exclusive", office, at(4, 17, 0), false, "outside hours 09:00-17:00"},
		{"office, saturday", office, at(5, 10, 0), false, "sat is not in weekdays"},
		{"weekend, sunday", weekend, at(6, 9, 0), true, ""},
		{"weekend, friday", weekend, at(4, 23, 59), false, "fri is not in weekdays [sat sun]"},
		// 23:30 UTC on Friday is 00:30 on Saturday in Berlin.
		{"zone moves the day", Window{Weekdays: []time.Weekday{time.Saturday}, Location: berlin}, at(4, 23, 30), true, ""},
		{"zone moves the hour", Window{HasHours: true, Start: 9 * 60, End: 10 * 60, Location: berlin}, at(4, 8, 30), true, ""},
	}
	for _, tt := range tests {
		got, why := tt.w.Contains(tt.t)
		if got != tt.want || !strings.Contains(why, tt.why) {
			t.Errorf("%s: Contains(%s) = %v, %q; want %v, %q", tt.name, tt.t.Format(time.RFC3339), got, why, tt.want, tt.why)
		}
	}
	if s := friNight.String(); s != "hours 18:00-08:00 weekdays [fri] (UTC)" {
		t.Errorf("String() = %q", s)
	}
}
