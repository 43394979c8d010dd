"""Validity map of Theorem 4.2's contamination ratio (Zhang et al. ICML 2024, §4).

Statistic: per replicate ``mean_k |G_k| / mean_k C_k`` (learned background over learned own-core
correlation) at the end of 6000 SGD steps, a two-sided t interval per cell at the per-cell level.
Threshold: >= 0.2 (the bound the suite's Theorem 4.2 check asserts).
Axes: LeakyReLU slope ``s in {0, 0.1, 0.25, 0.5, 0.75, 0.9, 1}`` (``s = 0`` is ReLU) x
``k_bg in {2, 4, 8, 16, 32}`` with ``k_core = 8``; everything else at the paper-like regime
(``m = 64``, ``d = 2^14``, ``eta = 0.05``, ``B = 32``, ``eps = 0.1``).
Declared region (``fc_check.maps.CONTAMINATION``): ReLU and ``k_bg / k_core <= 2``. The theorem
is about ReLU; the ratio falls as background coordinates outnumber core ones (0.17 at
``k_bg = 32`` was measured before this map), so 0.2 is claimed only up to twice as many.
Every inside cell must HOLD. The OOD-gap map reads the same training runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from fc_check import stats
from fc_check.common import contamination_ratio, ood_gap
from fc_check.hypo import active_profile
from fc_check.maps import CONTAMINATION, Grid, MapSpec, cell_interval_by_t, cell_statistic, measure, outcome
from fc_check.regimes import TheoryRegime
from fc_check.verdict import Outcome
from fc_model import SGD, Activation, Schedule, TheoryModel, simulate

SPEC = CONTAMINATION
GRID = SPEC.grid(active_profile().name)
STEPS = 6000  # the ID risk has saturated by then at m = 64, eta = 0.05 (about 5 m / eta)

SlopeModel = Callable[[TheoryRegime, float], TheoryModel]


def slope_model(regime: TheoryRegime, slope: float) -> TheoryModel:
    """ReLU at slope 0 (the theory's network), LeakyReLU(slope) otherwise."""
    return regime.model(Activation("relu") if slope == 0 else Activation("leaky_relu", slope))


@lru_cache(maxsize=4)
def final_statistics(make_model: SlopeModel, grid: Grid, params: Callable[[float, float], dict[str, float]], device: str) -> dict[tuple[float, float], tuple[np.ndarray, np.ndarray]]:
    """Per cell, the per-replicate contamination ratio and paired OOD - ID hinge gap of one
    training run (memoised: the contamination and OOD-gap maps read the same runs)."""
    out = {}
    for x, y in grid.cells():
        p = params(x, y)
        regime = TheoryRegime(m=p["m"], d=p["d"], k_core=p["k_core"], k_bg=p["k_bg"], eta=p["eta"], batch=p["batch"], steps=STEPS, replicates=grid.replicates, seed=grid.seed)
        # only the end of training is read: checkpoints at 0 (the reference of learned correlations) and the last step
        sgd = SGD(eta=regime.eta, batch=regime.batch, steps=STEPS, schedule=Schedule(dense_until=0, every=STEPS))
        traj = simulate(make_model(regime, p["slope"]), sgd, grid.replicates, grid.seed, device=device)
        out[(x, y)] = (contamination_ratio(traj), ood_gap(traj))
    return out


def check_map_of(spec: MapSpec, index: int, make_model: SlopeModel, grid: Grid, *, level: float, device: str) -> Outcome:
    """The map ``spec`` of the ``index``-th per-replicate statistic of ``final_statistics``."""
    values = final_statistics(make_model, grid, spec.params, device)

    def cell(x: float, y: float, p: dict[str, float]) -> tuple[stats.Interval, float]:
        return cell_interval_by_t(spec.claim, cell_statistic(grid, x, y), values[(x, y)][index], level), 0.0

    cells = measure(spec, grid, cell)
    resolution = max(stats.min_margin_resolvable_by_t(grid.replicates, float(np.std(values[(c.x, c.y)][index], ddof=1)), level, "two-sided") for c in cells if c.inside)
    return outcome(spec, grid, cells, level, resolution if math.isfinite(resolution) else math.nan)


def check_contamination_map(make_model: SlopeModel, grid: Grid, *, level: float, device: str) -> Outcome:
    return check_map_of(SPEC, 0, make_model, grid, level=level, device=device)


def test_contamination_map(fc) -> None:
    fc.check(check_contamination_map, slope_model, GRID)
