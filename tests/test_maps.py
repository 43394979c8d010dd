"""Validity-map machinery: the median interval's coverage with censoring, the cell words, the
static slot count, and that a map's cells reach results.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fc_check import stats
from fc_check.budget import DEFAULT_ALPHA, PROFILES, ErrorBudget
from fc_check.catalogue import CLAIMS
from fc_check.maps import FAILS, HOLDS, MAPS, UNRESOLVED, Axis, Grid, measure, outcome, word
from fc_check.report import VERDICT_DIR, write_reports
from fc_check.verdict import verdict_record

SIMS = 2000
NOMINAL = 0.05
TEST_LEVEL = ErrorBudget(DEFAULT_ALPHA, slots=24).per_assertion


@pytest.mark.parametrize("side", ["lower", "upper", "two-sided"])
def test_median_interval_never_undercovers_with_censoring(side: str) -> None:
    # lognormal T0-like values, censored above a common limit at the 80th percentile (entered as +inf)
    rng = np.random.default_rng(5)
    limit = float(np.exp(0.84))
    misses = 0
    for _ in range(SIMS):
        x = rng.lognormal(0.0, 1.0, 32)
        x[x > limit] = np.inf
        misses += not stats.median_interval_by_order_statistics(x, NOMINAL, side).contains(1.0)
    iv = stats.proportion_interval_by_clopper_pearson(misses, SIMS, TEST_LEVEL, "two-sided")
    assert iv.low <= NOMINAL, f"non-coverage {iv.estimate:.4f} [{iv.low:.4f}, {iv.high:.4f}] exceeds {NOMINAL}"


def test_median_interval_order_statistics() -> None:
    iv = stats.median_interval_by_order_statistics(np.arange(1.0, 33.0), 0.05)
    assert (iv.low, iv.high) == (10.0, 23.0)  # the textbook pair for n = 32 at 95%
    with pytest.raises(ValueError):
        stats.median_interval_by_order_statistics([1.0, float("nan"), 2.0], 0.05)


def _iv(low: float, high: float) -> stats.Interval:
    return stats.Interval((low + high) / 2, low, high, 1e-5, "t", 16, "two-sided")


def test_words() -> None:
    assert word(_iv(0.25, 0.3), 0.2)[0] == HOLDS
    assert word(_iv(0.1, 0.19), 0.2)[0] == FAILS
    assert word(_iv(0.15, 0.25), 0.2)[0] == UNRESOLVED
    assert word(_iv(1.0, 3.0), (0.5, 8.0))[0] == HOLDS
    assert word(_iv(9.0, float("inf")), (0.5, 8.0))[0] == FAILS
    assert word(_iv(0.6, float("inf")), (0.5, 8.0))[0] == UNRESOLVED


def test_map_slots_are_inside_cells_of_each_profile_grid() -> None:
    for cid, spec in MAPS.items():
        for name, prof in PROFILES.items():
            assert CLAIMS[cid].slots(name, prof.examples(False)) == spec.inside_cells(name) > 0
    ci = PROFILES["ci"]
    others = sum(c.assertions * ci.examples(c.heavy) for c in CLAIMS.values() if not c.map_cells and not c.boundary_series)
    boundaries = sum(c.slots("ci", 1) for c in CLAIMS.values() if c.boundary_series)  # counted in tests/test_boundaries.py
    assert ErrorBudget.for_profile(DEFAULT_ALPHA, ci).slots == others + boundaries + sum(s.inside_cells("ci") for s in MAPS.values())


def test_map_cells_reach_results_json(tmp_path: Path) -> None:
    spec = MAPS["map/theorem-4.2/contamination-ratio"]
    grid = Grid(Axis("slope", (0.0, 1.0), "s"), Axis("k_bg", (8, 32), "k_bg"), 16)
    fake = {(0.0, 8): (0.3, 0.4), (1.0, 8): (0.0, 0.01), (0.0, 32): (0.15, 0.25), (1.0, 32): (0.0, 0.01)}
    cells = measure(spec, grid, lambda x, y, p: (_iv(*fake[(x, y)]), 0.0))
    out = outcome(spec, grid, cells, 1e-5)
    assert out.passed and [c.word for c in cells] == [HOLDS, FAILS, UNRESOLVED, FAILS] and [c.inside for c in cells] == [True, False, False, False]
    rec = verdict_record(out.findings[0], paper_ref="x", statement="y", regime=out.regime, seed=0, device="cpu", torch_version="t", duration_s=0.0, replay="r")
    (tmp_path / VERDICT_DIR).mkdir()
    (tmp_path / VERDICT_DIR / "gw0.jsonl").write_text(json.dumps({"kind": "verdict", **rec}, default=str) + "\n", encoding="utf-8")
    json_path, _ = write_reports(tmp_path, {"profile": "ci", "alpha": 1e-3, "level": 1e-5, "slots": 1, "device": "cpu", "torch": "t"})
    stored = json.loads(json_path.read_text())["verdicts"][0]["map"]["cells"]
    assert [c["word"] for c in stored] == [HOLDS, FAILS, UNRESOLVED, FAILS] and stored[0]["regime"]["k_bg"] == 8
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out.plots[0].draw(ax)  # the heatmap draws
    plt.close(fig)
