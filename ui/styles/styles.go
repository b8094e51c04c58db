// Package styles builds every lipgloss style of the teaphone UI in one place.
//
// Colours are adaptive (light and dark backgrounds) and go through lipgloss's
// default renderer, which honours NO_COLOR: with no colour the UI stays usable
// because every state is also spelled out in text (markers, words).
package styles

import "github.com/charmbracelet/lipgloss"

// Palette colours, adaptive to the terminal background.
var (
	subtle  = lipgloss.AdaptiveColor{Light: "#8A8A8A", Dark: "#6C6C6C"}
	text    = lipgloss.AdaptiveColor{Light: "#1A1A1A", Dark: "#E4E4E4"}
	accent  = lipgloss.AdaptiveColor{Light: "#005FAF", Dark: "#5FAFFF"}
	good    = lipgloss.AdaptiveColor{Light: "#008700", Dark: "#5FD75F"}
	warn    = lipgloss.AdaptiveColor{Light: "#AF5F00", Dark: "#FFAF00"}
	bad     = lipgloss.AdaptiveColor{Light: "#D70000", Dark: "#FF5F5F"}
	barBg   = lipgloss.AdaptiveColor{Light: "#D0D0D0", Dark: "#303030"}
	selBg   = lipgloss.AdaptiveColor{Light: "#D7E7FF", Dark: "#303A4A"}
	promptB = lipgloss.AdaptiveColor{Light: "#AF5F00", Dark: "#FFAF00"}
)

// Styles holds every style of the UI, one sub-struct per area.
type Styles struct {
	// Status is the top bar.
	Status struct {
		Bar, Title, Account, Registered, Pending, Failed, Device, Flag lipgloss.Style
	}
	// Calls is the call list.
	Calls struct {
		Heading, Row, Selected, Empty, Ringing, Connected, Ended, Mark lipgloss.Style
	}
	// Details is the selected call's pane.
	Details struct {
		Label, Value, Good, Fair, Poor, Spark lipgloss.Style
	}
	// Prompt is the incoming-call prompt and the modal questions.
	Prompt struct {
		Box, Title, Who, URI, Subject, Key, Queue lipgloss.Style
	}
	// Dial is the dial line.
	Dial struct {
		Label, Focused, Blurred, Cursor, Hint lipgloss.Style
	}
	// Message is the one-line feedback under the dial line.
	Message struct {
		Info, Error lipgloss.Style
	}
	// Log is the log pane.
	Log struct {
		Heading, Line lipgloss.Style
	}
	// Help is the footer and the full help screen.
	Help struct {
		Key, Desc, Sep, Disabled, Title lipgloss.Style
	}
}

// Default returns the adaptive light/dark styles.
func Default() Styles {
	var s Styles
	base := lipgloss.NewStyle().Foreground(text)

	s.Status.Bar = lipgloss.NewStyle().Background(barBg).Foreground(text)
	s.Status.Title = lipgloss.NewStyle().Background(barBg).Foreground(accent).Bold(true)
	s.Status.Account = lipgloss.NewStyle().Background(barBg).Foreground(text)
	s.Status.Registered = lipgloss.NewStyle().Background(barBg).Foreground(good)
	s.Status.Pending = lipgloss.NewStyle().Background(barBg).Foreground(warn)
	s.Status.Failed = lipgloss.NewStyle().Background(barBg).Foreground(bad).Bold(true)
	s.Status.Device = lipgloss.NewStyle().Background(barBg).Foreground(subtle)
	s.Status.Flag = lipgloss.NewStyle().Background(barBg).Foreground(warn).Bold(true)

	s.Calls.Heading = lipgloss.NewStyle().Foreground(accent).Bold(true)
	s.Calls.Row = base
	s.Calls.Selected = lipgloss.NewStyle().Foreground(text).Background(selBg).Bold(true)
	s.Calls.Empty = lipgloss.NewStyle().Foreground(subtle).Italic(true)
	s.Calls.Ringing = lipgloss.NewStyle().Foreground(warn).Bold(true)
	s.Calls.Connected = lipgloss.NewStyle().Foreground(good)
	s.Calls.Ended = lipgloss.NewStyle().Foreground(subtle)
	s.Calls.Mark = lipgloss.NewStyle().Foreground(warn)

	s.Details.Label = lipgloss.NewStyle().Foreground(subtle)
	s.Details.Value = base
	s.Details.Good = lipgloss.NewStyle().Foreground(good)
	s.Details.Fair = lipgloss.NewStyle().Foreground(warn)
	s.Details.Poor = lipgloss.NewStyle().Foreground(bad)
	s.Details.Spark = lipgloss.NewStyle().Foreground(accent)

	s.Prompt.Box = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(promptB).Padding(0, 1)
	s.Prompt.Title = lipgloss.NewStyle().Foreground(warn).Bold(true)
	s.Prompt.Who = lipgloss.NewStyle().Foreground(text).Bold(true)
	s.Prompt.URI = lipgloss.NewStyle().Foreground(accent)
	s.Prompt.Subject = lipgloss.NewStyle().Foreground(text).Italic(true)
	s.Prompt.Key = lipgloss.NewStyle().Foreground(accent).Bold(true)
	s.Prompt.Queue = lipgloss.NewStyle().Foreground(subtle)

	s.Dial.Label = lipgloss.NewStyle().Foreground(accent).Bold(true)
	s.Dial.Focused = base
	s.Dial.Blurred = lipgloss.NewStyle().Foreground(subtle)
	s.Dial.Cursor = lipgloss.NewStyle().Reverse(true)
	s.Dial.Hint = lipgloss.NewStyle().Foreground(subtle)

	s.Message.Info = lipgloss.NewStyle().Foreground(good)
	s.Message.Error = lipgloss.NewStyle().Foreground(bad).Bold(true)

	s.Log.Heading = lipgloss.NewStyle().Foreground(subtle).Bold(true)
	s.Log.Line = lipgloss.NewStyle().Foreground(subtle)

	s.Help.Key = lipgloss.NewStyle().Foreground(accent)
	s.Help.Desc = lipgloss.NewStyle().Foreground(subtle)
	s.Help.Sep = lipgloss.NewStyle().Foreground(subtle)
	s.Help.Disabled = lipgloss.NewStyle().Foreground(subtle).Faint(true).Strikethrough(true)
	s.Help.Title = lipgloss.NewStyle().Foreground(accent).Bold(true)
	return s
}
