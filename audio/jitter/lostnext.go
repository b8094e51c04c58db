package jitter

// LostNext copies into dst the payload of the packet that follows the frame
// the last Pop reported Lost, when that packet is already buffered, and
// returns its length; otherwise (or after any other Pop outcome) it returns
// 0. A codec with in-band forward error correction rebuilds the lost frame
// from it (Opus, RFC 6716 §2.1.7); the packet stays buffered and plays at
// its own turn.
func (b *Buffer) LostNext(dst []byte) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lostSeq < 0 || b.count == 0 {
		return 0
	}
	seq := b.lostSeq + 1
	s := &b.slots[seq&b.mask]
	if s.state != slotFull || s.seq != seq {
		return 0
	}
	i := int(seq & b.mask)
	return copy(dst, b.data[i*b.psize:i*b.psize+s.n])
}
