"""Boundary of Theorem 4.2's contamination ratio along the LeakyReLU slope (Zhang et al. ICML 2024, §4).

Statistic per replicate: ``mean_k |G_k| / mean_k C_k`` at the end of training
(``fc_check.common.contamination_ratio``), trained as the contamination map's cells
(``maps/test_contamination.py``: 6000 steps at ``m = 64``, here scaled with the width, ``6000 m / 64``),
``k_core = 8``. Boundary: the slope ``s`` at which the ratio's mean crosses 0.2 (the map's threshold)
at ``k_bg / k_core`` = 1/2, 1, 2 (``m = 64``), and at ``k_bg / k_core = 1`` for the width trend
(``ci``: m = 32, 64; ``default``: 32, 64, 128, 256). Located by weighted least squares of the cell
means (weights: replicates per cell; each cell's own variance), quadratic in the slope, on the cells
within 1/8 of the bracket, with Fieller's interval (Welch-Satterthwaite t) at the per-interval level.
Asserted, for every series inside the theory's conditions (``k_bg / k_core <= 2``, ``eps <= 0.16``):
the interval lies wholly outside the map's declared region (ReLU: slope 0), so above 0, with
half-width at most 0.05 in slope (the issue's unit; the synthetic series shaped after the
prototype had half-widths of about 4e-4 at ci's level). Trend: against ``1/sqrt(m)``.
Prototype before the check (16 replicates per cell, m = 64): 0.277, 0.222, 0.167, 0.112, 0.056 at
slopes 0.75, 0.8, 0.85, 0.9, 0.95 (``k_bg = 4``), 0.275, 0.222, 0.167, 0.112, 0.056 (``k_bg = 8``),
0.240, 0.214, 0.166, 0.112, 0.056 (``k_bg = 16``); standard errors about 1e-4; at ``k_bg = 8``:
0.2225, 0.1677 at 0.8, 0.85 with m = 32 and 0.2228, 0.1678 with m = 128.
"""

from __future__ import annotations

import numpy as np

from fc_check import boundaries
from fc_check.boundaries import CONTAMINATION, Design, Series
from fc_check.common import contamination_ratio
from fc_check.hypo import active_profile
from fc_check.maps import PAPER
from fc_check.regimes import TheoryRegime
from fc_check.verdict import Outcome
from fc_model import SGD, Schedule, simulate
from maps.test_contamination import STEPS, SlopeModel, slope_model

SPEC = CONTAMINATION
PROFILE = active_profile().name
DESIGN = SPEC.design(PROFILE)


def final_run(make_model: SlopeModel, p: dict[str, float], replicates: int, seed: int, device: str, length: float = 1.0):  # noqa: ANN201 - a Trajectory
    """The contamination map's training run at ``p``, its length scaled with the width (``length``: a fraction, for tests of the machinery only)."""
    steps = max(1, int(round(STEPS * p["m"] / PAPER["m"] * length)))
    regime = TheoryRegime(m=int(p["m"]), d=int(p["d"]), k_core=int(p["k_core"]), k_bg=int(round(p["k_bg"])), eta=p["eta"], batch=int(p["batch"]),
                          steps=steps, replicates=replicates, seed=seed)
    # only the end of training is read: checkpoints at 0 (the reference of learned correlations) and the last step
    sgd = SGD(eta=regime.eta, batch=regime.batch, steps=steps, schedule=Schedule(dense_until=0, every=steps))
    return simulate(make_model(regime, p["slope"]), sgd, replicates, seed, device=device)


def contamination_sampler(make_model: SlopeModel, device: str, length: float = 1.0) -> boundaries.Sampler:
    def sample(x: float, series: Series, replicates: int, seed: int) -> np.ndarray:
        return contamination_ratio(final_run(make_model, SPEC.params(x, series), replicates, seed, device, length))

    return sample


def check_contamination_boundary(make_model: SlopeModel, design: Design, *, level: float, device: str, length: float = 1.0,
        pools: boundaries.CellPools | None = None) -> Outcome:
    return boundaries.check(SPEC, design, boundaries.drawn_from(pools, contamination_sampler(make_model, device, length)), level)


def test_contamination_boundary(fc) -> None:
    fc.check(check_contamination_boundary, slope_model, DESIGN)
