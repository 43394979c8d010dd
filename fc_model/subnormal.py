"""Subnormal floats flushed to zero while a CPU training loop runs.

A weight whose gradient is exactly zero step after step (a weight into or out of a ReLU unit that
fires on no input of the batch: about half the first layer of the digits distillation's ReLU
student) keeps an Adam first moment that shrinks by its decay (0.9) every step. After about 800
steps it falls below float32's smallest normal number, 1.2e-38, and it stays there: at the
smallest subnormals (1 to 4 times 1.4e-45) the product with 0.9 rounds back to the same value.
In the student, 0.6 million of its 1.8 million first-layer moments were subnormal at step 800
and still at step 1 200. x86 arithmetic on subnormal operands takes a slow path. Measured on
one thread (Intel Xeon, the digits distillation's ReLU student at 48 replicates): 25 ms per step
until step 750, 42 ms from then on; with subnormals flushed to zero, 25 ms throughout
(``benchmarks/simulator.py`` times an Adam step in that state both ways). In the claim suite
under ``ci`` the digits distillation check took 137 s before and 97-107 s after, on the same host (whose speed
drifts by about 20% from run to run). The general setting (SGD with momentum, AdamW) and the CNN
(Adam), timed side by side with and without the flush, did not change, so their loops go without.

Flushing changes only values under 1.2e-38 (they become 0); a parameter update they make is
below 1e-30, so runs agree with unflushed ones to rounding, not bit for bit. The flag lives in the
CPU's control register of the calling thread, which is why it is set around each loop and put
back afterwards: left on, it would also flush in the caller's own arithmetic (Hypothesis, for
one, refuses to draw floats while subnormals cannot be represented). The suite runs one torch
thread per worker; torch's other intra-op threads, where there are more, keep their own
setting. On a GPU nothing is set: its kernels do not slow down on subnormals the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

_SUBNORMAL = 1e-39  # under float32's smallest normal (1.18e-38), above its smallest subnormal (1.4e-45)


def flushing_subnormals() -> bool:
    """Whether the calling thread's CPU arithmetic flushes float32 subnormals to zero now."""
    return torch.tensor(_SUBNORMAL, dtype=torch.float32).item() == 0.0


@contextmanager
def subnormals_flushed(device: torch.device) -> Iterator[None]:
    """Flush subnormals to zero on the calling thread while the block runs on a CPU ``device``,
    then restore the thread's previous setting (even if the block raises). No-op elsewhere."""
    if device.type != "cpu":
        yield
        return
    before = flushing_subnormals()
    torch.set_flush_denormal(True)  # False where the CPU has no such mode: the block then runs unflushed
    try:
        yield
    finally:
        torch.set_flush_denormal(before)
