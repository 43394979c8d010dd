"""Figure 3(d) with depth, Zhang et al. ICML 2024, §5, in the authors' general numerical setting
(logistic loss, AdamW, trainable output layer and biases; facts from their public script
``toy.py``, GitHub repository trzhang0116/feature-contamination, whose ``mlp_n_layers`` sets the
number of linear layers, hidden layers of width 256; see ``fc_model.general``).

Per replicate, t intervals over replicates at the suite's per-interval level (8 replicates at
depth 4, 16 at depth 3; twice as many under ``thorough``):

* ``figure-3d/depth-3`` and ``figure-3d/depth-4``: log(final / initial *first-layer* background
  correlation) >= log 1.154, and the paired log(OOD / training logistic loss) > 0.

The two-layer check's factor 2 does not carry over: the authors' script gives about 1.6 at depth 3
against about 6 at depth 2. The factor 1.154 was fixed from prototype runs made before the check
was written (300 iterations, 4 replicates per run): the identity (linear) network's first-layer
background correlation grew by 1.034-1.070 at depths 3 and 4 (12 replicates; a fixed training set
of 1 000 points drifts it), ReLU's by 1.244-1.322 at depth 3 (8 replicates) and by 0.986-1.031 at
depth 4 (8 replicates; at 2 000 iterations still 1.008-1.040). The factor is the geometric mean of
the largest linear growth and the smallest ReLU depth-3 growth, ``sqrt(1.0696 x 1.2444)``, the same
at both depths, so that a pass means more than a linear network's drift: a depth at which ReLU
grows no more than that has lost the contamination at this threshold, a finding.

Depth 3 runs twice depth 4's replicates: the calibration study's power pool at this model (72 fresh
replicates under ``ci``, before this choice) gave its growth statistic a mean of 0.236 and an sd of
0.0215 against log 1.154 = 0.143, so at 8 replicates a fresh seed FAILed with probability 0.25 (the
noncentral t: 0.25); at 16 the noncentral t gives 6e-12 (4.6e-5 at 12). Depth 4, a finding, keeps 8.

``default`` runs the authors' 20 000 iterations; ``ci`` runs 300, where the depth-3 claim has
shown (training loss 3e-4, growth 1.24-1.32). The report puts the authors' depth-3 run (0.2025 ->
0.323, 20 000 iterations, seeds 2024, 1, 2) beside ours; the authors' script was not run at depth 4.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fc_check.common import mean_at_least, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import SEEDS
from fc_check.verdict import Outcome, Plot
from fc_model import Activation
from fc_model.general import GeneralSetting, train_general
from properties.test_theory_matching import differences

PROFILE = active_profile()
ITERATIONS = 20_000 if PROFILE.full_length else 300
R = 8 if PROFILE.name != "thorough" else 16
R_DEPTH_3 = 2 * R  # a fresh-seed fail rate under 1e-3 at depth 3 (0.25 measured at 8; see the module docstring)
# The growth factor, fixed from prototype runs made before the check was written (300 iterations, 4
# replicates per run; see the module docstring): the geometric mean of the largest growth of the identity
# (linear) network, depths 3 and 4, and the smallest growth of a ReLU network at depth 3, so that a network
# passes only if its first layer learns the background clearly more than a linear network's does.
IDENTITY_GROWTH_MAX = 1.0696  # of 12 replicates: depth 3 seeds 1 and 2, depth 4 seed 1 (1.034-1.070)
RELU_DEPTH3_GROWTH_MIN = 1.2444  # of 8 replicates: depth 3 seeds 1 and 2 (1.244-1.322)
GROWTH_MIN = math.sqrt(IDENTITY_GROWTH_MAX * RELU_DEPTH3_GROWTH_MIN)  # 1.154
# The authors' script toy.py run unmodified at depth 3 (seeds 2024, 1, 2; start -> end, 20 000 iterations).
AUTHORS = {3: {"train loss": (0.693, 0.000), "OOD loss": (0.692, 6.46), "core corr": (0.202, 0.737), "bg corr": (0.2025, 0.323)}}


@dataclass(frozen=True)
class DepthRegime:
    layers: int = 3
    iterations: int = ITERATIONS
    activation: str = "relu"
    replicates: int = R
    seed: int = 0

    def setting(self) -> GeneralSetting:
        return GeneralSetting(layers=self.layers, activation=Activation(self.activation), iterations=self.iterations,
                              record_every=max(1, self.iterations // 40))


def paper_setting(reg: DepthRegime) -> GeneralSetting:
    return reg.setting()


def check_depth(make_setting, reg: DepthRegime, *, level: float, device: str, growth_min: float = GROWTH_MIN) -> Outcome:  # noqa: ANN001
    res = train_general(make_setting(reg), reg.replicates, reg.seed, device=device)
    claim = f"figure-3d/depth-{reg.layers}"
    growth = np.log(per_replicate(res.bg_corr[-1] / res.bg_corr[0]))
    gap = np.log(per_replicate(res.ood_loss[-1] / res.train_loss[-1]))
    ratio = per_replicate(res.bg_corr[-1] / res.bg_corr[0])
    fs = [mean_at_least(claim, "log(final / initial first-layer background correlation)", growth, math.log(growth_min), level,
                        note=f"threshold log {growth_min:.3g}; ratio {float(ratio.mean()):.3g} (replicates {float(ratio.min()):.3g}-{float(ratio.max()):.3g})"),
          mean_at_least(claim, "log(OOD / training logistic loss), paired", gap, 0.0, level, strict=True)]

    def mean(t) -> float:  # noqa: ANN001
        return float(t.double().mean())

    ref = AUTHORS.get(reg.layers)
    ours = [(mean(res.train_loss[0]), mean(res.train_loss[-1])), (mean(res.ood_loss[0]), mean(res.ood_loss[-1])),
            (mean(res.core_corr[0]), mean(res.core_corr[-1])), (mean(res.bg_corr[0]), mean(res.bg_corr[-1]))]
    rows = [["the authors' toy.py (seeds 2024, 1, 2), 20 000 it", *(f"{a:.4g} → {b:.4g}" for a, b in ref.values())] if ref else
            [f"the authors' toy.py at depth {reg.layers}", "not run", "", "", ""],
            [f"fc-verify ({reg.iterations} it, mean of {reg.replicates})", *(f"{a:.4g} → {b:.4g}" for a, b in ours)]]
    table = {"claim": claim, "title": f"depth {reg.layers} ({reg.activation}): start → end, the authors' script beside this suite",
             "columns": ["source", "training loss", "OOD loss", "core corr (first layer)", "background corr (first layer)"], "rows": rows}

    def draw(ax) -> None:  # noqa: ANN001
        from fc_check.plots import band

        band(ax, res.steps, res.core_corr.double().numpy(), "core correlation (first layer)")
        band(ax, res.steps, res.bg_corr.double().numpy(), "background correlation (first layer)")
        ax.axhline(mean(res.bg_corr[0]) * growth_min, color="grey", linestyle="--", linewidth=0.8, label=f"initial background x {growth_min:.3g} (threshold)")
        ax.set_xlabel("iteration")
        ax.set_ylabel("mean projected weight norm")
        ax.legend(fontsize=6)

    return Outcome(fs, asdict(reg), reg.seed, [Plot(claim, f"(d) depth {reg.layers} ({reg.activation}): first-layer correlations over training", draw)],
                   [table, {**differences(claim, reg.iterations), "title": f"depth {reg.layers}: what differs from the authors' script"}])


REGIMES_3 = st.builds(DepthRegime, layers=st.just(3), replicates=st.just(R_DEPTH_3), seed=SEEDS)
REGIMES_4 = st.builds(DepthRegime, layers=st.just(4), seed=SEEDS)
PAPER_3 = DepthRegime(layers=3, replicates=R_DEPTH_3)
PAPER_4 = DepthRegime(layers=4)


@fc_settings(heavy=True)
@given(regime=REGIMES_3)
@example(regime=PAPER_3)
def test_depth_3(fc, regime: DepthRegime) -> None:
    fc.check(check_depth, paper_setting, regime)


# A finding, recorded, not hidden: a strict xfail under ci (measured) and default (from a prototype replicate at
# 20 000 iterations; the pinned default run was not made here), so the day it passes CI fails and it is looked at again.
FINDING_DEPTH_4 = (
    "ci (300 iterations, 8 replicates): the first-layer background correlation ends at 1.007 times its initial value (replicates 0.965-1.04; "
    "log 0.0071 [-0.067, inf) against >= log 1.154), the level of a linear network's drift, while the core correlation grows 0.20 -> 0.36 and "
    "the OOD loss exceeds the training loss (log ratio 12.9 [11.4, inf)); a prototype replicate at 20 000 iterations (seed 1) ended at 0.991 "
    "times: at depth 4 the first layer's contamination is gone at this threshold")


@pytest.mark.xfail(PROFILE.name in ("ci", "default"), reason=FINDING_DEPTH_4, strict=True)
@fc_settings(heavy=True)
@given(regime=REGIMES_4)
@example(regime=PAPER_4)
def test_depth_4(fc, regime: DepthRegime) -> None:
    fc.check(check_depth, paper_setting, regime)
