"""Batched online-SGD simulator of the theory setting.

``R`` independent replicates run as the leading dimension of one tensor program. By default
the simulator runs in latent coordinates (the latent reduction: with ``noise = 0`` every
gradient lies in the span of the dictionary ``M``, so only ``M^T w_k`` evolves and the cost
does not depend on ``d``; ``d`` enters through the init scale only). ``space='full'`` trains in
input space on ``x = M z + xi``.

The pieces live in their own modules and are re-exported here: the model under test
(``fc_model.model``), the observables (``fc_model.observe``), the hot loop (``fc_model.sgd``)
and ``T0`` (``fc_model.onset``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from fc_model.config import SGD
from fc_model.data import generator
from fc_model.host import groups_to_host
from fc_model.model import GradientFn, InitFn, SamplerFn, TheoryModel, gaussian_init, resolve_device
from fc_model.observe import PER_NEURON, Onset, observe, reduce_neurons
from fc_model.onset import onset_steps
from fc_model.sgd import fused_layout, fused_update, sgd_steps

__all__ = ["PER_NEURON", "GradientFn", "InitFn", "Onset", "SamplerFn", "TheoryModel", "Trajectory", "fused_layout", "fused_update",
           "gaussian_init", "observe", "onset_steps", "resolve_device", "simulate"]


@dataclass
class Trajectory:
    """What a run recorded, on the host: ``history[name]`` is ``n_checkpoints x R``;
    ``final``/``initial`` hold per-neuron observables (``R x m``) at the last and first
    checkpoints. ``weights0`` and ``weights`` (``R x m x D``, latent or full-space) stay on the
    device the run used, so that a caller can go on computing with them there."""

    steps: list[int]
    history: dict[str, torch.Tensor]
    initial: dict[str, torch.Tensor]
    final: dict[str, torch.Tensor]
    weights0: torch.Tensor
    weights: torch.Tensor

    def onset_step(self) -> torch.Tensor:
        """Per replicate, the first recorded step meeting the onset criterion (``nan``: censored)."""
        met = self.history["onset_met"].bool()
        steps = torch.tensor(self.steps, dtype=torch.float64)
        first = torch.where(met.any(0), met.float().argmax(0), torch.full((met.shape[1],), -1))
        return torch.where(first >= 0, steps[first.clamp_min(0)], torch.tensor(float("nan"), dtype=torch.float64))


def simulate(
    model: TheoryModel,
    sgd: SGD,
    replicates: int,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    space: Literal["latent", "full"] = "latent",
    init: torch.Tensor | None = None,
    onset: Onset | None = None,
    chunk_elements: int = 1 << 20,
) -> Trajectory:
    """Train ``replicates`` independent networks with online SGD and record observables.

    ``init`` overrides the initial weights (``R x m x D``, ``D = d0`` in latent space, ``d`` in
    full space), which couples a latent run to a full-space one. The run computes on ``device``
    and reads nothing back while it trains; the recorded observables cross to the host once, at
    the end (see ``Trajectory``). ``T0`` to one step is ``onset_steps``'s job.
    """
    if not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates must be an integer >= 1, got {replicates!r}")
    if space not in ("latent", "full"):
        raise ValueError(f"space must be 'latent' or 'full', got {space!r}")
    onset = onset or Onset()
    dev = resolve_device(device)
    fm, net = model.features, model.network
    if space == "latent" and fm.noise > 0:
        raise ValueError("noise > 0 breaks the latent reduction; use space='full'")
    R, D0 = replicates, fm.d0
    M = model.dictionary(fm, generator(seed, "dictionary", dev), R, dtype) if space == "full" else None
    dim = fm.d if space == "full" else D0
    if init is None:
        W = model.init(net, fm, generator(seed, "init", dev), R, dim, dtype)
    else:
        if tuple(init.shape) != (R, net.m, dim):
            raise ValueError(f"init must have shape {(R, net.m, dim)}, got {tuple(init.shape)}")
        W = init.to(device=dev, dtype=dtype).clone()
    W = fused_layout(W)
    W0 = W.clone()
    ev = model.sampler(fm, generator(seed, "eval", dev), R, sgd.n_eval, paired_ood=True, dtype=dtype)

    def latent(w: torch.Tensor) -> torch.Tensor:
        return w if M is None else torch.bmm(w, M)

    V0 = latent(W0)
    marks = set(sgd.schedule.steps(sgd.steps))
    recorded: list[int] = []
    history: dict[str, torch.Tensor] = {}  # n_checkpoints x R buffers on the device, allocated once
    ends: dict[str, dict[str, torch.Tensor]] = {}

    def record(step: int) -> None:
        obs = observe(model, latent(W), V0, ev, onset)
        # Copied into buffers made once, not kept as a list of fresh small tensors: with many
        # checkpoints, small live tensors interleaved with each checkpoint's large temporaries
        # fragmented the CPU heap (about 50 MB of resident memory per checkpoint at R = m = 128).
        for k, v in reduce_neurons(obs).items():
            if k not in history:
                history[k] = torch.empty((len(marks), *v.shape), dtype=v.dtype, device=v.device)
            history[k][len(recorded)].copy_(v)
        recorded.append(step)
        if step == 0:
            ends["initial"] = obs
        ends["final"] = obs

    if 0 in marks:
        record(0)
    for step in sgd_steps(model, sgd, W, M, seed, chunk_elements):
        if step in marks:
            record(step)
    # the one crossing to the host: every recorded observable in one transfer
    host = groups_to_host({"history": {k: v[: len(recorded)] for k, v in history.items()},
                           "initial": ends.get("initial", {}), "final": ends.get("final", {})})
    return Trajectory(recorded, host["history"], host["initial"], host["final"], W0, W)
