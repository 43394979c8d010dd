#!/usr/bin/env bash
# Power along the departures of the costly families (deep networks, the CNN, digits and its
# representation figures, distillation, the general setting's Figure 3(d), the T0 fit, the
# persistence and onset maps, the boundaries), which the ci calibration study leaves out for its
# wall time. Hours on 2 CPU cores; meant for a GPU: `DEVICE=cuda bash benchmarks/heavy_power.sh`.
# Writes $OUT/calibration.json (default reports/heavy-power); then
# `python -m fc_check.calibrate --merge-from reports/heavy-power/calibration.json` adds its curves to the
# ci study's reports/calibration.json, and the report shows them. Extra arguments go to
# python -m fc_check.calibrate (e.g. --claims deep/ to take one family).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
OUT="${OUT:-reports/heavy-power}"
exec "$PY" -m fc_check.calibrate --profile ci --device "${DEVICE:-cpu}" --out "$OUT" \
  --power-along general-slope cnn-border-chroma border-mean distillation-shift distillation-nonlinear fewer-iterations init-exponent \
                label-noise init-scale background-mean \
  --claims deep/ figure-3abc/theory-matching figure-3d/ digits/ distillation/ theorem-4.1/t0-scaling map/theorem-4.1/ boundary/ "$@"
