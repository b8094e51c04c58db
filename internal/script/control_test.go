package script

import (
	"strconv"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/sessions"
)

// fakeController records the Manager calls Control makes.
type fakeController struct{ calls []string }

func (f *fakeController) rec(s string) error { f.calls = append(f.calls, s); return nil }

func (f *fakeController) Hangup(id sessions.CallID) error { return f.rec("hangup " + string(id)) }
func (f *fakeController) SendDTMF(id sessions.CallID, d string) error {
	return f.rec("dtmf " + string(id) + " " + d)
}
func (f *fakeController) Hold(id sessions.CallID) error   { return f.rec("hold " + string(id)) }
func (f *fakeController) Resume(id sessions.CallID) error { return f.rec("resume " + string(id)) }
func (f *fakeController) Mute(id sessions.CallID) error   { return f.rec("mute " + string(id)) }
func (f *fakeController) Unmute(id sessions.CallID) error { return f.rec("unmute " + string(id)) }
func (f *fakeController) Transfer(id sessions.CallID, to string) error {
	return f.rec("transfer " + string(id) + " " + to)
}
func (f *fakeController) Resolve(ref string) (sessions.CallID, bool) {
	return sessions.CallID("c" + ref), ref == "2"
}
func (f *fakeController) AttendedTransfer(id, consult sessions.CallID) error {
	return f.rec("attended " + string(id) + " " + string(consult))
}

func (f *fakeController) Reject(id sessions.CallID, code int, reason string) error {
	return f.rec("reject " + string(id) + " " + strconv.Itoa(code) + " " + reason)
}
func (f *fakeController) Forward(id sessions.CallID, to string) error {
	return f.rec("forward " + string(id) + " " + to)
}
func (f *fakeController) Ignore(id sessions.CallID) error { return f.rec("ignore " + string(id)) }

func TestControl(t *testing.T) {
	for _, tc := range []struct {
		cmd     Command
		handled bool
		call    string
		err     string
	}{
		{Command{Op: OpHangup}, true, "hangup c1", ""},
		{Command{Op: OpDTMF, Arg: "12#"}, true, "dtmf c1 12#", ""},
		{Command{Op: OpHold}, true, "hold c1", ""},
		{Command{Op: OpResume}, true, "resume c1", ""},
		{Command{Op: OpMute}, true, "mute c1", ""},
		{Command{Op: OpUnmute}, true, "unmute c1", ""},
		{Command{Op: OpTransfer, Arg: "sip:carol@example.com"}, true, "transfer c1 sip:carol@example.com", ""},
		{Command{Op: OpTransferAttended, Arg: "2"}, true, "attended c1 c2", ""},
		{Command{Op: OpTransferAttended, Arg: "9"}, true, "", "no call 9"},
		{Command{Op: OpReject, Code: 480, Arg: "Later"}, true, "reject c1 480 Later", ""},
		{Command{Op: OpForward, Arg: "sip:vm@pbx"}, true, "forward c1 sip:vm@pbx", ""},
		{Command{Op: OpIgnore}, true, "ignore c1", ""},
		{Command{Op: OpAnswer}, false, "", ""},
		{Command{Op: OpWait}, false, "", ""},
	} {
		f := &fakeController{}
		handled, err := Control(f, "c1", tc.cmd)
		if handled != tc.handled {
			t.Errorf("%s: handled %v, want %v", tc.cmd.Op, handled, tc.handled)
		}
		got := strings.Join(f.calls, "; ")
		if got != tc.call {
			t.Errorf("%s: called %q, want %q", tc.cmd.Op, got, tc.call)
		}
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.cmd.Op, err, tc.err)
		}
	}
}
