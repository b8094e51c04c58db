package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Status is the verdict of one line of a Report.
type Status int

// Statuses.
const (
	StatusInfo Status = iota // not checked, or a plain fact
	StatusOK
	StatusWarn
	StatusFail
)

var marks = [...]string{"-", "✓", "!", "✗"}

var statusNames = [...]string{"info", "ok", "warn", "fail"}

// String returns "info", "ok", "warn" or "fail".
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "unknown"
	}
	return statusNames[s]
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Line is one finding in words.
type Line struct {
	Status Status `json:"status"`
	Text   string `json:"text"`
}

// Report is what the doctor tells the user.
type Report struct {
	Lines []Line `json:"lines"`
	// Problem names, in one line, what stops the phone from working at
	// all (the provider does not resolve, no server answers, the
	// registration is refused); "" when registration succeeded. NAT
	// findings are warnings, not problems.
	Problem string `json:"problem,omitempty"`
}

// Failed reports whether the report has a Problem (exit status 1).
func (r Report) Failed() bool { return r.Problem != "" }

// WriteText writes one line per finding, each led by its mark
// (✓ ok, ! warning, ✗ failure, - not checked).
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, l := range r.Lines {
		mark := "?"
		if l.Status >= 0 && int(l.Status) < len(marks) {
			mark = marks[l.Status]
		}
		fmt.Fprintf(&b, "%s %s\n", mark, l.Text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the findings and the report as one JSON object.
func (r Report) WriteJSON(w io.Writer, f Findings) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		OK       bool     `json:"ok"`
		Report   Report   `json:"report"`
		Findings Findings `json:"findings"`
	}{!r.Failed(), r, f})
}

// report collects lines.
type report struct{ Report }

func (r *report) add(s Status, format string, args ...any) {
	r.Lines = append(r.Lines, Line{Status: s, Text: fmt.Sprintf(format, args...)})
}

func (r *report) fail(problem string) {
	r.add(StatusFail, "%s", problem)
	r.Problem = problem
}

// Build judges the findings. It is pure: the same findings give the same
// report.
func Build(f Findings) Report {
	var r report
	if f.Err != "" {
		r.fail(f.Err)
		return r.Report
	}
	if !resolution(&r, f.Resolve) {
		return r.Report
	}
	if !registration(&r, f.Register, f.Resolve) {
		return r.Report
	}
	natLines(&r, f)
	rtpLine(&r, f)
	reachLines(&r, f)
	return r.Report
}

// resolution reports step 1; false when the provider cannot be found.
func resolution(r *report, res Resolution) bool {
	switch {
	case res.Err != "":
		r.fail(fmt.Sprintf("%s does not resolve: %s", res.Host, res.Err))
		return false
	case res.Literal:
		r.add(StatusOK, "provider %s is an IP address (no DNS needed)", res.Host)
	default:
		r.add(StatusOK, "resolved %s → %s", res.Host, strings.Join(res.Targets, ", "))
	}
	return true
}

// registration reports step 2; false when it did not succeed.
func registration(r *report, reg Registration, res Resolution) bool {
	switch {
	case reg.OK:
		r.add(StatusOK, "registered at %s", reg.Server)
		return true
	case !reg.Done:
		r.fail(fmt.Sprintf("no answer to REGISTER from %s: %s", strings.Join(res.Targets, ", "), reg.Err))
	case reg.Code == 401 || reg.Code == 407 || reg.Code == 403:
		r.fail(fmt.Sprintf("registration refused by %s: %d %s", reg.Server, reg.Code, reg.Reason))
	case reg.Code == 0:
		where := reg.Server
		if where == "" {
			where = "the registrar"
		}
		if strings.Contains(reg.Reason, "port unreachable") {
			// The host is there and said so (ICMP): no SIP server on that port.
			r.fail(fmt.Sprintf("nothing answers SIP at %s (ICMP port unreachable): is the provider up, and are host and port right?", where))
			break
		}
		r.fail(fmt.Sprintf("no answer from %s: %s", where, reg.Reason))
	default:
		r.fail(fmt.Sprintf("registration failed at %s: %d %s", reg.Server, reg.Code, reg.Reason))
	}
	return false
}

// natLines compares our address with what the registrar and STUN saw.
func natLines(r *report, f Findings) {
	local, seen, stun := f.Local, f.Register.Public, f.SIPMapping
	behind := behindNAT(f)
	switch {
	case !seen.IsValid():
		r.add(StatusInfo, "the registrar did not say where it saw us (no Via received/rport): NAT not seen from SIP")
	case !behind:
		r.add(StatusOK, "no NAT: the registrar sees us at %s, our own address", local)
	default:
		r.add(StatusOK, "behind NAT: we are %s, the registrar sees %s%s", local, seen, portKept(local, seen))
		if !f.ContactRewrite {
			r.add(StatusWarn, "nat.contact_rewrite is off: we register our private Contact %s; incoming calls then work only if the provider fixes NAT itself", local)
		}
	}
	switch {
	case f.STUNServer == "":
		if behind {
			r.add(StatusInfo, "NAT type not checked (set nat.stun_server)")
		}
	case stun.Err != "":
		r.add(StatusWarn, "STUN server %s did not answer from the SIP port: %s", f.STUNServer, stun.Err)
	case !seen.IsValid():
		r.add(StatusInfo, "STUN (%s) sees the SIP port %s at %s", f.STUNServer, stun.Local, stun.Public)
	case stun.Public == seen && !behind:
		r.add(StatusOK, "STUN (%s) agrees: no NAT", f.STUNServer)
	case stun.Public == seen:
		r.add(StatusOK, "NAT keeps your mapping: from the same local port the registrar and STUN (%s) both see %s (endpoint-independent mapping): STUN-based media works", f.STUNServer, seen)
	case stun.Public.Addr() == seen.Addr():
		r.add(StatusWarn, "symmetric NAT (address-dependent mapping): from local port %d the registrar sees %s but STUN (%s) sees %s; the public address STUN reports is not what others see: audio needs the provider's media relay, or a far end that sends back to where our RTP comes from",
			stun.Local.Port(), seen, f.STUNServer, stun.Public)
	default:
		r.add(StatusWarn, "STUN (%s) sees us at %s but the registrar at %s: two public addresses (more than one NAT, or the provider is behind one): the address STUN reports may not work for media",
			f.STUNServer, stun.Public, seen)
	}
}

// behindNAT reports whether the registrar saw us elsewhere than we are.
func behindNAT(f Findings) bool {
	return f.Register.Public.IsValid() && f.Register.Public != f.Local
}

func portKept(local, public netip.AddrPort) string {
	if local.Port() == public.Port() {
		return " (port kept)"
	}
	return " (port changed)"
}

// rtpLine says whether UDP comes back to an RTP port.
func rtpLine(r *report, f Findings) {
	m := f.RTPMapping
	switch {
	case f.STUNServer == "":
		r.add(StatusInfo, "RTP coming back not checked (set nat.stun_server)")
	case !m.Asked():
		r.add(StatusInfo, "RTP coming back not checked (no RTP port could be bound)")
	case m.Err != "":
		r.add(StatusWarn, "no STUN answer on RTP port %d: UDP may not come back to the RTP ports (one-way audio): %s", m.Local.Port(), m.Err)
	default:
		r.add(StatusOK, "UDP comes back to RTP port %d (STUN answered; seen at %s)", m.Local.Port(), m.Public)
	}
}

// reachLines says whether requests through the provider reach us, now and
// after the idle pause.
func reachLines(r *report, f Findings) {
	now := judge(f.Reach)
	switch now {
	case reachNotAsked:
		r.add(StatusInfo, "incoming requests not checked%s", because(f.Reach.Err))
	case reachUnknown:
		r.add(StatusInfo, "could not check incoming requests: the provider answered %s itself", code(f.Reach))
	case reachLost:
		r.add(StatusWarn, "a request to our own address through the provider did not reach us%s: incoming calls will fail%s",
			answered(f.Reach), hint(f, false))
	case reachOK:
		r.add(StatusOK, "a request to our own address through the provider reached us")
	}
	idle := f.Idle.Round(time.Second)
	switch {
	case f.Idle <= 0:
		r.add(StatusInfo, "binding after idle not checked (--idle 0)")
		return
	case now != reachOK:
		r.add(StatusInfo, "binding after idle not checked (nothing reached us before it)")
		return
	}
	switch judge(f.ReachIdle) {
	case reachNotAsked:
		r.add(StatusInfo, "binding after %v idle not checked%s", idle, because(f.ReachIdle.Err))
	case reachUnknown:
		r.add(StatusInfo, "could not check the binding after %v idle: the provider answered %s itself", idle, code(f.ReachIdle))
	case reachLost:
		r.add(StatusWarn, "after %v idle a request through the provider no longer reached us%s: the NAT forgot the binding, incoming calls will fail%s",
			idle, answered(f.ReachIdle), hint(f, true))
	case reachOK:
		if behindNAT(f) {
			r.add(StatusOK, "the NAT binding survived %v idle%s", idle, keepAliveNote(f.KeepAlive))
		} else {
			r.add(StatusOK, "after %v idle requests through the provider still reach us", idle)
		}
	}
}

type reach int

const (
	reachNotAsked reach = iota
	reachUnknown        // the provider answered without routing it to us
	reachLost           // it should have come, it did not
	reachOK
)

// judge reads a probe. A request that did not arrive is lost when nothing
// final came back, or only a timeout or "temporarily unavailable" (the
// provider tried our Contact); any other answer (404, 403, 405, even a 200
// from someone else) means the provider did not route it to us, so it
// proves nothing.
func judge(p Probe) reach {
	switch {
	case !p.Asked || p.Err != "":
		return reachNotAsked
	case p.Arrived:
		return reachOK
	case p.Code == 0 || p.Code == 408 || p.Code == 480 || p.Code == 503 || p.Code == 504:
		return reachLost
	}
	return reachUnknown
}

func because(err string) string {
	if err == "" {
		return ""
	}
	return ": " + err
}

func code(p Probe) string { return fmt.Sprintf("%d %s", p.Code, p.Reason) }

func answered(p Probe) string {
	if p.Code == 0 {
		return " (no answer)"
	}
	return " (" + code(p) + ")"
}

// hint suggests the setting most likely to fix a lost request.
func hint(f Findings, afterIdle bool) string {
	switch {
	case behindNAT(f) && !f.ContactRewrite:
		return "; set nat.contact_rewrite = true"
	case afterIdle && f.KeepAlive <= 0:
		return "; set nat.keepalive (e.g. \"25s\")"
	case afterIdle:
		return fmt.Sprintf("; keep-alives every %v were not enough: lower nat.keepalive", f.KeepAlive)
	}
	return ""
}

func keepAliveNote(d time.Duration) string {
	if d <= 0 {
		return " (nat.keepalive is off)"
	}
	return fmt.Sprintf(" (nat.keepalive %v)", d)
}
