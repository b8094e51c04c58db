// Package bench holds teaphone's end-to-end measurements that cannot be Go
// micro-benchmarks: CPU and memory per call with hundreds of real calls
// between separate processes (teaphone and baresip as the answering side),
// "teaphone load" against both with each target's own accounting (calls
// it saw answered, CPU, peak RSS) checked against what load reported
// (loadmode.go), the simultaneous calls one "teaphone answer" sustains
// (maxcalls.go, TEAPHONE_BENCH_MAXCALLS=1),
// mouth-to-ear latency through a private PulseAudio, and call quality
// (speech scored with internal/quality) through a seeded relay that loses
// and delays RTP (callquality.go, relay.go; TEAPHONE_BENCH_KEEP=DIR keeps
// each quality cell's recordings and logs there). Call quality is scored
// twice: on the waveform (segmental SNR, impaired 5 ms sub-frames; right
// for G.711 only) and on magnitude spectra (quality.Spectral: impaired
// 20 ms frames, phase ignored; right for Opus too); the goal lines judge
// G.711 on both and Opus on the spectral one. They run from
// TestBench when TEAPHONE_BENCH=1 (make bench) and print a summary table.
//
// Everything runs on 127.0.0.1 and in temporary directories; every process
// started here runs in its own process group, is stopped with SIGTERM, then
// SIGKILL of the group, and is always waited for.
//
// The harness is for Linux (and other Unix systems): it uses process
// groups and signals; elsewhere the package is empty.
package bench
