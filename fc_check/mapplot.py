"""Drawing a validity map: a heatmap of the estimate, each cell's word written in it, the
threshold's contour and the declared region outlined."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fc_check.maps import Cell, Grid, MapSpec

_SHORT = {"HOLDS": "HOLDS", "FAILS": "FAILS", "UNRESOLVED": "UNRES."}


def grid_values(grid: Grid, cells: list[Cell]) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Estimates (rows: y values, columns: x values; ``nan`` where not finite), the inside mask and the words."""
    est = np.full((len(grid.y.values), len(grid.x.values)), np.nan)
    inside = np.zeros(est.shape, dtype=bool)
    words = [["" for _ in grid.x.values] for _ in grid.y.values]
    for c in cells:
        i, j = grid.y.values.index(c.y), grid.x.values.index(c.x)
        est[i, j] = c.interval.estimate if np.isfinite(c.interval.estimate) else np.nan
        inside[i, j] = c.inside
        words[i][j] = c.word
    return est, inside, words


def heatmap(spec: MapSpec, grid: Grid, cells: list[Cell]) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        from matplotlib.colors import LogNorm

        est, inside, words = grid_values(grid, cells)
        band = isinstance(spec.threshold, tuple)
        positive = est[np.isfinite(est) & (est > 0)]
        norm = LogNorm(vmin=max(positive.min(), 1e-2), vmax=max(positive.max(), 1e-2) * 1.01) if band and positive.size else None
        im = ax.imshow(np.ma.masked_invalid(est), cmap="viridis", origin="lower", aspect="auto", norm=norm)
        ax.figure.colorbar(im, ax=ax, fraction=0.05, pad=0.02)
        for i in range(est.shape[0]):
            for j in range(est.shape[1]):
                value = "censored" if not np.isfinite(est[i, j]) else f"{est[i, j]:.3g}"
                bright = np.isfinite(est[i, j]) and float(im.norm(est[i, j])) > 0.6  # dark text on the light end of viridis
                ax.text(j, i, f"{_SHORT.get(words[i][j], words[i][j])}\n{value}", ha="center", va="center", fontsize=6, color="black" if bright else "white")
        levels = sorted(spec.threshold) if band else [spec.threshold]
        if min(est.shape) >= 2 and np.isfinite(est).sum() >= 4:
            filled = np.where(np.isfinite(est), est, np.nanmax(est) * 10 if band else np.nanmin(est))
            ax.contour(np.arange(est.shape[1]), np.arange(est.shape[0]), filled, levels=levels, colors="red", linewidths=1.2)
        # the declared region: an edge wherever an inside cell meets an outside cell or the border
        for i in range(est.shape[0]):
            for j in range(est.shape[1]):
                if not inside[i, j]:
                    continue
                for di, dj, seg in ((-1, 0, ([j - .5, j + .5], [i - .5, i - .5])), (1, 0, ([j - .5, j + .5], [i + .5, i + .5])),
                                    (0, -1, ([j - .5, j - .5], [i - .5, i + .5])), (0, 1, ([j + .5, j + .5], [i - .5, i + .5]))):
                    ni, nj = i + di, j + dj
                    if not (0 <= ni < est.shape[0] and 0 <= nj < est.shape[1]) or not inside[ni, nj]:
                        ax.plot(*seg, color="orange", linewidth=2.5)
        ax.set_xticks(range(len(grid.x.values)), [f"{v:g}" for v in grid.x.values], fontsize=7)
        ax.set_yticks(range(len(grid.y.values)), [f"{v:g}" for v in grid.y.values], fontsize=7)
        ax.set_xlabel(grid.x.label, fontsize=8)
        ax.set_ylabel(grid.y.label, fontsize=8)
        ax.set_title(f"red: threshold {spec.threshold}; orange: declared region", fontsize=7)

    return draw
