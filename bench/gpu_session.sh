#!/usr/bin/env bash
# One call on a GPU machine (offline, with numba, numba-cuda, cupy, torch and pytest installed):
# install, the whole test suite on the real device, compute-sanitizer over the kernel tests,
# the PTX/register report, then `gpucnn bench --device cuda` for every suite. Everything it
# writes goes to $OUT (or ./gpu-out), the JSON named by GPU and date.
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv | tee "$out/gpu.txt"

echo "== tests on the real GPU"
GPUCNN_TEST_GPU=1 python -m pytest -q -x -p no:cacheprovider 2>&1 | tee "$out/tests.log" | tail -15

echo "== compute-sanitizer over the kernel tests"
if command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    GPUCNN_TEST_GPU=1 compute-sanitizer --tool "$tool" --error-exitcode 9 \
      python -m pytest -q -x -p no:cacheprovider tests/cudasim -k "not engine" \
      >"$out/sanitizer-$tool.log" 2>&1
    echo "$tool exit $?: $(grep -E 'ERROR SUMMARY|passed|failed' "$out/sanitizer-$tool.log" | tail -2 | tr '\n' ' ')"
  done
else
  echo "compute-sanitizer not found" | tee "$out/sanitizer.log"
fi

echo "== PTX / register report"
python -m gpucnn.kernels.ptx_report --cc 9.0 2>&1 | tee "$out/ptx_report.txt" | tail -40

echo "== bench"
gpu=$(python -c "from numba import cuda; print(cuda.get_current_device().name.decode() if isinstance(cuda.get_current_device().name, bytes) else cuda.get_current_device().name)" | tr ' ' '-' | tr -cd 'A-Za-z0-9_.-')
gpucnn bench --device cuda --suite all --json "$out/${gpu}-$(date +%F).json" 2>&1 | tee "$out/bench.log" | tail -80
