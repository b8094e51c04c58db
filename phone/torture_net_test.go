package phone

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rfc4475Kind says what RFC 4475 asks of a UAS for one message.
type rfc4475Kind int

const (
	kindValid    rfc4475Kind = iota // a valid request: must be answered
	kindInvalid                     // an invalid request: 4xx/5xx or dropped, never accepted
	kindResponse                    // a response: nothing to answer
)

// rfc4475Expect is the expectation of each message, by section, from the
// RFC's text (§3.1.1 valid, §3.1.2 invalid, §3.2–3.4 as each says).
var rfc4475Expect = map[string]rfc4475Kind{
	"3.1.1.1": kindValid, "3.1.1.2": kindValid, "3.1.1.3": kindValid, "3.1.1.4": kindValid,
	"3.1.1.5": kindValid, "3.1.1.6": kindValid, "3.1.1.7": kindValid, "3.1.1.8": kindValid,
	"3.1.1.9": kindValid, "3.1.1.10": kindValid, "3.1.1.11": kindValid,
	"3.1.1.12": kindResponse, "3.1.1.13": kindResponse,
	"3.1.2.1": kindInvalid, "3.1.2.2": kindInvalid, "3.1.2.3": kindInvalid, "3.1.2.4": kindInvalid,
	"3.1.2.5": kindResponse, "3.1.2.6": kindInvalid, "3.1.2.7": kindInvalid, "3.1.2.8": kindInvalid,
	"3.1.2.9": kindInvalid, "3.1.2.10": kindInvalid, "3.1.2.11": kindInvalid, "3.1.2.12": kindInvalid,
	"3.1.2.13": kindInvalid, "3.1.2.14": kindInvalid, "3.1.2.15": kindInvalid, "3.1.2.16": kindInvalid,
	"3.1.2.17": kindInvalid, "3.1.2.18": kindInvalid, "3.1.2.19": kindResponse,
	"3.2.1": kindValid,
	"3.3.1": kindInvalid, "3.3.2": kindInvalid, "3.3.3": kindValid, "3.3.4": kindInvalid,
	"3.3.5": kindInvalid, "3.3.6": kindInvalid, "3.3.7": kindValid, "3.3.8": kindInvalid,
	"3.3.9": kindInvalid, "3.3.10": kindResponse, "3.3.11": kindValid, "3.3.12": kindValid,
	"3.3.13": kindValid, "3.3.14": kindValid, "3.3.15": kindInvalid,
	"3.4.1": kindValid,
}

var statusLine = regexp.MustCompile(`(?m)^SIP/2\.0 ([0-9]{3}) `)

// tortureTally counts the outcomes of one transport.
type tortureTally struct {
	valid, validAnswered, invalid, invalid4xx, invalidAccepted, dropped int
}

// TestTortureOverNetwork sends every RFC 4475 message to a phone that
// accepts every call, over UDP and over TCP (one connection each), and
// tallies what came back. Run with -v for the table:
//
//	go test ./phone -run TestTortureOverNetwork -v
func TestTortureOverNetwork(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rfc4475", "*.dat"))
	if len(files) != 49 {
		t.Fatalf("RFC 4475 messages: %d files, want 49", len(files))
	}
	for _, network := range []string{"udp", "tcp"} {
		var (
			mu    sync.Mutex
			tally tortureTally
			wg    sync.WaitGroup
			lines []string
			slots = make(chan struct{}, 8)
		)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(f)
			section := name[:strings.IndexByte(name, '-')]
			kind, ok := rfc4475Expect[section]
			if !ok {
				t.Fatalf("%s: no expectation", name)
			}
			// A phone per message: several messages share a transaction
			// key (branch, sent-by, method) and would be taken for
			// retransmissions of each other.
			h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
			p := newTestPhone(t, Options{Handler: h})
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				defer func() { <-slots }()
				code, err := sendRaw(network, p.LocalAddr(), viaToSender(data, network))
				if err != nil {
					t.Errorf("%s over %s: %v", name, network, err)
					return
				}
				if kind == kindInvalid && len(h.calls) > 0 {
					t.Errorf("%s over %s: a malformed request rang the phone", name, network)
				}
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, fmt.Sprintf("%-26s %s", name, outcome(code)))
				switch {
				case kind == kindResponse:
					if code != 0 {
						t.Errorf("%s over %s: a response was answered %d", name, network, code)
					}
				case kind == kindValid:
					tally.valid++
					if code != 0 {
						tally.validAnswered++
					} else {
						tally.dropped++
					}
				default:
					tally.invalid++
					switch {
					case code == 0:
						tally.dropped++
					case code >= 400:
						tally.invalid4xx++
					case code >= 200 && code < 300:
						tally.invalidAccepted++
					}
				}
			}()
		}
		wg.Wait()
		for _, l := range lines {
			t.Logf("%s %s", network, l)
		}
		t.Logf("%s: valid answered %d/%d, invalid 4xx/5xx %d/%d, invalid accepted %d, dropped %d",
			network, tally.validAnswered, tally.valid, tally.invalid4xx, tally.invalid, tally.invalidAccepted, tally.dropped)
		// Issue 13's goal. Over TCP, §3.1.2.2's Content-Length larger
		// than the body makes the stream wait for the rest (§18.3).
		if tally.validAnswered != tally.valid || tally.invalidAccepted != 0 || tally.invalid4xx < tally.invalid-1 {
			t.Errorf("%s: want every valid request answered, none invalid accepted, at most one dropped", network)
		}
	}
}

func outcome(code int) string {
	if code == 0 {
		return "dropped"
	}
	return strconv.Itoa(code)
}

// sendRaw sends data to addr over network from a fresh socket and returns
// the first final status code received within a second (0: none).
func sendRaw(network, addr string, data []byte) (int, error) {
	c, err := net.Dial(network, addr)
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	var got bytes.Buffer
	buf := make([]byte, 65536)
	deadline := time.Now().Add(time.Second)
	for {
		_ = c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		got.Write(buf[:n])
		for _, m := range statusLine.FindAllSubmatch(got.Bytes(), -1) {
			if code, _ := strconv.Atoi(string(m[1])); code >= 200 {
				return code, nil
			}
		}
		if err != nil {
			return 0, nil
		}
	}
}

// viaToSender rewrites the top Via of a torture message so that the answer
// comes back to the test: its transport becomes network's and it asks for
// rport (RFC 3581), so that a UDP answer goes to the source port, not to
// the example hosts' 5060. Nothing else changes, nor does the length of the
// body.
func viaToSender(data []byte, network string) []byte {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return data
	}
	head := data[:end]
	var start int
	for i := 0; i < len(head); {
		j := bytes.Index(head[i:], []byte("\r\n"))
		if j < 0 {
			j = len(head) - i
		}
		line := head[i : i+j]
		name, _, ok := bytes.Cut(line, []byte(":"))
		if n := strings.ToLower(strings.TrimSpace(string(name))); ok && i > 0 && (n == "via" || n == "v") {
			start = i
			break
		}
		i += j + 2
	}
	if start == 0 {
		return data
	}
	// The Via header runs to the next line that does not start with white space.
	stop := start
	for {
		j := bytes.Index(head[stop:], []byte("\r\n"))
		if j < 0 {
			stop = len(head)
			break
		}
		stop += j
		if stop+2 >= len(head) || (head[stop+2] != ' ' && head[stop+2] != '\t') {
			break
		}
		stop += 2
	}
	via := string(head[start:stop])
	if comma := strings.IndexByte(via, ','); comma > 0 {
		stop = start + comma
		via = via[:comma]
	}
	if network == "tcp" {
		via = regexp.MustCompile(`(?i)/\s*UDP`).ReplaceAllString(via, "/TCP")
	}
	if b := strings.Index(strings.ToLower(via), "branch"); b > 0 {
		via = via[:b] + "rport;" + via[b:]
	} else {
		via += ";rport"
	}
	out := append([]byte{}, data[:start]...)
	out = append(out, via...)
	return append(out, data[stop:]...)
}

// TestStreamFraming checks that the screen cuts a TCP stream into messages
// as sipgo would: a message split over writes, two in one write, a ping
// between them (answered with a pong, RFC 5626 §4.4.1).
func TestStreamFraming(t *testing.T) {
	p := newTestPhone(t, Options{})
	c, err := net.Dial("tcp", p.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := func(n int) string {
		return fmt.Sprintf("OPTIONS sip:bob@%s SIP/2.0\r\n"+
			"Via: SIP/2.0/TCP %s;branch=z9hG4bKframe%d\r\n"+
			"From: <sip:alice@example.com>;tag=f%d\r\nTo: <sip:bob@example.com>\r\n"+
			"Call-ID: frame%d@example.com\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"+
			"Content-Length: 0\r\n\r\n", p.LocalAddr(), c.LocalAddr(), n, n, n)
	}
	one := msg(1)
	writes := []string{one[:30], one[30:], msg(2) + "\r\n\r\n" + msg(3)}
	for _, w := range writes {
		if _, err := c.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for deadline := time.Now().Add(3 * time.Second); len(statusLine.FindAll(got.Bytes(), -1)) < 3; {
		_ = c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			break
		}
	}
	codes := statusLine.FindAllSubmatch(got.Bytes(), -1)
	if len(codes) != 3 {
		t.Fatalf("%d answers, want 3:\n%s", len(codes), got.Bytes())
	}
	for _, m := range codes {
		if string(m[1]) != "200" {
			t.Errorf("answered %s, want 200:\n%s", m[1], got.Bytes())
		}
	}
	// A ping alone, between messages, still gets its pong.
	if _, err := c.Write([]byte("\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "\r\n" {
		t.Errorf("pong: %q, %v", buf[:n], err)
	}
}
