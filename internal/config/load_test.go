package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes content to a fresh config.toml and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings; a leading "@" stands for the file path
		is      error
	}{
		{
			name:    "unknown key",
			content: "[sip]\nlisten = \":5060\"\nlisen = \":5061\"\n",
			want:    []string{`@:3: unknown key "sip.lisen" (did you mean "listen"?)`},
			is:      ErrUnknownKey,
		},
		{
			name:    "unknown key in second account",
			content: "[[accounts]]\nname = \"a\"\naor = \"sip:a@x\"\n\n[[accounts]]\nname = \"b\"\npasword = \"x\"\n",
			want:    []string{`@:7: unknown key "accounts[1].pasword" (did you mean "password"?)`},
			is:      ErrUnknownKey,
		},
		{
			name:    "unknown table",
			content: "[sip]\nmax_calls = 2\n\n[audio]\ndevice = \"x\"\n",
			want:    []string{`@:4: unknown key "audio"`},
			is:      ErrUnknownKey,
		},
		{
			name:    "several unknown keys",
			content: "foo = 1\n[media]\ncodec = [\"PCMU\"]\n",
			want:    []string{`@:1: unknown key "foo"`, `@:3: unknown key "media.codec" (did you mean "codecs"?)`},
			is:      ErrUnknownKey,
		},
		{
			name:    "keys are case-sensitive",
			content: "[SIP]\nListen = \":5060\"\n[[accounts]]\naor = \"sip:a@x\"\nRegister = false\n",
			want: []string{
				`@:1: unknown key "SIP" (keys are case-sensitive: did you mean "sip"?)`,
				`@:5: unknown key "accounts[0].Register" (keys are case-sensitive: did you mean "register"?)`,
			},
			is: ErrUnknownKey,
		},
		{
			name:    "bad type",
			content: "[sip]\n\nmax_calls = \"four\"\n",
			want:    []string{`@:3:13: sip.max_calls: want an integer, got string`},
			is:      ErrType,
		},
		{
			name:    "bad type in array table",
			content: "[[accounts]]\naor = \"sip:a@x\"\n[[accounts]]\naor = \"sip:b@x\"\nexpires = \"300\"\n",
			want:    []string{`@:5:11: accounts[1].expires: want an integer, got string`},
			is:      ErrType,
		},
		{
			name:    "bad array element type",
			content: "[media]\ncodecs = \"PCMU\"\n",
			want:    []string{`@:2:10: media.codecs: want an array of strings, got string`},
			is:      ErrType,
		},
		{
			name:    "bad element type points at the element",
			content: "[media]\nrtp_ports = [10000, \"20000\"]\n",
			want:    []string{`@:2:21: media.rtp_ports[1]: want an integer, got string`},
			is:      ErrType,
		},
		{
			name:    "bad key binding type",
			content: "[ui.keys]\nanswer = \"a\"\n",
			want:    []string{`@:2:10: ui.keys.answer: want an array of strings, got string`},
			is:      ErrType,
		},
		{
			name:    "table where value expected",
			content: "sip = 5\n",
			want:    []string{`@:1:7: sip: want a table, got integer`},
			is:      ErrType,
		},
		{
			name:    "bad duration",
			content: "[sip]\ndefer_timeout = \"soon\"\n",
			want:    []string{`@:2:17: sip.defer_timeout: want a duration like "60s", got "soon"`},
			is:      ErrInvalid,
		},
		{
			name:    "syntax error keeps line and column",
			content: "[sip]\nlisten = \n",
			want:    []string{`@:2:10: unexpected character`, "2| listen ="},
			is:      ErrSyntax,
		},
		{
			name:    "unterminated string",
			content: "[sip]\nuser_agent = \"tea\n",
			want:    []string{`@:2:`},
			is:      ErrSyntax,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.content)
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load: want an error, got nil")
			}
			for _, w := range tt.want {
				if strings.HasPrefix(w, "@") {
					w = path + w[1:]
				}
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nwant it to contain\n%s", err, w)
				}
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false; err = %v", tt.is, err)
			}
		})
	}
}

func TestLoadBOMAndNoWildSuggestion(t *testing.T) {
	cfg, err := Load(writeConfig(t, "\ufeff[sip]\nmax_calls = 2\n"))
	if err != nil || cfg.SIP.MaxCalls != 2 {
		t.Fatalf("file with a byte order mark: max_calls %d, %v", cfg.SIP.MaxCalls, err)
	}
	_, err = Load(writeConfig(t, "[[accounts]]\nfoo = 1\n"))
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Fatalf("want an unknown key error without a far-fetched suggestion, got %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)

	// The default path may be missing: defaults, no error.
	for _, path := range []string{"", DefaultPath()} {
		cfg, err := Load(path)
		if err != nil {
			t.Fatalf("Load(%q) with no file at the default path: %v", path, err)
		}
		if cfg.SIP.Listen != Default().SIP.Listen {
			t.Errorf("Load(%q).SIP.Listen = %q, want the default", path, cfg.SIP.Listen)
		}
	}

	// A path given explicitly must exist.
	explicit := filepath.Join(dir, "nope.toml")
	_, err := Load(explicit)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), explicit) {
		t.Fatalf("Load(%q) = %v, want a not-exist error naming the file", explicit, err)
	}

	// A file at the default path is read.
	if err := os.MkdirAll(filepath.Dir(DefaultPath()), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(DefaultPath(), []byte("[sip]\nmax_calls = 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("")
	if err != nil || cfg.SIP.MaxCalls != 9 {
		t.Fatalf("Load(\"\") = max_calls %d, %v; want 9, nil", cfg.SIP.MaxCalls, err)
	}
}

func TestLoadOverDefaults(t *testing.T) {
	path := writeConfig(t, `
[sip]
transports = ["tcp"]
defer_timeout = "2m30s"

[[accounts]]
name = "work"
aor = "sip:alice@pbx.example.com"

[[accounts]]
name = "home"
aor = "sips:alice@home.example.com"
register = false
expires = 600

[media]
codecs = ["PCMA"]
rtp_timeout = "0s"

[nat]
contact_rewrite = false
keepalive = "0s"

[ui.keys]
answer = ["a", "enter"]
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	def := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"sip.listen (default kept)", cfg.SIP.Listen, def.SIP.Listen},
		{"sip.transports replaced", strings.Join(cfg.SIP.Transports, ","), "tcp"},
		{"sip.defer_timeout", cfg.SIP.DeferTimeout.Duration, 150 * time.Second},
		{"media.codecs replaced, not merged", strings.Join(cfg.Media.Codecs, ","), "PCMA"},
		{"accounts[0].register default", cfg.Accounts[0].Register, true},
		{"accounts[0].expires default", cfg.Accounts[0].Expires, 300},
		{"accounts[1].register", cfg.Accounts[1].Register, false},
		{"accounts[1].expires", cfg.Accounts[1].Expires, 600},
		{"ui.keys.answer", strings.Join(cfg.UI.Keys["answer"], ","), "a,enter"},
		{"calls.auto_hold default", cfg.Calls.AutoHold, true},
		{"media.rtp_timeout off", cfg.Media.RTPTimeout.Duration, time.Duration(0)},
		{"nat.contact_rewrite", cfg.NAT.ContactRewrite, false},
		{"nat.keepalive off", cfg.NAT.KeepAlive.Duration, time.Duration(0)},
		{"File()", cfg.File(), path},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Default() must not be changed through shared slices.
	if strings.Join(Default().Media.Codecs, ",") != strings.Join(DefaultCodecs(), ",") {
		t.Error("Default() was modified by Load")
	}
}

func TestInlineAccounts(t *testing.T) {
	path := writeConfig(t, `accounts = [
  { name = "a", aor = "sip:a@x.example" },
  { name = "b", aor = "bob", register = false },
]
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Accounts[0].Register || cfg.Accounts[1].Register || cfg.Accounts[1].Expires != 300 {
		t.Errorf("inline accounts defaults: %v", cfg.Accounts)
	}
	err = cfg.Validate()
	want := path + `:3: accounts[1].aor: want a sip: or sips: URI with a user, got "bob"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Validate = %v, want %s", err, want)
	}
}

func TestScanPositions(t *testing.T) {
	doc := `[sip]
listen = ":5060"
transports = [
  "udp",
  "tcp",
]

[[accounts]]
aor = "sip:a@x"
[[accounts]]
name = "b"
[ui.keys]
answer = ["a"]
[[contacts]]
uri = "sip:c@x"
`
	want := map[string]int{
		"sip":               1,
		"sip.listen":        2,
		"sip.transports":    3,
		"sip.transports[0]": 4,
		"sip.transports[1]": 5,
		"accounts[0]":       8,
		"accounts[0].aor":   9,
		"accounts[1]":       10,
		"accounts[1].name":  11,
		"ui.keys":           12,
		"ui.keys.answer":    13,
		"contacts[0].uri":   15,
	}
	got := map[string]int{}
	for _, p := range scanPositions([]byte(doc)) {
		got[p.path] = p.line
	}
	for k, line := range want {
		if got[k] != line {
			t.Errorf("line of %q = %d, want %d", k, got[k], line)
		}
	}
	if scanPositions([]byte("a = \n")) != nil {
		t.Error("scanPositions of a bad document should be nil")
	}
}

// FuzzLoad checks that no input makes decoding or validation panic.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"", "[sip]\nlisten = \":5060\"\n", "[[accounts]]\naor = \"sip:a@b\"\n[[accounts]]\n",
		"accounts = [{aor = \"x\"}]", "[ui.keys]\nfoo = [\"x\"]\n", "[media]\nrtp_ports = [1]\n",
		"a.b.c = 1\n[a]\n", "[[a.b]]\n[[a]]\n[[a.b]]\nx = [[1], {y = 2}]\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg := Default()
		if err := cfg.decode("fuzz.toml", []byte(s)); err != nil {
			return
		}
		_ = cfg.Validate()
	})
}

func TestAccountTLSVerify(t *testing.T) {
	path := writeConfig(t, `[[accounts]]
name = "lab"
aor = "sips:a@lab.test"
[accounts.tls]
verify = false

[[accounts]]
name = "real"
aor = "sips:b@provider.test"
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Accounts[0].TLS.NoVerify() || cfg.Accounts[1].TLS.NoVerify() || !cfg.TLS.Verify {
		t.Errorf("accounts.tls.verify: lab %v, real %v, [tls] verify %v; want only lab unverified",
			cfg.Accounts[0].TLS.NoVerify(), cfg.Accounts[1].TLS.NoVerify(), cfg.TLS.Verify)
	}
}
