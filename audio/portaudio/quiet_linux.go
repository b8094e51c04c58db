//go:build linux && cgo && !noportaudio

package portaudio

/*
#cgo LDFLAGS: -ldl
int teaphone_audio_quiet(int route);
*/
import "C"

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
)

// libLog receives the ALSA and JACK library messages at debug level.
var libLog atomic.Pointer[slog.Logger]

//export teaphoneAudioLog
func teaphoneAudioLog(msg *C.char) {
	if l := libLog.Load(); l != nil {
		l.Debug("audio library", "msg", strings.TrimSpace(C.GoString(msg)))
	}
}

// quiet stops ALSA and JACK from printing to stderr (it would corrupt the
// TUI); with a debug-enabled log their messages go there instead, with nil
// they are dropped. It must run before pa.Initialize. The hooks are looked
// up at run time, so no ALSA or JACK headers are needed and a missing
// library is skipped.
func quiet(log *slog.Logger) {
	route := 0
	if log != nil && log.Enabled(context.Background(), slog.LevelDebug) {
		route = 1
	} else {
		log = nil
	}
	libLog.Store(log)
	C.teaphone_audio_quiet(C.int(route))
}
