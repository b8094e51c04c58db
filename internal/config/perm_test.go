package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWarningsWorldReadablePassword(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no file modes")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		text string
		mode os.FileMode
		warn bool
	}{
		{"password, mode 0644", "[[accounts]]\naor = \"sip:a@example.com\"\npassword = \"x\"\n", 0o644, true},
		{"password, mode 0640", "[[accounts]]\naor = \"sip:a@example.com\"\npassword = \"x\"\n", 0o640, true},
		{"password, mode 0600", "[[accounts]]\naor = \"sip:a@example.com\"\npassword = \"x\"\n", 0o600, false},
		{"no password, mode 0644", "[[accounts]]\naor = \"sip:a@example.com\"\npassword_cmd = \"pass sip\"\n", 0o644, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".toml")
			if err := os.WriteFile(path, []byte(tc.text), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // umask
				t.Fatal(err)
			}
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			w := cfg.Warnings()
			if tc.warn != (len(w) == 1) {
				t.Fatalf("warnings %q, want a warning: %v", w, tc.warn)
			}
			if tc.warn && (!strings.Contains(w[0], "chmod 600 "+path) || !strings.Contains(w[0], "password")) {
				t.Errorf("warning %q does not say what to do", w[0])
			}
		})
	}
	// A password from the environment is not in the file.
	path := filepath.Join(dir, "env.toml")
	if err := os.WriteFile(path, []byte("[[accounts]]\naor = \"sip:a@example.com\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ApplyEnv(func(k string) (string, bool) { return "secret", k == "TEAPHONE_PASSWORD" })
	if w := cfg.Warnings(); len(w) != 0 {
		t.Errorf("warnings %q for a password from the environment", w)
	}
}
