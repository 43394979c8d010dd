"""Device choice for pytest workers: one GPU per xdist worker, CPU threads shared fairly."""

from __future__ import annotations

import re


def worker_index(worker_id: str) -> int:
    """``'gw3'`` -> 3; the controller or a run without xdist (``'master'``, ``'main'``) -> 0."""
    m = re.fullmatch(r"gw(\d+)", worker_id)
    return int(m.group(1)) if m else 0


def worker_device(requested: str, worker_id: str, cuda_count: int) -> str:
    """The device a worker uses: ``cuda:(index mod count)`` when CUDA is requested (or ``auto``
    finds it), else ``cpu``. An explicit ``cuda:N`` is kept as given."""
    if requested not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", requested):
        raise ValueError(f"--fc-device must be auto, cpu, cuda or cuda:N, got {requested!r}")
    if requested == "cpu" or (requested == "auto" and cuda_count == 0):
        return "cpu"
    if cuda_count == 0:
        raise ValueError(f"{requested} requested but no CUDA device is available")
    if requested.startswith("cuda:"):
        if int(requested[5:]) >= cuda_count:
            raise ValueError(f"{requested} requested but only {cuda_count} CUDA device(s) are available")
        return requested
    return f"cuda:{worker_index(worker_id) % cuda_count}"


def threads_per_worker(n_workers: int, cpu_count: int) -> int:
    """CPU threads for each of ``n_workers`` so that together they do not oversubscribe the cores."""
    return max(1, cpu_count // max(1, n_workers))
