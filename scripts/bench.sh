#!/usr/bin/env bash
# Regenerates every figure in docs/BENCHMARKS.md in one run, each beside its
# comparison point measured in the same run:
#   - WBXML: typed FolderSync decode vs a bare token scan vs encode (transport)
#   - the session step (Decide + audit record) vs looplab/fsm's bare Event (machine)
#   - initial FolderSync over loopback HTTP vs the sim in process (transport/httpeas,
#     BenchmarkInitialSyncParts/server/sim)
#   - hierarchy apply/reconcile/commit/load, the fleet of sessions, and the soak summary
# Usage: bash scripts/bench.sh [OUTDIR]   (default /tmp/foldersync-bench; about 15 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/foldersync-bench}
mkdir -p "$out"
benchstat() { go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$@"; }
run() { # name package pattern count [extra go test flags]
  local name=$1 pkg=$2 pat=$3 count=$4; shift 4
  echo "== $name" >&2
  go test "$pkg" -run '^$' -bench "$pat" -benchmem -count "$count" "$@" > "$out/$name.txt"
  benchstat "$out/$name.txt" | tee "$out/$name.stat"
}
run wbxml ./transport/ . 6
run machine ./machine/ 'Decide|SessionStep|LooplabEvent|SyncInitial' 6
run hierarchy ./hierarchy/ . 5
# The loopback sync is noisy on a shared machine: interleave rounds so a burst of
# noise spreads over every size instead of spoiling one.
: > "$out/sync.txt"
for _ in 1 2 3 4 5 6; do
  go test ./transport/httpeas -run '^$' -bench 'InitialSync(Loopback|Parts)/^folders=(1000|10000)$/' -benchmem -count 1 >> "$out/sync.txt"
  go test ./transport/httpeas -run '^$' -bench 'InitialSync(Loopback|Parts)/^folders=100000$/' -benchmem -count 1 -benchtime 3x >> "$out/sync.txt"
done
benchstat "$out/sync.txt" | tee "$out/sync.stat"
if [ -d internal/fleet ]; then run fleet ./internal/fleet/ . 3; fi
echo "== soak" >&2
go run ./cmd/foldersync soak --seeds 2000 --sessions 5 --fault-rate 0.2 | tee "$out/soak.txt"
go run ./cmd/foldersync soak --http --seeds 200 --sessions 5 --fault-rate 0.2 | tee "$out/soak-http.txt"
echo "results in $out" >&2
