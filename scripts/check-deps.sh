#!/usr/bin/env bash
# check-deps.sh — the import arrows ui → sessions → phone → audio: a package
# may import the layers to its right, never those to its left. Only main
# imports audio/portaudio (the one cgo package), so everything else builds and
# tests without libportaudio; the rest of audio uses the standard library and
# github.com/zaf/g711 only (audio/opus also gopkg.in/hraban/opus.v2), and
# internal/rtpseq the standard library only.
set -euo pipefail
mod=github.com/teaphone/teaphone
fail=0
check() { # package, forbidden-regexp, why
  local bad
  bad=$(go list -deps "$mod/$1" 2>/dev/null | grep -E "$2" || true)
  if [ -n "$bad" ]; then
    echo "$1 must not import ($3):"; echo "$bad" | sed 's/^/  /'; fail=1
  fi
}
# ui reaches phone only through sessions: check its direct imports.
for p in $(go list ./ui/... 2>/dev/null); do
  bad=$(go list -f '{{join .Imports "\n"}}' "$p" | grep -E "emiago/sipgo|pion/|$mod/phone|$mod/audio/device|$mod/audio/portaudio" || true)
  [ -z "$bad" ] || { echo "$p must not import: $bad"; fail=1; }
done
check ui/... "gordonklaus/portaudio|$mod/audio/portaudio|$mod/audio/device" "audio devices"
check sessions/... "$mod/ui|bubbletea|gordonklaus/portaudio" "ui, bubbletea, PortAudio"
check phone/... "$mod/ui|$mod/sessions|bubbletea|gordonklaus/portaudio|$mod/audio/portaudio" "ui, sessions, bubbletea, PortAudio"
for p in $(go list ./audio/... | grep -v /audio/portaudio); do
  bad=$(go list -deps "$p" | grep -E "$mod/(phone|sessions|ui)|gordonklaus/portaudio" || true)
  [ -z "$bad" ] || { echo "$p must not import: $bad"; fail=1; }
  # Outside the module: github.com/zaf/g711 (under audio/g711) and, for
  # audio/opus only, gopkg.in/hraban/opus.v2 (the libopus binding, cgo);
  # audio/aec binds libspeexdsp with cgo itself, which is standard library.
  allowed="github.com/zaf/g711"
  [ "$p" != "$mod/audio/opus" ] || allowed="$allowed|gopkg.in/hraban/opus.v2"
  bad=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "$p" | grep -vE "^($mod/|($allowed)$)" || true)
  [ -z "$bad" ] || { echo "$p must import only the standard library and ${allowed//|/, }: $bad"; fail=1; }
done
# phone/locator (RFC 3263) knows DNS, not SIP messages: its own imports are
# the standard library and github.com/miekg/dns, nothing of sipgo or phone.
bad=$(go list -f '{{join .Imports "\n"}}' "$mod/phone/locator" | grep -E '\.' | grep -v '^github.com/miekg/dns$' || true)
[ -z "$bad" ] || { echo "phone/locator must import only the standard library and github.com/miekg/dns: $bad"; fail=1; }
# Shared by phone/media and audio/jitter: the standard library only.
bad=$(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' "$mod/internal/rtpseq" | grep -v "^$mod/internal/rtpseq$" || true)
[ -z "$bad" ] || { echo "internal/rtpseq must import only the standard library: $bad"; fail=1; }
exit $fail
