#!/usr/bin/env bash
# vigie simulate and vigie fit end to end:
#  - simulate --model sepp on a small UTM grid (tests/cli/sepp_simulation.ini) writes the same events at 1 and
#    2 ranks, and vigie fit on what it wrote recovers theta, omega and sigma within 15% of the truth, with the
#    same estimates (relative 1e-10) at 1, 2 and 4 ranks and a time-rescaling test that does not reject;
#  - vigie fit on the Marseille case prints the factor table, the per-event rain factor and the goodness of
#    fit, and params.json has every required key, finite;
#  - simulate --model excitation writes an HDF5 + XDMF time series and an ensemble mean; a bad perturbation is
#    a usage error (exit 2).
# Usage: test_simulate_fit.sh VIGIE SOURCE_DIR
set -uo pipefail
vigie=$1
src=$2
source "$src/tests/cli/check_lib.sh"
py=/usr/bin/python3

for np in 1 2; do
  check "simulate sepp np$np" 0 "simulate sepp: [0-9]+ events" -- \
    mpirun -n $np "$vigie" simulate --config "$src/tests/cli/sepp_simulation.ini" --output.dir="$work/sim$np"
done
check "simulated events identical at 1 and 2 ranks" 0 "" -- cmp "$work/sim1/simulated_events.csv" \
  "$work/sim2/simulated_events.csv"
for np in 1 2 4; do
  check "fit simulated np$np" 0 "goodness of fit" -- \
    mpirun -n $np "$vigie" fit --config "$work/sim1/simulated.ini" --output.dir="$work/fit$np"
done
check "estimates within 15% of the truth, same at every rank count" 0 "recovered" -- $py - "$work" <<'PY'
import json, math, sys
work = sys.argv[1]
truth = json.load(open(f"{work}/sim1/simulated_truth.json"))
fits = [json.load(open(f"{work}/fit{np}/params.json")) for np in (1, 2, 4)]
p = fits[0]
for key, true in (("theta", truth["theta"]), ("omega_per_day", truth["omega_per_day"]),
                  ("sigma_m", truth["sigma_x_m"])):
    if abs(p[key] - true) > 0.15 * true:
        sys.exit(f"{key} = {p[key]} is not within 15% of {true}")
    for q in fits[1:]:
        if abs(q[key] - p[key]) > 1e-10 * abs(p[key]):
            sys.exit(f"{key} differs across rank counts: {p[key]} vs {q[key]}")
if not p["converged"]:
    sys.exit("EM did not converge")
if p["goodness_of_fit"]["ks_p_value"] < 0.01:
    sys.exit(f"time-rescaling rejects the fitted model: p = {p['goodness_of_fit']['ks_p_value']}")
print("recovered", {k: p[k] for k in ("theta", "omega_per_day", "sigma_m")})
PY

check "fit marseille prints the factor table" 0 "rain: x0\.4[0-9] \[" -- \
  mpirun -n 2 "$vigie" fit --config "$src/inputs/marseille/config.ini" --output.dir="$work/marseille"
check "marseille params.json complete and finite" 0 "complete" -- $py - "$work/marseille/params.json" <<'PY'
import json, math, sys
doc = json.load(open(sys.argv[1]))
for key in ("schema_version", "theta", "omega_per_day", "sigma_m", "beta", "beta_se", "factors",
            "goodness_of_fit", "log_likelihood"):
    if key not in doc:
        sys.exit(f"params.json lacks {key}")
if set(doc["beta"]) != set(doc["beta_se"]) or not doc["beta"]:
    sys.exit("beta and beta_se must name the same covariates")
def finite(x):
    if isinstance(x, float):
        return math.isfinite(x)
    if isinstance(x, dict):
        return all(finite(v) for v in x.values())
    if isinstance(x, list):
        return all(finite(v) for v in x)
    return True
if not finite(doc):
    sys.exit("a number is not finite")
names = [f["name"] for f in doc["factors"]]
if "rain" not in names or "beaches_density" not in names:
    sys.exit(f"factors lack rain or beaches_density: {names}")
print("complete")
PY
check "params.h5 written" 0 "" -- test -s "$work/marseille/params.h5" -a -s "$work/marseille/params.h5.xmf"

check "simulate excitation ensemble" 0 "wrote .*simulate_excitation.h5 \(6 snapshots x 2 member" -- \
  mpirun -n 2 "$vigie" simulate --model excitation --config "$src/tests/regression/lattice_excitation.ini" \
  --output.dir="$work/exc" --simulate.t_end=5 --simulate.members=2 --simulate.perturb=excitation.theta:0.2 \
  --simulate.plot=false
check "simulate excitation fields" 0 "fields ok" -- $py - "$work/exc/simulate_excitation.h5" <<'PY'
import h5py, sys
f = h5py.File(sys.argv[1], "r")
need = ["intensity", "m1.intensity", "ensemble_mean_intensity"]
for n in need:
    if n not in f["fields"] or f["fields"][n].shape[0] != 6:
        sys.exit(f"missing or short /fields/{n}")
print("fields ok")
PY
check "bad perturbation is a usage error" 2 "simulate.perturb" -- \
  mpirun -n 1 "$vigie" simulate --model excitation --config "$src/tests/regression/lattice_excitation.ini" \
  --output.dir="$work/bad" --simulate.members=2 --simulate.perturb=excitation.theta
echo "test_simulate_fit: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
