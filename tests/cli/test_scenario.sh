#!/usr/bin/env bash
# vigie scenario on the Marseille case (BAAC 2018, sepp with school holidays, Marignane tmax and the spatial
# layers) on a 400 m grid, 16 members:
#  - an empty scenario reproduces the baseline exactly (every delta dataset is 0, scenario = baseline);
#  - a weather override (tmax_c = 35 on one day) multiplies every cell's expected count by exactly the fitted
#    exp(beta (z_scenario - z_baseline)) that scenario.json reports (the trigger is off: all background);
#  - a local event (the Vélodrome, 1000 m) changes nothing outside its area and raises every cell inside;
#  - the ensemble is the same at 1, 2 and 4 ranks and with 1 or 2 member groups (delta.h5 within 1e-10 and
#    scenario.json);
#  - bad scenario files are refused with exit 2 naming the file and the key.
# Usage: test_scenario.sh VIGIE_EXE SOURCE_DIR
set -uo pipefail
vigie=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=tests/cli/check_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
py=/usr/bin/python3
cfg=$src/inputs/marseille/config.ini
opts=(--grid.cell_m 400 --grid.x0 881000 --grid.y0 6232600 --grid.nx 62 --grid.ny 64 --scenario.members 16
      --forecast.model sepp --forecast.plots false --privacy.radius_m 800 --sepp.max_iter 20
      --sepp.covariates "school_holiday, tmax_c, beaches_density, nightlife_density")

scenario() {  # scenario RANKS OUT_DIR FILE [more options]
  local n=$1 out=$2 file=$3
  shift 3
  mpirun -n "$n" "$vigie" scenario --config "$cfg" --output.dir="$out" --scenario "$file" "${opts[@]}" "$@"
}

cat >"$work/empty.ini" <<'EOF'
[scenario]
name = nothing changes
start = 2019-03-17T18:00
end = 2019-03-18T00:00
step = hour
EOF
cat >"$work/heat.ini" <<'EOF'
[scenario]
name = heat on a school day
start = 2019-03-18T00:00
end = 2019-03-19T00:00
step = day
[weather]
tmax_c = 35
EOF
cat >"$work/match.ini" <<'EOF'
[scenario]
name = match at the Velodrome
start = 2019-03-17T16:00
end = 2019-03-18T01:00
step = hour
[event.match]
kind = match
lon = 5.3959
lat = 43.2698
radius_m = 1000
start = 2019-03-17T19:00
end = 2019-03-17T23:00
crowd = 60000
EOF

check "empty scenario" 0 "scenario minus baseline 0.00" -- scenario 1 "$work/empty" "$work/empty.ini"
check "empty scenario: delta 0 everywhere, scenario = baseline" 0 "" -- "$py" - "$work/empty/scenario" <<'EOF'
import h5py, json, sys, numpy as np
with h5py.File(sys.argv[1] + "/delta.h5") as h:
    f = h["fields"]
    for name in ("delta_total", "delta_total_mean", "delta_total_p10", "delta_total_p50", "delta_total_p90",
                 "delta.expected"):
        assert (f[name][()] == 0).all(), name
    assert (f["scenario_total"][()] == f["baseline_total"][()]).all()
    assert (f["scenario.expected"][()] == f["baseline.expected"][()]).all()
    assert f["baseline_total"][()].sum() > 0
d = json.load(open(sys.argv[1] + "/scenario.json"))
assert d["totals"]["delta"]["expected"] == 0 and d["covariate_changes"] == [] and d["sources"] == []
EOF

check "heat scenario" 0 "" -- scenario 1 "$work/heat" "$work/heat.ini"
check "tmax 35 multiplies every cell by the fitted exp(beta dz)" 0 "" -- "$py" - "$work/heat/scenario" <<'EOF'
import h5py, json, math, sys, numpy as np
d = json.load(open(sys.argv[1] + "/scenario.json"))
ch = d["covariate_changes"]
assert [c["name"] for c in ch] == ["tmax_c"], ch
c = ch[0]
factor = math.exp(c["beta"] * (c["z_scenario"] - c["z_baseline"]))
assert abs(factor - c["factor"]) < 1e-14 * factor and c["z_scenario"] > c["z_baseline"]
with h5py.File(sys.argv[1] + "/delta.h5") as h:
    b = h["fields/baseline_total"][()]
    s = h["fields/scenario_total"][()]
    mask = h["fields/mask"][()]
on = (mask == 1) & (b > 0)
ratio = s[on] / b[on]
assert np.abs(ratio / factor - 1).max() < 1e-12, (ratio.min(), ratio.max(), factor)
assert (s[mask == 0] == 0).all()
EOF

check "match scenario at 1 rank" 0 "" -- scenario 1 "$work/m1" "$work/match.ini"
check "the event changes nothing outside its area, raises every cell inside" 0 "" -- "$py" - "$work/m1/scenario" <<'EOF'
import h5py, json, sys, numpy as np
with h5py.File(sys.argv[1] + "/delta.h5") as h:
    f = h["fields"]
    infl = f["influence"][()] == 1
    mask = f["mask"][()] == 1
    for name in ("delta_total", "delta_total_p10", "delta_total_p90", "delta_total_mean"):
        assert (f[name][()][~infl] == 0).all(), name
    assert (f["delta.expected"][()][:, ~infl] == 0).all()
    d0 = f["delta_total"][()]
    inside = infl & mask & (f["baseline_total"][()] > 0)
    assert inside.sum() > 10 and (d0[inside] > 0).all()
d = json.load(open(sys.argv[1] + "/scenario.json"))
assert d["sources"][0]["type"] == "event" and d["totals"]["delta"]["expected"] > 0
assert d["totals"]["delta"]["p10"] <= d["totals"]["delta"]["p50"] <= d["totals"]["delta"]["p90"]
assert any("assum" in a for a in d["assumptions"]), d["assumptions"]
EOF
check "match scenario at 2 ranks, 2 groups" 0 "in 2 group" -- scenario 2 "$work/m2" "$work/match.ini" --scenario.groups 2
check "match scenario at 4 ranks, 1 group" 0 "" -- scenario 4 "$work/m4" "$work/match.ini"
check "match scenario at 4 ranks, 2 groups" 0 "" -- scenario 4 "$work/m4g2" "$work/match.ini" --scenario.groups 2
for run in m2 m4 m4g2; do
  if "$py" "$src/scripts/field_summary.py" "$work/m1/scenario/delta.h5" --same-as "$work/$run/scenario/delta.h5" \
    --rtol 1e-10; then
    echo "ok   delta.h5 of $run = 1 rank"; passes=$((passes + 1))
  else
    echo "FAIL delta.h5 of $run differs from 1 rank"; failures=$((failures + 1))
  fi
  check "scenario.json of $run = 1 rank" 0 "" -- "$py" - "$work/m1/scenario/scenario.json" \
    "$work/$run/scenario/scenario.json" <<'EOF'
import json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("issued_utc"); d.pop("groups"); d.pop("outputs")
def same(x, y, path=""):
    if isinstance(x, dict):
        assert set(x) == set(y), path
        for k in x: same(x[k], y[k], path + "/" + k)
    elif isinstance(x, list):
        assert len(x) == len(y), path
        for u, v in zip(x, y): same(u, v, path)
    elif isinstance(x, float) or isinstance(y, float):
        assert math.isclose(x, y, rel_tol=1e-10, abs_tol=1e-300), (path, x, y)
    else:
        assert x == y, (path, x, y)
same(a, b)
EOF
done

# Bad files: each names the file and the key.
bad() {  # bad NAME KEY_PATTERN CONTENT
  printf '%s\n' "$3" >"$work/$1.ini"
  check "bad scenario: $1" 2 "$1.ini.*$2" -- scenario 1 "$work/bad" "$work/$1.ini"
}
bad end_before_start "end" "[scenario]
start = 2019-03-17T18:00
end = 2019-03-17T10:00"
# A scenario with one event: event_ini NAME KIND LON LAT.
event_ini() {
  cat <<INI
[scenario]
start = 2019-03-17T18:00
end = 2019-03-18T00:00
[event.$1]
kind = $2
lon = $3
lat = $4
radius_m = 500
start = 2019-03-17T19:00
end = 2019-03-17T21:00
crowd = 1000
INI
}
bad outside_grid "lon" "$(event_ini far match 2.35 48.85)"
bad unknown_kind "kind" "$(event_ini x picnic 5.3959 43.2698)"
check "missing --scenario is a usage error" 2 "scenario.file" -- \
  mpirun -n 1 "$vigie" scenario --config "$cfg" --output.dir="$work/bad" "${opts[@]}"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
