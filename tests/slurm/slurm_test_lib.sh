# shellcheck shell=bash disable=SC2154 # sourced: test_name and JOB_TIMEOUT_S are set by the test
# What the end-to-end Slurm tests share (test_slurm.sh, test_sweep.sh, test_forecast_sbatch.sh): argument and
# prerequisite checks, a work folder with a throwaway single-node cluster (scripts/slurm_cluster.sh) stopped on
# exit, and job submission and polling. Sourced, not run; the test sets test_name (the prefix of its messages)
# and JOB_TIMEOUT_S first.

# Prints a failure and exits 1.
fail() {
    echo "${test_name}: FAIL: $*" >&2
    exit 1
}

# The test's own arguments, VIGIE_EXE SOURCE_DIR: sets vigie_exe and source_dir (absolute), or exits 2.
slurm_test_args() {
    if (($# != 2)); then
        echo "usage: $0 VIGIE_EXE SOURCE_DIR" >&2
        exit 2
    fi
    vigie_exe=$(realpath "$1")
    source_dir=$(realpath "$2")
}

# Fails unless every executable named after PACKAGES is on the PATH (PACKAGES: what to apt-get install), the test
# runs as root and vigie_exe is executable.
slurm_test_require() {
    local packages=$1 bin missing=()
    shift
    for bin in "$@"; do
        command -v "${bin}" >/dev/null 2>&1 || missing+=("${bin}")
    done
    ((${#missing[@]} == 0)) || fail "missing executables: ${missing[*]} (apt-get install ${packages})"
    ((EUID == 0)) || fail "must run as root to start the test cluster"
    [[ -x ${vigie_exe} ]] || fail "${vigie_exe}: not an executable file"
}

# On exit: after a failure, the submitted jobs, the tails of their logs and of the cluster's; then the cluster is
# stopped and the work folder removed (kept after a failure).
slurm_test_cleanup() {
    local status=$? id f
    if ((status != 0)); then
        for id in "${jobs_submitted[@]}"; do
            echo "----- scontrol show job ${id} -----" >&2
            scontrol show job "${id}" >&2 2>&1 || true
        done
        for f in "${work_dir}"/job-*.out "${work_dir}"/job-*.err "${cluster_dir}/log/slurmctld.log" \
            "${cluster_dir}/log/slurmd.log"; do
            [[ -f ${f} ]] || continue
            echo "----- tail of ${f} -----" >&2
            tail -n 40 "${f}" >&2 || true
        done
    fi
    bash "${cluster_script}" stop "${cluster_dir}" >/dev/null 2>&1 || true
    if ((status == 0)); then
        rm -rf "${work_dir}"
    else
        echo "${test_name}: kept ${work_dir} for inspection" >&2
    fi
    exit "${status}"
}

# A work folder ${TMPDIR:-/tmp}/PREFIX.XXXXXX: sets work_dir, cluster_dir, cluster_script and jobs_submitted (the
# ids to describe after a failure), and cleans up on exit.
slurm_test_work_dir() {
    work_dir=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    cluster_dir=${work_dir}/cluster
    cluster_script=${source_dir}/scripts/slurm_cluster.sh
    jobs_submitted=()
    trap slurm_test_cleanup EXIT
}

# Starts the cluster in cluster_dir and exports its SLURM_CONF.
slurm_test_start_cluster() {
    eval "$(bash "${cluster_script}" start "${cluster_dir}" | grep '^export SLURM_CONF=')"
    [[ -n ${SLURM_CONF:-} ]] || fail "slurm_cluster.sh start printed no SLURM_CONF"
}

# Field NAME of one `scontrol -o show job` line (KEY=VALUE pairs).
job_field() {
    tr ' ' '\n' <<<"$1" | awk -F= -v key="$2" '$1 == key { print substr($0, length(key) + 2); exit }'
}

# The --export list of a job running EXE: ALL, VIGIE_EXE=EXE and the KEY=VALUE pairs after it.
job_exports() {
    local exports="ALL,VIGIE_EXE=$1" extra
    shift
    for extra in "$@"; do
        exports+=",${extra}"
    done
    echo "${exports}"
}

# Submits slurm/SCRIPT from source_dir with --export=EXPORTS, its output in work_dir/LOG.out and LOG.err (LOG: a
# sbatch file name pattern such as job-%j) and the sbatch options after LOG; prints the job id.
submit_job() {
    local script=$1 exports=$2 log=$3 out
    shift 3
    out=$(sbatch --parsable "$@" --chdir="${source_dir}" --output="${work_dir}/${log}.out" \
        --error="${work_dir}/${log}.err" --export="${exports}" "${source_dir}/slurm/${script}") ||
        fail "sbatch refused the job"
    echo "${out%%;*}"
}

# Polls until job ID reaches a final state; prints its `scontrol -o show job` line.
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
