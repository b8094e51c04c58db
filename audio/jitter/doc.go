// Package jitter is the receive-side playout buffer of a call: an adaptive
// RTP jitter buffer (Buffer) and packet-loss concealment for decoded PCM
// (Concealer).
//
// # Use
//
// The media engine Pushes every received RTP packet of the call's audio
// payload type and Pops once per frame duration (20 ms) from its playout
// clock:
//
//	jb := jitter.New()
//	// receive goroutine
//	jb.Push(h.SequenceNumber, h.Timestamp, h.SSRC, h.Marker, payload, time.Now())
//	// clock goroutine, every 20 ms
//	n, st := jb.Pop(time.Now(), buf)
//
// Frame: decode buf[:n] and pass the PCM to Concealer.Good. Lost: call
// Concealer.Conceal. Empty, Buffering: play silence or comfort noise.
//
// Packets of the same source that carry no audio but use up sequence
// numbers, comfort noise (RFC 3389) and telephone-events (RFC 4733), should
// be reported with Skip(seq, ssrc); otherwise their numbers look lost.
//
// # Packet time
//
// Every packet must carry exactly one frame (WithFrameDuration, 20 ms by
// default; Pop returns one packet per tick). Other packet times are rejected,
// not split or joined: payloads longer than the payload size (160 bytes, so
// 30 ms and longer G.711 packets) are Invalid, and so is a packet whose
// timestamp is less than a frame after its predecessor's (a 10 ms stream). A
// peer that insists on another ptime needs a Buffer built with that frame
// duration and a clock ticking at it, or repacketising before Push.
//
// # Algorithm
//
// Numbering. Sequence numbers and timestamps are extended to 64 bits against
// the highest seen (RFC 3550 A.1), so 65535→0 and 2^32→0 wrap-arounds are
// ordinary increments. A new SSRC (RFC 3550 §8.2), a sequence jump ahead of
// more than 3 s of packets, or a timestamp that strays more than 3 s from
// what the sequence number implies, restarts the stream (PushResult Reset:
// the buffer is flushed and the packet starts the new stream, played after
// the minimum delay, so there is no long gap). A packet far behind is dropped
// unless the next one continues from it (the bad_seq rule of RFC 3550 A.1).
//
// Storage. Packets are copied into a ring of preallocated slots indexed by
// extended sequence number modulo the capacity. The window is
// [next to play, next to play + capacity); a packet beyond it pushes the
// oldest out (Dropped). Below it, a packet is a Duplicate if its slot still
// remembers it, else TooLate; inside it, one whose timestamp is before the
// playout point is TooLate too.
//
// Timing. Each packet's relative transit time is arrival − timestamp
// (RFC 3550 §6.4.1). The interarrival jitter J is the RFC 3550 A.8 estimate
// (reported for RTCP). The playout reference is the fastest transit seen over
// the last 2–4 s (two alternating 2 s windows, so it follows clock drift and
// route changes); a packet's "on-time arrival" is its timestamp plus that
// transit, and its deviation is how much later it came. The jitter the buffer
// covers is the peak deviation: it jumps up at once with any late packet, is
// held for 1 s, then decays by 60 ms per second. When spikes recur (two
// episodes less than 10 s apart) the hold becomes twice their interval, up
// to 5 s, so a periodic spike is covered instead of causing a stall each time
// (a simplified form of WebRTC NetEQ's delay peak detector). The target delay is
// clamp(frame/2 + peak + headroom, min delay, max delay), the headroom
// growing from nothing for a peak up to a quarter frame to half a frame
// for a peak of half a frame or more: the minimum delay on a clean network
// (20 ms by default; the media engine uses 10 ms, which plays a frame at
// the first tick after its arrival), frame + peak under real jitter, at
// most 200 ms. Playout starts no earlier than target − frame/2 after the
// on-time arrival: that is the floor the delay shrinks back to.
// Stats.CurrentDelay is how long after its on-time arrival the last frame
// was played.
//
// Playout. Pop plays the packet at the playout point and advances it by one
// frame. The first packet of the stream, and the first of each talkspurt (a
// marker bit, RFC 3551 §4.1, or a timestamp jump with no sequence gap: DTX),
// is scheduled afresh at its on-time arrival plus the target delay, rounded
// to the nearest tick (so the delay averages the target rather than the
// target plus half a tick, and is never less than the target minus half a
// frame); in between Pop reports Buffering. This is where the delay adapts
// without touching speech, and why silence gaps are never counted as loss.
//
// Loss. A sequence number is Lost when a later packet is present at its
// slot; Pop reports Lost for the slot and moves on, unless the delay is below
// target, in which case it waits a frame (it may be reordered). When nothing
// is buffered (underrun: a late burst, loss, or the end of a talkspurt) the
// playout point is held, growing the delay by a frame per tick up to the
// maximum, so a jitter spike is absorbed by the spike itself, within a few
// packets. Pop reports Lost for the first 60 ms of an underrun (the caller
// conceals) and Empty after that. If the packets that end the underrun show
// it was loss rather than delay, the held frames are counted as the lost ones
// and the time is given back, even below the floor: the delay before the
// underrun was enough for every packet so far (keeping the frame would only
// have the shrink rule cut it out of the speech later).
//
// Shrinking. When the delay is a frame or more above the floor the buffer drops
// one frame, at most every 200 ms, while frames are contiguous; silence gaps
// shrink for free through rescheduling. A spike thus raises the delay at once
// and, after the network calms, it returns to the target within a few
// seconds. The delay never exceeds the maximum: Pop skips whole frames first.
//
// Counting. Lost counts sequence numbers passed at playout without a packet;
// a packet arriving after that is also counted Late. Played + Dropped +
// Flushed + Buffered always equals Accepted.
//
// # Concealment
//
// Concealer implements the ITU-T G.711 Appendix I algorithm on 10 ms blocks
// of 8 kHz PCM: the pitch period (5–15 ms) is found by normalised
// cross-correlation over the last 20 ms, the last period is repeated with a
// quarter-period overlap-add at each joint, two and then three periods are
// used after 10 and 20 ms, the output is attenuated by 20 % per 10 ms after
// the first 10 ms and is silent after 60 ms, and the first good frame is
// cross-faded in over 1/4 period plus 4 ms per extra 10 ms lost. The output
// runs 3.75 ms (ConcealerDelay samples) behind the input.
package jitter
