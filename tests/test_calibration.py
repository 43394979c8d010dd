"""The calibration study itself: its miss rates are right where the answer is known, it catches a
method that undercovers, its calibrated levels deliver, and the report shows what it measured.

The frequencies asserted on are exact Clopper-Pearson intervals from the study (95%, two-sided):
a measured rate is "at or below nominal" when its interval's lower end is at most the level.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fc_check import calibration as cal
from fc_check import levels, stats
from fc_check.regimes import paper_model
from fc_check.stats import Sample
from fc_check.verdict import Finding, Outcome
from properties import test_controls as controls
from theorems import test_theorem_4_4 as t44


def _finding(values: np.ndarray, relation: str, threshold: object, method: str = "t") -> Finding:
    return Finding("demo/claim", "a statistic", float(values.mean()), 0.0, 0.0, 1e-3, threshold, 0.1, values.size, True, 0.0, method,
                   relation=relation, sample=Sample("values", values))


def _target(n: int, side: str, relation: str, threshold: object, level: float = 1e-3) -> cal.Target:
    return cal.Target(n, level, side, threshold, relation, None)


def test_a_small_calibration_run_finds_each_method_at_or_below_nominal() -> None:
    """A real pool (a cheap check of the suite, 256 replicates) and synthetic pools for the exact methods."""
    call = cal.CheckCall("properties/test_controls.py::test_no_spurious_correlation", "properties/test_controls.py", controls.check_no_spurious_correlation,
                         (controls.paper_relu, controls.PAPER.with_(replicates=16, d=2**12)))
    pool = cal.run_pool(call, 256, 128, 1e-3, "cpu")
    (k, sample), = pool.samples.items()
    f = pool.findings[k[2]]
    rng = np.random.default_rng(0)
    rec = cal.study_statistic(sample, f, _target(16, "two-sided", "in", f.threshold), rng, 40_000, (0.05, 0.005))
    tens = [p for p in rec["miss_two_sided"]["t"] if p["level"] in (0.1, 0.01)]
    assert len(tens) == 2 and all(p["ci"][0] <= p["level"] for p in tens), tens
    for tail in ("lower", "upper"):
        assert all(p["ci"][0] <= p["target"] for p in rec["calibrated"][tail]), rec["calibrated"]
    # exact methods on synthetic pools: Clopper-Pearson on 0/1 outcomes, the order-statistic median
    outcomes = (rng.random(4000) < 0.7).astype(float)
    cp = cal.study_statistic(Sample("values", outcomes), _finding(outcomes, ">=", 0.5, "clopper-pearson"), _target(40, "lower", ">=", 0.5), rng, 40_000, ())
    assert all(p["ci"][0] <= p["level"] for p in cp["miss"]["clopper-pearson"]["lower"] if p["level"] in (0.1, 0.01))
    skewed = rng.gamma(2.0, 1.0, 4000)
    med = cal.study_statistic(Sample("values", skewed), _finding(skewed, "in", [0.0, 10.0], "order-statistics"), _target(32, "two-sided", "in", [0.0, 10.0]), rng, 40_000, ())
    assert all(p["ci"][0] <= p["level"] for p in med["miss"]["order-statistics"]["two-sided"] if p["level"] in (0.1, 0.01))


def test_the_study_detects_a_t_upper_bound_that_undercovers() -> None:
    """The plain t upper bound on a right-skewed statistic with 8 replicates misses more often than its
    level; the study flags it, and the t bound at the calibrated level it chooses delivers."""
    rng = np.random.default_rng(1)
    pool = rng.lognormal(0.0, 0.8, 8000)  # skewness about 3
    rec = cal.study_statistic(Sample("values", pool), _finding(pool, "<=", 10.0), _target(8, "upper", "<=", 10.0), rng, 100_000, (0.1, 0.01))
    t_upper = {p["level"]: p for p in rec["miss"]["t"]["upper"]}
    assert t_upper[0.01]["exceeds"] and t_upper[0.01]["ratio"] > 2, t_upper[0.01]
    after = {p["target"]: p for p in rec["calibrated"]["upper"]}
    assert after[0.01]["nominal"] < 0.01 and after[0.01]["ci"][0] <= 0.01, after[0.01]
    assert rec["skewness"] > 1.5


def test_calibrated_levels_are_read_and_interpolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = {"entries": {levels.key("demo/claim", "a statistic", 8): {"upper": [[1e-3, 1e-5, 9e-4], [1e-2, 2e-3, 9e-3]]}}, "provenance": {}}
    path = tmp_path / "levels.json"
    path.write_text(json.dumps(table))
    monkeypatch.setattr(levels, "TABLE_PATH", path)
    levels.table.cache_clear()
    try:
        tails, delivered = levels.calibrated_tails("demo/claim", "a statistic", 8, 1e-3, "upper")
        assert tails == (0.0, pytest.approx(1e-5)) and delivered == pytest.approx(9e-4)
        mid, _ = levels.calibrated_tails("demo/claim", "a statistic", 8, math.sqrt(1e-5), "upper")  # between the points, on the log-log line
        assert 1e-5 < mid[1] < 2e-3
        # below the table: the log-log line through the two smallest points (slope log10(200) per decade)
        low, _ = levels.calibrated_tails("demo/claim", "a statistic", 8, 1e-5, "upper")
        assert low[1] == pytest.approx(1e-5 * 200.0**-2, rel=1e-9)
        high, _ = levels.calibrated_tails("demo/claim", "a statistic", 8, 0.1, "upper")  # above it: the largest point's ratio
        assert high[1] == pytest.approx(0.02)
        assert levels.calibrated_tails("demo/claim", "a statistic", 16, 1e-3, "upper") == (None, None)  # another replicate count: not calibrated
        x = np.random.default_rng(2).lognormal(0, 0.8, 8)
        plain, wide = stats.mean_interval_by_t(x, 1e-3, "upper"), stats.mean_interval_by_t(x, 1e-3, "upper", tails)
        assert wide.high > plain.high and wide.alpha == 1e-3 and wide.nominal == tails and wide.method == "t (calibrated level)"
    finally:
        levels.table.cache_clear()


def test_map_cells_read_their_calibrated_lower_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A map cell whose plain t bound the study found to miss is computed at the table's lower tail (the
    HOLD side); a cell without an entry keeps the plain two-sided t; the name the table is keyed by is
    the name the verdict's cell findings carry."""
    from fc_check.maps import CONTAMINATION, cell_interval_by_t, cell_statistic, measure, outcome

    grid = CONTAMINATION.grid("ci")
    name = cell_statistic(grid, 0.0, 2)
    assert name == "cell slope = 0, k_bg = 2"
    table = {"entries": {levels.key(CONTAMINATION.claim, name, 16): {"lower": [[1e-5, 1e-7, 1e-5], [1e-3, 1e-4, 1e-3]]}}, "provenance": {}}
    path = tmp_path / "levels.json"
    path.write_text(json.dumps(table))
    monkeypatch.setattr(levels, "TABLE_PATH", path)
    levels.table.cache_clear()
    try:
        x = np.random.default_rng(3).normal(0.6, 0.05, 16)
        cal = cell_interval_by_t(CONTAMINATION.claim, name, x, 2e-3)
        plain = cell_interval_by_t(CONTAMINATION.claim, cell_statistic(grid, 0.0, 8), x, 2e-3)
        assert cal.method == "t (calibrated level)" and cal.nominal == (pytest.approx(1e-4), pytest.approx(1e-3))
        assert plain.method == "t" and plain.nominal is None
        assert cal.low < plain.low and cal.high == pytest.approx(plain.high)
        cells = measure(CONTAMINATION, grid, lambda cx, cy, p: (cell_interval_by_t(CONTAMINATION.claim, cell_statistic(grid, cx, cy), x, 2e-3), 0.0))
        parts = outcome(CONTAMINATION, grid, cells, 2e-3).parts
        assert {f.statistic: f.method for f in parts}[name] == "t (calibrated level)"
    finally:
        levels.table.cache_clear()


def test_every_level_says_which_error_it_bounds() -> None:
    x = np.linspace(0.3, 0.5, 16)
    from fc_check.common import mean_at_least

    assert mean_at_least("theorem-4.2/contamination-ratio", "s", x, 0.2, 1e-3).error_bounded == "false PASS"
    fit = Finding("lemma-1.2/rate", "slope", -0.5, -0.6, -0.4, 1e-3, {"contains": -0.5, "max_half_width": 0.1}, 0.05, 16, True, 0.0, "ols-cluster", relation="contains")
    assert fit.error_bounded == "false FAIL"


def test_discovery_finds_the_checks_behind_the_tests() -> None:
    calls = cal.discover("ci", ["theorems/test_theorem_4_4.py", "maps/test_onset.py"])
    by_test = {c.test: c for c in calls}
    assert by_test["theorems/test_theorem_4_4.py::test_no_contamination"].fn is t44.check_no_contamination
    assert by_test["theorems/test_theorem_4_4.py::test_relu_contrast"].regime.replicates == 16
    assert "maps/test_onset.py::test_onset_map" in by_test  # a map test: no Hypothesis example, the grid is its regime
    moved = by_test["theorems/test_theorem_4_4.py::test_no_contamination"].with_regime(t44.PAPER.with_(m=32))
    assert moved.regime.m == 32 and moved.fn is t44.check_no_contamination


def test_report_shows_the_study_and_the_forest_plot(tmp_path: Path) -> None:
    from fc_check.report import VERDICT_DIR, write_reports
    from fc_check.verdict import verdict_record

    folder = tmp_path / VERDICT_DIR
    folder.mkdir()
    f = Finding("theorem-4.4/no-contamination", "mean|G_k| / mean C_k (linear network)", 0.02, -math.inf, 0.03, 1e-5, 0.05, 0.004, 16, True, 0.02, "t (calibrated level)",
                relation="<=", nominal=(0.0, 8.7e-9), delivered=7.5e-6)
    rec = {"kind": "verdict", **verdict_record(f, paper_ref="Theorem 4.4", statement="s", regime={"m": 64}, seed=0, device="cpu", torch_version="x", duration_s=1.0, replay="pytest x")}
    (folder / "gw0.jsonl").write_text(json.dumps(rec) + "\n")
    point = {"level": 0.01, "misses": 270, "draws": 10000, "rate": 0.027, "ci": [0.024, 0.030], "ratio": 2.7, "exceeds": True}
    calib = {"profile": "ci", "commit": "abc1234", "created": "2026-12-01", "device": "cpu", "wall_s": 1.0, "level": 1e-5,
             "statistics": [{"claim": f.claim, "statistic": f.statistic, "regime_kind": "pinned", "method": "t", "side": "upper", "n": 16, "pool": 1024,
                             "skewness": 0.9, "excess_kurtosis": 0.5, "level": 1e-5, "miss": {"t": {"upper": [point]}},
                             "calibrated": {"upper": [{**point, "target": 0.01, "nominal": 0.002, "rate": 0.0099, "ci": [0.008, 0.012], "exceeds": False}]}}],
             "fresh_seed_fail": {f.claim: {"pinned": {"rate": 0.0, "upper": 3.7e-6}}}, "union": {"pinned": {"rate": 0.0, "upper": 3.7e-6}},
             "power": [{"departure": "leaky-from-identity", "strength": "slope", "test": "t", "claims": [f.claim], "detected_at_0.9": 0.12, "bracket_0.9": [0.0, 0.2],
                        "points": [{"strength": 0.0, "fail": {"rate": 0.0, "ci": [0, 0.01]}, "predicted_fail": 0.0, "statistics": [{"statistic": f.statistic, "resolution": 0.004}]},
                                   {"strength": 0.2, "fail": {"rate": 1.0, "ci": [0.99, 1]}, "predicted_fail": 1.0, "statistics": []}]}],
             "not_calibrated": [{"claim": "lemma-1.1/projection-identity", "statistic": "", "why": "exact"}]}
    (tmp_path / "calibration.json").write_text(json.dumps(calib))
    _, html_path = write_reports(tmp_path, {"profile": "ci", "alpha": 1e-3, "level": 1e-5, "slots": 100, "device": "cpu", "torch": "x"})
    html = html_path.read_text(encoding="utf-8")
    assert 'id="trust"' in html and "abc1234" in html and "How far each claim is from failing" in html
    assert "false PASS" in html and "delivered 7.5e-06" in html and "leaky-from-identity: s = 0.12 (measured between 0 and 0.2)" in html
    assert html.count("data:image/png;base64,") >= 2  # the forest plot and the power curve
    (tmp_path / "calibration.json").write_text(json.dumps({**calib, "power": None}))  # a study run with --no-power
    html = write_reports(tmp_path, {"profile": "ci", "alpha": 1e-3, "level": 1e-5, "slots": 100, "device": "cpu", "torch": "x"})[1].read_text(encoding="utf-8")
    assert 'id="trust"' in html and "not measured in this study" in html and "leaky-from-identity: s" not in html
    (tmp_path / "calibration.json").unlink()
    html = write_reports(tmp_path, {"profile": "ci", "alpha": 1e-3, "level": 1e-5, "slots": 100, "device": "cpu", "torch": "x"})[1].read_text(encoding="utf-8")
    assert 'id="trust"' not in html and "How far each claim is from failing" in html


def test_power_curves_merge_into_an_earlier_study_and_the_report_shows_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--merge-from``: a later study's power curves join the earlier study's file (same departure and
    test replaced, others kept, each added curve saying where it was measured); a claim with a curve but
    no level pool gets a row whose fresh-seed fail rate is P(FAIL) at the paper's strength."""
    from fc_check.calibrate import main
    from fc_check.report import VERDICT_DIR, write_reports

    def curve(dep: str, test: str, claim: str, fail0: float) -> dict:
        return {"departure": dep, "strength": "s", "paper_strength": 0.0, "test": test, "claims": [claim], "detected_at_0.9": 0.5, "bracket_0.9": [0.0, 1.0],
                "points": [{"strength": 0.0, "pool": 160, "fail": {"rate": fail0, "ci": [fail0 / 2, fail0 * 2]}, "statistics": [{"statistic": "hue", "resolution": 0.2}]},
                           {"strength": 1.0, "pool": 160, "fail": {"rate": 1.0, "ci": [0.99, 1.0]}, "statistics": []}]}

    earlier = {"profile": "ci", "commit": "aaa1111", "statistics": [], "power": [curve("label-noise", "a::t", "x/one", 0.01), curve("cnn-border-chroma", "c::t", "deep/x", 0.5)],
               "not_calibrated": [{"claim": "deep/x", "statistic": "", "why": "not pooled under --profile ci"}]}
    added = {"profile": "ci", "commit": "bbb2222", "device": "cuda", "created": "2026-12-03", "wall_s": 9.0,
             "power": [curve("cnn-border-chroma", "c::t", "deep/x", 0.03)]}
    merged = cal.merge_power(earlier, added)
    assert [(c["departure"], c["points"][0]["fail"]["rate"]) for c in merged["power"]] == [("label-noise", 0.01), ("cnn-border-chroma", 0.03)]
    assert merged["power"][1]["measured"]["commit"] == "bbb2222" and "measured" not in merged["power"][0] and merged["power_merged"][0]["curves"] == 1
    with pytest.raises(ValueError, match="profile 'default'"):
        cal.merge_power(earlier, {**added, "profile": "default"})
    (tmp_path / VERDICT_DIR).mkdir()
    (tmp_path / "calibration.json").write_text(json.dumps({**merged, "created": "x", "device": "cpu", "wall_s": 1.0, "level": 1e-5}))
    html = write_reports(tmp_path, {"profile": "ci", "alpha": 1e-3, "level": 1e-5, "slots": 100, "device": "cpu", "torch": "x"})[1].read_text(encoding="utf-8")
    assert "levels not calibrated: not pooled under --profile ci" in html and "0.03 [0.015, 0.06] at the paper&#39;s strength" in html
    assert "merged: measured on commit bbb2222, cuda" in html and "1 measured on commit <code>bbb2222</code>" in html
    # the command: the later file merged into the folder's study, the report rebuilt from it
    (tmp_path / "calibration.json").write_text(json.dumps({**earlier, "created": "x", "device": "cpu", "wall_s": 1.0, "level": 1e-5}))
    (tmp_path / "later.json").write_text(json.dumps(added))
    assert main(["--merge-from", str(tmp_path / "later.json"), "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "calibration.json").read_text())["power"] == merged["power"]
    assert "merged: measured on commit bbb2222" in (tmp_path / "index.html").read_text(encoding="utf-8")
    (tmp_path / "other.json").write_text(json.dumps({**added, "profile": "default"}))
    for argv, said in ((["--merge-from", str(tmp_path / "later.json"), "--out", str(tmp_path / "empty")], "run python -m fc_check.calibrate --out DIR first"),
                       (["--merge-from", str(tmp_path / "other.json"), "--out", str(tmp_path)], "profile 'default'"),
                       (["--merge-from", str(tmp_path / "later.json"), "--claims", "deep/"], "runs no study")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2 and said in capsys.readouterr().err, argv


def test_departures_keep_the_paper_model_at_strength_zero() -> None:
    from fc_check import departures as dep

    regime = t44.PAPER
    for d in dep.DEPARTURES:
        assert d.strengths[0] in (0.0, 1.0) and len(d.strengths) >= 3, d.name
    base = paper_model(regime)
    assert dep.leaky_from_relu(base, 0.0) == base and dep.background_towards_zero_mean(base, 0.0) == base
    moved = dep.leaky_from_relu(base, 0.5)
    assert moved.network.activation.slope == 0.5 and moved == dep.leaky_from_relu(base, 0.5)  # equal models share memoised runs
    assert replace(base, sampler=dep.NoisyLabels(0.1)) == replace(base, sampler=dep.NoisyLabels(0.1))


def test_pool_batches_run_in_worker_processes_give_the_same_replicates() -> None:
    """The study's worker processes (one torch thread each) run the same batches as this process: a
    pool run through them holds the same replicates (float32 products may round differently across
    thread counts, so equal to float32 precision, not bit for bit), in the same order."""
    call = cal.CheckCall("properties/test_controls.py::test_no_spurious_correlation", "properties/test_controls.py", controls.check_no_spurious_correlation,
                         (controls.paper_relu, controls.PAPER.with_(replicates=8, d=2**10)), {"n": 2000})
    here = cal.run_pool(call, 48, 16, 1e-3, "cpu")
    runner = cal.BatchRunner(2, "ci")
    try:
        there = cal.run_pool(call, 48, 16, 1e-3, "cpu", runner=runner)
    finally:
        runner.close()
    assert here.replicates == there.replicates == 48 and here.samples.keys() == there.samples.keys()
    for k in here.samples:
        np.testing.assert_allclose(there.samples[k].values, here.samples[k].values, rtol=1e-5, atol=1e-6)


def test_capped_tail_p_values_give_the_miss_rates_and_levels_of_exact_ones() -> None:
    """Tail p-values are computed only below ``P_CAP`` (the rest are 1): every miss rate at a level
    <= 0.1 and every calibrated level is what the exact p-values give."""
    from scipy import stats as sps

    x = np.random.default_rng(3).exponential(size=(50_000, 12))
    capped = cal.tail_pvalues(x, 1.0, ("t", "hall"))
    m, s, _ = cal._moments(x)
    t = cal._studentised(m, s, 12, 1.0)
    exact = (sps.t.sf(t, 11), sps.t.cdf(t, 11))
    for i in range(2):
        for a in (0.1, 0.01, 1e-3):
            assert int((capped["t"][i] < a).sum()) == int((exact[i] < a).sum())
        assert cal.calibrated_level(capped["t"][i], 0.01) == cal.calibrated_level(exact[i], 0.01)


def test_weakest_regime_is_rebuilt_from_a_verdicts_record() -> None:
    """A verdict's regime holds derived figures (eps) beside the fields: the rebuild takes the fields,
    keeps the pinned replicates and seed, and refuses a record of another kind of regime."""
    from fc_check.calibration import regime_like
    from fc_check.regimes import paper_regime

    pinned = paper_regime(16)
    recorded = {"m": 32, "d": 4096, "k_core": 8, "k_bg": 8, "eta": 0.02, "batch": 16, "steps": 8000, "replicates": 32, "seed": 7, "eps": 0.04}
    alt = regime_like(pinned, recorded)
    assert (alt.m, alt.d, alt.eta, alt.batch, alt.steps) == (32, 4096, 0.02, 16, 8000)
    assert (alt.replicates, alt.seed) == (pinned.replicates, pinned.seed) and alt.eps == pytest.approx(0.04)
    with pytest.raises(ValueError, match="shares no field"):
        regime_like(pinned, {"axis": "slope", "cells": 24})
    from fc_check.maps import CONTAMINATION

    grid = CONTAMINATION.grid("ci")  # a map records its axes as text: the pinned grid comes back
    assert regime_like(grid, {"x": "slope [0.0, 0.5, 1.0]", "y": "k_bg [2, 8, 32]", "replicates": 16, "cells": 9}) == grid


def test_the_study_measures_the_levels_the_check_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the levels it chooses on a pool, the study measures the table's (what a check computes
    at, chosen at the pinned regime): at a weakest regime those are the check's delivered figures."""
    rng = np.random.default_rng(4)
    pool = rng.lognormal(0.0, 0.8, 8000)
    table = {"entries": {levels.key("demo/claim", "a statistic", 8): {"upper": [[0.01, 1e-4, 0.01], [0.1, 0.02, 0.1]]}}, "provenance": {}}
    path = tmp_path / "levels.json"
    path.write_text(json.dumps(table))
    monkeypatch.setattr(levels, "TABLE_PATH", path)
    levels.table.cache_clear()
    try:
        rec = cal.study_statistic(Sample("values", pool), _finding(pool, "<=", 10.0), _target(8, "upper", "<=", 10.0), rng, 50_000, (0.1, 0.01))
    finally:
        levels.table.cache_clear()
    at = {p["target"]: p for p in rec["table_levels"]["upper"]}
    assert at[0.01]["nominal"] == pytest.approx(1e-4) and at[0.1]["nominal"] == pytest.approx(0.02)
    plain = {p["level"]: p["rate"] for p in rec["miss"]["t"]["upper"]}
    assert at[0.01]["rate"] < plain[0.01]  # a smaller nominal level misses less often


def test_table_entries_hold_at_both_studied_regimes() -> None:
    """Where a statistic was studied at its pinned and its weakest regime, each target takes the
    smaller chosen level and the larger measured miss rate."""
    def rec(kind: str, nominal: float, missed: float) -> dict:
        pts = [{"target": 0.01, "nominal": nominal, "rate": missed, "exceeds": False}]
        return {"claim": "demo/claim", "statistic": "s", "n": 16, "regime_kind": kind, "pool": 64, "regime": {"kind": kind},
                "calibrated": {"upper": pts}, "miss": {"t": {"upper": [{"level": 0.01, "exceeds": kind == "weakest"}]}}}

    entries = cal.new_table_entries([rec("pinned", 5e-3, 0.009), rec("weakest", 2e-3, 0.011)])
    entry = entries[levels.key("demo/claim", "s", 16)]
    assert entry["upper"] == [[0.01, 2e-3, 0.011]] and entry["regime"] == {"kind": "pinned"} and entry["regimes"] == ["pinned", "weakest"]
    assert cal.new_table_entries([rec("pinned", 5e-3, 0.009)]) == {}  # no excess found anywhere: no entry


def test_the_strength_detected_at_0_9_is_bracketed_and_refined_by_bisection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The crossing of P(FAIL) = 0.9 lies between two measured strengths; each refinement step measures
    the midpoint of that bracket, so two steps leave a quarter of the grid's spacing."""
    assert cal._bracket([0.0, 0.5, 0.75, 0.9], [0.0, 0.4, 0.95, 0.2], 0.9) == [0.5, 0.75]  # the first crossing, even if the curve falls again
    assert cal._bracket([0.0, 0.5], [0.95, 1.0], 0.9) is None and cal._bracket([0.0, 0.5], [0.0, 0.3], 0.9) is None
    assert cal._bisect_crossing([0.0, 0.5, 0.75], [0.0, 0.4, 0.95], 0.9) == 0.625
    from fc_check import departures

    coarse = replace(departures.departure_of("properties/test_controls.py::test_no_spurious_correlation"), strengths=(0.0, 0.02))
    monkeypatch.setattr(departures, "DEPARTURES", (coarse,))
    call = cal.CheckCall("properties/test_controls.py::test_no_spurious_correlation", "properties/test_controls.py", controls.check_no_spurious_correlation,
                         (controls.paper_relu, controls.PAPER.with_(replicates=16, d=2**12)))
    study = replace(cal.STUDIES["ci"], power_pool=32, power_draws=400, power_departures=None, power_skip=(), power_refine=2)
    (curve,) = cal.power_study([call], study, 1e-3, "cpu", np.random.default_rng(0), lambda s: None, ["control/no-spurious-correlation"], heavy=False)
    xs = [p["strength"] for p in curve["points"]]
    assert xs == sorted(xs) and xs[0] == 0.0 and xs[-1] == 0.02 and len(xs) == 4
    assert [p["refined"] for p in curve["points"]].count(True) == 2 and all(0.0 < x < 0.02 for x, p in zip(xs, curve["points"], strict=True) if p["refined"])
    assert curve["points"][0]["fail"]["rate"] < 0.9 <= curve["points"][-1]["fail"]["rate"]
    lo, hi = curve["bracket_0.9"]
    assert math.isclose(hi - lo, 0.005) and lo <= curve["detected_at_0.9"] <= hi


def test_a_study_without_the_heavy_families_says_so_per_claim(tmp_path: Path) -> None:
    """``--no-heavy --no-power`` under default, end to end: the T0 fit is not pooled, the study names it
    with the reason, and no power is recorded. (In a process of its own: discovery reloads the claim
    modules under the study's profile, which must not leak into this test run's.)"""
    import subprocess
    import sys

    root = Path(cal.__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-m", "fc_check.calibrate", "--profile", "default", "--no-heavy", "--no-power", "--workers", "1",
                          "--claims", "theorem-4.1/t0-scaling", "--out", str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads((tmp_path / "calibration.json").read_text(encoding="utf-8"))
    assert out["heavy"] is False and out["power"] is None and out["statistics"] == []
    (why,) = [n["why"] for n in out["not_calibrated"] if n["claim"] == "theorem-4.1/t0-scaling"]
    assert "--no-heavy" in why and "--profile default pools it" in why


def test_a_study_records_the_commit_it_started_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A study runs for up to hours, and the checkout may move meanwhile: ``calibration.json`` names the
    commit read before the study, the code that ran, not the one checked out when it ends."""
    from fc_check import calibrate

    head = ["aaaaaaa"]

    def study_during_which_the_checkout_moves(*args: object, **kwargs: object) -> dict:
        head[0] = "bbbbbbb"
        return {"statistics": [], "levels_table": {}, "wall_s": 0.0}

    monkeypatch.setattr(calibrate, "commit", lambda: head[0])
    monkeypatch.setattr(calibrate, "run_study", study_during_which_the_checkout_moves)
    assert calibrate.main(["--profile", "ci", "--no-power", "--claims", "figure-3a", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "calibration.json").read_text(encoding="utf-8"))["commit"] == "aaaaaaa"


def test_power_along_names_known_departures_only(capsys: pytest.CaptureFixture[str]) -> None:
    """``--power-along`` takes departure names as the catalogue gives them; a wrong name, or the option
    together with ``--no-power``, is a usage error before any pool runs, and so is a wrong name in
    ``run_study``."""
    from fc_check.calibrate import main

    with pytest.raises(SystemExit) as exc:
        main(["--profile", "ci", "--power-along", "label-noise", "no-such-departure"])
    assert exc.value.code == 2 and "'no-such-departure'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--profile", "ci", "--no-power", "--power-along", "label-noise"])
    assert exc.value.code == 2 and "choose one" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no departure named 'nope'"):
        cal.run_study("ci", claims=("theorem-4.2/own-core-growth",), power_along=("nope",), log=lambda s: None)
    # --strengths measures given strengths of one named departure
    for argv, said in ((["--strengths", "0"], "name exactly one departure"), (["--power-along", "label-noise", "init-scale", "--strengths", "0"], "exactly one"),
                       (["--power-along", "label-noise", "--strengths", "nan"], "finite numbers only")):
        with pytest.raises(SystemExit) as exc:
            main(["--profile", "ci", *argv])
        assert exc.value.code == 2 and said in capsys.readouterr().err, argv
    with pytest.raises(ValueError, match="exactly one departure"):
        cal.run_study("ci", claims=("theorem-4.2/own-core-growth",), power_strengths=(0.0,), log=lambda s: None)


def test_a_curve_measured_in_parts_is_joined_point_by_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--strengths``: a study measures only the given strengths of a departure (here the paper's
    and one more, then a later part); merged with ``--merge-from``, a part's points join the earlier
    curve's (replacing those at equal strengths), each saying where it was measured, and the 0.9 point
    is found again on the joined curve."""
    from fc_check import departures

    test = "properties/test_controls.py::test_no_spurious_correlation"
    monkeypatch.setattr(departures, "DEPARTURES", (replace(departures.departure_of(test), strengths=(0.0, 0.01, 0.02, 0.05)),))
    seen: list[float] = []

    def point(call, dep, s, refined, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202 - P(FAIL) rises with s
        seen.append(s)
        return ["control/no-spurious-correlation"], {"strength": s, "fail": {"rate": min(1.0, 40 * s), "ci": [0, 1]}, "statistics": [], "refined": refined}

    monkeypatch.setattr(cal, "_power_point", point)
    call = cal.CheckCall(test, "properties/test_controls.py", controls.check_no_spurious_correlation, (controls.paper_relu, controls.PAPER.with_(replicates=2)))
    study = replace(cal.STUDIES["ci"], power_departures=None, power_skip=(), power_refine=0, power_strengths=(0.0, 0.01))
    (first,) = cal.power_study([call], study, 1e-3, "cpu", np.random.default_rng(0), lambda s: None, ["control/no-spurious-correlation"], heavy=False)
    assert seen == [0.0, 0.01] and first["strengths_given"] == [0.0, 0.01] and first["detected_at_0.9"] is None and first["paper_strength"] == 0.0
    (later,) = cal.power_study([call], replace(study, power_strengths=(0.01, 0.05)), 1e-3, "cpu", np.random.default_rng(0), lambda s: None,
                               ["control/no-spurious-correlation"], heavy=False)
    later["points"][0]["fail"]["rate"] = 0.5  # measured again at 0.01: the later part's point replaces the earlier one
    base = {"profile": "ci", "statistics": [], "power": []}
    one = cal.merge_power(base, {"profile": "ci", "commit": "aaa", "device": "cpu", "power": [first]})  # the first part into an empty study...
    joined = cal.merge_power(one, {"profile": "ci", "commit": "bbb", "device": "cuda", "power": [later]})  # ...then the later one joins it
    (curve,) = joined["power"]
    assert [(p["strength"], p["fail"]["rate"], p["measured"]["commit"]) for p in curve["points"]] == [(0.0, 0.0, "aaa"), (0.01, 0.5, "bbb"), (0.05, 1.0, "bbb")]
    assert curve["bracket_0.9"] == [0.01, 0.05] and 0.01 < curve["detected_at_0.9"] < 0.05 and curve["strengths_given"] == [0.0, 0.01, 0.05]
    assert curve["joined_parts"] == 2


def test_the_fresh_seed_fail_rate_covers_pooled_counts() -> None:
    """A Clopper-Pearson bound on counts pooled over replicates (Lemma 1.2's exceedance frequency) gets
    a fresh-seed fail rate: near 0 when the true frequency sits well under the threshold, near 1 at the
    threshold. (Before, such findings were skipped and the claim's rate read 0 with an upper bound of 0.)"""
    rng = np.random.default_rng(3)
    trials = 50

    def rate_at(p: float) -> float:
        counts = rng.binomial(trials, p, 2048).astype(float)
        f = Finding("demo/counts", "a frequency", p, 0.0, 0.0, 1e-3, 0.1, 0.1, 16, True, 0.0, "clopper-pearson", relation="<=",
                    sample=Sample("counts", counts, trials))
        pool = cal.Pool(None, 2048, [f], {("demo/counts", "a frequency", 0): f.sample}, 0.0)  # type: ignore[arg-type]
        targets = {("demo/counts", "a frequency", 0): _target(16, "upper", "<=", 0.1)}
        out = cal.fail_rate_of_call(pool, targets, {}, rng, 20_000)
        assert out and out["any"]["draws"] == 20_000
        return out["any"]["rate"]

    assert rate_at(0.03) < 1e-3 and rate_at(0.1) > 0.9  # at 0.03 a draw of 800 trials FAILs from 55 successes (mean 24)


def test_every_claim_test_has_a_graded_departure() -> None:
    """Power is measured along a declared departure for every claim test, so none is left with only
    its mutant (the catalogue names the departure beside each claim)."""
    import ast

    from fc_check.catalogue import CLAIMS
    from fc_check.departures import departure_of

    root = Path(cal.__file__).resolve().parents[1]
    missing = []
    for module in sorted({c.module for c in CLAIMS.values() if c.module}):
        tree = ast.parse((root / module).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and departure_of(f"{module}::{node.name}") is None:
                missing.append(f"{module}::{node.name}")
    assert not missing, f"no departure declared in fc_check/departures.py for {missing}"


def test_every_departed_check_call_pickles_for_the_worker_processes() -> None:
    """The study's pools run in worker processes only when their check call pickles, and a call that
    does not falls back to one process (half the cores idle on 2): every departure, applied to every
    claim test's pinned call, gives a picklable call, equal to itself when rebuilt (equal moved
    models share the simulators' memoised runs)."""
    import pickle

    from fc_check.departures import departure_of

    calls = cal.discover("ci")
    assert len(calls) > 40
    unpicklable = []
    for call in calls:
        dep = departure_of(call.test)
        assert dep is not None, call.test
        moved = dep.apply(call, dep.strengths[-1])
        try:
            back = pickle.loads(pickle.dumps(moved))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            unpicklable.append(f"{dep.name} on {call.test}: {exc}")
            continue
        assert back.args[0] == moved.args[0] == dep.apply(call, dep.strengths[-1]).args[0], call.test
    assert not unpicklable, unpicklable


def test_the_new_departures_move_their_models_and_only_above_strength_zero() -> None:
    """The deep-network, CNN, digits-figure, identity and latent departures: the paper's (or the
    claim's) model at strength zero, moved as their names say above it."""
    from fc_check import departures as dep
    from properties import digits_figures
    from properties import test_figure_3d_depth as depth
    from properties import test_figure_6_cnn as cnn
    from properties import test_latent_reduction as latent

    def moved(test: str, args: tuple, s: float):  # noqa: ANN202 - the check call's first argument, applied
        call = cal.CheckCall(test, test.split("::")[0], lambda *a, **k: None, args)
        out = dep.departure_of(test).apply(call, s)
        return out, out.args[0](*args[1:2]) if callable(out.args[0]) else out.args[0]

    reg = cnn.CnnRegime(replicates=2)
    base = cnn.paper_cnn(reg)
    assert moved("properties/test_figure_6_cnn.py::test_grad_cam", (cnn.paper_cnn, reg), 0.0)[1] == base
    grey = moved("properties/test_figure_6_cnn.py::test_grad_cam", (cnn.paper_cnn, reg), 1.0)[1].bordered.colour
    assert max(grey) - min(grey) < 1e-12 and math.isclose(sum(grey), sum(base.bordered.colour))
    dreg = depth.DepthRegime(replicates=2)
    assert moved("properties/test_figure_3d_depth.py::test_depth_3", (depth.paper_setting, dreg), 0.0)[1] == depth.paper_setting(dreg)
    act = moved("properties/test_figure_3d_depth.py::test_depth_4", (depth.paper_setting, dreg), 0.5)[1].activation
    assert (act.name, act.slope) == ("leaky_relu", 0.5)
    freg = digits_figures.FiguresRegime(replicates=2)
    bg = moved("properties/test_digits_figure4.py::test_activation_rates", (digits_figures.paper_families, freg), 0.5)[1].distillation.background
    assert (bg.low, bg.high) == (-0.5, 0.5)
    call, _ = moved("properties/test_latent_reduction.py::test_latent_equals_full", (latent.paper_coupled, latent.CouplingRegime()), 1e-8)
    assert call.kwargs == {"full_noise": 1e-8}
    test = "theorems/test_lemma_1_1.py::test_projection_identity"
    grad = dep.departure_of(test).apply(cal.CheckCall(test, test.split("::")[0], lambda *a, **k: None, (None, None)), 1e-9).args[0]
    assert isinstance(grad, dep.ScaledGradient) and grad.error == 1e-9


def test_power_of_an_exact_check_is_measured_on_whole_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check whose findings have no per-replicate sample (here Lemma 1.1's exact identity) gets its
    P(FAIL) from fresh-seed runs at its own R: 0 below its relative tolerance (1e-10), 1 above, so the
    bisection closes in on the tolerance."""
    from fc_check import departures
    from theorems import test_lemma_1_1 as l11

    test = "theorems/test_lemma_1_1.py::test_closed_form_equals_autograd"
    monkeypatch.setattr(departures, "DEPARTURES", (replace(departures.departure_of(test), strengths=(0.0, 2e-11, 2e-10)),))
    call = cal.CheckCall(test, "theorems/test_lemma_1_1.py", l11.check_closed_form_equals_autograd, (l11.hinge_gradient, l11.NetworkDraw(replicates=2)))
    study = replace(cal.STUDIES["ci"], power_runs=12, power_departures=None, power_skip=(), power_refine=2)
    (curve,) = cal.power_study([call], study, 1e-3, "cpu", np.random.default_rng(0), lambda s: None, ["lemma-1.1/closed-form-equals-autograd"], heavy=False)
    assert [p["fail"]["rate"] for p in curve["points"]] == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert all(p["runs"] == 12 and p["pool"] == 24 for p in curve["points"])
    lo, hi = curve["bracket_0.9"]
    assert lo < 1e-10 < hi and math.isclose(hi - lo, (2e-10 - 2e-11) / 4)


@dataclass(frozen=True)
class _DemoRegime:
    mean: float = 2.0
    exact_error: float = 0.0
    replicates: int = 8
    seed: int = 0


def _check_demo_exact_and_sampled(regime: _DemoRegime, *, level: float, device: str) -> Outcome:
    """A check shaped like Figure 1's: an exact finding (a largest discrepancy over the replicates)
    beside a t bound on a per-replicate mean (normal, sd 1, at least 0)."""
    from fc_check.common import mean_at_least
    from fc_check.verdict import exact

    x = np.random.default_rng([regime.seed, 7]).normal(regime.mean, 1.0, regime.replicates)
    return Outcome([exact("demo/claim", "largest discrepancy", regime.exact_error, 0.0, regime.replicates),
                    mean_at_least("demo/claim", "mean", x, 0.0, level)], asdict(regime), regime.seed)


def test_an_exact_finding_beside_sampled_ones_is_checked_per_batch_not_on_whole_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figure 1's check has an exact finding (family (i)'s drop is 0) beside its t bounds: that one
    finding used to send the whole check to 200 whole runs per strength (its first strength had not
    finished after 41 minutes on 2 cores). Now the exact finding is checked on every batch of the
    power pool and P(FAIL) is drawn from the pool, as for any sampled check; a strength at which the
    exact finding FAILs on some batch is measured on whole runs, and only that strength."""
    from fc_check import departures

    def moved(call: cal.CheckCall, s: float) -> cal.CheckCall:  # the mean falls with s; the exact finding breaks at s = 1
        return call.with_regime(replace(call.regime, mean=2.0 * (1.0 - s), exact_error=float(s >= 1.0)))

    demo = departures.Departure("demo", "s", (0.0, 0.5, 1.0), ("tests/demo.py::test_demo",), moved)
    monkeypatch.setattr(departures, "DEPARTURES", (demo,))
    call = cal.CheckCall("tests/demo.py::test_demo", "tests/demo.py", _check_demo_exact_and_sampled, (_DemoRegime(),))
    study = replace(cal.STUDIES["ci"], power_pool=32, power_draws=400, power_runs=10, power_departures=None, power_skip=(), power_refine=0)
    (curve,) = cal.power_study([call], study, 1e-2, "cpu", np.random.default_rng(0), lambda s: None, ["demo/claim"], heavy=False)
    at0, at_half, at1 = curve["points"]
    for p in (at0, at_half):  # drawn from a pool of 32, the exact finding checked on each of its batches
        assert "runs" not in p and p["pool"] >= 32 and p["fail"]["draws"] == 400
        assert p["exact_held"] == {"findings": ["largest discrepancy"], "batches": p["exact_held"]["batches"]} and p["exact_held"]["batches"] >= 1
    assert at0["fail"]["rate"] < 0.1 < 0.2 < at_half["fail"]["rate"]  # mean 2 clears 0 with 8 replicates at 1e-2; mean 1 often does not
    assert at1["runs"] == 10 and at1["fail"]["rate"] == 1.0 and "exact finding FAILed" in at1["whole_runs_because"]


def test_the_noncentral_t_prediction_of_p_fail_is_certain_for_a_constant_statistic() -> None:
    """A statistic equal on every replicate (a grey border's hue projection, an exact zero) has an
    interval that is the point: the predicted P(FAIL) is 0 or 1 by the threshold, not "none"
    (which the power curve once drew as 0 where the check FAILed on every draw)."""
    at_least = _target(16, "lower", ">=", 0.239)
    assert cal._analytic_fail({"reference": 0.0, "sd": 0.0}, at_least, None) == 1.0
    assert cal._analytic_fail({"reference": 0.3, "sd": 0.0}, at_least, None) == 0.0
    assert cal._analytic_fail({"reference": 0.0, "sd": 0.0}, _target(16, "two-sided", "in", (-0.02, 0.02)), None) == 0.0
    assert cal._analytic_fail({"reference": 0.05, "sd": 0.0}, _target(16, "upper", "<=", 0.03), None) == 1.0
    # the CNN hue contrast's power pool at the paper's model (R = 40, the ci level): 0.62 measured on draws
    moving = cal._analytic_fail({"reference": 0.4463, "sd": 0.2919}, _target(40, "lower", ">=", 0.2394, level=7.092e-6), None)
    assert moving is not None and 0.55 < moving < 0.75


def test_a_strength_at_which_the_check_refuses_its_regime_ends_the_curve(monkeypatch: pytest.MonkeyPatch) -> None:
    """The T0 fit raises when too many replicates are censored (the departure has left the theory's
    regime): that strength ends the curve, recorded with the reason, instead of ending the study."""
    from fc_check import departures

    test = "properties/test_controls.py::test_no_spurious_correlation"
    monkeypatch.setattr(departures, "DEPARTURES", (replace(departures.departure_of(test), strengths=(0.0, 0.01, 0.02, 0.05)),))

    def point(call, dep, s, refined, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202 - P(FAIL) 0 then 1, refused from 0.02 on
        if s >= 0.02:
            raise ValueError("5.5% of replicates censored")
        return ["control/no-spurious-correlation"], {"strength": s, "fail": {"rate": 0.0 if s < 0.005 else 1.0, "ci": [0, 1]}, "statistics": [], "refined": refined}

    monkeypatch.setattr(cal, "_power_point", point)
    call = cal.CheckCall(test, "properties/test_controls.py", controls.check_no_spurious_correlation, (controls.paper_relu, controls.PAPER.with_(replicates=2)))
    study = replace(cal.STUDIES["ci"], power_departures=None, power_skip=(), power_refine=1)
    (curve,) = cal.power_study([call], study, 1e-3, "cpu", np.random.default_rng(0), lambda s: None, ["control/no-spurious-correlation"], heavy=False)
    assert [p["strength"] for p in curve["points"]] == [0.0, 0.005, 0.01, 0.02]
    assert curve["points"][-1]["fail"] is None and "censored" in curve["points"][-1]["refused"]
    assert curve["bracket_0.9"] == [0.0, 0.005]
    from fc_check.trust import power_plots

    (plot,) = power_plots({"power": [curve]})
    assert "at s = 0.02 the check refuses its regime (5.5% of replicates censored)" in plot["title"]


def test_the_fits_of_one_check_are_counted_once_per_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scaling fit's exponents read the same replicates: a draw on which two of them FAIL is one
    FAIL of the check. Two perfectly dependent fits (both FAIL when the draw's first replicate is
    even) give P(FAIL) near 1/2, with the interval of that count, where adding their rates gave 1."""
    from types import SimpleNamespace

    fits = [(SimpleNamespace(name=n), SimpleNamespace(replicates=64), SimpleNamespace(n=16)) for n in ("m", "eta")]
    monkeypatch.setattr(cal, "_pick", lambda f, smp, rng, n, idx=None: int(rng.integers(0, smp.replicates) if idx is None else idx[0]))
    monkeypatch.setattr(cal, "_decides", lambda first, f: first % 2 == 1)
    both, each = cal._fits_fail_rate(fits, np.random.default_rng(0), 400)  # type: ignore[arg-type]
    assert both["draws"] == 400 and both["misses"] == each[0]["misses"] == each[1]["misses"]
    assert 0.4 < both["rate"] < 0.6 and both["ci"][0] <= both["rate"] <= both["ci"][1] < 0.7
    # fits on different replicate sets cannot share a draw: the union bound, flagged, with its ends
    fits[1] = (fits[1][0], SimpleNamespace(replicates=32), fits[1][2])
    joined, _ = cal._fits_fail_rate(fits, np.random.default_rng(0), 400)  # type: ignore[arg-type]
    assert joined["union_bound"] and joined["misses"] is None and joined["at_least"] <= joined["rate"] <= joined["ci"][1]


@dataclass(frozen=True)
class _Crossing:
    """Where a synthetic persistence-like share crosses 1/2 (the map's region: below 1)."""

    x0: float = 1.25


def _check_demo_boundary(where: _Crossing, design: Any, *, level: float, device: str, pools: Any = None) -> Outcome:
    """A boundary check on a synthetic decreasing share (logit slope 30) with its crossing at ``where.x0``."""
    from fc_check import boundaries

    def sample(x: float, series: Any, n: int, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).random(n) < 1 / (1 + math.exp(30.0 * (x - where.x0)))

    return boundaries.check(boundaries.PERSISTENCE, design, boundaries.drawn_from(pools, sample), level)


def test_power_of_a_boundary_is_measured_on_runs_drawn_from_cell_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    """A boundary's crossing has no per-replicate sample, so its P(FAIL) is the share of runs that FAIL;
    the runs draw their cells from one pool per axis value (``CellPools``) instead of running 200
    designs: every strength records its runs, the pools it filled and their size. The synthetic
    crossing clears the region's edge at 1.25 (PASS on nearly every run) and sits inside it at 0.65 (FAIL)."""
    from fc_check import departures
    from fc_check.boundaries import Design, widths

    def moved(call: cal.CheckCall, s: float) -> cal.CheckCall:
        return replace(call, args=(_Crossing(1.25 - s), *call.args[1:]))

    demo = departures.Departure("demo-crossing", "s", (0.0, 0.6), ("tests/demo.py::test_demo_boundary",), moved)
    monkeypatch.setattr(departures, "DEPARTURES", (demo,))
    design = Design(widths(64), (0.5, 1.0, 1.5), 64, 6, 1 / 8, coarse_replicates=32)
    call = cal.CheckCall("tests/demo.py::test_demo_boundary", "tests/demo.py", _check_demo_boundary, (_Crossing(), design))
    assert cal.draws_cell_pools(call) and not cal.draws_cell_pools(cal.CheckCall("x", "x", _check_demo_exact_and_sampled, (_DemoRegime(),)))
    study = replace(cal.STUDIES["ci"], power_pool=64, power_runs=40, power_departures=None, power_skip=(), power_refine=0)
    (curve,) = cal.power_study([call], study, 1e-2, "cpu", np.random.default_rng(0), lambda s: None, ["boundary/theorem-4.1/persistence"], heavy=False)
    at0, at_far = curve["points"]
    for p in (at0, at_far):
        assert p["runs"] == 40 and p["cell_pools"]["per_cell"] == 256  # 4 R: the other curves' pool size
        assert p["pool"] == 256 * p["cell_pools"]["cells"] and 3 <= p["cell_pools"]["cells"] <= 8  # the coarse pass and a few more, not 40 designs
    assert at0["fail"]["rate"] <= 0.1 and at_far["fail"]["rate"] == 1.0
    from fc_check.trust import power_plots

    (plot,) = power_plots({"power": [curve]})
    assert "40 runs per strength drawn from pools of 256 replicates per cell" in plot["title"]
    # a curve joined from a whole-run point and pooled ones says which strengths each measured
    whole = {k: v for k, v in at0.items() if k != "cell_pools"}
    (plot,) = power_plots({"power": [{**curve, "points": [whole, at_far]}]})
    assert "40 whole fresh-seed runs per strength (s = 0)" in plot["title"] and "replicates per cell (s = 0.6)" in plot["title"]
