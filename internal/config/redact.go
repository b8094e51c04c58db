package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

const redacted = "[redacted]"

// Secret is a string that never prints: String, GoString, LogValue, and
// MarshalText (hence JSON) all give "[redacted]", or "" when it is empty.
// Convert it with string(s) only where the password is actually needed.
type Secret string

// String implements fmt.Stringer without revealing the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer without revealing the secret.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue implements slog.LogValuer without revealing the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler without revealing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// redactedCmd hides a password command, which may embed the password itself.
func redactedCmd(cmd string) string {
	if cmd == "" {
		return ""
	}
	return redacted
}

// String describes the account without its password or password command.
func (a Account) String() string {
	var b strings.Builder
	b.WriteString("{")
	fmt.Fprintf(&b, "name:%q aor:%q display_name:%q registrar:%q outbound_proxy:%q username:%q",
		a.Name, a.AOR, a.DisplayName, a.Registrar, a.OutboundProxy, a.Username)
	fmt.Fprintf(&b, " password:%q password_env:%q password_cmd:%q register:%t expires:%d}",
		a.Password.String(), a.PasswordEnv, redactedCmd(a.PasswordCmd), a.Register, a.Expires)
	return b.String()
}

// GoString is like String, so %#v does not reveal the password either.
func (a Account) GoString() string { return "config.Account" + a.String() }

// LogValue implements slog.LogValuer without the password or password command.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", a.Name),
		slog.String("aor", a.AOR),
		slog.String("display_name", a.DisplayName),
		slog.String("registrar", a.Registrar),
		slog.String("outbound_proxy", a.OutboundProxy),
		slog.String("username", a.Username),
		slog.String("password", a.Password.String()),
		slog.String("password_env", a.PasswordEnv),
		slog.String("password_cmd", redactedCmd(a.PasswordCmd)),
		slog.Bool("register", a.Register),
		slog.Int("expires", a.Expires),
	)
}

// MarshalJSON encodes the account with the password and password command
// redacted, so JSON log handlers and debug dumps cannot leak them.
func (a Account) MarshalJSON() ([]byte, error) {
	type plain Account // no methods: avoids recursion
	p := plain(a)
	p.PasswordCmd = redactedCmd(a.PasswordCmd)
	return json.Marshal(p)
}

// String describes the whole configuration with passwords redacted.
func (c Config) String() string {
	accs := make([]string, len(c.Accounts))
	for i, a := range c.Accounts {
		accs[i] = a.String()
	}
	return fmt.Sprintf("{sip:%+v accounts:[%s] media:%+v calls:%+v nat:%+v ui:%+v contacts:%+v}",
		c.SIP, strings.Join(accs, " "), c.Media, c.Calls, c.NAT, c.UI, c.Contacts)
}

// GoString is like String, so %#v does not reveal passwords either.
func (c Config) GoString() string { return "config.Config" + c.String() }

// LogValue implements slog.LogValuer with passwords redacted.
func (c Config) LogValue() slog.Value {
	accs := make([]slog.Attr, len(c.Accounts))
	for i, a := range c.Accounts {
		accs[i] = slog.Any(strconv.Itoa(i), a)
	}
	return slog.GroupValue(
		slog.String("file", c.file),
		slog.Any("sip", c.SIP),
		slog.Attr{Key: "accounts", Value: slog.GroupValue(accs...)},
		slog.Any("media", c.Media),
		slog.Any("calls", c.Calls),
		slog.Any("nat", c.NAT),
		slog.Any("ui", c.UI),
		slog.Int("contacts", len(c.Contacts)),
	)
}
