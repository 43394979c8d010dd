"""Graded departures: each claim family's model moved away from the paper's by a strength ``s``.

A mutant (``tests/mutants.py``) is one broken model on which a check must FAIL; a departure is a
family of models indexed by a strength, ``s = 0`` being the paper's model (or the claim's own
model), along which the calibration study measures P(the check reports FAIL): the check's power
curve. Each departure names the tests it applies to; ``apply(call, s)`` is that test's check call
on the model at strength ``s``. The model pieces are frozen dataclasses (equal at equal strength),
so that the memoised simulators share one run between the claims of one model and strength.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch

from fc_model import Activation, FeatureModel, Network, TheoryModel, Uniform, sample_latent
from fc_model.data import Sample
from fc_model.model import gaussian_init

# --- model pieces at a strength --------------------------------------------------------------


@dataclass(frozen=True)
class NoisyLabels:
    """The paper's sampler with each label flipped with probability ``rate`` (after the features are drawn)."""

    rate: float

    def __call__(self, fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw: Any) -> Sample:
        s = sample_latent(fm, gen, replicates, n, **kw)
        flip = torch.rand(s.y.shape, generator=gen, device=gen.device, dtype=s.y.dtype) < self.rate
        return Sample(s.z, torch.where(flip, -s.y, s.y), s.z_ood)


@dataclass(frozen=True)
class LabelShiftedBackground:
    """The paper's sampler with the ID background mean shifted by ``shift * y``: a label-background correlation."""

    shift: float

    def __call__(self, fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw: Any) -> Sample:
        s = sample_latent(fm, gen, replicates, n, **kw)
        z = s.z.clone()
        z[..., fm.bg.start : fm.bg.stop] += self.shift * s.y.unsqueeze(-1)
        return Sample(z, s.y, s.z_ood)


@dataclass(frozen=True)
class OtherCorePresent:
    """The other class's core features drawn (not zeroed) with probability ``rate`` per sample."""

    rate: float

    def __call__(self, fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw: Any) -> Sample:
        s = sample_latent(fm, gen, replicates, n, **kw)
        extra = fm.core.from_unit(torch.rand((replicates, n, fm.k_core), generator=gen, device=s.z.device, dtype=s.z.dtype))
        on = (torch.rand((replicates, n, 1), generator=gen, device=s.z.device, dtype=s.z.dtype) < self.rate)
        pos = (s.y > 0).unsqueeze(-1)

        def fill(z: torch.Tensor) -> torch.Tensor:
            z = z.clone()
            neg, posr = slice(fm.core_neg.start, fm.core_neg.stop), slice(fm.core_pos.start, fm.core_pos.stop)
            z[..., neg] = torch.where(pos & on, extra, z[..., neg])
            z[..., posr] = torch.where(~pos & on, extra, z[..., posr])
            return z

        return Sample(fill(s.z), s.y, None if s.z_ood is None else fill(s.z_ood))


@dataclass(frozen=True)
class OwnCoreBiasedInit:
    """The Gaussian init plus ``bias`` init scales on each neuron's own core features."""

    bias: float

    def __call__(self, net: Network, fm: FeatureModel, gen: torch.Generator, replicates: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
        w = gaussian_init(net, fm, gen, replicates, dim, dtype)
        s = self.bias * net.init_scale(fm.d)
        w[:, : net.m // 2, fm.core_pos.start : fm.core_pos.stop] += s
        w[:, net.m // 2 :, fm.core_neg.start : fm.core_neg.stop] += s
        return w


@dataclass(frozen=True)
class BiasedEstimator:
    """Lemma 1.1's gradient plus a constant ``bias / m`` (a biased estimator of the population gradient)."""

    bias: float

    def __call__(self, act: Activation, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        from fc_model.network import closed_form_gradient

        return closed_form_gradient(act, W, x, y, a) + self.bias / W.shape[1]


@dataclass(frozen=True)
class ScaledGradient:
    """Lemma 1.1's closed-form gradient times ``1 + error``: a relative error of ``error`` in every
    entry, for the exact identities (their tolerance is a relative one)."""

    error: float

    def __call__(self, act: Activation, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        from fc_model.network import hinge_gradient

        return hinge_gradient(act, W, x, y, a) * (1.0 + self.error)


# --- on a theory model --------------------------------------------------------------------------


def leaky_from_relu(model: TheoryModel, s: float) -> TheoryModel:
    """ReLU (``s = 0``) to LeakyReLU(``s``): the activation's asymmetry, the source of contamination, fades."""
    return model if s == 0 else replace(model, network=replace(model.network, activation=Activation("leaky_relu", s)))


def leaky_from_identity(model: TheoryModel, s: float) -> TheoryModel:
    """Identity (``s = 0``) to LeakyReLU(``1 - s``): a linear network made asymmetric."""
    return model if s == 0 else replace(model, network=replace(model.network, activation=Activation("leaky_relu", 1.0 - s)))


def background_towards_zero_mean(model: TheoryModel, c: float) -> TheoryModel:
    """ID background ``U[-c, 1 - c]``: its mean ``1/2 - c`` falls to 0 at ``c = 1/2`` (no contamination)."""
    fm = model.features
    return model if c == 0 else replace(model, features=replace(fm, background=Uniform(fm.background.low - c, fm.background.high - c)))


def smaller_ood_shift(model: TheoryModel, s: float) -> TheoryModel:
    """OOD background ``U[s - 1, s]``: the shift from the ID ``U[0, 1]`` shrinks to none at ``s = 1``."""
    return model if s == 0 else replace(model, features=replace(model.features, ood_background=Uniform(s - 1.0, s)))


def with_sampler(model: TheoryModel, sampler: Any, s: float) -> TheoryModel:
    return model if s == 0 else replace(model, sampler=sampler(s), name=f"{type(sampler(s)).__name__}({s:g})")


def init_exponent(model: TheoryModel, s: float) -> TheoryModel:
    """Init scale ``d^-(1/2 - s)`` (``s = 0``: the paper's ``1/sqrt(d)``): ``T0``'s dependence on ``d`` moves away from ``d^-1/2``."""
    return model if s == 0 else replace(model, network=replace(model.network, sigma0=model.features.d ** -(0.5 - s)))


def larger_init(model: TheoryModel, k: float) -> TheoryModel:
    """Init scale ``k / sqrt(d)`` (``k = 1``: the paper's): the onset comes later as ``k`` grows."""
    return model if k == 1 else replace(model, network=replace(model.network, sigma0=k / math.sqrt(model.features.d)))


# --- departures by test ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Departure:
    """A graded departure of one claim family, applied to the listed tests' check calls."""

    name: str
    strength: str  # what s is, in words
    strengths: tuple[float, ...]
    tests: tuple[str, ...]
    apply: Callable[[Any, float], Any]  # (CheckCall, s) -> CheckCall
    heavy: bool = False  # costly families: studied under default only


@dataclass(frozen=True)
class _MovedModel:
    """``make``'s model moved by ``transform`` at strength ``s``: a picklable callable (where ``make``
    and ``transform`` are module-level functions), so that the study can run its pools in other processes."""

    make: Callable[..., TheoryModel]
    transform: Callable[[TheoryModel, float], TheoryModel]
    s: float

    def __call__(self, *a: Any, **k: Any) -> TheoryModel:
        return self.transform(self.make(*a, **k), self.s)


def _on_model(transform: Callable[[TheoryModel, float], TheoryModel]) -> Callable[[Any, float], Any]:
    """Apply a model transform to a check call whose first argument makes the model (any signature)."""

    def apply(call: Any, s: float) -> Any:
        return replace(call, args=(_MovedModel(call.args[0], transform, s), *call.args[1:]))

    return apply


def zero_mean_background_moved(model: TheoryModel, s: float) -> TheoryModel:
    """The zero-mean control's background ``U[-1, 1]`` moved to ``U[-1 + s, 1 + s]`` (mean ``s``); a
    model whose background is not ``U[-1, 1]`` (the control's U[0,1] run) is kept."""
    bg = model.features.background
    if s == 0 or (bg.low, bg.high) != (-1.0, 1.0):
        return model
    return replace(model, features=replace(model.features, background=Uniform(-1.0 + s, 1.0 + s)))


def _estimator(call: Any, s: float) -> Any:
    return call if s == 0 else replace(call, args=(BiasedEstimator(s), *call.args[1:]))


def _gradient_error(call: Any, s: float) -> Any:
    return call if s == 0 else replace(call, args=(ScaledGradient(s), *call.args[1:]))


def _full_space_noise(call: Any, s: float) -> Any:
    return call if s == 0 else replace(call, kwargs={**call.kwargs, "full_noise": s})


def general_slope(cfg: Any, s: float) -> Any:
    """The general setting's (deep network's) ReLU made LeakyReLU(``s``): linear at ``s = 1``."""
    return cfg if s == 0 else replace(cfg, activation=Activation("leaky_relu", s))


def border_towards_grey(model: Any, s: float) -> Any:
    """The CNN's training border faded toward its own grey level: colour ``g + (1 - s)(c - g)`` per
    channel (``g`` the channels' mean), grey (no chroma, the only colour the digits lack) at ``s = 1``."""
    from fc_model.cnn import Border

    if s == 0:
        return model
    c = model.bordered.colour
    g = sum(c) / 3
    return replace(model, bordered=Border(tuple(g + (1.0 - s) * (v - g) for v in c), model.bordered.kind))  # type: ignore[arg-type]


def digits_border_mean(model: Any, c: float) -> Any:
    """Digits: the border drawn ``U[-c, 1 - c]`` (mean ``1/2 - c``), in a digits task, a representation
    figure's families or a distillation config alike."""
    if c == 0:
        return model
    if hasattr(model, "task"):
        return replace(model, task=replace(model.task, background=Uniform(-c, 1.0 - c)))
    if hasattr(model, "distillation"):  # the representation figures' families
        return replace(model, distillation=replace(model.distillation, background=Uniform(-c, 1.0 - c)))
    return replace(model, background=Uniform(-c, 1.0 - c))  # a distillation config


def stopped_early(cfg: Any, s: float) -> Any:
    """The general setting trained for a fraction ``1 - s`` of its iterations (stopped early)."""
    if s == 0:
        return cfg
    iterations = max(1, round(cfg.iterations * (1 - s)))
    return replace(cfg, iterations=iterations, record_every=max(1, iterations // 40))


def distillation_ood_shift(cfg: Any, s: float) -> Any:
    """Distillation in the feature model: the OOD background ``U[s - 1, s]``."""
    return cfg if s == 0 else replace(cfg, features=replace(cfg.features, ood_background=Uniform(s - 1.0, s)))


def student_made_nonlinear(cfg: Any, s: float) -> Any:
    """The linear student replaced by a two-layer student with LeakyReLU(``1 - s``) (linear at ``s = 0``)."""
    return cfg if s == 0 else replace(cfg, linear=False, activation=Activation("leaky_relu", 1.0 - s))


def noisy_labels(model: TheoryModel, q: float) -> TheoryModel:
    return with_sampler(model, NoisyLabels, q)


def other_core_present(model: TheoryModel, q: float) -> TheoryModel:
    return with_sampler(model, OtherCorePresent, q)


def label_shifted_background(model: TheoryModel, rho: float) -> TheoryModel:
    return with_sampler(model, LabelShiftedBackground, rho)


def own_core_biased_init(model: TheoryModel, b: float) -> TheoryModel:
    return model if b == 0 else replace(model, init=OwnCoreBiasedInit(b))


T42, T43, T44, F3 = "theorems/test_theorem_4_2.py", "theorems/test_theorem_4_3.py", "theorems/test_theorem_4_4.py", "properties/test_figure_3abc.py"

DEPARTURES: tuple[Departure, ...] = (
    Departure("leaky-from-relu", "LeakyReLU slope s (s = 0: ReLU)", (0.0, 0.5, 0.75, 0.9),
              (f"{T42}::test_contamination_ratio", f"{T42}::test_background_growth", f"{T43}::test_ood_gap", f"{T44}::test_relu_contrast",
               f"{F3}::test_figure_3a", "theorems/test_lemma_1_1.py::test_relu_background_projection_tracks_asymmetry"), _on_model(leaky_from_relu)),
    Departure("leaky-from-identity", "LeakyReLU slope 1 - s (s = 0: the identity)", (0.0, 0.05, 0.1, 0.2),
              (f"{T44}::test_no_contamination", f"{T44}::test_no_ood_gap", "theorems/test_lemma_1_1.py::test_linear_background_projection_zero"),
              _on_model(leaky_from_identity)),
    Departure("background-mean", "ID background U[-c, 1 - c] (mean 1/2 - c; c = 0: the paper's U[0,1])", (0.0, 0.25, 0.4, 0.5),
              (f"{T42}::test_background_tracks_asymmetry", f"{F3}::test_figure_3c", "properties/test_dose_response.py::test_dose_response",
               "maps/test_contamination.py::test_contamination_map", "maps/test_ood_gap.py::test_ood_gap_map",
               "maps/test_boundary_contamination.py::test_contamination_boundary", "maps/test_boundary_ood_gap.py::test_ood_gap_boundary"),
              _on_model(background_towards_zero_mean)),
    Departure("label-noise", "labels flipped with probability q", (0.0, 0.1, 0.2, 0.35),
              (f"{T43}::test_id_risk", f"{F3}::test_figure_3b", "theorems/test_theorem_4_1.py::test_persistence", f"{T42}::test_own_core_growth",
               "maps/test_persistence.py::test_persistence_map", "maps/test_boundary_persistence.py::test_persistence_boundary"),
              _on_model(noisy_labels)),
    Departure("other-core", "the other class's core present with probability q", (0.0, 0.25, 0.5, 1.0),
              (f"{T42}::test_other_core_no_growth",), _on_model(other_core_present)),
    Departure("ood-shift", "OOD background U[s - 1, s] (s = 1: no shift)", (0.0, 0.5, 0.75, 1.0),
              (f"{T43}::test_ood_error_grows_with_background",), _on_model(smaller_ood_shift)),
    Departure("own-core-init", "init offset b x sigma0 on each neuron's own core features", (0.0, 0.5, 1.0, 2.0),
              ("theorems/test_theorem_4_1.py::test_no_asymmetry_at_init",), _on_model(own_core_biased_init)),
    Departure("init-scale", "init scale k / sqrt(d) (k = 1: the paper's)", (1.0, 2.0, 4.0, 8.0),
              ("maps/test_onset.py::test_onset_map", "maps/test_boundary_onset.py::test_onset_boundary"), _on_model(larger_init)),
    Departure("zero-mean-shift", "the control's zero-mean background moved to U[-1 + s, 1 + s]", (0.0, 0.1, 0.2, 0.4),
              ("properties/test_controls.py::test_zero_mean_background",), _on_model(zero_mean_background_moved)),
    Departure("label-background", "ID background mean shifted by rho y", (0.0, 0.01, 0.02, 0.05),
              ("properties/test_controls.py::test_no_spurious_correlation",), _on_model(label_shifted_background)),
    Departure("estimator-bias", "a constant bias b / m added to the gradient estimator", (0.0, 0.01, 0.02, 0.05),
              ("theorems/test_lemma_1_2.py::test_hoeffding_exceedance", "theorems/test_lemma_1_2.py::test_rate"), _estimator),
    Departure("init-exponent", "init scale d^-(1/2 - s) (s = 0: the paper's 1/sqrt(d))", (0.0, 0.1, 0.2, 0.3),
              ("theorems/test_theorem_4_1.py::test_t0_scaling",), _on_model(init_exponent), heavy=True),
    Departure("fewer-iterations", "training stopped after a fraction 1 - s of the iterations", (0.0, 0.5, 0.9, 0.98),
              ("properties/test_figure_3d.py::test_figure_3d",), _on_model(stopped_early), heavy=True),
    Departure("distillation-shift", "OOD background U[s - 1, s] (s = 1: no shift)", (0.0, 0.5, 0.8, 0.95),
              ("properties/test_distillation.py::test_relu_student",), _on_model(distillation_ood_shift), heavy=True),
    Departure("distillation-nonlinear", "the linear student made two-layer LeakyReLU(1 - s)", (0.0, 0.25, 0.5, 1.0),
              ("properties/test_distillation.py::test_linear_student",), _on_model(student_made_nonlinear), heavy=True),
    Departure("border-mean", "digits border U[-c, 1 - c] (mean 1/2 - c)", (0.0, 0.25, 0.4, 0.5),
              ("properties/test_digits.py::test_contamination", "properties/test_digits.py::test_border_sign", "properties/test_digits.py::test_ood_gap",
               "properties/test_digits.py::test_distillation", "properties/test_digits_figure1.py::test_three_families",
               "properties/test_digits_figure4.py::test_activation_rates", "properties/test_digits_figure5.py::test_selectivity"), _on_model(digits_border_mean), heavy=True),
    Departure("gradient-error", "the closed-form gradient times 1 + e (a relative error e)", (0.0, 2e-11, 2e-10, 2e-9),
              ("theorems/test_lemma_1_1.py::test_closed_form_equals_autograd", "theorems/test_lemma_1_1.py::test_projection_identity"), _gradient_error),
    Departure("full-space-noise", "input noise sigma_xi = s in the full-space run only", (0.0, 1e-9, 1e-8, 1e-7),
              ("properties/test_latent_reduction.py::test_latent_equals_full",), _full_space_noise),
    Departure("general-slope", "the deep network's ReLU made LeakyReLU(s) (s = 1: linear)", (0.0, 0.25, 0.5, 1.0),
              ("properties/test_figure_3d_depth.py::test_depth_3", "properties/test_figure_3d_depth.py::test_depth_4",
               "properties/test_theory_matching.py::test_theory_matching"), _on_model(general_slope), heavy=True),
    Departure("cnn-border-chroma", "the CNN's training border faded by s toward its grey level (s = 1: grey)", (0.0, 0.5, 0.75, 1.0),
              ("properties/test_figure_6_cnn.py::test_feature_visualisation", "properties/test_figure_6_cnn.py::test_ood_gap",
               "properties/test_figure_6_cnn.py::test_grad_cam"), _on_model(border_towards_grey), heavy=True),
)


def departure_of(test: str) -> Departure | None:
    """The departure that applies to a test (its id without a parametrisation), if any."""
    base = test.split("[")[0]
    return next((d for d in DEPARTURES if base in d.tests), None)
