#!/usr/bin/env bash
# Benchmark of `vigie scenario` (issue 8): a 64-member paired ensemble of a Marseille scenario on the 100 m grid,
# 2 MPI ranks, with 1 and 2 member groups, REPEAT runs each; prints the wall times (mpirun as a whole, start-up
# included) and the engine's own timer. Needs out/marseille from the main job (obs.h5, backtest.json), so the
# published model is the blend; run `bash scripts/run_default_case.sh` first.
# Usage: scripts/bench_scenario.sh [SCENARIO.ini] [REPEAT]   (default: the Vélodrome match, 3)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/mpi_env.sh
source "$root/scripts/mpi_env.sh"
vigie=${BUILD_DIR:-$root/build}/src/vigie
scenario=${1:-$root/inputs/marseille/scenarios/velodrome_match.ini}
repeat=${2:-3}
[ -f "$root/out/marseille/backtest.json" ] || { echo "bench_scenario: run scripts/run_default_case.sh first" >&2; exit 2; }
printf '| groups | wall (s) | timer scenario (s) |\n|---|---|---|\n'
for groups in 1 2; do
  for ((k = 0; k < repeat; ++k)); do
    start=$(date +%s.%N)
    log=$(mpirun -n 2 "$vigie" scenario --config "$root/inputs/marseille/config.ini" --scenario "$scenario" \
      --scenario.members 64 --scenario.groups "$groups" --forecast.plots=false \
      --output.dir="$root/out/marseille" 2>&1)
    end=$(date +%s.%N)
    timer=$(grep -o 'timer scenario: calls 1, min [0-9.e-]* s' <<<"$log" | awk '{print $6}')
    printf '| %d | %.2f | %s |\n' "$groups" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "${timer:-?}"
  done
done
