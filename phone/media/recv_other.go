//go:build !linux

package media

import "net/netip"

// rtpDrain is empty where the clock does not drain RTP sockets: each
// started stream reads its socket on a goroutine (readRTP).
type rtpDrain struct{}

// rxBatch is empty where the clock does not drain RTP sockets.
type rxBatch struct{}

func newRxBatch() *rxBatch { return nil }

// drainOnTick reports false: a goroutine reads the RTP socket.
func (s *Stream) drainOnTick() bool { return false }

// drain does nothing: a goroutine reads the RTP socket.
func (b *rxBatch) drain(_ *Stream, digits []rune) []rune { return digits }

// writeRTP sends one RTP packet to dst.
func (s *Stream) writeRTP(b []byte, dst netip.AddrPort) error {
	_, err := s.rtpConn.WriteToUDPAddrPort(b, dst)
	return err
}

// closeRTP closes the RTP socket.
func (s *Stream) closeRTP() { _ = s.rtpConn.Close() }
