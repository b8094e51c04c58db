#!/usr/bin/env bash
# fuzz.sh — run every fuzz target of the module, one after another, each for
# FUZZTIME (default 10s). go test -fuzz takes one target of one package at a
# time, so the targets are discovered (go test -list) rather than listed here:
# a target added later is run without editing anything. Runs them all, then
# exits non-zero if any failed (a failing input is saved under the package's
# testdata/fuzz/ by go test).
set -euo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}

# Packages with a test file (for this GOOS/GOARCH) that declares a fuzz
# target; only these are asked for the list, so the others' test binaries
# are not built.
pkgs=$($GO list -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' ./... |
  while read -r pkg dir files; do
    [ -n "$files" ] || continue
    if (cd "$dir" && grep -qs '^func Fuzz' $files); then echo "$pkg"; fi
  done)

ran=0
failed=()
for pkg in $pkgs; do
  if ! list=$($GO test -list '^Fuzz' "$pkg"); then
    failed+=("$pkg (listing its targets)")
    continue
  fi
  for target in $(grep '^Fuzz' <<<"$list" || true); do
    ran=$((ran + 1))
    echo "== $pkg $target ($FUZZTIME)"
    if ! $GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" "$pkg"; then
      failed+=("$pkg $target")
    fi
  done
done

echo "fuzz: $ran targets run, ${#failed[@]} failed"
for f in "${failed[@]}"; do echo "  FAILED $f"; done
[ "$ran" -gt 0 ] || { echo "fuzz: no fuzz targets found"; exit 1; }
[ ${#failed[@]} -eq 0 ]
