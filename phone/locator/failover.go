package locator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Failover hands out a located list of targets, first to last, skipping
// those that failed: Next keeps returning the same target until the caller
// reports it with Fail, so a target that works stays in use. RFC 3263 §4.3
// leaves the decision to the caller: a transport error, a transaction
// timeout or a 503 means "try the next one". It is safe for concurrent use.
type Failover struct {
	mu      sync.Mutex
	targets []Target
	errs    []error // errs[i] is why targets[i] failed, nil while it has not
}

// NewFailover starts handing out targets (typically what Locate returned).
func NewFailover(targets []Target) *Failover {
	return &Failover{targets: targets, errs: make([]error, len(targets))}
}

// Next returns the first target that has not failed, and false when every
// one has (then Err says why).
func (f *Failover) Next() (Target, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.targets {
		if f.errs[i] == nil {
			return t, true
		}
	}
	return Target{}, false
}

// Fail records that t failed with err; Next hands it out no more. A target
// that is not in the list is ignored; a nil err counts as a failure too.
func (f *Failover) Fail(t Target, err error) {
	if err == nil {
		err = errors.New("failed")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.targets {
		if f.targets[i] == t && f.errs[i] == nil {
			f.errs[i] = err
		}
	}
}

// Err is nil while a target is left; then an error naming every target
// and why it failed, which wraps each failure (errors.Is and errors.As see
// them all).
func (f *Failover) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.targets) == 0 {
		return fmt.Errorf("%w: no target to try", ErrNotFound)
	}
	for _, err := range f.errs {
		if err == nil {
			return nil
		}
	}
	return &allFailed{targets: slices.Clone(f.targets), errs: slices.Clone(f.errs)}
}

// allFailed is Failover.Err once every target has failed.
type allFailed struct {
	targets []Target
	errs    []error
}

func (e *allFailed) Error() string {
	var b strings.Builder
	b.WriteString("every server failed: ")
	for i, t := range e.targets {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(t.String() + ": " + e.errs[i].Error())
	}
	return b.String()
}

func (e *allFailed) Unwrap() []error { return e.errs }
