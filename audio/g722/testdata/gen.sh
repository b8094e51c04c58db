#!/bin/sh
# Regenerates the ffmpeg reference files the g722 tests compare against.
# Needs ffmpeg (Debian package ffmpeg); the tests themselves do not.
#
# For each signal NAME (0.5 s, 16 kHz, mono, s16le):
#   NAME.s16le.gz       the input, made by ffmpeg's lavfi sources
#   NAME.g722.gz        ffmpeg's G.722 encoding of it (plain encoder, -trellis 0)
#   NAME.dec.s16le.gz   ffmpeg's decoding of NAME.g722
# and ffmpeg-version.txt records which ffmpeg made them. The default ffmpeg
# G.722 encoder is the plain one (-trellis 0, written out here); for the
# decoder test, sweep.trellis.g722.gz is the sweep encoded with ffmpeg's
# trellis search (-trellis 4: other octets, still plain G.722) and
# sweep.trellis.dec.s16le.gz ffmpeg's decoding of it.
set -eu
cd "$(dirname "$0")"
command -v ffmpeg >/dev/null || { echo "gen.sh: ffmpeg not found (apt-get install ffmpeg)" >&2; exit 1; }

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
dur=0.5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

signal() { # NAME LAVFI-SOURCE
	ff -f lavfi -i "$2" -t $dur -ar 16000 -ac 1 -f s16le -c:a pcm_s16le "$tmp/$1.s16le"
}
signal tone1k   "sine=frequency=1000:sample_rate=16000"
signal tone6k   "sine=frequency=6000:sample_rate=16000"
# Linear sweep 50 Hz to 7950 Hz over the half second, -6 dBFS.
signal sweep    "aevalsrc=0.5*sin(2*PI*(50*t+7900*t*t)):s=16000"
signal noise    "anoisesrc=sample_rate=16000:amplitude=1:color=white:seed=722"
signal silence  "anullsrc=r=16000:cl=mono"
# Full-scale 500 Hz square: every sample +32767 or -32768.
signal square   "aevalsrc=if(lt(mod(t*500\,1)\,0.5)\,32767/32768\,-1):s=16000"

for f in "$tmp"/*.s16le; do
	name=$(basename "$f" .s16le)
	ff -f s16le -ar 16000 -ac 1 -i "$f" -c:a g722 -trellis 0 -f g722 "$tmp/$name.g722"
	ff -f g722 -i "$tmp/$name.g722" -f s16le -c:a pcm_s16le "$tmp/$name.dec.s16le"
	for out in "$f" "$tmp/$name.g722" "$tmp/$name.dec.s16le"; do
		gzip -9n <"$out" >"$(basename "$out").gz"
	done
done
ff -f s16le -ar 16000 -ac 1 -i "$tmp/sweep.s16le" -c:a g722 -trellis 4 -f g722 "$tmp/sweep.trellis.g722"
ff -f g722 -i "$tmp/sweep.trellis.g722" -f s16le -c:a pcm_s16le "$tmp/sweep.trellis.dec.s16le"
gzip -9n <"$tmp/sweep.trellis.g722" >sweep.trellis.g722.gz
gzip -9n <"$tmp/sweep.trellis.dec.s16le" >sweep.trellis.dec.s16le.gz
ffmpeg -hide_banner -version | head -n 1 >ffmpeg-version.txt
