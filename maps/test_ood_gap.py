"""Validity map of Theorem 4.3's OOD gap (Zhang et al. ICML 2024, §4).

Statistic: per replicate the paired OOD minus ID hinge risk (same labels and core draws, the
background shifted from ``U[0,1]`` to ``-U[0,1]``) at the end of training, a two-sided t interval
per cell at the per-cell level. Threshold: >= 0.2 (the suite's Theorem 4.3 bound).
Axes and training runs: those of the contamination-ratio map (LeakyReLU slope x ``k_bg``,
``k_core = 8``, 6000 steps at the paper-like regime); the runs are shared, not repeated.
Declared region (``fc_check.maps.OOD_GAP``): ReLU and ``1/2 <= k_bg / k_core <= 2``. With fewer
background coordinates the gap is real but smaller than 0.2 (0.12 at ``k_bg = 2`` was measured
before this map); with more, the contamination bound behind the gap is not claimed.
Every inside cell must HOLD.
"""

from __future__ import annotations

from fc_check.hypo import active_profile
from fc_check.maps import OOD_GAP, Grid
from fc_check.verdict import Outcome
from maps.test_contamination import SlopeModel, check_map_of, slope_model

SPEC = OOD_GAP
GRID = SPEC.grid(active_profile().name)


def check_ood_gap_map(make_model: SlopeModel, grid: Grid, *, level: float, device: str) -> Outcome:
    return check_map_of(SPEC, 1, make_model, grid, level=level, device=device)


def test_ood_gap_map(fc) -> None:
    fc.check(check_ood_gap_map, slope_model, GRID)
