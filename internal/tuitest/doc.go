// Package tuitest holds the end-to-end test of the full-screen phone in a
// real terminal: the teaphone binary runs inside a detached tmux session
// (80×24), keys go in with tmux send-keys and the screen is read back with
// tmux capture-pane, while a real baresip calls it over 127.0.0.1.
//
// The package has no code of its own; see tuitest_test.go. The test needs
// tmux and baresip (make deps-test installs both); without them it is
// skipped, except under CI=true, where it fails.
//
// Set TEAPHONE_SCREEN_DIR to keep the captured screens (incoming call,
// connected call) as text files.
package tuitest
