#!/usr/bin/env bash
# The vigie command line as a user meets it: exit codes of docs/cli.md, error messages naming file and line,
# overrides, the output lock, the audit log and its verifier, --quiet and --json-log, and docs/config.md generated
# from --help-config.
# Usage: test_cli.sh VIGIE_EXE SOURCE_DIR
set -uo pipefail
vigie=$(realpath "$1")
src=$(realpath "$2")
# shellcheck source=tests/cli/check_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

cfg=$src/inputs/marseille/config.ini
check version 0 "^vigie [0-9]" -- "$vigie" --version
check help 0 "Exit codes" -- "$vigie" --help
check no-subcommand 2 "no subcommand" -- "$vigie"
check unknown-subcommand 2 "unknown subcommand 'frobnicate'" -- "$vigie" frobnicate --config "$cfg" --output.dir="$work/u"
check missing-config 3 "$work/nope.ini: cannot open" -- "$vigie" run --config "$work/nope.ini"
check unknown-cli-option 2 "unknown option --grid.bogus" -- "$vigie" run --config "$cfg" --grid.bogus=1
check malformed-cli-value 2 "malformed value 'ten' for '--grid.nx'" -- "$vigie" run --config "$cfg" --grid.nx ten

printf '[grid]\ncrs = none\nnx = 8\n\n[grid]\ncell_size = 3\n' > "$work/bad_key.ini"
check unknown-file-key 2 "bad_key.ini:6: unknown configuration key 'grid.cell_size'" -- "$vigie" check-config --config "$work/bad_key.ini"
printf '[grid]\ncrs = none\nnx = 8x\n' > "$work/bad_value.ini"
check malformed-file-value 2 "bad_value.ini:3: malformed value '8x' for 'grid.nx'" -- "$vigie" check-config --config "$work/bad_value.ini"
check collective-error-2-ranks 2 "unknown configuration key" -- mpirun -n 2 "$vigie" check-config --config "$work/bad_key.ini"
check bad-mask-file 3 "nowhere.geojson" -- "$vigie" run --config "$cfg" --output.dir="$work/m" --grid.mask="$work/nowhere.geojson"

# Overrides replace the file's values, and the effective configuration shows it.
check override 0 "nx = 64" -- "$vigie" check-config --config "$cfg" --grid.nx 64 --output.dir="$work/o"

# vigie run on the Marseille case is the whole main job (ingest, backtest, fit, forecast): these checks of
# the command line keep it short (no tuning, no offset band, 4 members, no plots).
fast=(--backtest.tune=false --backtest.grid_offsets= --backtest.per_category=false --forecast.members=4
      --forecast.plots=false --backtest.plots=false)

# A run from another working directory: paths in the config resolve against the config's folder.
pushd /tmp >/dev/null
check run-from-elsewhere 0 "active cells 23839" -- "$vigie" run --config "$cfg" --output.dir="$work/run" "${fast[@]}"
popd >/dev/null
[ -f "$work/run/forecast/forecast.h5" ] && [ -f "$work/run/forecast/forecast.h5.xmf" ] &&
  [ -f "$work/run/backtest.json" ] && [ -f "$work/run/forecast/summary.md" ] ||
  { echo "FAIL run outputs missing"; failures=$((failures + 1)); }
ls "$work/run" | grep -q tmp- && { echo "FAIL a temporary file was left behind"; failures=$((failures + 1)); }

# A second run on a locked output folder refuses with exit 5.
flock "$work/run/.vigie.lock" -c "sleep 3" &
sleep 0.5
check locked-output 5 "another Vigie run holds" -- "$vigie" run --config "$cfg" --output.dir="$work/run" "${fast[@]}"
wait

# The audit log: one record per subcommand (run, the refused run does not get the lock so writes none).
check audit-verify 0 "OK, 1 records" -- "$vigie" audit verify "$work/run/audit.jsonl"
"$vigie" check-config --config "$cfg" --output.dir="$work/run" >/dev/null 2>&1
check audit-two-records 0 "OK, 2 records" -- "$vigie" audit verify "$work/run/audit.jsonl"
grep -q '"subcommand":"check-config"' "$work/run/audit.jsonl" || { echo "FAIL audit lacks check-config"; failures=$((failures + 1)); }
sed 's/"seed":20170101/"seed":1/' "$work/run/audit.jsonl" > "$work/tampered.jsonl"
check audit-tampered 6 "FAILED" -- "$vigie" audit verify "$work/tampered.jsonl"
check audit-usage 2 "usage: vigie audit verify FILE" -- "$vigie" audit

# --quiet: warnings and errors only. check-config logs no info line anyway; run does, so it is checked both ways.
check quiet-check-config 0 "configuration OK" -- "$vigie" check-config --config "$cfg" --output.dir="$work/log" --quiet
grep -q "info:" <<<"$("$vigie" check-config --config "$cfg" --output.dir="$work/log" --quiet 2>&1)" &&
  { echo "FAIL quiet-check-config printed an info: line"; failures=$((failures + 1)); }
check run-logs-info 0 "\] info: " -- "$vigie" run --config "$cfg" --output.dir="$work/log" "${fast[@]}"
if ! text=$("$vigie" run --config "$cfg" --output.dir="$work/log" "${fast[@]}" --quiet 2>&1) || grep -q "info:" <<<"$text"; then
  echo "FAIL quiet-run: exit status or info: lines"; echo "$text" | tail -n 5; failures=$((failures + 1))
else
  echo "ok   quiet-run"; passes=$((passes + 1))
fi

# --json-log: every line of FILE is one JSON object with time (UTC), level and message; at least MIN of them, and
# one at LEVEL whose message contains TEXT when given.
json_lines() {  # json_lines NAME FILE MIN [LEVEL TEXT]
  if /usr/bin/python3 - "$2" "$3" "${4:-}" "${5:-}" <<'PY'; then
import json, re, sys
path, least, level, text = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lines = [l for l in open(path, encoding="utf-8").read().split("\n") if l]
found = False
for l in lines:
    d = json.loads(l)
    assert isinstance(d, dict) and set(d) <= {"time", "level", "message", "rank"}, l
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["time"]), l
    assert d["level"] in ("debug", "info", "warning", "error") and isinstance(d["message"], str), l
    found = found or (d["level"] == level and text in d["message"])
assert len(lines) >= least, f"{len(lines)} JSON lines, expected at least {least}"
assert not level or found, f"no {level} line with {text!r}"
PY
    echo "ok   $1"; passes=$((passes + 1))
  else
    echo "FAIL $1: $2 is not JSON log lines"; tail -n 5 "$2"; failures=$((failures + 1))
  fi
}
"$vigie" check-config --config "$cfg" --output.dir="$work/log" --json-log >"$work/cc.out" 2>"$work/cc.err" ||
  { echo "FAIL json-log-check-config: exit $?"; failures=$((failures + 1)); }
json_lines json-log-check-config-stderr "$work/cc.err" 0
"$vigie" run --config "$cfg" --output.dir="$work/log" "${fast[@]}" --json-log >"$work/run.out" 2>"$work/run.err" ||
  { echo "FAIL json-log-run: exit $?"; failures=$((failures + 1)); }
json_lines json-log-run-stderr "$work/run.err" 0
# run prints nothing but log lines on standard output under --json-log (its results become log lines).
json_lines json-log-run-stdout "$work/run.out" 2 info "active cells 23839"
"$vigie" run --config "$cfg" --grid.bogus=1 --json-log >/dev/null 2>"$work/bad.err"
[ $? -eq 2 ] || { echo "FAIL json-log-usage-error: exit status not 2"; failures=$((failures + 1)); }
json_lines json-log-usage-error "$work/bad.err" 1 error "unknown option --grid.bogus"

# docs/config.md is generated from --help-config and must be current.
if diff -q <("$vigie" --help-config) "$src/docs/config.md" >/dev/null; then
  echo "ok   docs-config-current"; passes=$((passes + 1))
else
  echo "FAIL docs/config.md is stale: regenerate with 'vigie --help-config > docs/config.md'"; failures=$((failures + 1))
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
