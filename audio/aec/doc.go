// Package aec cancels acoustic echo and suppresses noise on the microphone
// signal, for calls on loudspeakers: the far end's voice, played by the
// speaker, reaches the microphone again and would be sent back to them.
//
// A [Canceller] runs libspeexdsp's multi-delay adaptive filter (MDF,
// speex_echo_cancellation) on each frame: given the frame sent to the
// loudspeaker (the far-end reference) it learns the echo path (speaker,
// room, microphone, and the delay between playing and capturing, up to the
// tail given to [New]) and subtracts its estimate of the echo from the
// microphone frame. The speex preprocessor then removes what echo the
// linear filter leaves (it is given the echo state:
// SPEEX_PREPROCESS_SET_ECHO_STATE) and stationary noise (denoise on). The
// canceller converges within a few seconds of far-end speech; until then,
// and after the echo path changes, some echo gets through.
//
// The far-end reference must be exactly what was played, frame for frame,
// in the same period as the microphone frame captured; a reference that
// drifts from what the speaker plays (another clock, a resampler, frames
// dropped or padded on one side only) defeats the filter.
//
// Steady sounds are noise to the suppressor: a hum or a test tone on the
// microphone that never pauses is learnt within about 2 s and taken down
// by 15 dB. Speech pauses and survives. So the canceller belongs on a real
// microphone only, not on synthetic sources such as tone or file.
// [Canceller.SuppressNoise](false) sets the suppressor's noise floor to
// 0 dB: steady sound then passes, and the residual echo suppression stays.
// [Canceller.EchoDelay] tells where the filter has put the echo path, for
// diagnostics.
//
// The binding is hand-written cgo, a dozen calls: no Go module binding
// speexdsp is served to teaphone by the module proxy, and the calls needed
// are few enough to own. [Canceller.Process] passes the caller's slices to
// C for the duration of the call only, and allocates nothing.
//
// Builds: with cgo this package needs libspeexdsp-dev (pkg-config
// speexdsp). With CGO_ENABLED=0 or -tags nospeexdsp it compiles to a stub
// whose New returns [ErrUnavailable]; [Available] tells which build this
// is. The tests skip in such a build unless CI=true, where they fail
// instead.
package aec
