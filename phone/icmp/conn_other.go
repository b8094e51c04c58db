//go:build !linux

package icmp

import "syscall"

// reportsErrors: no ICMP error of a UDP socket reaches a Conn here (see the
// package documentation).
const reportsErrors = false

// enable has nothing to set.
func enable(syscall.RawConn) error { return nil }

// pendingICMP: no read or write fails for an earlier datagram's ICMP error.
func pendingICMP(error) bool { return false }

// lostOnSend: every failed send is reported as it is.
func lostOnSend(error) bool { return false }

// drainQueue has no error queue to read.
func drainQueue(syscall.RawConn, func(Report)) {}
