"""Representation distillation in the feature model (Section 2, Figure 1 of the paper).

The teacher's representation is the core coordinates ``z_core`` (it generalises OOD by
construction). A student ``rep(x) = W2 sigma(W1 x + b1) + b2`` (both layers trained; ``sigma``
ReLU, or the identity for a linear student ``rep(x) = W x + b``) is fitted to it with the mean
squared error and online SGD on ID data. Trained on latent inputs ``z``: the Gaussian init is
rotation invariant, so this has the law of training on ``x = M z`` with orthonormal ``M``.
A linear probe (least squares on ``[rep, 1]``, fitted on ID data) measures what the
representation supports OOD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from fc_model.config import Activation, FeatureModel, _finite, _int_at_least
from fc_model.data import generator, sample_latent
from fc_model.host import to_host
from fc_model.model import resolve_device
from fc_model.network import activate


@dataclass(frozen=True)
class Distillation:
    features: FeatureModel = field(default_factory=lambda: FeatureModel(k_core=8, k_bg=16, d=64))
    activation: Activation = field(default_factory=Activation)
    linear: bool = False
    width: int = 128
    lr: float = 0.05
    batch: int = 64
    steps: int = 4000
    n_eval: int = 4000
    train_on_ood: bool = False  # a deliberately different protocol (the OOD-aware student)

    def __post_init__(self) -> None:
        _int_at_least("width", self.width, 1)
        _int_at_least("batch", self.batch, 1)
        _int_at_least("steps", self.steps, 0)
        _int_at_least("n_eval", self.n_eval, 4)
        _finite("lr", self.lr)
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclass
class DistillResult:
    """Per replicate (``R``), on the host."""

    mse_id: torch.Tensor  # R: representation MSE per coordinate
    mse_ood: torch.Tensor
    probe_student_ood: torch.Tensor  # R: OOD accuracy of a linear probe fitted on ID representations
    probe_teacher_ood: torch.Tensor


def _core(fm: FeatureModel, z: torch.Tensor) -> torch.Tensor:
    return z[..., : fm.d0 - fm.k_bg]


def _probe_accuracy(rep_fit: torch.Tensor, y_fit: torch.Tensor, rep_test: torch.Tensor, y_test: torch.Tensor) -> torch.Tensor:
    ones = torch.ones_like(rep_fit[..., :1])
    X = torch.cat([rep_fit, ones], -1).double()
    ridge = 1e-6 * torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)
    beta = torch.linalg.solve(X.transpose(1, 2) @ X + ridge, X.transpose(1, 2) @ y_fit.double().unsqueeze(-1))
    pred = torch.cat([rep_test, torch.ones_like(rep_test[..., :1])], -1).double() @ beta
    return ((pred.squeeze(-1) > 0).double() * 2 - 1 == y_test.double()).double().mean(-1)


def distill(cfg: Distillation, replicates: int, seed: int, *, device: str | torch.device = "cpu") -> DistillResult:
    """Train ``replicates`` students on ``device`` and measure them; the results cross to the host once."""
    dev = resolve_device(device)
    fm, R = cfg.features, replicates
    D, K = fm.d0, fm.d0 - fm.k_bg
    g = generator(seed, "init", dev)
    if cfg.linear:
        params = [torch.randn((R, D, K), generator=g, device=dev) / math.sqrt(D), torch.zeros((R, 1, K), device=dev)]
    else:
        params = [torch.randn((R, D, cfg.width), generator=g, device=dev) / math.sqrt(D), torch.zeros((R, 1, cfg.width), device=dev),
                  torch.randn((R, cfg.width, K), generator=g, device=dev) / math.sqrt(cfg.width), torch.zeros((R, 1, K), device=dev)]
    for p in params:
        p.requires_grad_(True)

    def rep(z: torch.Tensor) -> torch.Tensor:
        if cfg.linear:
            return torch.baddbmm(params[1], z, params[0])
        return torch.baddbmm(params[3], activate(cfg.activation, torch.baddbmm(params[1], z, params[0])), params[2])

    tg = generator(seed, "train", dev)
    for _ in range(cfg.steps):
        s = sample_latent(fm, tg, R, cfg.batch, paired_ood=cfg.train_on_ood)
        z = torch.cat([s.z, s.z_ood], 1) if cfg.train_on_ood else s.z
        loss = ((rep(z) - _core(fm, z)) ** 2).mean((-1, -2)).sum()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gr in zip(params, grads, strict=True):
                p.sub_(gr, alpha=cfg.lr)
    with torch.no_grad():
        ev = sample_latent(fm, generator(seed, "eval", dev), R, cfg.n_eval, paired_ood=True)
        fit = sample_latent(fm, generator(seed, "probe", dev), R, cfg.n_eval)
        r_id, r_ood, r_fit = rep(ev.z), rep(ev.z_ood), rep(fit.z)
        mse_id = ((r_id - _core(fm, ev.z)) ** 2).mean((-1, -2))
        mse_ood = ((r_ood - _core(fm, ev.z_ood)) ** 2).mean((-1, -2))
        student = _probe_accuracy(r_fit, fit.y, r_ood, ev.y)
        teacher = _probe_accuracy(_core(fm, fit.z), fit.y, _core(fm, ev.z_ood), ev.y)
    host = to_host({"mse_id": mse_id, "mse_ood": mse_ood, "student": student, "teacher": teacher})  # one crossing
    return DistillResult(host["mse_id"], host["mse_ood"], host["student"], host["teacher"])
