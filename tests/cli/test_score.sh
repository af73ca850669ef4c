#!/usr/bin/env bash
# vigie score on the Marseille case: an oracle forecast (the observed counts of September 2018, read from obs.h5
# with h5py) gets PEI* = 1 at every coverage, as CSV and as HDF5; forecasts constant up to a tiny seeded jitter
# (random tie-breaks) get PAI close to 1 on average over 2018; malformed inputs exit 3 naming file and line.
# Usage: test_score.sh VIGIE_EXE SOURCE_DIR
set -uo pipefail
vigie=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=tests/cli/check_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
py=/usr/bin/python3
cfg=$src/inputs/marseille/config.ini
out=$work/out

# check_json NAME PYTHON_EXPRESSION: the expression, on d = score.json, must be true.
check_json() {
  if "$py" -c "import json, sys; d = json.load(open('$out/score.json')); sys.exit(0 if ($2) else 1)"; then
    echo "ok   $1"; passes=$((passes + 1))
  else
    echo "FAIL $1: $2 is false for"; head -c 600 "$out/score.json"; echo; failures=$((failures + 1))
  fi
}

score() {  # score FORECAST WINDOW [more options]
  local f=$1 w=$2
  shift 2
  mpirun -n 2 "$vigie" score --config "$cfg" --output.dir="$out" --forecast "$f" --window "$w" "$@"
}

# Ingest first (vigie score would do it too), so the oracle can be read from the store.
check ingest 0 "" -- "$vigie" ingest --config "$cfg" --output.dir="$out"

"$py" - "$out/obs.h5" "$work" <<'PY'
import sys, h5py, numpy as np
obs, work = sys.argv[1], sys.argv[2]
with h5py.File(obs, "r") as f:
    iso = [s.decode() for s in f["time/bin_start_iso"][:]]
    t = next(k for k, s in enumerate(iso) if s.startswith("2018-09"))
    counts = f["counts/road_injury"][t].astype(float)
    mask = f["mask"][:]
ny, nx = mask.shape
flat = counts.ravel()
with open(f"{work}/oracle.csv", "w") as o:
    o.write("cell,intensity\n")
    for c in np.flatnonzero(flat):
        o.write(f"{c},{flat[c]}\n")
    # A row for a masked cell is ignored, whatever its value.
    o.write(f"{int(np.flatnonzero(mask.ravel() == 0)[0])},-5\n")
with h5py.File(f"{work}/oracle.h5", "w") as h:
    h.create_dataset("/fields/forecast", data=counts)
    h.create_dataset("/other", data=np.zeros((ny + 1, nx)))
rng = np.random.default_rng(2018)
for k in range(5):
    with open(f"{work}/uniform{k}.csv", "w") as o:
        o.write("cell,intensity\n")
        for c, u in zip(np.flatnonzero(mask.ravel()), rng.random(int(mask.sum()))):
            o.write(f"{c},{1.0 + 1e-6 * u!r}\n")
PY

check oracle-csv 0 "at 5% of the area: hit rate 1, PAI [0-9.]+, PEI\* 1$" -- score "$work/oracle.csv" 2018-09-01/2018-10-01
check_json oracle-csv-pei-1 "all(v == 1.0 for v in d['pei_star'].values()) and d['events'] > 0 and d['bins'] == 1"
check_json oracle-csv-shape "d['schema_version'] == 1 and d['window'] == '2018-09-01/2018-10-01' and \
  set(d['hit_rate']) == {'1', '5', '10'} and len(d['reliability']) == 10 and 'brier' in d and \
  'log_likelihood_per_event' in d"
check oracle-h5 0 "PEI\* 1$" -- mpirun -n 2 "$vigie" score --config "$cfg" --output.dir="$out" \
  --score.forecast="$work/oracle.h5" --score.window=2018-09-01/2018-10-01
check_json oracle-h5-pei-1 "all(v == 1.0 for v in d['pei_star'].values())"

pais=()
for k in 0 1 2 3 4; do
  check "uniform$k" 0 "" -- score "$work/uniform$k.csv" 2018-01-01/2019-01-01
  pais+=("$("$py" -c "import json; d = json.load(open('$out/score.json')); print(d['pai']['10'], d['pai']['5'])")")
done
if "$py" -c "
import sys, statistics as s
v = [list(map(float, x.split())) for x in sys.argv[1:]]
m10, m5 = s.mean(a for a, _ in v), s.mean(b for _, b in v)
print('uniform: mean PAI@10% =', m10, 'PAI@5% =', m5)
sys.exit(0 if 0.8 < m10 < 1.2 and 0.7 < m5 < 1.3 else 1)" "${pais[@]}"; then
  echo "ok   uniform-pai-near-1"; passes=$((passes + 1))
else
  echo "FAIL uniform-pai-near-1"; failures=$((failures + 1))
fi

printf 'cell,intensity\n0,1\n12,abc\n' > "$work/bad_value.csv"
check bad-csv-value 3 "bad_value.csv:3: cannot parse '12,abc'" -- score "$work/bad_value.csv" 2018-09-01/2018-10-01
printf 'cell;intensity\n' > "$work/bad_header.csv"
check bad-csv-header 3 "bad_header.csv:1: expected the header" -- score "$work/bad_header.csv" 2018-09-01/2018-10-01
printf 'cell,intensity\n99999999,1\n' > "$work/bad_cell.csv"
check bad-csv-cell 3 "bad_cell.csv:2: cell 99999999 is outside the grid" -- score "$work/bad_cell.csv" 2018-09-01/2018-10-01
check bad-h5-shape 3 "oracle.h5: dataset /other must be \[ny\]\[nx\]" -- score "$work/oracle.h5" 2018-09-01/2018-10-01 --score.dataset=/other
check missing-forecast 3 "nope.csv: no such forecast file" -- score "$work/nope.csv" 2018-09-01/2018-10-01
check no-forecast 2 "needs --forecast FILE" -- "$vigie" score --config "$cfg" --output.dir="$out" --window 2018-09-01/2018-10-01
check bad-window 2 "score.window must be START/END" -- score "$work/oracle.csv" 2018-09
check empty-window 2 "selects no bin" -- score "$work/oracle.csv" 2020-01-01/2020-02-01
check audit 0 "hash chain intact" -- "$vigie" audit verify "$out/audit.jsonl"

echo "test_score: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
