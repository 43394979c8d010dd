"""Deliberately broken models. Every claim's check must report FAIL on its mutant."""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from fc_check.regimes import TheoryRegime
from fc_model import Activation, FeatureModel, Network, TheoryModel, Uniform, sample_latent
from fc_model.config import Activation as Act
from fc_model.data import Sample
from fc_model.network import activate, closed_form_gradient, hinge_gradient
from fc_model.simulate import gaussian_init


def gradient_without_indicator(act: Act, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Lemma 1.1 with the activation indicator dropped (the linear network's formula for ReLU)."""
    pre = torch.bmm(x, W.transpose(1, 2))
    f = activate(act, pre) @ a
    coef = -(y * (y * f < 1).to(x.dtype)) / x.shape[1]
    return torch.bmm((coef.unsqueeze(-1) * a.expand(*pre.shape)).transpose(1, 2), x)


def biased_gradient(act: Act, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """A gradient estimator with a constant bias of half a term's range."""
    return closed_form_gradient(act, W, x, y, a) + 0.5 / W.shape[1]


def gradient_ascent(act: Act, W: torch.Tensor, x: torch.Tensor, y: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """The update's sign flipped."""
    return -hinge_gradient(act, W, x, y, a)


def shuffled_labels(fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw) -> Sample:  # noqa: ANN003
    """Labels drawn independently of the features: no class structure left to learn."""
    s = sample_latent(fm, gen, replicates, n, **kw)
    y = torch.randint(0, 2, s.y.shape, generator=gen, device=s.y.device).to(s.y.dtype) * 2 - 1
    return Sample(s.z, y, s.z_ood)


def both_cores_present(fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw) -> Sample:  # noqa: ANN003
    """The other class's core features are not zeroed: they behave like background."""
    s = sample_latent(fm, gen, replicates, n, **kw)
    extra = fm.core.from_unit(torch.rand((replicates, n, fm.k_core), generator=gen, device=s.z.device, dtype=s.z.dtype))
    pos = (s.y > 0).unsqueeze(-1)

    def fill(z: torch.Tensor) -> torch.Tensor:
        z = z.clone()
        z[..., fm.core_neg.start : fm.core_neg.stop] = torch.where(pos, extra, z[..., fm.core_neg.start : fm.core_neg.stop])
        z[..., fm.core_pos.start : fm.core_pos.stop] = torch.where(pos, z[..., fm.core_pos.start : fm.core_pos.stop], extra)
        return z

    return Sample(fill(s.z), s.y, None if s.z_ood is None else fill(s.z_ood))


def label_dependent_background(fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw) -> Sample:  # noqa: ANN003
    """Background mean shifted by 0.1 y: a spurious correlation."""
    s = sample_latent(fm, gen, replicates, n, **kw)
    z = s.z.clone()
    z[..., fm.bg.start : fm.bg.stop] += 0.1 * s.y.unsqueeze(-1)
    return Sample(z, s.y, s.z_ood)


def background_ignored(fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw) -> Sample:  # noqa: ANN003
    """A sampler that ignores the configured ID background and always draws U[0,1]."""
    return sample_latent(replace(fm, background=Uniform(0.0, 1.0)), gen, replicates, n, **kw)


def own_core_biased_init(net: Network, fm: FeatureModel, gen: torch.Generator, replicates: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
    """Init with a positive offset on each neuron's own core features (asymmetric from the start)."""
    w = gaussian_init(net, fm, gen, replicates, dim, dtype)
    s = 3 * net.init_scale(fm.d)
    w[:, : net.m // 2, fm.core_pos.start : fm.core_pos.stop] += s
    w[:, net.m // 2 :, fm.core_neg.start : fm.core_neg.stop] += s
    return w


def unscaled_init_network(regime: TheoryRegime) -> TheoryModel:
    """Init scale fixed at 2^-7 instead of 1/sqrt(d): T0 stops depending on d."""
    from theorems.test_theorem_4_1 import scaling_model

    return replace(scaling_model(regime), network=Network(m=regime.m, sigma0=2.0**-7))


def non_orthonormal_dictionary(fm: FeatureModel, gen: torch.Generator, replicates: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Gaussian columns scaled by 1/sqrt(d), without the QR step."""
    return (torch.randn((replicates, fm.d, fm.d0), generator=gen, device=gen.device, dtype=torch.float64) / math.sqrt(fm.d)).to(dtype)


def identity_net(regime: TheoryRegime) -> TheoryModel:
    return regime.model(Activation("identity"))


def relu_net(regime: TheoryRegime) -> TheoryModel:
    return regime.model(Activation("relu"))


def zero_mean_background(regime: TheoryRegime) -> TheoryModel:
    return regime.model(background=Uniform(-1.0, 1.0))


def no_ood_shift(regime: TheoryRegime) -> TheoryModel:
    return regime.model(ood_background=Uniform(0.0, 1.0))


def with_gradient(fn) -> object:  # noqa: ANN001
    return lambda regime: replace(regime.model(), gradient=fn, name=fn.__name__)


def with_sampler(fn) -> object:  # noqa: ANN001
    return lambda regime: replace(regime.model(), sampler=fn, name=fn.__name__)


def with_init(fn) -> object:  # noqa: ANN001
    return lambda regime: replace(regime.model(), init=fn, name=fn.__name__)


def unit_init_network(regime: TheoryRegime) -> TheoryModel:
    """Init N(0, 1) instead of N(0, 1/d): the weights start far from the origin, so the onset comes late."""
    return replace(regime.model(), network=Network(m=regime.m, sigma0=1.0))


def zero_mean_background_at_slope(regime: TheoryRegime, slope: float) -> TheoryModel:
    """The validity maps' slope model with a zero-mean background (U[-1,1])."""
    act = Activation("relu") if slope == 0 else Activation("leaky_relu", slope)
    return regime.model(act, background=Uniform(-1.0, 1.0))


def scaled_background(factor: float) -> object:
    """Background U[0, factor] (OOD -U[0, factor]): its mean scaled by ``factor``, which moves a boundary along k_bg / k_core."""
    def make(regime: TheoryRegime) -> TheoryModel:
        return regime.model(background=Uniform(0.0, factor), ood_background=Uniform(-factor, 0.0))

    make.__name__ = f"background_scaled_by_{factor:g}".replace(".", "_")
    make.__doc__ = f"Background U[0, {factor:g}] (OOD -U[0, {factor:g}]): the background's mean scaled by {factor:g}."
    return make
