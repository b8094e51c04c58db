package load

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// tsLayout is the headless contract's timestamp (internal/headless): UTC
// RFC 3339 with milliseconds.
const tsLayout = "2006-01-02T15:04:05.000Z"

// Output formats (Options.Events): as the headless modes'.
const (
	EventsJSONL = "jsonl" // one JSON object per line
	EventsText  = "text"  // one readable line per call and the summary
	EventsNone  = "none"  // the summary only (as JSON)
)

// The JSON shapes of load mode (README.md, Load mode): fields may be
// added, never renamed.
type (
	resultJSON struct {
		TS        string          `json:"ts"`
		Event     string          `json:"event"` // "result"
		N         int             `json:"n"`
		CallID    sessions.CallID `json:"call_id,omitempty"`
		SIPCallID string          `json:"sip_call_id,omitempty"`
		Outcome   string          `json:"outcome"`
		Answered  bool            `json:"answered"`
		Code      int             `json:"code,omitempty"`
		Reason    string          `json:"reason,omitempty"`
		SetupMs   float64         `json:"setup_ms"`
		RxPackets uint64          `json:"rx_packets"`
		TxPackets uint64          `json:"tx_packets"`
	}
	summaryJSON struct {
		TS          string         `json:"ts"`
		Event       string         `json:"event"` // "summary"
		Target      string         `json:"target"`
		Attempted   int            `json:"attempted"`
		Answered    int            `json:"answered"`
		Failed      int            `json:"failed"`
		Interrupted int            `json:"interrupted,omitempty"`
		Failures    map[string]int `json:"failures"` // by outcome: "486", "timeout", "no_media", …
		SetupMs     setupJSON      `json:"setup_ms"`
		RxMin       uint64         `json:"rx_packets_min"`
		ElapsedS    float64        `json:"elapsed_s"`
		Rate        float64        `json:"rate"` // calls placed per second
	}
	setupJSON struct {
		P50 float64 `json:"p50"`
		P95 float64 `json:"p95"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	}
)

// printer writes results and the summary; safe for concurrent use. Write
// errors are kept, not returned: a closed stdout does not stop the run.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	format string
	err    error
}

func checkFormat(format string) (string, error) {
	switch format {
	case "":
		return EventsJSONL, nil
	case EventsJSONL, EventsText, EventsNone:
		return format, nil
	}
	return "", fmt.Errorf("events: unknown format %q (want jsonl, text or none)", format)
}

func ms(d time.Duration) float64 {
	return float64(d.Round(10*time.Microsecond)) / float64(time.Millisecond)
}

func (p *printer) result(r Result, t time.Time) {
	switch p.format {
	case EventsNone:
		return
	case EventsText:
		s := fmt.Sprintf("call %d %s setup %.1fms rx %d tx %d", r.N, r.Outcome, ms(r.Setup), r.RxPackets, r.TxPackets)
		if r.Reason != "" {
			s += ": " + r.Reason
		}
		p.line(t, s)
		return
	}
	p.json(resultJSON{TS: t.UTC().Format(tsLayout), Event: "result", N: r.N, CallID: r.CallID, SIPCallID: r.SIPCallID,
		Outcome: r.Outcome, Answered: r.Answered, Code: r.Code, Reason: r.Reason, SetupMs: ms(r.Setup),
		RxPackets: r.RxPackets, TxPackets: r.TxPackets})
}

func (p *printer) summary(target string, s Summary, t time.Time) {
	if p.format == EventsText {
		var fails []string
		for _, k := range s.failureKeys() {
			fails = append(fails, fmt.Sprintf("%s×%d", k, s.Failures[k]))
		}
		p.line(t, fmt.Sprintf("summary %s: attempted %d answered %d failed %d [%s] setup p50 %.1fms p95 %.1fms p99 %.1fms max %.1fms rx_min %d, %.1f calls/s over %.1fs",
			target, s.Attempted, s.Answered, s.Failed, strings.Join(fails, " "), ms(s.SetupP50), ms(s.SetupP95), ms(s.SetupP99), ms(s.SetupMax),
			s.RxMin, s.PlacedRate, s.Elapsed.Seconds()))
		return
	}
	p.json(summaryJSON{TS: t.UTC().Format(tsLayout), Event: "summary", Target: target,
		Attempted: s.Attempted, Answered: s.Answered, Failed: s.Failed, Interrupted: s.Interrupted, Failures: s.Failures,
		SetupMs: setupJSON{P50: ms(s.SetupP50), P95: ms(s.SetupP95), P99: ms(s.SetupP99), Max: ms(s.SetupMax)},
		RxMin:   s.RxMin, ElapsedS: float64(s.Elapsed.Round(time.Millisecond)) / float64(time.Second), Rate: math.Round(s.PlacedRate*100) / 100})
}

func (p *printer) json(v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen with these types
		b = fmt.Appendf(nil, `{"event":"error","message":%q}`, err.Error())
	}
	p.write(append(b, '\n'))
}

func (p *printer) line(t time.Time, s string) {
	p.write([]byte(t.UTC().Format(tsLayout) + " " + s + "\n"))
}

func (p *printer) write(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(b); err != nil && p.err == nil {
		p.err = err
	}
}
