package ctl

import (
	"strings"

	"github.com/teaphone/teaphone/internal/script"
)

// JoinArgs turns the words of a command line ("teaphone ctl reject 480
// 'Not now'") into the text of one command, so that the phone parses
// exactly the arguments given: the command name as is, each further
// argument bare when the call-script syntax reads it back unchanged, else
// double-quoted (script.Quote). The digits of dtmf are run together
// instead ("dtmf 1 2 #" is "dtmf 12#"), as dtmf takes no quotes. A single
// word is the whole command, sent unchanged, so a command quoted as one
// argument ('reject 480 "Not now"') works as it is.
func JoinArgs(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	if len(args) == 0 {
		return ""
	}
	name := args[0]
	if strings.EqualFold(name, "dtmf") {
		return name + " " + strings.Join(args[1:], "")
	}
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args[1:] {
		b.WriteByte(' ')
		b.WriteString(script.Quote(a))
	}
	return b.String()
}
