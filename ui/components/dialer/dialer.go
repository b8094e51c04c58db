// Package dialer is the teaphone dial line: a one-line editor with history
// (↑/↓) and Tab completion from contacts. It is also used for the target
// questions (forward, transfer). Every method returns a new Model and leaves
// the receiver untouched, so editing is a pure function of (Model, key).
package dialer

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/ui/styles"
)

// MaxLen bounds the line (runes); longer input is ignored.
const MaxLen = 256

// Candidate is one completion: a contact's name and URI.
type Candidate struct {
	Name, URI string
}

// Model is the state of one edit line.
type Model struct {
	// Prompt is printed before the text ("dial> ").
	Prompt string
	// Placeholder is shown, dimmed, when the line is empty.
	Placeholder string

	value   []rune
	cursor  int
	focused bool
	width   int

	history []string // oldest first
	hpos    int      // index into history while browsing; len(history) = not browsing
	draft   string   // what was typed before browsing started

	matches []string // URIs of the last completion, cycled by repeated Tab
	mpos    int

	st   styles.Styles
	keys editKeys
}

type editKeys struct {
	left, right, home, end, back, del, killStart, killEnd, killWord key.Binding
}

func defaultEditKeys() editKeys {
	k := func(keys ...string) key.Binding { return key.NewBinding(key.WithKeys(keys...)) }
	return editKeys{
		left:      k("left", "ctrl+b"),
		right:     k("right", "ctrl+f"),
		home:      k("home", "ctrl+a"),
		end:       k("end", "ctrl+e"),
		back:      k("backspace", "ctrl+h"),
		del:       k("delete", "ctrl+d"),
		killStart: k("ctrl+u"),
		killEnd:   k("ctrl+k"),
		killWord:  k("ctrl+w", "alt+backspace"),
	}
}

// New returns an empty, unfocused line with the given history (oldest first).
func New(st styles.Styles, prompt string, history []string) Model {
	h := make([]string, 0, len(history))
	for _, e := range history {
		if e = strings.TrimSpace(e); e != "" && (len(h) == 0 || h[len(h)-1] != e) {
			h = append(h, e)
		}
	}
	return Model{Prompt: prompt, history: h, hpos: len(h), st: st, keys: defaultEditKeys()}
}

// Value returns the text of the line.
func (m Model) Value() string { return string(m.value) }

// Cursor returns the cursor position in runes.
func (m Model) Cursor() int { return m.cursor }

// History returns the history, oldest first.
func (m Model) History() []string { return append([]string(nil), m.history...) }

// Focused reports whether the line takes the keyboard.
func (m Model) Focused() bool { return m.focused }

// Focus gives the line the keyboard.
func (m Model) Focus() Model { m.focused = true; return m }

// Blur takes the keyboard away from the line.
func (m Model) Blur() Model { m.focused = false; return m }

// SetSize sets the width the line is drawn in (the height is always 1).
func (m Model) SetSize(w, _ int) Model { m.width = w; return m }

// SetValue replaces the text and puts the cursor at its end.
func (m Model) SetValue(s string) Model {
	m.value = clip([]rune(s))
	m.cursor = len(m.value)
	m.matches = nil
	return m
}

// Reset empties the line and stops browsing the history.
func (m Model) Reset() Model {
	m.value, m.cursor, m.matches = nil, 0, nil
	m.hpos, m.draft = len(m.history), ""
	return m
}

// Insert types s at the cursor. Control characters are dropped.
func (m Model) Insert(s string) Model {
	var add []rune
	for _, r := range s {
		if !unicode.IsControl(r) {
			add = append(add, r)
		}
	}
	if len(add) == 0 || len(m.value)+len(add) > MaxLen {
		return m
	}
	v := make([]rune, 0, len(m.value)+len(add))
	v = append(v, m.value[:m.cursor]...)
	v = append(v, add...)
	v = append(v, m.value[m.cursor:]...)
	m.value, m.cursor, m.matches = v, m.cursor+len(add), nil
	return m
}

// Push records entry as the most recent history item (skipping a repeat of
// the last one) and resets the line.
func (m Model) Push(entry string) Model {
	entry = strings.TrimSpace(entry)
	if entry != "" && (len(m.history) == 0 || m.history[len(m.history)-1] != entry) {
		m.history = append(append([]string(nil), m.history...), entry)
	}
	return m.Reset()
}

// HistoryPrev shows the previous (older) history entry.
func (m Model) HistoryPrev() Model {
	if m.hpos == 0 {
		return m
	}
	if m.hpos == len(m.history) {
		m.draft = string(m.value)
	}
	m.hpos--
	return m.show(m.history[m.hpos])
}

// HistoryNext shows the next (newer) history entry, then what was typed.
func (m Model) HistoryNext() Model {
	if m.hpos >= len(m.history) {
		return m
	}
	m.hpos++
	if m.hpos == len(m.history) {
		return m.show(m.draft)
	}
	return m.show(m.history[m.hpos])
}

func (m Model) show(s string) Model {
	m.value = []rune(s)
	m.cursor = len(m.value)
	m.matches = nil
	return m
}

// Complete completes the line from cands: a name or URI that starts with the
// text (case-insensitive; a name also matches by any of its words) becomes
// that contact's URI. Repeated calls cycle through the matches.
func (m Model) Complete(cands []Candidate) Model {
	if len(m.matches) > 0 && string(m.value) == m.matches[m.mpos] {
		m.mpos = (m.mpos + 1) % len(m.matches)
		next := m.matches[m.mpos]
		m.value, m.cursor = []rune(next), len([]rune(next))
		return m
	}
	matches := Matches(string(m.value), cands)
	if len(matches) == 0 {
		return m
	}
	m.value, m.cursor = []rune(matches[0]), len([]rune(matches[0]))
	m.matches, m.mpos = matches, 0
	return m
}

// Matches returns the URIs of the candidates that complete prefix, in order,
// without duplicates. An empty prefix matches nothing.
func Matches(prefix string, cands []Candidate) []string {
	p := strings.ToLower(strings.TrimSpace(prefix))
	if p == "" {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if c.URI == "" || seen[c.URI] {
			continue
		}
		if matchesPrefix(p, c) {
			seen[c.URI] = true
			out = append(out, c.URI)
		}
	}
	return out
}

func matchesPrefix(p string, c Candidate) bool {
	uri := strings.ToLower(c.URI)
	if strings.HasPrefix(uri, p) || strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(uri, "sips:"), "sip:"), p) {
		return true
	}
	name := strings.ToLower(c.Name)
	if strings.HasPrefix(name, p) {
		return true
	}
	for _, w := range strings.Fields(name) {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

// Update applies one editing key (cursor moves, deletions, typed text).
// Keys it does not know are ignored; history and completion are separate
// methods so the caller's key map decides their keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	switch {
	case k.Type == tea.KeyRunes && !k.Alt:
		return m.Insert(string(k.Runes)), nil
	case k.Type == tea.KeySpace:
		return m.Insert(" "), nil
	case key.Matches(k, m.keys.left):
		m.cursor = max(0, m.cursor-1)
	case key.Matches(k, m.keys.right):
		m.cursor = min(len(m.value), m.cursor+1)
	case key.Matches(k, m.keys.home):
		m.cursor = 0
	case key.Matches(k, m.keys.end):
		m.cursor = len(m.value)
	case key.Matches(k, m.keys.back):
		if m.cursor > 0 {
			m = m.cut(m.cursor-1, m.cursor)
		}
	case key.Matches(k, m.keys.del):
		if m.cursor < len(m.value) {
			m = m.cut(m.cursor, m.cursor+1)
		}
	case key.Matches(k, m.keys.killStart):
		m = m.cut(0, m.cursor)
	case key.Matches(k, m.keys.killEnd):
		m = m.cut(m.cursor, len(m.value))
	case key.Matches(k, m.keys.killWord):
		i := m.cursor
		for i > 0 && m.value[i-1] == ' ' {
			i--
		}
		for i > 0 && !strings.ContainsRune(" @:;.", m.value[i-1]) {
			i--
		}
		if i == m.cursor && i > 0 {
			i--
		}
		m = m.cut(i, m.cursor)
	}
	return m, nil
}

// cut removes value[from:to] and leaves the cursor at from.
func (m Model) cut(from, to int) Model {
	v := make([]rune, 0, len(m.value)-(to-from))
	v = append(v, m.value[:from]...)
	v = append(v, m.value[to:]...)
	m.value, m.cursor, m.matches = v, from, nil
	return m
}

// View draws the line: prompt, text, and a block cursor when focused. Text
// wider than the line scrolls so the cursor stays visible.
func (m Model) View() string {
	label := m.st.Dial.Label.Render(m.Prompt)
	if len(m.value) == 0 && !m.focused {
		return label + m.st.Dial.Hint.Render(m.Placeholder)
	}
	room := m.width - len([]rune(m.Prompt)) - 1
	start := 0
	if room > 0 && m.cursor > room {
		start = m.cursor - room
	}
	text := m.st.Dial.Blurred
	if m.focused {
		text = m.st.Dial.Focused
	}
	before := string(m.value[start:m.cursor])
	if !m.focused {
		return label + text.Render(string(m.value[start:]))
	}
	at, after := " ", ""
	if m.cursor < len(m.value) {
		at, after = string(m.value[m.cursor]), string(m.value[m.cursor+1:])
	}
	out := label + text.Render(before) + m.st.Dial.Cursor.Render(at) + text.Render(after)
	if len(m.value) == 0 && m.Placeholder != "" {
		out += m.st.Dial.Hint.Render(m.Placeholder)
	}
	return out
}

func clip(r []rune) []rune {
	if len(r) > MaxLen {
		return r[:MaxLen]
	}
	return r
}
