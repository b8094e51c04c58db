package keys

import (
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
)

func TestNew(t *testing.T) {
	km, err := New(map[string][]string{Reject: {"x"}, Quit: {"ctrl+q", "Q"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(km.Reject.Keys(), []string{"x"}) || !slices.Equal(km.Decline.Keys(), []string{"alt+x"}) {
		t.Errorf("reject %q, decline %q", km.Reject.Keys(), km.Decline.Keys())
	}
	if km.Quit.Help().Key != "ctrl+q/Q" || km.Quit.Help().Desc != "quit" {
		t.Errorf("quit help %+v", km.Quit.Help())
	}
	if !slices.Equal(km.Answer.Keys(), []string{"a"}) {
		t.Error("unmapped actions keep their defaults")
	}

	for _, bad := range []map[string][]string{{"fly": {"x"}}, {Answer: nil}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%v) accepted", bad)
		}
	}
	if _, err := New(map[string][]string{"fly": {"x"}}); err == nil || !strings.Contains(err.Error(), `"fly"`) {
		t.Errorf("error should name the action: %v", err)
	}
}

func TestEveryActionMapsAndHasHelp(t *testing.T) {
	km := Default()
	for _, a := range Actions {
		b := km.binding(a)
		if b == nil {
			t.Errorf("action %q has no binding", a)
			continue
		}
		if b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("action %q lacks help", a)
		}
	}
	for _, col := range km.FullHelp() {
		for _, b := range col {
			if b.Help().Desc == "" {
				t.Errorf("binding %q lacks help", b.Keys())
			}
		}
	}
}

func TestDefaultsDoNotCollide(t *testing.T) {
	km := Default()
	seen := map[string]string{}
	for _, b := range []key.Binding{km.Answer, km.Reject, km.Decline, km.Forward, km.Defer, km.End, km.Hold,
		km.Mute, km.Record, km.Transfer, km.AttendedTransfer, km.Conference, km.Next, km.Prev, km.DTMF,
		km.Dial, km.Log, km.Devices, km.Help, km.Quit} {
		for _, k := range b.Keys() {
			if prev, ok := seen[k]; ok {
				t.Errorf("key %q used by %q and %q", k, prev, b.Help().Desc)
			}
			seen[k] = b.Help().Desc
		}
	}
}
