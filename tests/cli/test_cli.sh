#!/usr/bin/env bash
# The vigie command line as a user meets it: exit codes of docs/cli.md, error messages naming file and line,
# overrides, the output lock, the audit log and its verifier, and docs/config.md generated from --help-config.
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

# A run from another working directory: paths in the config resolve against the config's folder.
pushd /tmp >/dev/null
check run-from-elsewhere 0 "active cells 23839" -- "$vigie" run --config "$cfg" --output.dir="$work/run"
popd >/dev/null
[ -f "$work/run/vigie_run.h5" ] && [ -f "$work/run/vigie_run.h5.xmf" ] || { echo "FAIL run outputs missing"; failures=$((failures + 1)); }
ls "$work/run" | grep -q tmp- && { echo "FAIL a temporary file was left behind"; failures=$((failures + 1)); }

# A second run on a locked output folder refuses with exit 5.
flock "$work/run/.vigie.lock" -c "sleep 3" &
sleep 0.5
check locked-output 5 "another Vigie run holds" -- "$vigie" run --config "$cfg" --output.dir="$work/run"
wait

# The audit log: one record per subcommand (run, the refused run does not get the lock so writes none).
check audit-verify 0 "OK, 1 records" -- "$vigie" audit verify "$work/run/audit.jsonl"
"$vigie" check-config --config "$cfg" --output.dir="$work/run" >/dev/null 2>&1
check audit-two-records 0 "OK, 2 records" -- "$vigie" audit verify "$work/run/audit.jsonl"
grep -q '"subcommand":"check-config"' "$work/run/audit.jsonl" || { echo "FAIL audit lacks check-config"; failures=$((failures + 1)); }
sed 's/"seed":20170101/"seed":1/' "$work/run/audit.jsonl" > "$work/tampered.jsonl"
check audit-tampered 6 "FAILED" -- "$vigie" audit verify "$work/tampered.jsonl"
check audit-usage 2 "usage: vigie audit verify FILE" -- "$vigie" audit

# docs/config.md is generated from --help-config and must be current.
if diff -q <("$vigie" --help-config) "$src/docs/config.md" >/dev/null; then
  echo "ok   docs-config-current"; passes=$((passes + 1))
else
  echo "FAIL docs/config.md is stale: regenerate with 'vigie --help-config > docs/config.md'"; failures=$((failures + 1))
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
