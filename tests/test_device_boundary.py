"""The device boundary, kept on CPU: under ``DeviceGuard`` (see ``tests/device_guard.py``) every
claim's check runs in a small version, and no device tensor may reach the host without an
explicit ``.cpu()``, meet a host tensor in one op, or make the hot loop synchronise every step."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial

import pytest
import torch

from fc_check.boundaries import Design, widths
from fc_check.budget import DEFAULT_ALPHA, PROFILES, ErrorBudget
from fc_check.maps import Axis, Grid
from fc_check.regimes import paper_model, paper_regime
from fc_model import SGD, FeatureModel, Network, Schedule, TheoryModel, simulate
from fc_model.general import GeneralSetting, train_general
from fc_model.simulate import onset_steps
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
from tests.device_guard import ImplicitHostTransfer, MixedDevices, device_guard
from theorems import test_lemma_1_1 as l11
from theorems import test_lemma_1_2 as l12
from theorems import test_theorem_4_1 as t41
from theorems import test_theorem_4_2 as t42
from theorems import test_theorem_4_3 as t43
from theorems import test_theorem_4_4 as t44

LEVEL = ErrorBudget.for_profile(DEFAULT_ALPHA, PROFILES["ci"]).per_assertion
SMALL = paper_regime(4, steps=120).with_(m=16)
def small_figures(regime: FiguresRegime):  # noqa: ANN201
    """The digits figures' run, tiny: 12 teacher steps, two widths per family."""
    cfg = regime.config()
    d = replace(cfg.distillation, teacher_width=8, width=16, teacher_steps=12)
    return replace(cfg, distillation=d, teacher_widths=(8, 4), teacher_checkpoints=(4,), student_widths=(16, 8),
                   standard_widths=(8, 4) if regime.families else ())


SMALL_CNN = lambda r: replace(cnn.paper_cnn(r), setting=replace(r.setting(), vis_steps=3))  # noqa: E731 - three training and ascent steps
MAP_SLOPE = Grid(Axis("slope", (0.0,), "slope"), Axis("k_bg", (8,), "k_bg"), 2)  # one cell, two replicates
# boundaries: one asserted series (m = 64), two coarse cells of two replicates; trained a few percent of their length
BOUNDARY_RATIO = Design(widths(64), (0.5, 1.0), 2, 2, 1 / 16)
BOUNDARY_SLOPE = Design(widths(64, **{"k_bg/k_core": 1.0}), (0.0, 1.0), 2, 2, 0.05)


def test_guard_rejects_implicit_reads_and_mixing_and_counts_crossings() -> None:
    with device_guard() as g:
        t = torch.ones(3, device=torch.device("cpu"))
        for read in (lambda: t.numpy(), lambda: float(t.sum()), lambda: bool(t[0]), lambda: t.tolist(), lambda: f"{t.sum():.2f}"):
            with pytest.raises(ImplicitHostTransfer):
                read()
        with pytest.raises(MixedDevices):
            t + torch.ones(3)  # a host tensor of one dimension
        assert float((t * torch.tensor(2.0)).sum().cpu()) == 6.0  # a 0-dim host tensor may meet device tensors
        host = t.to("cpu")
        assert host.numpy().sum() == 3 and host is not t
        assert g.syncs == 2


def test_simulate_reads_nothing_back_while_training() -> None:
    model = TheoryModel(FeatureModel(d=2**12), Network(m=16))
    with device_guard() as g:
        traj = simulate(model, SGD(steps=400, schedule=Schedule(dense_until=100, every=10)), 4, 0)
        traj.onset_step().numpy()  # the history is on the host
    assert g.syncs <= 2, g.sync_sites  # one transfer per dtype at the end, none per step or checkpoint


def test_onset_steps_synchronises_once_per_block_of_steps() -> None:
    model = TheoryModel(FeatureModel(d=2**12), Network(m=16))
    steps, every = 320, 32
    with device_guard() as g:
        t0 = onset_steps(model, SGD(eta=0.02, steps=steps), 12, 4, sync_every=every)
        t0.numpy()
    splits = math.ceil(math.log2(12)) + 1
    assert g.syncs <= math.ceil((steps + 1) / every) + 2 * splits, g.sync_sites


def test_general_setting_crosses_once() -> None:
    with device_guard() as g:
        res = train_general(GeneralSetting(iterations=20, width=8, n_train=20, n_test=20, record_every=5), 2, 0)
        res.bg_corr.numpy()
    assert g.syncs <= 1, g.sync_sites


# Every claim's check, run small under the guard. Whether it passes at this size does not matter here.
GUARDED = {
    "lemma-1.1/closed-form-equals-autograd": (l11.check_closed_form_equals_autograd, l11.hinge_gradient, l11.NetworkDraw()),
    "lemma-1.1/projection-identity": (l11.check_projection_identity, l11.hinge_gradient, l11.NetworkDraw()),
    "lemma-1.1/linear-background-projection-zero": (l11.check_linear_background_projection_zero, l11.linear_model, SMALL),
    "lemma-1.1/relu-background-projection-tracks-asymmetry": (l11.check_relu_background_projection_tracks_asymmetry, paper_model, SMALL),
    "lemma-1.2/hoeffding-exceedance": (l12.check_hoeffding_exceedance, l12.hinge_gradient, l12.GapRegime(replicates=3, batches=4, m=16, d=2**12)),
    "lemma-1.2/rate": (l12.check_rate, l12.hinge_gradient, l12.GapRegime(replicates=3, batches=4, m=16, d=2**12)),
    "theorem-4.1/no-asymmetry-at-init": (t41.check_no_asymmetry_at_init, paper_model, SMALL),
    "theorem-4.1/persistence": (t41.check_persistence, paper_model, SMALL.with_(k_bg=4)),
    "theorem-4.1/t0-scaling": (t41.check_t0_scaling, t41.scaling_model, t41.ScalingGrid(m=(32, 64), eta=(0.02, 0.04), log2_d=(12, 14), replicates=3, max_steps=1000)),
    "theorem-4.2/own-core-growth": (t42.check_own_core_growth, paper_model, SMALL),
    "theorem-4.2/background-growth": (t42.check_background_growth, paper_model, SMALL),
    "theorem-4.2/contamination-ratio": (t42.check_contamination_ratio, paper_model, SMALL),
    "theorem-4.2/other-core-no-growth": (t42.check_other_core_no_growth, paper_model, SMALL),
    "theorem-4.2/background-tracks-asymmetry": (t42.check_background_tracks_asymmetry, paper_model, SMALL),
    "theorem-4.3/id-risk": (t43.check_id_risk, paper_model, SMALL),
    "theorem-4.3/ood-gap": (t43.check_ood_gap, paper_model, SMALL),
    "theorem-4.3/ood-error-grows-with-background": (t43.check_ood_error_grows, paper_model, SMALL),
    "theorem-4.4/no-contamination": (t44.check_no_contamination, t44.linear_model, SMALL),
    "theorem-4.4/no-ood-gap": (t44.check_no_ood_gap, t44.linear_model, SMALL),
    "theorem-4.4/relu-contrast": (t44.check_relu_contrast, t44.linear_model, SMALL),
    "figure-3a": (fig3.check_figure_3a, paper_model, SMALL),
    "figure-3b": (fig3.check_figure_3b, paper_model, SMALL),
    "figure-3c": (fig3.check_figure_3c, paper_model, SMALL),
    "figure-3d/relu": (fig3d.check_figure_3d, fig3d.paper_setting, fig3d.GeneralRegime(iterations=20, width=16, replicates=3)),
    "dose-response/leaky-slope": (dose.check_dose_response, dose.leaky_model, SMALL),
    "control/zero-mean-background": (controls.check_zero_mean_background, controls.relu_with_background, SMALL),
    "control/no-spurious-correlation": (controls.check_no_spurious_correlation, controls.paper_relu, SMALL),
    "distillation/relu-student": (distillation.check_relu_student, distillation.relu_student, distillation.DistillRegime(replicates=3, steps=50, width=16)),
    "distillation/linear-student": (distillation.check_linear_student, distillation.linear_student, distillation.DistillRegime(replicates=3, steps=50, width=16)),
    "invariant/latent-equals-full": (latent.check_latent_equals_full, latent.paper_coupled, latent.CouplingRegime(steps=20)),
    "map/theorem-4.2/contamination-ratio": (map_contamination.check_contamination_map, map_contamination.slope_model, MAP_SLOPE),
    "map/theorem-4.3/ood-gap": (map_ood_gap.check_ood_gap_map, map_contamination.slope_model, MAP_SLOPE),
    "map/theorem-4.1/persistence": (map_persistence.check_persistence_map, paper_model, Grid(Axis("k_bg/k_core", (0.5,), "k_bg / k_core"), Axis("m", (64,), "m"), 2)),
    "map/theorem-4.1/t0-scaling": (map_onset.check_onset_map, paper_model, Grid(Axis("k_bg/k_core", (0.5,), "k_bg / k_core"), Axis("eps", (0.16,), "eps"), 3)),
    "boundary/theorem-4.1/persistence": (partial(boundary_persistence.check_persistence_boundary, length=0.03), paper_model, BOUNDARY_RATIO),
    "boundary/theorem-4.1/onset": (boundary_onset.check_onset_boundary, paper_model, Design(widths(64), (1.0, 1.5), 2, 2, 1 / 16)),
    "boundary/theorem-4.2/contamination-ratio": (partial(boundary_contamination.check_contamination_boundary, length=0.02), map_contamination.slope_model, BOUNDARY_SLOPE),
    "boundary/theorem-4.3/ood-gap": (partial(boundary_ood_gap.check_ood_gap_boundary, length=0.02), paper_model, Design(widths(64), (0.25, 0.5), 2, 2, 1 / 16)),
    "digits/contamination": (digits.check_contamination, digits.paper_digits, digits.DigitsRegime(replicates=3, steps=40)),
    "digits/border-sign": (digits.check_border_sign, digits.paper_digits, digits.DigitsRegime(replicates=3, steps=40)),
    "digits/ood-gap": (digits.check_ood_gap, digits.paper_digits, digits.DigitsRegime(replicates=3, steps=40)),
    "digits/distillation": (digits.check_distillation, lambda r: replace(digits.paper_distillation(r), teacher_steps=20), digits.DistillRegime(replicates=3, steps=20, width=16)),
    "digits/three-families": (fig1_digits.check_three_families, small_figures, FiguresRegime(steps=12, replicates=3)),
    "digits/activation-rates": (fig4_digits.check_activation_rates, small_figures, FiguresRegime(steps=12, families=False, replicates=3)),
    "digits/selectivity": (fig5_digits.check_selectivity, small_figures, FiguresRegime(steps=12, families=False, replicates=3)),
    "deep/feature-visualisation": (cnn.check_feature_visualisation, SMALL_CNN, cnn.CnnRegime(steps=3, replicates=3)),
    "deep/ood-gap": (cnn.check_ood_gap, SMALL_CNN, cnn.CnnRegime(steps=3, replicates=3)),
    "deep/grad-cam": (cnn.check_grad_cam, SMALL_CNN, cnn.CnnRegime(steps=3, replicates=3)),
    # the thresholds are those of a 2 000-iteration run; the run itself is 20 iterations of a narrow network
    "figure-3abc/theory-matching": (theory_matching.check_theory_matching, lambda r: replace(r.setting(), iterations=20, width=16, record_every=5),
                                    theory_matching.TheoryMatchingRegime(iterations=2000, replicates=3)),
    "figure-3d/depth-3": (depth.check_depth, lambda r: replace(r.setting(), width=16), depth.DepthRegime(layers=3, iterations=20, replicates=3)),
    "figure-3d/depth-4": (depth.check_depth, lambda r: replace(r.setting(), width=16), depth.DepthRegime(layers=4, iterations=20, replicates=3)),
}


@pytest.mark.parametrize("claim_id", list(GUARDED))
def test_check_keeps_the_device_boundary(claim_id: str) -> None:
    check, make_model, regime = GUARDED[claim_id]
    with device_guard():
        outcome = check(make_model, regime, level=LEVEL, device="cpu")
    assert any(f.claim == claim_id for f in outcome.findings)


def test_every_claim_runs_under_the_guard() -> None:
    from fc_check.catalogue import CLAIMS

    covered = set(GUARDED) | {f"figure-3d/{a}" for a in ("gelu", "sigmoid", "tanh")}  # one check function serves all four
    assert covered == set(CLAIMS)
