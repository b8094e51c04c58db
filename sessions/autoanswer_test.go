package sessions

import (
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

func TestAutoAnswerHeader(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
		header      string
		delay       time.Duration
	}{
		{"Call-Info", "<sip:pbx.example>;answer-after=0", true, "Call-Info", 0},
		{"call-info", "<sip:pbx.example> ; Answer-After = 5", true, "Call-Info", 5 * time.Second},
		{"Call-Info", `<http://x/a,b>;purpose=icon, <sip:y>;answer-after="2"`, true, "Call-Info", 2 * time.Second},
		{"Call-Info", "<sip:pbx>;answer-after=99999999999999999999", false, "", 0},
		{"Call-Info", "<sip:pbx>;answer-after=7200", true, "Call-Info", time.Hour},
		{"Call-Info", "<sip:pbx>;answer-after=-1", false, "", 0},
		{"Call-Info", "<sip:pbx>;answer-after=soon", false, "", 0},
		{"Call-Info", "<sip:pbx;answer-after=0>", false, "", 0}, // a URI parameter, not a header one
		{"Call-Info", "<sip:pbx>;purpose=info", false, "", 0},
		{"Alert-Info", "<http://127.0.0.1/x>;info=alert-autoanswer", true, "Alert-Info", 0},
		{"Alert-Info", "info=Auto-Answer", true, "Alert-Info", 0},
		{"Alert-Info", "<http://127.0.0.1/bellcore-dr2>", false, "", 0},
		{"Answer-Mode", "Auto", true, "Answer-Mode", 0},
		{"answer-mode", " auto;require", true, "Answer-Mode", 0},
		{"Priv-Answer-Mode", "Auto", true, "Priv-Answer-Mode", 0},
		{"Answer-Mode", "Manual", false, "", 0},
		{"Answer-Mode", "Automatic", false, "", 0},
		{"Subject", "answer-after=0 autoanswer", false, "", 0},
	}
	for _, tt := range tests {
		req, ok := AutoAnswerHeader([]phone.Header{{Name: tt.name, Value: tt.value}})
		if ok != tt.ok || req.Header != tt.header || req.Delay != tt.delay {
			t.Errorf("%s: %s = %+v, %v; want %v %s %v", tt.name, tt.value, req, ok, tt.ok, tt.header, tt.delay)
		}
	}
	if _, ok := AutoAnswerHeader(nil); ok {
		t.Error("no headers asked to auto-answer")
	}
}

// FuzzAutoAnswerHeader: header values come from the network; whatever
// they hold, the parser neither panics nor returns a delay out of range.
func FuzzAutoAnswerHeader(f *testing.F) {
	for _, s := range []string{
		"<sip:pbx>;answer-after=0", `<a>;x="1,2", <b>;answer-after=3`, "<sip:x;answer-after=1>",
		"info=alert-autoanswer", "Auto;require", `"\"<,>`, ";answer-after=", "<<<>>>,,;;==",
	} {
		f.Add("Call-Info", s)
		f.Add("Alert-Info", s)
		f.Add("Answer-Mode", s)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		req, ok := AutoAnswerHeader([]phone.Header{{Name: name, Value: value}})
		if req.Delay < 0 || req.Delay > maxAnswerAfter {
			t.Fatalf("delay %v out of range", req.Delay)
		}
		if !ok && req != (AutoAnswerRequest{}) {
			t.Fatalf("not a request but %+v", req)
		}
		_ = splitHeaderList(value)
	})
}
