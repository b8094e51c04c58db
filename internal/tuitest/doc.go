// Package tuitest holds the end-to-end test of the full-screen phone in a
// real terminal: the teaphone binary runs inside a detached tmux session
// (80×24), keys go in with tmux send-keys and the screen is read back with
// tmux capture-pane, while a real baresip calls it over 127.0.0.1.
//
// TestTeatestDrivenByCtl (teatest_test.go) is the in-process counterpart:
// the TUI's model in a teatest program whose Manager is also served on a
// control socket, driven only by the ctl client (dial, dtmf, hold, hangup)
// against baresip; its final screen is a golden file
// (testdata/TestTeatestDrivenByCtl.golden, rewritten by go test -update).
//
// The package has no code of its own; see tuitest_test.go. The test needs
// tmux and baresip (make deps-test installs both); without them it is
// skipped, except under CI=true, where it fails.
//
// Set TEAPHONE_SCREEN_DIR to keep the captured screens (incoming call,
// connected call) as text files.
package tuitest
