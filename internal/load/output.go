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
		Lost      int64           `json:"lost"`
		MOS       float64         `json:"mos"` // 0: no audio received
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
		Rx          uint64         `json:"rx_packets"`
		Lost        int64          `json:"lost"`
		LossPct     float64        `json:"loss_pct"`
		MOS         mosJSON        `json:"mos"`
		ElapsedS    float64        `json:"elapsed_s"`
		Rate        float64        `json:"rate"` // calls placed per second
	}
	mosJSON struct {
		Calls int     `json:"calls"` // answered calls with an estimate
		P50   float64 `json:"p50"`
		Min   float64 `json:"min"`
		Mean  float64 `json:"mean"`
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
		s := fmt.Sprintf("call %d %s setup %.1fms rx %d tx %d lost %d mos %.2f", r.N, r.Outcome, ms(r.Setup), r.RxPackets, r.TxPackets, r.Lost, r.MOS)
		if r.Reason != "" {
			s += ": " + r.Reason
		}
		p.line(t, s)
		return
	}
	p.json(resultJSON{TS: t.UTC().Format(tsLayout), Event: "result", N: r.N, CallID: r.CallID, SIPCallID: r.SIPCallID,
		Outcome: r.Outcome, Answered: r.Answered, Code: r.Code, Reason: r.Reason, SetupMs: ms(r.Setup),
		RxPackets: r.RxPackets, TxPackets: r.TxPackets, Lost: r.Lost, MOS: round2(r.MOS)})
}

func (p *printer) summary(target string, s Summary, t time.Time) {
	if p.format == EventsText {
		p.line(t, "summary "+FormatSummary(target, s))
		return
	}
	p.json(summaryJSON{TS: t.UTC().Format(tsLayout), Event: "summary", Target: target,
		Attempted: s.Attempted, Answered: s.Answered, Failed: s.Failed, Interrupted: s.Interrupted, Failures: s.Failures,
		SetupMs: setupJSON{P50: ms(s.SetupP50), P95: ms(s.SetupP95), P99: ms(s.SetupP99), Max: ms(s.SetupMax)},
		RxMin:   s.RxMin, Rx: s.Rx, Lost: s.Lost, LossPct: round2(s.LossPct()),
		MOS:      mosJSON{Calls: s.MOSCalls, P50: round2(s.MOSP50), Min: round2(s.MOSMin), Mean: round2(s.MOSMean)},
		ElapsedS: float64(s.Elapsed.Round(time.Millisecond)) / float64(time.Second), Rate: round2(s.PlacedRate)})
}

// FormatSummary is the summary of a run on one line, for people: what
// --events text prints, and the progress bar's last word.
func FormatSummary(target string, s Summary) string {
	var fails []string
	for _, k := range s.failureKeys() {
		fails = append(fails, fmt.Sprintf("%s×%d", k, s.Failures[k]))
	}
	out := fmt.Sprintf("%s: attempted %d answered %d failed %d", target, s.Attempted, s.Answered, s.Failed)
	if len(fails) > 0 {
		out += " [" + strings.Join(fails, " ") + "]"
	}
	if s.Interrupted > 0 {
		out += fmt.Sprintf(" interrupted %d", s.Interrupted)
	}
	out += fmt.Sprintf(", setup p50 %.1fms p95 %.1fms p99 %.1fms max %.1fms", ms(s.SetupP50), ms(s.SetupP95), ms(s.SetupP99), ms(s.SetupMax))
	if s.MOSCalls > 0 {
		out += fmt.Sprintf(", MOS p50 %.2f min %.2f mean %.2f", s.MOSP50, s.MOSMin, s.MOSMean)
	} else {
		out += ", MOS -"
	}
	out += fmt.Sprintf(", rx %d (min %d) lost %d (%.2f%%), %.1f calls/s over %.1fs",
		s.Rx, s.RxMin, s.Lost, s.LossPct(), s.PlacedRate, s.Elapsed.Seconds())
	return out
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

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
