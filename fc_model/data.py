"""Seeded samplers for ID, OOD and paired OOD data (Definition 3.1), batched over replicates.

All samplers return tensors with a leading replicate dimension ``R``. Latent samples ``z``
have shape ``R x n x d0``; labels ``y`` are ``R x n`` in ``{-1, +1}``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from fc_model.config import FeatureModel

STREAMS = ("dictionary", "init", "eval", "train", "probe")


def generator(seed: int, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
    """An independent, reproducible random stream for ``(seed, stream)``.

    Streams are separate so that, for one master seed, the data and the initial weights do
    not depend on the activation, the step size or the number of steps (coupled contrasts).
    """
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {STREAMS}, got {stream!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    state = np.random.SeedSequence([seed, STREAMS.index(stream)]).generate_state(2, dtype=np.uint32)
    gen = torch.Generator(device=torch.device(device))
    gen.manual_seed(int(state[0]) << 31 ^ int(state[1]))
    return gen


class Sample(NamedTuple):
    z: torch.Tensor  # R x n x d0, ID latent features
    y: torch.Tensor  # R x n, labels in {-1, +1}
    z_ood: torch.Tensor | None = None  # R x n x d0, paired OOD features (same y and core)


def uniforms(gen: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``U[0, 1)`` draws of ``shape`` from the stream ``gen``, on ``gen``'s device.

    On CPU the bulk draw is made by numpy's PCG64, seeded from one 63-bit draw of ``gen``: about
    three times the throughput of torch's CPU generator, which bounds the simulator's step. The
    result is still a deterministic function of ``gen``'s state, and ``gen`` advances, so
    successive calls give independent draws. On CUDA ``gen`` draws directly.
    """
    if gen.device.type != "cpu":
        return torch.rand(shape, generator=gen, device=gen.device, dtype=dtype)
    seed = int(torch.randint(0, 2**63 - 1, (), generator=gen))
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    return torch.from_numpy(np.random.Generator(np.random.PCG64(seed)).random(shape, dtype=np_dtype)).to(dtype)


def sample_latent(
    fm: FeatureModel,
    gen: torch.Generator,
    replicates: int,
    n: int,
    *,
    paired_ood: bool = False,
    ood: bool = False,
    dtype: torch.dtype = torch.float32,
) -> Sample:
    """Draw ``n`` samples per replicate in latent coordinates.

    ``ood=True`` draws the background from ``fm.ood_background``. ``paired_ood=True`` also
    returns a paired OOD set: the same labels and core draws, the background mapped through the
    OOD interval from the same uniform draws (a quantile coupling, so that paired ID/OOD
    differences carry no extra sampling noise).
    """
    k = fm.k_core
    u = uniforms(gen, (replicates, n, 1 + k + fm.k_bg), dtype)
    positive = u[..., 0] < 0.5
    y = positive.to(dtype).mul_(2).sub_(1)
    core = fm.core.from_unit(u[..., 1 : 1 + k])
    u_bg = u[..., 1 + k :]
    # z is filled in place, slice by slice: several times faster than where/cat on strided slices
    z = torch.empty((replicates, n, fm.d0), dtype=dtype, device=u.device)
    if fm.layout == "disjoint":
        own, other = z[..., :k], z[..., k : 2 * k]
        torch.mul(core, positive.unsqueeze(-1), out=own)  # the core in S+ for y = +1, zero for y = -1
        torch.sub(core, own, out=other)  # and the reverse in S- (exact: core - core = 0, core - 0 = core)
        width = 2 * k
    else:
        torch.mul(core, y.unsqueeze(-1), out=z[..., :k])
        width = k
    z[..., width:] = (fm.ood_background if ood else fm.background).from_unit(u_bg)
    z_ood = None
    if paired_ood:
        z_ood = z.clone()
        z_ood[..., width:] = fm.ood_background.from_unit(u_bg)
    return Sample(z, y, z_ood)


def dictionary(fm: FeatureModel, gen: torch.Generator, replicates: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Per-replicate feature dictionary ``M`` (``R x d x d0``, orthonormal columns, QR of a Gaussian)."""
    return orthonormal_columns(gen, replicates, fm.d, fm.d0, dtype)


def orthonormal_columns(gen: torch.Generator, replicates: int, rows: int, cols: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``R x rows x cols`` matrices with orthonormal columns: QR of a Gaussian draw (float64)."""
    q, r = torch.linalg.qr(torch.randn((replicates, rows, cols), generator=gen, device=gen.device, dtype=torch.float64))
    # fix the sign ambiguity of QR so that the result is a deterministic function of the draw
    return (q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)).to(dtype)


def to_input(z: torch.Tensor, M: torch.Tensor, noise: float = 0.0, gen: torch.Generator | None = None) -> torch.Tensor:
    """``x = M z + xi`` for latent samples ``z`` (``R x n x d0``) and dictionaries ``M``."""
    x = torch.bmm(z, M.transpose(1, 2))
    if noise > 0:
        if gen is None:
            raise ValueError("a generator is required when noise > 0")
        x = x + noise * torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
    return x


def label_background_correlation(s: Sample, fm: FeatureModel) -> torch.Tensor:
    """Per replicate, the Pearson correlation between ``y`` and the mean background feature."""
    bg = s.z[..., fm.d0 - fm.k_bg :].mean(-1)
    yc = s.y - s.y.mean(-1, keepdim=True)
    bc = bg - bg.mean(-1, keepdim=True)
    return (yc * bc).sum(-1) / (yc.norm(dim=-1) * bc.norm(dim=-1))
