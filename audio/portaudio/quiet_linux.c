//go:build linux && cgo && !noportaudio

// ALSA and JACK print diagnostics to stderr by default (about 100 lines when
// PortAudio probes a machine without a sound card). These hooks replace
// their handlers; the functions are found with dlsym because libasound and
// libjack are already loaded as dependencies of libportaudio.

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

#include "_cgo_export.h"

static volatile int teaphone_route;

typedef void (*teaphone_alsa_handler)(const char *file, int line, const char *function, int err, const char *fmt, ...);
typedef int (*teaphone_alsa_set_handler)(teaphone_alsa_handler);
typedef void (*teaphone_jack_handler)(const char *msg);
typedef void (*teaphone_jack_set_handler)(teaphone_jack_handler);

static void teaphone_alsa_log(const char *file, int line, const char *function, int err, const char *fmt, ...) {
	if (!teaphone_route || fmt == NULL) {
		return;
	}
	char buf[512];
	int n = snprintf(buf, sizeof buf, "ALSA %s:%d (%s) ", file ? file : "?", line, function ? function : "?");
	if (n < 0 || n >= (int)sizeof buf) {
		n = 0;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	va_end(ap);
	teaphoneAudioLog(buf);
}

static void teaphone_jack_log(const char *msg) {
	if (!teaphone_route || msg == NULL) {
		return;
	}
	char buf[512];
	snprintf(buf, sizeof buf, "JACK %s", msg);
	teaphoneAudioLog(buf);
}

int teaphone_audio_quiet(int route) {
	int hooked = 0;
	teaphone_route = route;
	teaphone_alsa_set_handler alsa = (teaphone_alsa_set_handler)dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler");
	if (alsa != NULL) {
		alsa(teaphone_alsa_log);
		hooked |= 1;
	}
	teaphone_jack_set_handler jerr = (teaphone_jack_set_handler)dlsym(RTLD_DEFAULT, "jack_set_error_function");
	if (jerr != NULL) {
		jerr(teaphone_jack_log);
		hooked |= 2;
	}
	teaphone_jack_set_handler jinfo = (teaphone_jack_set_handler)dlsym(RTLD_DEFAULT, "jack_set_info_function");
	if (jinfo != NULL) {
		jinfo(teaphone_jack_log);
		hooked |= 4;
	}
	return hooked;
}
