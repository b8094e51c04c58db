package phone

import (
	"reflect"
	"strings"
	"testing"
)

func TestMwiParseMessageSummary(t *testing.T) {
	tests := []struct {
		name string
		body string
		want MessageSummary
		bad  bool
	}{
		{name: "rfc example", body: "Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n",
			want: MessageSummary{Waiting: true, Account: "sip:alice@vmail.example.com", Counts: map[string]MessageCount{"voice": {New: 4, Old: 8, UrgentNew: 1, UrgentOld: 2}}}},
		{name: "asterisk", body: "Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx\r\nVoice-Message: 3/1 (0/0)\r\n",
			want: MessageSummary{Waiting: true, Account: "sip:*97@pbx", Counts: map[string]MessageCount{"voice": {New: 3, Old: 1}}}},
		{name: "no messages", body: "Messages-Waiting: no\r\n", want: MessageSummary{}},
		{name: "case and spaces", body: "messages-waiting:YES\nvoice-message:  2 / 0 \n", want: MessageSummary{Waiting: true, Counts: map[string]MessageCount{"voice": {New: 2}}}},
		{name: "fax and voice", body: "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\nFax-Message: 2/3 (1/0)\r\n",
			want: MessageSummary{Waiting: true, Counts: map[string]MessageCount{"voice": {New: 1}, "fax": {New: 2, Old: 3, UrgentNew: 1}}}},
		{name: "optional message headers skipped", body: "Messages-Waiting: yes\r\nVoice-Message: 1/0\r\n\r\nTo: <sip:alice@example.com>\r\nSubject: hi\r\nsome text\r\n",
			want: MessageSummary{Waiting: true, Counts: map[string]MessageCount{"voice": {New: 1}}}},
		{name: "empty", body: "", bad: true},
		{name: "no waiting line", body: "Voice-Message: 1/0\r\n", bad: true},
		{name: "bad waiting", body: "Messages-Waiting: maybe\r\n", bad: true},
		{name: "bad count", body: "Messages-Waiting: yes\r\nVoice-Message: x/1\r\n", bad: true},
		{name: "no slash", body: "Messages-Waiting: yes\r\nVoice-Message: 3\r\n", bad: true},
		{name: "negative", body: "Messages-Waiting: yes\r\nVoice-Message: -1/0\r\n", bad: true},
		{name: "huge", body: "Messages-Waiting: yes\r\nVoice-Message: 99999999999999999999/0\r\n", bad: true},
		{name: "unclosed urgent", body: "Messages-Waiting: yes\r\nVoice-Message: 1/0 (1/0\r\n", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMessageSummary([]byte(tt.body))
			if tt.bad {
				if err == nil {
					t.Fatalf("got %+v, want error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzMwiParseMessageSummary(f *testing.F) {
	f.Add([]byte("Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n"))
	f.Add([]byte("Messages-Waiting: no\r\n"))
	f.Add([]byte("Messages-Waiting: yes\r\nFax-Message: 2/3 (1/0)\r\n\r\nTo: x\r\n"))
	f.Add([]byte("-Message: 1/1\n:"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := ParseMessageSummary(body)
		if err != nil {
			return
		}
		for k, c := range s.Counts {
			if k == "" || strings.ContainsAny(k, "\r\n") {
				t.Fatalf("bad class %q", k)
			}
			for _, n := range []int{c.New, c.Old, c.UrgentNew, c.UrgentOld} {
				if n < 0 || n > maxSummaryCount {
					t.Fatalf("count out of range: %+v", c)
				}
			}
		}
	})
}
