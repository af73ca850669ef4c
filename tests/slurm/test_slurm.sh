#!/usr/bin/env bash
# End-to-end test of slurm/vigie.sbatch on a real single-node Slurm cluster (scripts/slurm_cluster.sh).
#
#   tests/slurm/test_slurm.sh VIGIE_EXE SOURCE_DIR
#
# 1. A run with the default layout (2 ranks x 1 thread) on inputs/marseille must end COMPLETED with exit code
#    0:0 and write the main job's forecast/forecast.h5 holding /grid (attribute epsg = 2154) and /fields/mask
#    (the backtest kept short: no tuning, no offset band, no per-category pass, no plots).
# 2. A run with a missing configuration file must end FAILED with a non-zero exit code.
# Needs root, munge and Slurm; their absence is a failure, not a skip, because CI installs them.
set -euo pipefail

readonly JOB_TIMEOUT_S=120

test_name=test_slurm
# shellcheck source=tests/slurm/slurm_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm_test_lib.sh"
slurm_test_args "$@"
slurm_test_require "munge slurm-wlm hdf5-tools" munged slurmctld slurmd sbatch scontrol scancel sinfo srun h5dump
slurm_test_work_dir vigie-slurm-test

now() {
    echo "${EPOCHREALTIME}"
}

elapsed() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# Submit vigie.sbatch with the extra exports given as arguments; prints the job id.
submit() {
    submit_job vigie.sbatch "$(job_exports "${vigie_exe}" "$@")" "job-%j"
}

t0=$(now)
slurm_test_start_cluster
t1=$(now)
echo "test_slurm: cluster up in $(elapsed "${t0}" "${t1}") s"

# 1. A good run with the default layout.
out_dir=${work_dir}/out
job=$(submit "VIGIE_ARGS=--output.dir=${out_dir} --backtest.tune=false --backtest.grid_offsets= --backtest.per_category=false --backtest.plots=false --forecast.plots=false")
jobs_submitted+=("${job}")
line=$(wait_job "${job}")
t2=$(now)
echo "test_slurm: job ${job} finished in $(elapsed "${t1}" "${t2}") s (submit to final state)"
state=$(job_field "${line}" JobState)
exit_code=$(job_field "${line}" ExitCode)
num_tasks=$(job_field "${line}" NumTasks)
[[ ${state} == COMPLETED ]] || fail "job ${job}: JobState=${state}, expected COMPLETED"
[[ ${exit_code} == 0:0 ]] || fail "job ${job}: ExitCode=${exit_code}, expected 0:0"
[[ ${num_tasks} == 2 ]] || fail "job ${job}: NumTasks=${num_tasks}, expected the default layout's 2"

h5_file=${out_dir}/forecast/forecast.h5
[[ -f ${h5_file} ]] || fail "${h5_file}: not written"
header=$(h5dump -A "${h5_file}") || fail "h5dump -A ${h5_file} failed"
# The attributes of the top-level group /grid: h5dump indents each level by 3 spaces, so the group runs from
# `   GROUP "grid" {` to the next line that is a 3-space-indented closing brace.
grid_block=$(awk '/^   GROUP "grid" \{$/ { inside = 1 } inside { print } inside && /^   \}$/ { exit }' <<<"${header}")
[[ -n ${grid_block} ]] || fail "${h5_file}: no group /grid"
epsg=$(awk '/ATTRIBUTE "epsg" \{/ { found = 1 } found && /\(0\):/ { gsub(/[" ]/, "", $2); print $2; exit }' \
    <<<"${grid_block}")
[[ ${epsg} == 2154 ]] || fail "${h5_file}: /grid attribute epsg is '${epsg}', expected 2154"
h5dump -H -d /fields/mask "${h5_file}" >/dev/null 2>&1 || fail "${h5_file}: no dataset /fields/mask"
grep -q 'DATASET "mask"' <<<"${header}" || fail "${h5_file}: h5dump -A lists no dataset mask"

# 2. A run that must fail: the configuration file does not exist.
job=$(submit "VIGIE_CONFIG=${work_dir}/does-not-exist.ini" "VIGIE_ARGS=--output.dir=${work_dir}/out-fail")
jobs_submitted+=("${job}")
line=$(wait_job "${job}")
t3=$(now)
echo "test_slurm: failing job ${job} finished in $(elapsed "${t2}" "${t3}") s"
state=$(job_field "${line}" JobState)
exit_code=$(job_field "${line}" ExitCode)
[[ ${state} == FAILED ]] || fail "job ${job}: JobState=${state}, expected FAILED for a missing config"
[[ ${exit_code} =~ ^[0-9]+:[0-9]+$ && ${exit_code} != 0:0 ]] ||
    fail "job ${job}: ExitCode=${exit_code}, expected non-zero for a missing config"

echo "test_slurm: PASS (good job COMPLETED with epsg=2154 and /fields/mask; bad job FAILED with ${exit_code})"
