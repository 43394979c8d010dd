"""The general numerical setting of Figure 3(d), batched over replicates.

Facts from the authors' public code (the script ``toy.py`` of their GitHub repository
trzhang0116/feature-contamination): logistic loss, AdamW (lr 1e-3, weight decay 1e-3), a
trainable output layer, biases, width 256, 32 core + 32 background coordinates mapped by a
random orthogonal map into input dimension 256, a fixed training set of n = 1000 used full
batch; class +1 core uniform on the unit sphere, class -1 on the radius-2 sphere; background
``U(0,1)^32`` in training and ``-U(0,1)^32`` at test. "Correlation" is the mean over neurons of
the L2 norm of the first-layer weights projected onto the core (background) subspace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from fc_model.config import Activation, Sphere, Uniform, _finite, _int_at_least
from fc_model.data import generator, orthonormal_columns
from fc_model.host import to_host
from fc_model.model import resolve_device
from fc_model.network import activate


@dataclass(frozen=True)
class GeneralSetting:
    k_core: int = 32
    k_bg: int = 32
    d: int = 256
    width: int = 256
    n_train: int = 1000
    n_test: int = 1000
    iterations: int = 20000
    lr: float = 1e-3
    weight_decay: float = 1e-3
    activation: Activation = field(default_factory=Activation)
    core_pos: Sphere = field(default_factory=lambda: Sphere(1.0))
    core_neg: Sphere = field(default_factory=lambda: Sphere(2.0))
    background: Uniform = field(default_factory=Uniform)
    ood_background: Uniform = field(default_factory=lambda: Uniform(-1.0, 0.0))
    record_every: int = 500

    def __post_init__(self) -> None:
        for name, low in (("k_core", 1), ("k_bg", 1), ("width", 1), ("n_train", 2), ("n_test", 2), ("iterations", 0), ("record_every", 1)):
            _int_at_least(name, getattr(self, name), low)
        _int_at_least("d", self.d, self.k_core + self.k_bg)
        for name in ("lr", "weight_decay"):
            _finite(name, getattr(self, name))
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")


@dataclass
class GeneralResult:
    """Per checkpoint and replicate (``n_checkpoints x R``), on the host."""

    steps: list[int]
    core_corr: torch.Tensor  # n_checkpoints x R
    bg_corr: torch.Tensor
    train_loss: torch.Tensor
    ood_loss: torch.Tensor


def _sphere(gen: torch.Generator, shape: tuple[int, ...], dim: int, radius: float, dtype: torch.dtype) -> torch.Tensor:
    g = torch.randn((*shape, dim), generator=gen, device=gen.device, dtype=dtype)
    return radius * g / g.norm(dim=-1, keepdim=True)


def general_data(cfg: GeneralSetting, gen: torch.Generator, R: int, n: int, dtype: torch.dtype, *, ood: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Latent data ``R x n x (k_core + k_bg)`` and labels ``R x n``."""
    y = torch.randint(0, 2, (R, n), generator=gen, device=gen.device).to(dtype).mul_(2).sub_(1)
    pos = _sphere(gen, (R, n), cfg.k_core, cfg.core_pos.radius, dtype)
    neg = _sphere(gen, (R, n), cfg.k_core, cfg.core_neg.radius, dtype)
    core = torch.where((y > 0).unsqueeze(-1), pos, neg)
    u = torch.rand((R, n, cfg.k_bg), generator=gen, device=gen.device, dtype=dtype)
    bg = (cfg.ood_background if ood else cfg.background).from_unit(u)
    return torch.cat([core, bg], -1), y


def init_params(cfg: GeneralSetting, gen: torch.Generator, R: int, dtype: torch.dtype) -> list[torch.Tensor]:
    """PyTorch's default ``nn.Linear`` init: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights and biases."""

    def u(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
        b = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen, device=gen.device, dtype=dtype) * 2 - 1) * b

    return [u((R, cfg.width, cfg.d), cfg.d), u((R, 1, cfg.width), cfg.d), u((R, 1, cfg.width), cfg.width), u((R, 1, 1), cfg.width)]


def train_general(cfg: GeneralSetting, replicates: int, seed: int, *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> GeneralResult:
    """AdamW on the logistic loss, full batch, ``replicates`` networks batched on dimension 0.

    AdamW is elementwise and each replicate's loss depends only on its own parameters, so one
    optimiser over the stacked tensors is exactly ``replicates`` independent optimisers. The
    parameters and data live on ``device``; the recorded curves cross to the host once, at the end.
    """
    if not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates must be an integer >= 1, got {replicates!r}")
    dev = resolve_device(device)
    R = replicates
    M = orthonormal_columns(generator(seed, "dictionary", dev), R, cfg.d, cfg.k_core + cfg.k_bg, dtype)
    z, y = general_data(cfg, generator(seed, "train", dev), R, cfg.n_train, dtype, ood=False)
    zt, yt = general_data(cfg, generator(seed, "eval", dev), R, cfg.n_test, dtype, ood=True)
    W1, b1, W2, b2 = init_params(cfg, generator(seed, "init", dev), R, dtype)
    # the first layer is stored transposed (R x d x width, contiguous): the forward and weight-gradient
    # bmm then read contiguous operands, about 25% faster on CPU than the nn.Linear layout
    params = [p.requires_grad_(True) for p in (W1.transpose(1, 2).contiguous(), b1, W2, b2)]
    W1t, b1, W2, b2 = params
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    Mt = M.transpose(1, 2).contiguous()  # R x (k_core + k_bg) x d

    def latent_weights() -> torch.Tensor:
        """``M^T W1^T`` (``R x (k_core + k_bg) x width``): row ``i`` is every neuron's projection on feature ``i``."""
        return torch.bmm(Mt, W1t)

    def logits(latent: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
        # x W1^T = (z M^T) W1^T = z (M^T W1^T): the same first layer applied to x = M z, with a third
        # of the multiply-adds (d = 256 against k_core + k_bg = 64). W1 itself, and AdamW, stay in input space.
        h = activate(cfg.activation, torch.baddbmm(b1, latent, P))
        return torch.baddbmm(b2, h, W2.transpose(1, 2)).squeeze(-1)

    steps: list[int] = []
    rows: list[tuple[torch.Tensor, ...]] = []

    def record(step: int, train_loss: torch.Tensor, P: torch.Tensor) -> None:
        with torch.no_grad():
            core = P[:, : cfg.k_core].norm(dim=1).mean(-1)  # per neuron, the norm of its core projection
            bg = P[:, cfg.k_core :].norm(dim=1).mean(-1)
            ood = F.softplus(-yt * logits(zt, P)).mean(-1)
        steps.append(step)
        rows.append((core, bg, train_loss.detach(), ood))

    for it in range(cfg.iterations + 1):
        P = latent_weights()
        loss = F.softplus(-y * logits(z, P)).mean(-1)
        if it % cfg.record_every == 0 or it == cfg.iterations:
            record(it, loss, P.detach())
        if it == cfg.iterations:
            break
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
    names = ("core", "bg", "train", "ood")
    host = to_host({n: torch.stack(c) for n, c in zip(names, zip(*rows, strict=True), strict=True)})  # one crossing to the host
    return GeneralResult(steps, *(host[n] for n in names))
