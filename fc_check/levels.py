"""Calibrated levels: where the calibration study found that a t bound misses more often than its
level says, the level at which the bound is computed instead (Loh 1987, "Calibrating confidence
coefficients": choose the nominal level whose measured miss rate is the stated one).

The table ``calibrated_levels.json`` (next to this module) is written by
``python -m fc_check.calibrate --write-levels`` from a study of large pools of replicates at each
check's pinned regime (see ``fc_check.calibration``). Each entry is keyed by claim, statistic and
replicate count, and holds for each tail of the bound the points ``[target, nominal, delivered]``:
at the stated level ``target`` the bound is computed at level ``nominal`` (never above ``target``:
a bound that the study found conservative keeps its level), and ``delivered`` is the miss rate the
study measured for it, on draws independent of those that chose ``nominal``. Between measured
targets the nominal level is interpolated on the log-log scale; below the smallest, it follows the
log-log line through the two smallest points (slope at least 1); above the largest, the largest
point's ratio ``nominal / target`` is kept. A bound with no entry is computed at its stated level and its
verdict says so (``delivered`` unknown).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

TABLE_PATH = Path(__file__).with_name("calibrated_levels.json")


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    """The committed table (empty when there is none): ``{"entries": {key: entry}, "provenance": {...}}``."""
    try:
        return dict(json.loads(TABLE_PATH.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {"entries": {}, "provenance": {}}


def key(claim: str, statistic: str, n: int) -> str:
    return f"{claim} | {statistic} | n={n}"


def level_at(points: list[list[Any]], target: float) -> tuple[float, float | None]:
    """(nominal, delivered) at ``target`` from sorted ``[target, nominal, delivered]`` points."""
    pts = sorted(points)
    logs = [(math.log(t), math.log(nom), d) for t, nom, d in pts]
    x = math.log(target)
    if x <= logs[0][0] and len(logs) >= 2:
        # below the smallest measured target: the log-log line through the two smallest points (a t
        # bound's excess miss grows as the level falls, so keeping the last ratio would under-correct)
        (x0, y0, d0), (x1, y1, _) = logs[0], logs[1]
        slope = (y1 - y0) / (x1 - x0) if x1 > x0 else 1.0
        t, _, d = pts[0]
        return min(target, math.exp(y0 + max(1.0, slope) * (x - x0))), (d * target / t if d is not None else None)
    if x <= logs[0][0] or len(logs) == 1:
        t, nom, d = pts[0]
        return min(target, target * nom / t), (d * target / t if d is not None else None)
    if x >= logs[-1][0]:
        t, nom, d = pts[-1]
        return min(target, target * nom / t), (d * target / t if d is not None else None)
    for (x0, y0, d0), (x1, y1, d1) in zip(logs, logs[1:], strict=False):
        if x0 <= x <= x1:
            w = (x - x0) / (x1 - x0) if x1 > x0 else 0.0
            nominal = math.exp(y0 + w * (y1 - y0))
            delivered = None if d0 is None or d1 is None else math.exp(math.log(max(d0, 1e-300)) + w * (math.log(max(d1, 1e-300)) - math.log(max(d0, 1e-300))))
            return min(target, nominal), delivered
    raise AssertionError("unreachable")


def calibrated_tails(claim: str, statistic: str, n: int, alpha: float, side: str) -> tuple[tuple[float, float] | None, float | None]:
    """The per-tail levels of a t bound on ``statistic`` with ``n`` replicates at stated level
    ``alpha`` (None: no entry, compute at ``alpha``), and the delivered level the study measured
    (the sum over the bound's tails; None where unknown)."""
    entry = table().get("entries", {}).get(key(claim, statistic, n))
    if not entry:
        return None, None
    share = alpha / 2 if side == "two-sided" else alpha
    tails, delivered = [0.0, 0.0], 0.0
    for i, tail in enumerate(("lower", "upper")):
        used = side == "two-sided" or side == tail
        if not used:
            continue
        points = entry.get(tail)
        if not points:
            return None, None
        tails[i], d = level_at(points, share)
        delivered = math.nan if d is None else delivered + d
    return (tails[0], tails[1]), (None if math.isnan(delivered) else delivered)
