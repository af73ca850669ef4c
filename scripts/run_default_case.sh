#!/usr/bin/env bash
# The main job on the embedded default case (Marseille, 100 m cells, Lambert-93): installs the dependencies,
# builds, runs `vigie run` on RANKS MPI ranks (default 2) and checks the output with the audit verifier.
# Output: out/marseille/vigie_run.h5 (+ .xmf, audit.jsonl).
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
h5ls -r out/marseille/vigie_run.h5
