#!/usr/bin/env bash
# The main job on the embedded default case (Marseille, 100 m cells, Lambert-93): installs the dependencies,
# builds, runs `vigie run` on RANKS MPI ranks (default 2): ingest of BAAC 2018, backtest (sepp, kde and the
# baselines, with stacking weights), sepp fit, then the forecast of January 2019 by hour, day and month; then
# checks the audit log. Output: out/marseille/ (obs.h5, backtest.json/.md, params.json, forecast/ with
# summary.md, forecast.h5 + .xmf, GeoTIFF, PNG maps, hotspots.geojson, risk_by_area*.csv, audit.jsonl).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
# shellcheck source=scripts/mpi_env.sh
source "$root/scripts/mpi_env.sh"
vigie=${BUILD_DIR:-$root/build}/src/vigie
cd "$root"
mpirun -n "${RANKS:-2}" "$vigie" run --config inputs/marseille/config.ini "$@"
"$vigie" audit verify out/marseille/audit.jsonl
ls out/marseille/forecast
cat out/marseille/forecast/summary.md
