// Package opus is teaphone's Opus codec (RFC 6716) for wideband calls, in
// the slice shape of audio/g711: Encode and Decode take the caller's
// buffers and allocate nothing per frame.
//
// Format: 48 kHz mono, 20 ms frames of [FrameSamples] (960) samples. The
// RTP clock of Opus is 48 kHz whatever the bandwidth actually coded (RFC
// 7587 §4.1), so RTP timestamps advance by 960 a packet, and the rtpmap is
// opus/48000/2 even for mono (§7). The rest of teaphone works at 8 kHz in
// 160-sample frames (package audio): the media path resamples around this
// package.
//
// Format parameters (RFC 7587 §6.1): [ParseFmtp] and [FormatFmtp] read and
// write the a=fmtp parameters; [LocalParams] is what teaphone states for
// what it receives (maxplaybackrate=48000;stereo=0;useinbandfec=1), and
// [ConfigFor] turns the peer's parameters into the encoder set-up:
// bandwidth up to its maxplaybackrate, bitrate under its maxaveragebitrate,
// in-band FEC when it said useinbandfec=1, DTX only when it said usedtx=1
// (off by default).
//
// Loss (RFC 7587 §3.3, RFC 6716 §2.1.7 and §4.4): when a packet is lost and
// the next one has arrived, [Decoder.DecodeFEC] rebuilds the lost frame
// from the FEC copy the next packet carries; when the next one is missing
// too, [Decoder.Conceal] extrapolates (libopus packet loss concealment).
// Both replace teaphone's G.711 concealment for Opus calls. Under 10 %
// random loss of speech-like audio, FEC plus concealment comes within 24 dB
// SNR of the loss-free decoding where zero-filling gets 8 dB
// (TestLossConcealment).
//
// The codec is libopus through gopkg.in/hraban/opus.v2 (cgo). That module
// is one Go package: its Ogg/Opus file reader (stream.go, streams_map.go,
// stream_errors.go, callbacks.c) sits in the same package as the codec,
// behind the build constraint !nolibopusfile, and its cgo directives ask
// pkg-config for opusfile. There is no sub-package to import instead, and a
// go.mod cannot set build tags, so a plain go build or go vet of this
// package needs libopusfile-dev as well as libopus-dev; building with
// -tags nolibopusfile drops that need (teaphone uses nothing of the file
// reader). The Makefile installs both.
//
// Builds: with cgo this package needs libopus-dev and libopusfile-dev
// (pkg-config opus, opusfile). With CGO_ENABLED=0 or -tags noopus it
// compiles to a stub whose constructors return [ErrUnavailable], so that
// the rest of teaphone builds and falls back to G.711 or G.722; [Available]
// tells which build this is. The tests skip in such a build unless CI=true,
// where they fail instead.
package opus
