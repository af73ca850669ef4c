#!/usr/bin/env bash
# End-to-end test of slurm/sweep.sbatch and scripts/collect_sweep on a real single-node Slurm cluster
# (scripts/slurm_cluster.sh).
#
#   tests/slurm/test_sweep.sh VIGIE_EXE SOURCE_DIR
#
# 1. A 3-line grid of cheap backtests on inputs/marseille (kde with three bandwidths) submitted as --array=0-2:
#    every array task must end COMPLETED 0:0 and write task_<k>/backtest.json and sweep_task.txt; collect_sweep
#    must exit 0 with a CSV of 3 rows whose kde PAI@5% are not all equal.
# 2. Task 3 of the same 3-line grid (--array=3) must end FAILED with ExitCode 2:0 and name the grid file; then
#    collect_sweep on a copy of the sweep lacking task 1's backtest.json must list task 1 as missing and exit 1.
# 3. collect_sweep's scenario ranking on synthetic task_<k>/scenario/scenario.json files (no Slurm job): ranked
#    by expected extra incidents, largest first, with the 80% interval, relative change and includes_zero; a
#    task without scenario.json is listed unranked and makes it exit 1.
# Needs root, munge and Slurm; their absence is a failure, not a skip, because CI installs them.
set -euo pipefail

readonly JOB_TIMEOUT_S=150

test_name=test_sweep
# shellcheck source=tests/slurm/slurm_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/slurm_test_lib.sh"
slurm_test_args "$@"
collect=${source_dir}/scripts/collect_sweep
slurm_test_require "munge slurm-wlm" munged slurmctld slurmd sbatch scontrol scancel sinfo srun
[[ -x ${collect} ]] || fail "${collect}: not an executable file"
slurm_test_work_dir vigie-sweep-test

# Submit sweep.sbatch as array ARRAY with the grid GRID into SWEEP_DIR; prints the array job id.
submit_sweep() {
    local array=$1 grid=$2 sweep_dir=$3
    submit_job sweep.sbatch "$(job_exports "${vigie_exe}" "VIGIE_SWEEP_FILE=${grid}" "VIGIE_SWEEP_DIR=${sweep_dir}")" \
        "job-%A_%a" --array="${array}"
}

# Poll until every task of array job ID is in a final state and the tasks listed are exactly TASKS (space
# separated); prints one line per task: "TASK STATE EXITCODE".
wait_array() {
    local id=$1 expected=$2 deadline=$((SECONDS + JOB_TIMEOUT_S)) lines line state task done_tasks summary
    while ((SECONDS < deadline)); do
        lines=$(scontrol -o show job "${id}") || fail "scontrol lost job ${id}"
        summary=""
        done_tasks=()
        while IFS= read -r line; do
            [[ -n ${line} ]] || continue
            state=$(job_field "${line}" JobState)
            task=$(job_field "${line}" ArrayTaskId)
            case "${state}" in
                PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | REQUEUED | RESIZING) continue 2 ;;
            esac
            done_tasks+=("${task}")
            summary+="${task} ${state} $(job_field "${line}" ExitCode)"$'\n'
        done <<<"${lines}"
        if [[ $(printf '%s\n' "${done_tasks[@]}" | sort -n | tr '\n' ' ') == "${expected} " ]]; then
            printf '%s' "${summary}" | sort -n
            return 0
        fi
        sleep 0.5
    done
    scancel "${id}" || true
    fail "array job ${id} not finished after ${JOB_TIMEOUT_S} s"
}

slurm_test_start_cluster

# Cheap backtests: baselines only, no tuning, no offsets, no per-category pass, no plots.
grid=${work_dir}/grid.txt
cheap="--backtest.per_category=false --backtest.grid_offsets= --backtest.tune=false --backtest.plots=false"
cheap+=" --models.enabled="
cat >"${grid}" <<GRID
# kde bandwidth sweep on inputs/marseille (test_sweep.sh)

${cheap} --kde.bandwidth_m=200
   # an indented comment
${cheap} --kde.bandwidth_m=600
${cheap} --kde.bandwidth_m=1500
GRID

# 1 and 2 are submitted together: the node declares 4 CPUs, so two 2-rank tasks run at a time.
sweep_dir=${work_dir}/sweep
job=$(submit_sweep 0-2 "${grid}" "${sweep_dir}")
jobs_submitted+=("${job}")
bad_job=$(submit_sweep 3 "${grid}" "${work_dir}/sweep-bad")
jobs_submitted+=("${bad_job}")

summary=$(wait_array "${job}" "0 1 2")
echo "test_sweep: array job ${job} finished:"$'\n'"${summary}"
while read -r task state exit_code; do
    [[ ${state} == COMPLETED && ${exit_code} == 0:0 ]] ||
        fail "task ${job}_${task}: ${state} ${exit_code}, expected COMPLETED 0:0"
    [[ -s ${sweep_dir}/task_${task}/backtest.json ]] || fail "task ${task}: no backtest.json"
    grep -q -- "--kde.bandwidth_m=" "${sweep_dir}/task_${task}/sweep_task.txt" ||
        fail "task ${task}: sweep_task.txt names no kde.bandwidth_m override"
done <<<"${summary}"
grep -q -- "--kde.bandwidth_m=600\$" "${sweep_dir}/task_1/sweep_task.txt" ||
    fail "task 1 did not take the second task line (sweep_task.txt: $(cat "${sweep_dir}/task_1/sweep_task.txt"))"

csv=${work_dir}/sweep.csv
"${collect}" "${sweep_dir}" --out "${csv}" || fail "collect_sweep exited $? on a complete sweep"
/usr/bin/python3 - "${csv}" <<'PY' || fail "collect_sweep's CSV is wrong"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["task"] for r in rows] == ["0", "1", "2"], [r["task"] for r in rows]
assert all(r["status"] == "ok" for r in rows), rows
pai = [float(r["kde_pai5"]) for r in rows]
assert all(p > 0 for p in pai), pai
assert len(set(pai)) > 1, f"kde PAI@5% identical across bandwidths: {pai}"
for r in rows:
    assert r["best_baseline"], r
    float(r["kde_loglik_per_event"]), float(r[r["best_baseline"] + "_pai5_ratio"])
    assert float(r[r["best_baseline"] + "_pai5_ratio"]) == 1.0, r
print("test_sweep: kde PAI@5% per task:", pai)
PY

summary=$(wait_array "${bad_job}" "3")
read -r task state exit_code <<<"${summary}"
[[ ${state} == FAILED && ${exit_code} == 2:0 ]] ||
    fail "task ${bad_job}_3 beyond the grid: ${state} ${exit_code}, expected FAILED 2:0"
grep -q "${grid}.*no task 3" "${work_dir}/job-${bad_job}_3.err" ||
    fail "task 3's error does not name the grid file: $(cat "${work_dir}/job-${bad_job}_3.err")"

# A task whose backtest.json is missing is listed, not dropped, and makes collect_sweep exit 1.
cp -r "${sweep_dir}" "${work_dir}/sweep-partial"
rm "${work_dir}/sweep-partial/task_1/backtest.json"
status=0
"${collect}" "${work_dir}/sweep-partial" --out "${work_dir}/partial.csv" >/dev/null 2>"${work_dir}/partial.err" ||
    status=$?
((status == 1)) || fail "collect_sweep exited ${status} with task 1 missing, expected 1"
grep -q "task 1: missing" "${work_dir}/partial.err" || fail "collect_sweep did not name task 1 as missing"
grep -q '^1,.*,missing,' "${work_dir}/partial.csv" || fail "partial.csv has no missing row for task 1"

# 3. Scenario ranking: four what-if tasks as `VIGIE_SUBCOMMAND=scenario` would leave them, task 3 without output.
scen_dir=${work_dir}/sweep-scenarios
/usr/bin/python3 - "${scen_dir}" <<'PY' || fail "could not write the synthetic scenario sweep"
import json, os, sys
root = sys.argv[1]
grid = ["--scenario=inputs/marseille/scenarios/%s.ini" % n
        for n in ("velodrome_match", "boulevard_works", "prado_heatwave_sunday", "vieux_port_gathering")]
os.makedirs(root)
with open(os.path.join(root, "sweep_grid.txt"), "w") as f:
    f.write("# what-if scenarios\n" + "\n".join(grid) + "\n")
# task: (name, baseline, delta, p10, p90); task 3 never wrote its scenario.json
cases = {0: ("Match | Vélodrome", 26.4, 3.2, 1.1, 5.8), 1: ("Travaux", 40.0, -2.0, -3.0, -1.0),
         2: ("Canicule", 50.0, 0.5, -0.4, 1.5)}
for task, line in enumerate(grid):
    d = os.path.join(root, "task_%d" % task)
    os.makedirs(os.path.join(d, "scenario"))
    with open(os.path.join(d, "sweep_task.txt"), "w") as f:
        f.write("# vigie sweep task %d\n%s\n" % (task, line))
    if task not in cases:
        continue
    name, base, delta, p10, p90 = cases[task]
    tot = lambda e, lo, hi: {"expected": e, "mean": e, "p10": lo, "p50": e, "p90": hi}
    doc = {"schema_version": 1, "case": "marseille",
           "scenario": {"name": name, "file": line.split("=", 1)[1], "start": "2019-03-17T17:00+01:00",
                        "end": "2019-03-18T02:00+01:00", "step": "hour"},
           "totals": {"baseline": tot(base, base - 4, base + 4),
                      "scenario": tot(base + delta, base + p10 - 4, base + p90 + 4),
                      "delta": tot(delta, p10, p90)}}
    with open(os.path.join(d, "scenario", "scenario.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
PY
status=0
"${collect}" "${scen_dir}" >"${work_dir}/scenarios.md" 2>"${work_dir}/scenarios.err" || status=$?
((status == 1)) || fail "collect_sweep exited ${status} on scenarios with task 3 missing, expected 1"
grep -q "task 3: missing" "${work_dir}/scenarios.err" || fail "collect_sweep did not name scenario task 3 as missing"
grep -q '^| 1 | 0 | Match \\| Vélodrome |' "${work_dir}/scenarios.md" ||
    fail "the Markdown ranking does not lead with task 0: $(cat "${work_dir}/scenarios.md")"
/usr/bin/python3 - "${scen_dir}/scenarios.csv" <<'PY' || fail "collect_sweep's scenario ranking is wrong"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
assert [r["task"] for r in rows] == ["0", "2", "1", "3"], [r["task"] for r in rows]
assert [r["rank"] for r in rows] == ["1", "2", "3", ""], [r["rank"] for r in rows]
assert [r["status"] for r in rows] == ["ok", "ok", "ok", "missing"], rows
top = rows[0]
assert top["scenario"] == "Match | Vélodrome" and top["file"].endswith("velodrome_match.ini"), top
assert (float(top["delta_expected"]), float(top["delta_p10"]), float(top["delta_p90"])) == (3.2, 1.1, 5.8), top
assert abs(float(top["relative_change"]) - 3.2 / 26.4) < 1e-12, top
assert float(top["baseline_expected"]) == 26.4 and abs(float(top["scenario_expected"]) - 29.6) < 1e-12, top
assert [r["includes_zero"] for r in rows] == ["false", "true", "false", ""], rows
assert [r["window_hours"] for r in rows] == ["9.0", "9.0", "9.0", ""], rows
assert rows[3]["overrides"].endswith("vieux_port_gathering.ini") and rows[3]["delta_expected"] == "", rows[3]
print("test_sweep: scenario ranking:", [(r["rank"], r["scenario"], r["delta_expected"]) for r in rows])
PY
# Without the missing task it exits 0; --mode backtest on the same folder finds no backtest.json.
rm -r "${scen_dir}/task_3"
sed -i '/vieux_port_gathering/d' "${scen_dir}/sweep_grid.txt"
"${collect}" "${scen_dir}" --out "${work_dir}/scenarios-3.csv" >/dev/null 2>&1 ||
    fail "collect_sweep exited $? on 3 complete scenarios, expected 0"
(($(wc -l <"${work_dir}/scenarios-3.csv") == 4)) || fail "scenarios-3.csv should hold a header and 3 rows"
status=0
"${collect}" "${scen_dir}" --mode backtest --out "${work_dir}/as-backtest.csv" >/dev/null 2>&1 || status=$?
((status == 1)) || fail "collect_sweep --mode backtest on a scenario sweep exited ${status}, expected 1"

echo "test_sweep: PASS (3 tasks COMPLETED 0:0, collected; task beyond the grid FAILED 2:0; missing task reported;" \
    "scenarios ranked)"
