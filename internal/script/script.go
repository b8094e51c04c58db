// Package script parses teaphone's call scripts: the list of actions run on
// every call in the headless answer and dial modes (README.md, Headless
// modes).
//
// A script is a list of commands separated by ";" or newlines. Command names
// are case-insensitive. "#" starts a comment (to the end of the line) at the
// start of a command, or after white space when a space or tab follows it:
// "hangup # done" has a comment, while "dtmf 123#" and "dtmf #" send "#"
// (write "expect dtmf=#1" for digits starting with "#" before "within").
// A file, target, reason or text argument may be written in double quotes
// (Go syntax) to hold ";", "#" or surrounding spaces.
//
//	wait 2s                       pause (Go duration, or plain seconds: "2", "1.5")
//	hangup                        end the call
//	dtmf 123#                     send DTMF digits (0-9 * # A-D)
//	play FILE.wav                 play a WAV file to the remote and wait until it was played
//	record FILE.wav               record the call (stereo: remote left, local right)
//	record start | record stop    record to the configured directory and file name template
//	hold | resume | mute | unmute
//	transfer URI                  blind transfer (REFER)
//	transfer-attended LINE        attended transfer to the call on LINE (or a call ID)
//	expect state S [within D]     wait until the call is in state S
//	expect dtmf DIGITS [within D] wait until DIGITS were received, in a row
//	expect [not] held_remote [within D]   (also held_local)
//	answer                        answer a ringing call (answer mode)
//	reject [CODE [REASON]]        refuse a ringing call (answer mode; default 486)
//	log TEXT                      print a "log" event
//
// An expect without "within" waits DefaultExpectTimeout. DTMF received since
// the call started counts; an expect dtmf that matches consumes the digits up
// to the end of its match, so "expect dtmf 1; expect dtmf 1" needs two 1s.
package script

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// Limits of the script language.
const (
	// DefaultExpectTimeout bounds an expect written without "within".
	DefaultExpectTimeout = 10 * time.Second
	// MaxDuration bounds every duration in a script.
	MaxDuration = 24 * time.Hour
	// MaxCommands bounds the length of a script.
	MaxCommands = 10_000
	// DefaultRejectCode is the status of a "reject" without a code (486 Busy Here).
	DefaultRejectCode = 486
)

// Op is the kind of a command.
type Op int

// Commands.
const (
	OpInvalid          Op = iota
	OpWait                // Duration
	OpHangup              //
	OpDTMF                // Arg: digits, upper-cased
	OpPlay                // Arg: file
	OpRecord              // Arg: file
	OpRecordStart         // record to the configured directory and template
	OpRecordStop          //
	OpHold                //
	OpResume              //
	OpMute                //
	OpUnmute              //
	OpTransfer            // Arg: target URI, normalized
	OpTransferAttended    // Arg: line number or call ID of the consultation call
	OpExpectState         // State, Duration
	OpExpectDTMF          // Arg: digits, Duration
	OpExpectHeldRemote    // Not, Duration
	OpExpectHeldLocal     // Not, Duration
	OpAnswer              //
	OpReject              // Code, Arg: reason phrase (may be empty)
	OpLog                 // Arg: text
	OpForward             // Arg: target URI, normalized (a ringing call, 302)
	OpIgnore              // a ringing call rings on silently
)

var opNames = [...]string{
	OpInvalid:          "invalid",
	OpWait:             "wait",
	OpHangup:           "hangup",
	OpDTMF:             "dtmf",
	OpPlay:             "play",
	OpRecord:           "record",
	OpRecordStart:      "record start",
	OpRecordStop:       "record stop",
	OpHold:             "hold",
	OpResume:           "resume",
	OpMute:             "mute",
	OpUnmute:           "unmute",
	OpTransfer:         "transfer",
	OpTransferAttended: "transfer-attended",
	OpExpectState:      "expect state",
	OpExpectDTMF:       "expect dtmf",
	OpExpectHeldRemote: "expect held_remote",
	OpExpectHeldLocal:  "expect held_local",
	OpAnswer:           "answer",
	OpReject:           "reject",
	OpLog:              "log",
	OpForward:          "forward",
	OpIgnore:           "ignore",
}

// String returns the command's name as written in scripts ("expect dtmf").
func (o Op) String() string {
	if o >= 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "invalid"
}

// Expect reports whether the command is an assertion.
func (o Op) Expect() bool {
	return o == OpExpectState || o == OpExpectDTMF || o == OpExpectHeldRemote || o == OpExpectHeldLocal
}

// Command is one parsed command.
type Command struct {
	Op Op
	// Line is the 1-based source line; Index is the 1-based position of the
	// command on that line, N its 1-based position in the script.
	Line, Index, N int
	// Duration is the pause of wait and the bound of an expect.
	Duration time.Duration
	// Arg is the digits, file, target, consultation call or text (see Op).
	Arg string
	// State is the state an expect state waits for.
	State sessions.State
	// Not negates expect held_remote / held_local.
	Not bool
	// Code is the status of reject.
	Code int
}

// String returns the command in canonical script syntax; Parse reads it
// back to the same command.
func (c Command) String() string {
	switch c.Op {
	case OpWait:
		return "wait " + c.Duration.String()
	case OpDTMF, OpTransferAttended:
		return c.Op.String() + " " + c.Arg
	case OpRecord:
		if a := strings.ToLower(c.Arg); a == "start" || a == "stop" {
			return "record " + strconv.Quote(c.Arg)
		}
		return "record " + Quote(c.Arg)
	case OpPlay, OpTransfer, OpLog, OpForward:
		return c.Op.String() + " " + Quote(c.Arg)
	case OpExpectState:
		return fmt.Sprintf("expect state %s within %s", c.State, c.Duration)
	case OpExpectDTMF:
		if strings.HasPrefix(c.Arg, "#") { // "expect dtmf # …" would be a comment
			return fmt.Sprintf("expect dtmf=%s within %s", c.Arg, c.Duration)
		}
		return fmt.Sprintf("expect dtmf %s within %s", c.Arg, c.Duration)
	case OpExpectHeldRemote, OpExpectHeldLocal:
		what := strings.TrimPrefix(c.Op.String(), "expect ")
		if c.Not {
			what = "not " + what
		}
		return fmt.Sprintf("expect %s within %s", what, c.Duration)
	case OpReject:
		s := "reject " + strconv.Itoa(c.Code)
		if c.Arg != "" {
			s += " " + Quote(c.Arg)
		}
		return s
	}
	return c.Op.String()
}

// Where names the command's position for messages: "line 3" or, when the
// line holds several commands, "line 1, command 2".
func (c Command) Where() string {
	if c.Index > 1 {
		return fmt.Sprintf("line %d, command %d", c.Line, c.Index)
	}
	return fmt.Sprintf("line %d", c.Line)
}

// Script is a parsed call script. The zero value is the empty script.
type Script struct {
	Commands []Command
}

// String returns the script in canonical syntax, one command per line.
func (s Script) String() string {
	var b strings.Builder
	for _, c := range s.Commands {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Empty reports whether the script has no commands.
func (s Script) Empty() bool { return len(s.Commands) == 0 }

// Has reports whether the script contains a command of one of ops.
func (s Script) Has(ops ...Op) bool {
	for _, c := range s.Commands {
		for _, o := range ops {
			if c.Op == o {
				return true
			}
		}
	}
	return false
}

// Decides reports whether the script decides about ringing calls itself
// (it holds answer, reject, forward or ignore), so it must start while the
// call rings.
func (s Script) Decides() bool { return s.Has(OpRinging...) }

// OpRinging are the commands for a ringing incoming call.
var OpRinging = []Op{OpAnswer, OpReject, OpForward, OpIgnore}

// ForRinging reports whether o is for a ringing incoming call (answer,
// reject, forward, ignore).
func (o Op) ForRinging() bool {
	return o == OpAnswer || o == OpReject || o == OpForward || o == OpIgnore
}

// Quote returns s as written in a script: bare when Parse reads it back
// unchanged, else a Go double-quoted string.
func Quote(s string) string {
	if s == "" || s != strings.TrimSpace(s) || strings.ContainsAny(s, ";#\"\\\n\r\t") {
		return strconv.Quote(s)
	}
	return s
}
