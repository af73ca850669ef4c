#!/usr/bin/env bash
# Benchmark of one `vigie watch` cycle (issue 9) on the Vancouver grid (153 x 132 cells of 100 m, about 12,000
# active): the VPD history before 2023 is the store, then DAYS days of 2023 are replayed as fast as the watcher
# takes them, at RANKS ranks, with the case's settings (16 members, LETKF within 500 m, scan of circles up to
# 500 m over 1-3 days with 999 replicates). Prints the per-cycle latency (journaled append + analysis + scan +
# forecast refresh + state commit) from watch/cycles.jsonl, and the timers of the phases.
# Usage: scripts/bench_watch.sh [DAYS] [RANKS]   (default: 31 days, 2 ranks)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/mpi_env.sh
source "$root/scripts/mpi_env.sh"
vigie=${BUILD_DIR:-$root/build}/src/vigie
days=${1:-31}
ranks=${2:-2}
work=$root/out/bench_watch
mkdir -p "$work"
vpd=$root/inputs/vancouver/vpd_2018_2020-2023.csv.gz
[ -f "$work/history.csv.gz" ] || /usr/bin/python3 "$root/scripts/replay" "$vpd" --from 2023-01-01 \
  --split-history "$work/history.csv.gz"
rm -rf "$work/out"
end=$(/usr/bin/python3 -c "import datetime as d; print(d.date(2023,1,1) + d.timedelta(days=$days))")
log=$(/usr/bin/python3 "$root/scripts/replay" "$vpd" --from 2023-01-01 --to "$end" \
  | mpirun -n "$ranks" "$vigie" watch --config "$root/inputs/vancouver/config.ini" --stream - \
    --ingest.events="$work/history.csv.gz" --output.dir="$work/out" 2>&1)
/usr/bin/python3 - "$work/out/watch/cycles.jsonl" "$ranks" <<'PY'
import json, sys
rows = [json.loads(x) for x in open(sys.argv[1]) if x.strip()]
lat = sorted(r["cycle_s"] + r["append_s"] for r in rows)
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print("| ranks | cycles | mean (s) | p50 (s) | p95 (s) | max (s) |")
print("|---|---|---|---|---|---|")
print("| %s | %d | %.2f | %.2f | %.2f | %.2f |" % (sys.argv[2], len(lat), sum(lat) / len(lat), q(0.5), q(0.95), lat[-1]))
PY
grep -E "timer (watch|ingest)( |:)|timer watch (analysis|scan|forecast|replay|store check)|timer forecast fit|timer backtest read" <<<"$log" | sed 's/^\[[^]]*\] info: /  /'
