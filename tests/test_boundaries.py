"""The boundary locator (``fc_check.boundaries``): its sequential design, Fieller's interval, the
monotone bracket, the trend's words, its coverage of a known crossing, the static slot count, the
record and report; and that a model whose boundary sits elsewhere is reported there."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sps

from fc_check import boundaries as B
from fc_check import stats
from fc_check.boundaries import BOUNDARIES, CONTAMINATION, LOCATOR_METHODS, ONSET, OOD_GAP, PERSISTENCE, Cells, Design, widths
from fc_check.budget import DEFAULT_ALPHA, PROFILES, ErrorBudget
from fc_check.catalogue import CLAIMS
from fc_check.maps import HOLDS, MAPS, Axis, Cell, Grid
from fc_check.maps import outcome as map_outcome
from fc_check.regimes import paper_model
from fc_check.report import VERDICT_DIR, write_reports
from fc_check.verdict import verdict_record
from maps import test_boundary_contamination as boundary_contamination
from maps import test_boundary_onset as boundary_onset
from maps import test_boundary_ood_gap as boundary_ood_gap
from maps import test_boundary_persistence as boundary_persistence
from tests import mutants as mu

TEST_LEVEL = 1e-3  # two-sided level of this module's own interval statements


def _logistic_sampler(x0: float, slope: float) -> B.Sampler:
    """A decreasing share with a known crossing ``x0`` (logit linear: the fitted family)."""
    def sample(x: float, series: B.Series, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).random(n) < 1 / (1 + math.exp(slope * (x - x0)))

    return sample


def test_design_bisects_to_neighbours_then_flanks() -> None:
    design = Design(widths(64), (0.5, 0.75, 1.0), 400, 8, 1 / 16)
    cells = B.run_design(PERSISTENCE, design, 0, _logistic_sampler(0.7, 30.0))
    xs = cells.xs()
    # coarse 1/2, 3/4, 1; bisection 5/8 then 11/16 (the bracket [11/16, 3/4]); then the flanks 5/8 and 13/16
    assert xs == [0.5, 0.625, 0.6875, 0.75, 0.8125, 1.0], xs
    assert len(cells.batches) == 8
    seeds = [s for _, s, _ in cells.batches]
    assert len(set(seeds)) == len(seeds)  # every batch has a seed of its own
    assert B.bracket(cells, 0.5, increasing=False) == (0.6875, 0.75)


def test_design_stops_without_a_bracket() -> None:
    design = Design(widths(64), (0.5, 0.75, 1.0), 50, 8, 1 / 16)
    cells = B.run_design(PERSISTENCE, design, 0, _logistic_sampler(5.0, 30.0))  # holds everywhere
    assert cells.xs() == [0.5, 0.75, 1.0] and B.bracket(cells, 0.5, False) is None
    low, high = B.monotone_bracket(cells, PERSISTENCE, TEST_LEVEL)
    assert low == 1.0 and high == math.inf  # the crossing lies beyond the last cell, not located


def test_fieller_of_a_straight_line_is_the_closed_form() -> None:
    """For a straight line the numeric inversion gives Fieller's roots of
    ``(a + b u - c)^2 = q^2 (v00 + 2 u v01 + u^2 v11)``."""
    cells = Cells()
    rng = np.random.default_rng(3)
    for i, x in enumerate((0.25, 0.3125, 0.375, 0.4375, 0.5)):
        cells = cells.add(x, i, 0.1 + 0.66 * (x - 0.25) + rng.normal(0, 0.01, 24))
    spec = replace(OOD_GAP, degree=1)
    fit = B.fit_cells("mean", cells, cells.xs(), 1)
    level = 0.01
    est, low, high, _ = B.fieller(fit, spec, level, 0.4)
    q = float(sps.t.ppf(1 - level / 2, fit.df(est)))
    a, b = fit.coef
    (v00, v01), (_, v11) = fit.cov
    c = 0.2
    A, Bq, C = b * b - q * q * v11, 2 * b * (a - c) - 2 * q * q * v01, (a - c) ** 2 - q * q * v00
    roots = sorted((-Bq + sgn * math.sqrt(Bq * Bq - 4 * A * C)) / (2 * A) for sgn in (-1, 1))
    to_x = [fit.center + fit.scale * r for r in roots]
    assert low == pytest.approx(to_x[0], abs=1e-9) and high == pytest.approx(to_x[1], abs=1e-9)
    assert est == pytest.approx(fit.center + fit.scale * (c - a) / b, abs=1e-12)


def test_a_flat_fit_is_not_located() -> None:
    cells = Cells()
    rng = np.random.default_rng(0)
    for i, x in enumerate((0.75, 0.8, 0.85)):
        cells = cells.add(x, i, 0.2 + rng.normal(0, 0.05, 8))  # no slope: the crossing is anywhere
    c = B.locate(CONTAMINATION, cells, 1e-5)
    assert not c.located and c.half_width == math.inf


def _crossing(x: float, se: float) -> B.Crossing:
    return B.Crossing(x, x - 3 * se, x + 3 * se, se, "t", 1e-5, 100)


def test_trend_words() -> None:
    # the crossing rises toward the edge 1 as m grows, with a limit that may reach it: finite-size
    moving = [(m, _crossing(1.0 - 1.75 / math.sqrt(m), 0.005)) for m in (32, 64, 128, 256)]  # 0.69 ... 0.89, limit 1
    t = B.trend(PERSISTENCE, moving, 1e-5)
    assert t.word == B.FINITE_SIZE and t.slope < 0 and t.limit_high >= 1, t
    # the same rise converging well below the edge: condition (a limit the theory does not allow)
    t = B.trend(PERSISTENCE, [(m, _crossing(0.7 - 0.2 / math.sqrt(m) + 0.0, 0.001)) for m in (32, 64, 128, 256)], 1e-5)
    assert t.word == B.CONDITION and t.limit_high < 1, t
    # flat: condition
    assert B.trend(PERSISTENCE, [(32, _crossing(0.75, 0.01)), (64, _crossing(0.751, 0.01))], 1e-5).word == B.CONDITION
    # moving away from the edge (here on the theory's side) with a limit not resolved on the other side: unresolved
    t = B.trend(PERSISTENCE, [(32, _crossing(1.1, 0.002)), (64, _crossing(1.2, 0.002))], 1e-5)
    assert t.word == B.UNRESOLVED, t
    # moving away from the edge inside the region, toward a limit the theory does not allow: condition
    t = B.trend(PERSISTENCE, [(32, _crossing(0.95, 0.002)), (64, _crossing(0.9, 0.002)), (128, _crossing(0.87, 0.002))], 1e-5)
    assert t.word == B.CONDITION and t.limit_high < 1, t
    assert B.trend(PERSISTENCE, [(64, _crossing(0.75, 0.01))], 1e-5).word == B.UNRESOLVED


@pytest.mark.parametrize("method", LOCATOR_METHODS)
def test_locator_covers_a_known_crossing_at_about_its_level(method: str) -> None:
    """The whole locator (design, fit, inversion) on a synthetic statistic with a known crossing,
    shaped after its boundary's prototype and not of the fitted family: at a nominal 0.1 the miss
    rate must be neither far above (its two-sided interval at TEST_LEVEL starts below 0.2) nor far
    below (its interval reaches 0.025). Measured with 400 draws (seed 1): persistence 36, onset 33,
    contamination 36, OOD gap 42 misses at 0.1; 4, 4, 7, 7 at 0.01."""
    nominal = 0.1
    misses, draws = B.locator_coverage(method, 160, nominal, seed=11)
    iv = stats.proportion_interval_by_clopper_pearson(misses, draws, TEST_LEVEL, "two-sided")
    assert iv.low <= 2 * nominal and iv.high >= nominal / 4, f"{method}: {misses}/{draws} misses at nominal {nominal}: [{iv.low:.3f}, {iv.high:.3f}]"


def test_locator_coverage_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="method"):
        B.locator_coverage("nope", 1, 0.1, 0)
    with pytest.raises(ValueError, match="draws"):
        B.locator_coverage("persistence", 0, 0.1, 0)
    with pytest.raises(ValueError, match="resolution"):
        Design(widths(64), (0.5, 1.0), 8, 2, 0.0)
    with pytest.raises(ValueError, match="batches"):
        Design(widths(64), (0.5, 0.75, 1.0), 8, 2, 0.1)


def test_regions_are_the_maps_and_edges_are_their_edges() -> None:
    """Each boundary tests its map's declared region (the map's own predicate), and its declared
    edge is where that predicate changes along the axis of an asserted series."""
    for spec in BOUNDARIES.values():
        assert spec.refines in MAPS
        for series in spec.design("default").series:
            if not spec.asserted(series):
                continue
            inside_at = [spec.region(spec.params(x, series)) for x in (spec.edge - 1e-6, spec.edge + 1e-6)]
            assert inside_at[0] != inside_at[1] or (spec.relation == ">" and spec.region(spec.params(spec.edge, series))), (spec.claim, series)
            # an interval on the required side of the edge is outside the region; one across it is not
            away = (spec.edge + 0.01, spec.edge + 0.02) if spec.relation in (">=", ">") else (spec.edge - 0.02, spec.edge - 0.01)
            assert spec.outside(*away, series) and not spec.outside(spec.edge - 0.01, spec.edge + 0.01, series)
            assert not spec.outside(-math.inf, math.inf, series)


def test_boundary_slots_are_static_per_profile() -> None:
    for cid, spec in BOUNDARIES.items():
        for name, prof in PROFILES.items():
            assert CLAIMS[cid].slots(name, prof.examples(False)) == spec.slots(name) >= 1
        assert CLAIMS[cid].refines == spec.refines
    # m = 32 (eps = 0.2) is outside the theory's conditions: measured for the trend, never asserted
    assert [PERSISTENCE.asserted(s) for s in PERSISTENCE.design("default").series] == [False, True, True, True]
    assert ErrorBudget.for_profile(DEFAULT_ALPHA, PROFILES["ci"]).slots >= sum(s.slots("ci") for s in BOUNDARIES.values())


def test_boundary_record_reaches_results_json_and_the_map_links_to_it(tmp_path: Path) -> None:
    design = Design(widths(32, 64), (0.75, 1.0, 1.25), 200, 6, 1 / 8)
    out = B.check(PERSISTENCE, design, _logistic_sampler(1.1, 25.0), 1e-5)  # crossing above the edge: PASS
    assert out.passed, out.message()
    f = out.findings[0]
    assert f.claim == PERSISTENCE.claim and f.ci_low >= 1.0 and f.details["boundary"]["refines"] == "map/theorem-4.1/persistence"
    recs = [{"kind": "verdict", **verdict_record(f, paper_ref="x", statement="y", regime=out.regime, seed=0, device="cpu", torch_version="t", duration_s=0.0, replay="r")}]
    mapped = MAPS["map/theorem-4.1/persistence"]
    cell = Cell(0.5, 64, mapped.params(0.5, 64), stats.Interval(0.9, 0.8, 1.0, 1e-5, "cp", 128, "two-sided"), True, HOLDS, 0.3)
    mo = map_outcome(mapped, Grid(Axis("k_bg/k_core", (0.5,), "r"), Axis("m", (64,), "m"), 128), [cell], 1e-5)
    recs.append({"kind": "verdict", **verdict_record(mo.findings[0], paper_ref="x", statement="y", regime=mo.regime, seed=0, device="cpu",
                                                      torch_version="t", duration_s=0.0, replay="r")})
    (tmp_path / VERDICT_DIR).mkdir()
    (tmp_path / VERDICT_DIR / "gw0.jsonl").write_text("".join(json.dumps(r, default=str) + "\n" for r in recs), encoding="utf-8")
    json_path, html_path = write_reports(tmp_path, {"profile": "ci", "alpha": 1e-3, "level": 1e-5, "slots": 1, "device": "cpu", "torch": "t"})
    stored = next(v for v in json.loads(json_path.read_text())["verdicts"] if v["claim"] == PERSISTENCE.claim)["boundary"]
    assert [s["label"] for s in stored["series"]] == ["m = 32", "m = 64"] and stored["series"][1]["asserted"]
    assert stored["series"][1]["crossing"]["ci_low"] >= 1.0 and stored["trend"]["word"] in (B.CONDITION, B.FINITE_SIZE, B.UNRESOLVED)
    html = html_path.read_text()
    assert f'href="#{PERSISTENCE.claim}"' in html and 'href="#map/theorem-4.1/persistence"' in html
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for p in out.plots:  # the boundary and trend plots draw
        fig, ax = plt.subplots()
        p.draw(ax)
        plt.close(fig)


# --- mutants: a model whose boundary sits elsewhere is reported there ------------------------------
#
# Small designs at a relaxed level (TEST_LEVEL): these test where the locator puts a moved boundary,
# not the claims.


def test_scaled_background_moves_the_persistence_crossing_above_the_edge() -> None:
    """A background U[0, 3/4] weakens the contamination that breaks persistence: the crossing moves
    from about 0.69 to about 1.15 (m = 32 prototype, 64 replicates per cell; Lemma 1.1's scaling
    with the background's mean squared predicts 0.69 x 16/9 = 1.23), beyond k_bg = k_core."""
    design = Design(widths(32), (0.5, 1.0, 1.5), 48, 8, 1 / 8, coarse_replicates=32)  # development run: 0.69 [0.65, 0.76] and 1.19 [1.15, 1.23]
    real = B.run_series(PERSISTENCE, design, 0, boundary_persistence.persistence_sampler(paper_model, "cpu"), TEST_LEVEL).crossing
    moved = B.run_series(PERSISTENCE, design, 0, boundary_persistence.persistence_sampler(mu.scaled_background(0.75), "cpu"), TEST_LEVEL).crossing
    assert real.high < 1.0 and moved.low > real.high and moved.low >= 1.0, (real, moved)


def test_larger_background_moves_the_late_onset_into_the_region() -> None:
    """A background U[0, 3/2]: the late onset comes at about k_bg / k_core = 0.55 (1.235 / 2.25 by the
    same scaling; prototype at m = 64: P(late) 0.08 at 1/2, 0.98 at 3/4), inside the region."""
    design = Design(widths(64), (4 / 16, 8 / 16, 12 / 16, 1.0), 64, 8, 1 / 16)
    c = B.run_series(ONSET, design, 0, boundary_onset.onset_sampler(mu.scaled_background(1.5), "cpu"), TEST_LEVEL).crossing
    assert c.located and 0.4 <= c.low and c.high < 0.75, c


def test_zero_mean_background_puts_the_contamination_boundary_at_slope_zero() -> None:
    design = Design(widths(64, **{"k_bg/k_core": 1.0}), (0.0, 0.5, 1.0), 8, 3, 0.05)
    r = B.run_series(CONTAMINATION, design, 0, boundary_contamination.contamination_sampler(mu.zero_mean_background_at_slope, "cpu"), TEST_LEVEL)
    assert r.crossing.high <= 0.0 and not r.outside, r.crossing  # at or below ReLU: the ratio is below 0.2 at every slope


def test_zero_mean_background_puts_the_gap_boundary_beyond_the_axis() -> None:
    design = Design(widths(64), (2 / 16, 8 / 16, 1.0), 8, 3, 1 / 16)
    r = B.run_series(OOD_GAP, design, 0, boundary_ood_gap.gap_sampler(mu.zero_mean_background, "cpu"), TEST_LEVEL)
    assert r.crossing.low >= 1.0 and r.crossing.high == math.inf and not r.outside, r.crossing  # no gap anywhere on the axis


# --- cell pools: a boundary's power measured on runs drawn from a pool per axis value ---------------


def test_cell_pools_run_each_axis_value_once_and_draw_every_batch_from_its_pool() -> None:
    """Runs of a design sharing one ``CellPools`` run each (series, axis value) once, with a pool of its
    own size and seed; each batch is drawn from that pool by an index generator its own seed names, so
    two runs with different seeds draw different batches and the same seeds draw the same ones."""
    calls: list[tuple[float, int, int]] = []
    inner = _logistic_sampler(0.7, 30.0)

    def counted(x: float, series: B.Series, n: int, seed: int) -> np.ndarray:
        calls.append((x, n, seed))
        return inner(x, series, n, seed)

    pools = B.CellPools(size=256, seed=5)
    design = Design(widths(32, 64), (0.5, 0.75, 1.0), 64, 8, 1 / 16, coarse_replicates=32)
    first = [B.run_design(PERSISTENCE, replace(design, seed=s), i, pools.drawing(counted)) for s in (1, 2) for i in (0, 1)]
    assert all(n == 256 for _, n, _ in calls) and len(set(calls)) == len(calls) == len(pools.pools)  # one run per cell, never twice
    assert pools.replicates_run == 256 * len(pools.pools)
    assert len({seed for _, _, seed in calls}) == len(calls)  # independent pools across cells and series
    for k, cells in enumerate(first):
        series = design.series[k % 2]
        for x, _, values in cells.batches:
            assert values.size in (32, 64) and np.isin(values, pools.pools[(series, x)]).all()
    # same seeds, same draws; the two runs (design seeds 1 and 2) drew differently
    again = B.run_design(PERSISTENCE, replace(design, seed=1), 0, pools.drawing(counted))
    assert [v.tolist() for *_, v in again.batches] == [v.tolist() for *_, v in first[0].batches]
    assert [v.tolist() for *_, v in first[0].batches] != [v.tolist() for *_, v in first[2].batches]
    assert len(calls) == len(pools.pools)  # the rerun found every pool filled
    assert B.drawn_from(None, inner) is inner
    with pytest.raises(ValueError, match="size must be >= 2"):
        B.CellPools(size=1, seed=0)
    with pytest.raises(ValueError, match="gave 3 values for a pool of 8"):
        B.CellPools(size=8, seed=0).drawing(lambda x, s, n, seed: np.zeros(3))(0.5, design.series[0], 4, 0)
