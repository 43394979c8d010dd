"""Calibration and power of the interval helpers, by simulation (fixed seeds: deterministic).

``NOMINAL`` is the level of the helper under test (a parameter being checked, not a check's
level). Each assertion on a simulated frequency is itself an exact Clopper-Pearson interval at
``TEST_LEVEL``, a share of the test suite's own error budget.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from fc_check import stats
from fc_check.budget import DEFAULT_ALPHA, ErrorBudget

SIMS = 2000
NOMINAL = 0.05
POWER = stats.DEFAULT_POWER
TEST_LEVEL = ErrorBudget(DEFAULT_ALPHA, slots=24).per_assertion


def frequency(count: int) -> stats.Interval:
    return stats.proportion_interval_by_clopper_pearson(count, SIMS, TEST_LEVEL, "two-sided")


def consistent(count: int, level: float, exact: bool) -> None:
    iv = frequency(count)
    assert iv.low <= level, f"non-coverage {iv.estimate:.4f} [{iv.low:.4f}, {iv.high:.4f}] exceeds {level}"
    if exact:
        assert iv.high >= level, f"non-coverage {iv.estimate:.4f} [{iv.low:.4f}, {iv.high:.4f}] far below {level}: too conservative"


@pytest.mark.parametrize("side", ["lower", "upper", "two-sided"])
def test_t_interval_is_calibrated(side: str) -> None:
    rng = np.random.default_rng(1)
    misses = sum(not stats.mean_interval_by_t(rng.normal(0.3, 2.0, 12), NOMINAL, side).contains(0.3) for _ in range(SIMS))
    consistent(misses, NOMINAL, exact=True)


def test_paired_difference_is_calibrated() -> None:
    rng = np.random.default_rng(2)
    misses = 0
    for _ in range(SIMS):
        base = rng.normal(0, 3, 10)
        misses += not stats.paired_difference_interval_by_t(base + 0.5 + rng.normal(0, 1, 10), base, NOMINAL, "lower").contains(0.5)
    consistent(misses, NOMINAL, exact=True)


@pytest.mark.parametrize("side", ["lower", "upper"])
def test_clopper_pearson_never_undercovers(side: str) -> None:
    rng = np.random.default_rng(3)
    misses = sum(not stats.proportion_interval_by_clopper_pearson(int(rng.binomial(40, 0.3)), 40, NOMINAL, side).contains(0.3) for _ in range(SIMS))
    consistent(misses, NOMINAL, exact=False)


def test_wilson_is_close_to_nominal() -> None:
    rng = np.random.default_rng(4)
    misses = sum(not stats.proportion_interval_by_wilson(int(rng.binomial(200, 0.3)), 200, NOMINAL).contains(0.3) for _ in range(SIMS))
    consistent(misses, NOMINAL, exact=True)


def test_bca_is_close_to_nominal() -> None:
    rng = np.random.default_rng(5)
    misses = sum(not stats.mean_interval_by_bca(rng.normal(1.0, 1.0, 40), 0.1, "two-sided", seed=i).contains(1.0) for i in range(SIMS // 4))
    iv = stats.proportion_interval_by_clopper_pearson(misses, SIMS // 4, TEST_LEVEL)
    assert iv.low <= 0.1 <= iv.high + 0.05, iv


def _clustered(rng: np.random.Generator, slope: float, groups: int = 30, levels: int = 4) -> tuple[np.ndarray, ...]:
    g = np.repeat(np.arange(groups), levels)
    x = np.tile(np.arange(levels), groups).astype(float)
    y = slope * x + np.repeat(rng.normal(0, 1, groups), levels) + rng.normal(0, 0.5, groups * levels)
    return y, x, g


def test_trend_interval_is_calibrated() -> None:
    rng = np.random.default_rng(6)
    misses = sum(not stats.trend_interval_by_clustered_ols(*_clustered(rng, 0.2), NOMINAL, "two-sided")[0].contains(0.2) for _ in range(SIMS))
    consistent(misses, NOMINAL, exact=True)


def test_scaling_fit_is_calibrated() -> None:
    rng = np.random.default_rng(7)
    misses = 0
    for _ in range(SIMS):
        y, x, g = _clustered(rng, -0.5)
        misses += not stats.scaling_fit_by_clustered_ols(y, x, g, ("N",), NOMINAL).intervals[0].contains(-0.5)
    consistent(misses, NOMINAL, exact=True)


def power_ok(passes: int) -> None:
    iv = frequency(passes)
    assert iv.high >= POWER, f"pass rate {iv.estimate:.3f} [{iv.low:.3f}, {iv.high:.3f}] below the stated power {POWER}"


@pytest.mark.parametrize("side", ["lower", "two-sided"])
def test_t_check_detects_its_resolution(side: str) -> None:
    rng = np.random.default_rng(8)
    n, sd, thr = 16, 1.5, 5.0  # for 'two-sided', [-thr, thr] is wide enough that only the nearer end matters
    r = stats.min_margin_resolvable_by_t(n, sd, NOMINAL, side)
    passes = 0
    for _ in range(SIMS):
        if side == "lower":
            passes += stats.mean_interval_by_t(rng.normal(thr + r, sd, n), NOMINAL, "lower").clears_lower(thr)
        else:  # inside [-thr, thr] with the truth r inside the nearer end
            passes += stats.mean_interval_by_t(rng.normal(thr - r, sd, n), NOMINAL, "two-sided").inside(-thr, thr)
    power_ok(passes)


def test_clopper_pearson_check_detects_its_resolution() -> None:
    rng = np.random.default_rng(9)
    n, p0 = 300, 0.1
    r = stats.min_margin_resolvable_by_clopper_pearson(n, p0, NOMINAL, "upper")
    passes = sum(stats.proportion_interval_by_clopper_pearson(int(rng.binomial(n, p0 - r)), n, NOMINAL, "upper").clears_upper(p0) for _ in range(SIMS))
    power_ok(passes)


def test_trend_check_detects_its_resolution() -> None:
    rng = np.random.default_rng(10)
    se = np.std([stats.trend_interval_by_clustered_ols(*_clustered(rng, 0.0), NOMINAL, "lower")[1] for _ in range(50)])  # se barely varies
    _, se0 = stats.trend_interval_by_clustered_ols(*_clustered(np.random.default_rng(0), 0.0), NOMINAL, "lower")
    assert se < 0.5 * se0
    r = stats.min_margin_resolvable_by_normal(se0, NOMINAL, "lower", df=29)
    passes = sum(stats.trend_interval_by_clustered_ols(*_clustered(rng, r), NOMINAL, "lower")[0].low > 0 for _ in range(SIMS))
    power_ok(passes)


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="alpha"):
        stats.mean_interval_by_t([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="finite"):
        stats.mean_interval_by_t([1.0, float("nan")], 0.1)
    with pytest.raises(ValueError, match="side"):
        stats.mean_interval_by_t([1.0, 2.0], 0.1, "left")
    with pytest.raises(ValueError, match="successes"):
        stats.proportion_interval_by_clopper_pearson(5, 3, 0.1)


def test_t_bounds_at_a_calibrated_tail_below_float_resolution_stay_finite() -> None:
    """A calibrated tail can be 1e-30 (the growth statistics of Theorem 4.2 under default): 1 - 1e-30 is
    1.0 in float64, so a quantile taken as ppf(1 - tail) would put the bound at -inf (a FAIL)."""
    x = np.linspace(0.15, 0.25, 48)
    iv = stats.mean_interval_by_t(x, 1e-5, "lower", (1e-30, 0.0))
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert math.isfinite(iv.low) and math.isclose(iv.low, x.mean() - sps.t.isf(1e-30, 47) * se, rel_tol=1e-12)
    assert iv.low > 0  # 0.2 - 27.7 se (se 0.0043): this sample's bound clears 0
