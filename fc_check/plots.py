"""Drawing for the report: figures rendered to embedded PNGs, and replicate means with interval bands."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

BAND_LEVEL = 0.95  # display only: bands are pictures, never assertions


def band(ax: Any, x: Sequence[float], values: np.ndarray, label: str) -> None:
    """Mean over replicates (columns of ``values``: checkpoints x R) with a t band."""
    v = np.asarray(values, dtype=float)
    mean = v.mean(1)
    half = sps.t.ppf(0.5 + BAND_LEVEL / 2, max(1, v.shape[1] - 1)) * v.std(1, ddof=1) / np.sqrt(v.shape[1]) if v.shape[1] > 1 else 0 * mean
    ax.plot(x, mean, label=label)
    ax.fill_between(x, mean - half, mean + half, alpha=0.25)


def curves(series: dict[str, np.ndarray], steps: Sequence[float], ylabel: str, vline: float | None = None, logx: bool = False) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        for name, vals in series.items():
            band(ax, steps, vals, name)
        if vline is not None and np.isfinite(vline):
            ax.axvline(vline, color="grey", linestyle="--", label=f"median T0 = {vline:g}")
        if logx:
            ax.set_xscale("symlog")
        ax.set_xlabel("SGD step")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)

    return draw


def png(draw: Callable[[Any], None], size: tuple[float, float] = (5.5, 3.6)) -> str:
    """A figure drawn by ``draw`` on one matplotlib Axes of ``size`` inches, as base64 PNG for a self-contained report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, dpi=90)
    try:
        draw(ax)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")
