#!/usr/bin/env bash
# Runs `vigie backtest` on a case, then scripts/backtest_plots.py on its backtest.json, and checks the plots
# are real PNG files and that the report holds exactly one "## Plots" section however often the script runs.
#
# Usage: test_backtest_plots.sh PYTHON PLOTS_SCRIPT CONFIG WORKDIR VIGIE_LAUNCH...
#   VIGIE_LAUNCH is the command that starts vigie (e.g. "env ... mpiexec -n 2 /path/vigie"); "backtest
#   --config CONFIG --output.dir=WORKDIR" is appended to it.
set -euo pipefail

python=$1
plots=$2
config=$3
work=$4
shift 4

fail() {
  echo "test_backtest_plots: FAIL: $*" >&2
  exit 1
}

rm -rf "$work"
mkdir -p "$work"
"$@" backtest --config "$config" --output.dir="$work"
[ -s "$work/backtest.json" ] || fail "vigie backtest wrote no $work/backtest.json"
[ -s "$work/backtest.md" ] || fail "vigie backtest wrote no $work/backtest.md"
pooled_before=$(grep -c '^## Pooled scores' "$work/backtest.md" || true)

# Twice: the second run must replace the section the first one wrote, not add another.
"$python" "$plots" "$work/backtest.json"
"$python" "$plots" "$work/backtest.json"

for png in backtest_hit_rate_vs_area.png backtest_reliability.png backtest_pai5_per_window.png; do
  f=$work/$png
  [ -f "$f" ] || fail "$f was not written"
  magic=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
  [ "$magic" = "89504e470d0a1a0a" ] || fail "$f does not start with the PNG signature (got $magic)"
  size=$(stat -c %s "$f")
  # An empty 640x480 canvas compresses to a few kB; axes, labels and curves take far more.
  [ "$size" -gt 10000 ] || fail "$f is only $size bytes"
  grep -qF "]($png)" "$work/backtest.md" || fail "backtest.md has no link to $png"
done

n=$(grep -c '^## Plots$' "$work/backtest.md" || true)
[ "$n" -eq 1 ] || fail "backtest.md has $n '## Plots' sections after two runs, expected 1"
pooled_after=$(grep -c '^## Pooled scores' "$work/backtest.md" || true)
[ "$pooled_after" -eq "$pooled_before" ] || fail "the engine's sections of backtest.md were altered"

# Plots in another folder: links become relative to the report, and the section is still replaced.
"$python" "$plots" "$work/backtest.json" --out "$work/plots"
[ -f "$work/plots/backtest_reliability.png" ] || fail "--out folder has no backtest_reliability.png"
grep -qF "](plots/backtest_reliability.png)" "$work/backtest.md" || fail "backtest.md does not link plots/"
n=$(grep -c '^## Plots$' "$work/backtest.md" || true)
[ "$n" -eq 1 ] || fail "backtest.md has $n '## Plots' sections after --out, expected 1"

# A missing or invalid JSON is a usage error: exit status 2 and a message naming the file.
set +e
"$python" "$plots" "$work/missing.json" 2>"$work/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "missing JSON gave exit status $rc, expected 2"
grep -qF "missing.json" "$work/err.txt" || fail "the error for a missing JSON does not name the file"
printf '{"schema_version": 1, "models": ' >"$work/bad.json"
set +e
"$python" "$plots" "$work/bad.json" 2>"$work/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "truncated JSON gave exit status $rc, expected 2"
grep -qF "bad.json" "$work/err.txt" || fail "the error for an invalid JSON does not name the file"

echo "test_backtest_plots: OK"
