#!/usr/bin/env bash
# check-deps.sh — the import arrows of design.md: ui → sessions → phone → audio.
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
done
exit $fail
