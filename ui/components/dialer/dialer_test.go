package dialer

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/ui/styles"
)

func k(s string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"left": tea.KeyLeft, "right": tea.KeyRight, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace, "delete": tea.KeyDelete, "ctrl+u": tea.KeyCtrlU,
		"ctrl+k": tea.KeyCtrlK, "ctrl+w": tea.KeyCtrlW, "ctrl+a": tea.KeyCtrlA, "ctrl+e": tea.KeyCtrlE,
		"space": tea.KeySpace, "enter": tea.KeyEnter,
	}
	if t, ok := named[s]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestEdit(t *testing.T) {
	tests := []struct {
		name   string
		keys   []string
		want   string
		cursor int
	}{
		{"type", []string{"s", "i", "p", ":", "1"}, "sip:1", 5},
		{"paste", []string{"sip:bob@example.com"}, "sip:bob@example.com", 19},
		{"backspace", []string{"abc", "backspace"}, "ab", 2},
		{"backspace at start", []string{"home", "backspace"}, "", 0},
		{"insert in the middle", []string{"ac", "left", "b"}, "abc", 2},
		{"home and delete", []string{"abc", "home", "delete"}, "bc", 0},
		{"right stops at end", []string{"ab", "right", "right"}, "ab", 2},
		{"ctrl+u kills to start", []string{"abcd", "left", "ctrl+u"}, "d", 0},
		{"ctrl+k kills to end", []string{"abcd", "ctrl+a", "right", "ctrl+k"}, "a", 1},
		{"ctrl+w kills a word", []string{"sip:bob@example.com", "ctrl+w"}, "sip:bob@example.", 16},
		{"ctrl+w twice", []string{"sip:bob@ex", "ctrl+w", "ctrl+w"}, "sip:bob", 7},
		{"space", []string{"a", "space", "b"}, "a b", 3},
		{"enter is not text", []string{"a", "enter"}, "a", 1},
		{"control chars dropped", []string{"a\r\nb"}, "ab", 2},
		{"too long ignored", []string{strings.Repeat("x", MaxLen), "y"}, strings.Repeat("x", MaxLen), MaxLen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(styles.Default(), "> ", nil).Focus()
			for _, s := range tc.keys {
				before := m.Value()
				next, _ := m.Update(k(s))
				if m.Value() != before {
					t.Fatal("Update changed its receiver")
				}
				m = next
			}
			if m.Value() != tc.want || m.Cursor() != tc.cursor {
				t.Errorf("got %q@%d, want %q@%d", m.Value(), m.Cursor(), tc.want, tc.cursor)
			}
		})
	}
}

func TestHistory(t *testing.T) {
	m := New(styles.Default(), "> ", []string{"100", "100", " ", "sip:bob@x"})
	if got := m.History(); !slices.Equal(got, []string{"100", "sip:bob@x"}) {
		t.Fatalf("history %q", got)
	}
	m = m.Insert("dra")
	steps := []struct {
		op   string
		want string
	}{
		{"prev", "sip:bob@x"}, {"prev", "100"}, {"prev", "100"}, {"next", "sip:bob@x"}, {"next", "dra"}, {"next", "dra"},
	}
	for i, s := range steps {
		if s.op == "prev" {
			m = m.HistoryPrev()
		} else {
			m = m.HistoryNext()
		}
		if m.Value() != s.want {
			t.Fatalf("step %d (%s): %q, want %q", i, s.op, m.Value(), s.want)
		}
	}
	m = m.Push("200").Push("200")
	if got := m.History(); !slices.Equal(got, []string{"100", "sip:bob@x", "200"}) || m.Value() != "" {
		t.Errorf("after push: %q, line %q", got, m.Value())
	}
	if m.HistoryPrev().Value() != "200" {
		t.Error("↑ after a push should recall it")
	}
}

func TestComplete(t *testing.T) {
	cands := []Candidate{
		{Name: "Dave Desk", URI: "sip:dave@example.com"},
		{Name: "Dana Scully", URI: "sip:dana@fbi.example"},
		{Name: "Reception", URI: "sip:100@example.com"},
		{Name: "Dup", URI: "sip:dave@example.com"},
	}
	tests := []struct {
		typed string
		tabs  int
		want  string
	}{
		{"dav", 1, "sip:dave@example.com"},
		{"da", 1, "sip:dave@example.com"},
		{"da", 2, "sip:dana@fbi.example"},
		{"da", 3, "sip:dave@example.com"},
		{"scu", 1, "sip:dana@fbi.example"},
		{"sip:10", 1, "sip:100@example.com"},
		{"10", 1, "sip:100@example.com"},
		{"RECE", 1, "sip:100@example.com"},
		{"zzz", 1, "zzz"},
		{"", 1, ""},
	}
	for _, tc := range tests {
		m := New(styles.Default(), "> ", nil).Insert(tc.typed)
		for range tc.tabs {
			m = m.Complete(cands)
		}
		if m.Value() != tc.want {
			t.Errorf("%q + %d tab: %q, want %q", tc.typed, tc.tabs, m.Value(), tc.want)
		}
	}
	if got := Matches("d", cands); !slices.Equal(got, []string{"sip:dave@example.com", "sip:dana@fbi.example"}) {
		t.Errorf("Matches = %q", got)
	}
}

func TestView(t *testing.T) {
	m := New(styles.Default(), "dial> ", nil)
	m.Placeholder = "type"
	if got := m.View(); got != "dial> type" {
		t.Errorf("blurred empty view %q", got)
	}
	m = m.Focus().Insert("123")
	if got := m.View(); !strings.HasPrefix(got, "dial> 123") {
		t.Errorf("focused view %q", got)
	}
}
