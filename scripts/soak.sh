#!/usr/bin/env bash
# soak.sh — make soak: does "teaphone answer" leak over many calls?
#
# Builds teaphone and soakmon (internal/soak), starts "teaphone answer" on
# 127.0.0.1 (UDP, a free port, --pprof on a free port, events to a file),
# places SOAK_CALLS calls to it with "teaphone load" at SOAK_RATE calls/s,
# SOAK_CONCURRENT at a time, each held SOAK_HOLD with RTP both ways; soakmon
# samples the answering process's goroutines, open fds, heap and RSS (and
# its calls up) every SOAK_EVERY into samples.jsonl and prints the load's
# summary and the report with its verdict (internal/soak). Exit status: 0 PASS with no failed call, 1 otherwise.
# Outputs stay in SOAK_DIR (default: a new directory under $TMPDIR).
# Everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
calls=${SOAK_CALLS:-10000}
rate=${SOAK_RATE:-50}
conc=${SOAK_CONCURRENT:-100}
hold=${SOAK_HOLD:-2s}
every=${SOAK_EVERY:-10s}
# SIP transactions outlive their call by 64*T1 = 32 s: compare nothing
# sampled earlier in the load, and let the target settle as long after it.
warmup=${SOAK_WARMUP:-40s}
settle=${SOAK_SETTLE:-40s}
# The answering side refuses calls beyond sip.max_calls (1..2000): room for
# the calls in flight plus those whose BYE is on its way.
max_calls=${SOAK_MAX_CALLS:-$(( conc * 2 > 2000 ? 2000 : conc * 2 ))}
dir=${SOAK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/teaphone-soak.XXXXXX")}
mkdir -p "$dir"

answer_pid=""
cleanup() {
  if [ -n "$answer_pid" ] && kill -0 "$answer_pid" 2>/dev/null; then
    kill -TERM "$answer_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$answer_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$answer_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "soak: $calls calls at $rate/s, $conc at a time, hold $hold, answer max_calls $max_calls; outputs in $dir"
$GO build -o "$dir/teaphone" .
$GO build -o "$dir/soakmon" ./internal/soak/cmd/soakmon

cat >"$dir/answer.toml" <<TOML
[sip]
listen = "127.0.0.1:0"
transports = ["udp"]
max_calls = $max_calls
# Every call of the load comes from one address: no per-source limit.
max_new_calls_per_s = 0
[media]
rtp_ports = [20000, 29998]
codecs = ["PCMU"]
audio = "tone:440"
TOML
cat >"$dir/load.toml" <<TOML
[media]
rtp_ports = [30000, 39998]
codecs = ["PCMU"]
TOML

"$dir/teaphone" answer --config "$dir/answer.toml" --log-file "$dir/answer.log" --events jsonl \
  --pprof 127.0.0.1:0 >"$dir/answer.jsonl" 2>"$dir/answer.stderr" &
answer_pid=$!

# The answering process logs its SIP and pprof addresses once it listens.
sip="" pprof=""
for _ in $(seq 100); do
  sip=$(sed -n 's/.*msg="teaphone started".* listen=\([^ ]*\).*/\1/p' "$dir/answer.log" 2>/dev/null | head -n1 || true)
  pprof=$(sed -n 's/.*msg="pprof listening" addr=\([^ ]*\).*/\1/p' "$dir/answer.log" 2>/dev/null | head -n1 || true)
  [ -n "$sip" ] && [ -n "$pprof" ] && break
  kill -0 "$answer_pid" 2>/dev/null || { echo "soak: teaphone answer exited:"; cat "$dir/answer.stderr"; exit 1; }
  sleep 0.1
done
if [ -z "$sip" ] || [ -z "$pprof" ]; then
  echo "soak: teaphone answer did not start within 10 s (log: $dir/answer.log)"
  exit 1
fi
sleep 2 # let it settle before the idle sample
echo "soak: teaphone answer pid $answer_pid on $sip, pprof $pprof"

status=0
"$dir/soakmon" -pid "$answer_pid" -pprof "$pprof" -calls "$calls" -concurrent "$conc" -every "$every" \
  -warmup "$warmup" -settle "$settle" \
  -samples "$dir/samples.jsonl" -load-out "$dir/load.jsonl" -target-events "$dir/answer.jsonl" -- \
  "$dir/teaphone" load --config "$dir/load.toml" --log-file "$dir/load.log" --listen 127.0.0.1:0 \
  --events jsonl "sip:soak@$sip" --rate "$rate" --concurrent "$conc" --calls "$calls" --hold "$hold" --timeout 10s ||
  status=$?
if ! kill -0 "$answer_pid" 2>/dev/null; then
  echo "soak: teaphone answer died during the run: $(cat "$dir/answer.stderr")"
  status=1
fi
exit "$status"
