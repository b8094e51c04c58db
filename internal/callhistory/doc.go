// Package callhistory keeps every call in a SQLite database (pure Go,
// modernc.org/sqlite, so the CGO_ENABLED=0 build keeps working): who called
// whom, from which account, when it started, was answered and ended, how it
// ended, its codec and last MOS, and whether it was missed.
//
// A [Recorder] follows the sessions event stream and writes each call's row
// as the call progresses: a row when the call appears, updated on every state
// change, so that a crash (even kill -9) loses at most the calls in progress.
// [DB.Query] reads the rows back for `teaphone history` and the TUI.
//
// The history is a convenience: a database that cannot be opened (locked,
// corrupt, unwritable) is reported by [Open] and the caller runs without it.
package callhistory
