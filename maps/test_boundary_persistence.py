"""Boundary of Theorem 4.1's persistence along ``k_bg / k_core`` (Zhang et al. ICML 2024, §4).

Statistic per replicate: success = the onset criterion (>= 25% of each class's own neurons with
``Delta_k >= 0.5``) is met at some checkpoint T0 and at every later one
(``fc_check.common.persists_from_onset``), training ``3 m / eta`` steps on the persistence map's
schedule (``maps/test_persistence.py``: every step up to ``8 / eps``, then 60 more checkpoints).
Boundary: the ``k_bg / k_core`` at which the share of successes crosses 1/2 (the map's threshold),
``k_core = 16`` (steps of 1/16), ``eta = 0.05``, ``d = 2^14``, at widths ``m`` (``ci``: 32, 64;
``default``: 32, 64, 128, 256; ``eps = 0.2, 0.1, 0.05, 0.025``). Located by a binomial GLM (logit,
linear in the axis) on the cells within 3/16 of the bracket, with Fieller's interval at the
per-interval level (``fc_check.boundaries``).
Asserted, for every width inside the theory's conditions (``eps <= 0.16``: ``m >= 64``): the
interval lies wholly outside the map's declared region ``k_bg < k_core`` (so at or above 1) and
its half-width is at most 1/8 (``ci``: 64-replicate batches, 8 per width, a 32-replicate coarse
pass) or 1/16 (``default``: 96-replicate batches). The rule: the finest of 1/16, 1/8, ... below
which the half-width falls in at least 95% of 100 synthetic series shaped after the prototype
(``fc_check.boundaries.locator_coverage``): 83% under 1/16 with the ci design, 99% under 1/8;
100% under 1/16 with the default design. Trend: the crossing against ``1/sqrt(m)``.
Prototype before the check (64 replicates per cell, one seed): shares 0.98, 0.48, 0.09, 0.00 at
``k_bg / k_core`` = 1/2, 3/4, 7/8, 1 (m = 64); 0.89, 0.81, 0.16, 0.00 at 1/2, 5/8, 3/4, 7/8 (m = 32);
0.92, 0.64, 0.23 at 5/8, 3/4, 7/8 (m = 128).
"""

from __future__ import annotations

import numpy as np
import pytest

from fc_check import boundaries
from fc_check.boundaries import PERSISTENCE, Design, Series
from fc_check.common import MakeModel, persists_from_onset
from fc_check.hypo import active_profile
from fc_check.regimes import TheoryRegime, paper_model, saturating_steps
from fc_check.verdict import Outcome
from fc_model import simulate
from maps.test_persistence import STEPS_FACTOR

SPEC = PERSISTENCE
PROFILE = active_profile().name
DESIGN = SPEC.design(PROFILE)


def regime_at(p: dict[str, float], replicates: int, seed: int, length: float = 1.0) -> TheoryRegime:
    """The persistence map's cell regime at ``p`` (``length``: a fraction of its training, for tests of the machinery only)."""
    steps = max(1, int(saturating_steps(int(p["m"]), p["eta"], STEPS_FACTOR) * length))
    return TheoryRegime(m=int(p["m"]), d=int(p["d"]), k_core=int(p["k_core"]), k_bg=int(round(p["k_bg"])), eta=p["eta"], batch=int(p["batch"]),
                        steps=steps, replicates=replicates, seed=seed)


def persistence_sampler(make_model: MakeModel, device: str, length: float = 1.0) -> boundaries.Sampler:
    """Per replicate, whether the onset criterion persists from T0 on, at axis value ``x`` of ``series``."""
    def sample(x: float, series: Series, replicates: int, seed: int) -> np.ndarray:
        regime = regime_at(SPEC.params(x, series), replicates, seed, length)
        return persists_from_onset(simulate(make_model(regime), regime.sgd(), replicates, seed, device=device))

    return sample


def check_persistence_boundary(make_model: MakeModel, design: Design, *, level: float, device: str, length: float = 1.0,
        pools: boundaries.CellPools | None = None) -> Outcome:
    return boundaries.check(SPEC, design, boundaries.drawn_from(pools, persistence_sampler(make_model, device, length)), level)


# A finding, recorded, not hidden: the test is a strict xfail where it was measured, so the day the
# boundary clears the region CI fails and the finding is looked at again.
FINDINGS = {
    "ci": ("ci design: at m = 64 the persistence share crosses 1/2 at k_bg / k_core = 0.748 [0.711, 0.785] (Fieller, binomial GLM, 352 replicates "
           "in the fit window), inside the declared region k_bg < k_core; at m = 32 (eps = 0.2, outside the theory's conditions) 0.676 [0.640, 0.722]; "
           "trend against 1/sqrt(m) FINITE-SIZE: slope -1.40 [-2.33, -0.46], limit m -> inf 0.92 [0.78, 1.06]"),
    "default": ("default design: the persistence share crosses 1/2 at k_bg / k_core = 0.762 [0.732, 0.809] (m = 64), 0.807 [0.776, 0.832] (m = 128), "
                "0.823 [0.780, 0.855] (m = 256), every one inside the declared region k_bg < k_core (m = 32, eps = 0.2: 0.668 [0.638, 0.705]); "
                "trend against 1/sqrt(m) FINITE-SIZE: slope -1.41 [-2.21, -0.61], limit m -> inf 0.93 [0.83, 1.02], the straight line misfitting "
                "(chi2 9.7 on 2 df: the crossing's rise slows faster than 1/sqrt(m), 0.094, 0.045, 0.016 per doubling)"),
}


@pytest.mark.xfail(PROFILE in FINDINGS, reason=FINDINGS.get(PROFILE, ""), strict=True)
def test_persistence_boundary(fc) -> None:
    fc.check(check_persistence_boundary, paper_model, DESIGN)
