"""Theorem 4.3 (ID and OOD risks), Zhang et al. ICML 2024, §4.

After training, the ID risk is small while the OOD risk (background shifted from ``U[0,1]``
to ``-U[0,1]``) stays a constant above it, and the OOD error grows with the number of
background features relative to core features. Statistics (per replicate, t intervals):

* ``id-risk``: ID hinge risk at the end (eval set), <= 0.05.
* ``ood-gap``: paired OOD minus ID hinge risk on the same labels and core draws, >= 0.2.
* ``ood-error-grows-with-background``: slope of the OOD 0-1 error on the rank of
  ``k_bg / k_core`` (OLS, errors clustered by replicate seed), > 0.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given

from fc_check import stats
from fc_check.common import MakeModel, history, mean_at_least, mean_at_most, ood_gap, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.plots import curves
from fc_check.regimes import TheoryRegime, paper_model, paper_regime, theory_regimes, train
from fc_check.verdict import Outcome, Plot, at_least

R = active_profile().replicates
REGIMES = theory_regimes(replicates=R)
PAPER = paper_regime(R)
BACKGROUND_LEVELS = (4, 8, 16, 24)


def check_id_risk(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.05) -> Outcome:
    traj = train(make_model, regime, device)
    f = mean_at_most("theorem-4.3/id-risk", "ID hinge risk at the end", per_replicate(traj.final["hinge_id"]), threshold, level)
    plot = Plot("theorem-4.3/id-risk", "ID and OOD hinge risk over training", curves(
        {"ID": history(traj, "hinge_id"), "OOD": history(traj, "hinge_ood")}, traj.steps, "hinge risk"))
    return Outcome([f], regime.as_dict(), regime.seed, [plot])


def check_ood_gap(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.2) -> Outcome:
    gap = ood_gap(train(make_model, regime, device))
    return Outcome([mean_at_least("theorem-4.3/ood-gap", "paired OOD - ID hinge risk", gap, threshold, level)], regime.as_dict(), regime.seed)


def check_ood_error_grows(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, levels: tuple[int, ...] = BACKGROUND_LEVELS) -> Outcome:
    values, ranks, groups, means = [], [], [], []
    for i, k_bg in enumerate(levels):
        reg = regime.with_(k_bg=k_bg)
        err = per_replicate(train(make_model, reg, device).final["err_ood"])
        values.append(err)
        ranks.append(np.full(err.size, i))
        groups.append(np.arange(err.size))
        means.append(err)
    iv, se = stats.trend_interval_by_clustered_ols(np.concatenate(values), np.concatenate(ranks), np.concatenate(groups), level, "lower")
    f = at_least("theorem-4.3/ood-error-grows-with-background", "slope of OOD 0-1 error on rank of k_bg/k_core", iv, 0.0,
                 stats.min_margin_resolvable_by_normal(se, level, "lower", df=iv.n - 1), note=f"k_bg levels {levels}, k_core {regime.k_core}", strict=True)

    def draw(ax) -> None:  # noqa: ANN001
        ratios = [k / regime.k_core for k in levels]
        ax.errorbar(ratios, [m.mean() for m in means], yerr=[m.std(ddof=1) for m in means], marker="o", capsize=3)
        ax.set_xlabel("k_bg / k_core")
        ax.set_ylabel("OOD 0-1 error (mean, sd over replicates)")

    return Outcome([f], {**regime.as_dict(), "k_bg_levels": list(levels)}, regime.seed, [Plot(f.claim, "OOD error against k_bg / k_core", draw)])


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_id_risk(fc, regime: TheoryRegime) -> None:
    fc.check(check_id_risk, paper_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_ood_gap(fc, regime: TheoryRegime) -> None:
    fc.check(check_ood_gap, paper_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_ood_error_grows_with_background(fc, regime: TheoryRegime) -> None:
    fc.check(check_ood_error_grows, paper_model, regime)
