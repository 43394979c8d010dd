"""Validity map of Theorem 4.1's onset time ``T0 = Theta~(m / (eta sqrt(d)))`` (Zhang et al. ICML 2024, §4).

Statistic: per replicate ``T0 eps`` with ``eps = eta sqrt(d) / m`` and ``T0`` the first step at
which the onset criterion holds (``fc_model.simulate.onset_steps``, evaluated at every step on
400 held-out samples); its median per cell with a distribution-free two-sided interval from the
order statistics at the per-cell level. A replicate that has not met the criterion by
``512 / eps`` steps (``T0 eps = 512``, 64 times the window's top) is censored: it enters as
``+inf`` (above every observed value, which keeps the order statistics valid) and the cell reports
its censored share. Threshold: the median of ``T0 eps`` lies within ``[0.5, 8]`` (``T0 eps`` was
1.6-2.6 over the suite's scaling grid; the window allows a factor 3-4 either way).
Axes: ``k_bg / k_core in {1/4, 1/2, 3/4, 1, 3/2, 2}`` (``k_core = 8``) x
``eps in {0.02, 0.04, 0.08, 0.16, 0.32}``, set by ``eta = eps m / sqrt(d) = eps / 2`` at ``m = 64``,
``d = 2^14``. 32 replicates per cell under ``default`` (128 under ``ci``: with 32 a fresh grid seed failed the ci map).
Declared region (``fc_check.maps.ONSET``): ReLU, ``eps <= 0.16``, ``sqrt(d) >= 8 k_core`` and
``k_bg < k_core`` (with more background than core coordinates the onset was seen to come about a
hundred times later). Every inside cell must HOLD. Along ``eps`` the map tells a finite-size
departure (shrinking as ``eps`` falls) from a boundary (not shrinking).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fc_check import stats
from fc_check.common import MakeModel
from fc_check.hypo import active_profile
from fc_check.maps import ONSET, Grid, measure, outcome
from fc_check.regimes import TheoryRegime, paper_model
from fc_check.verdict import Outcome
from fc_model import SGD
from fc_model.simulate import onset_steps

SPEC = ONSET
PROFILE = active_profile().name
GRID = SPEC.grid(PROFILE)
CENSOR_AT = 512.0  # T0 eps at which a replicate is censored (steps = CENSOR_AT / eps)


def onset_constants(make_model: MakeModel, p: dict[str, float], replicates: int, seed: int, device: str, censor_at: float = CENSOR_AT) -> np.ndarray:
    """Per replicate ``T0 eps`` at the cell's parameters (``+inf``: censored at ``T0 eps > censor_at``;
    the onset boundary censors at 8, the window's top, which is all it needs to know)."""
    regime = TheoryRegime(m=int(p["m"]), d=int(p["d"]), k_core=int(p["k_core"]), k_bg=int(p["k_bg"]), eta=p["eta"], batch=int(p["batch"]),
                          steps=0, replicates=replicates, seed=seed)
    sgd = SGD(eta=regime.eta, batch=regime.batch, steps=int(math.ceil(censor_at / regime.eps)), n_eval=400)
    t0 = onset_steps(make_model(regime), sgd, replicates, seed, device=device).cpu().numpy()
    return np.where(np.isnan(t0), np.inf, t0 * regime.eps)


def check_onset_map(make_model: MakeModel, grid: Grid, *, level: float, device: str) -> Outcome:
    def cell(x: float, y: float, p: dict[str, float]) -> tuple[stats.Interval, float]:
        v = onset_constants(make_model, p, grid.replicates, grid.seed, device)
        return stats.median_interval_by_order_statistics(v, level, "two-sided"), float(np.isinf(v).mean())

    # the order-statistic interval has no resolution in the statistic's units (it depends on the law): nan
    return outcome(SPEC, grid, measure(SPEC, grid, cell), level)


# A finding of the default grid (32 replicates per cell), recorded, not hidden: the test is a
# strict xfail there, so the day the map passes CI fails and the finding is looked at again.
FINDING = ("default grid: at k_bg / k_core = 1/4 (k_bg = 2) the median T0 eps is 0.80-0.96, inside [0.5, 8], but its interval reaches "
           "below 0.5 (0.38, 0.36, 0.40, 0.48 at eps = 0.02, 0.04, 0.08, 0.16): UNRESOLVED in 4 of 12 inside cells; the onset comes "
           "earlier with fewer background coordinates; the 8 other inside cells HOLD (medians 1.2-1.7)")


@pytest.mark.xfail(PROFILE == "default", reason=FINDING, strict=True)
def test_onset_map(fc) -> None:
    fc.check(check_onset_map, paper_model, GRID)
