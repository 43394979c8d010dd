"""Theorem 4.4 (linear networks), Zhang et al. ICML 2024, §4.

With the identity activation, the background contributions of the two classes cancel in the
expected gradient (Figure 2, right), so a linear network learns no background feature and
its OOD risk equals its ID risk. On identical seeds, ReLU contaminates where the linear
network does not. Statistics (per replicate, t intervals):

* ``no-contamination``: ``mean_k |G_k| / mean_k C_k`` for the linear network, <= 0.05.
* ``no-ood-gap``: paired OOD minus ID hinge risk, inside +-0.02.
* ``relu-contrast``: paired ReLU-minus-linear contamination ratio, >= 0.2.
"""

from __future__ import annotations

from hypothesis import example, given

from fc_check.common import MakeModel, contamination_ratio, mean_at_least, mean_at_most, mean_inside, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import TheoryRegime, paper_model, paper_regime, theory_regimes, train
from fc_check.verdict import Outcome
from fc_model import Activation, TheoryModel

R = active_profile().replicates
REGIMES = theory_regimes(replicates=R)
PAPER = paper_regime(R)


def linear_model(regime: TheoryRegime) -> TheoryModel:
    return regime.model(Activation("identity"))



def check_no_contamination(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.05) -> Outcome:
    x = contamination_ratio(train(make_model, regime, device))
    return Outcome([mean_at_most("theorem-4.4/no-contamination", "mean|G_k| / mean C_k (linear network)", x, threshold, level)], regime.as_dict(), regime.seed)


def check_no_ood_gap(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, tolerance: float = 0.02) -> Outcome:
    fin = train(make_model, regime, device).final
    gap = per_replicate(fin["hinge_ood"]) - per_replicate(fin["hinge_id"])
    return Outcome([mean_inside("theorem-4.4/no-ood-gap", "paired OOD - ID hinge risk (linear network)", gap, -tolerance, tolerance, level)], regime.as_dict(), regime.seed)


def check_relu_contrast(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.2) -> Outcome:
    diff = contamination_ratio(train(paper_model, regime, device)) - contamination_ratio(train(make_model, regime, device))
    return Outcome([mean_at_least("theorem-4.4/relu-contrast", "paired ReLU - linear contamination ratio", diff, threshold, level)], regime.as_dict(), regime.seed)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_no_contamination(fc, regime: TheoryRegime) -> None:
    fc.check(check_no_contamination, linear_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_no_ood_gap(fc, regime: TheoryRegime) -> None:
    fc.check(check_no_ood_gap, linear_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_relu_contrast(fc, regime: TheoryRegime) -> None:
    fc.check(check_relu_contrast, linear_model, regime)
