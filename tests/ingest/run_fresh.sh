#!/usr/bin/env bash
# Empties an output folder, then runs the command: each ingest test starts from nothing, whatever an earlier
# ctest run left there (a journal left over would turn the ingest into a no-op append).
# Usage: run_fresh.sh DIR COMMAND...
set -u
rm -rf "$1"
shift
exec "$@"
