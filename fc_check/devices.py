"""Device choice for pytest workers: one GPU per xdist worker, CPU threads shared fairly, freed
host memory kept for reuse."""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Mapping, MutableMapping


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


# glibc's malloc hands every freed block above its mmap threshold (which it adapts, up to 32 MB on
# 64-bit) back to the kernel and maps a fresh one at the next request, and trims the heap's top
# the same way. A training loop allocates activations of a few MB at every step, so each step paid
# for its pages again in the kernel: Figure 3(d) at R = 12 spent 1.1-1.8 s of 7-9 s in system time
# (400 000-800 000 page faults for 200 iterations), and none with memory kept. These are glibc's
# mallopt parameters; the threshold is its largest allowed value.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_MAX = 32 * 2**20
TRIM_THRESHOLD = 2**31 - 1
MALLOC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")  # glibc's own: where set, they rule


def _left_alone(environ: Mapping[str, str]) -> bool:
    """Not Linux, or glibc's malloc variables already set (by the user, or exported by the process
    that started this one): nothing to do here."""
    return not sys.platform.startswith("linux") or any(k in environ for k in MALLOC_VARIABLES)


# The same through glibc's variables, read when a process starts (so for the processes this one
# starts: xdist workers, subprocess runs). There the mmap threshold may exceed mallopt's 32 MB: Lemma
# 1.2's checks, whose batches of samples are larger, took 17.7 and 15.7 s with mallopt's 32 MB
# and 5.9 and 5.8 s with these, side by side on 2 cores.
REUSE_MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**32), "MALLOC_TRIM_THRESHOLD_": str(2**34)}


def export_freed_memory_settings(environ: MutableMapping[str, str] | None = None) -> bool:
    """Set ``REUSE_MEMORY_ENV`` in ``environ`` (default ``os.environ``) for the processes started
    from here on, on Linux, unless the user has set one of glibc's malloc variables. Returns
    whether it set them."""
    environ = os.environ if environ is None else environ
    if _left_alone(environ):
        return False
    environ.update(REUSE_MEMORY_ENV)
    return True


def keep_freed_memory(environ: Mapping[str, str] | None = None) -> bool:
    """Ask the C library's allocator to keep freed memory in this process for reuse rather than
    return it to the kernel: blocks up to 32 MB come from the heap, and the heap is trimmed only
    above 2 GB. It changes where memory comes from, not what is computed.

    Returns whether it took effect: only with glibc on Linux, and not where glibc's own malloc
    variables are set (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``GLIBC_TUNABLES``:
    by the user, or by ``export_freed_memory_settings`` in the process that started this one),
    which then rule."""
    environ = os.environ if environ is None else environ
    if _left_alone(environ):
        return False
    try:
        libc = ctypes.CDLL(None)  # the C library this process already runs on
        mallopt, _ = libc.mallopt, libc.gnu_get_libc_version  # the second is glibc's alone: musl accepts mallopt and ignores it
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
