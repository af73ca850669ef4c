#!/usr/bin/env bash
# vigie forecast on the Marseille case (BAAC 2018, sepp with school holidays and the spatial layers) on a 400 m
# grid, with three short horizons:
#  - the run at 1, 2 and 4 ranks: every dataset of forecast.h5 and every number of forecast.json agree
#    (integers exactly, floats within 1e-10), the Poisson members' counts exactly;
#  - the outputs exist (HDF5 + XDMF, GeoTIFF, GeoJSON, CSV, summary.md) and say what they must;
#  - the GeoTIFF at a known point (the top hotspot's centre, in Lambert-93) holds the HDF5 value;
#  - kill and restart: SIGTERM raised (VIGIE_FAULT) after step 5 with a checkpoint every 2 steps exits 8,
#    --restart resumes at step 5 and the final forecast.h5 equals the uninterrupted one bit for bit; a
#    requeued run at another rank count (SLURM_RESTART_COUNT) gives the same result.
# Usage: test_forecast.sh VIGIE_EXE SOURCE_DIR
set -uo pipefail
vigie=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=tests/cli/check_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
py=/usr/bin/python3
cfg=$src/inputs/marseille/config.ini
opts=(--grid.cell_m 400 --grid.x0 881000 --grid.y0 6232600 --grid.nx 62 --grid.ny 64 --forecast.members 16
      --forecast.horizons "next_6h=hour:6, next_3d=day:3, next_month=month:1" --forecast.plots false
      --privacy.radius_m 800 --sepp.max_iter 20)

forecast() {  # forecast RANKS OUT_DIR [more options]
  local n=$1 out=$2
  shift 2
  mpirun -n "$n" "$vigie" forecast --config "$cfg" --output.dir="$out" "${opts[@]}" "$@"
}

same_as() {  # same_as NAME A.h5 B.h5 [rtol]
  if "$py" "$src/scripts/field_summary.py" "$2" --same-as "$3" ${4:+--rtol "$4"}; then
    echo "ok   $1"; passes=$((passes + 1))
  else
    echo "FAIL $1: $2 and $3 differ"; failures=$((failures + 1))
  fi
}

json_same() {  # json_same NAME A.json B.json: every number within 1e-10 relative, every string equal
  if "$py" - "$2" "$3" <<'EOF'
import json, math, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
def cmp(x, y, path):
    if path in ("/issued_utc",):
        return
    if isinstance(x, dict) and isinstance(y, dict):
        if set(x) != set(y): bad.append(path + ": keys differ")
        for k in x:
            if k in y: cmp(x[k], y[k], path + "/" + k)
    elif isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y): bad.append(path + ": lengths differ")
        for k, (u, v) in enumerate(zip(x, y)): cmp(u, v, "%s/%d" % (path, k))
    elif isinstance(x, float) or isinstance(y, float):
        if not math.isclose(x, y, rel_tol=1e-10, abs_tol=1e-300): bad.append("%s: %r != %r" % (path, x, y))
    elif x != y:
        bad.append("%s: %r != %r" % (path, x, y))
for line in bad[:10]: print(line)
sys.exit(1 if bad else 0)
EOF
  then
    echo "ok   $1"; passes=$((passes + 1))
  else
    echo "FAIL $1"; failures=$((failures + 1))
  fi
}

check "forecast at 1 rank" 0 "next_month:" -- forecast 1 "$work/np1"
f=$work/np1/forecast
for file in forecast.h5 forecast.h5.xmf forecast.json summary.md hotspots.geojson risk_by_area.csv \
  risk_by_area_hour.csv next_month_expected.tif next_month_p_any.tif next_6h_p_any.tif; do
  check "output $file exists" 0 "" -- test -s "$f/$file"
done
check "no checkpoint left after a finished run" 1 "" -- test -e "$f/checkpoint.h5"
check "forecast.json: schema, model, steps, finite numbers" 0 "" -- "$py" - "$f/forecast.json" <<'EOF'
import json, math, sys
d = json.load(open(sys.argv[1]), parse_constant=lambda c: sys.exit("non-finite " + c))
assert d["schema_version"] == 1 and d["model"] == "sepp", d["model"]
assert [h["steps"] for h in d["horizons"]] == [6, 3, 1]
assert d["forecast_start"].startswith("2019-01-01T00:00"), d["forecast_start"]
assert d["covariates"]["source"] == "climatology", d["covariates"]
m = d["horizons"][2]
assert 60 < m["total"]["expected"] < 400, m["total"]
assert m["total"]["p10"] <= m["total"]["p50"] <= m["total"]["p90"]
assert len(m["hotspots"]) == 20 and m["hotspots"][0]["factors"], m["hotspots"][0]
assert len(d["areas"]["list"]) == 16 and len(d["areas"]["list"][0]["by_hour"]) == 24
# The hour steps follow the hour-of-day profile, the month is the sum of its days.
six = [s["expected"] for s in d["horizons"][0]["per_step"]]
assert abs(sum(d["hour_profile"]["shares"]) - 1) < 1e-12
assert d["privacy"]["suppressed_cells"] > 0 and d["privacy"]["published_cells"] > 0
EOF
check "summary.md (French) says no backtest was run and names the weather source" 0 "" -- \
  bash -c "grep -q 'Aucun backtest' '$f/summary.md' && grep -qi 'climatolog' '$f/summary.md'"
check "the months expected total is the sum of the cells" 0 "" -- "$py" - "$f" <<'EOF'
import h5py, json, sys, numpy as np
d = json.load(open(sys.argv[1] + "/forecast.json"))
with h5py.File(sys.argv[1] + "/forecast.h5") as h:
    e = h["fields/next_month.expected"][()]
    pub = h["fields/published"][()]
    mask = h["fields/mask"][()]
    pa = h["fields/next_month.p_any"][()]
    p10, p90 = h["fields/next_month.p10"][()], h["fields/next_month.p90"][()]
assert abs(e.sum() - d["horizons"][2]["total"]["expected"]) < 1e-9 * e.sum()
assert (e[:, mask == 0] == 0).all() and (pub[mask == 0] == 0).all()
assert ((pa >= 0) & (pa <= 1)).all() and (p10 <= p90 + 1e-15).all()
EOF
check "GeoTIFF at the top hotspot holds the HDF5 total (north-up, EPSG:2154)" 0 "" -- "$py" - "$f" <<'EOF'
import h5py, json, subprocess, sys
f = sys.argv[1]
d = json.load(open(f + "/forecast.json"))
top = d["horizons"][2]["hotspots"][0]
info = subprocess.run(["gdalsrsinfo", "-o", "epsg", f + "/next_month_expected.tif"], capture_output=True, text=True).stdout
assert "2154" in info, info
out = subprocess.run(["gdallocationinfo", "-valonly", "-geoloc", f + "/next_month_expected.tif",
                      str(top["x"]), str(top["y"])], capture_output=True, text=True, check=True).stdout
with h5py.File(f + "/forecast.h5") as h:
    want = h["fields/next_month.total_expected"][top["j"], top["i"]]
assert abs(float(out) - want) <= 1e-6 * want, (out, want)
assert abs(want - top["expected"]) <= 1e-12 * want
EOF

check "forecast at 2 ranks" 0 "" -- forecast 2 "$work/np2"
check "forecast at 4 ranks" 0 "" -- forecast 4 "$work/np4"
for n in 2 4; do
  same_as "forecast.h5 at $n ranks = 1 rank" "$work/np1/forecast/forecast.h5" "$work/np$n/forecast/forecast.h5" 1e-10
  json_same "forecast.json at $n ranks = 1 rank" "$work/np1/forecast/forecast.json" "$work/np$n/forecast/forecast.json"
done

# Kill and restart: 10 steps in all; checkpoints after steps 2 and 4, SIGTERM after step 5.
VIGIE_FAULT=forecast:5 check "SIGTERM after step 5 exits 8" 8 "stopped after step 5 of 10" -- \
  forecast 2 "$work/B" --forecast.checkpoint_every 2
check "the stop leaves a checkpoint and no forecast.json" 0 "" -- \
  bash -c "test -e '$work/B/forecast/checkpoint.h5' && ! test -e '$work/B/forecast/forecast.json'"
check "--restart resumes at step 5" 0 "resuming at step 5 of 10" -- forecast 2 "$work/B" --restart
same_as "restarted forecast.h5 equals the uninterrupted one" "$work/np2/forecast/forecast.h5" \
  "$work/B/forecast/forecast.h5"
json_same "restarted forecast.json equals the uninterrupted one" "$work/np2/forecast/forecast.json" \
  "$work/B/forecast/forecast.json"
VIGIE_FAULT=forecast:3 check "SIGTERM after step 3 at 1 rank exits 8" 8 "stopped after step 3" -- \
  forecast 1 "$work/C" --forecast.checkpoint_every 2
SLURM_RESTART_COUNT=1 check "requeued at 4 ranks resumes at step 3" 0 "resuming at step 3 of 10" -- \
  forecast 4 "$work/C"
same_as "forecast restarted at another rank count equals the uninterrupted one" \
  "$work/np1/forecast/forecast.h5" "$work/C/forecast/forecast.h5" 1e-10
check "--restart without a checkpoint exits 3" 3 "no checkpoint" -- forecast 1 "$work/np1" --restart
check "bad horizon is a usage error naming the key" 2 "forecast.horizons" -- \
  forecast 1 "$work/bad" --forecast.horizons "soon=fortnight:2"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
