package config

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestResolvePassword(t *testing.T) {
	t.Setenv("TEAPHONE_TEST_PW", "env-secret")
	t.Setenv("TEAPHONE_TEST_EMPTY", "")
	tests := []struct {
		name    string
		acc     Account
		want    string
		wantErr []string // substrings of the error
	}{
		{"none", Account{Name: "w"}, "", nil},
		{"plain wins", Account{Name: "w", Password: "plain", PasswordEnv: "TEAPHONE_TEST_PW", PasswordCmd: "echo cmd"}, "plain", nil},
		{"env", Account{Name: "w", PasswordEnv: "TEAPHONE_TEST_PW", PasswordCmd: "echo cmd"}, "env-secret", nil},
		{"env unset", Account{Name: "w", PasswordEnv: "TEAPHONE_TEST_UNSET_XYZ"}, "",
			[]string{`account "w"`, "password_env", "TEAPHONE_TEST_UNSET_XYZ", "not set"}},
		{"env empty", Account{Name: "w", PasswordEnv: "TEAPHONE_TEST_EMPTY"}, "", []string{"password_env"}},
		{"cmd first line", Account{Name: "w", PasswordCmd: "printf 'cmd-secret\\r\\nsecond\\n'"}, "cmd-secret", nil},
		{"cmd without newline", Account{Name: "w", PasswordCmd: "printf s3"}, "s3", nil},
		{"cmd fails", Account{AOR: "sip:a@x", PasswordCmd: "echo hunter2; echo hunter2 >&2; exit 3"}, "",
			[]string{`account "sip:a@x"`, "password_cmd", "exit status 3"}},
		{"cmd prints nothing", Account{Name: "w", PasswordCmd: "true"}, "", []string{"password_cmd", "empty first line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.acc.ResolvePassword(context.Background())
			if got != tt.want {
				t.Errorf("password = %q, want %q", got, tt.want)
			}
			if (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr != nil)
			}
			if err == nil {
				return
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error reveals the command output: %v", err)
			}
		})
	}
}

func TestResolvePasswordTimeout(t *testing.T) {
	old := passwordCmdTimeout
	passwordCmdTimeout = 100 * time.Millisecond
	t.Cleanup(func() { passwordCmdTimeout = old })

	start := time.Now()
	acc := Account{Name: "slow", PasswordCmd: "sleep 10; echo late"}
	_, err := acc.ResolvePassword(context.Background())
	if err == nil || !strings.Contains(err.Error(), `account "slow": password_cmd: command timed out`) {
		t.Fatalf("err = %v, want a timeout naming the account", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %s", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := acc.ResolvePassword(ctx); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("canceled ctx: err = %v", err)
	}
}

func TestRedaction(t *testing.T) {
	const pw, cmdSecret = "hunter2", "s3cr3t-in-cmd"
	acc := Account{
		Name: "work", AOR: "sip:alice@x.example", Username: "alice",
		Password: pw, PasswordCmd: "echo " + cmdSecret, Register: true, Expires: 300,
	}
	cfg := Default()
	cfg.Accounts = []Account{acc}

	var text, js bytes.Buffer
	tl := slog.New(slog.NewTextHandler(&text, nil))
	jl := slog.New(slog.NewJSONHandler(&js, nil))
	for _, l := range []*slog.Logger{tl, jl} {
		l.Info("acc", "account", acc, "config", cfg, "accounts", cfg.Accounts, "pw", acc.Password)
		l.Info("group", slog.Group("g", slog.Any("a", &acc)))
	}
	jsonAcc, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"Sprint(account)":   fmt.Sprint(acc),
		"%v account":        fmt.Sprintf("%v", acc),
		"%+v account":       fmt.Sprintf("%+v", acc),
		"%#v account":       fmt.Sprintf("%#v", acc),
		"%v &account":       fmt.Sprintf("%v", &acc),
		"Sprint(password)":  fmt.Sprint(acc.Password),
		"%v config":         fmt.Sprintf("%v", cfg),
		"%+v config":        fmt.Sprintf("%+v", cfg),
		"%#v config":        fmt.Sprintf("%#v", cfg),
		"%v accounts":       fmt.Sprintf("%v", cfg.Accounts),
		"%v struct holding": fmt.Sprintf("%+v", struct{ C Config }{cfg}),
		"slog text":         text.String(),
		"slog json":         js.String(),
		"json config":       string(jsonAcc),
	}
	for name, out := range outputs {
		if strings.Contains(out, pw) || strings.Contains(out, cmdSecret) {
			t.Errorf("%s reveals a secret: %s", name, out)
		}
	}
	for _, name := range []string{"Sprint(account)", "slog text", "slog json"} {
		if !strings.Contains(outputs[name], redacted) || !strings.Contains(outputs[name], "sip:alice@x.example") {
			t.Errorf("%s should show the AOR and %q: %s", name, redacted, outputs[name])
		}
	}
	if Secret("").String() != "" {
		t.Error("an empty secret should print as empty")
	}
}
