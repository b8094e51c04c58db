package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// passwordCmdTimeout bounds password_cmd; a variable so tests can shorten it.
var passwordCmdTimeout = 10 * time.Second

// ResolvePassword returns the account's password from, in order: password,
// the variable named by password_env, or the first stdout line of
// password_cmd run with sh -c (10 s timeout). With none of them set it
// returns "" and no error. Errors name the account and the source that
// failed, and never contain the password or the command's output.
func (a Account) ResolvePassword(ctx context.Context) (string, error) {
	switch {
	case a.Password != "":
		return string(a.Password), nil
	case a.PasswordEnv != "":
		v, ok := os.LookupEnv(a.PasswordEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("account %s: password_env: environment variable %s is not set or empty", a.label(), a.PasswordEnv)
		}
		return v, nil
	case a.PasswordCmd != "":
		pw, err := runPasswordCmd(ctx, a.PasswordCmd)
		if err != nil {
			return "", fmt.Errorf("account %s: password_cmd: %w", a.label(), err)
		}
		return pw, nil
	}
	return "", nil
}

// label names the account in errors: its name, else its AOR.
func (a Account) label() string {
	if a.Name != "" {
		return fmt.Sprintf("%q", a.Name)
	}
	return fmt.Sprintf("%q", a.AOR)
}

// runPasswordCmd runs cmd with sh -c and returns its first stdout line.
// Its stdout and stderr are never put in errors: either may hold the secret.
func runPasswordCmd(ctx context.Context, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, passwordCmdTimeout)
	defer cancel()
	var out bytes.Buffer
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.Stdout = &out
	c.Stdin = nil
	c.Stderr = nil
	// A background child holding stdout open must not make Wait hang.
	c.WaitDelay = 500 * time.Millisecond
	err := c.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return "", fmt.Errorf("command timed out (limit %s)", passwordCmdTimeout)
		}
		return "", fmt.Errorf("command canceled: %w", ctxErr)
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("command failed with exit status %d", exit.ExitCode())
		}
		return "", fmt.Errorf("run command: %w", err)
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	pw := strings.TrimRight(line, "\r")
	if pw == "" {
		return "", errors.New("command printed an empty first line")
	}
	return pw, nil
}
