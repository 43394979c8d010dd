"""Shared by the digits claim modules of Figures 1, 4 and 5 (``test_digits_figure1.py``,
``test_digits_figure4.py``, ``test_digits_figure5.py``): the regime, the paper-like
configuration, the memoised run and the per-replicate reductions.

Every claim reads a run of ``fc_model.digits_families.train_families``, memoised within a worker.
Figure 1 trains all three families (21 networks per replicate; a heavy check: its pinned regime
only under ``ci`` and ``default``). Figures 4 and 5 look at one teacher (width 64) and one student
(width 256) and train only those (``families = False``: the configuration and draws of
``digits/distillation``'s teacher and ReLU student on the same seed); the two claims share their
regimes, pinned and generated, and so their runs. They do not read Figure 1's run: under
``pytest -n 2`` consecutive tests go to different workers, where a shared run would be trained
twice, and Figure 1's run costs three times theirs.

Length: the students and standard networks train 3 000 steps (the distillation settings) and are
also evaluated at 1 000; under ``ci`` they train 1 500 and are evaluated at 500. That cut was
made because every claim had already shown by then in the prototype (8 replicates, seed 0,
``b = 2``): activation rates and selectivity of the student were the same from step 500 to 3 000
(share of (unit, class) pairs with ``p_kc <= 0.1`` 0.504 at 500, 1 000, 1 500, 2 000 and 3 000;
selectivity 0.330 at 500, 0.328 at 3 000), and Figure 1's per-shift family means kept their order
and side of every threshold (family (ii) drop under the negated border 0.42 at lengths 500/1 500
against 0.37 at 1 000/3 000; under the brighter border 0.046 against 0.024).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from hypothesis import strategies as st

from fc_check.common import per_replicate
from fc_check.regimes import SEEDS
from fc_model.digits import DigitsDistillation
from fc_model.digits_families import DigitsFamilies, FamiliesRun, FamilyCloud, HiddenUnits, selectivity, train_families


def steps_for(profile: str) -> int:
    """The students' and standard networks' length under a profile (module docstring)."""
    return 1500 if profile == "ci" else 3000


@dataclass(frozen=True)
class FiguresRegime:
    """``families``: all of Figure 1's families (teachers of widths 32, 64, 128; students and
    standard networks of widths 64, 128, 256); else only the teacher of width 64 and the student
    of width 256 that Figures 4 and 5 look at. Lengths: ``steps`` and ``steps // 3``."""

    border: int = 2
    steps: int = 3000
    families: bool = True
    replicates: int = 16
    seed: int = 0

    def config(self) -> DigitsFamilies:
        d = DigitsDistillation(border=self.border, steps=self.steps)
        checkpoints = (self.steps // 3,) if self.steps >= 3 else ()
        if self.families:
            return DigitsFamilies(distillation=d, checkpoints=checkpoints)
        return DigitsFamilies(distillation=d, teacher_widths=(d.teacher_width,), teacher_checkpoints=(), student_widths=(d.width,),
                              standard_widths=(), checkpoints=checkpoints)


def paper_families(regime: FiguresRegime) -> DigitsFamilies:
    return regime.config()


@lru_cache(maxsize=4)
def figures_run(cfg: DigitsFamilies, replicates: int, seed: int, device: str) -> FamiliesRun:
    """``train_families`` memoised within a worker: the three claims read the same run."""
    return train_families(cfg, replicates, seed, device=device)


def run_of(make_model, regime: FiguresRegime, device: str) -> FamiliesRun:  # noqa: ANN001
    return figures_run(make_model(regime), regime.replicates, regime.seed, device)


def regimes(steps: int, replicates: int, families: bool) -> st.SearchStrategy[FiguresRegime]:
    """Generated regimes: the border width and the seed vary (Figures 4 and 5: the figure networks only)."""
    return st.builds(FiguresRegime, border=st.sampled_from((1, 2)), steps=st.just(steps), families=st.just(families), replicates=st.just(replicates), seed=SEEDS)


# --- per-replicate reductions -------------------------------------------------------------


def drop(cloud: FamilyCloud, s: int) -> np.ndarray:
    """Per replicate, the family's ID - OOD test accuracy on test set ``s``, averaged over its
    widths and lengths (the cloud's mean loss of accuracy)."""
    a = cloud.acc.double()
    return per_replicate((a[:, 0] - a[:, s]).flatten(1))


def silent(units: HiddenUnits, low: float) -> torch.Tensor:
    """``R x K``: units whose activation rate is at most ``low`` on every class (on the ID test images)."""
    return units.rates.amax(-1) <= low


def share_low(units: HiddenUnits, low: float) -> np.ndarray:
    """Per replicate, the share of (unit, class) pairs with ``p_kc <= low``."""
    return per_replicate((units.rates <= low).double().flatten(1))


def share_low_firing(units: HiddenUnits, low: float) -> np.ndarray:
    """Per replicate, the same share among the units that fire on some class (``max_c p_kc > low``):
    a unit silent on every class has all its pairs at or below ``low`` and no class structure."""
    firing = ~silent(units, low)
    low_pairs = ((units.rates <= low) & firing.unsqueeze(-1)).double().sum((-1, -2))
    return (low_pairs / (firing.double().sum(-1) * units.rates.shape[-1])).numpy()


def mean_selectivity(units: HiddenUnits, s: int) -> np.ndarray:
    """Per replicate, the mean class-selectivity index over the units that are active on test set
    ``s`` (a unit whose class means are all 0 there has no index)."""
    return torch.nanmean(selectivity(units.means[:, s].double()), -1).numpy()
