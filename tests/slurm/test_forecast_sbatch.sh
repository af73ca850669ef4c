#!/usr/bin/env bash
# End-to-end test of slurm/forecast.sbatch on a real single-node Slurm cluster (scripts/slurm_cluster.sh).
#
#   tests/slurm/test_forecast_sbatch.sh VIGIE_EXE SOURCE_DIR
#
# 1. The script's requeue path, with a stand-in for vigie (a bash script written here, launched by srun like vigie):
#    its first run waits for SIGTERM and exits 8 as vigie does after a checkpoint; the test sends SIGTERM to the
#    batch shell (scancel --batch --signal=TERM). The job must be requeued once, rerun with --restart (and only the
#    rerun), and end COMPLETED 0:0.
# 2. A real forecast on inputs/marseille with the default layout (2 ranks x 1 thread) must end COMPLETED 0:0 and
#    write <output.dir>/forecast/forecast.json with schema_version 1, and forecast.h5 beside it.
# Needs root, munge and Slurm; their absence is a failure, not a skip, because CI installs them.
set -euo pipefail

# A requeued job becomes eligible again only about 2 min later (Slurm holds it for the credential lifetime),
# then waits for the next scheduling pass: the stand-in job takes about 3 min from submission to its end.
readonly JOB_TIMEOUT_S=360

test_name=test_forecast_sbatch
# shellcheck source=tests/slurm/slurm_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm_test_lib.sh"
slurm_test_args "$@"
slurm_test_require "munge slurm-wlm" munged slurmctld slurmd sbatch scontrol scancel sinfo squeue srun
slurm_test_work_dir vigie-forecast-sbatch-test

# Submit forecast.sbatch with executable EXE and the extra exports given after it; prints the job id. The output
# files are opened in append mode, so a requeued job's first run stays readable.
submit() {
    local exe=$1
    shift
    submit_job forecast.sbatch "$(job_exports "${exe}" "$@")" "job-%j" --open-mode=append
}

slurm_test_start_cluster

# 1. Interrupted after a checkpoint, requeued, resumed with --restart: a stand-in for vigie, so that the script's
#    logic is tested whatever the time vigie forecast takes. Each rank appends its arguments to args.<rank>.
stand_in=${work_dir}/vigie-stand-in
cat >"${stand_in}" <<'STAND_IN'
#!/usr/bin/env bash
out=""
restart=0
for arg in "$@"; do
    case ${arg} in
        --output.dir=*) out=${arg#--output.dir=} ;;
        --restart) restart=1 ;;
    esac
done
rank=${SLURM_PROCID:-0}
mkdir -p "${out}/forecast"
echo "$*" >>"${out}/args.${rank}"
if ((restart)); then
    if ((rank == 0)); then
        echo '{"schema_version": 1, "stand_in": true}' >"${out}/forecast/forecast.json"
        : >"${out}/forecast/forecast.h5"
    fi
    exit 0
fi
trap 'exit 8' TERM
: >"${out}/started.${rank}"
while true; do sleep 0.2; done
STAND_IN
chmod +x "${stand_in}"
stand_in_out=${work_dir}/stand-in-out
job=$(submit "${stand_in}" "VIGIE_ARGS=--output.dir=${stand_in_out}")
jobs_submitted+=("${job}")
deadline=$((SECONDS + JOB_TIMEOUT_S))
until [[ -f ${stand_in_out}/started.0 && -f ${stand_in_out}/started.1 ]]; do
    ((SECONDS < deadline)) || fail "stand-in job ${job}: its ranks did not start within ${JOB_TIMEOUT_S} s"
    sleep 0.3
done
scancel --batch --signal=TERM "${job}" || fail "scancel --batch --signal=TERM ${job} failed"
line=$(wait_job "${job}")
state=$(job_field "${line}" JobState)
exit_code=$(job_field "${line}" ExitCode)
restarts=$(job_field "${line}" Restarts)
[[ ${state} == COMPLETED && ${exit_code} == 0:0 ]] ||
    fail "stand-in job ${job}: ${state} ${exit_code}, expected COMPLETED 0:0 after its requeue"
[[ ${restarts} == 1 ]] || fail "stand-in job ${job}: Restarts=${restarts}, expected 1"
grep -q "requeueing job ${job}" "${work_dir}/job-${job}.err" ||
    fail "stand-in job ${job}: the script did not say it requeued the job"
for rank in 0 1; do
    args_file=${stand_in_out}/args.${rank}
    [[ -f ${args_file} ]] || fail "stand-in job ${job}: rank ${rank} never ran"
    mapfile -t runs <"${args_file}"
    ((${#runs[@]} == 2)) || fail "rank ${rank} ran ${#runs[@]} time(s), expected 2: $(cat "${args_file}")"
    [[ ${runs[0]} == forecast\ --config\ * && ${runs[0]} != *--restart* ]] ||
        fail "rank ${rank}'s first run: '${runs[0]}', expected 'forecast --config ...' without --restart"
    [[ ${runs[1]} == forecast\ --config\ *\ --restart ]] ||
        fail "rank ${rank}'s rerun: '${runs[1]}', expected 'forecast --config ... --restart'"
done
echo "test_forecast_sbatch: stand-in job ${job} interrupted, requeued, resumed with --restart, COMPLETED 0:0"

# 2. A real forecast on inputs/marseille.
out_dir=${work_dir}/out
job=$(submit "${vigie_exe}" "VIGIE_ARGS=--output.dir=${out_dir}")
jobs_submitted+=("${job}")
line=$(wait_job "${job}")
state=$(job_field "${line}" JobState)
exit_code=$(job_field "${line}" ExitCode)
num_tasks=$(job_field "${line}" NumTasks)
[[ ${state} == COMPLETED ]] || fail "job ${job}: JobState=${state}, expected COMPLETED"
[[ ${exit_code} == 0:0 ]] || fail "job ${job}: ExitCode=${exit_code}, expected 0:0"
[[ ${num_tasks} == 2 ]] || fail "job ${job}: NumTasks=${num_tasks}, expected the default layout's 2"
json=${out_dir}/forecast/forecast.json
[[ -s ${json} ]] || fail "${json}: not written"
[[ -s ${out_dir}/forecast/forecast.h5 ]] || fail "${out_dir}/forecast/forecast.h5: not written"
/usr/bin/python3 - "${json}" <<'PY' || fail "${json} is not a forecast of schema_version 1"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert doc.get("schema_version") == 1, f"schema_version {doc.get('schema_version')!r}"
assert doc.get("horizons"), "no horizons"
PY

echo "test_forecast_sbatch: PASS (requeue after a checkpoint resumes with --restart; Marseille forecast COMPLETED 0:0" \
    "with forecast.json schema_version 1)"
