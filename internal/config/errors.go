package config

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel causes carried by [Error]; test them with errors.Is.
var (
	// ErrUnknownKey means the file has a key that teaphone does not know.
	ErrUnknownKey = errors.New("unknown key")
	// ErrSyntax means the file is not valid TOML.
	ErrSyntax = errors.New("toml syntax error")
	// ErrType means a value in the file has the wrong TOML type.
	ErrType = errors.New("wrong type")
	// ErrInvalid means a value is well-typed but not acceptable.
	ErrInvalid = errors.New("invalid value")
)

// Error is one problem with the configuration, located by key and, when the
// value came from the file, by line. Validate and Load return these (joined
// with errors.Join when there are several).
type Error struct {
	// File is the configuration file the value came from, "" if it did not.
	File string
	// Line and Column locate the value in File (1-based); 0 when unknown.
	Line, Column int
	// Source names a non-file origin such as "$TEAPHONE_LISTEN" or "command line".
	Source string
	// Key is the TOML key path, e.g. "accounts[0].aor"; "" for syntax errors.
	Key string
	// Msg is the text after the location, already including the key when relevant.
	Msg string
	// Detail is an optional multi-line excerpt of the file around the problem.
	Detail string
	// Err is the cause: one of the sentinels above, possibly wrapping more.
	Err error
}

// Error implements error: "file:line[:col]: msg" or "source: msg" or "msg".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
		b.WriteString(": ")
	case e.File != "":
		b.WriteString(e.File)
		b.WriteString(": ")
	case e.Source != "":
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Detail != "" {
		b.WriteByte('\n')
		b.WriteString(strings.TrimRight(e.Detail, "\n"))
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
