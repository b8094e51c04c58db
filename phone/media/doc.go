// Package media is teaphone's RTP/RTCP engine: it carries the audio of many
// calls at once with one shared pacing clock.
//
// An [Engine] owns a single clock goroutine that ticks on an absolute 20 ms
// schedule (start + n·20 ms, never Sleep(20ms)). When a stream's source
// is a capture device's (a [FrameClock]), the schedule's phase follows the
// device: ticks come a few milliseconds after it delivers a frame, so the
// microphone's audio is sent as soon as it exists. On every tick, for
// every started [Stream], it reads one frame from the stream's audio.Source,
// encodes it and sends one RTP packet (or one RFC 4733 telephone-event
// packet), then pops the playout (jitter) buffer, decodes or conceals the
// frame and hands it to the stream's audio.Sink. RTCP reports and coalesced
// statistics are produced from the same tick.
//
// Each started stream has one goroutine blocked in ReadFromUDPAddrPort on its
// RTP socket (and one on its RTCP socket, if any); they validate packets,
// update RFC 3550 reception statistics, latch the send address (symmetric
// RTP) and push audio into the playout buffer.
//
// The per-packet paths (send and receive) do not allocate, do not log and
// hold no lock across I/O.
//
// Source locking and latching rules (documented here because they are policy):
//
//   - A remote source is accepted after two packets in sequence with the same
//     SSRC and an accepted payload type (RFC 3550 A.1 probation). The first
//     accepted source locks the stream: its SSRC becomes the remote SSRC and,
//     if its transport address differs from the SDP address, RTP is sent back
//     to that address from then on (symmetric RTP, RFC 4961 / "comedia").
//   - Once locked, packets carrying another SSRC are dropped and counted as
//     foreign. A new SSRC may re-lock only after the locked source has been
//     silent for at least 500 ms (or sent RTCP BYE), and only when it comes
//     from the latched address or the SDP address. Packets of the locked SSRC
//     from a new address re-latch the send address only after the latched
//     address has been silent for 500 ms (NAT rebinding).
//   - SetRemote (a new SDP answer) clears the lock and the latch.
//
// Callbacks (OnDTMF, OnStats) run outside every lock, from the receive or
// the clock goroutine; they must not block. With many streams the clock
// spreads a tick over GOMAXPROCS worker goroutines (see WithWorkers).
//
// Mute sends encoded silence frames instead of the source's audio, so NAT
// bindings stay open and the remote's jitter statistics stay meaningful.
package media
