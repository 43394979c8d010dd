"""Drawing a boundary: the statistic against the axis per series with the fit, the threshold and
each crossing's interval as a band; below it, the crossings against ``1/sqrt(m)`` with the trend."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats as sps

from fc_check.plots import BAND_LEVEL

if TYPE_CHECKING:
    from fc_check.boundaries import BoundarySpec, Design, SeriesResult, Trend


def _cell_bars(spec: BoundarySpec, r: SeriesResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell estimates with display error bars (normal, ``BAND_LEVEL``; pictures, never assertions)."""
    xs = np.array(r.cells.xs())
    est = np.array([r.cells.estimate(x) for x in xs])
    z = sps.norm.ppf(0.5 + BAND_LEVEL / 2)
    if spec.kind == "share":
        n = np.array([r.cells.n(x) for x in xs])
        se = np.sqrt(np.clip(est * (1 - est), 0.25 / n, None) / n)
    else:
        se = np.array([r.cells.values(x).std(ddof=1) / math.sqrt(r.cells.n(x)) if r.cells.n(x) > 1 else 0.0 for x in xs])
    return xs, est, z * se


def boundary_figure(spec: BoundarySpec, design: Design, results: list[SeriesResult]) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        colours = [f"C{i}" for i in range(len(results))]
        for r, col in zip(results, colours, strict=True):
            xs, est, err = _cell_bars(spec, r)
            c = r.crossing
            tag = "" if r.asserted else " (outside the theory's conditions)"
            ax.errorbar(xs, est, yerr=err, fmt="o", ms=3, color=col, capsize=2, label=f"{r.series.label}{tag}")
            if c.fit is not None:
                grid = np.linspace(min(c.fit.xs), max(c.fit.xs), 200)
                f = np.array([c.fit.value(v) for v in grid])
                ax.plot(grid, 1 / (1 + np.exp(-f)) if spec.kind == "share" else f, color=col, linewidth=1.2)
            if math.isfinite(c.estimate):
                lo, hi = max(c.low, spec.lower - spec.step), min(c.high, spec.upper + spec.step)
                ax.axvspan(lo, hi, color=col, alpha=0.15)
                ax.axvline(c.estimate, color=col, linewidth=0.8, linestyle=":")
        ax.axhline(spec.threshold, color="red", linewidth=1.0, linestyle="--", label=f"threshold {spec.threshold:g}")
        ax.axvline(spec.edge, color="orange", linewidth=2.0, label=f"declared region's edge ({spec.axis} {spec.relation} {spec.edge:g} clears it)")
        side = (spec.lower - spec.step, spec.edge) if spec.relation in (">=", ">") else (spec.edge, spec.upper + spec.step)
        if spec.relation == ">" and spec.edge <= spec.lower:
            side = (spec.edge - spec.step / 4, spec.edge + spec.step / 4)  # a region of one axis value (ReLU at slope 0)
        ax.axvspan(*side, facecolor="none", edgecolor="orange", hatch="//", linewidth=0, alpha=0.5, label="declared region (series with eps <= 0.16)")
        ax.set_xlim(spec.lower - spec.step, spec.upper + spec.step)
        ax.set_xlabel(spec.axis_label, fontsize=8)
        ax.set_ylabel(spec.statistic, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.set_title(f"bands: crossing interval at the per-interval level {results[0].crossing.level:.2g}; bars: {BAND_LEVEL:.0%} per cell", fontsize=7)
        ax.legend(fontsize=5.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)  # below the axes: the data stay visible

    return draw


def trend_figure(spec: BoundarySpec, results: list[SeriesResult], trend_idx: tuple[int, ...], tr: Trend) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        for i in trend_idx:
            r = results[i]
            c = r.crossing
            if not math.isfinite(c.estimate):
                continue
            u = 1 / math.sqrt(r.series.m)
            lo = c.estimate - c.low if math.isfinite(c.low) else 0.0
            hi = c.high - c.estimate if math.isfinite(c.high) else 0.0
            ax.errorbar([u], [c.estimate], yerr=[[lo], [hi]], fmt="o", color="C0" if r.asserted else "grey", capsize=3)
            ax.annotate(f"m = {r.series.m}", (u, c.estimate), textcoords="offset points", xytext=(4, 4), fontsize=6)
        if math.isfinite(tr.slope):
            us = np.linspace(0, 1 / math.sqrt(min(tr.m)) * 1.05, 50)
            ax.plot(us, tr.limit + tr.slope * us, color="C1", linewidth=1.2, label=f"slope {tr.slope:.3g} [{tr.slope_low:.3g}, {tr.slope_high:.3g}]")
            ax.errorbar([0.0], [tr.limit], yerr=[[tr.limit - tr.limit_low], [tr.limit_high - tr.limit]], fmt="s", color="C1", capsize=3,
                        label=f"limit m -> inf {tr.limit:.3g} [{tr.limit_low:.3g}, {tr.limit_high:.3g}]")
        ax.axhline(spec.edge, color="orange", linewidth=2.0, label=f"region's edge {spec.axis} = {spec.edge:g}")
        ax.set_xlabel("1 / sqrt(m)", fontsize=8)
        ax.set_ylabel(f"crossing ({spec.axis})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_title(f"trend: {tr.word.upper()}; intervals at level {tr.level:.2g}\n{tr.reason}", fontsize=6.5)
        ax.legend(fontsize=6, loc="best")

    return draw
