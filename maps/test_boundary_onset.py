"""Boundary of Theorem 4.1's onset time along ``k_bg / k_core``: the late-onset jump (Zhang et al. ICML 2024, §4).

Statistic per replicate: whether ``T0 eps > 8`` (``T0`` from ``fc_model.simulate.onset_steps``,
evaluated at every step on 400 held-out samples, as the onset map's cells: ``maps/test_onset.py``,
``onset_constants``, here censored at ``T0 eps = 8``: a replicate not meeting the criterion by
``8 / eps`` steps is late). The median of ``T0 eps`` leaves the map's window ``[1/2, 8]`` upward
exactly where this share crosses 1/2, so the boundary is that crossing, along ``k_bg / k_core`` with
``k_core = 16`` (steps of 1/16), ``eta = 0.05``, ``d = 2^14``, at widths ``m`` (``ci``: 32, 64;
``default``: 32, 64, 128, 256). Located by a binomial GLM (logit, quadratic in the axis) on the
cells within 3/16 of the bracket, with Fieller's interval at the per-interval level.
Asserted, for every width inside the theory's conditions (``eps <= 0.16``): the interval lies wholly
outside the map's declared region ``k_bg < k_core`` (at or above 1), with half-width at most 1/16
(the rule of the persistence boundary: 100 of 100 synthetic series shaped after the prototype had a
half-width under 1/16 with the ci design and with the default one). Trend: against ``1/sqrt(m)``.
Prototype before the check (one seed): late shares 0.00, 0.04, 0.51, 0.80, 0.91 at ``k_bg / k_core``
= 1, 9/8, 5/4, 11/8, 3/2 (m = 64, 128 replicates) and 0.00, 0.13, 0.72, 0.93, 1.00 (m = 128); with 512
replicates at m = 64: 0.035, 0.115, 0.293, 0.568, 0.734, 0.828, 0.896 at 17/16 ... 23/16. The logit
rises by about 1.2 per step below the crossing and 0.6 above it: hence the quadratic.
"""

from __future__ import annotations

import numpy as np

from fc_check import boundaries
from fc_check.boundaries import ONSET, Design, Series
from fc_check.common import MakeModel
from fc_check.hypo import active_profile
from fc_check.regimes import paper_model
from fc_check.verdict import Outcome
from maps.test_onset import onset_constants

SPEC = ONSET
PROFILE = active_profile().name
DESIGN = SPEC.design(PROFILE)
LATE = 8.0  # the top of the onset map's window [1/2, 8] for T0 eps


def onset_sampler(make_model: MakeModel, device: str) -> boundaries.Sampler:
    """Per replicate, whether ``T0 eps > 8`` at axis value ``x`` of ``series``."""
    def sample(x: float, series: Series, replicates: int, seed: int) -> np.ndarray:
        p = SPEC.params(x, series)
        p["k_bg"] = round(p["k_bg"])
        return onset_constants(make_model, p, replicates, seed, device, censor_at=LATE) > LATE

    return sample


def check_onset_boundary(make_model: MakeModel, design: Design, *, level: float, device: str,
        pools: boundaries.CellPools | None = None) -> Outcome:
    return boundaries.check(SPEC, design, boundaries.drawn_from(pools, onset_sampler(make_model, device)), level)


def test_onset_boundary(fc) -> None:
    fc.check(check_onset_boundary, paper_model, DESIGN)
