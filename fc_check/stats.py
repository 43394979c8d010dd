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
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

Side = Literal["lower", "upper", "two-sided"]
SIDES = ("lower", "upper", "two-sided")
DEFAULT_POWER = 0.9


@dataclass(frozen=True)
class Sample:
    """The per-replicate data an interval was computed from: enough to compute it again, by the same
    method, on any selection of replicates (what the calibration study does with a large pool).

    ``kind`` names the method's input: ``values`` (one number per replicate: t, paired t, order
    statistics, Clopper-Pearson on 0/1 outcomes), ``counts`` (per replicate, successes out of
    ``trials`` pooled trials: Clopper-Pearson on the pooled count), ``clustered`` (rows ``y``, ``X``
    with the replicate of each row in ``groups``: the clustered OLS fits)."""

    kind: str
    values: np.ndarray | None = None
    trials: int = 0
    y: np.ndarray | None = None
    X: np.ndarray | None = None
    groups: np.ndarray | None = None
    options: tuple[tuple[str, Any], ...] = ()

    @property
    def replicates(self) -> int:
        if self.kind == "clustered":
            return int(np.unique(self.groups).size)
        return int(np.asarray(self.values).size)

    def select(self, replicates: np.ndarray) -> Sample:
        """The sample restricted to the given replicates (positions ``0 .. replicates - 1``, repeats
        allowed: a replicate drawn twice enters twice, as two clusters in a clustered fit)."""
        idx = np.asarray(replicates, dtype=np.int64)
        if self.kind != "clustered":
            return Sample(self.kind, np.asarray(self.values)[idx], self.trials, options=self.options)
        labels, inverse = np.unique(self.groups, return_inverse=True)
        rows = [np.flatnonzero(inverse == r) for r in idx]
        take = np.concatenate(rows)
        new_groups = np.repeat(np.arange(len(idx)), [len(r) for r in rows])
        X = np.asarray(self.X)
        return Sample("clustered", None, 0, np.asarray(self.y)[take], X[take], new_groups, self.options)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    alpha: float
    method: str
    n: int
    side: str
    # the per-tail levels the bound was computed at, where they differ from alpha's split (a
    # calibrated bound: see ``mean_interval_by_t``); None: the plain split of alpha
    nominal: tuple[float, float] | None = None
    sample: Sample | None = field(default=None, compare=False, repr=False)

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
    """Exact (Clopper-Pearson) interval for a binomial proportion; non-coverage <= ``alpha`` for every p.

    Measured in the ``ci`` calibration study on per-replicate outcomes and counts (Theorem 4.1's
    persistence share, Lemma 1.2's exceedance frequency): no miss at any level from 1e-1 to 7.1e-6
    (conservative, as an exact interval of a discrete law is)."""
    _check(alpha, side)
    if not (isinstance(n, int | np.integer) and n >= 1 and 0 <= successes <= n):
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes}/{n}")
    lo_tail, hi_tail = _tails(alpha, side)
    low = 0.0 if lo_tail == 0 or successes == 0 else float(sps.beta.ppf(lo_tail, successes, n - successes + 1))
    high = 1.0 if hi_tail == 0 or successes == n else float(sps.beta.isf(hi_tail, successes + 1, n - successes))
    return Interval(successes / n, low, high, alpha, "clopper-pearson", int(n), side)


def proportion_interval_of_outcomes(outcomes: np.ndarray | list[bool], alpha: float, side: Side = "two-sided") -> Interval:
    """Clopper-Pearson interval for the probability of a per-replicate success (one 0/1 outcome per
    replicate); exact, as :func:`proportion_interval_by_clopper_pearson`, and it keeps the outcomes."""
    arr = np.asarray(outcomes, dtype=np.float64).ravel()
    if arr.size < 1 or not np.isin(arr, (0.0, 1.0)).all():
        raise ValueError("outcomes must be one 0/1 value per replicate, at least one")
    iv = proportion_interval_by_clopper_pearson(int(arr.sum()), int(arr.size), alpha, side)
    return Interval(iv.estimate, iv.low, iv.high, alpha, iv.method, iv.n, side, sample=Sample("values", arr))


def proportion_interval_of_counts(counts: np.ndarray | list[int], trials: int, alpha: float, side: Side = "two-sided") -> Interval:
    """Clopper-Pearson interval for a success probability from ``counts[r]`` successes out of
    ``trials`` independent trials in each replicate ``r`` (pooled: exact when every trial is an
    independent draw with the same probability); it keeps the per-replicate counts."""
    arr = np.asarray(counts, dtype=np.int64).ravel()
    if not (isinstance(trials, int | np.integer) and trials >= 1) or arr.size < 1 or (arr < 0).any() or (arr > trials).any():
        raise ValueError(f"need per-replicate counts in [0, trials] and trials >= 1, got trials {trials!r}")
    iv = proportion_interval_by_clopper_pearson(int(arr.sum()), int(arr.size * trials), alpha, side)
    return Interval(iv.estimate, iv.low, iv.high, alpha, iv.method, iv.n, side, sample=Sample("counts", arr.astype(np.float64), int(trials)))


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


def mean_interval_by_t(x: np.ndarray | list[float], alpha: float, side: Side = "two-sided", tails: tuple[float, float] | None = None) -> Interval:
    """Student-t interval for the mean of i.i.d. replicates: exact under normality; for skewed
    replicate laws the bound on the long tail's side misses more often than its level says.

    Where the calibration study has measured that (``fc_check.calibration``; the figures are in
    ``calibration.json`` and the report's "How far to trust a verdict"), ``tails`` gives the levels
    at which the lower and upper bounds are computed instead of ``alpha``'s split: the t bound at a
    **calibrated** level (Loh 1987, "Calibrating confidence coefficients"), the largest level whose
    measured miss rate at the pinned regime was at most its share of ``alpha``. ``alpha`` stays
    the interval's stated level.

    Where it holds (the ``ci`` study, 16-256 replicates, pools of 64-16 640 replicates at each check's
    pinned regime and at the weakest regime a run found, 500 000 draws, 10^7 for the three most skewed): the plain t holds for near-
    symmetric statistics (the paired OOD - ID hinge gaps, the OOD hinge, the rise of the mean
    asymmetry: 0.5-0.9 x the level at 1e-2 to 7.1e-6) and for bounds on the short tail of a skewed
    statistic (lower bounds on the contamination ratios: 0-0.4 x). It does not hold for bounds on
    the long tail: upper bounds on right-skewed ratios (the linear network's contamination ratio,
    skewness 0.8: 2.5 x the level at 1e-2, 15 x at 1e-4, 41 x at 7.1e-6; the zero-mean control and
    the dose response at slope 1 alike) and lower bounds on left-skewed correlations (up to 160 x
    at 7.1e-6), worst where a few replicates are outliers (the growth statistics of Theorem 4.2,
    where a replicate whose neurons all stay inactive learns nothing: 73 x at 1e-2, 30 000 x at
    7.1e-6). At a calibrated level every one of these delivers its stated level within Monte Carlo
    error at 1e-2, 1e-4 and 7.1e-6, at both regimes studied (a table entry takes the smaller of the
    two regimes' levels; e.g. the linear ratio's upper bound at 1.9e-9 for 7.1e-6: 0.28 x at the
    pinned regime, 0.56 x at the weakest). Hall's skew-corrected t (``fc_check.calibration.hall_transform``) was measured beside
    it and does not hold (6-20 000 x at 7.1e-6 on the same statistics, up to 26 x on near-symmetric
    ones), so it is not used. The ``default`` study (24-384 replicates; the families that cost
    milliseconds per replicate, pinned and weakest regimes) found the same pattern (plain t on a
    long tail 1.6 x to 145 000 x the level at 3.7e-6) and its calibrated levels deliver within
    Monte Carlo error at both regimes. A calibrated tail can lie far below 1e-16 (8.9e-21 for the
    growth statistics of Theorem 4.2 under ``default``), so quantiles are taken by ``isf(tail)``:
    ``ppf(1 - tail)`` is then ``ppf(1.0)``, an infinite bound.
    """
    _check(alpha, side)
    arr = _values(x)
    n = arr.size
    mean, se = float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(n))
    lo_tail, hi_tail = _tails(alpha, side)
    if tails is not None:
        lo_tail, hi_tail = (min(lo_tail, tails[0]) if lo_tail else 0.0), (min(hi_tail, tails[1]) if hi_tail else 0.0)
    # isf, not ppf(1 - tail): a calibrated tail can be far below float64's 1e-16 resolution near 1
    low = -math.inf if lo_tail == 0 else mean - float(sps.t.isf(lo_tail, n - 1)) * se
    high = math.inf if hi_tail == 0 else mean + float(sps.t.isf(hi_tail, n - 1)) * se
    calibrated = tails is not None and (lo_tail, hi_tail) != _tails(alpha, side)
    return Interval(mean, low, high, alpha, "t (calibrated level)" if calibrated else "t", n, side, (lo_tail, hi_tail) if calibrated else None,
                    Sample("values", arr))


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
    return Interval(float(np.median(arr)), low, high, alpha, "order-statistics", int(n), side, sample=Sample("values", arr))


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


def paired_difference_interval_by_t(a: np.ndarray | list[float], b: np.ndarray | list[float], alpha: float, side: Side = "two-sided",
                                    tails: tuple[float, float] | None = None) -> Interval:
    """t interval for the mean of ``a - b`` over paired replicates (same seeds); ``tails`` as for
    :func:`mean_interval_by_t`."""
    a_, b_ = _values(a), _values(b)
    if a_.shape != b_.shape:
        raise ValueError(f"paired samples need equal sizes, got {a_.size} and {b_.size}")
    iv = mean_interval_by_t(a_ - b_, alpha, side, tails)
    return Interval(iv.estimate, iv.low, iv.high, alpha, iv.method.replace("t", "paired-t", 1), iv.n, side, iv.nominal, iv.sample)


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
    ``clusters - 1`` degrees of freedom, the small-sample correction of statsmodels). Measured in
    the ``ci`` calibration study on Lemma 1.2's rate (1500 groups of 16 replicates drawn from a pool
    of 64, at the relaxed level 0.1): miss rate 0.108 [0.093, 0.125], within Monte Carlo error of
    its level; the ``T0`` scaling fit is pooled under the ``default`` study only.
    """
    _check(alpha, "two-sided")
    y = _values(log_y, minimum=3)
    X = np.asarray(log_x, dtype=np.float64).reshape(y.size, -1)
    if X.shape[1] != len(names):
        raise ValueError(f"{X.shape[1]} regressors but {len(names)} names")
    res, n_groups = _clustered_ols(y, X, np.asarray(groups))
    ci = res.conf_int(alpha=alpha)
    coef, se = np.asarray(res.params)[1:], np.asarray(res.bse)[1:]
    sample = Sample("clustered", y=y, X=X, groups=np.asarray(groups), options=(("names", names),))
    ivs = tuple(Interval(float(coef[i]), float(ci[i + 1][0]), float(ci[i + 1][1]), alpha, "ols-cluster", n_groups, "two-sided", sample=sample) for i in range(len(names)))
    return Fit(names, coef, se, ivs, n_groups - 1)


def trend_interval_by_clustered_ols(values: np.ndarray, level_index: np.ndarray, groups: np.ndarray, alpha: float, side: Side) -> tuple[Interval, float]:
    """Slope of ``values`` on the rank of an ordered factor (OLS, errors clustered by replicate).

    A monotone increasing trend is supported when the lower bound of the slope is > 0
    (``side='lower'``); decreasing when the upper bound is < 0. Returns the interval and the
    slope's standard error. Measured in the ``ci`` calibration study (1500 groups of 16 replicates
    drawn from the pool, one-sided level 0.1): Theorem 4.3's OOD-error trend 0.085 [0.071, 0.100],
    the dose response 0.090 [0.076, 0.106]: within Monte Carlo error of the level there.
    """
    _check(alpha, side)
    y = _values(values, minimum=3)
    res, n_groups = _clustered_ols(y, np.asarray(level_index, dtype=np.float64).reshape(-1, 1), np.asarray(groups))
    slope, se = float(res.params[1]), float(res.bse[1])
    df = n_groups - 1
    lo_tail, hi_tail = _tails(alpha, side)
    low = -math.inf if lo_tail == 0 else slope - float(sps.t.isf(lo_tail, df)) * se
    high = math.inf if hi_tail == 0 else slope + float(sps.t.isf(hi_tail, df)) * se
    sample = Sample("clustered", y=y, X=np.asarray(level_index, dtype=np.float64).reshape(-1, 1), groups=np.asarray(groups))
    return Interval(slope, low, high, alpha, "trend-ols-cluster", n_groups, side, sample=sample), se


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
    crit = float(sps.t.isf(tail, df))

    def pass_prob(nc: float) -> float:
        return float(sps.nct.sf(crit, df, nc))

    nc = optimize.brentq(lambda c: pass_prob(c) - power, 0.0, 10 * crit + 50)
    return float(nc * sd / math.sqrt(n))


def min_margin_resolvable_by_normal(se: float, alpha: float, side: Side = "lower", power: float = DEFAULT_POWER, df: int | None = None) -> float:
    """The same for an estimate with known standard error ``se`` (t with ``df`` if given)."""
    _check(alpha, side)
    tail = alpha / 2 if side == "two-sided" else alpha
    dist = sps.t(df) if df else sps.norm
    return float((dist.isf(tail) + dist.ppf(power)) * se)


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


def interval_again(iv: Interval, replicates: np.ndarray, alpha: float | None = None, tails: tuple[float, float] | None = None) -> list[Interval]:
    """The interval's method applied again to a selection of its replicates (repeats allowed), on
    the same side; at its own level and calibrated tails when ``alpha`` is None, else at ``alpha``
    (with ``tails`` for a t bound, if given); for a scaling fit, one interval per exponent. This is
    how the calibration study measures a method on draws from a large pool of replicates. Raises
    ``ValueError`` for an interval that carries no sample."""
    if iv.sample is None:
        raise ValueError(f"a {iv.method!r} interval without its sample cannot be computed again")
    s = iv.sample.select(replicates)
    a = iv.alpha if alpha is None else alpha
    if alpha is None:
        tails = iv.nominal
    side: Side = iv.side  # type: ignore[assignment]
    method = iv.method.split(" ")[0]
    if method in ("t", "paired-t"):
        return [mean_interval_by_t(s.values, a, side, tails)]  # type: ignore[arg-type]
    if method == "order-statistics":
        return [median_interval_by_order_statistics(s.values, a, side)]
    if method == "bca":
        return [mean_interval_by_bca(s.values, a, side)]
    if method == "clopper-pearson" and s.kind == "counts":
        return [proportion_interval_of_counts(s.values.astype(np.int64), s.trials, a, side)]
    if method == "clopper-pearson":
        return [proportion_interval_of_outcomes(s.values, a, side)]
    if method == "ols-cluster":
        names = dict(s.options)["names"]
        return list(scaling_fit_by_clustered_ols(s.y, s.X, s.groups, names, a).intervals)
    if method == "trend-ols-cluster":
        return [trend_interval_by_clustered_ols(s.y, s.X.ravel(), s.groups, a, side)[0]]
    raise ValueError(f"no way to compute a {iv.method!r} interval again")
