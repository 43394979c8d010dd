"""Confidence intervals with stated error rates, and the resolution each can achieve.

Conventions used by every function here:

* ``alpha`` is the interval's **non-coverage probability**: the chance that the interval (or
  one-sided bound) misses the true value. A check PASSes when its interval clears the claim's
  threshold, so a PASS on a false claim happens with probability at most ``alpha`` (the check's
  false-pass rate), and a true value sitting exactly on the threshold is reported FAIL with
  probability at least ``1 - alpha``.
* ``side='lower'`` returns ``[low, +inf)``, ``side='upper'`` returns ``(-inf, high]``,
  ``side='two-sided'`` splits ``alpha`` equally between both tails.
* The ``min_margin_..._resolvable_by_...`` companions give the **resolution**: the smallest
  distance between the true value and the threshold (on the claim's side) at which the check
  PASSes with probability >= ``power`` (0.9 by default). A true claim closer to its threshold
  than this may be reported FAIL for lack of evidence, never the other way round. By symmetry a
  violation of that size beyond the threshold is reported FAIL with probability >= 1 - alpha.
  This is the ``detectable_effect`` of a verdict.

Replicates (independent seeds) are the unit: every input array holds one number per replicate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

Side = Literal["lower", "upper", "two-sided"]
SIDES = ("lower", "upper", "two-sided")
DEFAULT_POWER = 0.9


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    alpha: float
    method: str
    n: int
    side: str

    def clears_lower(self, threshold: float) -> bool:
        """The claim 'true value >= threshold' is supported: the lower bound is at or above it."""
        return bool(self.low >= threshold)

    def clears_upper(self, threshold: float) -> bool:
        return bool(self.high <= threshold)

    def inside(self, low: float, high: float) -> bool:
        return bool(self.low >= low and self.high <= high)

    def contains(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


def _check(alpha: float, side: str) -> None:
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")


def _values(x: np.ndarray | list[float], minimum: int = 2) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64).ravel()
    if arr.size < minimum:
        raise ValueError(f"need at least {minimum} replicates, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("replicate values must be finite (a NaN means a censored or failed replicate: handle it first)")
    return arr


def _tails(alpha: float, side: str) -> tuple[float, float]:
    """(probability in the lower tail, in the upper tail) of the interval's non-coverage."""
    if side == "two-sided":
        return alpha / 2, alpha / 2
    return (alpha, 0.0) if side == "lower" else (0.0, alpha)


def proportion_interval_by_clopper_pearson(successes: int, n: int, alpha: float, side: Side = "two-sided") -> Interval:
    """Exact (Clopper-Pearson) interval for a binomial proportion; non-coverage <= ``alpha`` for every p."""
    _check(alpha, side)
    if not (isinstance(n, int | np.integer) and n >= 1 and 0 <= successes <= n):
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes}/{n}")
    lo_tail, hi_tail = _tails(alpha, side)
    low = 0.0 if lo_tail == 0 or successes == 0 else float(sps.beta.ppf(lo_tail, successes, n - successes + 1))
    high = 1.0 if hi_tail == 0 or successes == n else float(sps.beta.ppf(1 - hi_tail, successes + 1, n - successes))
    return Interval(successes / n, low, high, alpha, "clopper-pearson", int(n), side)


def proportion_interval_by_wilson(successes: int, n: int, alpha: float, side: Side = "two-sided") -> Interval:
    """Wilson score interval (statsmodels); approximate, non-coverage close to ``alpha`` for moderate n."""
    from statsmodels.stats.proportion import proportion_confint

    _check(alpha, side)
    two = alpha if side == "two-sided" else 2 * alpha
    low, high = proportion_confint(successes, n, alpha=two, method="wilson")
    if side == "lower":
        high = 1.0
    elif side == "upper":
        low = 0.0
    return Interval(successes / n, float(low), float(high), alpha, "wilson", int(n), side)


def mean_interval_by_t(x: np.ndarray | list[float], alpha: float, side: Side = "two-sided") -> Interval:
    """Student-t interval for the mean of i.i.d. replicates (exact under normality, robust for means
    of many neurons or samples per replicate)."""
    _check(alpha, side)
    arr = _values(x)
    n = arr.size
    mean, se = float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(n))
    lo_tail, hi_tail = _tails(alpha, side)
    low = -math.inf if lo_tail == 0 else mean - float(sps.t.ppf(1 - lo_tail, n - 1)) * se
    high = math.inf if hi_tail == 0 else mean + float(sps.t.ppf(1 - hi_tail, n - 1)) * se
    return Interval(mean, low, high, alpha, "t", n, side)


def median_interval_by_order_statistics(x: np.ndarray | list[float], alpha: float, side: Side = "two-sided") -> Interval:
    """Distribution-free interval for the median of i.i.d. replicates from their order statistics
    (the binomial inversion, exact: non-coverage <= ``alpha`` for every continuous law).

    ``+inf`` entries are allowed: a replicate censored at a common limit is known only to lie
    above every observed value, and the order statistics stay valid. A bound that falls on a
    censored replicate is ``+inf``; too few replicates for the level give an infinite bound."""
    _check(alpha, side)
    arr = np.sort(np.asarray(x, dtype=np.float64).ravel())
    if arr.size < 2 or np.isnan(arr).any() or np.isneginf(arr).any():
        raise ValueError("need >= 2 replicates, no NaN or -inf (enter censored replicates as +inf)")
    n = arr.size
    lo_tail, hi_tail = _tails(alpha, side)
    # P(x_(k) > median) = P(Bin(n, 1/2) <= k - 1): the largest k with that at most the tail
    k = int(sps.binom.ppf(lo_tail, n, 0.5)) if lo_tail > 0 else 0
    while k > 0 and sps.binom.cdf(k - 1, n, 0.5) > lo_tail:
        k -= 1
    j = int(sps.binom.ppf(hi_tail, n, 0.5)) if hi_tail > 0 else 0
    while j > 0 and sps.binom.cdf(j - 1, n, 0.5) > hi_tail:
        j -= 1
    low = float(arr[k - 1]) if k >= 1 else -math.inf
    high = float(arr[n - j]) if j >= 1 else math.inf
    return Interval(float(np.median(arr)), low, high, alpha, "order-statistics", int(n), side)


def mean_interval_by_bca(x: np.ndarray | list[float], alpha: float, side: Side = "two-sided", seed: int = 0) -> Interval:
    """BCa bootstrap interval for the mean (scipy). Non-coverage approaches ``alpha`` as n grows;
    the resample count grows as ``20 / alpha`` (capped at 200 000) so the tail quantile is resolved."""
    _check(alpha, side)
    arr = _values(x, minimum=3)
    alt = {"two-sided": "two-sided", "lower": "greater", "upper": "less"}[side]
    level = 1 - alpha
    resamples = int(min(200_000, max(9_999, math.ceil(20 / alpha))))
    if np.ptp(arr) == 0:
        return Interval(float(arr[0]), float(arr[0]), float(arr[0]), alpha, "bca", arr.size, side)
    res = sps.bootstrap((arr,), np.mean, confidence_level=level, alternative=alt, method="BCa", n_resamples=resamples, rng=np.random.default_rng(seed))
    return Interval(float(arr.mean()), float(res.confidence_interval.low), float(res.confidence_interval.high), alpha, "bca", arr.size, side)


def paired_difference_interval_by_t(a: np.ndarray | list[float], b: np.ndarray | list[float], alpha: float, side: Side = "two-sided") -> Interval:
    """t interval for the mean of ``a - b`` over paired replicates (same seeds)."""
    a_, b_ = _values(a), _values(b)
    if a_.shape != b_.shape:
        raise ValueError(f"paired samples need equal sizes, got {a_.size} and {b_.size}")
    iv = mean_interval_by_t(a_ - b_, alpha, side)
    return Interval(iv.estimate, iv.low, iv.high, alpha, "paired-t", iv.n, side)


@dataclass(frozen=True)
class Fit:
    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    intervals: tuple[Interval, ...]
    df: int


def _clustered_ols(y: np.ndarray, X: np.ndarray, groups: np.ndarray):  # noqa: ANN202 - statsmodels results
    import statsmodels.api as sm

    n_groups = len(np.unique(groups))
    if n_groups < 3:
        raise ValueError(f"cluster-robust errors need at least 3 clusters (replicates), got {n_groups}")
    return sm.OLS(y, sm.add_constant(X, has_constant="add")).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True}, use_t=True), n_groups


def scaling_fit_by_clustered_ols(log_y: np.ndarray, log_x: np.ndarray, groups: np.ndarray, names: tuple[str, ...], alpha: float) -> Fit:
    """OLS fit of ``log y = sum_i beta_i log x_i + c`` with errors clustered by replicate.

    Returns a two-sided interval per exponent, each with non-coverage ``alpha`` (t with
    ``clusters - 1`` degrees of freedom, the small-sample correction of statsmodels).
    """
    _check(alpha, "two-sided")
    y = _values(log_y, minimum=3)
    X = np.asarray(log_x, dtype=np.float64).reshape(y.size, -1)
    if X.shape[1] != len(names):
        raise ValueError(f"{X.shape[1]} regressors but {len(names)} names")
    res, n_groups = _clustered_ols(y, X, np.asarray(groups))
    ci = res.conf_int(alpha=alpha)
    coef, se = np.asarray(res.params)[1:], np.asarray(res.bse)[1:]
    ivs = tuple(Interval(float(coef[i]), float(ci[i + 1][0]), float(ci[i + 1][1]), alpha, "ols-cluster", n_groups, "two-sided") for i in range(len(names)))
    return Fit(names, coef, se, ivs, n_groups - 1)


def trend_interval_by_clustered_ols(values: np.ndarray, level_index: np.ndarray, groups: np.ndarray, alpha: float, side: Side) -> tuple[Interval, float]:
    """Slope of ``values`` on the rank of an ordered factor (OLS, errors clustered by replicate).

    A monotone increasing trend is supported when the lower bound of the slope is > 0
    (``side='lower'``); decreasing when the upper bound is < 0. Returns the interval and the
    slope's standard error.
    """
    _check(alpha, side)
    y = _values(values, minimum=3)
    res, n_groups = _clustered_ols(y, np.asarray(level_index, dtype=np.float64).reshape(-1, 1), np.asarray(groups))
    slope, se = float(res.params[1]), float(res.bse[1])
    df = n_groups - 1
    lo_tail, hi_tail = _tails(alpha, side)
    low = -math.inf if lo_tail == 0 else slope - float(sps.t.ppf(1 - lo_tail, df)) * se
    high = math.inf if hi_tail == 0 else slope + float(sps.t.ppf(1 - hi_tail, df)) * se
    return Interval(slope, low, high, alpha, "trend-ols-cluster", n_groups, side), se


# --- resolution (what a check can detect) -------------------------------------------------


def min_margin_resolvable_by_t(n: int, sd: float, alpha: float, side: Side = "lower", power: float = DEFAULT_POWER) -> float:
    """Smallest distance of the true mean from the threshold at which a t check with ``n``
    replicates of standard deviation ``sd`` PASSes with probability >= ``power`` (noncentral t).

    For ``side='two-sided'`` (an 'inside [lo, hi]' claim) the distance is from the nearest end.
    """
    _check(alpha, side)
    if n < 2:
        raise ValueError(f"need n >= 2, got {n}")
    if sd <= 0 or not math.isfinite(sd):
        return 0.0
    df = n - 1
    tail = alpha / 2 if side == "two-sided" else alpha
    crit = float(sps.t.ppf(1 - tail, df))

    def pass_prob(nc: float) -> float:
        return float(sps.nct.sf(crit, df, nc))

    nc = optimize.brentq(lambda c: pass_prob(c) - power, 0.0, 10 * crit + 50)
    return float(nc * sd / math.sqrt(n))


def min_margin_resolvable_by_normal(se: float, alpha: float, side: Side = "lower", power: float = DEFAULT_POWER, df: int | None = None) -> float:
    """The same for an estimate with known standard error ``se`` (t with ``df`` if given)."""
    _check(alpha, side)
    tail = alpha / 2 if side == "two-sided" else alpha
    dist = sps.t(df) if df else sps.norm
    return float((dist.ppf(1 - tail) + dist.ppf(power)) * se)


def min_margin_resolvable_by_clopper_pearson(n: int, p0: float, alpha: float, side: Side, power: float = DEFAULT_POWER) -> float:
    """Smallest distance of a true proportion from ``p0`` (above it for ``side='lower'``, below
    for ``'upper'``) at which the Clopper-Pearson bound clears ``p0`` with probability >= power.
    Returns ``inf`` when no count out of ``n`` can clear it."""
    if side not in ("lower", "upper"):
        raise ValueError("side must be 'lower' or 'upper' for a proportion threshold")
    if side == "upper":
        return min_margin_resolvable_by_clopper_pearson(n, 1 - p0, alpha, "lower", power)
    passing = [c for c in range(n + 1) if proportion_interval_by_clopper_pearson(c, n, alpha, "lower").low >= p0]
    if not passing:
        return math.inf
    c_star = passing[0]
    if sps.binom.sf(c_star - 1, n, 1.0) < power:
        return math.inf
    p1 = optimize.brentq(lambda p: sps.binom.sf(c_star - 1, n, p) - power, p0, 1.0) if sps.binom.sf(c_star - 1, n, p0) < power else p0
    return float(p1 - p0)
