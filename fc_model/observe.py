"""Observables of the theory setting: activation rates and asymmetry, learned feature
correlations, risks, and Theorem 4.1's onset criterion. Everything stays on the weights' device."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fc_model.data import Sample
from fc_model.model import TheoryModel
from fc_model.network import activate, hinge, own_class, second_layer


@dataclass(frozen=True)
class Onset:
    """Theorem 4.1's criterion: a fraction ``fraction`` of each class's own neurons has ``Delta_k >= delta``."""

    delta: float = 0.5
    fraction: float = 0.25

    def __post_init__(self) -> None:
        if not (0 < self.delta <= 1 and 0 < self.fraction <= 1):
            raise ValueError(f"Onset needs delta in (0, 1] and fraction in (0, 1], got {self}")

    def met(self, frac_pos: torch.Tensor, frac_neg: torch.Tensor) -> torch.Tensor:
        """Whether both classes' fractions of asymmetric neurons reach ``fraction`` (bool)."""
        return (frac_pos >= self.fraction) & (frac_neg >= self.fraction)



def asymmetric_fractions(delta: torch.Tensor, onset: Onset) -> tuple[torch.Tensor, torch.Tensor]:
    """Per replicate, the fractions of own-class +1 and own-class -1 neurons with ``Delta_k >= delta``."""
    asym = (delta >= onset.delta).to(delta.dtype)
    half = delta.shape[-1] // 2
    return asym[:, :half].mean(-1), asym[:, half:].mean(-1)


def observe(model: TheoryModel, V: torch.Tensor, V0: torch.Tensor, ev: Sample, onset: Onset) -> dict[str, torch.Tensor]:
    """The observables from latent weights ``V`` (``R x m x d0``) on the eval set."""
    fm, net = model.features, model.network
    a = second_layer(net.m, V.dtype, V.device)
    yk = own_class(net.m, V.dtype, V.device)
    pre = torch.bmm(ev.z, V.transpose(1, 2))  # R x n x m
    active = (pre > 0).to(V.dtype)
    pos = (ev.y > 0).to(V.dtype)
    n_pos = pos.sum(-1, keepdim=True).clamp_min(1)
    n_neg = (1 - pos).sum(-1, keepdim=True).clamp_min(1)
    p_pos = torch.bmm(pos.unsqueeze(1), active).squeeze(1) / n_pos  # R x m
    p_neg = torch.bmm((1 - pos).unsqueeze(1), active).squeeze(1) / n_neg
    own_pos = yk > 0
    p_own = torch.where(own_pos, p_pos, p_neg)
    p_other = torch.where(own_pos, p_neg, p_pos)
    delta = p_own - p_other
    learned = V - V0
    core_pos = learned[..., fm.core_pos.start : fm.core_pos.stop].mean(-1)
    core_neg = learned[..., fm.core_neg.start : fm.core_neg.stop].mean(-1)
    bg = learned[..., fm.bg.start : fm.bg.stop].mean(-1) if fm.k_bg else torch.zeros_like(core_pos)
    if fm.layout == "disjoint":
        own = torch.where(own_pos, core_pos, core_neg)
        other = torch.where(own_pos, core_neg, core_pos)
    else:
        own = yk * core_pos
        other = torch.full_like(own, float("nan"))
    out = {"p_own": p_own, "p_other": p_other, "delta": delta, "own_core": own, "other_core": other, "background": bg}
    out["frac_asym_pos"], out["frac_asym_neg"] = asymmetric_fractions(delta, onset)
    out["onset_met"] = onset.met(out["frac_asym_pos"], out["frac_asym_neg"]).to(V.dtype)
    for tag, z in (("id", ev.z), ("ood", ev.z_ood)):
        margin = ev.y * (activate(net.activation, torch.bmm(z, V.transpose(1, 2))) @ a)
        out[f"hinge_{tag}"] = hinge(margin).mean(-1)
        out[f"err_{tag}"] = (margin <= 0).to(V.dtype).mean(-1)
        out[f"logistic_{tag}"] = F.softplus(-margin).mean(-1)
    return out


PER_NEURON = ("p_own", "p_other", "delta", "own_core", "other_core", "background")


def reduce_neurons(obs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-replicate summaries kept at every checkpoint (per-neuron values are means over neurons)."""
    return {k: (v.mean(-1) if k in PER_NEURON else v) for k, v in obs.items()}

