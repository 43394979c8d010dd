"""Every claim's check reports FAIL on a deliberately broken model (a check that cannot fail is a defect).

Each mutant runs the claim's own check function, at the level the ``ci`` profile gives it,
in a small version of its pinned regime.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from fc_check.boundaries import Design, widths
from fc_check.budget import DEFAULT_ALPHA, PROFILES, ErrorBudget
from fc_check.maps import ONSET, PERSISTENCE, Axis, Grid
from fc_check.regimes import paper_regime
from fc_model import Activation, Uniform
from maps import test_boundary_contamination as boundary_contamination
from maps import test_boundary_onset as boundary_onset
from maps import test_boundary_ood_gap as boundary_ood_gap
from maps import test_boundary_persistence as boundary_persistence
from maps import test_contamination as map_contamination
from maps import test_onset as map_onset
from maps import test_ood_gap as map_ood_gap
from maps import test_persistence as map_persistence
from properties import test_controls as controls
from properties import test_digits as digits
from properties import test_digits_figure1 as fig1_digits
from properties import test_digits_figure4 as fig4_digits
from properties import test_digits_figure5 as fig5_digits
from properties import test_distillation as distillation
from properties import test_dose_response as dose
from properties import test_figure_3abc as fig3
from properties import test_figure_3d as fig3d
from properties import test_figure_3d_depth as depth
from properties import test_figure_6_cnn as cnn
from properties import test_latent_reduction as latent
from properties import test_theory_matching as theory_matching
from properties.digits_figures import FiguresRegime
from tests import mutants as mu
from theorems import test_lemma_1_1 as l11
from theorems import test_lemma_1_2 as l12
from theorems import test_theorem_4_1 as t41
from theorems import test_theorem_4_2 as t42
from theorems import test_theorem_4_3 as t43
from theorems import test_theorem_4_4 as t44

LEVEL = ErrorBudget.for_profile(DEFAULT_ALPHA, PROFILES["ci"]).per_assertion
REG = paper_regime(16)
SHORT = REG.with_(steps=3000)
NET = l11.NetworkDraw()
DIGITS = digits.DigitsRegime(replicates=8, steps=2000)
FIGURES = FiguresRegime(steps=1000, replicates=8)  # digits Figures 1, 4, 5: 1 000 steps (the ci profile's claims showed by 500)
FIGURE_UNITS = FiguresRegime(steps=1000, families=False, replicates=8)
CNN = cnn.CnnRegime(replicates=8)
MAP_CELL_SLOPE = Grid(Axis("slope", (0.0,), "slope"), Axis("k_bg", (8,), "k_bg"), 16)
MAP_CELL_PERSISTENCE = Grid(Axis("k_bg/k_core", (0.5,), "k_bg / k_core"), Axis("m", (64,), "m"), PERSISTENCE.grid("ci").replicates)
MAP_CELL_ONSET = Grid(Axis("k_bg/k_core", (0.5,), "k_bg / k_core"), Axis("eps", (0.16,), "eps"), ONSET.grid("ci").replicates)
BOUNDARY_PERSISTENCE = Design(widths(64), (8 / 16, 12 / 16, 1.0), 16, 3, 1 / 8)
BOUNDARY_ONSET = Design(widths(64), (1.0, 20 / 16, 24 / 16), 32, 3, 1 / 16)
BOUNDARY_CONTAMINATION = Design(widths(64, **{"k_bg/k_core": 1.0}), (0.0, 0.5, 1.0), 8, 3, 0.05)
BOUNDARY_GAP = Design(widths(64), (2 / 16, 4 / 16, 8 / 16), 8, 3, 1 / 16)


def reversed_slopes(regime, slope):  # noqa: ANN001, ANN202
    return dose.leaky_model(regime, 1.0 - slope)


def ood_aware_student(cfg):  # noqa: ANN001, ANN202
    return replace(cfg, train_on_ood=True)


def identity_general(reg):  # noqa: ANN001, ANN202
    # Not zero-mean background: with a fixed training set of 1000 samples the network also grows
    # U[-1,1] background weights (memorisation), so only the activation breaks this claim.
    return replace(reg.setting(), activation=Activation("identity"))


def background_ignored(regime, background):  # noqa: ANN001, ANN202
    return replace(controls.relu_with_background(regime, background), sampler=mu.background_ignored)


def zero_mean_border(regime, activation):  # noqa: ANN001, ANN202
    # the border drawn U[-1,1]: uncorrelated with y as before, but with mean 0
    model = digits.paper_digits(regime, activation)
    return replace(model, task=replace(model.task, background=Uniform(-1.0, 1.0)))


def identity_for_relu_digits(regime, activation):  # noqa: ANN001, ANN202
    return digits.paper_digits(regime, "identity")


def ood_aware_digits_student(regime):  # noqa: ANN001, ANN202
    return replace(regime.config(), train_on_ood=True)


def ood_aware_families_student(regime):  # noqa: ANN001, ANN202
    """Students fitted on the ID and the negated-border images together (one width per family, for cost)."""
    cfg = regime.config()
    return replace(cfg, distillation=replace(cfg.distillation, train_on_ood=True), teacher_widths=(64,), teacher_checkpoints=(),
                   student_widths=(256,), standard_widths=(64,))


def identity_student(regime):  # noqa: ANN001, ANN202
    """A student whose hidden layer is the identity (a linear student with the ReLU student's parameters)."""
    return replace(regime.config(), student_activation=Activation("identity"))


def frozen_hidden_student(regime):  # noqa: ANN001, ANN202
    """A student whose hidden layer stays at its init; only its readout trains (random features)."""
    return replace(regime.config(), train_first_layer=False)


def broken_dictionary(reg):  # noqa: ANN001, ANN202
    return replace(latent.paper_coupled(reg), dictionary=mu.non_orthonormal_dictionary)


def noise_border_cnn(regime):  # noqa: ANN001, ANN202
    # the bordered arm's border resampled as zero-mean noise (colour x U[-1, 1] per pixel and channel)
    model = cnn.paper_cnn(regime)
    return replace(model, bordered=replace(model.bordered, kind="noise"))


def unbordered_cnn_for_bordered(regime):  # noqa: ANN001, ANN202
    model = cnn.paper_cnn(regime)
    return replace(model, bordered=model.unbordered)


def identity_setting(reg):  # noqa: ANN001, ANN202
    return replace(reg.setting(), activation=Activation("identity"))


CASES = {
    "lemma-1.1/closed-form-equals-autograd": (l11.check_closed_form_equals_autograd, mu.gradient_without_indicator, NET),
    "lemma-1.1/projection-identity": (l11.check_projection_identity, mu.gradient_without_indicator, NET),
    "lemma-1.1/linear-background-projection-zero": (l11.check_linear_background_projection_zero, mu.relu_net, REG),
    "lemma-1.1/relu-background-projection-tracks-asymmetry": (l11.check_relu_background_projection_tracks_asymmetry, mu.identity_net, REG),
    "lemma-1.2/hoeffding-exceedance": (l12.check_hoeffding_exceedance, mu.biased_gradient, l12.GapRegime(replicates=8, batches=50)),
    "lemma-1.2/rate": (l12.check_rate, mu.biased_gradient, l12.GapRegime(replicates=8, batches=50)),
    "theorem-4.1/no-asymmetry-at-init": (t41.check_no_asymmetry_at_init, mu.with_init(mu.own_core_biased_init), REG),
    "theorem-4.1/persistence": (t41.check_persistence, mu.with_sampler(mu.shuffled_labels), t41.PERSISTENCE_REGIME.with_(steps=2000)),
    "theorem-4.1/t0-scaling": (t41.check_t0_scaling, mu.unscaled_init_network, t41.ScalingGrid(replicates=8, max_steps=4000)),
    "theorem-4.2/own-core-growth": (t42.check_own_core_growth, mu.with_gradient(mu.gradient_ascent), SHORT),
    "theorem-4.2/background-growth": (t42.check_background_growth, mu.zero_mean_background, SHORT),
    "theorem-4.2/contamination-ratio": (t42.check_contamination_ratio, mu.zero_mean_background, SHORT),
    "theorem-4.2/other-core-no-growth": (t42.check_other_core_no_growth, mu.with_sampler(mu.both_cores_present), SHORT),
    "theorem-4.2/background-tracks-asymmetry": (t42.check_background_tracks_asymmetry, mu.zero_mean_background, SHORT),
    "theorem-4.3/id-risk": (t43.check_id_risk, mu.with_gradient(mu.gradient_ascent), SHORT),
    "theorem-4.3/ood-gap": (t43.check_ood_gap, mu.no_ood_shift, SHORT),
    "theorem-4.3/ood-error-grows-with-background": (t43.check_ood_error_grows, mu.no_ood_shift, SHORT),
    "theorem-4.4/no-contamination": (t44.check_no_contamination, mu.relu_net, SHORT),
    "theorem-4.4/no-ood-gap": (t44.check_no_ood_gap, mu.relu_net, SHORT),
    "theorem-4.4/relu-contrast": (t44.check_relu_contrast, mu.relu_net, SHORT),
    "figure-3a": (fig3.check_figure_3a, mu.identity_net, REG),
    "figure-3b": (fig3.check_figure_3b, mu.with_sampler(mu.shuffled_labels), SHORT),
    "figure-3c": (fig3.check_figure_3c, mu.zero_mean_background, SHORT),
    "figure-3d/relu": (fig3d.check_figure_3d, identity_general, fig3d.GeneralRegime(iterations=500, replicates=6)),
    "dose-response/leaky-slope": (dose.check_dose_response, reversed_slopes, SHORT),
    "control/zero-mean-background": (controls.check_zero_mean_background, background_ignored, SHORT),
    "control/no-spurious-correlation": (controls.check_no_spurious_correlation, mu.with_sampler(mu.label_dependent_background), REG),
    "distillation/relu-student": (distillation.check_relu_student, ood_aware_student, distillation.DistillRegime(replicates=8, steps=1500)),
    "distillation/linear-student": (distillation.check_linear_student, distillation.relu_student, distillation.DistillRegime(replicates=8)),
    "digits/contamination": (digits.check_contamination, zero_mean_border, DIGITS),
    "digits/border-sign": (digits.check_border_sign, zero_mean_border, DIGITS),
    "digits/ood-gap": (digits.check_ood_gap, identity_for_relu_digits, DIGITS),
    "digits/distillation": (digits.check_distillation, ood_aware_digits_student, digits.DistillRegime(width=128, steps=1000, batch=32, replicates=8)),
    "digits/three-families": (fig1_digits.check_three_families, ood_aware_families_student, FIGURES),
    "digits/activation-rates": (fig4_digits.check_activation_rates, identity_student, FIGURE_UNITS),
    "digits/selectivity": (fig5_digits.check_selectivity, frozen_hidden_student, FIGURE_UNITS),
    "invariant/latent-equals-full": (latent.check_latent_equals_full, broken_dictionary, latent.CouplingRegime()),
    # the CNN on digits (8 replicates: each mutant's contrast is about 0 or exactly 0; the ood-gap and grad-cam mutants share one run), the general setting's variants
    "deep/feature-visualisation": (cnn.check_feature_visualisation, noise_border_cnn, CNN),
    "deep/ood-gap": (cnn.check_ood_gap, unbordered_cnn_for_bordered, CNN),
    "deep/grad-cam": (cnn.check_grad_cam, unbordered_cnn_for_bordered, CNN),
    "figure-3abc/theory-matching": (theory_matching.check_theory_matching, identity_setting, theory_matching.TheoryMatchingRegime(iterations=2000, replicates=6)),
    "figure-3d/depth-3": (depth.check_depth, identity_setting, depth.DepthRegime(layers=3, iterations=300, replicates=8)),
    # validity maps, each on one inside cell of its region (the two contamination maps share the runs)
    "map/theorem-4.2/contamination-ratio": (map_contamination.check_contamination_map, mu.zero_mean_background_at_slope, MAP_CELL_SLOPE),
    "map/theorem-4.3/ood-gap": (map_ood_gap.check_ood_gap_map, mu.zero_mean_background_at_slope, MAP_CELL_SLOPE),
    "map/theorem-4.1/persistence": (map_persistence.check_persistence_map, mu.with_sampler(mu.shuffled_labels), MAP_CELL_PERSISTENCE),
    "map/theorem-4.1/t0-scaling": (map_onset.check_onset_map, mu.unit_init_network, MAP_CELL_ONSET),
    # boundaries, each on one asserted series and its coarse pass (tests/test_boundaries.py checks where they are reported)
    "boundary/theorem-4.1/persistence": (boundary_persistence.check_persistence_boundary, mu.with_sampler(mu.shuffled_labels), BOUNDARY_PERSISTENCE),
    "boundary/theorem-4.1/onset": (boundary_onset.check_onset_boundary, mu.scaled_background(1.5), BOUNDARY_ONSET),
    "boundary/theorem-4.2/contamination-ratio": (boundary_contamination.check_contamination_boundary, mu.zero_mean_background_at_slope, BOUNDARY_CONTAMINATION),
    "boundary/theorem-4.3/ood-gap": (boundary_ood_gap.check_ood_gap_boundary, mu.zero_mean_background, BOUNDARY_GAP),
}


@pytest.mark.parametrize("claim_id", list(CASES))
def test_check_fails_on_its_mutant(claim_id: str, fc) -> None:
    check, mutant, regime = CASES[claim_id]
    outcome = check(mutant, regime, level=LEVEL, device=fc.device)  # --fc-device: CUDA where the run asks for it
    assert any(f.claim == claim_id for f in outcome.findings)
    assert not outcome.passed, f"the check for {claim_id} passed on its mutant:\n{outcome.message()}"


def test_every_claim_has_a_mutant() -> None:
    from fc_check.catalogue import CLAIMS

    covered = set(CASES) | {f"figure-3d/{a}" for a in ("gelu", "sigmoid", "tanh")}  # one check function serves all four
    covered |= {"figure-3d/depth-4"}  # one check function serves both depths (depth 4 is a finding: its own check fails)
    assert covered == set(CLAIMS)
