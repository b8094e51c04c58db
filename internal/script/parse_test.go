package script

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// strip removes positions so scripts can be compared by content.
func strip(s Script) []Command {
	out := make([]Command, len(s.Commands))
	for i, c := range s.Commands {
		c.Line, c.Index, c.N = 0, 0, 0
		out[i] = c
	}
	return out
}

func TestParseGood(t *testing.T) {
	d10 := DefaultExpectTimeout
	tests := []struct {
		name, src string
		want      []Command
	}{
		{"empty", "", []Command{}},
		{"only comments", "# nothing\n   \n;;\n  # more", []Command{}},
		{"gophone style", "wait 3s; dtmf 123#; hangup;", []Command{
			{Op: OpWait, Duration: 3 * time.Second}, {Op: OpDTMF, Arg: "123#"}, {Op: OpHangup},
		}},
		{"case-insensitive names, plain seconds", "WAIT 2\nWait 1.5\nHangUp", []Command{
			{Op: OpWait, Duration: 2 * time.Second}, {Op: OpWait, Duration: 1500 * time.Millisecond}, {Op: OpHangup},
		}},
		{"wait 0 and ms", "wait 0; wait 100ms", []Command{{Op: OpWait}, {Op: OpWait, Duration: 100 * time.Millisecond}}},
		{"dtmf lower-case, spaces, lone #", "dtmf ab*d\ndtmf 1 2 3\ndtmf #", []Command{
			{Op: OpDTMF, Arg: "AB*D"}, {Op: OpDTMF, Arg: "123"}, {Op: OpDTMF, Arg: "#"},
		}},
		{"comments after commands", "hangup # bye\ndtmf 12# # pound is a digit", []Command{
			{Op: OpHangup}, {Op: OpDTMF, Arg: "12#"},
		}},
		{"play and record", "play prompts/welcome.wav\nplay my file.wav\nrecord out.wav\nrecord start\nRECORD Stop\nrecord \"start\"", []Command{
			{Op: OpPlay, Arg: "prompts/welcome.wav"}, {Op: OpPlay, Arg: "my file.wav"}, {Op: OpRecord, Arg: "out.wav"},
			{Op: OpRecordStart}, {Op: OpRecordStop}, {Op: OpRecord, Arg: "start"},
		}},
		{"quoted argument holds ; and #", `play "a;b # c.wav"; log "x"`, []Command{
			{Op: OpPlay, Arg: "a;b # c.wav"}, {Op: OpLog, Arg: "x"},
		}},
		{"hold resume mute unmute answer", "hold;resume;mute;unmute;answer", []Command{
			{Op: OpHold}, {Op: OpResume}, {Op: OpMute}, {Op: OpUnmute}, {Op: OpAnswer},
		}},
		{"transfers", "transfer Alice <sip:alice@example.com>\ntransfer \"sip:bob@example.com;transport=tcp\"\ntransfer-attended 2\ntransfer_attended 0b1c", []Command{
			{Op: OpTransfer, Arg: "sip:alice@example.com"}, {Op: OpTransfer, Arg: "sip:bob@example.com;transport=tcp"},
			{Op: OpTransferAttended, Arg: "2"}, {Op: OpTransferAttended, Arg: "0b1c"},
		}},
		{"expects", "expect state connected within 5s\nexpect state=Ringing\nexpect dtmf 123# within 10s\nexpect dtmf=#1 within 2\nexpect held_remote within 5s\nexpect not held-local", []Command{
			{Op: OpExpectState, State: sessions.StateConnected, Duration: 5 * time.Second},
			{Op: OpExpectState, State: sessions.StateRinging, Duration: d10},
			{Op: OpExpectDTMF, Arg: "123#", Duration: 10 * time.Second},
			{Op: OpExpectDTMF, Arg: "#1", Duration: 2 * time.Second},
			{Op: OpExpectHeldRemote, Duration: 5 * time.Second},
			{Op: OpExpectHeldLocal, Not: true, Duration: d10},
		}},
		{"reject and log", "reject\nreject 603\nreject 480 Not now\nlog hello, world", []Command{
			{Op: OpReject, Code: 486}, {Op: OpReject, Code: 603}, {Op: OpReject, Code: 480, Arg: "Not now"},
			{Op: OpLog, Arg: "hello, world"},
		}},
		{"forward and ignore", "ignore\nforward sip:vm@pbx.example.com\nforward 200", []Command{
			{Op: OpIgnore}, {Op: OpForward, Arg: "sip:vm@pbx.example.com"}, {Op: OpForward, Arg: "200"},
		}},
		{"CRLF", "wait 1s\r\nhangup\r\n", []Command{{Op: OpWait, Duration: time.Second}, {Op: OpHangup}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := strip(s); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
			again, err := Parse(s.String())
			if err != nil {
				t.Fatalf("canonical form %q: %v", s.String(), err)
			}
			if !reflect.DeepEqual(strip(again), strip(s)) {
				t.Fatalf("round trip of %q: %+v", s.String(), strip(again))
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	s := MustParse("wait 1s; dtmf 1\n\n# c\nhangup")
	want := [][3]int{{1, 1, 1}, {1, 2, 2}, {4, 1, 3}}
	for i, c := range s.Commands {
		if got := [3]int{c.Line, c.Index, c.N}; got != want[i] {
			t.Errorf("command %d at %v, want %v", i, got, want[i])
		}
	}
	if w := s.Commands[1].Where(); w != "line 1, command 2" {
		t.Errorf("Where = %q", w)
	}
	if w := s.Commands[2].Where(); w != "line 4" {
		t.Errorf("Where = %q", w)
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct{ src, want string }{
		{"wait 2s\nhangup\nexpect state conected within 5s", `line 3: expect: unknown state "conected" (want one of initiating, ringing, connected, proceeding, terminating, terminated, cancelled, failed)`},
		{"wait 2s; dtmf 1x", `line 1, command 2: dtmf: invalid digit 'x' in "1x" (want 0-9 * # A-D)`},
		{"hangpu", `line 1: unknown command "hangpu" (did you mean hangup?)`},
		{"frobnicate", `line 1: unknown command "frobnicate" (want one of wait, hangup, dtmf,`},
		{"wait", `line 1: wait: want one duration (wait 2s), got ""`},
		{"wait soon", `line 1: wait: bad duration "soon"`},
		{"wait -1s", `line 1: wait: duration "-1s" out of range`},
		{"wait 100h", `out of range (0 to 24h0m0s)`},
		{"wait 1e300", `out of range`},
		{"wait NaN", `bad duration`},
		{"hangup now", `line 1: hangup: unexpected argument "now"`},
		{"dtmf", `line 1: dtmf: missing digits`},
		{"play", `line 1: play: missing file`},
		{`play "a.wav" b`, `unexpected "b" after the quoted file`},
		{`play "a.wav`, `line 1: unterminated quoted string`},
		{`play ""`, `play: empty file`},
		{`log "a\nb"`, `log: text contains a control character`},
		{"record", `record: missing file (or start, stop)`},
		{"transfer", `transfer: missing target`},
		{"transfer sip:a b", `transfer: invalid target`},
		{"transfer-attended 0", `transfer-attended: line 0: want 1 or more`},
		{"transfer-attended", `transfer-attended: want the line or call ID`},
		{"expect", `expect: want state, dtmf, held_remote or held_local`},
		{"expect state connected within", `expect: within: missing duration`},
		{"expect state connected within 0s", `expect: within: want a duration above 0`},
		{"expect state connected within forever", `expect: within: bad duration "forever"`},
		{"expect dtmf within 5s", `expect: dtmf: missing digits`},
		{"expect dtmf 1z", `expect: dtmf: invalid digit 'z'`},
		{"expect not state connected", `expect: not: only for held_remote and held_local`},
		{"expect held_remote yes", `expect: held_remote: unexpected argument "yes"`},
		{"expect silence", `expect: unknown condition "silence"`},
		{"expect state", `expect: want expect state S within D`},
		{"reject 200", `reject: status code "200": want 400-699`},
		{"forward", `forward: missing target (forward sip:voicemail@pbx.example.com)`},
		{"ignore now", `ignore: unexpected argument "now"`},
		{"reject busy", `reject: status code "busy": want 400-699`},
		{"log", `log: missing text`},
		{"wait 1s\n\xff", `line 2: not valid UTF-8`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("wait x\nhangup\ndtmf q\n" + strings.Repeat("bogus\n", 20))
	var pe *Error
	if !errors.As(err, &pe) || pe.Line != 1 {
		t.Fatalf("first error %v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors || !strings.HasPrefix(lines[1], "line 3: dtmf:") {
		t.Fatalf("errors:\n%v", err)
	}
}

func TestParseTooLong(t *testing.T) {
	if _, err := Parse(strings.Repeat("hangup\n", MaxCommands+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("got %v", err)
	}
}

func TestScriptHelpers(t *testing.T) {
	s := MustParse("wait 1s; answer")
	if !s.Decides() || !s.Has(OpWait) || s.Has(OpHangup) || s.Empty() {
		t.Fatal("helpers")
	}
	if !(Script{}).Empty() || (Script{}).Decides() {
		t.Fatal("empty script")
	}
	for o := OpWait; o <= OpLog; o++ {
		if o.String() == "invalid" {
			t.Errorf("op %d has no name", o)
		}
	}
	if Op(99).String() != "invalid" || !OpExpectDTMF.Expect() || OpWait.Expect() {
		t.Fatal("Op methods")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse did not panic")
		}
	}()
	MustParse("bogus")
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"wait 3s; dtmf 123#; hangup;", "play \"a;b.wav\"\nrecord start # c", "expect state connected within 5s",
		"expect dtmf=#1 within 2", "expect not held_remote", "reject 480 \"x\"", "transfer Bob <sip:b@x>", "log ü ; x",
		"forward sip:vm@x; ignore", "dtmf # ; hangup", "\"\\", "#\n#", "record \"stop\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Parse(src)
		if err != nil {
			return
		}
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("canonical form of %q does not parse: %q: %v", src, s.String(), err)
		}
		if !reflect.DeepEqual(strip(again), strip(s)) {
			t.Fatalf("round trip of %q via %q:\n%+v\n%+v", src, s.String(), strip(s), strip(again))
		}
	})
}
