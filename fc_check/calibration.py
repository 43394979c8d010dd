"""The calibration study: what each verdict's stated level delivers, and what each check detects.

A verdict's level is a promise about the interval method under it: "a PASS on a false claim happens
with probability at most the level" (for 'contains' claims: "a FAIL of a true claim"). This module
measures that promise instead of assuming it, with the suite's own checks:

* **Pools.** Every claim test with a pinned ``@example`` (and every map test) is run once with a
  recorder in place of the ``fc`` fixture, which yields the check, its model and its pinned regime.
  The check is then run on a pool of ``P`` independent replicates (batches of fresh master seeds,
  far from the suite's own) and every finding's per-replicate sample is kept
  (``fc_check.stats.Sample``). Checks at one regime share their training runs (the simulators are
  memoised), so statistics of one model and regime share one pool. On the CPU the batches run in
  worker processes of one torch thread each (``BatchRunner``; a batch goes to the worker its seed
  names, so shared runs stay shared).
* **Miss rates.** The pool's value of each statistic (its mean, share, median or fitted exponent)
  is the reference, with its own standard error. Batches of the check's replicate count are drawn
  from the pool with replacement (the pool's law is then the truth) and each bound is computed
  again: the miss rate is the share of draws whose bound excludes the reference, with a
  Clopper-Pearson interval, at levels 10%, 1%, 0.1%, 1e-4 and the check's own per-interval level
  (with ten times more draws for the most skewed statistics), for the plain t bound, Hall's (1992)
  skew-corrected t, and the t bound at a calibrated level (Loh 1987: the largest level whose
  measured miss rate is at most the stated one, chosen on one set of draws and measured on an
  independent one). The tail figure is also estimated from the first half of the pool, so that a
  figure that moves between ``P/2`` and ``P`` shows as such. Statistics that are not one number per
  replicate (clustered fits and trends) are computed on groups of ``R`` replicates, at a relaxed
  level: disjoint groups of the pool, each standing for a fresh seed, or groups drawn from the pool
  with replacement where fresh groups cost too much (``POOL_SIZES``; the record says which).
* **Fresh-seed fail rates.** The same draws give, for each claim, the probability that its check
  FAILs on a fresh seed at its own level (any of its findings failing): limited by power, not by
  the level. The suite's union is bounded by the sum over claims.
* **Power.** Each claim family has a graded departure (``DEPARTURES``, named in the catalogue): the
  same check on a model moved away from the paper's by a strength ``s``. P(the check FAILs) is
  measured against ``s`` from draws on a pool per strength, and the strength at which it reaches
  0.9 is placed beside the resolution the verdicts record (the noncentral-t figure), with the
  margin the pool measures there. After the declared grid, strengths are added by bisection between
  the two measured ones that bracket 0.9 (``power_refine``), and the record gives that bracket. A
  check with findings that have no per-replicate sample (an exact identity) is measured on whole
  runs instead: P(FAIL) is the share of ``power_runs`` fresh-seed runs at its own ``R`` on which it
  FAILs. A boundary (a crossing located by a sequential design) is measured on ``power_runs`` runs
  whose cells are drawn from a pool per axis value (``fc_check.boundaries.CellPools``, of
  ``max(power_pool, 4 R)`` replicates, as the other curves' pools): the runs then cost the axis
  values they visit, not 200 designs.

``python -m fc_check.calibrate`` runs the study and writes ``calibration.json``; the report shows
it in "How far to trust a verdict" whenever that file is in the report folder.
"""

from __future__ import annotations

import importlib
import inspect
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special
from scipy import stats as sps

from fc_check import stats
from fc_check.levels import calibrated_tails, level_at
from fc_check.levels import key as level_key
from fc_check.stats import Sample
from fc_check.verdict import Finding, Outcome

if TYPE_CHECKING:  # for annotations; runs_on_cell_pools imports it where a boundary's power is measured
    from fc_check.boundaries import CellPools

LEVELS = (0.1, 0.01, 0.001, 1e-4)
CP_LEVEL = 0.05  # two-sided level of the Clopper-Pearson interval on each measured rate (a description, not an assertion)
SEED0 = 1_000_000_007  # pool seeds start here: far from the suite's own (0 pinned, Hypothesis draws below 2^31 are possible but
# the pools step by one from here, so a collision needs a generated example to land on one of a few hundred values)


@dataclass(frozen=True)
class StudyProfile:
    """How large the study is under one suite profile.

    ``pool_factor``: per-replicate pools hold ``pool_factor x R`` replicates (``R`` the check's own
    count); ``heavy_pool_factor`` for the costly families (``HEAVY_MODULES``), whose pools are kept
    smaller for cost and say so (0: not pooled under this profile, and the study says so). ``groups``: disjoint groups of ``R`` replicates (fresh seeds) for
    the statistics that are not one number per replicate (``heavy_groups`` likewise). ``draws``:
    resampled batches per pool for miss and fail rates; ``tail_draws`` for the ``tail_statistics``
    most skewed statistics, at the check's own level. ``batch``: replicates per simulator call.
    ``pool_seconds``: a pool stops growing once it holds ``4 R`` replicates and this many seconds have
    passed (at a batch's end), and its record says so. Tests whose pools would cost too much get
    declared sizes (``POOL_SIZES``). ``power_refine``: after a departure's grid, this many strengths
    are added, each halfway between the two measured strengths whose P(FAIL) brackets 0.9, so that
    the 0.9 point is located within a quarter (two steps) of the grid's spacing there."""

    name: str
    pool_factor: int
    heavy_pool_factor: int
    groups: int
    heavy_groups: int
    draws: int
    tail_draws: int
    tail_statistics: int = 3
    batch: int = 256
    power_pool: int = 256
    power_draws: int = 2000
    pool_seconds: float = math.inf  # a pool stops growing (at a batch's end, once it holds 4 R) after this many seconds
    power_departures: tuple[str, ...] | None = None  # the departures studied (None: all)
    power_skip: tuple[str, ...] = ()  # tests (prefixes) left out of the power study for cost
    power_refine: int = 2  # strengths added by bisection between the two measured ones around P(FAIL) = 0.9
    power_runs: int = 200  # per strength, runs of a check whose findings have no per-replicate sample (exact identities: fresh seeds; boundaries: cell pools)
    # strengths measured in place of the departures' declared grids (``--strengths``, with one departure named): a
    # curve measured in parts, or only its paper's strength (the fresh-seed fail rate) where a strength costs hours
    power_strengths: tuple[float, ...] | None = None


STUDIES = {
    "ci": StudyProfile("ci", pool_factor=64, heavy_pool_factor=0, groups=200, heavy_groups=0, draws=500_000, tail_draws=10_000_000, power_pool=64,
                       power_departures=("leaky-from-relu", "leaky-from-identity", "zero-mean-shift", "own-core-init", "label-background"),
                       power_skip=("theorems/test_lemma_1_1.py", "maps/")),
    "default": StudyProfile("default", pool_factor=64, heavy_pool_factor=8, groups=200, heavy_groups=50, draws=2_000_000, tail_draws=10_000_000,
                            pool_seconds=1800.0),
}

# Families whose runs cost seconds per replicate (the general setting, distillation, digits, deep
# networks, the boundaries' sequential designs, the persistence and onset maps' 128-replicate cells):
# smaller pools under default, not pooled under ci.
HEAVY_MODULES = ("maps/test_persistence.py", "maps/test_onset.py",
                 "properties/test_figure_3d", "properties/test_distillation", "properties/test_digits", "properties/test_figure_6", "properties/test_deep",
                 "properties/test_theory_matching", "maps/test_boundary_", "theorems/test_theorem_4_1.py::test_t0_scaling")


# --- discovery: the checks behind the tests -------------------------------------------------


@dataclass(frozen=True)
class CheckCall:
    """One ``fc.check(fn, *args, **kwargs)`` call of a claim test at its pinned example."""

    test: str
    module: str
    fn: Callable[..., Outcome]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def regime_position(self) -> int:
        """The argument that sets replicates and seed (a frozen dataclass with both fields)."""
        for i, a in enumerate(self.args):
            if is_dataclass(a) and not isinstance(a, type) and hasattr(a, "replicates") and hasattr(a, "seed"):
                return i
        raise ValueError(f"{self.test}: no argument with replicates and seed fields")

    @property
    def regime(self) -> Any:
        return self.args[self.regime_position]

    @property
    def heavy(self) -> bool:
        return self.test.startswith(HEAVY_MODULES)

    def with_regime(self, regime: Any) -> CheckCall:
        args = list(self.args)
        args[self.regime_position] = regime
        return replace(self, args=tuple(args))

    def run(self, replicates: int, seed: int, level: float, device: str) -> Outcome:
        regime = replace(self.regime, replicates=replicates, seed=seed)
        return self.fn(*self.with_regime(regime).args, level=level, device=device, **self.kwargs)


class _Recorder:
    """Stands in for the ``fc`` fixture: records the check a test would run instead of running it."""

    def __init__(self, level: float, device: str, profile: Any) -> None:
        self.calls: list[tuple[Callable[..., Outcome], tuple[Any, ...], dict[str, Any]]] = []
        self.level, self.device, self.profile = level, device, profile

    def check(self, fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> None:
        self.calls.append((fn, args, kwargs))


def _parametrizations(fn: Any) -> list[dict[str, Any]]:
    combos: list[dict[str, Any]] = [{}]
    for mark in getattr(fn, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names = [n.strip() for n in mark.args[0].split(",")] if isinstance(mark.args[0], str) else list(mark.args[0])
        values = [v if len(names) > 1 else (v,) for v in mark.args[1]]
        combos = [{**c, **dict(zip(names, v, strict=True))} for c in combos for v in values]
    return combos


def discover(profile: str, modules: list[str] | None = None) -> list[CheckCall]:
    """The check calls of every claim test at its pinned example under ``profile`` (the modules read
    the profile when imported, so they are reloaded under it). ``modules`` restricts the search."""
    from fc_check.budget import PROFILES, ErrorBudget
    from fc_check.catalogue import CLAIMS
    from fc_check.hypo import PROFILE_ENV

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:  # the claim modules live beside the package (theorems/, properties/, maps/)
        sys.path.insert(0, root)
    saved = os.environ.get(PROFILE_ENV)
    os.environ[PROFILE_ENV] = profile
    level = ErrorBudget.for_profile(1e-3, PROFILES[profile]).per_assertion
    paths = list(dict.fromkeys(c.module for c in CLAIMS.values() if c.module))
    if modules is not None:
        paths = [p for p in paths if p in modules]
    calls: list[CheckCall] = []
    try:
        for path in paths:
            name = path.removesuffix(".py").replace("/", ".")
            mod = importlib.reload(importlib.import_module(name))
            for attr, fn in sorted(vars(mod).items()):
                if not attr.startswith("test_") or not callable(fn) or getattr(fn, "__module__", "") != name:
                    continue
                inner = getattr(getattr(fn, "hypothesis", None), "inner_test", fn)
                examples = getattr(fn, "hypothesis_explicit_examples", None)
                params = list(inspect.signature(inner).parameters)
                if examples:
                    kwargs_list = [ex.kwargs for ex in examples]
                elif params == ["fc"] or (set(params) - {"fc"} <= {p for c in _parametrizations(fn) for p in c}):
                    kwargs_list = [{}]
                else:
                    continue
                for combo in _parametrizations(fn):
                    for kw in kwargs_list:
                        rec = _Recorder(level, "cpu", PROFILES[profile])
                        inner(fc=rec, **combo, **kw)
                        test = f"{path}::{attr}" + (f"[{'-'.join(str(v) for v in combo.values())}]" if combo else "")
                        calls += [CheckCall(test, path, f, a, k) for f, a, k in rec.calls]
    finally:
        if saved is None:
            os.environ.pop(PROFILE_ENV, None)
        else:
            os.environ[PROFILE_ENV] = saved
    return calls


# --- pools ---------------------------------------------------------------------------------------


def _concat(samples: list[Sample]) -> Sample:
    """Samples of successive pool batches joined (clustered fits: the batches' clusters kept apart)."""
    first = samples[0]
    if first.kind != "clustered":
        return Sample(first.kind, np.concatenate([s.values for s in samples]), first.trials, options=first.options)
    ys, Xs, gs, offset = [], [], [], 0
    for s in samples:
        _, g = np.unique(s.groups, return_inverse=True)
        ys.append(s.y)
        Xs.append(s.X)
        gs.append(g + offset)
        offset += int(g.max()) + 1
    return Sample("clustered", None, 0, np.concatenate(ys), np.concatenate(Xs), np.concatenate(gs), first.options)


@dataclass
class Pool:
    """A check run on many independent replicates: its findings' samples, in the same replicate
    order for every finding with one value per replicate."""

    call: CheckCall
    replicates: int  # replicates of the regime the pool ran (``P``)
    findings: list[Finding]  # the first batch's findings (statistic names, thresholds, relations)
    samples: dict[tuple[str, str, int], Sample]  # (claim, statistic, position) -> sample
    seconds: float
    regime: Any = None
    note: str = ""
    batch_failed: list[bool] = field(default_factory=list)  # per batch, in order: whether the check FAILed on it
    exact_failed: list[bool] = field(default_factory=list)  # per batch, in order: whether one of its exact findings (no sample) FAILed


def _worker_init(profile: str, root: str) -> None:
    """A batch worker: the profile the claim modules read when imported, and one torch thread."""
    import torch

    from fc_check.hypo import PROFILE_ENV

    os.environ[PROFILE_ENV] = profile
    if root not in sys.path:
        sys.path.insert(0, root)
    torch.set_num_threads(1)


def _run_batch(call: CheckCall, replicates: int, seed: int, level: float, device: str) -> list[Finding]:
    out = call.run(replicates, seed, level, device)
    return list(out.parts or out.findings)  # a map's cells, one by one


class BatchRunner:
    """Runs a pool's batches of replicates in ``workers`` processes of one torch thread each.

    On 2 CPU cores one process with two torch threads keeps them about two-thirds busy (the batched
    products are small); two single-threaded processes keep both busy. A batch goes to the worker its
    seed names (``seed mod workers``), so pools that share batches (checks of one model and regime)
    find the memoised runs in the worker that made them. A call that cannot be sent to a process
    (a departure built from a closure) runs here, as do all calls when ``workers`` is 1."""

    def __init__(self, workers: int, profile: str) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = max(1, workers)
        root = str(Path(__file__).resolve().parents[1])
        ctx = multiprocessing.get_context("spawn")  # not fork: the parent's torch thread pool does not survive a fork
        self._pools = [ProcessPoolExecutor(1, mp_context=ctx, initializer=_worker_init, initargs=(profile, root)) for _ in range(self.workers)] \
            if self.workers > 1 else []

    def run(self, call: CheckCall, plan: list[tuple[int, int]], level: float, device: str) -> list[list[Finding]]:
        """The findings of ``call`` on each ``(replicates, seed)`` batch of ``plan``, in order."""
        import pickle

        if self._pools:
            try:
                pickle.dumps(call)
            except (pickle.PicklingError, AttributeError, TypeError):
                pass
            else:
                futures = [self._pools[seed % self.workers].submit(_run_batch, call, b, seed, level, device) for b, seed in plan]
                return [f.result() for f in futures]
        return [_run_batch(call, b, seed, level, device) for b, seed in plan]

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown()


def run_pool(call: CheckCall, replicates: int, batch: int, level: float, device: str, seed0: int = SEED0, seconds: float = math.inf,
             at_least: int = 0, extend: Pool | None = None, runner: BatchRunner | None = None) -> Pool:
    """``call``'s check on ``replicates`` independent replicates, in batches of fresh seeds; it stops
    early, once it has ``at_least`` replicates, when ``seconds`` have passed (checked after each round
    of one batch per worker). ``extend``: a pool of the same call run as one batch from ``seed0`` (a
    probe), whose replicates become the first batch of this one (the next batches take the next seeds,
    so no replicate is run twice). ``runner``: where the batches run (here, by default)."""
    start = time.perf_counter()
    parts: dict[tuple[str, str, int], list[Sample]] = {}
    first: list[Finding] = []
    failed: list[bool] = []
    exact_failed: list[bool] = []
    done, i = 0, 0
    if extend is not None and extend.replicates:
        first, done, i = list(extend.findings), extend.replicates, 1
        parts = {k: [v] for k, v in extend.samples.items()}
        failed = list(extend.batch_failed)
        exact_failed = list(extend.exact_failed)
        start -= extend.seconds
    width = (runner.workers if runner else 1) if math.isfinite(seconds) else 1 << 30
    while done < replicates and not (done >= at_least and time.perf_counter() - start > seconds):
        plan: list[tuple[int, int]] = []
        planned = done
        while planned < replicates and len(plan) < width:
            # a remainder over half a batch is run as a whole batch: pools of different sizes (a probe of R, then
            # batches) then run the same batches and share the memoised runs; the pool holds at least ``replicates``
            b = batch if replicates - planned > batch // 2 else replicates - planned
            plan.append((b, seed0 + i + len(plan)))
            planned += b
        results = runner.run(call, plan, level, device) if runner else [_run_batch(call, b, sd, level, device) for b, sd in plan]
        for (b, _), found in zip(plan, results, strict=True):
            if not first:
                first = list(found)
            for pos, f in enumerate(found):
                if f.sample is not None:
                    parts.setdefault((f.claim, f.statistic, pos), []).append(f.sample)
            failed.append(not all(f.passed for f in found))
            exact_failed.append(any(f.method == "exact" and not f.passed for f in found))
            done += b
            i += 1
    samples = {k: _concat(v) for k, v in parts.items() if len(v) == i}
    return Pool(call, done, first, samples, time.perf_counter() - start, call.regime, batch_failed=failed, exact_failed=exact_failed)


# --- vectorised miss rates of the t family -------------------------------------------------------


def _moments(x: np.ndarray, skew: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per row: mean, sd (ddof 1) and the sample skewness (biased, as Hall's correction uses it;
    None when ``skew`` is False, which saves a third of the work)."""
    m = x.mean(1)
    c = x - m[:, None]
    c2 = c * c  # products, not powers: numpy's float pow is several times slower
    m2 = c2.mean(1)
    s = np.sqrt(m2 * x.shape[1] / (x.shape[1] - 1))
    if not skew:
        return m, s, None
    c2 *= c
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(m2 > 0, c2.mean(1) / m2**1.5, 0.0)
    return m, s, g


def _studentised(m: np.ndarray, s: np.ndarray, n: int, ref: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = math.sqrt(n) * (m - ref) / s
    return np.where(s > 0, t, np.where(m > ref, np.inf, np.where(m < ref, -np.inf, 0.0)))


def hall_transform(t: np.ndarray, g: np.ndarray, n: int) -> np.ndarray:
    """Hall's (1992) monotone cubic transformation of the studentised mean, removing the first-order
    effect of skewness: ``t + a t^2 + a^2 t^3 / 3 + g / (6 sqrt n)`` with ``a = g / (3 sqrt n)``."""
    a = g / (3 * math.sqrt(n))
    with np.errstate(invalid="ignore", over="ignore"):
        out = t + a * t**2 + a**2 * t**3 / 3 + g / (6 * math.sqrt(n))
    return np.where(np.isfinite(t), out, t)


P_CAP = 0.2  # tail p-values above this are reported as 1: every level the study measures is at most 0.1


def _tail_p(u: np.ndarray, df: int, crit: float) -> np.ndarray:
    """P(T_df >= u), computed only where it is below ``P_CAP`` (``u > crit``), 1 elsewhere: the t
    distribution function costs about 0.3 microseconds per value and most draws are far from the tail."""
    p = np.ones(u.shape)
    hit = u > crit
    p[hit] = special.stdtr(df, -u[hit])
    return p


def tail_pvalues(x: np.ndarray, ref: float, methods: tuple[str, ...] = ("t",)) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per row of ``x`` (draws x replicates) and per method ('t', 'hall'): the smallest level at which
    the lower bound, and at which the upper bound, of that interval excludes ``ref``. A bound at level
    ``a`` misses exactly when its p-value is below ``a``, so one pass gives the miss rate at every
    level; the rows' moments are computed once for all methods. P-values above ``P_CAP`` are given
    as 1 (no level the study measures is above it)."""
    n = x.shape[1]
    m, s, g = _moments(x, skew="hall" in methods)
    t = _studentised(m, s, n, ref)
    crit = float(sps.t.isf(P_CAP, n - 1))
    out = {}
    for method in methods:
        u = hall_transform(t, g, n) if method == "hall" and g is not None else t
        out[method] = (_tail_p(u, n - 1, crit), _tail_p(-u, n - 1, crit))
    return out


CHUNK_VALUES = 1 << 18  # values per chunk of draws: 2 MB of float64, so that numpy's temporaries are reused, not mapped afresh


def _draw_indices(rng: np.random.Generator, units: int, n: int, draws: int, chunk: int | None = None) -> Iterator[np.ndarray]:
    """``draws`` rows of ``n`` indices into ``units``, in chunks of rows. Chunks of at most
    ``CHUNK_VALUES`` values keep every temporary below the allocator's mapping threshold: chunks of 16 MB
    and more were mapped and unmapped each time, a third of the study's time spent in the kernel."""
    rows = chunk or max(1024, CHUNK_VALUES // max(1, n))
    dtype = np.int32 if units < 2**31 else np.int64
    done = 0
    while done < draws:
        k = min(rows, draws - done)
        yield rng.integers(0, units, size=(k, n), dtype=dtype)
        done += k


def rate(misses: int, draws: int, level: float | None = None) -> dict[str, Any]:
    """A measured miss (or fail) rate with its Clopper-Pearson interval."""
    iv = stats.proportion_interval_by_clopper_pearson(int(misses), int(draws), CP_LEVEL)
    out: dict[str, Any] = {"misses": int(misses), "draws": int(draws), "rate": misses / draws, "ci": [iv.low, iv.high]}
    if level is not None:
        out["level"] = level
        out["ratio"] = (misses / draws) / level
        out["exceeds"] = bool(iv.low > level)  # beyond Monte Carlo error
    return out


def _side_of(f: Finding) -> str:
    rel = f.relation
    return {">=": "lower", ">": "lower", "<=": "upper"}.get(rel, "two-sided")


def _tails_used(side: str) -> tuple[str, ...]:
    return ("lower", "upper") if side == "two-sided" else (side,)


MIN_MISSES = 50  # a calibrated level is chosen from the draws only where it expects this many misses


def calibrated_level(p: np.ndarray, target: float) -> float:
    """The largest level ``a <= target`` at which the share of draws with p-value below ``a`` is at
    most ``target`` less two Monte Carlo standard errors (so that it holds on fresh draws too)."""
    k = target * p.size
    allowed = max(0.0, k - 2.0 * math.sqrt(k))
    idx = int(math.floor(allowed))
    if idx >= p.size:
        return target
    return float(min(target, np.partition(p, idx)[idx]))  # the idx-th smallest, without sorting all draws


# --- one statistic ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a statistic is studied at: the check's replicate count and own level, the bound's side."""

    n: int
    level: float
    side: str  # lower | upper | two-sided (the bound(s) the check uses)
    threshold: Any
    relation: str
    calibrated: tuple[float, float] | None  # the tails the check used (its current table entry)


def _bounds_t(x: np.ndarray, tails: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[1]
    m, s, _ = _moments(x, skew=False)
    se = s / math.sqrt(n)
    lo = m - sps.t.isf(tails[0], n - 1) * se if tails[0] > 0 else np.full(m.shape, -np.inf)
    hi = m + sps.t.isf(tails[1], n - 1) * se if tails[1] > 0 else np.full(m.shape, np.inf)
    return lo, hi


def _passes(lo: np.ndarray, hi: np.ndarray, threshold: Any, relation: str) -> np.ndarray:
    if relation == ">=":
        return lo >= threshold
    if relation == ">":
        return lo > threshold
    if relation == "<=":
        return hi <= threshold
    if relation == "in":
        return (lo >= threshold[0]) & (hi <= threshold[1])
    raise ValueError(f"no vectorised decision for relation {relation!r}")


def _cp_table(n: int, alpha: float, side: str) -> tuple[np.ndarray, np.ndarray]:
    lows, highs = zip(*((iv.low, iv.high) for iv in (stats.proportion_interval_by_clopper_pearson(k, n, alpha, side) for k in range(n + 1))), strict=True)  # type: ignore[arg-type]
    return np.array(lows), np.array(highs)


def _order_bounds(x: np.ndarray, alpha: float, side: str) -> tuple[np.ndarray, np.ndarray]:
    """The order-statistic interval of the median, per row (as ``stats.median_interval_by_order_statistics``)."""
    n = x.shape[1]
    probe = stats.median_interval_by_order_statistics(np.arange(n, dtype=float), alpha, side)  # positions of the bounds
    srt = np.sort(x, 1)
    lo = srt[:, int(probe.low)] if math.isfinite(probe.low) else np.full(len(x), -np.inf)
    hi = srt[:, int(probe.high)] if math.isfinite(probe.high) else np.full(len(x), np.inf)
    return lo, hi


def study_statistic(sample: Sample, f: Finding, tgt: Target, rng: np.random.Generator, draws: int, calibrate_levels: tuple[float, ...]) -> dict[str, Any]:
    """Miss rates of every candidate method for one statistic's pool, and (t family) its calibrated levels.

    Returns a JSON-ready record: the reference and its error, the pool's skewness and excess kurtosis,
    ``miss[method][tail]`` at ``LEVELS`` and the own level, the calibrated levels with their delivered
    rates on independent draws, and the tail figure from the first half of the pool."""
    values = np.asarray(sample.values, dtype=np.float64)
    method = f.method.split(" ")[0]
    out: dict[str, Any] = {"claim": f.claim, "statistic": f.statistic, "method": f.method, "side": tgt.side, "n": tgt.n, "level": tgt.level,
                           "pool": int(values.size), "threshold": f.threshold, "relation": tgt.relation, "kind": sample.kind}
    finite = values[np.isfinite(values)]
    if method in ("t", "paired-t"):
        ref = float(values.mean())
        out.update(reference=ref, reference_se=float(values.std(ddof=1) / math.sqrt(values.size)),
                   skewness=float(sps.skew(values)), excess_kurtosis=float(sps.kurtosis(values)), sd=float(values.std(ddof=1)))
        levels = sorted(set(LEVELS) | {tgt.level})
        p = {m: {"lower": [], "upper": []} for m in ("t", "hall")}
        for idx in _draw_indices(rng, values.size, tgt.n, draws):
            for m, (lo, up) in tail_pvalues(values[idx], ref, tuple(p)).items():
                p[m]["lower"].append(lo.astype(np.float64))
                p[m]["upper"].append(up.astype(np.float64))
        pv = {m: {k: np.concatenate(v) for k, v in d.items()} for m, d in p.items()}
        out["miss"] = {m: {tail: [rate(int((pv[m][tail] < a).sum()), draws, a) for a in levels] for tail in ("lower", "upper")} for m in pv}
        out["miss_two_sided"] = {m: [rate(int(((pv[m]["lower"] < a / 2) | (pv[m]["upper"] < a / 2)).sum()), draws, a) for a in levels] for m in pv}
        # calibrated t levels: chosen on these draws where they hold at least MIN_MISSES expected misses,
        # extrapolated below that (fc_check.levels' rule), and measured on independent draws
        chosen = {}
        for tail in _tails_used(tgt.side):
            direct = {a: calibrated_level(pv["t"][tail], a) for a in calibrate_levels if a * draws >= MIN_MISSES}
            pts = [[a, nom, None] for a, nom in sorted(direct.items())]
            chosen[tail] = {a: direct[a] if a in direct else (level_at(pts, a)[0] if pts else a) for a in calibrate_levels}
        check = {"lower": [], "upper": []}
        for idx in _draw_indices(rng, values.size, tgt.n, draws):
            lo, up = tail_pvalues(values[idx], ref)["t"]
            check["lower"].append(lo)
            check["upper"].append(up)
        fresh = {k: np.concatenate(v) for k, v in check.items()}
        out["calibrated"] = {tail: [{"target": a, "nominal": chosen[tail][a], **rate(int((fresh[tail] < chosen[tail][a]).sum()), draws, a)}
                                    for a in calibrate_levels] for tail in chosen}
        # the levels the check reads now (fc_check.levels' own lookup in the committed table, chosen at the pinned
        # regime): at a weakest regime these, not the ones chosen on its own pool above, are what its verdict is computed at
        read = {tail: [calibrated_tails(f.claim, f.statistic, tgt.n, a, tail)[0] for a in calibrate_levels] for tail in chosen}
        if all(t is not None for ts in read.values() for t in ts):
            nominal = {tail: [t[0 if tail == "lower" else 1] for t in ts] for tail, ts in read.items()}  # type: ignore[index]
            out["table_levels"] = {tail: [{"target": a, "nominal": nom, **rate(int((fresh[tail] < nom).sum()), draws, a)}
                                          for a, nom in zip(calibrate_levels, nominal[tail], strict=True)] for tail in chosen}
        half = values[: values.size // 2]
        hp = []
        for idx in _draw_indices(rng, half.size, tgt.n, draws):
            lo, up = tail_pvalues(half[idx], float(half.mean()))["t"]
            hp.append(lo if tgt.side == "lower" else up if tgt.side == "upper" else np.minimum(lo, up) * 2)
        hpv = np.concatenate(hp)
        out["half_pool"] = [rate(int((hpv < a).sum()), draws, a) for a in levels]
    elif method == "clopper-pearson" and sample.kind == "values":
        ref = float(values.mean())
        out.update(reference=ref, reference_se=math.sqrt(ref * (1 - ref) / values.size))
        miss = {}
        for a in sorted(set(LEVELS) | {tgt.level}):
            lows, highs = _cp_table(tgt.n, a, tgt.side)
            count = 0
            for idx in _draw_indices(rng, values.size, tgt.n, draws):
                k = values[idx].sum(1).astype(np.int64)
                count += int(((lows[k] > ref) | (highs[k] < ref)).sum())
            miss[a] = rate(count, draws, a)
        out["miss"] = {"clopper-pearson": {tgt.side: list(miss.values())}}
    elif method == "clopper-pearson" and sample.kind == "counts":
        trials = sample.trials
        ref = float(values.sum() / (values.size * trials))
        out.update(reference=ref, reference_se=math.sqrt(ref * (1 - ref) / (values.size * trials)))
        miss = {}
        for a in sorted(set(LEVELS) | {tgt.level}):
            count, done = 0, 0
            for idx in _draw_indices(rng, values.size, tgt.n, min(draws, 20_000)):
                for k in values[idx].sum(1).astype(np.int64):
                    iv = stats.proportion_interval_by_clopper_pearson(int(k), tgt.n * trials, a, tgt.side)  # type: ignore[arg-type]
                    count += int(iv.low > ref or iv.high < ref)
                done += len(idx)
            miss[a] = rate(count, done, a)
        out["miss"] = {"clopper-pearson": {tgt.side: list(miss.values())}}
    elif method == "order-statistics":
        ref = float(np.median(values))
        out.update(reference=ref, censored_share=float(np.isinf(values).mean()), finite=int(finite.size))
        miss = {}
        for a in sorted(set(LEVELS) | {tgt.level}):
            count = 0
            for idx in _draw_indices(rng, values.size, tgt.n, draws):
                lo, hi = _order_bounds(values[idx], a, tgt.side)
                count += int(((lo > ref) | (hi < ref)).sum())
            miss[a] = rate(count, draws, a)
        out["miss"] = {"order-statistics": {tgt.side: list(miss.values())}}
    else:
        out["not_studied"] = f"no resampling rule for {f.method!r} with one value per replicate"
    return out


def fail_rate_of_call(pool: Pool, targets: dict[tuple[str, str, int], Target], new_tails: dict[tuple[str, str, int], tuple[float, float]],
                      rng: np.random.Generator, draws: int) -> dict[str, Any]:
    """P(the check FAILs on a fresh seed) at its own level, from ``draws`` draws of ``R`` replicates
    of the pool: jointly over the findings with one value per replicate of the same length (the same
    replicates in a draw; findings of other lengths are added by the union bound). Findings that are
    not one number per replicate (fits) are measured on disjoint groups by ``group_study``."""
    by_units: dict[int, list[tuple[str, str, int]]] = {}
    for k, s in pool.samples.items():
        # "counts": one count of successes out of ``trials`` per replicate (Lemma 1.2's exceedance frequency)
        if s.kind in ("values", "counts") and k in targets:
            by_units.setdefault(int(np.asarray(s.values).size), []).append(k)
    per_finding: dict[str, int] = {}
    # the Clopper-Pearson bounds for every possible count, per finding: one table, not one per chunk of draws
    cp_tables = {k: _cp_table(targets[k].n * (pool.samples[k].trials if pool.samples[k].kind == "counts" else 1), targets[k].level, targets[k].side)
                 for g in by_units.values() for k in g if pool.findings[k[2]].method.split(" ")[0] == "clopper-pearson"}
    fails = 0
    for units, group in by_units.items():
        n = targets[group[0]].n
        for idx in _draw_indices(rng, units, n, draws):
            chunk = np.zeros(len(idx), dtype=bool)
            for k in group:
                tgt = targets[k]
                x = np.asarray(pool.samples[k].values)[idx]
                method = pool.findings[k[2]].method.split(" ")[0]
                if method in ("t", "paired-t"):
                    share = tgt.level / 2 if tgt.side == "two-sided" else tgt.level
                    tails = new_tails.get(k) or tgt.calibrated or (share, share)
                    tails = (tails[0] if tgt.side != "upper" else 0.0, tails[1] if tgt.side != "lower" else 0.0)
                    lo, hi = _bounds_t(x, tails)
                elif method == "clopper-pearson":
                    lows, highs = cp_tables[k]
                    c = x.sum(1).astype(np.int64)  # successes in the draw: of n replicates, or of n x trials for counts
                    lo, hi = lows[c], highs[c]
                elif method == "order-statistics":
                    lo, hi = _order_bounds(x, tgt.level, tgt.side)
                else:
                    continue
                fail = ~_passes(lo, hi, tgt.threshold, tgt.relation)
                name = f"{k[0]} | {k[1]}"
                per_finding[name] = per_finding.get(name, 0) + int(fail.sum())
                chunk |= fail
            fails += int(chunk.sum())
    if not by_units:
        return {}
    return {"any": rate(min(fails, draws), draws), "union_of_groups": len(by_units) > 1, "findings": {k: rate(v, draws) for k, v in per_finding.items()}}


def _interval_of(f: Finding) -> stats.Interval:
    side = {">=": "lower", ">": "lower", "<=": "upper"}.get(f.relation, "two-sided")
    return stats.Interval(f.estimate, f.ci_low, f.ci_high, f.level, f.method, f.replicates, side, f.nominal, f.sample)


def _decides(iv: stats.Interval, f: Finding) -> bool:
    """Whether the interval passes the finding's claim (its threshold and relation)."""
    thr, rel = f.threshold, f.relation
    if rel == "contains":
        half = (iv.high - iv.low) / 2
        return bool(iv.contains(thr["contains"]) and half <= thr.get("max_half_width", math.inf))
    if rel == "in":
        return iv.inside(*thr)
    if rel == ">":
        return bool(iv.low > thr)
    if rel == ">=":
        return iv.clears_lower(thr)
    if rel == "<=":
        return iv.clears_upper(thr)
    raise ValueError(f"unknown relation {rel!r}")


def group_study(sample: Sample, f: Finding, tgt: Target, relaxed: float, groups: int, resample: bool = False) -> dict[str, Any]:
    """A statistic that is not one number per replicate (a clustered fit or trend): the check's
    method on ``groups`` disjoint groups of ``n`` replicates of the pool (each a fresh seed), at the
    relaxed level ``relaxed`` (miss rate against the whole pool's estimate) and at the check's own
    level (how often the check FAILs). ``resample``: the groups are drawn with replacement from the
    pool instead (as the per-replicate study draws its batches), where fresh groups cost too much."""
    iv = _interval_of(f)
    units = sample.replicates
    g = groups if resample else min(groups, units // tgt.n)
    out: dict[str, Any] = {"claim": f.claim, "statistic": f.statistic, "method": f.method, "side": tgt.side, "n": tgt.n, "level": tgt.level,
                           "pool": units, "groups": g, "threshold": f.threshold, "relation": tgt.relation, "kind": sample.kind,
                           "groups_drawn": "with replacement from the pool (its law is the truth)" if resample else "disjoint (fresh seeds)"}
    if g < 2:
        out["not_studied"] = f"pool of {units} replicates holds fewer than two groups of {tgt.n}"
        return out
    whole = stats.interval_again(replace(iv, sample=sample), np.arange(units), relaxed)
    pick = 0 if len(whole) == 1 else int(np.argmin([abs(w.estimate - f.estimate) for w in stats.interval_again(iv, np.arange(iv.sample.replicates), relaxed)]))  # type: ignore[union-attr]
    ref = whole[pick].estimate
    out.update(reference=ref, reference_se=(whole[pick].high - whole[pick].low) / (2 * sps.norm.ppf(1 - relaxed / 2)))
    miss = fail = 0
    estimates, failed = [], []
    rng = np.random.default_rng(SEED0)
    for i in range(g):
        sel = rng.integers(0, units, tgt.n) if resample else np.arange(i * tgt.n, (i + 1) * tgt.n)
        relaxed_iv = stats.interval_again(replace(iv, sample=sample), sel, relaxed)[pick]
        own = stats.interval_again(replace(iv, sample=sample), sel, tgt.level)[pick]
        estimates.append(relaxed_iv.estimate)
        miss += not relaxed_iv.contains(ref) if tgt.side == "two-sided" else (relaxed_iv.low > ref if tgt.side == "lower" else relaxed_iv.high < ref)
        failed.append(not _decides(own, f))
        fail += failed[-1]
    out["miss_relaxed"] = rate(miss, g, relaxed)
    out["fail_own_level"] = rate(fail, g)
    out["failed_groups"] = failed
    out["spread"] = float(np.std(estimates, ddof=1))
    return out


# --- the study -------------------------------------------------------------------------------------

# Pool sizes (in units of the check's R) and fresh-seed groups declared per test where the profile's
# would cost too much on 2 CPU cores, with the reason; None keeps the profile's figure.
POOL_SIZES: dict[str, dict[str, tuple[int | None, int | None] | tuple[int | None, int | None, str]]] = {
    # 100 000 samples per replicate in float64: about 0.2 s per replicate (each statistic a mean of 100 000 terms)
    "theorems/test_lemma_1_1.py": {"ci": (4, None), "default": (4, None)},
    # a 51 200-sample population and 600 batches per replicate in float64: about 0.3 s per replicate (200 fresh
    # groups of 16 would take 16 minutes under ci): the fits' groups are drawn with replacement from the pool.
    # 1500 resampled groups per fit, not 200: with none failing, 200 groups bound each fit's fresh-seed
    # fail rate only by 0.018 (Clopper-Pearson), and the three fits alone took the suite's union past 1e-2;
    # 1500 bound each by 0.0025. Resampled groups cost a fit each, not a training run.
    # Under default, 200 fresh groups of 24 would take about 25 minutes (and 32 R replicates 4): 8 R, resampled groups.
    "theorems/test_lemma_1_2.py": {"ci": (4, 1500, "resampled"), "default": (8, 1500, "resampled")},
    # four training runs (k_bg = 4, 8, 16, 24) per replicate: 1024 replicates took 231 s under ci
    # (200 fresh groups of 24 under default: 19 200 replicates, over an hour)
    "theorems/test_theorem_4_3.py::test_ood_error_grows_with_background": {"ci": (8, 1500, "resampled"), "default": (8, 1500, "resampled")},
    # six training runs (one per LeakyReLU slope) per replicate: 800 replicates took 307 s under ci
    "properties/test_dose_response.py": {"ci": (4, 1500, "resampled"), "default": (4, 1500, "resampled")},
    # four times the profile's replicates per check, 6000 steps each
    "theorems/test_theorem_4_1.py::test_persistence": {"ci": (8, None), "default": (8, None)},
    # eight times the profile's replicates per check (128 under ci): a 64 R pool (8192 paper-regime runs of 6000 steps)
    # would cost twelve minutes of 2 cores; a 16 R pool (2048, 128 x the profile's R) shares its batches with the other
    # Theorem 4.2 checks' 64 R pools
    # (under default 16 R = 3072, 128 x the profile's R, shared likewise)
    "theorems/test_theorem_4_2.py::test_background_tracks_asymmetry": {"ci": (16, None), "default": (16, None)},
    # two 6000-step runs (U[0,1] and U[-1,1]) per replicate: 1024 replicates took 137 s under ci
    "properties/test_controls.py::test_zero_mean_background": {"ci": (8, None), "default": (8, None)},
    # the maps' inside cells: two cells of 6000 steps (contamination, OOD gap); persistence (128 replicates
    # per cell, 3840 steps) and onset (128 replicates per cell, T0 runs) are pooled under default only
    "maps/test_contamination.py": {"ci": (4, None), "default": (4, None)},
    "maps/test_ood_gap.py": {"ci": (4, None), "default": (4, None)},
}


def _pool_size(call: CheckCall, study: StudyProfile) -> tuple[int, int, bool]:
    """(pool factor, groups for the fits, whether those groups are drawn from the pool) for a call under the study profile."""
    factor = study.heavy_pool_factor if call.heavy else study.pool_factor
    groups = study.heavy_groups if call.heavy else study.groups
    resample = False
    for prefix, sizes in POOL_SIZES.items():
        if call.test.startswith(prefix) and study.name in sizes:
            f, g, *how = sizes[study.name]
            factor, groups = f if f is not None else factor, g if g is not None else groups
            resample = how == ["resampled"]
    return factor, groups, resample


# Replicates per simulator call where a check's memory grows fast with them (the default is the
# study profile's ``batch``): Lemma 1.1 holds 100 000 samples per replicate, Lemma 1.2 a 51 200-sample
# population and 100 batches per size per replicate, in float64.
# The no-spurious-correlation control draws 80 000 samples per replicate.
POOL_BATCH = {"theorems/test_lemma_1_1.py": 16, "theorems/test_lemma_1_2.py": 32, "properties/test_controls.py": 128}
# Pools run in this process (two torch threads) rather than in the worker processes: the lemmas'
# float64 sample arithmetic is bound by memory bandwidth, and two processes sharing it were slower
# (under ci the four lemma pools took 141 s in two workers; 81 s in this process an hour earlier, and
# 122 s in it on the same host while it lost 10-20% of the CPU to steal time).
IN_PROCESS = ("theorems/test_lemma_1_1.py", "theorems/test_lemma_1_2.py")

# Checks whose pinned regime is too costly to pool at full size: the study runs the same check on a
# smaller regime of the same kind, declared here with its reason (the method under study is the same).
STUDY_REGIMES: dict[str, tuple[Callable[[Any], Any], str]] = {
    "theorems/test_theorem_4_1.py::test_t0_scaling": (
        # every point of the small grid (no eps cap): the method is measured against the pool's own fit, not the theory's exponents
        lambda g: replace(g, m=(64, 128), eta=(0.01, 0.02), log2_d=(14, 16), replicates=24, max_eps=None),
        "the clustered OLS fit of log T0 is studied on a 2 x 2 x 2 grid with 24 replicates per group: the pinned 17-point grid with 96 "
        "replicates costs 1-2 minutes of 2 CPU cores per seed, 200 fresh seeds several hours"),
}


def _targets(pool: Pool, R: int, level: float) -> dict[tuple[str, str, int], Target]:
    out = {}
    for k, s in pool.samples.items():
        f = pool.findings[k[2]]
        n = max(2, int(round(s.replicates * R / pool.replicates)))
        out[k] = Target(n, level, _side_of(f) if f.relation != "contains" else "two-sided", f.threshold, f.relation, f.nominal)
    return out


def _calibration_targets(level: float, side: str) -> tuple[float, ...]:
    share = 0.5 if side == "two-sided" else 1.0
    return tuple(sorted({a * share for a in LEVELS} | {level * share}))


def relevant_skew(rec: dict[str, Any]) -> float:
    """How strongly a statistic's skewness works against its bound (upper bounds: right skew)."""
    g = rec.get("skewness", 0.0) or 0.0
    return g if rec["side"] == "upper" else -g if rec["side"] == "lower" else abs(g)


def study_call(call: CheckCall, study: StudyProfile, level: float, device: str, rng: np.random.Generator, log: Callable[[str], None],
               regime: Any = None, label: str = "pinned", wanted: list[str] | None = None, runner: BatchRunner | None = None) -> dict[str, Any]:
    """Pool one check call (at its pinned regime, or ``regime``) and study every statistic it asserts on."""
    note = ""
    if regime is not None:
        call = call.with_regime(regime)
    elif call.test in STUDY_REGIMES:
        shrink, note = STUDY_REGIMES[call.test]
        call = call.with_regime(shrink(call.regime))
    R = call.regime.replicates
    factor, groups, resample = _pool_size(call, study)
    batch = POOL_BATCH.get(call.module, study.batch)
    probe = run_pool(call, min(R, batch), batch, level, device)
    if wanted is not None and not set(_claims_of(probe)) & set(wanted):
        return {"call": call, "pool": probe, "targets": {}, "records": [], "pool_seconds": probe.seconds, "label": label}
    if not probe.samples:  # exact identities: nothing to calibrate
        return {"call": call, "pool": probe, "targets": {}, "records": [], "pool_seconds": probe.seconds, "label": label}
    clustered = any(s.kind == "clustered" for s in probe.samples.values())
    total = max(factor, groups if clustered and not resample else 0) * R
    pool = run_pool(call, total, batch, level, device, seconds=study.pool_seconds, at_least=4 * R, extend=probe,
                    runner=None if call.module in IN_PROCESS else runner)
    if pool.replicates < total:
        total = pool.replicates
        note = (note + "; " if note else "") + f"pool cut to {total} replicates ({total // R} x R) by the profile's {study.pool_seconds:g} s per pool"
    log(f"  {call.test} [{label}]: pool of {total} replicates in {pool.seconds:.1f} s")
    targets = _targets(pool, R, level)
    recs = []
    for k, s in pool.samples.items():
        f, tgt = pool.findings[k[2]], targets[k]
        if s.kind == "clustered":
            rec = group_study(s, f, tgt, 0.1, groups, resample) if groups else {"claim": f.claim, "statistic": f.statistic, "not_studied": "no fresh-seed groups under this profile (cost)"}
        else:
            rec = study_statistic(s, f, tgt, rng, study.draws, _calibration_targets(level, tgt.side))
        rec.update(test=call.test, regime=_plain(call.regime), regime_kind=label, key=list(k))
        if note:
            rec["study_regime_note"] = note
        recs.append(rec)
    return {"call": call, "pool": pool, "targets": targets, "records": recs, "pool_seconds": pool.seconds, "label": label}


def _plain(regime: Any) -> dict[str, Any]:
    from dataclasses import asdict

    d = asdict(regime)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if isinstance(v, int | float | str | bool | tuple | type(None))}


def new_table_entries(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Calibrated-level entries for every t-family statistic whose plain bound the study found to
    miss more often than its level (at any measured target, at the pinned or the weakest regime):
    ``fc_check.levels`` reads them. Where both regimes were studied, each target takes the smaller
    of the two chosen levels (a check reads one level whatever its regime, so it must hold at both),
    and the delivered figure is the larger of the two measured miss rates (each measured at its own
    regime's choice, so at the smaller level it misses no more often)."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        if rec.get("calibrated") and rec.get("regime_kind") in ("pinned", "weakest"):
            by_key.setdefault(level_key(rec["claim"], rec["statistic"], rec["n"]), []).append(rec)
    out = {}
    for k, recs in by_key.items():
        # only a bound the study found to miss more often than its level, beyond Monte Carlo error
        if not any(x.get("exceeds") for rec in recs for tail in rec["calibrated"] for x in rec["miss"]["t"][tail]):
            continue
        pinned = next((r for r in recs if r["regime_kind"] == "pinned"), recs[0])
        entry: dict[str, Any] = {}
        for tail, pts in pinned["calibrated"].items():
            rows = []
            for p in pts:
                same = [q for r in recs for q in r["calibrated"].get(tail, []) if math.isclose(q["target"], p["target"])]
                rows.append([p["target"], min(q["nominal"] for q in same), max(q["rate"] for q in same)])
            entry[tail] = rows
        out[k] = entry | {"pool": pinned["pool"], "regime": pinned["regime"], "claim": pinned["claim"],
                          "regimes": [r["regime_kind"] for r in recs]}
    return out


def regime_like(pinned: Any, recorded: dict[str, Any]) -> Any:
    """The pinned regime (a frozen dataclass) with the fields a verdict recorded for another regime
    (its ``regime``), keeping the pinned replicate count and seed. A record also holds derived
    figures (``eps``, counts, ranges): only the dataclass's own init fields are taken, and only
    values of the field's kind (a map records its axes as text, ``x = 'slope [0, 0.5, 1]'``: its
    grid is not rebuilt from them, and the pinned grid comes back). Raises ``ValueError`` when the
    record names none of the fields (it is not a regime of this check)."""
    own = {f.name for f in fields(pinned) if f.init}
    named = {k: v for k, v in recorded.items() if k in own and k not in ("replicates", "seed")}
    if not named:
        raise ValueError(f"the recorded regime shares no field with {type(pinned).__name__}")
    taken = {k: tuple(v) if isinstance(v, list) else v for k, v in named.items() if _same_kind(getattr(pinned, k), v)}
    return replace(pinned, **taken)


def _same_kind(current: Any, value: Any) -> bool:
    """Whether a recorded value can stand for a field's current one (numbers for numbers, text for text, sequences for tuples)."""
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, int | float):
        return isinstance(value, int | float)
    if isinstance(current, str):
        return isinstance(value, str)
    if isinstance(current, tuple):
        return isinstance(value, list | tuple)
    return False


def _claims_of(pool: Pool) -> list[str]:
    return list(dict.fromkeys(f.claim for f in pool.findings))


def departures_named(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as a tuple, once each is checked to name a departure; ``ValueError`` names the unknown ones."""
    from fc_check.departures import DEPARTURES

    known = [d.name for d in DEPARTURES]
    names = tuple(names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"no departure named {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    return names


def run_study(profile: str, *, claims: tuple[str, ...] = (), device: str = "cpu", weakest: dict[str, dict[str, Any]] | None = None,
              log: Callable[[str], None] = print, seed: int = 0, workers: int = 1, heavy: bool = True,
              power: bool = True, power_along: tuple[str, ...] | None = None, power_strengths: tuple[float, ...] | None = None) -> dict[str, Any]:
    """The whole study under ``profile``: see the module docstring. ``claims``: ids or id prefixes to
    study (all when empty); ``weakest``: claim id -> the regime (a verdict's ``regime``) of the weakest
    verdict a run found, studied beside the pinned one. ``heavy=False`` leaves the costly families
    (``HEAVY_MODULES``) and their departures out, as the ``ci`` study does, and says so per claim;
    ``power=False`` leaves out the power study (its record is then ``None``, not an empty list);
    ``power_along``: the departures (by name) whose power is measured, in place of the profile's
    (``ci`` studies five, to stay within its wall time); an unknown name raises ``ValueError``.
    ``power_strengths``: with exactly one departure in ``power_along``, the strengths measured in
    place of its declared grid (bisection toward 0.9 still follows where they bracket it)."""
    from fc_check.budget import DEFAULT_ALPHA, PROFILES, ErrorBudget
    from fc_check.catalogue import CLAIMS

    start = time.perf_counter()
    study = STUDIES[profile] if heavy else replace(STUDIES[profile], heavy_pool_factor=0, heavy_groups=0)
    if power_along is not None:  # named departures: every test along them (the profile's cost cuts are for its own set)
        study = replace(study, power_departures=departures_named(power_along), power_skip=())
    if power_strengths is not None:
        if power_along is None or len(set(power_along)) != 1:
            raise ValueError("power_strengths needs exactly one departure named in power_along")
        if not power_strengths or not all(math.isfinite(x) for x in power_strengths):
            raise ValueError(f"power_strengths must be finite numbers, got {power_strengths!r}")
        study = replace(study, power_strengths=tuple(sorted(set(power_strengths))))
    level = ErrorBudget.for_profile(DEFAULT_ALPHA, PROFILES[profile]).per_assertion
    wanted = [c for c in CLAIMS if not claims or any(c == p or c.startswith(p.rstrip("/") + "/") or c.startswith(p) for p in claims)]
    modules = sorted({CLAIMS[c].module for c in wanted})
    calls = discover(profile, modules)
    rng = np.random.default_rng(seed)
    runner = BatchRunner(workers if device == "cpu" else 1, profile)  # on a GPU one process holds the device
    studied: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    undecided: set[str] = set()  # tests whose checks decide none of the wanted claims
    for call in calls:
        if call.heavy and study.heavy_pool_factor == 0:  # under ci a pool of these costs minutes per check: the default study pools them
            why = (f"not pooled under --profile {profile} ({call.module}: seconds to minutes per replicate batch); python -m fc_check.calibrate --profile default pools it"
                   if STUDIES[profile].heavy_pool_factor == 0 else
                   f"not pooled in this study (--no-heavy; {call.module}: seconds to minutes per replicate batch); python -m fc_check.calibrate --profile {profile} pools it")
            skipped += [{"claim": c, "statistic": "", "why": why} for c in CLAIMS if CLAIMS[c].module == call.module and c in wanted]
            continue
        res = study_call(call, study, level, device, rng, log, wanted=wanted, runner=runner)
        if not set(_claims_of(res["pool"])) & set(wanted):
            undecided.add(call.test)
            continue
        studied.append(res)
        for cid in _claims_of(res["pool"]):
            regime = (weakest or {}).get(cid)
            if regime is None:
                continue
            try:
                alt = regime_like(call.regime, regime)
            except (TypeError, ValueError) as exc:
                log(f"  {call.test}: weakest regime of {cid} not rebuilt ({exc})")
                continue
            if alt != call.regime:
                studied.append(study_call(call, study, level, device, rng, log, regime=alt, label="weakest", runner=runner))
            break
    records = [r for res in studied for r in res["records"] if r["claim"] in wanted]
    # the most skewed statistics (against their bound) again, with ten times the draws, for the own level
    per_rep = [r for r in records if "skewness" in r and r["regime_kind"] == "pinned"]
    for rec in sorted(per_rep, key=relevant_skew, reverse=True)[: study.tail_statistics]:
        res = next(x for x in studied if x["call"].test == rec["test"] and x is not None and any(r is rec for r in x["records"]))
        k = tuple(rec["key"])
        again = study_statistic(res["pool"].samples[k], res["pool"].findings[k[2]], res["targets"][k], rng, study.tail_draws, _calibration_targets(level, rec["side"]))
        rec.update({**again, "tail": True, "draws": study.tail_draws})
    entries = new_table_entries(records)
    # fresh-seed fail rates, with the calibrated levels this study chose (the same at either regime: a check reads one)
    tails_now: dict[tuple[str, str, int], tuple[float, float]] = {}
    for rec in records:
        entry = entries.get(level_key(rec["claim"], rec["statistic"], rec["n"]))
        if entry:
            share = level * (0.5 if rec["side"] == "two-sided" else 1)
            lo = next((nom for t, nom, _ in entry.get("lower", []) if math.isclose(t, share)), 0.0)
            hi = next((nom for t, nom, _ in entry.get("upper", []) if math.isclose(t, share)), 0.0)
            tails_now[(rec["claim"], rec["statistic"], rec["key"][2])] = (lo, hi)
    fail: dict[str, dict[str, Any]] = {}
    for res in studied:
        if not res["records"]:
            continue
        label = res["records"][0]["regime_kind"]
        substituted = res["call"].test in STUDY_REGIMES and label == "pinned"
        fr = fail_rate_of_call(res["pool"], res["targets"], dict(tails_now), rng, study.draws)
        for cid in _claims_of(res["pool"]):
            if cid not in wanted:
                continue
            parts = fail.setdefault(cid, {}).setdefault(label, {"tests": [], "rate": 0.0, "upper": 0.0})
            parts["tests"].append(res["call"].test)
            if substituted:  # the study ran a smaller regime: its fail rate is not the pinned check's
                parts["not_measured"] = STUDY_REGIMES[res["call"].test][1]
                continue
            if fr:
                parts["rate"] += fr["any"]["rate"]
                parts["upper"] += fr["any"]["ci"][1]
                parts["draws"] = fr["any"]["draws"]
            fits = [r for r in res["records"] if r["claim"] == cid and "failed_groups" in r]
            if fits:  # the findings of one fit are measured on the same groups: a group fails if any of them does
                g = min(len(r["failed_groups"]) for r in fits)
                joint = rate(sum(any(r["failed_groups"][i] for r in fits) for i in range(g)), g)
                parts["rate"] += joint["rate"]
                parts["upper"] += joint["ci"][1]
                parts["groups"] = g
            if not fr and not fits:  # nothing measured: say so rather than report a rate of 0 with an upper bound of 0
                parts["not_measured"] = "its findings have no fresh-seed resampling rule in this study"
            parts["rate"], parts["upper"] = min(1.0, parts["rate"]), min(1.0, parts["upper"])
    union = {label: {"rate": sum(v[label]["rate"] for v in fail.values() if label in v), "upper": sum(v[label]["upper"] for v in fail.values() if label in v)}
             for label in ("pinned", "weakest")}
    not_calibrated = [{"claim": r["claim"], "statistic": r["statistic"], "why": r["not_studied"]} for r in records if "not_studied" in r]
    studied_claims = {r["claim"] for r in records}
    firsts: dict[str, dict[str, Any]] = {}
    for d in skipped:  # a skipped test's module may hold claims that other tests did pool
        if d["claim"] not in studied_claims:
            firsts.setdefault(d["claim"], d)
    not_calibrated += list(firsts.values())
    studied_claims |= set(firsts)
    not_calibrated += [{"claim": c, "statistic": "", "why": "no interval with a per-replicate sample (an exact identity, or a check the study does not reach)"}
                       for c in wanted if c not in studied_claims]
    power_curves = None
    if power:
        log("power along the departures")
        # every check call at its pinned regime (the costly families too where this study takes them: under
        # default, or under ci when departures are named), with the pinned pool where the study ran one: it
        # says whether the check's findings carry per-replicate samples (else power is measured on whole runs)
        known = {r["call"].test: r["pool"] for r in studied if r["label"] == "pinned"}
        power_curves = power_study([c for c in calls if c.test not in undecided], study, level, device, rng, log,
                                   wanted, heavy=heavy and (profile != "ci" or power_along is not None), runner=runner, known=known)
    runner.close()
    return {"profile": profile, "level": level, "study": {k: getattr(study, k) for k in study.__dataclass_fields__}, "heavy": heavy, "statistics": records, "power": power_curves,
            "levels_table": entries, "fresh_seed_fail": fail, "union": union, "not_calibrated": not_calibrated,
            "pools": [{"test": r["call"].test, "replicates": r["pool"].replicates, "seconds": round(r["pool_seconds"], 1), "regime": _plain(r["call"].regime)} for r in studied],
            "wall_s": round(time.perf_counter() - start, 1)}


# --- power along each claim family's departure --------------------------------------------------


def _analytic_fail(rec: dict[str, Any], tgt: Target, tails: tuple[float, float] | None) -> float | None:
    """P(FAIL) of one t-family finding from the noncentral t at the pool's mean and sd (None otherwise)."""
    sd, mean = rec.get("sd"), rec.get("reference")
    if sd is None or mean is None or not math.isfinite(mean) or not sd >= 0:
        return None
    rel, thr = tgt.relation, tgt.threshold
    if sd == 0:  # every replicate the same: the interval is the point, and the check's verdict is certain
        clears = {">=": lambda: mean >= thr, ">": lambda: mean > thr, "<=": lambda: mean <= thr, "in": lambda: thr[0] <= mean <= thr[1]}.get(rel)
        return None if clears is None else 0.0 if clears() else 1.0
    n, df = tgt.n, tgt.n - 1
    share = tgt.level / 2 if tgt.side == "two-sided" else tgt.level
    lo_t, hi_t = tails or (share, share)
    se = sd / math.sqrt(n)

    def p_above(bound_level: float, thr: float) -> float:  # P(mean - crit se >= thr)
        return float(sps.nct.sf(sps.t.isf(bound_level, df), df, (mean - thr) / se))

    def p_below(bound_level: float, thr: float) -> float:  # P(mean + crit se <= thr)
        return float(sps.nct.cdf(-sps.t.isf(bound_level, df), df, (mean - thr) / se))

    if rel in (">=", ">"):
        return 1 - p_above(lo_t, thr)
    if rel == "<=":
        return 1 - p_below(hi_t, thr)
    if rel == "in":
        return min(1.0, (1 - p_above(lo_t, thr[0])) + (1 - p_below(hi_t, thr[1])))
    return None


def _unsampled(pool: Pool) -> bool:
    """Whether the pool's check must be measured on whole runs: it has a finding with no per-replicate
    sample that is not an exact identity (a boundary's crossing), or exact identities only.

    Exact findings beside sampled ones (Figure 1's "family (i)'s drop is exactly 0") do not force whole
    runs: such a finding bounds the largest discrepancy over the replicates, so if it held on every
    batch of the pool it holds on every draw of the pool's replicates, and the check's P(FAIL) is its
    sampled findings' (``_power_point`` checks that it held; where it did not, that strength is run
    whole). Before, one exact finding sent the whole check to 200 whole runs per strength: Figure 1's
    first strength had not finished after 41 minutes on 2 cores."""
    sampled = {k[2] for k in pool.samples}
    unsampled = [f for pos, f in enumerate(pool.findings) if pos not in sampled]
    return bool(unsampled) and (not sampled or any(f.method != "exact" for f in unsampled))


def _exact_positions(pool: Pool) -> list[int]:
    """Positions of the pool's exact findings that have no per-replicate sample."""
    sampled = {k[2] for k in pool.samples}
    return [pos for pos, f in enumerate(pool.findings) if pos not in sampled and f.method == "exact"]


def draws_cell_pools(call: CheckCall) -> bool:
    """Whether ``call``'s check takes ``pools`` (``fc_check.boundaries.CellPools``): a boundary, whose
    P(FAIL) is measured on runs that draw their cells from a pool per axis value."""
    try:
        return "pools" in inspect.signature(call.fn).parameters
    except (TypeError, ValueError):  # a callable without a signature
        return False


def runs_on_cell_pools(call: CheckCall, runs: int, size: int, level: float, device: str, seed0: int) -> tuple[list[Finding], list[bool], CellPools, float]:
    """``runs`` runs of a boundary's check (seeds ``seed0 + 1`` on) whose cells are drawn from one
    ``CellPools`` of ``size`` replicates per axis value, shared by the runs: the first run's findings,
    whether each run FAILed, the pools and the seconds taken. The runs differ only in which replicates
    their batches draw; each axis value a run visits is run once, here, for all of them."""
    from fc_check.boundaries import CellPools

    start = time.perf_counter()
    pools = CellPools(size, seed0)
    drawn = replace(call, kwargs={**call.kwargs, "pools": pools})
    first: list[Finding] = []
    failed: list[bool] = []
    for i in range(runs):
        out = drawn.run(call.regime.replicates, seed0 + 1 + i, level, device)
        found = list(out.parts or out.findings)
        first = first or found
        failed.append(not all(f.passed for f in found))
    return first, failed, pools, time.perf_counter() - start


def _power_point(call: CheckCall, dep: Any, s: float, refined: bool, study: StudyProfile, level: float, device: str, rng: np.random.Generator,
                 log: Callable[[str], None], wanted: list[str], runner: BatchRunner | None, sampled: bool | None = True) -> tuple[list[str], dict[str, Any]] | None:
    """P(FAIL) of ``call``'s check on its model moved by ``dep`` to strength ``s``, from a pool at that
    strength (with the claims it decides among ``wanted``), or None when it decides none of them.
    ``sampled``: whether the check's findings all carry per-replicate samples (None: unknown, and one
    run of the check at its ``R`` tells). A check with findings that do not is measured on whole runs:
    P(FAIL) is the share of ``power_runs`` fresh-seed runs at its own ``R`` on which it FAILs; a
    boundary's runs draw their cells from pools per axis value (``runs_on_cell_pools``). Exact
    findings beside sampled ones are checked on every batch of the pool (see ``_unsampled``): where
    one FAILed on some batch, the strength is measured on whole runs instead."""
    R = call.regime.replicates
    moved = dep.apply(call, s)
    probe = None
    tag = f"  power {dep.name} s = {s:g}{' (refined)' if refined else ''}: {call.test}"

    def whole_runs(probe: Pool | None, why: str = "") -> tuple[list[str], dict[str, Any]] | None:
        runs = run_pool(moved, study.power_runs * R, R, level, device, seed0=SEED0 + 10_000, extend=probe, runner=runner)
        claims = [c for c in _claims_of(runs) if c in wanted]
        if not claims:
            return None
        fails = rate(sum(runs.batch_failed), len(runs.batch_failed))
        log(f"{tag} P(FAIL) = {fails['rate']:.3f} ({len(runs.batch_failed)} runs)")
        return claims, {"strength": s, "fail": fails, "predicted_fail": None, "statistics": [], "pool": runs.replicates, "runs": len(runs.batch_failed),
                        "seconds": round(runs.seconds, 1), "refined": refined, **({"whole_runs_because": why} if why else {})}

    if draws_cell_pools(call):
        size = max(study.power_pool, 4 * R)
        first, failed, pools, seconds = runs_on_cell_pools(moved, study.power_runs, size, level, device, seed0=SEED0 + 10_000)
        claims = [c for c in dict.fromkeys(f.claim for f in first) if c in wanted]
        if not claims:
            return None
        fails = rate(sum(failed), len(failed))
        log(f"{tag} P(FAIL) = {fails['rate']:.3f} ({len(failed)} runs drawn from {len(pools.pools)} cell pools of {size}, {seconds:.0f} s)")
        return claims, {"strength": s, "fail": fails, "predicted_fail": None, "statistics": [], "pool": pools.replicates_run, "runs": len(failed),
                        "cell_pools": {"per_cell": size, "cells": len(pools.pools)}, "seconds": round(seconds, 1), "refined": refined}
    if sampled is None:
        probe = run_pool(moved, R, R, level, device, seed0=SEED0 + 10_000, runner=runner)
        sampled = not _unsampled(probe)
    if not sampled:
        return whole_runs(probe)
    # batches of 32: a power pool of 64 replicates keeps both workers busy, and pools of different sizes share their first batches
    pool = run_pool(moved, max(study.power_pool, 4 * R), min(32, POOL_BATCH.get(call.module, study.batch)), level, device, seed0=SEED0 + 10_000,
                    extend=probe, runner=runner)
    claims = [c for c in _claims_of(pool) if c in wanted]
    if not claims:
        return None
    exact = _exact_positions(pool)
    if exact and any(pool.exact_failed):
        why = f"an exact finding FAILed on {sum(pool.exact_failed)} of the pool's {len(pool.exact_failed)} batches"
        log(f"{tag}: {why}; measured on whole runs")
        return whole_runs(None, why)
    targets = _targets(pool, R, level)
    fr = fail_rate_of_call(pool, targets, {}, rng, study.power_draws)
    fails = fr.get("any", {"rate": 0.0, "misses": 0, "draws": 0, "ci": [0.0, 1.0]}) if fr else None
    stats_at: list[dict[str, Any]] = []
    pass_all = 1.0
    analytic_ok = True
    fits = [(pool.findings[k[2]], smp, targets[k]) for k, smp in pool.samples.items() if smp.kind == "clustered"]
    if fits:
        # at the paper's strength the fits' P(FAIL) is the check's fresh-seed fail rate, which the 1e-3 rule
        # reads: as many draws as the sampled findings get there (0 of 2 000 bounds it by 0.0015; 200 only by
        # 0.018); elsewhere a tenth, enough for a curve (a resampled fit costs milliseconds to a second)
        fits_any, fit_rates = _fits_fail_rate(fits, rng, study.power_draws if math.isclose(s, dep.strengths[0]) else study.power_draws // 10)
        stats_at += [{"statistic": f.statistic, "fit_fail": fr_fit} for (f, _, _), fr_fit in zip(fits, fit_rates, strict=True)]
        fails = fits_any if fails is None else _union_of_rates(fails, fits_any)
    for k, smp in pool.samples.items():
        f, tgt = pool.findings[k[2]], targets[k]
        if smp.kind == "values" and f.method.split(" ")[0] in ("t", "paired-t"):
            v = np.asarray(smp.values)
            rec = {"reference": float(v.mean()), "sd": float(v.std(ddof=1))}
            pf = _analytic_fail(rec, tgt, f.nominal)
            analytic_ok = analytic_ok and pf is not None  # no prediction for one statistic: none for the check
            stats_at.append({"statistic": f.statistic, "true_value": rec["reference"], "sd": rec["sd"], "threshold": f.threshold,
                             "predicted_fail": pf, "resolution": stats.min_margin_resolvable_by_t(tgt.n, rec["sd"], level, tgt.side) if rec["sd"] > 0 else 0.0})
            pass_all *= 1 - (pf or 0.0)
        else:
            analytic_ok = False
    log(f"{tag} P(FAIL) = {fails['rate'] if fails else float('nan'):.3f}")
    held = {"exact_held": {"findings": [pool.findings[p].statistic for p in exact], "batches": len(pool.exact_failed)}} if exact else {}
    return claims, {"strength": s, "fail": fails, "predicted_fail": (1 - pass_all) if analytic_ok and stats_at else None, "statistics": stats_at,
                    "pool": pool.replicates, "seconds": round(pool.seconds, 1), "refined": refined, **held}


def _point_or_refusal(call: CheckCall, dep: Any, s: float, refined: bool, study: StudyProfile, level: float, device: str, rng: np.random.Generator,
                      log: Callable[[str], None], wanted: list[str], runner: BatchRunner | None,
                      sampled: bool | None) -> tuple[list[str], dict[str, Any]] | str | None:
    """``_power_point``, or the reason (a string) when the check refuses the moved regime (a
    ``ValueError``: the departure has left the check's domain, so there is no verdict to count)."""
    try:
        return _power_point(call, dep, s, refined, study, level, device, rng, log, wanted, runner, sampled)
    except ValueError as exc:
        log(f"  power {dep.name} s = {s:g}{' (refined)' if refined else ''}: {call.test} refuses the regime ({exc}); the curve ends here")
        return str(exc)


def power_study(calls: list[CheckCall], study: StudyProfile, level: float, device: str, rng: np.random.Generator, log: Callable[[str], None],
                wanted: list[str], heavy: bool, runner: BatchRunner | None = None, known: dict[str, Pool] | None = None) -> list[dict[str, Any]]:
    """For each departure and each test it applies to: P(FAIL) against the strength, measured from
    ``power_draws`` draws of the check's replicate count on a pool per strength (or from ``power_runs``
    whole runs, for a check with findings that have no per-replicate sample), beside the noncentral-t
    prediction at the pool's mean and sd, and the strength at which P(FAIL) reaches 0.9. ``heavy``:
    whether the costly families (``HEAVY_MODULES``, and heavy departures) are taken; ``known``: test ->
    a pool of its pinned check that this study already ran (it tells whether the findings are sampled).
    Power is measured at the pinned regime even where the level study runs a smaller one
    (``STUDY_REGIMES``): the T0 fit on the level study's 2 x 2 x 2 grid of 24 replicates FAILs its
    half-width bound on every draw at the paper's model, so a curve there says nothing about the
    pinned check. A strength at which the check refuses its regime (a ``ValueError``: too many
    replicates censored, say) ends the curve, recorded with the reason."""
    from fc_check.departures import departure_of

    out = []
    for call in calls:
        dep = departure_of(call.test)
        if (dep is None or ((dep.heavy or call.heavy) and not heavy) or (study.power_departures is not None and dep.name not in study.power_departures)
                or call.test.startswith(study.power_skip)):
            continue
        pinned = (known or {}).get(call.test)
        sampled = None if pinned is None else not _unsampled(pinned)
        rows: list[dict[str, Any]] = []
        claims_seen: set[str] = set()
        for s in study.power_strengths or dep.strengths:
            got = _point_or_refusal(call, dep, s, False, study, level, device, rng, log, wanted, runner, sampled)
            if isinstance(got, str):
                rows.append({"strength": s, "fail": None, "predicted_fail": None, "statistics": [], "refused": got})
                break
            if got is None:
                break
            sampled = got[1].get("runs") is None or "whole_runs_because" in got[1]  # an exact finding's FAIL sends one strength to whole runs, not the rest
            claims_seen.update(got[0])
            rows.append(got[1])
        for _ in range(study.power_refine if rows else 0):
            mid = _bisect_crossing([r["strength"] for r in rows], [r["fail"]["rate"] if r["fail"] else math.nan for r in rows], 0.9)
            got = _point_or_refusal(call, dep, mid, True, study, level, device, rng, log, wanted, runner, sampled) if mid is not None else None
            if got is None or isinstance(got, str):
                break
            claims_seen.update(got[0])
            rows = sorted([*rows, got[1]], key=lambda r: r["strength"])
        if rows:
            xs, ys = [r["strength"] for r in rows], [r["fail"]["rate"] if r["fail"] else math.nan for r in rows]
            out.append({"departure": dep.name, "strength": dep.strength, "paper_strength": dep.strengths[0], "test": call.test, "claims": sorted(claims_seen),
                        "points": rows, "detected_at_0.9": _crossing(xs, ys, 0.9), "bracket_0.9": _bracket(xs, ys, 0.9),
                        **({"strengths_given": list(study.power_strengths)} if study.power_strengths else {})})
    return out


def merge_power(study: dict[str, Any], added: dict[str, Any]) -> dict[str, Any]:
    """``study`` (a ``calibration.json``) with the power curves of ``added`` (a later study's, of the same
    profile) merged in: a curve of the same departure and test is replaced (or, where the added one was
    measured at given strengths, ``--strengths``, joined point by point: ``_joined_curve``), the others are kept. Each
    added curve records where it was measured (commit, device, date), since it may differ from the
    study's own; the levels and fresh-seed rates stay those of ``study``. Raises ``ValueError`` when
    the profiles differ (their replicate counts, and so their curves, are not the same checks')."""
    if study.get("profile") != added.get("profile"):
        raise ValueError(f"cannot merge power curves of profile {added.get('profile')!r} into a study of profile {study.get('profile')!r}")
    measured = {k: added.get(k) for k in ("commit", "device", "created", "torch")}
    curves = [{**c, "measured": c.get("measured", measured)} for c in added.get("power") or []]
    earlier = {(c["departure"], c["test"]): c for c in study.get("power") or []}
    for i, c in enumerate(curves):
        old = earlier.get((c["departure"], c["test"]))
        if c.get("strengths_given") and old is not None:
            curves[i] = _joined_curve(old, c)
    new_keys = {(c["departure"], c["test"]) for c in curves}
    kept = [c for c in study.get("power") or [] if (c["departure"], c["test"]) not in new_keys]
    merged = {**study, "power": kept + curves}
    merged["power_merged"] = [*study.get("power_merged", []), {**measured, "curves": len(curves), "wall_s": added.get("wall_s"),
                                                                "claims_requested": added.get("claims_requested", [])}]
    return merged


def _joined_curve(old: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """A curve with a part measured at given strengths (``--strengths``) joined in: the part's points
    replace the old ones at the same strengths and join the rest, each saying where it was measured;
    the 0.9 point and its bracket are found again on the joined points."""
    def key(p: dict[str, Any]) -> float:
        return round(float(p["strength"]), 12)

    points = {key(p): {**p, "measured": p.get("measured", old.get("measured"))} for p in old["points"]}
    points.update({key(p): {**p, "measured": part["measured"]} for p in part["points"]})
    rows = [points[k] for k in sorted(points)]
    xs, ys = [r["strength"] for r in rows], [r["fail"]["rate"] if r.get("fail") else math.nan for r in rows]
    return {**old, "points": rows, "claims": sorted(set(old["claims"]) | set(part["claims"])), "detected_at_0.9": _crossing(xs, ys, 0.9),
            "bracket_0.9": _bracket(xs, ys, 0.9), "measured": part["measured"], "strengths_given": sorted({*old.get("strengths_given", []), *part["strengths_given"]}),
            "joined_parts": old.get("joined_parts", 1) + 1}


def _fits_fail_rate(fits: list[tuple[Finding, Sample, Target]], rng: np.random.Generator, draws: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """P(some fit of the check FAILs) and each fit's own P(FAIL), from ``draws`` resamples of whole
    replicates (with replacement) of the pool. The fits of one check (the exponents of one
    regression) read the same replicates, so each draw resamples one set of replicates for all of
    them and counts the draw once if any FAILs: a measured rate with its interval, not a sum."""
    any_fail = 0
    each = np.zeros(len(fits), dtype=np.int64)
    shared = len({(smp.replicates, tgt.n) for _, smp, tgt in fits}) == 1
    for _ in range(draws):
        idx = rng.integers(0, fits[0][1].replicates, fits[0][2].n) if shared else None
        failed = np.array([not _decides(_pick(f, smp, rng, tgt.n, idx), f) for f, smp, tgt in fits])
        any_fail += int(failed.any())
        each += failed
    per_fit = [rate(int(e), draws) for e in each]
    # fits on different replicate sets: their draws are independent, so only the union bound joins them
    return (rate(any_fail, draws) if shared else _union_of_rates(*per_fit)), per_fit


def _union_of_rates(*rates: dict[str, Any]) -> dict[str, Any]:
    """P(any of several FAILs) from rates measured on separate draws: at least the largest, at
    most the sum (the union bound). ``rate`` is the upper end, so power is not understated in a
    detection point and a fail rate is not understated either; ``ci`` runs from the largest lower
    bound to the sum of the upper bounds."""
    rs = list(rates)
    return {"misses": None, "draws": min(r["draws"] for r in rs), "rate": min(1.0, sum(r["rate"] for r in rs)),
            "ci": [max(r["ci"][0] for r in rs), min(1.0, sum(r["ci"][1] for r in rs))], "union_bound": True,
            "at_least": max(r["rate"] for r in rs)}


def _pick(f: Finding, smp: Sample, rng: np.random.Generator, n: int, idx: np.ndarray | None = None) -> stats.Interval:
    """The exponent of a scaling fit that ``f`` reports, on ``n`` replicates resampled from the pool
    (the replicates ``idx`` where given, so that several fits can share one resample)."""
    ivs = stats.interval_again(replace(_interval_of(f), sample=smp), rng.integers(0, smp.replicates, n) if idx is None else idx)
    first = stats.interval_again(_interval_of(f), np.arange(f.sample.replicates)) if f.sample is not None else ivs
    j = int(np.argmin([abs(w.estimate - f.estimate) for w in first]))
    return ivs[j]


def _first_crossing(ys: list[float], level: float) -> int | None:
    """The index ``i`` of the first neighbouring pair of measured points with ``ys[i] < level <= ys[i + 1]``."""
    for i, (y0, y1) in enumerate(zip(ys, ys[1:], strict=False)):
        if math.isfinite(y0) and math.isfinite(y1) and y0 < level <= y1:
            return i
    return None


def _bracket(xs: list[float], ys: list[float], level: float) -> list[float] | None:
    """The two neighbouring measured strengths between which the curve first reaches ``level``
    (None when it starts at or above it, or never reaches it)."""
    i = _first_crossing(ys, level)
    return None if i is None else [xs[i], xs[i + 1]]


def _bisect_crossing(xs: list[float], ys: list[float], level: float) -> float | None:
    """The strength halfway across the bracket of the first crossing of ``level`` (None without one)."""
    b = _bracket(xs, ys, level)
    return None if b is None else (b[0] + b[1]) / 2


def _crossing(xs: list[float], ys: list[float], level: float) -> float | None:
    """The strength at which a measured curve first reaches ``level`` (linear interpolation; None if never)."""
    i = _first_crossing(ys, level)
    if i is not None:
        (x0, x1), (y0, y1) = xs[i : i + 2], ys[i : i + 2]
        return x0 + (level - y0) * (x1 - x0) / (y1 - y0) if y1 > y0 else x1
    if ys and math.isfinite(ys[0]) and ys[0] >= level:
        return xs[0]
    return None
