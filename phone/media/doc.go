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
// When a stream's sink plays on a sound card (a [DeviceSink]), a frame that
// waited for the next tick would be heard up to 20 ms later than needed:
// the engine then plays out on a second schedule of its own, 3 ms after
// that stream's packets arrive (following them as the two ends' clocks
// drift), and only sends on the first. With the jitter buffer's half-frame
// minimum a frame that arrives on time is played at once. After each tick
// that played out, the engine calls every device sink's Played, so the
// sound card takes the frames at once rather than on its own next period.
//
// On Linux no goroutine waits for RTP: at the start of each stream's tick,
// before the playout buffer is popped, the clock drains the stream's RTP
// socket with non-blocking recvmmsg(2) (one system call when it is empty),
// taking each packet's arrival time from the kernel's receive timestamp
// (SO_TIMESTAMPNS). Elsewhere each started stream has one goroutine blocked
// in ReadFromUDPAddrPort on its RTP socket. Either way the packets are
// validated, update RFC 3550 reception statistics, latch the send address
// (symmetric RTP) and push audio into the playout buffer. A stream's RTCP
// socket, if any, has its own receive goroutine.
//
// RTCP may be multiplexed on the RTP port (RFC 5761, StreamConfig.RTCPMux):
// reports then leave from the RTP socket to where RTP goes, the latched
// address included, so one NAT binding carries both. RTCP that arrives on
// the RTP socket is told apart by its second octet (RFC 5761 §4) and never
// touches the RTP statistics, the source lock, the latch or the playout
// buffer. RTCP is built and read by this package's own wire code, not by
// pion/rtcp: pion's Unmarshal allocates for every compound packet (7
// allocations, 240 B for an SR with SDES), and the per-packet paths must
// not. FuzzRTCPWire checks the reader against pion/rtcp on any input, and
// the writer's output is compared with pion's byte for byte.
//
// The per-packet paths (send and receive, RTP and RTCP) do not allocate, do
// not log and hold no lock across I/O.
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
// Callbacks (OnDTMF, OnStats) run outside every lock, from the clock
// goroutine after a tick (or, for OnDTMF where a goroutine reads RTP, from
// that goroutine); they must not block. With many streams the clock
// spreads a tick over GOMAXPROCS worker goroutines (see WithWorkers).
//
// Mute sends encoded silence frames instead of the source's audio, so NAT
// bindings stay open and the remote's jitter statistics stay meaningful.
package media
