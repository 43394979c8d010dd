"""Activation dose-response (mechanism, ``docs/catalogue.md#dose-response-leaky-slope``); Zhang et al. ICML 2024, §4-5.

Contamination comes from the activation's asymmetry: replacing ReLU by LeakyReLU with slope
``s`` interpolates between ReLU (``s = 0``) and the identity (``s = 1``), and the
contamination ratio ``mean|G_k| / mean C_k`` should fall with ``s``, to about 0 at ``s = 1``.
On the same seeds for every slope:

* slope of the ratio on the rank of ``s`` (OLS, errors clustered by replicate) < 0;
* ratio at ``s = 0`` >= 0.2; ratio at ``s = 1`` <= 0.05.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import example, given

from fc_check import stats
from fc_check.common import contamination_ratio, mean_at_least, mean_at_most
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import TheoryRegime, paper_regime, run, theory_regimes
from fc_check.verdict import Outcome, Plot, at_most
from fc_model import Activation, TheoryModel

R = active_profile().replicates
SLOPES = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0)
REGIMES = theory_regimes(replicates=R)
PAPER = paper_regime(R)
LeakyModel = Callable[[TheoryRegime, float], TheoryModel]


def leaky_model(regime: TheoryRegime, slope: float) -> TheoryModel:
    return regime.model(Activation("leaky_relu", slope))


def check_dose_response(make_model: LeakyModel, regime: TheoryRegime, *, level: float, device: str, slopes: tuple[float, ...] = SLOPES,
                        at_zero_min: float = 0.2, at_one_max: float = 0.05) -> Outcome:
    ratios = [contamination_ratio(run(make_model(regime, s), regime.sgd(), regime.replicates, regime.seed, device)) for s in slopes]
    n = regime.replicates
    iv, se = stats.trend_interval_by_clustered_ols(np.concatenate(ratios), np.repeat(np.arange(len(slopes)), n), np.tile(np.arange(n), len(slopes)), level, "upper")
    claim = "dose-response/leaky-slope"
    f1 = at_most(claim, "slope of contamination ratio on the rank of the leaky slope", iv, 0.0, stats.min_margin_resolvable_by_normal(se, level, "upper", df=iv.n - 1),
                 note=f"slopes {slopes}")
    f2 = mean_at_least(claim, f"contamination ratio at slope {slopes[0]:g}", ratios[0], at_zero_min, level)
    f3 = mean_at_most(claim, f"contamination ratio at slope {slopes[-1]:g}", ratios[-1], at_one_max, level)

    def draw(ax) -> None:  # noqa: ANN001
        ax.errorbar(slopes, [r.mean() for r in ratios], yerr=[r.std(ddof=1) for r in ratios], marker="o", capsize=3)
        ax.set_xlabel("LeakyReLU slope")
        ax.set_ylabel("mean|G| / mean C (mean, sd over replicates)")

    return Outcome([f1, f2, f3], {**regime.as_dict(), "slopes": list(slopes)}, regime.seed, [Plot(claim, "Contamination ratio against the LeakyReLU slope", draw)])


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_dose_response(fc, regime: TheoryRegime) -> None:
    fc.check(check_dose_response, leaky_model, regime)
