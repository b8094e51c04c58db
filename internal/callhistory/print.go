package callhistory

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// Result says how a call went, for a person: "missed", "in progress",
// "remote hangup", "486 Busy Here", else its state.
func (c Call) Result() string {
	switch {
	case c.Missed:
		return "missed"
	case c.EndedAt.IsZero():
		return "in progress"
	case c.EndCode != 0 && c.EndCode != 200 && c.EndReason != "":
		return fmt.Sprintf("%d %s", c.EndCode, c.EndReason)
	case c.EndReason != "":
		return c.EndReason
	case c.EndCode != 0:
		return fmt.Sprint(c.EndCode)
	}
	return c.State
}

// Peer is "Name <uri>", or the URI when there is no display name.
func (c Call) Peer() string {
	if c.DisplayName == "" {
		return c.RemoteURI
	}
	return c.DisplayName + " <" + c.RemoteURI + ">"
}

// PrintTable writes calls as a table, times in loc. Missed calls are marked
// with "!" before their direction.
func PrintTable(w io.Writer, calls []Call, loc *time.Location) error {
	if len(calls) == 0 {
		_, err := fmt.Fprintln(w, "no calls")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tDIR\tPEER\tACCOUNT\tDURATION\tRESULT\tCODEC\tMOS")
	for _, c := range calls {
		dir := "in"
		if c.Direction == "outgoing" {
			dir = "out"
		}
		if c.Missed {
			dir = "!" + dir
		}
		dur, mos := "-", "-"
		if !c.AnsweredAt.IsZero() && !c.EndedAt.IsZero() {
			dur = clock(c.Duration())
		}
		if c.MOS > 0 {
			mos = fmt.Sprintf("%.1f", c.MOS)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.StartedAt.In(loc).Format("2006-01-02 15:04:05"),
			dir, cell(c.Peer()), cell(c.Account), dur, cell(c.Result()), cell(c.Codec), mos)
	}
	return tw.Flush()
}

// PrintJSON writes calls as JSON lines: the Call fields and duration_s.
func PrintJSON(w io.Writer, calls []Call) error {
	enc := json.NewEncoder(w)
	for _, c := range calls {
		if err := enc.Encode(struct {
			Call
			DurationS float64 `json:"duration_s"`
		}{c, c.Duration().Seconds()}); err != nil {
			return err
		}
	}
	return nil
}

// clock formats d as m:ss, or h:mm:ss from an hour.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// cell keeps a table cell on its line and the terminal safe: control
// characters (a database anyone may have written) become spaces.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
