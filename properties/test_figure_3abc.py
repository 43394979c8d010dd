"""Figure 3 (a)-(c), Zhang et al. ICML 2024, §5 (numerical results), in the theory setting.

(a) ID risk goes to about 0 while OOD risk stays high; (b) the mean activation asymmetry rises
from about 0; (c) the correlations with core and with background features both rise.
Per replicate, t intervals; the curves are drawn with replicate bands.

* ``figure-3a``: ID hinge risk at the end <= 0.05; OOD hinge risk at the end >= 0.2.
* ``figure-3b``: neuron-mean ``Delta_k`` at the end >= 0.3; its rise from t = 0 >= 0.3 (paired).
* ``figure-3c``: neuron-mean own-core and background correlation at the end minus at t = 0, > 0.
"""

from __future__ import annotations

from hypothesis import example, given

from fc_check.common import MakeModel, history, mean_at_least, mean_at_most, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.plots import curves
from fc_check.regimes import TheoryRegime, paper_model, paper_regime, theory_regimes, train
from fc_check.verdict import Outcome, Plot

R = active_profile().replicates
REGIMES = theory_regimes(replicates=R)
PAPER = paper_regime(R)



def check_figure_3a(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, id_max: float = 0.05, ood_min: float = 0.2) -> Outcome:
    traj = train(make_model, regime, device)
    f1 = mean_at_most("figure-3a", "ID hinge risk at the end", per_replicate(traj.final["hinge_id"]), id_max, level)
    f2 = mean_at_least("figure-3a", "OOD hinge risk at the end", per_replicate(traj.final["hinge_ood"]), ood_min, level)
    plot = Plot("figure-3a", "(a) ID and OOD hinge risk", curves({"ID": history(traj, "hinge_id"), "OOD": history(traj, "hinge_ood")}, traj.steps, "hinge risk", logx=True))
    return Outcome([f1, f2], regime.as_dict(), regime.seed, [plot])


def check_figure_3b(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, final_min: float = 0.3, rise_min: float = 0.3) -> Outcome:
    traj = train(make_model, regime, device)
    end, start = per_replicate(traj.final["delta"]), per_replicate(traj.initial["delta"])
    f1 = mean_at_least("figure-3b", "mean Delta_k at the end", end, final_min, level)
    f2 = mean_at_least("figure-3b", "rise of mean Delta_k from t = 0 (paired)", end - start, rise_min, level)
    plot = Plot("figure-3b", "(b) activation asymmetry", curves({"mean Delta_k": history(traj, "delta"), "p(own class)": history(traj, "p_own"),
                                                                "p(other class)": history(traj, "p_other")}, traj.steps, "rate", logx=True))
    return Outcome([f1, f2], regime.as_dict(), regime.seed, [plot])


def check_figure_3c(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str) -> Outcome:
    traj = train(make_model, regime, device)
    f1 = mean_at_least("figure-3c", "rise of own-core correlation", per_replicate(traj.final["own_core"]), 0.0, level, strict=True)
    f2 = mean_at_least("figure-3c", "rise of background correlation", per_replicate(traj.final["background"]), 0.0, level, strict=True)
    plot = Plot("figure-3c", "(c) learned correlations with core and background features",
                curves({"own core": history(traj, "own_core"), "background": history(traj, "background")}, traj.steps, "learned correlation", logx=True))
    return Outcome([f1, f2], regime.as_dict(), regime.seed, [plot])


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_figure_3a(fc, regime: TheoryRegime) -> None:
    fc.check(check_figure_3a, paper_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_figure_3b(fc, regime: TheoryRegime) -> None:
    fc.check(check_figure_3b, paper_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_figure_3c(fc, regime: TheoryRegime) -> None:
    fc.check(check_figure_3c, paper_model, regime)
