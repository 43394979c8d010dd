"""Boundaries with intervals: where a claim's statistic crosses its threshold along one axis, to
what precision, and whether that place moves as the network widens.

A validity map (``fc_check.maps``) colours a grid; a boundary locates, along one axis of it, the
value at which the claim's statistic crosses the map's threshold, with a confidence interval at
the suite's per-interval level, for several widths ``m`` (a **series** per width, or per other
fixed parameters). Then the **trend**: the crossings against ``1/sqrt(m)``.

**Statistic per replicate, one number each.** Shares (the persistence indicator, the late-onset
indicator ``T0 eps > 8``) are 0/1 per replicate; means (the contamination ratio, the OOD gap) are
one float per replicate. Replicates are the unit: every batch of a series is one replicate-batched
run with its own seed, so replicates are independent within and across cells (a shared seed
across cells would share the replicates' draws and make the cells' errors correlated, which a fit
that treats cells as independent would understate).

**Sequential design** (:func:`run_design`, bisection on replicate batches): a coarse pass (one batch
at each coarse axis value), then, while the series' batch budget lasts, one batch at the grid point
nearest the middle of the current bracket (the adjacent measured values between which the cell
estimates cross the threshold), until the bracket's ends are neighbours on the axis's grid; then
the remaining batches go to those two ends and to the grid point beyond each, the one with the
fewest replicates first (a fit needs the statistic's slope near the crossing as well as its level).
A series whose cells do not cross the threshold stops after the coarse pass. Each batch is one
replicate-batched run of ``replicates`` seeds on the leading tensor dimension, so a design scales
with the batch size on a GPU (the ``thorough`` designs use 256-1024 replicates per batch).

**Fit and inversion** (:func:`locate`). The cells within ``window`` of the bracket's middle are fitted
by a polynomial of the declared degree in the axis value:

* shares: a binomial GLM with the logit link (statsmodels ``GLM``, ``Binomial``); the crossing solves
  ``logit p(x) = logit p0``;
* means: weighted least squares of the cell means with weights ``n_i / s_i^2`` (each cell's own
  replicate variance, treated as known: ``cov_type="fixed scale"``); the crossing solves ``f(x) = c``.

The interval is **Fieller's** (for a straight line exactly Fieller's interval for a ratio of
estimated coefficients; for a polynomial its generalisation): the set of axis values ``x`` at which
the fit's pointwise two-sided interval for ``f(x)`` at the level still contains the threshold,
``|f(x) - c| <= q se(f(x))``, the component that holds the point estimate. ``q`` is the normal
quantile for the GLM (Wald) and the t quantile with Welch-Satterthwaite degrees of freedom at the
crossing for the WLS fit (each cell's variance carries ``n_i - 1`` degrees of freedom). A bound that
does not close within the axis range extended by its width either side is infinite: the crossing is
not located on that side. Where no bracket exists (the cells do not cross the threshold) or the GLM
separates, the interval is the **monotone bracket** instead: under a monotone statistic, the crossing
lies beyond every cell whose own interval (Clopper-Pearson or t, at the level split over the cells)
lies wholly on one side of the threshold.

**Trend** (:func:`trend`): weighted least squares of the located crossings on ``u = 1/sqrt(m)``
(weights ``1/se^2``, the delta-method standard errors, treated as known) gives the slope and the
limit ``m -> inf`` (the intercept), each with a normal two-sided interval at the level, widened by
the line's Birge ratio ``sqrt(chi2 / df)`` where the crossings of three or more widths misfit a
straight line; recorded, not asserted. Its word:

* ``condition``: the slope's interval contains 0, or the limit's interval lies wholly away from
  the theory's side of the region's edge (the crossing converges to a place the theory does not
  allow);
* ``finite-size``: the crossing moves toward the region's edge as ``m`` grows (the slope's interval
  excludes 0 with that sign) and its limit is not resolved away from the edge;
* ``unresolved``: neither (including fewer than two located crossings).

**Assertion.** For each series inside the theory's conditions (the map's region holds somewhere on
its axis: ``eps <= 0.16`` and the rest), the crossing's interval must lie wholly outside the map's
declared region (the map's own predicate, never moved) and its half-width must be at most the
resolution declared for the profile. Each such interval is one slot of the error budget; the slot
counts per profile are static (:meth:`BoundarySpec.slots`). A boundary is one verdict,
``boundary/<claim>``, whose ``boundary`` field in ``results.json`` holds every series' cells, fit,
crossing, interval and the trend.

``locator_coverage`` runs the whole locator (design, fit, inversion) on synthetic statistics with
a known crossing, so that its miss rate can be measured against the level.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

from fc_check.maps import MAPS, PAPER
from fc_check.stats import mean_interval_by_t, proportion_interval_by_clopper_pearson
from fc_check.verdict import Finding, Outcome, Plot

CONDITION, FINITE_SIZE, UNRESOLVED = "condition", "finite-size", "unresolved"
Kind = Literal["share", "mean"]
# A sampler: (axis value, series, replicates, seed) -> one number per replicate (bool for shares)
Sampler = Callable[[float, "Series", int, int], np.ndarray]


# --- declarations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One curve of a boundary: the axis swept with the parameters ``fixed`` (name, value) held, ``m`` among them."""

    fixed: tuple[tuple[str, float], ...]

    def get(self, name: str) -> float:
        return dict(self.fixed)[name]

    @property
    def m(self) -> int:
        return int(self.get("m"))

    @property
    def label(self) -> str:
        return ", ".join(f"{k} = {v:g}" for k, v in self.fixed)


def widths(*ms: int, **fixed: float) -> tuple[Series, ...]:
    """One series per width, with the other parameters ``fixed``."""
    return tuple(Series((*fixed.items(), ("m", float(m)))) for m in ms)


@dataclass(frozen=True)
class Design:
    """A boundary's sequential design under one profile: its series, the coarse pass, replicates
    per batch (one replicate-batched run), batches per series (the coarse pass's included), the
    half-width every asserted interval may have at most, the base seed, and which series form the
    width trend (all when empty)."""

    series: tuple[Series, ...]
    coarse: tuple[float, ...]
    replicates: int
    batches: int
    resolution: float
    seed: int = 0
    trend: tuple[int, ...] = ()
    coarse_replicates: int | None = None  # replicates per coarse batch (it only has to find the bracket); default: replicates

    @property
    def coarse_reps(self) -> int:
        return self.replicates if self.coarse_replicates is None else self.coarse_replicates

    def __post_init__(self) -> None:
        if not self.series:
            raise ValueError("Design.series must name at least one series")
        if len(self.coarse) < 2:
            raise ValueError(f"Design.coarse needs at least 2 axis values, got {self.coarse}")
        if self.replicates < 2 or (self.coarse_replicates is not None and self.coarse_replicates < 2):
            raise ValueError(f"Design.replicates and coarse_replicates must be >= 2, got {self.replicates}, {self.coarse_replicates}")
        if self.batches < len(self.coarse):
            raise ValueError(f"Design.batches must be >= the coarse pass ({len(self.coarse)}), got {self.batches}")
        if not self.resolution > 0:
            raise ValueError(f"Design.resolution must be > 0, got {self.resolution}")

    def trend_series(self) -> tuple[int, ...]:
        return self.trend or tuple(range(len(self.series)))

    def batch_seed(self, series: int, batch: int) -> int:
        """A seed of its own for every batch (independent replicates across cells)."""
        return self.seed * 1_000_003 + 1009 * (series + 1) + batch


@dataclass(frozen=True)
class BoundarySpec:
    """One boundary: its claim id, the map it refines (whose region and threshold it uses), the
    statistic per replicate and its kind, whether the statistic increases along the axis near the
    crossing, the axis (parameter name, label, grid step, range), the region's edge on the axis and
    the side of it the crossing must lie on (``relation``: ``>=``, ``>`` or ``<`` the edge), the
    fit's degree and window, the cell parameters and the designs per profile, with the reasons."""

    claim: str
    refines: str
    statistic: str
    kind: Kind
    threshold: float
    increasing: bool
    axis: str
    axis_label: str
    step: float
    lower: float
    upper: float
    edge: float
    relation: str
    degree: int
    window: float
    params: Callable[[float, Series], dict[str, float]]
    designs: tuple[tuple[str, Design], ...]
    why: str

    def __post_init__(self) -> None:
        if self.kind not in ("share", "mean"):
            raise ValueError(f"BoundarySpec.kind must be 'share' or 'mean', got {self.kind!r}")
        if self.relation not in (">=", ">", "<"):
            raise ValueError(f"BoundarySpec.relation must be '>=', '>' or '<', got {self.relation!r}")
        if not (self.step > 0 and self.upper > self.lower):
            raise ValueError(f"BoundarySpec needs step > 0 and upper > lower, got step {self.step}, range [{self.lower}, {self.upper}]")
        if self.degree not in (1, 2, 3):
            raise ValueError(f"BoundarySpec.degree must be 1, 2 or 3, got {self.degree}")
        if not self.window >= self.step:
            raise ValueError(f"BoundarySpec.window must be >= step ({self.step}), got {self.window}")
        if self.kind == "share" and not 0 < self.threshold < 1:
            raise ValueError(f"BoundarySpec.threshold of a share must be in (0, 1), got {self.threshold}")

    def design(self, profile: str) -> Design:
        return dict(self.designs)[profile]

    def region(self, p: dict[str, float]) -> bool:
        """The refined map's declared region (``fc_check.maps``), unchanged."""
        return bool(MAPS[self.refines].region(p))

    def grid(self) -> np.ndarray:
        n = int(round((self.upper - self.lower) / self.step))
        return self.lower + self.step * np.arange(n + 1)

    def snap(self, x: float) -> float:
        """The grid point nearest ``x``."""
        g = self.grid()
        return float(g[int(np.argmin(np.abs(g - x)))])

    def asserted(self, series: Series) -> bool:
        """Whether the series lies inside the theory's conditions: the region holds somewhere on its axis."""
        return any(self.region(self.params(float(x), series)) for x in self.grid())

    def slots(self, profile: str) -> int:
        """Assertion slots under ``profile``: one interval per asserted series."""
        return sum(self.asserted(s) for s in self.design(profile).series)

    def outside(self, low: float, high: float, series: Series) -> bool:
        """Whether ``[low, high]`` lies wholly outside the declared region (probed densely, and at its edge)."""
        if not (math.isfinite(low) and math.isfinite(high)):
            span = self.upper - self.lower
            low, high = max(low, self.lower - 4 * span), min(high, self.upper + 4 * span)
            if low > high:
                return False
        probes = list(np.linspace(low, high, 513))
        if low <= self.edge <= high:
            probes.append(self.edge)
        return not any(self.region(self.params(float(x), series)) for x in probes)

    def clearance(self, low: float, high: float) -> float:
        """How far ``[low, high]`` clears the edge on the required side (negative: it does not)."""
        if self.relation in (">=", ">"):
            return low - self.edge
        if self.relation == "<":
            return self.edge - high
        raise ValueError(f"relation must be '>=', '>' or '<', got {self.relation!r}")

    def theory_side(self, x: float) -> bool:
        """Whether ``x`` lies on the side of the edge the theory puts the crossing."""
        return x >= self.edge if self.relation in (">=", ">") else x <= self.edge


def point(**kw: float) -> dict[str, float]:
    """A cell's parameters: the paper-like regime of the maps with ``kw`` set, and its ``eps``."""
    p = {**PAPER, "slope": 0.0, **kw}
    p["eps"] = p["eta"] * math.sqrt(p["d"]) / p["m"]
    return p


# --- the sequential design -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cells:
    """The replicates measured along one series' axis: its batches (axis value, seed, one value per replicate)."""

    batches: tuple[tuple[float, int, np.ndarray], ...] = ()

    def add(self, x: float, seed: int, values: np.ndarray) -> Cells:
        """These cells and one more batch."""
        return Cells((*self.batches, (float(x), int(seed), np.asarray(values, dtype=np.float64).ravel())))

    def xs(self) -> list[float]:
        return sorted({x for x, _, _ in self.batches})

    def seeds(self, x: float) -> list[int]:
        return [s for bx, s, _ in self.batches if bx == x]

    def values(self, x: float) -> np.ndarray:
        return np.concatenate([v for bx, _, v in self.batches if bx == x])

    def n(self, x: float) -> int:
        return int(sum(v.size for bx, _, v in self.batches if bx == x))

    def estimate(self, x: float) -> float:
        return float(self.values(x).mean())

    def total(self) -> int:
        return int(sum(v.size for _, _, v in self.batches))


def bracket(cells: Cells, threshold: float, increasing: bool) -> tuple[float, float] | None:
    """The first adjacent pair of measured values (from the side where the statistic is below the
    threshold for an increasing one, above it for a decreasing one) whose estimates straddle it."""
    xs = cells.xs()
    for a, b in zip(xs, xs[1:], strict=False):
        ea, eb = cells.estimate(a), cells.estimate(b)
        if (ea < threshold <= eb) if increasing else (ea >= threshold > eb):
            return a, b
    return None


@dataclass
class CellPools:
    """Cells drawn from a pool per axis value, for measuring a boundary's power on many runs.

    A boundary's statistic is a crossing located by a sequential design, not one number per
    replicate, so its P(FAIL) at a model is the share of whole runs that FAIL. Run afresh, each of
    200 runs costs the whole design (the persistence boundary about 70 s on 2 cores). With these
    pools, the first request for axis value ``x`` of a series runs ``size`` replicates there once
    (one replicate-batched run, with a seed of its own per series and axis value, so pools are
    independent across cells); every batch the design asks for at ``x`` is then ``replicates``
    values drawn with replacement from that pool, with an index generator seeded by the batch's
    seed. The runs then cost the pools of the axis values they visit (a few per series) instead of
    200 designs. What is measured is P(FAIL) under the pools' law, each cell's pool standing for
    its distribution, as the study's other power curves draw from a pool per strength; the pool's
    own error (its mean's standard error is that of a cell of ``size`` replicates) shifts the curve
    as it shifts theirs. Checked against fresh whole runs on the onset boundary under ``ci`` (pools of
    512): P(FAIL) 0.275 and 0.915 at init scales 4 and 5 against 0.225 and 0.95, within their
    Clopper-Pearson intervals of each other. Not for verdicts: runs with pools reuse replicates.

    Mutable on purpose: one instance is shared by the runs of one check, model and strength (its pools
    are keyed by series and axis value only, so a second check must not share it), and holds the
    pools they fill (``pools``) and the replicates run to fill them (``replicates_run``)."""

    size: int
    seed: int
    pools: dict[tuple[Series, float], np.ndarray] = field(default_factory=dict)
    replicates_run: int = 0

    def __post_init__(self) -> None:
        if self.size < 2:
            raise ValueError(f"CellPools.size must be >= 2, got {self.size}")

    def _key_seed(self, series: Series, x: float) -> int:
        # stable across processes (no ``hash``): the series' parameters and the axis value name the pool
        return (self.seed * 1_000_003 + zlib.crc32(f"{series.fixed!r}|{x:.9g}".encode())) % (2**31 - 1)

    def drawing(self, sample: Sampler) -> Sampler:
        """``sample`` with every batch drawn from the pool of its axis value (filled on first use)."""

        def draw(x: float, series: Series, replicates: int, seed: int) -> np.ndarray:
            key, pool_seed = (series, round(float(x), 12)), self._key_seed(series, x)
            if key not in self.pools:
                values = np.asarray(sample(x, series, self.size, pool_seed)).ravel()
                if values.size != self.size:
                    raise ValueError(f"the sampler gave {values.size} values for a pool of {self.size}")
                self.pools[key] = values
                self.replicates_run += self.size
            pool = self.pools[key]
            idx = np.random.default_rng([pool_seed, int(seed) % (2**63)]).integers(0, pool.size, replicates)
            return pool[idx]

        return draw


def drawn_from(pools: CellPools | None, sample: Sampler) -> Sampler:
    """``sample``, or with ``pools`` its batches drawn from a pool per axis value (power curves only)."""
    return sample if pools is None else pools.drawing(sample)


def run_design(spec: BoundarySpec, design: Design, index: int, sample: Sampler) -> Cells:
    """The cells of series ``index``: the coarse pass, then bisection on replicate batches (see the module docstring)."""
    series = design.series[index]
    cells = Cells()
    batch = 0
    for x in design.coarse:
        seed = design.batch_seed(index, batch)
        cells = cells.add(spec.snap(x), seed, sample(spec.snap(x), series, design.coarse_reps, seed))
        batch += 1
    while batch < design.batches:
        br = bracket(cells, spec.threshold, spec.increasing)
        if br is None:
            break  # nothing to bisect: the series does not cross within the coarse range
        a, b = br
        inner = [float(g) for g in spec.grid() if a + 1e-9 < g < b - 1e-9]
        if inner:
            x = min(inner, key=lambda g: (abs(g - (a + b) / 2), g))
        else:
            # the bracket's ends are neighbours: spread the rest over the two ends and the grid points
            # beyond each (a fit needs the statistic's slope as well as its level at the crossing; a
            # quadratic also its bend: it reaches ``degree`` grid steps beyond each end)
            flank = [spec.snap(v) for k in range(1, spec.degree + 1) for v in (a - k * spec.step, b + k * spec.step)] + [a, b]
            measured = cells.xs()
            x = min(flank, key=lambda g: (cells.n(g) if g in measured else 0, flank.index(g)))
        seed = design.batch_seed(index, batch)
        cells = cells.add(x, seed, sample(x, series, design.replicates, seed))
        batch += 1
    return cells


# --- fits ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A polynomial fit of one series' cells in ``u = (x - center) / scale``: coefficients, their
    covariance, and for the WLS fit the linear map from cell means to coefficients with the cells'
    variances of the mean (for Welch-Satterthwaite degrees of freedom)."""

    kind: Kind
    degree: int
    center: float
    scale: float
    coef: np.ndarray
    cov: np.ndarray
    xs: tuple[float, ...]
    lack_of_fit: tuple[float, int, float]  # (chi2, df, p)
    smoother: np.ndarray | None = None  # (degree + 1) x cells, WLS only
    mean_var: np.ndarray | None = None  # per cell s^2 / n, WLS only
    cell_df: np.ndarray | None = None  # per cell n - 1, WLS only

    def basis(self, x: float) -> np.ndarray:
        u = (x - self.center) / self.scale
        return u ** np.arange(self.degree + 1)

    def value(self, x: float) -> float:
        return float(self.basis(x) @ self.coef)

    def se(self, x: float) -> float:
        b = self.basis(x)
        return float(math.sqrt(max(b @ self.cov @ b, 0.0)))

    def derivative(self, x: float) -> float:
        u = (x - self.center) / self.scale
        k = np.arange(1, self.degree + 1)
        return float(np.sum(k * self.coef[1:] * u ** (k - 1)) / self.scale)

    def df(self, x: float) -> float:
        """Degrees of freedom of ``f(x)``'s error: infinite for the GLM; Welch-Satterthwaite for WLS."""
        if self.smoother is None:
            return math.inf
        w = (self.basis(x) @ self.smoother) ** 2 * self.mean_var
        den = float(np.sum(w**2 / self.cell_df))
        return float(np.sum(w) ** 2 / den) if den > 0 else math.inf

    def target(self, threshold: float) -> float:
        """The threshold on the fit's scale (the logit for shares)."""
        return float(sps.logistic.ppf(threshold)) if self.kind == "share" else threshold


class FitFailed(Exception):
    """The parametric fit cannot locate the crossing (separation, too few distinct values)."""


def fit_cells(kind: Kind, cells: Cells, xs: list[float], degree: int) -> Fit:
    """The GLM (shares) or WLS (means) fit of the cells at ``xs`` (see the module docstring)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    if len(xs) < degree + 1:
        raise FitFailed(f"{len(xs)} distinct axis values cannot fit degree {degree}")
    x = np.asarray(xs, dtype=np.float64)
    center, scale = float(x.mean()), float(max(np.ptp(x) / 2, 1e-12))
    X = ((x - center) / scale)[:, None] ** np.arange(degree + 1)
    n = np.array([cells.n(v) for v in xs], dtype=np.float64)
    if kind == "share":
        succ = np.array([cells.values(v).sum() for v in xs])
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            try:
                res = sm.GLM(np.column_stack([succ, n - succ]), X, family=sm.families.Binomial()).fit()
            except (PerfectSeparationWarning, np.linalg.LinAlgError, ValueError) as exc:
                raise FitFailed(f"the binomial GLM does not converge: {exc}") from None
        coef, cov = np.asarray(res.params), np.asarray(res.cov_params())
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(cov))) or not res.converged:
            raise FitFailed("the binomial GLM did not converge")
        p = res.fittedvalues if hasattr(res, "fittedvalues") else res.predict(X)
        p = np.clip(np.asarray(p), 1e-12, 1 - 1e-12)
        chi2 = float(np.sum((succ - n * p) ** 2 / (n * p * (1 - p))))
        dof = len(xs) - degree - 1
        return Fit(kind, degree, center, scale, coef, cov, tuple(xs), (chi2, dof, float(sps.chi2.sf(chi2, dof)) if dof > 0 else math.nan))
    means = np.array([cells.estimate(v) for v in xs])
    var = np.array([cells.values(v).var(ddof=1) if cells.n(v) > 1 else math.nan for v in xs])
    if not np.all(np.isfinite(var)):
        raise FitFailed("a cell of a mean statistic needs >= 2 replicates")
    mean_var = var / n
    # Weights n_i (the cells' replicate counts), not n_i / s_i^2: estimated inverse-variance weights
    # correlate with the noise (for a skewed statistic a cell's variance grows with its mean) and
    # biased the crossing in the synthetic study; the errors are each cell's own (a sandwich).
    with np.errstate(divide="ignore", invalid="ignore"):  # as many cells as coefficients: no residual scale (unused here)
        res = sm.WLS(means, X, weights=n).fit()
    coef = np.asarray(res.params)
    smoother = np.linalg.solve(X.T @ (X * n[:, None]), X.T * n)  # coefficients = smoother @ means
    cov = smoother @ (smoother.T * mean_var[:, None])
    chi2 = float(np.sum((means - X @ coef) ** 2 / np.maximum(mean_var, 1e-300)))
    dof = len(xs) - degree - 1
    return Fit(kind, degree, center, scale, coef, cov, tuple(xs), (chi2, dof, float(sps.chi2.sf(chi2, dof)) if dof > 0 else math.nan),
               smoother, mean_var, n - 1)


# --- the crossing and its interval --------------------------------------------------------------


@dataclass(frozen=True)
class Crossing:
    """A located crossing: estimate, interval, delta-method standard error, the interval's method
    and level, the replicates behind it, and (for a parametric fit) the fit."""

    estimate: float
    low: float
    high: float
    se: float
    method: str
    level: float
    replicates: int
    fit: Fit | None = None
    bracket: tuple[float, float] | None = None

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def located(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high) and math.isfinite(self.estimate)


def _search(spec: BoundarySpec) -> tuple[float, float]:
    span = spec.upper - spec.lower
    return spec.lower - span, spec.upper + span


def fieller(fit: Fit, spec: BoundarySpec, level: float, near: float) -> tuple[float, float, float, float]:
    """(estimate, low, high, se): the root of ``f(x) = c`` nearest ``near`` and the component around it of
    ``{x : |f(x) - c| <= q se(f(x))}`` (infinite where it does not close within the search range)."""
    c = fit.target(spec.threshold)
    lo, hi = _search(spec)
    xs = np.linspace(lo, hi, 4097)
    fx = np.array([fit.value(v) for v in xs]) - c
    roots = []
    for i in np.nonzero(np.sign(fx[:-1]) * np.sign(fx[1:]) <= 0)[0]:
        a, b = xs[i], xs[i + 1]
        roots.append(a if fx[i] == 0 else optimize.brentq(lambda v: fit.value(v) - c, a, b))
    if not roots:
        return math.nan, -math.inf, math.inf, math.inf
    est = float(min(roots, key=lambda r: abs(r - near)))
    q_at = sps.t.ppf(1 - level / 2, fit.df(est)) if math.isfinite(fit.df(est)) else sps.norm.ppf(1 - level / 2)
    q = float(q_at)

    def g(v: float) -> float:
        return (fit.value(v) - c) ** 2 - (q * fit.se(v)) ** 2

    step = (hi - lo) / 4096

    def edge(direction: int) -> float:
        v = est
        while lo <= v + direction * step <= hi:
            nxt = v + direction * step
            if g(nxt) > 0:
                return float(optimize.brentq(g, min(v, nxt), max(v, nxt)))
            v = nxt
        return direction * math.inf

    slope = abs(fit.derivative(est))
    se = fit.se(est) / slope if slope > 0 else math.inf
    return est, edge(-1), edge(+1), float(se)


def monotone_bracket(cells: Cells, spec: BoundarySpec, level: float) -> tuple[float, float]:
    """Under a monotone statistic, the crossing lies above every cell significantly on the
    'before' side and below every cell significantly on the 'after' side (each cell's two-sided
    interval at ``level`` split over the cells: Bonferroni)."""
    xs = cells.xs()
    per = level / max(1, len(xs))
    low, high = -math.inf, math.inf
    for x in xs:
        v = cells.values(x)
        if spec.kind == "share":
            iv = proportion_interval_by_clopper_pearson(int(v.sum()), v.size, per, "two-sided")
        elif v.size >= 2 and np.ptp(v) > 0:
            iv = mean_interval_by_t(v, per, "two-sided")
        else:
            continue
        below, above = iv.high < spec.threshold, iv.low > spec.threshold
        before = below if spec.increasing else above
        after = above if spec.increasing else below
        if before:
            low = max(low, x)
        if after:
            high = min(high, x)
    return low, high


def locate(spec: BoundarySpec, cells: Cells, level: float) -> Crossing:
    """The crossing of one series and its interval at ``level`` (see the module docstring)."""
    br = bracket(cells, spec.threshold, spec.increasing)
    if br is not None:
        mid = (br[0] + br[1]) / 2
        xs = [x for x in cells.xs() if abs(x - mid) <= spec.window + 1e-9]
        for x in sorted(cells.xs(), key=lambda v: abs(v - mid)):  # at least degree + 2 values where there are
            if len(xs) >= spec.degree + 2:
                break
            if x not in xs:
                xs = sorted([*xs, x])
        try:
            fit = fit_cells(spec.kind, cells, xs, spec.degree)
            est, low, high, se = fieller(fit, spec, level, mid)
            if math.isfinite(est):
                name = "Fieller, binomial GLM (logit)" if spec.kind == "share" else "Fieller, WLS (Welch-Satterthwaite t)"
                return Crossing(est, low, high, se, f"{name}, degree {spec.degree}", level, sum(cells.n(x) for x in xs), fit, br)
        except FitFailed:
            pass
    low, high = monotone_bracket(cells, spec, level)
    est = (low + high) / 2 if math.isfinite(low) and math.isfinite(high) else (low if math.isfinite(low) else high)
    return Crossing(est, low, high, math.inf, "monotone bracket (cell intervals, Bonferroni)", level, cells.total(), None, br)


# --- the trend -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """Crossings against ``u = 1/sqrt(m)``: slope and limit (``m -> inf``) with intervals at ``level``,
    the straight line's lack of fit (chi2, df, p; its Birge ratio widens the intervals), and the word."""

    m: tuple[int, ...]
    crossings: tuple[float, ...]
    se: tuple[float, ...]
    slope: float
    slope_low: float
    slope_high: float
    limit: float
    limit_low: float
    limit_high: float
    level: float
    word: str
    reason: str
    lack_of_fit: tuple[float, int, float] = (math.nan, 0, math.nan)


def trend(spec: BoundarySpec, points: list[tuple[int, Crossing]], level: float) -> Trend:
    """The width trend of located crossings (see the module docstring for the word).

    With three or more widths the straight line in ``1/sqrt(m)`` can misfit the crossings (their
    errors are known); then its standard errors are scaled by the Birge ratio ``sqrt(chi2 / df)``
    (never below 1), so that the slope's and the limit's intervals carry the misfit too."""
    used = [(m, c) for m, c in points if c.located and math.isfinite(c.se) and c.se > 0]
    ms = tuple(m for m, _ in used)
    xs = tuple(c.estimate for _, c in used)
    ses = tuple(c.se for _, c in used)
    nan = math.nan
    if len(set(ms)) < 2:
        return Trend(ms, xs, ses, nan, nan, nan, nan, nan, nan, level, UNRESOLVED, "fewer than two widths with a located crossing")
    u = 1 / np.sqrt(np.asarray(ms, dtype=np.float64))
    X = np.column_stack([np.ones_like(u), u])
    W = 1 / np.asarray(ses) ** 2
    cov = np.linalg.inv(X.T @ (X * W[:, None]))
    beta = cov @ (X.T @ (W * np.asarray(xs)))
    dof = len(ms) - 2
    chi2 = float(np.sum(W * (np.asarray(xs) - X @ beta) ** 2))
    birge = math.sqrt(max(1.0, chi2 / dof)) if dof > 0 else 1.0
    z = float(sps.norm.ppf(1 - level / 2))
    limit, slope = float(beta[0]), float(beta[1])
    lh, sh = z * birge * math.sqrt(cov[0, 0]), z * birge * math.sqrt(cov[1, 1])
    s_lo, s_hi, l_lo, l_hi = slope - sh, slope + sh, limit - lh, limit + lh
    largest = xs[int(np.argmax(ms))]
    toward = math.copysign(1.0, spec.edge - largest)  # the direction from the widest crossing to the edge
    moves = -slope  # d crossing / d m has the sign of -slope (u falls as m grows)
    theory_side = l_lo >= spec.edge if spec.relation in (">=", ">") else l_hi <= spec.edge
    away = l_hi < spec.edge if spec.relation in (">=", ">") else l_lo > spec.edge
    limit_text = f"its limit m -> inf, {limit:.3g} [{l_lo:.3g}, {l_hi:.3g}], " + (
        "lies on the theory's side of the edge" if theory_side else "lies on the other side" if away else "reaches the edge")
    if s_lo <= 0 <= s_hi:
        word, why = CONDITION, "the slope's interval contains 0: the crossing does not move measurably with m"
    elif away:
        word, why = CONDITION, f"the crossing moves with m, but {limit_text}: a place the theory does not allow"
    elif math.copysign(1.0, moves) == toward:
        word, why = FINITE_SIZE, f"the crossing moves toward the region's edge as m grows; {limit_text}"
    else:
        word, why = UNRESOLVED, f"the crossing moves away from the region's edge as m grows; {limit_text}"
    return Trend(ms, xs, ses, slope, s_lo, s_hi, limit, l_lo, l_hi, level, word, why,
                 (chi2, dof, float(sps.chi2.sf(chi2, dof)) if dof > 0 else nan))


# --- a boundary's verdict ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesResult:
    series: Series
    cells: Cells
    crossing: Crossing
    asserted: bool
    outside: bool
    resolved: bool  # half-width <= resolution

    @property
    def passed(self) -> bool:
        return self.outside and self.resolved


def run_series(spec: BoundarySpec, design: Design, index: int, sample: Sampler, level: float) -> SeriesResult:
    """One series: its sequential design, its crossing and whether that clears the region and the resolution."""
    series = design.series[index]
    cells = run_design(spec, design, index, sample)
    c = locate(spec, cells, level)
    return SeriesResult(series, cells, c, spec.asserted(series), spec.outside(c.low, c.high, series), c.half_width <= design.resolution)


def _num(x: float) -> float | None:
    return float(x) if isinstance(x, float | int) and math.isfinite(x) else None


def _fit_record(f: Fit | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {"kind": f.kind, "degree": f.degree, "center": f.center, "scale": f.scale, "coef": [float(v) for v in f.coef],
            "cov": [[float(v) for v in row] for row in f.cov], "window": list(f.xs),
            "lack_of_fit": {"chi2": f.lack_of_fit[0], "df": f.lack_of_fit[1], "p": _num(f.lack_of_fit[2])}}


def _margin(spec: BoundarySpec, r: SeriesResult, resolution: float) -> float:
    """How far the series' interval clears the edge and the resolution, the smaller (negative: it does not)."""
    c = r.crossing
    return min(spec.clearance(c.low, c.high), resolution - c.half_width)


def measure(spec: BoundarySpec, design: Design, sample: Sampler, level: float) -> tuple[list[SeriesResult], Trend]:
    """Every series of ``design`` and the width trend over ``design.trend_series()``."""
    results = [run_series(spec, design, i, sample, level) for i in range(len(design.series))]
    t = trend(spec, [(results[i].series.m, results[i].crossing) for i in design.trend_series()], level)
    return results, t


def outcome(spec: BoundarySpec, design: Design, results: list[SeriesResult], tr: Trend, level: float) -> Outcome:
    """The boundary's verdict (PASS iff every asserted series' interval lies outside the region with
    half-width <= the resolution; its interval is the weakest asserted series'), with every series in
    the record's ``boundary`` field, the plot, the trend plot and the tables."""
    from fc_check.boundaryplot import boundary_figure, trend_figure

    asserted = [r for r in results if r.asserted]
    if not asserted:
        raise ValueError(f"{spec.claim}: no series of the design lies inside the theory's conditions")
    margins = [_margin(spec, r, design.resolution) for r in asserted]
    weakest = asserted[int(np.argmin(margins))]
    c = weakest.crossing
    failing = [r for r in asserted if not r.passed]
    z = float(sps.norm.ppf(1 - level / 2) + sps.norm.ppf(0.9))
    detectable = z * c.se if math.isfinite(c.se) else math.nan
    note = (f"{sum(r.passed for r in asserted)} of {len(asserted)} asserted series clear the region with half-width <= {design.resolution:g}; "
            f"trend vs 1/sqrt(m): slope {tr.slope:.3g} [{tr.slope_low:.3g}, {tr.slope_high:.3g}], limit {tr.limit:.3g} "
            f"[{tr.limit_low:.3g}, {tr.limit_high:.3g}]: {tr.word.upper()}")
    if failing:
        note += "; not clearing: " + "; ".join(
            f"{r.series.label}: {r.crossing.estimate:.3g} [{r.crossing.low:.3g}, {r.crossing.high:.3g}]"
            f"{'' if r.outside else ' inside the region'}{'' if r.resolved else f' half-width {r.crossing.half_width:.3g}'}" for r in failing)
    series_rec = []
    for r in results:
        cr = r.crossing
        series_rec.append({
            "label": r.series.label, "fixed": dict(r.series.fixed), "asserted": r.asserted, "outside": r.outside, "resolved": r.resolved,
            "cells": [{"x": x, "replicates": r.cells.n(x), "estimate": r.cells.estimate(x), "batches": r.cells.seeds(x)} for x in r.cells.xs()],
            "fit": _fit_record(cr.fit),
            "crossing": {"estimate": _num(cr.estimate), "ci_low": _num(cr.low), "ci_high": _num(cr.high), "se": _num(cr.se), "half_width": _num(cr.half_width),
                         "method": cr.method, "level": cr.level, "replicates": cr.replicates, "bracket": list(cr.bracket) if cr.bracket else None}})
    record = {"boundary": {
        "refines": spec.refines, "axis": spec.axis, "threshold": spec.threshold, "edge": spec.edge, "relation": spec.relation, "resolution": design.resolution,
        "series": series_rec,
        "trend": {"axis": "1/sqrt(m)", "m": list(tr.m), "crossings": list(tr.crossings), "se": list(tr.se), "slope": _num(tr.slope),
                  "slope_low": _num(tr.slope_low), "slope_high": _num(tr.slope_high), "limit": _num(tr.limit), "limit_low": _num(tr.limit_low),
                  "limit_high": _num(tr.limit_high), "level": tr.level, "word": tr.word, "reason": tr.reason,
                  "lack_of_fit": {"chi2": _num(tr.lack_of_fit[0]), "df": tr.lack_of_fit[1], "p": _num(tr.lack_of_fit[2])}}}}
    statistic = f"crossing of {spec.axis} where {spec.statistic} = {spec.threshold:g} ({weakest.series.label}), half-width <= {design.resolution:g}"
    f = Finding(spec.claim, statistic, c.estimate, c.low, c.high, level, spec.edge, detectable, c.replicates, not failing,
                min(margins), c.method, note, relation=spec.relation, details=record)
    regime = {"axis": spec.axis, "series": [r.series.label for r in results], "coarse": list(design.coarse), "replicates": design.replicates,
              "batches": design.batches, "resolution": design.resolution, "cells": sum(len(r.cells.xs()) for r in results),
              "asserted": len(asserted)}
    crossing_rows = [[r.series.label, "yes" if r.asserted else "no", r.crossing.estimate, f"[{r.crossing.low:.4g}, {r.crossing.high:.4g}]",
                      r.crossing.half_width, r.crossing.method, r.crossing.replicates, ("clears" if r.outside else "inside") if r.asserted else "-",
                      ("PASS" if r.passed else "FAIL") if r.asserted else "not asserted"] for r in results]
    cell_rows = [[r.series.label, x, r.cells.n(x), r.cells.estimate(x), float(r.cells.values(x).std(ddof=1) / math.sqrt(r.cells.n(x))) if r.cells.n(x) > 1 else math.nan]
                 for r in results for x in r.cells.xs()]
    tables = [{"claim": spec.claim, "title": f"Crossings (Fieller interval at the per-interval level; region edge {spec.axis} {spec.relation} {spec.edge:g} to clear)",
               "columns": ["series", "asserted", "crossing", "interval", "half-width", "method", "replicates", "region", "verdict"], "rows": crossing_rows},
              {"claim": spec.claim, "title": "Trend of the crossing against 1/sqrt(m) (recorded, not asserted)",
               "columns": ["m", "crossing", "se", "slope", "slope interval", "limit m -> inf", "limit interval", "line's lack of fit (chi2, df, p)", "word"],
               "rows": [[list(tr.m), [float(f"{v:.4g}") for v in tr.crossings], [float(f"{v:.3g}") for v in tr.se], tr.slope, f"[{tr.slope_low:.4g}, {tr.slope_high:.4g}]",
                         tr.limit, f"[{tr.limit_low:.4g}, {tr.limit_high:.4g}]",
                         f"{tr.lack_of_fit[0]:.3g}, {tr.lack_of_fit[1]}, {tr.lack_of_fit[2]:.3g}" if tr.lack_of_fit[1] > 0 else "none to measure (two widths)",
                         f"{tr.word}: {tr.reason}"]]},
              {"claim": spec.claim, "title": "Cells of the sequential design (estimate and its standard error)",
               "columns": ["series", spec.axis, "replicates", "estimate", "se"], "rows": cell_rows}]
    plots = [Plot(spec.claim, f"{spec.statistic} against {spec.axis_label}, per series, with the fit, the threshold and the crossing's interval",
                  boundary_figure(spec, design, results)),
             Plot(spec.claim, f"Crossing against 1/sqrt(m): {tr.word}", trend_figure(spec, results, design.trend_series(), tr))]
    return Outcome([f], regime, design.seed, plots, tables)


def check(spec: BoundarySpec, design: Design, sample: Sampler, level: float) -> Outcome:
    """Measure a boundary and give its verdict."""
    results, tr = measure(spec, design, sample, level)
    return outcome(spec, design, results, tr, level)


# --- the four boundaries -----------------------------------------------------------------------------
#
# Ratio axes use k_core = 16 (d = 2^14 keeps sqrt(d) = 8 k_core): k_bg / k_core then moves in steps of
# 1/16, half the maps' 1/8 (k_core = 8), so that a half-width of 1/16 is a claim the cells can resolve.
# Resolutions, declared with the designs before the boundaries were run. The unit: 1/16 in
# k_bg / k_core (one grid step: it tells the region's edge from the next cell on either side) and 0.05
# in the LeakyReLU slope (the unit). The rule per profile: the finest of 1/16, 1/8, ... under
# which the half-width falls in at least 95% of 100 synthetic series shaped after the boundary's
# prototype (``locator_coverage``'s statistics, the profile's design and per-interval level). Measured:
# persistence, ci design (64-replicate batches, 8 per width, a 32-replicate coarse pass; level 9e-6):
# median half-width 0.053, 83% under 1/16, 99% under 1/8 -> 1/8; default design (96-replicate
# batches; 4.5e-6): median 0.042, 100% under 1/16 -> 1/16. Onset, ci (128-replicate batches, 64 in
# the coarse pass): median 0.039, 100% under 1/16 (98% while the flank phase of a quadratic reached
# one step beyond the bracket, not two: the upper bound then failed to close in 2% of the series, and
# in the first ci run of the real check); default (256, 128): 0.029, 100% -> 1/16 in both.
# Contamination ratio, ci (16-replicate batches, 6 per series): median 4e-4, far under 0.05. OOD gap,
# ci: median 0.009, 100% under 1/16. The default and thorough designs have more replicates, never fewer.

K_CORE = 16  # for the ratio axes (steps of 1/16)
STEP_RATIO = 1 / K_CORE


def _ratio_point(x: float, s: Series) -> dict[str, float]:
    return point(k_core=K_CORE, k_bg=x * K_CORE, m=s.m)


def _slope_point(x: float, s: Series) -> dict[str, float]:
    k_core = PAPER["k_core"]
    return point(k_core=k_core, k_bg=s.get("k_bg/k_core") * k_core, m=s.m, slope=x)


PERSISTENCE = BoundarySpec(
    "boundary/theorem-4.1/persistence", "map/theorem-4.1/persistence", "share persisting from T0 on", "share", 0.5, False,
    "k_bg/k_core", "k_bg / k_core (k_core = 16)", STEP_RATIO, 4 / 16, 24 / 16, 1.0, ">=", 1, 3 / 16, _ratio_point,
    (("ci", Design(widths(32, 64), (8 / 16, 12 / 16, 1.0), 64, 8, 1 / 8, coarse_replicates=32)),
     ("default", Design(widths(32, 64, 128, 256), (8 / 16, 12 / 16, 1.0), 96, 8, 1 / 16, coarse_replicates=32)),
     ("thorough", Design(widths(32, 64, 128, 256), (8 / 16, 12 / 16, 1.0), 256, 10, 1 / 16, coarse_replicates=64))),
    "The map's region is k_bg < k_core (with eps <= 0.16: m >= 64 at eta = 0.05): the share must stay >= 1/2 below k_bg / k_core = 1, "
    "so the crossing must lie at or above 1. Coarse pass at 1/2, 3/4, 1 (the map measured 0.94-1.00 at 1/2 and 0.00-0.06 at 1); a "
    "linear logit in a window of +-3/16 around the bracket (the prototype's logits were close to linear there).")

ONSET = BoundarySpec(
    "boundary/theorem-4.1/onset", "map/theorem-4.1/t0-scaling", "share with T0 eps > 8", "share", 0.5, True,
    "k_bg/k_core", "k_bg / k_core (k_core = 16)", STEP_RATIO, 4 / 16, 32 / 16, 1.0, ">=", 2, 3 / 16, _ratio_point,
    (("ci", Design(widths(32, 64), (1.0, 20 / 16, 24 / 16), 128, 8, 1 / 16, coarse_replicates=64)),
     ("default", Design(widths(32, 64, 128, 256), (1.0, 20 / 16, 24 / 16), 256, 8, 1 / 16, coarse_replicates=128)),
     ("thorough", Design(widths(32, 64, 128, 256), (1.0, 20 / 16, 24 / 16), 1024, 10, 1 / 16, coarse_replicates=256))),
    "The median of T0 eps leaves [1/2, 8] upward exactly where P(T0 eps > 8) crosses 1/2, so the boundary is that share's crossing "
    "(a replicate not meeting the criterion by 8 / eps steps counts as late: training stops there). The map's region is k_bg < k_core: "
    "the crossing must lie at or above 1. A quadratic logit: the prototype's logits bent (steep below the crossing, flat above).")

CONTAMINATION = BoundarySpec(
    "boundary/theorem-4.2/contamination-ratio", "map/theorem-4.2/contamination-ratio", "contamination ratio mean|G_k| / mean C_k", "mean", 0.2, False,
    "slope", "LeakyReLU slope s (k_core = 8)", 1 / 64, 0.0, 1.0, 0.0, ">", 2, 1 / 8, _slope_point,
    (("ci", Design((*widths(64, **{"k_bg/k_core": 0.5}), *widths(64, **{"k_bg/k_core": 1.0}), *widths(64, **{"k_bg/k_core": 2.0}),
                    *widths(32, **{"k_bg/k_core": 1.0})), (0.5, 0.75, 1.0), 16, 6, 0.05, trend=(3, 1))),
     ("default", Design((*widths(64, **{"k_bg/k_core": 0.5}), *widths(64, **{"k_bg/k_core": 1.0}), *widths(64, **{"k_bg/k_core": 2.0}),
                         *widths(32, 128, 256, **{"k_bg/k_core": 1.0})), (0.5, 0.75, 1.0), 24, 7, 0.05, trend=(3, 1, 4, 5))),
     ("thorough", Design((*widths(64, **{"k_bg/k_core": 0.5}), *widths(64, **{"k_bg/k_core": 1.0}), *widths(64, **{"k_bg/k_core": 2.0}),
                          *widths(32, 128, 256, **{"k_bg/k_core": 1.0})), (0.5, 0.75, 1.0), 64, 9, 0.05, trend=(3, 1, 4, 5)))),
    "The map's region is ReLU (slope 0) with k_bg / k_core <= 2: the crossing of 0.2 must lie above slope 0 at k_bg / k_core = 1/2, 1, 2. "
    "A quadratic WLS in a window of +-1/8 around the bracket: the ratio is nearly linear in 1 - s near the identity, and its standard error "
    "(about 1e-4) is far below any curvature a straight line would leave.")

OOD_GAP = BoundarySpec(
    "boundary/theorem-4.3/ood-gap", "map/theorem-4.3/ood-gap", "paired OOD - ID hinge gap", "mean", 0.2, True,
    "k_bg/k_core", "k_bg / k_core (k_core = 16, ReLU)", STEP_RATIO, 1 / 16, 1.0, 0.5, "<", 2, 3 / 16, _ratio_point,
    (("ci", Design(widths(32, 64), (2 / 16, 4 / 16, 8 / 16), 16, 6, 1 / 16)),
     ("default", Design(widths(32, 64, 128, 256), (2 / 16, 4 / 16, 8 / 16), 24, 7, 1 / 16)),
     ("thorough", Design(widths(32, 64, 128, 256), (2 / 16, 4 / 16, 8 / 16), 64, 9, 1 / 16))),
    "The map's region is ReLU with 1/2 <= k_bg / k_core <= 2: on the small-background side the gap must reach 0.2 below 1/2, so the "
    "crossing must lie below 1/2. A quadratic WLS in a window of +-3/16; the gap's standard error (about 0.002 with 16 replicates) "
    "resolves 1/16 in every profile.")

BOUNDARIES: dict[str, BoundarySpec] = {s.claim: s for s in (PERSISTENCE, ONSET, CONTAMINATION, OOD_GAP)}


# --- the locator's own coverage ---------------------------------------------------------------------
#
# Synthetic statistics with a known crossing, one per boundary, shaped after that boundary's
# prototype (measured before the checks were written) and deliberately not of the fitted family, so
# that a miss counts the fit's bias as well as its noise; each runs its boundary's ci design (its
# first series) through the same design, fit and inversion as the check:
#
# * persistence: P(success) = exp(-((x - 0.4) / 0.39)^3) along k_bg / k_core, a Weibull survival
#   through the prototype's 0.98, 0.48, 0.09 at 1/2, 3/4, 7/8 (m = 64); crossing 0.4 + 0.39 (log 2)^(1/3).
# * onset: logit P(T0 eps > 8) = 19 u / (1 + 4.5 max(u, 0)) with u = x - 1.235: linear below the
#   crossing, bending above it, as the prototype (m = 64, 512 replicates per cell: 0.035, 0.115, 0.293,
#   0.568, 0.734, 0.828, 0.896 at 17/16 ... 23/16; its logits rise by 1.28, 1.16, 1.15, then 0.75, 0.55,
#   0.58 per step); crossing 1.235.
# * contamination-ratio: f(s) = 1.1 (1 - s) + 0.3 (1 - s)^3 along the slope (the prototype's 0.277,
#   0.222, 0.167, 0.112 at 0.75, 0.8, 0.85, 0.9 within 0.003), gamma noise (skewness 1) of sd 4e-4.
# * ood-gap: f(x) = 0.1 + 0.66 (x - 1/4) - 0.1 (x - 1/4)^2 along k_bg / k_core (the prototype's 0.099,
#   0.140, 0.182, 0.222, 0.261 at 4/16 ... 8/16), gamma noise (skewness 1) of sd 0.007.

LOCATOR_METHODS = ("persistence", "onset", "contamination-ratio", "ood-gap")


def _gamma_noise(rng: np.random.Generator, n: int, sd: float, shape: float = 4.0) -> np.ndarray:
    return sd * (rng.gamma(shape, 1.0, n) - shape) / math.sqrt(shape)


def _synthetic(method: str) -> tuple[BoundarySpec, float, Callable[[float, np.random.Generator, int], np.ndarray]]:
    """(spec, true crossing, draw(x, rng, n) -> n values) of a synthetic statistic."""
    if method == "persistence":
        return PERSISTENCE, 0.4 + 0.39 * math.log(2) ** (1 / 3), lambda x, rng, n: rng.random(n) < math.exp(-(max(x - 0.4, 0.0) / 0.39) ** 3)
    if method == "onset":
        return ONSET, 1.235, lambda x, rng, n: rng.random(n) < float(sps.logistic.cdf(19 * (x - 1.235) / (1 + 4.5 * max(x - 1.235, 0.0))))
    if method == "contamination-ratio":
        def f(s: float) -> float:
            return 1.1 * (1 - s) + 0.3 * (1 - s) ** 3

        return CONTAMINATION, float(optimize.brentq(lambda s: f(s) - 0.2, 0.5, 1.0)), lambda x, rng, n: f(x) + _gamma_noise(rng, n, 4e-4)
    if method == "ood-gap":
        def g(x: float) -> float:
            return 0.1 + 0.66 * (x - 0.25) - 0.1 * (x - 0.25) ** 2

        return OOD_GAP, float(optimize.brentq(lambda x: g(x) - 0.2, 0.0, 1.0)), lambda x, rng, n: g(x) + _gamma_noise(rng, n, 0.007)
    raise ValueError(f"method must be one of {LOCATOR_METHODS}, got {method!r}")


def locator_coverage(method: str, draws: int, level: float, seed: int, design: Design | None = None) -> tuple[int, int]:
    """How often the locator's interval (sequential design, fit, Fieller inversion, as the boundary
    checks run them) misses a known crossing: ``(misses, draws)`` over ``draws`` independent
    synthetic series at ``level``. ``method`` names the boundary whose statistic is imitated (see
    the synthetic statistics above); ``design``: its ci design unless given (the first series is used)."""
    if not (isinstance(draws, int) and draws >= 1):
        raise ValueError(f"draws must be an integer >= 1, got {draws!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    spec, truth, draw = _synthetic(method)
    design = replace(design or spec.design("ci"), seed=seed, trend=())
    design = replace(design, series=design.series[:1])
    misses = 0
    for d in range(draws):
        def sample(x: float, series: Series, n: int, batch_seed: int, d: int = d) -> np.ndarray:
            return draw(x, np.random.default_rng([seed, d, batch_seed]), n)

        c = locate(spec, run_design(spec, design, 0, sample), level)
        misses += not (c.low <= truth <= c.high)
    return misses, draws
