package ui

import (
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
)

// This file is the missed-calls badge of the status bar ("2 missed"): the
// missed calls the person has not seen, those of this run (from the call
// events, sessions.CallInfo.Missed) and those of earlier runs since they
// last opened the history view (Options.Missed). Opening the history view
// (H) marks them all seen.

// MissedCalls remembers, across runs, which missed calls the person has
// seen. Main keeps it in the call history database.
type MissedCalls interface {
	// Unseen returns the missed calls of earlier runs the person has not
	// seen. It runs once, in a command, at start.
	Unseen() ([]sessions.CallID, error)
	// MarkSeen records that the person saw every missed call that ended
	// up to at. It runs in a command when the history view opens.
	MarkSeen(at time.Time) error
}

// missedBadge is the badge's state: the unseen missed calls by ID (a call
// of this run that main had already written to the history is counted
// once).
type missedBadge struct {
	unseen map[sessions.CallID]bool
	// counted are the calls of this run counted so far, seen or not: an
	// event repeating the end of one already seen does not count it again.
	counted map[sessions.CallID]bool
	gen     int // bumped on each marking: an older Unseen answer is stale
}

type unseenMsg struct {
	gen int
	ids []sessions.CallID
	err error
}

type markedSeenMsg struct{ err error }

// count is the number the badge shows.
func (b missedBadge) count() int { return len(b.unseen) }

// with returns the badge with ids added to unseen and counted (the maps
// are copied: models are values).
func (b missedBadge) with(ids ...sessions.CallID) missedBadge {
	b.unseen, b.counted = withIDs(b.unseen, ids), withIDs(b.counted, ids)
	return b
}

func withIDs(set map[sessions.CallID]bool, ids []sessions.CallID) map[sessions.CallID]bool {
	next := make(map[sessions.CallID]bool, len(set)+len(ids))
	for id := range set {
		next[id] = true
	}
	for _, id := range ids {
		next[id] = true
	}
	return next
}

// loadUnseen asks Options.Missed for the unseen missed calls of earlier runs.
func (m Model) loadUnseen() tea.Cmd {
	mc := m.opts.Missed
	if mc == nil {
		return nil
	}
	gen := m.missed.gen
	return guard(func() tea.Msg {
		ids, err := mc.Unseen()
		return unseenMsg{gen: gen, ids: ids, err: err}
	})
}

func (m Model) handleUnseen(msg unseenMsg) Model {
	switch {
	case msg.err != nil:
		m.logf("missed calls: %v", msg.err)
	case msg.gen == m.missed.gen: // else the person has looked since
		m.missed = m.missed.with(msg.ids...)
	}
	return m
}

// noteMissed counts a call that has just become a missed one.
func (m Model) noteMissed(ci sessions.CallInfo) Model {
	if ci.Missed() && !m.missed.counted[ci.ID] {
		m.missed = m.missed.with(ci.ID)
	}
	return m
}

// markSeen clears the badge and records it (history view opened).
func (m Model) markSeen() (Model, tea.Cmd) {
	m.missed = missedBadge{counted: m.missed.counted, gen: m.missed.gen + 1}
	mc := m.opts.Missed
	if mc == nil {
		return m, nil
	}
	at := m.now()
	return m, guard(func() tea.Msg { return markedSeenMsg{err: mc.MarkSeen(at)} })
}

// missedText is the badge's text, "" when there is nothing unseen.
func (m Model) missedText() string {
	if n := m.missed.count(); n > 0 {
		return fmt.Sprintf("%d missed", n)
	}
	return ""
}
