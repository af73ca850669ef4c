#!/usr/bin/env bash
# Malformed event files through the command line: each of tests/data/ingest/bad_* makes `vigie ingest` exit
# 3 with a message naming the file and a line, and writes nothing: no obs.h5, no journal, no rejects, no
# temporary file in a fresh folder, and an existing store in the same output.dir keeps every dataset, its
# journal and its rejects unchanged. A header-only file is not malformed: 0 rows, exit 0.
# Usage: test_bad_files.sh VIGIE_EXE MPIEXEC SOURCE_DIR WORK_DIR
set -uo pipefail
vigie=$(realpath "$1")
mpiexec=$2
src=$(realpath "$3")
work=$4
rm -rf "$work" && mkdir -p "$work"
python=/usr/bin/python3
data=$src/tests/data/ingest
failures=0
passes=0
ok() { echo "ok   $1"; passes=$((passes + 1)); }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

# A copy of the Vancouver case reading the small good VPD file, with absolute paths; covering 2018 only keeps
# the store small (the good file's later rows become outside_coverage rejects).
case_copy() {  # case_copy DST EVENTS OUT
  sed -e "s#^events = .*#events = $2#" -e "s#^profile = .*#profile = $src/inputs/vancouver/vpd.profile.ini#" \
      -e "s#^dir = .*#dir = $3#" -e "s#^coverage = .*#coverage = 2018-01-01/2018-12-31#" \
      "$src/inputs/vancouver/config.ini" > "$1"
}
no_temp() { ! ls -A "$1" 2>/dev/null | grep -qE '\.tmp|~$'; }

good=$work/good
case_copy "$work/case.ini" "$data/vpd_good.csv" "$good"
if "$vigie" ingest --config "$work/case.ini" > "$work/good.log" 2>&1 && [ -f "$good/obs.h5" ]; then
  ok "good store ingested"
else
  fail "good store ingest failed"; tail -n 5 "$work/good.log"
fi
cp -a "$good" "$work/good_before"

for bad in "$data"/bad_*; do
  name=$(basename "$bad")
  # A fresh output folder: nothing may be written but the audit record of the failure.
  fresh=$work/fresh_$name
  "$vigie" ingest --config "$work/case.ini" --output.dir="$fresh" --ingest.events="$bad" \
    > "$work/$name.out" 2> "$work/$name.err"
  rc=$?
  [ "$rc" -eq 3 ] && ok "$name: exit 3" || fail "$name: exit $rc, expected 3"
  if grep -qE -- "$(printf '%s' "$bad" | sed 's/[.[\*^$]/\\&/g'):[0-9]+:" "$work/$name.err"; then
    ok "$name: the message names the file and a line: $(head -c 200 "$work/$name.err")"
  else
    fail "$name: stderr lacks '$bad:<line>:'"; head -c 400 "$work/$name.err"; echo
  fi
  for f in obs.h5 obs.h5.xmf obs.journal rejects.csv; do
    [ -e "$fresh/$f" ] && fail "$name: fresh folder has $f"
  done
  [ ! -e "$fresh/obs.h5" ] && [ ! -e "$fresh/obs.journal" ] && ok "$name: no obs.h5, no journal (fresh)"
  no_temp "$fresh" && ok "$name: no temporary file" || fail "$name: temporary files: $(ls -A "$fresh")"

  # The same file against the existing good store, at 2 ranks (the error is raised on rank 0 only).
  "$mpiexec" -n 2 "$vigie" ingest --append --config "$work/case.ini" --ingest.events="$bad" \
    > "$work/$name.append.out" 2> "$work/$name.append.err"
  rc=$?
  [ "$rc" -eq 3 ] && ok "$name: exit 3 on an existing store (2 ranks)" \
    || fail "$name: exit $rc on an existing store"
  if "$python" "$src/scripts/field_summary.py" "$good/obs.h5" --same-as "$work/good_before/obs.h5" \
    > /dev/null; then
    ok "$name: existing store's datasets unchanged"
  else
    fail "$name: existing store's datasets changed"
  fi
  cmp -s "$good/obs.journal" "$work/good_before/obs.journal" && ok "$name: journal unchanged" \
    || fail "$name: journal changed"
  cmp -s "$good/rejects.csv" "$work/good_before/rejects.csv" && ok "$name: rejects.csv unchanged" \
    || fail "$name: rejects.csv changed"
  no_temp "$good" && ok "$name: no temporary file beside the store" \
    || fail "$name: temporary files: $(ls -A "$good")"
done

# Where the line is known, it is the line of the fault.
grep -q "bad_unbalanced_quote.csv:3:" "$work/bad_unbalanced_quote.csv.err" \
  && ok "unbalanced quote: line 3 named" || fail "unbalanced quote: line 3 not named"
grep -q "bad_binary.csv:[45]:" "$work/bad_binary.csv.err" && ok "binary garbage: line 4 or 5 named" \
  || fail "binary garbage: its line not named"
# The truncated gzip holds complete lines up to the point where the stream stops; the message must name that
# point, not the first line of the read block.
complete=$(gzip -dc "$data/bad_truncated.csv.gz" 2>/dev/null | wc -l)
named=$(grep -oE "bad_truncated.csv.gz:[0-9]+:" "$work/bad_truncated.csv.gz.err" | grep -oE "[0-9]+" \
  | head -n 1)
if [ -n "$named" ] && [ "$named" -gt "$complete" ]; then
  ok "truncated gzip: line $named named (stream stops after line $complete)"
else
  fail "truncated gzip: line ${named:-none} named, but the stream holds $complete complete lines"
fi

# A header without rows is a valid, empty file.
"$vigie" ingest --config "$work/case.ini" --output.dir="$work/header_only" \
  --ingest.events="$data/header_only.csv" > "$work/header_only.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q "0 rows read" "$work/header_only.log" && ok "header-only file: exit 0, 0 rows" \
  || fail "header-only file: exit $rc"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
