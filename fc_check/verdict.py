"""Findings (what a check measured and decided) and verdicts (findings with provenance)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fc_check.stats import Interval, Sample
from fc_check.thresholds import format_threshold, infer_relation


@dataclass(frozen=True)
class Finding:
    """One asserted interval. ``margin`` is how far the interval clears the threshold (negative:
    it does not), in the statistic's units; the weakest regime of a claim has the least margin."""

    claim: str
    statistic: str
    estimate: float
    ci_low: float
    ci_high: float
    level: float
    threshold: Any
    detectable_effect: float
    replicates: int
    passed: bool
    margin: float
    method: str
    note: str = ""
    relation: str = ""  # ">=", ">", "<=", "in", "contains"; "" = inferred from the threshold and margin
    details: dict[str, Any] | None = None  # extra JSON-ready fields for the record (e.g. a map's cells)
    nominal: tuple[float, float] | None = None  # per-tail levels of a calibrated bound (see fc_check.stats.mean_interval_by_t)
    delivered: float | None = None  # the miss rate the calibration study measured for this bound at its level, where known
    sample: Sample | None = field(default=None, compare=False, repr=False)  # the replicates behind the interval (calibration study)

    @property
    def error_bounded(self) -> str:
        """Which error ``level`` bounds. For 'at least / at most / inside' claims a false PASS: were
        the claim false, the interval would clear its threshold with probability at most the level.
        For 'contains' claims (an exponent, a rate) a false FAIL: the interval misses the true
        value, and so fails a true claim, with probability at most the level. The other error is
        limited by power (the resolution and the calibration study's fresh-seed figures)."""
        rel = self.relation or infer_relation(self.threshold, self.margin, self.ci_low, self.ci_high)
        if self.method == "exact":
            return "none (deterministic)"
        return "false FAIL" if rel == "contains" else "false PASS"

    @property
    def threshold_text(self) -> str:
        """The threshold as people read it (``≥ log 2``); the record keeps the machine form."""
        return format_threshold(self.threshold, self.relation or infer_relation(self.threshold, self.margin, self.ci_low, self.ci_high))

    def describe(self) -> str:
        word = "PASS" if self.passed else "FAIL"
        return (f"[{word}] {self.claim}: {self.statistic} = {self.estimate:.4g}, interval [{self.ci_low:.4g}, {self.ci_high:.4g}] "
                f"({self.method}, non-coverage {self.level:.2g}, bounding a {self.error_bounded}), threshold {self.threshold_text}, resolution {self.detectable_effect:.3g}, "
                f"R = {self.replicates}{'; ' + self.note if self.note else ''}")


def _finite_or_none(x: float) -> float | None:
    return x if isinstance(x, float | int) and math.isfinite(x) else None


def at_least(claim: str, statistic: str, iv: Interval, threshold: float, resolution: float, note: str = "", strict: bool = False) -> Finding:
    """Claim 'statistic >= threshold' (``strict``: '>', for 'grows' claims with threshold 0):
    PASS when the lower bound clears it. A NaN bound never passes."""
    ok = iv.low > threshold if strict else iv.clears_lower(threshold)
    return Finding(claim, statistic, iv.estimate, iv.low, iv.high, iv.alpha, threshold, resolution, iv.n, bool(ok), iv.low - threshold, iv.method, note,
                   relation=">" if strict else ">=", nominal=iv.nominal, sample=iv.sample)


def at_most(claim: str, statistic: str, iv: Interval, threshold: float, resolution: float, note: str = "") -> Finding:
    """Claim 'statistic <= threshold': PASS when the upper bound clears it."""
    return Finding(claim, statistic, iv.estimate, iv.low, iv.high, iv.alpha, threshold, resolution, iv.n, iv.clears_upper(threshold), threshold - iv.high, iv.method, note,
                   relation="<=", nominal=iv.nominal, sample=iv.sample)


def inside(claim: str, statistic: str, iv: Interval, low: float, high: float, resolution: float, note: str = "") -> Finding:
    """Claim 'low <= statistic <= high' (equivalence): PASS when the two-sided interval is inside."""
    margin = min(iv.low - low, high - iv.high)
    return Finding(claim, statistic, iv.estimate, iv.low, iv.high, iv.alpha, [low, high], resolution, iv.n, iv.inside(low, high), margin, iv.method, note,
                   relation="in", nominal=iv.nominal, sample=iv.sample)


def exact(claim: str, statistic: str, value: float, tolerance: float, n: int, note: str = "") -> Finding:
    """A deterministic identity: PASS when the measured discrepancy is at most ``tolerance``."""
    ok = bool(math.isfinite(value) and value <= tolerance)
    return Finding(claim, statistic, value, value, value, 0.0, tolerance, tolerance, n, ok, tolerance - value if math.isfinite(value) else -math.inf, "exact", note, relation="<=")


@dataclass
class Plot:
    claim: str
    title: str
    draw: Callable[[Any], None]  # draws on a matplotlib Axes


@dataclass
class Outcome:
    """What a check returns: its findings, the regime and seed it ran, and plots to register."""

    findings: list[Finding]
    regime: dict[str, Any]
    seed: int
    plots: list[Plot] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    # the intervals one finding is made of (a validity map's inside cells, each asserted): not
    # recorded as verdicts; the calibration study measures them one by one
    parts: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.findings) and all(f.passed for f in self.findings)

    def message(self) -> str:
        lines = [f.describe() for f in self.findings]
        lines.append(f"regime: {json.dumps(self.regime, default=str)}; master seed {self.seed}")
        return "\n".join(lines)


VERDICT_KEYS = ("claim", "paper_ref", "statement", "verdict", "statistic", "estimate", "ci_low", "ci_high", "level", "level_bounds",
                "threshold", "detectable_effect", "replicates", "regime", "seed", "device", "torch", "duration_s", "replay")


def verdict_record(f: Finding, *, paper_ref: str, statement: str, regime: dict[str, Any], seed: int, device: str,
                   torch_version: str, duration_s: float, replay: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON object stored for one finding (keys of VERDICT_KEYS, plus method, margin, note, the
    calibrated per-tail levels and delivered level where known, the per-replicate values behind the
    interval where it has one number per replicate, and the finding's ``details`` merged in)."""
    rec = {
        "claim": f.claim, "paper_ref": paper_ref, "statement": statement, "verdict": "PASS" if f.passed else "FAIL",
        "statistic": f.statistic, "estimate": _finite_or_none(f.estimate), "ci_low": _finite_or_none(f.ci_low),
        "ci_high": _finite_or_none(f.ci_high), "level": f.level, "level_bounds": f.error_bounded, "threshold": f.threshold,
        "detectable_effect": _finite_or_none(f.detectable_effect), "replicates": f.replicates, "regime": regime, "seed": seed,
        "device": device, "torch": torch_version, "duration_s": round(duration_s, 3), "replay": replay,
        "method": f.method, "margin": _finite_or_none(f.margin), "note": f.note,
        "relation": f.relation or infer_relation(f.threshold, f.margin, f.ci_low, f.ci_high),
    }
    if f.nominal is not None:
        rec["nominal_levels"] = list(f.nominal)
    if f.delivered is not None:
        rec["delivered_level"] = f.delivered
    if f.sample is not None and f.sample.kind == "values" and f.sample.values is not None and f.sample.values.size <= 512:
        rec["replicate_values"] = [float(v) if math.isfinite(v) else None for v in f.sample.values]
    if f.details:
        rec.update(f.details)
    if extra:
        rec.update(extra)
    return rec
