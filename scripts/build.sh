#!/usr/bin/env bash
# Configures and builds Vigie out of tree. BUILD_DIR (default build), BUILD_TYPE (default Release) and
# VIGIE_WERROR (default OFF; CI sets ON) may be set in the environment.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DVIGIE_WERROR="${VIGIE_WERROR:-OFF}"
cmake --build "$build_dir" -j"$(nproc)"
