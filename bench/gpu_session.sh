#!/usr/bin/env bash
# One call on a lent GPU machine (offline; numba, numba-cuda, CuPy, torch and pytest installed):
#
#   bash bench/gpu_session.sh            # on the GPU machine, everything under $OUT
#   bash bench/gpu_session.sh --dry-run  # on any CPU, under numba's CUDA simulator, short caps
#   bash bench/gpu_session.sh [--dry-run] --caps   # print the stage caps and exit
#
# Stages, most valuable first, each under its own `timeout`, each writing under $OUT as it
# goes (a stage cut short keeps what it wrote; the bench rewrites its JSON after every case):
#
#   preflight  install, the toolchain's versions, `import gpucnn.kernels`, the device; stops
#              the session with one clear line if any of it fails
#   device     every kernel and the engine on the device: tests/cudasim and tests/gpu with the
#              real numba.cuda, --maxfail rather than -x so that one failure does not hide the
#              rest. The CPU suite is not run: CI has run it.
#   bench      `gpucnn bench --device cuda --quick` over every suite: every kernel at the model
#              shapes, each matmul and conv version rung at one size, launch overhead, the
#              models, the scaling sweeps
#   memcheck   compute-sanitizer over the kernel tests only (not the engine or bench tests),
#   racecheck  with CuPy's pool not installed: pool sub-allocations hide small overruns
#
# The caps sum to 8 minutes; a cold machine's start-up comes on top, outside the script.
# The PTX / register report needs no GPU: CI runs it.
set -uo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."

mode=""
if [ "${1:-}" = "--dry-run" ]; then mode="--dry-run"; shift; fi
if [ "${1:-}" = "--caps" ]; then caps_only=1; shift; else caps_only=0; fi
out="${OUT:-gpu-out}"
export PYTHONUNBUFFERED=1

if [ -n "$mode" ]; then
  # The same commands on the CPU, under the simulator, on a few tests and cases.
  export NUMBA_ENABLE_CUDASIM=1
  caps=(preflight=60 device=120 bench=90 memcheck=40 racecheck=40)
  device_tests=(tests/cudasim -k "test_ramp or test_round_trips_between_devices")
  device_tests_last=()
  bench_selection=(--suite kernels --case launch_overhead --repeat 1 --no-peak-measure)
  sanitizer_selection=(-k "test_ramp")
else
  unset NUMBA_ENABLE_CUDASIM
  export GPUCNN_TEST_GPU=1
  caps=(preflight=60 device=150 bench=180 memcheck=50 racecheck=40)
  # The distributed tests start jobs of two processes, each compiling its kernels: they go
  # last, so that if the cap cuts the stage it cuts them and not a kernel's tests.
  device_tests=(tests/cudasim tests/gpu --ignore=tests/cudasim/test_distributed_sim.py)
  device_tests_last=(tests/cudasim/test_distributed_sim.py)
  bench_selection=(--suite all)
  sanitizer_selection=()
fi
kernel_tests=(tests/cudasim --ignore=tests/cudasim/test_engine_sim.py
              --ignore=tests/cudasim/test_bench_sim.py)

# ---------------------------------------------------------------- the stages
stage_preflight() {
  if [ -z "$mode" ]; then
    pip install --no-deps --no-build-isolation -e . || { echo "PREFLIGHT FAILED: pip install"; return 3; }
    nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv \
      || { echo "PREFLIGHT FAILED: nvidia-smi"; return 3; }
  fi
  python bench/gpu_preflight.py || { echo "PREFLIGHT FAILED: see the lines above"; return 3; }
}

stage_device() {
  local status=0
  python -m pytest -q -p no:cacheprovider --maxfail=20 -rfE "${device_tests[@]}" || status=$?
  if [ ${#device_tests_last[@]} -gt 0 ]; then
    python -m pytest -q -p no:cacheprovider --maxfail=5 -rfE "${device_tests_last[@]}" \
      || status=$?
  fi
  return "$status"
}

stage_bench() {
  local json
  json="$out/$(python bench/gpu_preflight.py --slug)-$(date -u +%F).json"
  gpucnn bench --device cuda --quick "${bench_selection[@]}" --json "$json"
}

sanitize() {  # sanitize TOOL
  if [ -n "$mode" ]; then
    echo "dry run: the $1 run without compute-sanitizer around it"
    GPUCNN_CUPY_POOL=0 python -m pytest -q -p no:cacheprovider --maxfail=5 \
      "${kernel_tests[@]}" "${sanitizer_selection[@]}"
    return
  fi
  if ! command -v compute-sanitizer >/dev/null; then
    echo "compute-sanitizer not found on this machine"
    return 4
  fi
  GPUCNN_CUPY_POOL=0 compute-sanitizer --tool "$1" --error-exitcode 9 --print-limit 20 \
    python -m pytest -q -p no:cacheprovider --maxfail=5 "${kernel_tests[@]}" \
    "${sanitizer_selection[@]}"
}
stage_memcheck() { sanitize memcheck; }
stage_racecheck() { sanitize racecheck; }

if [ "$caps_only" = 1 ]; then  # the stage caps of this mode, one "name seconds" per line
  for entry in "${caps[@]}"; do echo "${entry%%=*} ${entry#*=}"; done
  exit 0
fi

# A stage runs in a child of this script, so that `timeout` can stop it as a whole.
if [ "${1:-}" = "--stage" ]; then
  "stage_$2"
  exit $?
fi

# ---------------------------------------------------------------- the session
mkdir -p "$out"
summary="$out/session.log"
: >"$summary"

cap() {  # cap NAME -> seconds
  local entry
  for entry in "${caps[@]}"; do
    if [ "${entry%%=*}" = "$1" ]; then echo "${entry#*=}"; return; fi
  done
}

run_stage() {  # run_stage NAME LOGFILE: under the stage's cap; record the outcome
  local name=$1 log=$2 seconds started status took
  seconds=$(cap "$name")
  started=$(date +%s)
  echo "== $name (cap ${seconds} s) $(date -u +%H:%M:%S)" | tee -a "$summary"
  timeout --kill-after=10 "$seconds" bash "$self" $mode --stage "$name" >>"$log" 2>&1
  status=$?
  took=$(( $(date +%s) - started ))
  if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "$name: cut at its cap after ${took} s (what it wrote is kept)" | tee -a "$summary"
  else
    echo "$name: exit $status after ${took} s" | tee -a "$summary"
  fi
  tail -n 4 "$log" | sed 's/^/    /' | tee -a "$summary"
  return "$status"
}

if ! run_stage preflight "$out/preflight.txt"; then
  echo "session stopped: preflight failed (see $out/preflight.txt)" | tee -a "$summary"
  exit 3
fi
failed=0
run_stage device "$out/tests.log" || failed=1
run_stage bench "$out/bench.log" || failed=1
run_stage memcheck "$out/memcheck.log" || failed=1
run_stage racecheck "$out/racecheck.log" || failed=1

echo "== session done $(date -u +%H:%M:%S), files in $out:" | tee -a "$summary"
ls -l "$out" | tee -a "$summary"
# A dry run proves the script: every stage must pass. A real session reports and goes on.
if [ -n "$mode" ] && [ "$failed" = 1 ]; then exit 1; fi
exit 0
