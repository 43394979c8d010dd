"""Theorem 4.2 (learned features = feature contamination), Zhang et al. ICML 2024, §4.

For the neurons that became asymmetric (Theorem 4.1), from T0 on both the correlation with
the neuron's own core features and with the background features grow, at comparable rates:
the background-to-core ratio is bounded below; the correlation with the other class's core
does not grow; and a neuron's background contamination increases with its asymmetry.
Statistics (one number per replicate, t intervals over replicates):

* ``own-core-growth``: neuron-mean learned own-core correlation at the end minus at T0, > 0.
* ``background-growth``: the same for the background, > 0.
* ``contamination-ratio``: ``mean_k |G_k| / mean_k C_k`` at the end, >= 0.2.
* ``other-core-no-growth``: neuron-mean learned other-core correlation, <= 0.
* ``background-tracks-asymmetry``: Pearson correlation across neurons of ``Delta_k`` and ``G_k``, >= 0.5.

The two growth checks are measured from T0, so their generated regimes keep ``k_bg <= k_core``
(4 or 8 of 8), where Theorem 4.1's onset comes early as predicted. With more background than core
coordinates the background, positive in both classes, dominates the pre-activations and the
criterion is met late or never: at m = 32, eta = 0.03, d = 2^14, 24 replicates, median T0 was
2115 steps at k_bg = 12 (predicted ~17) and 3 of 24 replicates were censored at k_bg = 16, where
the core had been learned before T0 and the growth since T0 was 0.10 [-0.04, -] (a FAIL found
by the ``default`` profile). At m = 128, k_bg = 12 all 24 were censored.
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given

from fc_check.common import MakeModel, contamination_ratio, growth_since_onset, history, mean_at_least, mean_at_most, median_onset, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.plots import curves
from fc_check.regimes import TheoryRegime, paper_model, paper_regime, theory_regimes, train
from fc_check.verdict import Outcome, Plot

# Twice the profile's replicates. The growth statistics are heavily left-skewed (skewness -11 at
# the paper regime: about one replicate in a few hundred has every neuron inactive, and grows by
# 0-0.03 against a typical 0.19), so their calibrated bounds run at far smaller nominal levels; with
# the profile's 16 replicates under ci the calibration study found these checks FAILing on a fresh
# seed at rates of 2% (both growths) and 5% (tracks-asymmetry), far above the suite's 1e-3 per claim.
# The thresholds are unchanged; only the replicate count is.
PROFILE = active_profile()
R = 2 * PROFILE.replicates
REGIMES = theory_regimes(replicates=R)
PAPER = paper_regime(R)
# The two growth checks under default: four times the profile's replicates (96), not two (48). The
# default study's level for n = 48 is a t tail of about 4e-33 (what a pool of 3 120 with its
# all-inactive replicates needs for the bound to hold at 3.7e-6), and at that tail background growth
# FAILed 0.17% of fresh seeds at the pinned regime and 0.19% at the weakest, above 1e-3: a draw of 48
# with two or three such replicates already reaches 0. A projection on a fresh pool of 6 144 pinned
# replicates gave no FAIL in 2 000 000 draws of 96. Under ci the study measured the growths at 32
# within 1e-3, and thorough's 2 x 64 = 128 is above 96 already, so only default changes.
GROWTH_R = (4 if PROFILE.name == "default" else 2) * PROFILE.replicates
ONSET_REGIMES = theory_regimes(replicates=GROWTH_R, k_bg=(4, 8))  # see the module docstring
GROWTH_PAPER = paper_regime(GROWTH_R)
# Twice that again for tracks-asymmetry. A replicate whose neurons are all inactive has no asymmetry
# and counts as a correlation of 0 (against the claim): the statistic is left-skewed (skewness -2.8
# and -4.7 in two pools of about 2 100 at the paper regime), and at 32 replicates two such replicates in a draw already
# FAIL the calibrated bound: the study measured a fresh-seed fail rate of 0.34%, above 1e-3. Twice
# that again (8 R, 128 under ci): at the weakest regime a ci run found (m = 32, d = 2^12, 8000 steps; mean
# 0.83, sd 0.18, skewness -3.9) the level that holds at both regimes FAILed 2.4% of fresh seeds at 64.
TRACKS_R = 4 * R
TRACKS_REGIMES = theory_regimes(replicates=TRACKS_R)
TRACKS_PAPER = paper_regime(TRACKS_R)



def check_own_core_growth(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.0) -> Outcome:
    traj = train(make_model, regime, device)
    x = growth_since_onset(traj, "own_core")
    f = mean_at_least("theorem-4.2/own-core-growth", "own-core learned correlation, end minus T0", x, threshold, level, strict=True)
    steps = traj.steps
    plot = Plot(f.claim, "Learned correlations over training (replicate mean, 95% band)", curves(
        {"own core": history(traj, "own_core"), "other core": history(traj, "other_core"), "background": history(traj, "background")},
        steps, "learned correlation", vline=float(median_onset(traj))))
    return Outcome([f], regime.as_dict(), regime.seed, [plot])


def check_background_growth(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.0) -> Outcome:
    x = growth_since_onset(train(make_model, regime, device), "background")
    return Outcome([mean_at_least("theorem-4.2/background-growth", "background learned correlation, end minus T0", x, threshold, level, strict=True)], regime.as_dict(), regime.seed)


def check_contamination_ratio(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.2) -> Outcome:
    x = contamination_ratio(train(make_model, regime, device))
    return Outcome([mean_at_least("theorem-4.2/contamination-ratio", "mean|G_k| / mean C_k at the end", x, threshold, level)], regime.as_dict(), regime.seed)


def check_other_core_no_growth(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.0) -> Outcome:
    x = per_replicate(train(make_model, regime, device).final["other_core"])
    return Outcome([mean_at_most("theorem-4.2/other-core-no-growth", "other-core learned correlation at the end", x, threshold, level)], regime.as_dict(), regime.seed)


def check_background_tracks_asymmetry(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, threshold: float = 0.5) -> Outcome:
    f = train(make_model, regime, device).final
    delta, g = f["delta"].double().cpu().numpy(), f["background"].double().cpu().numpy()
    x = np.array([np.corrcoef(delta[r], g[r])[0, 1] if delta[r].std() > 0 and g[r].std() > 0 else 0.0 for r in range(delta.shape[0])])
    return Outcome([mean_at_least("theorem-4.2/background-tracks-asymmetry", "corr across neurons of Delta_k and G_k", x, threshold, level)], regime.as_dict(), regime.seed)


@fc_settings()
@given(regime=ONSET_REGIMES)
@example(regime=GROWTH_PAPER)
def test_own_core_growth(fc, regime: TheoryRegime) -> None:
    fc.check(check_own_core_growth, paper_model, regime)


@fc_settings()
@given(regime=ONSET_REGIMES)
@example(regime=GROWTH_PAPER)
def test_background_growth(fc, regime: TheoryRegime) -> None:
    fc.check(check_background_growth, paper_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_contamination_ratio(fc, regime: TheoryRegime) -> None:
    fc.check(check_contamination_ratio, paper_model, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_other_core_no_growth(fc, regime: TheoryRegime) -> None:
    fc.check(check_other_core_no_growth, paper_model, regime)


@fc_settings()
@given(regime=TRACKS_REGIMES)
@example(regime=TRACKS_PAPER)
def test_background_tracks_asymmetry(fc, regime: TheoryRegime) -> None:
    fc.check(check_background_tracks_asymmetry, paper_model, regime)
