"""Figure 3 (a)-(c), Zhang et al. ICML 2024, §5, in the authors' theory-matching configuration of
the general setting (facts from their public script ``toy.py`` and its README, GitHub repository
trzhang0116/feature-contamination; see ``fc_model.general``): hinge loss, SGD with momentum 0.9
(learning rate 1e-3, weight decay 1e-3), full batch on n = 1 000 points, the signed core (32
coordinates ``U[0,1]`` for class +1, ``-U[0,1]`` for class -1), 32 background coordinates
``U(0,1)`` in training and ``-U(0,1)`` at test behind a random orthogonal map into 256 dimensions,
ReLU, width 256 with biases, the output layer frozen at ``+-1/256`` (its bias frozen at its
initial draw, as the script's ``requires_grad = False`` leaves it).

Per replicate (one number each), t intervals over replicates at the suite's per-interval level
(8 replicates under ``ci`` and ``default``: the curves barely vary across seeds, sd 0.001-0.03).
``ci`` ran 6 until the calibration study's power pool at this model (70 fresh replicates) put its
fresh-seed fail rate at 0.0073 by the noncentral t (t quantiles at 5 degrees of freedom and the
suite's level are about 17; the pool's draws: 0 of 2 000, 95% upper bound 0.0018); at 8 the
noncentral t gives 6e-14:

* ``figure-3abc/theory-matching``: (a) the training (ID) hinge loss at the end <= a bound, while
  the OOD hinge loss at the end >= a bound; (c) log(final / initial background correlation) >=
  log of a factor; (b) the rise of the mean activation asymmetry from t = 0 (paired) >= a bound.
  The asymmetry is ``Delta_k = y_k (p_k(+1) - p_k(-1))`` on the training set, ``y_k = sign(a_k)``
  the neuron's own class (``fc_model.general.GeneralResult``), averaged over neurons.

The bounds follow one rule, fixed before the check was written: half-way between the curve's
start and the weaker reference value at the run's length, geometrically for the ID hinge (from 1,
the hinge at zero output) and the background ratio (from 1), which move by factors,
arithmetically for the OOD hinge (from 0: "stays above half its value") and the asymmetry's rise.
References: this suite's prototype runs (seeds 1 and 2, 4 replicates each; per-seed means at
2 000 and 4 000 iterations: ID hinge 0.759 / 0.502, OOD hinge 0.933 / 0.892, background ratio
1.037 / 1.211, asymmetry rise 0.656 / 0.724) and, at 20 000 iterations, the authors' script run
unmodified (ID 0.0037, OOD 0.770, background 0.2015 -> 0.360; it does not report the asymmetry,
for which the prototype at 4 000 serves, a value the curve only exceeds later). Bounds:

  ========== ========= ========= ================ ===============
  iterations ID hinge  OOD hinge background ratio asymmetry rise
  ========== ========= ========= ================ ===============
  2 000      <= 0.871  >= 0.467  >= 1.018         >= 0.328
  4 000      <= 0.709  >= 0.446  >= 1.100         >= 0.362
  20 000     <= 0.061  >= 0.385  >= 1.337         >= 0.362
  ========== ========= ========= ================ ===============

``default`` runs the authors' 20 000 iterations; ``ci`` runs 4 000, where the claim has shown in
part: the ID hinge has halved (0.50) while the OOD hinge moved by a tenth (0.89), the background
correlation has grown by 21% and the asymmetry is at 0.75 of its 0.82 end value; the ID hinge
reaches 0.04 only by about 8 000 iterations, which would cost about 2 minutes of one core. A
prototype run at seed 0 (4 replicates, 20 000 iterations) matched the authors' figures: ID 0.0038,
OOD 0.776, core 0.203 -> 0.474, background 0.201 -> 0.362.

The curves (ID and OOD hinge, core and background correlation, mean activation asymmetry) are
drawn with replicate bands; a table puts them beside the authors' script run unmodified.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from fc_check.common import mean_at_least, mean_at_most, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import SEEDS
from fc_check.verdict import Outcome, Plot
from fc_model.general import GeneralSetting, train_general

PROFILE = active_profile()
ITERATIONS = 20_000 if PROFILE.full_length else 4_000
R = {"ci": 8, "default": 8}.get(PROFILE.name, 16)  # ci: 8, not 6, for a fresh-seed fail rate under 1e-3 (module docstring)
# Reference figures. The authors' script toy.py run unmodified in this configuration (seeds 2024, 1, 2;
# start -> end of its recorded curves, 20 000 iterations, CPU, torch 2.13). This suite's prototype runs,
# made before the check was written: seeds 1 and 2, 4 replicates each; per seed, the replicate mean at
# 2 000 and 4 000 iterations (the background as final / initial correlation, the asymmetry as its rise).
AUTHORS = {"train hinge": (1.000, 0.0037), "OOD hinge": (0.998, 0.770), "core corr": (0.203, 0.474), "bg corr": (0.2015, 0.360)}
PROTOTYPE = {
    2_000: {"ID hinge": (0.7587, 0.7586), "OOD hinge": (0.9334, 0.9351), "bg ratio": (1.0382, 1.0373), "asymmetry rise": (0.6563, 0.6679)},
    4_000: {"ID hinge": (0.5022, 0.5023), "OOD hinge": (0.8915, 0.8927), "bg ratio": (1.2141, 1.2111), "asymmetry rise": (0.7235, 0.7273)},
}


@dataclass(frozen=True)
class Thresholds:
    id_max: float
    ood_min: float
    bg_growth_min: float
    asymmetry_rise_min: float


def thresholds(iterations: int) -> Thresholds:
    """The rule, one for every statistic: half-way between the start of the curve and the weaker
    reference value at the run's length; geometrically for the ID hinge (from 1, a hinge loss at
    zero output) and the background ratio (from 1), which move by factors; arithmetically from 0
    for the OOD hinge ("stays above half its value") and the asymmetry's rise. References: the
    prototypes at 2 000 and 4 000 iterations, the authors' figures at 20 000 (for the asymmetry,
    which the authors do not report, the prototype at 4 000: it rises early and keeps rising)."""
    if iterations == 20_000:
        id_end, ood_end, bg = AUTHORS["train hinge"][1], AUTHORS["OOD hinge"][1], AUTHORS["bg corr"][1] / AUTHORS["bg corr"][0]
        rise = min(PROTOTYPE[4_000]["asymmetry rise"])
    elif iterations in PROTOTYPE:
        p = PROTOTYPE[iterations]
        id_end, ood_end, bg, rise = max(p["ID hinge"]), min(p["OOD hinge"]), min(p["bg ratio"]), min(p["asymmetry rise"])
    else:
        raise ValueError(f"iterations must be one of {sorted([*PROTOTYPE, 20_000])} (the lengths with reference figures), got {iterations}")
    return Thresholds(math.sqrt(id_end), ood_end / 2, math.sqrt(bg), rise / 2)


@dataclass(frozen=True)
class TheoryMatchingRegime:
    iterations: int = ITERATIONS
    replicates: int = R
    seed: int = 0

    def setting(self) -> GeneralSetting:
        return GeneralSetting(loss="hinge", optimizer="sgd", momentum=0.9, freeze_output=True, core="signed", iterations=self.iterations,
                              record_every=max(1, self.iterations // 40))


def theory_matching(reg: TheoryMatchingRegime) -> GeneralSetting:
    return reg.setting()


def check_theory_matching(make_setting, reg: TheoryMatchingRegime, *, level: float, device: str) -> Outcome:  # noqa: ANN001
    res = train_general(make_setting(reg), reg.replicates, reg.seed, device=device)
    claim = "figure-3abc/theory-matching"
    th = thresholds(reg.iterations)
    growth = np.log(per_replicate(res.bg_corr[-1] / res.bg_corr[0]))
    rise = per_replicate(res.asymmetry[-1] - res.asymmetry[0])
    fs = [mean_at_most(claim, "training (ID) hinge loss at the end", per_replicate(res.train_loss[-1]), th.id_max, level),
          mean_at_least(claim, "OOD hinge loss at the end", per_replicate(res.ood_loss[-1]), th.ood_min, level),
          mean_at_least(claim, "log(final / initial background correlation)", growth, math.log(th.bg_growth_min), level, note=f"threshold log {th.bg_growth_min:.4g}"),
          mean_at_least(claim, "rise of the mean activation asymmetry from t = 0 (paired)", rise, th.asymmetry_rise_min, level)]

    def mean(t) -> float:  # noqa: ANN001
        return float(t.double().mean())

    ours = [(mean(res.train_loss[0]), mean(res.train_loss[-1])), (mean(res.ood_loss[0]), mean(res.ood_loss[-1])),
            (mean(res.core_corr[0]), mean(res.core_corr[-1])), (mean(res.bg_corr[0]), mean(res.bg_corr[-1]))]
    rows = [["the authors' toy.py (seeds 2024, 1, 2), 20 000 it", *(f"{a:.4g} → {b:.4g}" for a, b in AUTHORS.values()), "—"],
            [f"fc-verify ({reg.iterations} it, mean of {reg.replicates})", *(f"{a:.4g} → {b:.4g}" for a, b in ours),
             f"{mean(res.asymmetry[0]):.3g} → {mean(res.asymmetry[-1]):.3g}"]]
    table = {"claim": claim, "title": "theory-matching run: start → end, the authors' script beside this suite",
             "columns": ["source", "train (ID) hinge", "OOD hinge", "core corr", "background corr", "mean asymmetry"], "rows": rows}
    return Outcome(fs, asdict(reg), reg.seed, plots(res), [table, differences(claim, reg.iterations)])


def differences(claim: str, iterations: int) -> dict:
    """What differs between this suite's run and the authors' script, as a table for the report."""
    return {"claim": claim, "title": "what differs from the authors' script", "columns": ["", "fc-verify", "the authors' toy.py"],
            "rows": [["iterations", f"{iterations}", "20 000"], ["labels", "drawn at random per point", "half +1, half -1"],
                     ["OOD test set", "its own core draws (eval stream), background -U(0,1)", "the training points' core, background -U(0,1)"],
                     ["replicates", "batched, independent seeds (dictionary, data, init)", "one seed per run"]]}


def plots(res) -> list[Plot]:  # noqa: ANN001
    """The three panels of Figure 3 (a)-(c) for this run, with the authors' end values marked."""
    claim = "figure-3abc/theory-matching"

    def curves(keys: tuple[tuple[str, str], ...], ylabel: str, refs: tuple[str, ...] = ()):  # noqa: ANN202
        def draw(ax) -> None:  # noqa: ANN001
            from fc_check.plots import band

            for attr, label in keys:
                band(ax, res.steps, getattr(res, attr).double().numpy(), label)
            for name in refs:  # the authors' end values, at their last iteration
                ax.plot([20_000], [AUTHORS[name][1]], marker="*", linestyle="none", markersize=9, label=f"authors' {name} at 20 000 it")
            ax.set_xlabel("iteration")
            ax.set_ylabel(ylabel)
            ax.legend(fontsize=6)

        return draw

    return [Plot(claim, "(a) theory-matching run: ID and OOD hinge loss", curves((("train_loss", "ID (training) hinge"), ("ood_loss", "OOD hinge")), "hinge loss", ("train hinge", "OOD hinge"))),
             Plot(claim, "(b) theory-matching run: mean activation asymmetry", curves((("asymmetry", "mean Delta_k"),), "mean activation asymmetry")),
             Plot(claim, "(c) theory-matching run: core and background correlation", curves((("core_corr", "core correlation"), ("bg_corr", "background correlation")),
                                                                                          "mean projected weight norm", ("core corr", "bg corr")))]


REGIMES = st.builds(TheoryMatchingRegime, seed=SEEDS)
PAPER = TheoryMatchingRegime()


@fc_settings(heavy=True)
@given(regime=REGIMES)
@example(regime=PAPER)
def test_theory_matching(fc, regime: TheoryMatchingRegime) -> None:
    fc.check(check_theory_matching, theory_matching, regime)
