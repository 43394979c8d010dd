"""Boundary of Theorem 4.3's OOD gap on the small-background side (Zhang et al. ICML 2024, §4).

Statistic per replicate: the paired OOD minus ID hinge risk at the end of training
(``fc_check.common.ood_gap``; same labels and core draws, background ``U[0,1]`` -> ``-U[0,1]``),
ReLU, trained as the contamination map's cells (6000 steps at ``m = 64``, scaled with the width).
Boundary: the ``k_bg / k_core`` (``k_core = 16``, steps of 1/16) at which the gap's mean crosses 0.2
(the map's threshold), at widths ``m`` (``ci``: 32, 64; ``default``: 32, 64, 128, 256). Located by
weighted least squares of the cell means, quadratic in the axis, on the cells within 3/16 of the
bracket, with Fieller's interval (Welch-Satterthwaite t) at the per-interval level.
Asserted, for every width inside the theory's conditions (``eps <= 0.16``): the interval lies wholly
outside the map's declared region ``1/2 <= k_bg / k_core <= 2``, so below 1/2, with half-width at
most 1/16 (the synthetic series shaped after the prototype had half-widths of about 0.01 at ci's
level). Trend: against ``1/sqrt(m)``.
Prototype before the check (m = 64, 16 replicates per cell): gaps 0.099, 0.140, 0.182, 0.222, 0.261
at ``k_bg / k_core`` = 4/16 ... 8/16, standard errors about 0.002.
"""

from __future__ import annotations

import numpy as np

from fc_check import boundaries
from fc_check.boundaries import OOD_GAP, Design, Series
from fc_check.common import MakeModel, ood_gap
from fc_check.hypo import active_profile
from fc_check.regimes import TheoryRegime, paper_model
from fc_check.verdict import Outcome
from maps.test_boundary_contamination import final_run

SPEC = OOD_GAP
PROFILE = active_profile().name
DESIGN = SPEC.design(PROFILE)


def gap_sampler(make_model: MakeModel, device: str, length: float = 1.0) -> boundaries.Sampler:
    def relu(regime: TheoryRegime, slope: float):  # noqa: ANN202 - the run's model at slope 0 (ReLU)
        return make_model(regime)

    def sample(x: float, series: Series, replicates: int, seed: int) -> np.ndarray:
        return ood_gap(final_run(relu, SPEC.params(x, series), replicates, seed, device, length))

    return sample


def check_ood_gap_boundary(make_model: MakeModel, design: Design, *, level: float, device: str, length: float = 1.0,
        pools: boundaries.CellPools | None = None) -> Outcome:
    return boundaries.check(SPEC, design, boundaries.drawn_from(pools, gap_sampler(make_model, device, length)), level)


def test_ood_gap_boundary(fc) -> None:
    fc.check(check_ood_gap_boundary, paper_model, DESIGN)
