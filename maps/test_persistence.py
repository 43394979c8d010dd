"""Validity map of Theorem 4.1's persistence (Zhang et al. ICML 2024, §4).

Statistic: per replicate, success = the onset criterion (>= 25% of each class's own neurons with
``Delta_k >= 0.5``) is met at some checkpoint T0 and at every later one (the rule of the suite's
Theorem 4.1 check, ``fc_check.common.persists_from_onset``, on the same checkpoint schedule:
every step up to ``8 / eps``, then 60 more); a two-sided Clopper-Pearson interval on the share of
successes per cell at the per-cell level. Threshold: >= 0.5.
Axes: ``k_bg / k_core in {1/4, 1/2, 3/4, 1, 3/2, 2}`` (``k_core = 8``) x width
``m in {32, 64, 128, 256}`` at ``eta = 0.05``, ``d = 2^14`` (so ``eps = 0.2, 0.1, 0.05, 0.025``).
128 replicates per inside cell: a true share of 0.75 must clear 0.5 at the per-cell level (64 per
outside cell under ``default``, for cost; they resolve the shares seen there before on their side of 0.5).
Training length: ``3 m / eta`` steps (3840 at ``m = 64``). In a pilot run before this map
(``m = 64, 128``, ``k_bg = 6, 8``, 32 replicates, one seed) every first lapse of the criterion
came by ``1.2 m / eta`` and the ID hinge risk was 0.03 at ``3 m / eta`` (0.07 at ``2 m / eta``), so
``3 m / eta`` covers the lapses and the saturation of the ID risk at 60% of the cost of the
``5 m / eta`` the other checks use (the ``m = 256`` column dominates the map's cost).
Declared region (``fc_check.maps.PERSISTENCE``): ReLU, ``eps <= 0.16`` (``m >= 64``),
``sqrt(d) >= 8 k_core`` and ``k_bg < k_core`` (the suite's persistence check adopted it after the
criterion lapsed at ``k_bg = k_core``). Every inside cell must HOLD. Along ``m`` the map tells a
finite-size departure (shrinking as ``m`` grows) from a boundary of the claim (not shrinking).
"""

from __future__ import annotations

import pytest

from fc_check import stats
from fc_check.common import MakeModel, never_met_onset, persists_from_onset
from fc_check.hypo import active_profile
from fc_check.maps import PERSISTENCE, Grid, measure, outcome
from fc_check.regimes import TheoryRegime, paper_model, saturating_steps
from fc_check.verdict import Outcome
from fc_model import simulate

SPEC = PERSISTENCE
PROFILE = active_profile().name
GRID = SPEC.grid(PROFILE)
STEPS_FACTOR = 3.0  # training length in units of m / eta (see the module docstring)


def check_persistence_map(make_model: MakeModel, grid: Grid, *, level: float, device: str) -> Outcome:
    def cell(x: float, y: float, p: dict[str, float]) -> tuple[stats.Interval, float]:
        steps = saturating_steps(int(p["m"]), p["eta"], STEPS_FACTOR)
        reps = grid.replicates_at(SPEC.region(p))
        regime = TheoryRegime(m=int(p["m"]), d=int(p["d"]), k_core=int(p["k_core"]), k_bg=int(p["k_bg"]), eta=p["eta"], batch=int(p["batch"]),
                              steps=steps, replicates=reps, seed=grid.seed)
        traj = simulate(make_model(regime), regime.sgd(), reps, grid.seed, device=device)
        ok = persists_from_onset(traj)
        never = float(never_met_onset(traj).mean())  # never met the criterion within the run
        return stats.proportion_interval_of_outcomes(ok, level, "two-sided"), never

    cells = measure(SPEC, grid, cell)
    return outcome(SPEC, grid, cells, level, stats.min_margin_resolvable_by_clopper_pearson(grid.replicates, SPEC.threshold, level / 2, "lower"))


# A finding of the default grid, recorded, not hidden: the test is a strict xfail there, so the
# day the map passes CI fails and the finding is looked at again.
FINDING = ("default grid: at k_bg / k_core = 3/4 (k_bg = 6), m = 64 the share is 0.59 [0.38, 0.77] (128 replicates): UNRESOLVED, "
           "so 8 of 9 inside cells HOLD; the share at k_bg = 6 rises with m (0.42, 0.59, 0.73, 0.73 at m = 32, 64, 128, 256) and "
           "HOLDS from m = 128 on, while at k_bg = k_core it stays near 0 (0.00, 0.02, 0.05, 0.06)")


@pytest.mark.xfail(PROFILE == "default", reason=FINDING, strict=True)
def test_persistence_map(fc) -> None:
    fc.check(check_persistence_map, paper_model, GRID)
