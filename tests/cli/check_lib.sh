# Sourced by the CLI test scripts: the Open MPI settings for root, a scratch folder, and check(), which runs a
# command and compares its exit code and output with what is expected, counting passes and failures.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1 OMP_NUM_THREADS=1
failures=0
passes=0

check() {  # check NAME EXPECTED_CODE GREP_PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local text rc
  text=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $name: exit $rc, expected $want"; echo "$text" | tail -n 5; failures=$((failures + 1)); return
  fi
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$text"; then
    echo "FAIL $name: output lacks /$pattern/"; echo "$text" | tail -n 5; failures=$((failures + 1)); return
  fi
  echo "ok   $name"
  passes=$((passes + 1))
}
