#!/usr/bin/env bash
# vigie simulate --model short2008|agents --scenario FILE.ini on the Marseille grid (400 m cells, one day from
# simulate.start = 2019-03-17, snapshots every 1.5 h): a crowd of 60,000 at the Vélodrome (1000 m) from 18:00
# to 21:00 local time, pre_hours = post_hours = 0, i.e. model days [0.75, 0.875):
#  - an empty scenario gives exactly the output of no scenario (both models);
#  - short2008: at the snapshot of day 0.75 (the event's start) A = A0 + B inside the area is the baseline's
#    plus (m - 1) A0 with m = 1 + 0.5 (60000 / 10000)^0.5 (scenario.a0_elasticity), every other cell and the
#    fields B, n are bit-identical; at day 0.875 B inside is above the baseline's;
#  - agents: at day 0.8125 (first snapshot after the arrival) the area holds more agents than the baseline,
#    and every field is unchanged in the cells more than 8 km from the venue;
#  - both models give the same result at 1 and 2 ranks (rtol 1e-10);
#  - a scenario with --model excitation, and on a lattice grid, exits 2.
# Usage: test_simulate_scenario.sh VIGIE_EXE SOURCE_DIR
set -uo pipefail
vigie=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=tests/cli/check_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
py=/usr/bin/python3
cfg=$src/inputs/marseille/config.ini
opts=(--grid.cell_m 400 --grid.x0 881000 --grid.y0 6232600 --grid.nx 62 --grid.ny 64 --simulate.t_end 1
      --simulate.output_every 0.0625 --simulate.start 2019-03-17 --simulate.plot false
      --scenario.agents_per_person 2e-3)

sim() {  # sim RANKS MODEL OUT_DIR [more options]
  local n=$1 model=$2 out=$3
  shift 3
  mpirun -n "$n" "$vigie" simulate --config "$cfg" --model "$model" --output.dir="$out" "${opts[@]}" "$@"
}

cat >"$work/empty.ini" <<'EOF'
[scenario]
name = nothing happens
start = 2019-03-17T12:00
end = 2019-03-18T00:00
EOF
cat >"$work/match.ini" <<'EOF'
[scenario]
name = match at the Velodrome
start = 2019-03-17T12:00
end = 2019-03-18T00:00
[event.match]
kind = match
lon = 5.3959
lat = 43.2698
radius_m = 1000
start = 2019-03-17T18:00
end = 2019-03-17T21:00
crowd = 60000
pre_hours = 0
post_hours = 0
EOF

same() {  # same NAME A B [rtol]
  if "$py" "$src/scripts/field_summary.py" "$2" --same-as "$3" ${4:+--rtol "$4"}; then
    echo "ok   $1"; passes=$((passes + 1))
  else
    echo "FAIL $1"; failures=$((failures + 1))
  fi
}

for model in short2008 agents; do
  check "$model: no scenario" 0 "" -- sim 1 "$model" "$work/$model.base"
  check "$model: empty scenario" 0 "" -- sim 1 "$model" "$work/$model.empty" --scenario "$work/empty.ini"
  same "$model: empty scenario = no scenario" "$work/$model.base/simulate_$model.h5" \
    "$work/$model.empty/simulate_$model.h5"
  check "$model: match at 1 rank" 0 "" -- sim 1 "$model" "$work/$model.m1" --scenario "$work/match.ini"
  check "$model: match at 2 ranks" 0 "" -- sim 2 "$model" "$work/$model.m2" --scenario "$work/match.ini"
  same "$model: match, 1 rank = 2 ranks" "$work/$model.m1/simulate_$model.h5" \
    "$work/$model.m2/simulate_$model.h5" 1e-10
done

# Distances of the cell centres from the venue (Lambert-93 of 5.3959 E, 43.2698 N).
cat >"$work/geo.py" <<'EOF'
import h5py, numpy as np
def load(path):
    with h5py.File(path) as h:
        times = h.attrs["times_days"]
        times = times.decode() if isinstance(times, bytes) else str(times)
        return {k: h["fields"][k][()] for k in h["fields"]}, [float(t) for t in times.split(",")]
jj, ii = np.mgrid[0:64, 0:62]
dist = np.hypot(881000 + (ii + 0.5) * 400 - 894598.53, 6232600 + (jj + 0.5) * 400 - 6244132.43)
EOF

check "short2008: A0 raised inside the area at the start, nothing else changed" 0 "" -- \
  "$py" - "$work" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from geo import load, dist
import numpy as np
b, times = load(sys.argv[1] + "/short2008.base/simulate_short2008.h5")
s, _ = load(sys.argv[1] + "/short2008.m1/simulate_short2008.h5")
k = times.index(0.75)
mask = b["mask"] != 0
# Before the event: identical.
for name in ("attractiveness", "B", "n", "intensity"):
    assert (s[name][:k] == b[name][:k]).all(), name
# At its start: B and n untouched, A = A0 + B raised by (m - 1) A0 inside the 1000 m disc only.
assert (s["B"][k] == b["B"][k]).all() and (s["n"][k] == b["n"][k]).all()
m = 1 + 0.5 * (60000 / 10000) ** 0.5
diff = s["attractiveness"][k] - b["attractiveness"][k]
inside = (dist <= 1000) & mask
assert inside.sum() >= 15, inside.sum()
assert np.allclose(diff[inside], (m - 1) / 30.0, rtol=1e-9, atol=0), diff[inside]
assert (diff[~inside] == 0).all()
assert (s["intensity"][k][inside] > b["intensity"][k][inside]).all()
assert (s["intensity"][k][~inside] == b["intensity"][k][~inside]).all()
# During the window the extra attractiveness feeds B (theta n A).
k2 = times.index(0.875)
assert (s["B"][k2][inside] > b["B"][k2][inside]).all()
print("A0 x %.6f on %d cells" % (m, inside.sum()))
EOF

check "agents: crowd inside the area, far cells unchanged" 0 "" -- "$py" - "$work" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from geo import load, dist
b, times = load(sys.argv[1] + "/agents.base/simulate_agents.h5")
s, _ = load(sys.argv[1] + "/agents.m1/simulate_agents.h5")
k0, k = times.index(0.75), times.index(0.8125)
for name in ("attractiveness", "B", "agents", "events", "intensity"):
    assert (s[name][:k0 + 1] == b[name][:k0 + 1]).all(), name  # arrival at step 75, after the 0.75 snapshot
near, far = dist <= 1000, dist > 8000
extra = s["agents"][k][near].sum() - b["agents"][k][near].sum()
assert extra >= 30, extra  # 120 arrived 6 steps earlier; most are still in the area
assert far.sum() > 100
for name in ("attractiveness", "B", "agents", "events", "intensity"):
    assert (s[name][k][far] == b[name][k][far]).all(), name
print("%d extra agents in the area at day 0.8125" % extra)
EOF

check "scenario with --model excitation is refused" 2 "short2008 or agents" -- \
  sim 1 excitation "$work/excit" --scenario "$work/match.ini"
check "scenario on a lattice grid is refused" 2 "geographic|lattice|grid" -- \
  mpirun -n 1 "$vigie" simulate --config "$src/inputs/short2008/config.ini" --output.dir="$work/lat" \
  --grid.nx 16 --grid.ny 16 --simulate.t_end 0.1 --simulate.output_every 0.1 --scenario "$work/match.ini"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
