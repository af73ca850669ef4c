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

if (($# != 2)); then
    echo "usage: $0 VIGIE_EXE SOURCE_DIR" >&2
    exit 2
fi
vigie_exe=$(realpath "$1")
source_dir=$(realpath "$2")

fail() {
    echo "test_slurm: FAIL: $*" >&2
    exit 1
}

missing=()
for bin in munged slurmctld slurmd sbatch scontrol scancel sinfo srun h5dump; do
    command -v "${bin}" >/dev/null 2>&1 || missing+=("${bin}")
done
((${#missing[@]} == 0)) || fail "missing executables: ${missing[*]} (apt-get install munge slurm-wlm hdf5-tools)"
((EUID == 0)) || fail "must run as root to start the test cluster"
[[ -x ${vigie_exe} ]] || fail "${vigie_exe}: not an executable file"

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/vigie-slurm-test.XXXXXX")
cluster_dir=${work_dir}/cluster
cluster_script=${source_dir}/scripts/slurm_cluster.sh
jobs_submitted=()

print_diagnostics() {
    local id f
    for id in "${jobs_submitted[@]}"; do
        echo "----- scontrol show job ${id} -----" >&2
        scontrol show job "${id}" >&2 2>&1 || true
        for f in "${work_dir}/job-${id}.out" "${work_dir}/job-${id}.err"; do
            echo "----- ${f} -----" >&2
            cat "${f}" >&2 2>/dev/null || echo "(missing)" >&2
        done
    done
    for f in "${cluster_dir}/log/slurmctld.log" "${cluster_dir}/log/slurmd.log"; do
        echo "----- tail of ${f} -----" >&2
        tail -n 40 "${f}" >&2 2>/dev/null || echo "(missing)" >&2
    done
}

cleanup() {
    local status=$?
    if ((status != 0)); then
        print_diagnostics
    fi
    bash "${cluster_script}" stop "${cluster_dir}" >/dev/null 2>&1 || true
    if ((status == 0)); then
        rm -rf "${work_dir}"
    else
        echo "test_slurm: kept ${work_dir} for inspection" >&2
    fi
    exit "${status}"
}
trap cleanup EXIT

now() {
    echo "${EPOCHREALTIME}"
}

elapsed() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# Field NAME of `scontrol -o show job` output (one line of KEY=VALUE pairs).
job_field() {
    tr ' ' '\n' <<<"$1" | awk -F= -v key="$2" '$1 == key { print substr($0, length(key) + 2); exit }'
}

# Submit vigie.sbatch with the extra exports given as arguments; prints the job id.
submit() {
    local exports="ALL,VIGIE_EXE=${vigie_exe}" extra
    for extra in "$@"; do
        exports+=",${extra}"
    done
    local out
    out=$(sbatch --parsable --chdir="${source_dir}" --output="${work_dir}/job-%j.out" \
        --error="${work_dir}/job-%j.err" --export="${exports}" "${source_dir}/slurm/vigie.sbatch") ||
        fail "sbatch refused the job"
    echo "${out%%;*}"
}

# Poll until job ID reaches a final state; prints its `scontrol -o show job` line.
wait_job() {
    local id=$1 line state deadline=$((SECONDS + JOB_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        line=$(scontrol -o show job "${id}") || fail "scontrol lost job ${id}"
        state=$(job_field "${line}" JobState)
        case "${state}" in
            PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | REQUEUED | RESIZING) sleep 0.5 ;;
            *)
                echo "${line}"
                return 0
                ;;
        esac
    done
    scancel "${id}" || true
    fail "job ${id} still ${state} after ${JOB_TIMEOUT_S} s"
}

t0=$(now)
eval "$(bash "${cluster_script}" start "${cluster_dir}" | grep '^export SLURM_CONF=')"
[[ -n ${SLURM_CONF:-} ]] || fail "slurm_cluster.sh start printed no SLURM_CONF"
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
