package locator

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestFailover(t *testing.T) {
	a := Target{Transport: UDP, Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Host: "sip1.example.test"}
	b := Target{Transport: TCP, Addr: netip.MustParseAddrPort("192.0.2.2:5060"), Host: "sip2.example.test"}
	c := Target{Transport: UDP, Addr: netip.MustParseAddrPort("192.0.2.3:5060"), Host: "192.0.2.3"}
	timeout := errors.New("timeout")
	busy := errors.New("503 Service Unavailable")
	tests := []struct {
		name    string
		targets []Target
		fail    []Target // reported in this order, each with timeout
		want    Target
		ok      bool
		errHas  []string
	}{
		{"first until it fails", []Target{a, b, c}, nil, a, true, nil},
		{"a failure moves on", []Target{a, b, c}, []Target{a}, b, true, nil},
		{"failures out of order", []Target{a, b, c}, []Target{b, a}, c, true, nil},
		{"a stranger's failure is ignored", []Target{a, b}, []Target{c}, a, true, nil},
		{"a second failure keeps the first reason", []Target{a, b}, []Target{a, a}, b, true, nil},
		{"all failed", []Target{a, b, c}, []Target{a, b, c}, Target{}, false, []string{
			"every server failed: UDP 192.0.2.1:5060 (sip1.example.test): timeout; TCP 192.0.2.2:5060 (sip2.example.test): timeout; UDP 192.0.2.3:5060: timeout",
		}},
		{"nothing to try", nil, nil, Target{}, false, []string{"no target"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFailover(tt.targets)
			for _, x := range tt.fail {
				f.Fail(x, timeout)
			}
			got, ok := f.Next()
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Next = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
			if again, _ := f.Next(); again != got {
				t.Errorf("Next moved on without a failure: %v then %v", got, again)
			}
			err := f.Err()
			if tt.ok != (err == nil) {
				t.Fatalf("Err = %v with a target left: %v", err, tt.ok)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Err %q lacks %q", err, s)
				}
			}
		})
	}

	// Err wraps each failure.
	f := NewFailover([]Target{a, b})
	f.Fail(a, timeout)
	f.Fail(b, busy)
	if err := f.Err(); !errors.Is(err, timeout) || !errors.Is(err, busy) {
		t.Errorf("Err %v does not wrap both failures", err)
	}
}
