package history

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestAddThenLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "teaphone", "history")
	h := Open(path, nil)
	if got := h.Load(); got != nil {
		t.Fatalf("Load of a missing file = %q, want none", got)
	}
	h.Add("100")
	h.Add("sip:bob@example.com")
	h.Add("evil\r\nline") // not kept
	h.Add("")
	if got, want := Open(path, nil).Load(), []string{"100", "sip:bob@example.com"}; !slices.Equal(got, want) {
		t.Errorf("Load = %q, want %q", got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestLoadKeepsTheNewest(t *testing.T) {
	h := Open(filepath.Join(t.TempDir(), "history"), nil)
	for i := range Max + 5 {
		h.Add(fmt.Sprint(i))
	}
	got := h.Load()
	if len(got) != Max || got[0] != "5" || got[len(got)-1] != fmt.Sprint(Max+4) {
		t.Errorf("Load = %d entries from %q to %q, want %d from 5", len(got), got[0], got[len(got)-1], Max)
	}
}

func TestNoPathKeepsNothing(t *testing.T) {
	h := Open("", nil)
	h.Add("100")
	if got := h.Load(); got != nil {
		t.Errorf("Load = %q", got)
	}
}
