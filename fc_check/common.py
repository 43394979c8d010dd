"""Helpers shared by the claim modules: per-replicate reductions and standard findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from fc_check import stats
from fc_check.levels import calibrated_tails
from fc_check.regimes import TheoryRegime
from fc_check.verdict import Finding, at_least, at_most, inside
from fc_model import TheoryModel
from fc_model.simulate import Trajectory

MakeModel = Callable[[TheoryRegime], TheoryModel]


def per_replicate(t: torch.Tensor) -> np.ndarray:
    """A replicate-indexed tensor (``R`` or ``R x m``, neurons averaged) as a float64 array."""
    t = t.detach().double().cpu()
    return (t.mean(-1) if t.dim() > 1 else t).numpy()


def contamination_ratio(traj: Trajectory) -> np.ndarray:
    """Per replicate, ``mean_k |G_k| / mean_k C_k`` at the last checkpoint (learned correlations).

    The magnitude of the background correlation is used so that opposite-signed neurons cannot
    cancel (for a linear network ``G_k = a_k g`` and the signed mean is exactly 0)."""
    f = traj.final
    return per_replicate(f["background"].abs().mean(-1) / f["own_core"].mean(-1))


def onset_index(traj: Trajectory) -> np.ndarray:
    """Per replicate, the checkpoint index of T0 (0 for a censored replicate)."""
    met = traj.history["onset_met"].bool()
    return np.where(met.any(0).numpy(), met.float().argmax(0).numpy(), 0)


def never_met_onset(traj: Trajectory) -> np.ndarray:
    """Per replicate (bool), whether the onset criterion was met at no checkpoint of the run (censored)."""
    return ~traj.history["onset_met"].bool().any(0).cpu().numpy()


def persists_from_onset(traj: Trajectory) -> np.ndarray:
    """Per replicate (bool), Theorem 4.1's persistence: the onset criterion is met at some
    checkpoint T0 and at every later checkpoint up to the end of the run."""
    met = traj.history["onset_met"].bool().cpu().numpy()  # checkpoints x R
    first = np.where(met.any(0), met.argmax(0), met.shape[0])
    return np.array([first[r] < met.shape[0] and bool(met[first[r]:, r].all()) for r in range(met.shape[1])], dtype=bool)


def ood_gap(traj: Trajectory) -> np.ndarray:
    """Per replicate, the paired OOD minus ID hinge risk at the last checkpoint (same labels and
    core draws, background shifted)."""
    return per_replicate(traj.final["hinge_ood"]) - per_replicate(traj.final["hinge_id"])


def growth_since_onset(traj: Trajectory, key: str) -> np.ndarray:
    """Per replicate, the neuron-mean of ``key`` at the end minus at T0."""
    h = traj.history[key].double().numpy()
    idx = onset_index(traj)
    return h[-1] - h[idx, np.arange(h.shape[1])]


def mean_interval(claim: str, statistic: str, x: np.ndarray, level: float, side: stats.Side) -> tuple[stats.Interval, float | None]:
    """The t interval of the mean of ``x`` (one value per replicate) at ``level``, computed at the
    calibrated per-tail levels where the calibration study found the plain t bound to miss more
    often than its level (``fc_check.levels``), and the delivered level the study measured (None:
    not calibrated)."""
    tails, delivered = calibrated_tails(claim, statistic, len(x), level, side)
    return stats.mean_interval_by_t(x, level, side, tails), delivered


def _resolution(iv: stats.Interval, x: np.ndarray, side: stats.Side) -> float:
    """The noncentral-t resolution at the level the bound was computed at (its calibrated tail, if any)."""
    level = iv.alpha if iv.nominal is None else (min(t for t in iv.nominal if t > 0) * (2 if side == "two-sided" else 1))
    return stats.min_margin_resolvable_by_t(len(x), float(np.std(x, ddof=1)), level, side)


def mean_at_least(claim: str, statistic: str, x: np.ndarray, threshold: float, level: float, note: str = "", strict: bool = False) -> Finding:
    iv, delivered = mean_interval(claim, statistic, x, level, "lower")
    return replace(at_least(claim, statistic, iv, threshold, _resolution(iv, x, "lower"), note, strict), delivered=delivered)


def mean_at_most(claim: str, statistic: str, x: np.ndarray, threshold: float, level: float, note: str = "") -> Finding:
    iv, delivered = mean_interval(claim, statistic, x, level, "upper")
    return replace(at_most(claim, statistic, iv, threshold, _resolution(iv, x, "upper"), note), delivered=delivered)


def mean_inside(claim: str, statistic: str, x: np.ndarray, low: float, high: float, level: float, note: str = "") -> Finding:
    iv, delivered = mean_interval(claim, statistic, x, level, "two-sided")
    return replace(inside(claim, statistic, iv, low, high, _resolution(iv, x, "two-sided"), note), delivered=delivered)


def history(traj: Trajectory, key: str) -> np.ndarray:
    return traj.history[key].double().numpy()


def median_onset(traj: Trajectory) -> float:
    """Median T0 over the replicates that met the onset criterion (``nan`` if none did)."""
    t0 = traj.onset_step().numpy()
    return float(np.median(t0[~np.isnan(t0)])) if (~np.isnan(t0)).any() else float("nan")
