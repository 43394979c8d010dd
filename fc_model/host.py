"""The device boundary: what leaves the model layer crosses to the host here, once."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import torch


def to_host(tensors: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
    """Copies of ``tensors`` on the host, made with one transfer per dtype.

    On a GPU every device-to-host copy waits for the device, so a group of results (a run's
    history, its per-neuron summaries) is packed into one flat buffer on the device and moved
    once. The copies own their memory: later in-place updates of the originals do not show.
    """
    out: dict[Hashable, torch.Tensor] = {}
    by_dtype: dict[torch.dtype, list[Hashable]] = {}
    for name, t in tensors.items():
        by_dtype.setdefault(t.dtype, []).append(name)
    for names in by_dtype.values():
        parts = [tensors[n].detach().reshape(-1) for n in names]
        flat = torch.cat(parts).cpu() if len(parts) > 1 else parts[0].clone().cpu()  # cat/clone: a copy even where the device is the host
        for n, piece in zip(names, flat.split([p.numel() for p in parts]), strict=True):
            out[n] = piece.view(tensors[n].shape)
    return out


def groups_to_host(groups: Mapping[str, Mapping[str, torch.Tensor]]) -> dict[str, dict[str, torch.Tensor]]:
    """``to_host`` for named groups of tensors (a run's history, its first and last summaries):
    every group crosses in the same transfer and comes back under its own name."""
    flat = to_host({(g, k): t for g, part in groups.items() for k, t in part.items()})
    return {g: {k: flat[(g, k)] for k in part} for g, part in groups.items()}
