package ctl

import (
	"testing"

	"github.com/teaphone/teaphone/internal/script"
)

// TestJoinArgs checks that the words of "teaphone ctl …" reach the phone as
// the arguments given: joined by JoinArgs and read back by script.Parse.
func TestJoinArgs(t *testing.T) {
	tests := []struct {
		args []string
		op   script.Op
		arg  string
		code int
	}{
		{[]string{"play", "my file.wav"}, script.OpPlay, "my file.wav", 0},
		{[]string{"play", "a;b.wav"}, script.OpPlay, "a;b.wav", 0},
		{[]string{"play", "x # y.wav"}, script.OpPlay, "x # y.wav", 0},
		{[]string{"play", "#start.wav"}, script.OpPlay, "#start.wav", 0},
		{[]string{"play", `say "hi".wav`}, script.OpPlay, `say "hi".wav`, 0},
		{[]string{"play", `"quoted".wav`}, script.OpPlay, `"quoted".wav`, 0},
		{[]string{"play", `C:\dir\f.wav`}, script.OpPlay, `C:\dir\f.wav`, 0},
		{[]string{"play", " lead.wav"}, script.OpPlay, " lead.wav", 0},
		{[]string{"play", "plain.wav"}, script.OpPlay, "plain.wav", 0},
		{[]string{"play", "my", "file.wav"}, script.OpPlay, "my file.wav", 0}, // unquoted by the shell: as today
		{[]string{"record", "start"}, script.OpRecordStart, "", 0},
		{[]string{"record", "a b.wav"}, script.OpRecord, "a b.wav", 0},
		{[]string{"reject", "480", "Not now"}, script.OpReject, "Not now", 480},
		{[]string{"reject", "486", `Busy; "really" \ #1`}, script.OpReject, `Busy; "really" \ #1`, 486},
		{[]string{"reject", "603"}, script.OpReject, "", 603},
		{[]string{"transfer", "sip:alice@example.com"}, script.OpTransfer, "sip:alice@example.com", 0},
		{[]string{"dtmf", "12#"}, script.OpDTMF, "12#", 0},
		{[]string{"dtmf", "1", "#", "*9"}, script.OpDTMF, "1#*9", 0},
		{[]string{"hangup"}, script.OpHangup, "", 0},
		{[]string{`reject 480 "Not now"`}, script.OpReject, "Not now", 480}, // one pre-quoted argument
		{[]string{`play "my file.wav"`}, script.OpPlay, "my file.wav", 0},
	}
	for _, tt := range tests {
		text := JoinArgs(tt.args)
		s, err := script.Parse(text)
		if err != nil {
			t.Errorf("%q → %q: %v", tt.args, text, err)
			continue
		}
		if len(s.Commands) != 1 {
			t.Errorf("%q → %q: %d commands, want 1", tt.args, text, len(s.Commands))
			continue
		}
		c := s.Commands[0]
		if c.Op != tt.op || c.Arg != tt.arg || (tt.code != 0 && c.Code != tt.code) {
			t.Errorf("%q → %q: parsed %v %q %d, want %v %q %d", tt.args, text, c.Op, c.Arg, c.Code, tt.op, tt.arg, tt.code)
		}
	}
}
