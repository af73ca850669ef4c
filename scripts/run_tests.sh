#!/usr/bin/env bash
# Installs the dependencies, builds (with the tests) and runs every test: unit, MPI at 1, 2 and 4 ranks,
# regression, CLI and the Slurm job on a local cluster that the test starts and stops itself.
# Extra arguments go to ctest (e.g. -L unit, -R grid).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
# shellcheck source=scripts/mpi_env.sh
source "$root/scripts/mpi_env.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)" "$@"
