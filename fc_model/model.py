"""The model under test (data, network, and the pieces a mutant may replace) and device choice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from fc_model.config import FeatureModel, Network
from fc_model.data import Sample, dictionary, sample_latent
from fc_model.network import hinge_gradient

GradientFn = Callable[..., torch.Tensor]
SamplerFn = Callable[..., Sample]
InitFn = Callable[[Network, FeatureModel, torch.Generator, int, int, torch.dtype], torch.Tensor]


def gaussian_init(net: Network, fm: FeatureModel, gen: torch.Generator, replicates: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
    """``w_k(0) ~ N(0, sigma0^2 I_dim)`` with ``sigma0 = 1/sqrt(d)`` unless set."""
    w = torch.randn((replicates, net.m, dim), generator=gen, device=gen.device, dtype=dtype)
    return w.mul_(net.init_scale(fm.d))


@dataclass(frozen=True)
class TheoryModel:
    """The model under test: data, network, and the pieces a mutant may replace.

    ``gradient``, ``sampler``, ``init`` and ``dictionary`` default to the paper's model; the mutants in
    ``tests/`` swap one of them for a deliberately broken version and are named by ``name``. A
    sampler has ``sample_latent``'s signature, keywords included (the simulator passes
    ``workspace``; a wrapper forwards ``**kw``), and draws iid across replicates.
    """

    features: FeatureModel = field(default_factory=FeatureModel)
    network: Network = field(default_factory=Network)
    gradient: GradientFn = hinge_gradient
    sampler: SamplerFn = sample_latent
    init: InitFn = gaussian_init
    dictionary: Callable[[FeatureModel, torch.Generator, int, torch.dtype], torch.Tensor] = dictionary
    name: str = "paper"

    def __post_init__(self) -> None:
        if not isinstance(self.features, FeatureModel):
            raise ValueError(f"features must be a FeatureModel, got {self.features!r}")
        if not isinstance(self.network, Network):
            raise ValueError(f"network must be a Network, got {self.network!r}")



def resolve_device(device: str | torch.device) -> torch.device:
    """``'auto'`` is CUDA when available, else CPU; ``'cpu'``, ``'cuda'``, ``'cuda:N'`` as given."""
    text = str(device)
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu" or text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if text.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {text!r} requested but CUDA is not available; use 'cpu' or 'auto'")
        return torch.device(text)
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {text!r}")
