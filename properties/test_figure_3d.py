"""Figure 3(d) (generality across activations), Zhang et al. ICML 2024, §5, in the authors'
general numerical setting (facts from their public code; see ``fc_model.general``).

For ReLU, GELU, sigmoid and tanh, trained with AdamW on the logistic loss, the background
correlation (mean over neurons of the norm of the first-layer weights projected onto the
background subspace) ends well above its initial value, and the OOD loss exceeds the
training loss. Per replicate, t intervals:

* log(final / initial background correlation) >= log 2;
* paired log(OOD loss / training loss) > 0.

Both are taken on the log scale: across replicates the ratios span an order of magnitude
(sigmoid's OOD loss from about 1 to 20), and the mean of the logarithm is what a t interval
over a dozen replicates can resolve.

The ``default`` and ``thorough`` profiles run the full 20 000 iterations; ``ci`` runs 1 000
(the authors' figures after 1 000 iterations are already 0.79 / 1.21 / 2.20 / 1.59 from 0.20).
The report puts beside ours the figures measured by running the authors' public script ``toy.py``
(GitHub repository trzhang0116/feature-contamination) with its defaults, once per activation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pytest
from hypothesis import example, given

from fc_check.common import mean_at_least, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import SEEDS
from fc_check.verdict import Outcome, Plot
from fc_model import Activation
from fc_model.general import GeneralSetting, train_general

PROFILE = active_profile()
ITERATIONS = 20_000 if PROFILE.full_length else 1_000
R = 12 if PROFILE.name != "thorough" else 24
# Reference figures from runs of the authors' public script toy.py (GitHub trzhang0116/feature-contamination,
# its defaults, one run per activation, 2 CPU cores), shown beside ours.
AUTHORS = {
    "relu": {"bg 1000 it": 0.79, "bg 20000 it": 1.24, "core 20000 it": 2.76, "OOD loss": 0.18},
    "gelu": {"bg 1000 it": 1.21, "bg 20000 it": 1.79, "core 20000 it": 2.69, "OOD loss": 0.06},
    "sigmoid": {"bg 1000 it": 2.20, "bg 20000 it": 5.17, "core 20000 it": 7.20, "OOD loss": 12.0},
    "tanh": {"bg 1000 it": 1.59, "bg 20000 it": 2.62, "core 20000 it": 2.97, "OOD loss": 13.5},
}


@dataclass(frozen=True)
class GeneralRegime:
    activation: str = "relu"
    iterations: int = ITERATIONS
    width: int = 256
    replicates: int = R
    seed: int = 0

    def setting(self) -> GeneralSetting:
        return GeneralSetting(activation=Activation(self.activation), iterations=self.iterations, width=self.width, record_every=max(1, self.iterations // 40))


def paper_setting(reg: GeneralRegime) -> GeneralSetting:
    return reg.setting()


def check_figure_3d(make_setting, reg: GeneralRegime, *, level: float, device: str, growth_min: float = 2.0) -> Outcome:  # noqa: ANN001
    cfg = make_setting(reg)
    res = train_general(cfg, reg.replicates, reg.seed, device=device)
    claim = f"figure-3d/{reg.activation}"
    growth = np.log(per_replicate(res.bg_corr[-1] / res.bg_corr[0]))
    gap = np.log(per_replicate(res.ood_loss[-1] / res.train_loss[-1]))
    fs = [mean_at_least(claim, "log(final / initial background correlation)", growth, math.log(growth_min), level, note=f"threshold log {growth_min:g}"),
          mean_at_least(claim, "log(OOD / training logistic loss), paired", gap, 0.0, level, strict=True)]
    ours = [float(res.bg_corr[0].mean()), float(res.bg_corr[-1].mean()), float(res.core_corr[-1].mean()), float(res.train_loss[-1].mean()), float(res.ood_loss[-1].mean())]
    ref = AUTHORS[reg.activation] if reg.activation in AUTHORS else {}
    table = {"claim": claim, "title": f"{reg.activation}: the authors' script toy.py (one run) beside this suite ({reg.iterations} iterations, mean of {reg.replicates})",
             "columns": ["source", "bg corr init", "bg corr end", "core corr end", "train loss end", "OOD loss end"],
             "rows": [["authors (1000 it)", 0.20, ref.get("bg 1000 it"), None, None, None],
                      ["authors (20000 it)", 0.20, ref.get("bg 20000 it"), ref.get("core 20000 it"), 0.0, ref.get("OOD loss")],
                      [f"fc-verify ({reg.iterations} it)", *ours]]}

    def draw(ax) -> None:  # noqa: ANN001
        from fc_check.plots import band

        band(ax, res.steps, res.core_corr.double().numpy(), "core correlation")
        band(ax, res.steps, res.bg_corr.double().numpy(), "background correlation")
        ax.set_xlabel("iteration")
        ax.set_ylabel("mean projected weight norm")
        ax.legend(fontsize=7)

    return Outcome(fs, asdict(reg), reg.seed, [Plot(claim, f"(d) {reg.activation}: correlations over training", draw)], [table])


@pytest.mark.parametrize("activation", ["relu", "gelu", "sigmoid", "tanh"])
@fc_settings(heavy=True)
@given(seed=SEEDS)
@example(seed=0)
def test_figure_3d(fc, activation: str, seed: int) -> None:
    fc.check(check_figure_3d, paper_setting, GeneralRegime(activation=activation, seed=seed))


