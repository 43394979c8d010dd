#!/usr/bin/env bash
# One-call check on a CUDA machine with no network: python3 with a CUDA build of torch, pytest,
# pytest-xdist, hypothesis, statsmodels, scipy, matplotlib and jinja2 already installed.
# Run from the repository root: `bash benchmarks/device_check.sh`. Nothing is installed.
# Stages are capped so that the whole run stays within 8 minutes; each stage's exit status is
# printed at the end. Results go to $OUT (default ./device-check): results.json, index.html,
# benchmark.json, t0-results.json and a log of every stage (8 files; 10 with CALIBRATE=1, one more with HEAVY_POWER=1).
# THOROUGH=1 also runs `pytest theorems --fc-profile thorough` (the <= 10 min goal) after the rest.
# CALIBRATE=1 also runs the calibration study on the device (`python -m fc_check.calibrate --profile default`)
# into the claim report, which then shows "How far to trust a verdict"; calibration.json goes to $OUT.
# HEAVY_POWER=1 also measures power along the costly families' departures (benchmarks/heavy_power.sh,
# capped at 10 minutes: whatever it finished is lost if it is cut, so take one family with
# HEAVY_POWER_ARGS="--claims deep/" and the like); its calibration.json goes to $OUT/heavy-power.json.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=. PYTHONUNBUFFERED=1
OUT="${OUT:-device-check}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"  # reports are built here; only the files named below go to $OUT (at most 8)
REPORT="$WORK/report"
declare -A STATUS
stage() {  # stage NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  echo "=== $name (limit ${limit}s): $*"
  local t0=$SECONDS
  timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.log" | tail -40
  local rc=${PIPESTATUS[0]}
  STATUS[$name]="rc=$rc $((SECONDS - t0))s"
}
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA'; print(torch.__version__, torch.cuda.get_device_name(0), torch.cuda.device_count(), 'device(s)')" || exit 2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
# 1. unit tests on CUDA (the mutants and tests/test_cuda.py use the device; the CPU guard runs on CPU)
stage unit 90 python3 -m pytest tests -q -n 4 --fc-profile ci --fc-device cuda --fc-report "$WORK/unit-report" -p no:randomly
# 2. the claim suite, four workers sharing one GPU
stage claims 160 python3 -m pytest theorems properties maps -q -n 4 --fc-profile ci --fc-device cuda --fc-report "$REPORT"
# 3. the benchmark on CUDA (the general setting at the authors' 20 000 iterations)
stage benchmark 140 python3 benchmarks/simulator.py --device cuda --general-iterations 20000 --repeats 1 --json "$OUT/benchmark.json"
# 4. Theorem 4.1's T0 scaling under the thorough profile, once
stage t0_thorough 90 python3 -m pytest theorems/test_theorem_4_1.py::test_t0_scaling -q --fc-profile thorough --fc-device cuda --fc-report "$WORK/t0-report"
if [ "${THOROUGH:-0}" = 1 ]; then
  stage theorems_thorough 600 python3 -m pytest theorems -q -n 4 --fc-profile thorough --fc-device cuda --fc-report "$WORK/thorough-report"
fi
if [ "${CALIBRATE:-0}" = 1 ]; then
  stage calibrate 600 python3 -m fc_check.calibrate --profile default --device cuda --out "$REPORT" --from-report "$REPORT"
  cp "$REPORT/calibration.json" "$OUT/calibration.json" 2>/dev/null
fi
if [ "${HEAVY_POWER:-0}" = 1 ]; then
  # shellcheck disable=SC2086 # HEAVY_POWER_ARGS is a list of arguments
  stage heavy_power 600 env PYTHON=python3 DEVICE=cuda OUT="$WORK/heavy-power" bash benchmarks/heavy_power.sh ${HEAVY_POWER_ARGS:-}
  cp "$WORK/heavy-power/calibration.json" "$OUT/heavy-power.json" 2>/dev/null
fi
cp "$REPORT/results.json" "$OUT/results.json" 2>/dev/null
cp "$REPORT/index.html" "$OUT/index.html" 2>/dev/null
cp "$WORK/t0-report/results.json" "$OUT/t0-results.json" 2>/dev/null
echo "=== stages"
for k in "${!STATUS[@]}"; do echo "$k ${STATUS[$k]}"; done
