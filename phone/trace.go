package phone

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TraceSIP writes every SIP message sent and received, as it is on the
// wire, to w; nil stops. Like SetLibraryLogger it is process-wide: sipgo's
// trace hook is a global. Call it before the first Phone starts. Each
// message is one Write, so the trace interleaves cleanly with a log that
// writes one record per Write to the same file.
func TraceSIP(w io.Writer) {
	if w == nil {
		sip.SIPDebug = false
		return
	}
	sip.SIPDebugTracer(&tracer{w: w})
	sip.SIPDebug = true
}

type tracer struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *tracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	t.write("recv", transport, laddr+" <- "+raddr, msg)
}

func (t *tracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	t.write("sent", transport, laddr+" -> "+raddr, msg)
}

func (t *tracer) write(dir, transport, path string, msg []byte) {
	// SRTP keys (SDES a=crypto) never reach a log.
	b := fmt.Appendf(nil, "--- %s SIP %s %s %s (%d bytes)\n%s\n", time.Now().Format(time.RFC3339Nano), dir, transport, path, len(msg), redactSDESKeys(msg))
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = t.w.Write(b)
}
