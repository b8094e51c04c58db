package phone

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// ErrNoFiles is returned when the process has no file descriptor left
// (EMFILE, ENFILE): a call cannot get its RTP sockets. The phone stays up,
// and calls work again once descriptors are freed.
var ErrNoFiles = errors.New("out of file descriptors")

// isOutOfFiles tells whether err is the system refusing a new descriptor.
func isOutOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// noFilesError is ErrNoFiles with what a person needs to fix it: how many
// descriptors are open and the limit.
func noFilesError() error {
	open := -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		open = len(ents)
	}
	if limit, ok := fileLimit(); ok && open >= 0 {
		return fmt.Errorf("%w (%d open, limit %d: raise ulimit -n)", ErrNoFiles, open, limit)
	}
	return fmt.Errorf("%w (raise ulimit -n)", ErrNoFiles)
}

// patientListener keeps accepting through EMFILE and ENFILE. sipgo's
// Serve loop returns at the first Accept error, so without it a moment
// without file descriptors would stop TCP and TLS for good; with it the
// pending connections wait in the kernel's backlog and are taken once
// descriptors are free again (as net/http's Server does, sleeping 5 ms to
// 1 s between tries).
type patientListener struct {
	net.Listener
	logf func(msg string, args ...any)

	mu     sync.Mutex
	warned time.Time
}

// Accept implements net.Listener.
func (l *patientListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil || !isOutOfFiles(err) {
			return c, err
		}
		l.mu.Lock()
		if time.Since(l.warned) > 10*time.Second {
			l.warned = time.Now()
			l.logf("cannot accept a connection: "+noFilesError().Error(), "listener", l.Listener.Addr().String())
		}
		l.mu.Unlock()
		delay = min(max(2*delay, 5*time.Millisecond), time.Second)
		time.Sleep(delay)
	}
}
