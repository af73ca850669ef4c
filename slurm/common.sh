# shellcheck shell=bash disable=SC2034,SC2154 # sourced: globals are set for, and by, the sourcing script
# Shared part of slurm/*.sbatch: sourced by them, never run or submitted by itself.
#
# Slurm runs a copy of a batch script from its spool directory, so a script finds this file through the path it
# was submitted with (scontrol's Command=) or through VIGIE_SLURM_DIR; see vigie_slurm_dir below, which each
# script repeats in a few lines because it cannot source anything before knowing where it lives.
#
# Functions (each prints its messages prefixed with ${vigie_script}, which the sourcing script sets):
#   vigie_prepare        layout (OMP_NUM_THREADS, yield when oversubscribed), root, VIGIE_EXE, VIGIE_CONFIG
#   vigie_launch ARGS..  srun --mpi=pmix vigie ARGS..., forwarding SIGTERM to the job step; sets vigie_status
#                        and vigie_interrupted (SIGTERMs received)

# Sets cpus_per_task, tasks_here, cores_here, vigie_exe and vigie_config, and exports the environment the ranks
# need. Exits 2 when the executable is missing.
vigie_prepare() {
    cpus_per_task=${SLURM_CPUS_PER_TASK:-1}

    # SLURM_TASKS_PER_NODE looks like "4(x2),3"; the first count is the tasks on this (the first) node.
    # nproc counts the cores this job may use here, but it reports OMP_NUM_THREADS when set, hence env -u.
    tasks_here=${SLURM_TASKS_PER_NODE:-${SLURM_NTASKS:-1}}
    tasks_here=${tasks_here%%[(,]*}
    cores_here=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
    if ((tasks_here * cpus_per_task > cores_here)); then
        export OMPI_MCA_mpi_yield_when_idle=1
    fi

    export OMP_NUM_THREADS=${cpus_per_task}

    if ((EUID == 0)); then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi

    if [[ -n ${VIGIE_EXE:-} ]]; then
        vigie_exe=${VIGIE_EXE}
    elif command -v vigie >/dev/null 2>&1; then
        vigie_exe=$(command -v vigie)
    else
        vigie_exe=${PWD}/build/src/vigie
    fi
    if [[ ! -x ${vigie_exe} ]]; then
        echo "${vigie_script}: ${vigie_exe}: not an executable file (set VIGIE_EXE)" >&2
        exit 2
    fi

    vigie_config=${VIGIE_CONFIG:-inputs/marseille/config.ini}
}

# Runs the job step `srun --mpi=pmix vigie ARGS...` and waits for it. The step runs in the background so that a
# SIGTERM sent to this shell (sbatch --signal=B:TERM@N before the time limit, or scancel --batch) reaches the
# trap while the step runs; bash would only run the trap after a foreground command ends. srun forwards the
# SIGTERM to every rank, and vigie simulate then writes a checkpoint and exits 8 (interrupted).
# Sets vigie_status (vigie's exit status, the largest over ranks) and vigie_interrupted (how many SIGTERMs
# came, 0 normally).
vigie_launch() {
    echo "${vigie_script}: job ${SLURM_JOB_ID} on ${SLURM_JOB_NODELIST:-?}:" \
        "${SLURM_NTASKS:-1} ranks x ${OMP_NUM_THREADS} threads (${tasks_here} ranks on ${cores_here} cores here)"
    echo "${vigie_script}: ${vigie_exe} $*"

    vigie_interrupted=0
    vigie_status=0
    srun --mpi=pmix --cpus-per-task="${cpus_per_task}" "${vigie_exe}" "$@" &
    local step_pid=$!
    # kill -TERM on srun would make it SIGKILL the tasks; scancel --signal=TERM delivers TERM to them, so the
    # ranks can write their checkpoint (kill stays as the fallback outside a job).
    # shellcheck disable=SC2064 # the pid is fixed now, on purpose
    trap "vigie_interrupted=\$((vigie_interrupted + 1)); \
          echo '${vigie_script}: SIGTERM, forwarding it to the job step' >&2; \
          scancel --signal=TERM ${SLURM_JOB_ID} 2>/dev/null || kill -TERM ${step_pid} 2>/dev/null || true" TERM
    # A wait cut short by the trap returns 128 + 15 with the step still running: wait again for its own status
    # (bash keeps a finished background job's status, so a further wait returns it).
    local traps_seen=0
    while true; do
        vigie_status=0
        wait "${step_pid}" || vigie_status=$?
        ((vigie_interrupted > traps_seen)) || break
        traps_seen=${vigie_interrupted}
    done
    trap - TERM
    if ((vigie_status != 0)); then
        echo "${vigie_script}: vigie failed with exit status ${vigie_status}" >&2
    fi
}
