#!/usr/bin/env bash
# Checkpoint/restart of vigie simulate (excitation model on the regression lattice, 2 members, 21 snapshots
# each, a checkpoint every 3 snapshots): an uninterrupted run A; a run B stopped by SIGTERM (raised by the
# VIGIE_FAULT test hook) after its 30th snapshot, which must exit 8 naming where it stopped, then resumed with
# --restart from member 1, snapshot 9; every dataset of B's output must equal A's bit for bit. All at 2 ranks,
# and again with the stop at 1 rank and the restart at 2 (the checkpoint does not depend on the rank count).
# Usage: test_restart.sh VIGIE_EXE SOURCE_DIR
set -uo pipefail
vigie=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=tests/cli/check_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
py=/usr/bin/python3
cfg=$src/tests/regression/lattice_excitation.ini
opts=(--model excitation --simulate.t_end 20 --simulate.output_every 1 --simulate.members 2
      --simulate.perturb excitation.omega_per_day:0.3 --simulate.checkpoint_every 3 --simulate.plot false)

simulate() {  # simulate RANKS OUT_DIR [more options]
  local n=$1 out=$2
  shift 2
  mpirun -n "$n" "$vigie" simulate --config "$cfg" --output.dir="$out" "${opts[@]}" "$@"
}

same_as() {  # same_as NAME A.h5 B.h5
  if "$py" "$src/scripts/field_summary.py" "$2" --same-as "$3"; then
    echo "ok   $1"; passes=$((passes + 1))
  else
    echo "FAIL $1: $2 and $3 differ"; failures=$((failures + 1))
  fi
}

check "uninterrupted run" 0 "" -- simulate 2 "$work/A"
check "no checkpoint left after a finished run" 1 "" -- test -e "$work/A/checkpoint_excitation.h5"
check "--restart without a checkpoint exits 3" 3 "no checkpoint" -- simulate 2 "$work/none" --restart

# 21 snapshots per member: the 30th snapshot is member 1's snapshot 8, so the run resumes at snapshot 9.
VIGIE_FAULT=simulate:30 check "SIGTERM at snapshot 30 exits 8" 8 "stopped at snapshot 9 of member 1" -- \
  simulate 2 "$work/B"
check "the stop leaves a checkpoint and no output" 0 "" -- \
  bash -c "test -e '$work/B/checkpoint_excitation.h5' && ! test -e '$work/B/simulate_excitation.h5'"
check "restart at 2 ranks resumes member 1 at snapshot 9" 0 "resuming member 1 at snapshot 9 " -- \
  simulate 2 "$work/B" --restart
same_as "restarted output equals the uninterrupted one" "$work/A/simulate_excitation.h5" \
  "$work/B/simulate_excitation.h5"
check "no checkpoint left after the restarted run" 1 "" -- test -e "$work/B/checkpoint_excitation.h5"

# Stopped at 1 rank during member 0 (after a periodic checkpoint), resumed at 2 ranks through the scheduler's
# requeue variable instead of --restart.
VIGIE_FAULT=simulate:7 check "SIGTERM at snapshot 7 at 1 rank exits 8" 8 \
  "stopped at snapshot 7 of member 0" -- simulate 1 "$work/C"
SLURM_RESTART_COUNT=1 check "requeued run at 2 ranks resumes member 0 at snapshot 7" 0 \
  "resuming member 0 at snapshot 7 " -- simulate 2 "$work/C"
same_as "output restarted at another rank count equals the uninterrupted one" \
  "$work/A/simulate_excitation.h5" "$work/C/simulate_excitation.h5"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
