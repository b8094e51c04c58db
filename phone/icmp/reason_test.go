package icmp

import (
	"net/netip"
	"testing"
)

func TestReasonFor(t *testing.T) {
	tests := []struct {
		name              string
		origin, typ, code uint8
		want              Reason
	}{
		{"icmp net unreachable", originICMP, 3, 0, ReasonNetUnreachable},
		{"icmp host unreachable", originICMP, 3, 1, ReasonHostUnreachable},
		{"icmp protocol unreachable", originICMP, 3, 2, ReasonProtocolUnreachable},
		{"icmp port unreachable", originICMP, 3, 3, ReasonPortUnreachable},
		{"icmp fragmentation needed", originICMP, 3, 4, ReasonUnknown},
		{"icmp source route failed", originICMP, 3, 5, ReasonNetUnreachable},
		{"icmp net unknown", originICMP, 3, 6, ReasonNetUnreachable},
		{"icmp host unknown", originICMP, 3, 7, ReasonHostUnreachable},
		{"icmp host isolated", originICMP, 3, 8, ReasonHostUnreachable},
		{"icmp net prohibited", originICMP, 3, 9, ReasonProhibited},
		{"icmp host prohibited", originICMP, 3, 10, ReasonProhibited},
		{"icmp net unreachable for tos", originICMP, 3, 11, ReasonNetUnreachable},
		{"icmp host unreachable for tos", originICMP, 3, 12, ReasonHostUnreachable},
		{"icmp communication prohibited", originICMP, 3, 13, ReasonProhibited},
		{"icmp precedence violation", originICMP, 3, 14, ReasonProhibited},
		{"icmp precedence cutoff", originICMP, 3, 15, ReasonProhibited},
		{"icmp unassigned code", originICMP, 3, 16, ReasonUnknown},
		{"icmp source quench", originICMP, 4, 0, ReasonUnknown},
		{"icmp redirect", originICMP, 5, 1, ReasonUnknown},
		{"icmp time exceeded", originICMP, 11, 0, ReasonUnknown},
		{"icmp parameter problem", originICMP, 12, 0, ReasonParameterProblem},
		{"icmpv6 no route", originICMP6, 1, 0, ReasonNetUnreachable},
		{"icmpv6 prohibited", originICMP6, 1, 1, ReasonProhibited},
		{"icmpv6 beyond scope", originICMP6, 1, 2, ReasonNetUnreachable},
		{"icmpv6 address unreachable", originICMP6, 1, 3, ReasonHostUnreachable},
		{"icmpv6 port unreachable", originICMP6, 1, 4, ReasonPortUnreachable},
		{"icmpv6 source policy", originICMP6, 1, 5, ReasonProhibited},
		{"icmpv6 reject route", originICMP6, 1, 6, ReasonProhibited},
		{"icmpv6 source routing header", originICMP6, 1, 7, ReasonUnknown},
		{"icmpv6 packet too big", originICMP6, 2, 0, ReasonUnknown},
		{"icmpv6 time exceeded", originICMP6, 3, 0, ReasonUnknown},
		{"icmpv6 parameter problem", originICMP6, 4, 1, ReasonParameterProblem},
		// An ICMPv4 type read as ICMPv6 and the other way round.
		{"icmpv6 type 3 is time exceeded", originICMP6, 3, 3, ReasonUnknown},
		{"icmp type 1 is unassigned", originICMP, 1, 4, ReasonUnknown},
		{"local error", 1, 3, 3, ReasonUnknown},
		{"no origin", 0, 3, 3, ReasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasonFor(tt.origin, tt.typ, tt.code); got != tt.want {
				t.Errorf("reasonFor(%d, %d, %d) = %v, want %v", tt.origin, tt.typ, tt.code, got, tt.want)
			}
		})
	}
}

func TestReasonString(t *testing.T) {
	tests := []struct {
		r    Reason
		want string
	}{
		{ReasonUnknown, "unknown"},
		{ReasonPortUnreachable, "port unreachable"},
		{ReasonHostUnreachable, "host unreachable"},
		{ReasonNetUnreachable, "network unreachable"},
		{ReasonProtocolUnreachable, "protocol unreachable"},
		{ReasonProhibited, "administratively prohibited"},
		{ReasonParameterProblem, "parameter problem"},
		{Reason(42), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("Reason(%d).String() = %q, want %q", int(tt.r), got, tt.want)
		}
	}
}

func TestReportString(t *testing.T) {
	tests := []struct {
		r    Report
		want string
	}{
		{
			Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Reason: ReasonPortUnreachable, From: netip.MustParseAddr("192.0.2.1")},
			"port unreachable: 192.0.2.1:5060",
		},
		{
			Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Reason: ReasonHostUnreachable, From: netip.MustParseAddr("198.51.100.1")},
			"host unreachable: 192.0.2.1:5060 (from 198.51.100.1)",
		},
		{
			Report{Addr: netip.MustParseAddrPort("[2001:db8::1]:5062"), Reason: ReasonProhibited},
			"administratively prohibited: [2001:db8::1]:5062",
		},
		{
			Report{Addr: netip.MustParseAddrPort("[fe80::1%eth0]:5060"), Reason: ReasonPortUnreachable, From: netip.MustParseAddr("fe80::1")},
			"port unreachable: [fe80::1%eth0]:5060",
		},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
