"""Regimes of the theory setting and the Hypothesis strategies that generate them.

A regime is a frozen dataclass; ``model()`` and ``sgd()`` turn it into the simulator's
configuration. The strategies encode the conditions of the paper's theorems (Section 4): ``m`` even,
``sqrt(d) >> k_core`` (``sqrt(d) >= 8 k_core``), a small step ``eps = eta sqrt(d) / m <= 0.16``,
and training long enough for the ID risk to saturate (``steps ~ 5 m / eta``). Claim modules
compose them (``.map``/``.filter``) with their own conditions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from fc_model import SGD, Activation, FeatureModel, Network, Schedule, TheoryModel, Uniform, simulate
from fc_model.simulate import Trajectory

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


@dataclass(frozen=True)
class TheoryRegime:
    m: int = 64
    d: int = 2**14
    k_core: int = 8
    k_bg: int = 8
    eta: float = 0.05
    batch: int = 32
    steps: int = 3000
    replicates: int = 16
    seed: int = 0

    @property
    def eps(self) -> float:
        """``eta sqrt(d) / m``: the theory's small-step parameter (T0 ~ 2 / eps steps)."""
        return self.eta * math.sqrt(self.d) / self.m

    def features(self, **overrides: Any) -> FeatureModel:
        return FeatureModel(k_core=self.k_core, k_bg=self.k_bg, d=self.d, **overrides)

    def model(self, activation: Activation | None = None, **feature_overrides: Any) -> TheoryModel:
        return TheoryModel(self.features(**feature_overrides), Network(m=self.m, activation=activation or Activation("relu")))

    def sgd(self, steps: int | None = None, dense_until: int | None = None) -> SGD:
        steps = self.steps if steps is None else steps
        dense = dense_until if dense_until is not None else min(steps, max(50, int(8 / self.eps)))
        return SGD(eta=self.eta, batch=self.batch, steps=steps, schedule=Schedule(dense_until=dense, every=max(1, steps // 60)))

    def with_(self, **kw: Any) -> TheoryRegime:
        return replace(self, **kw)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["eps"] = round(self.eps, 4)
        return d


def saturating_steps(m: int, eta: float, factor: float = 5.0) -> int:
    """Steps after which the ID hinge risk has saturated in this model (about 5 m / eta)."""
    return int(math.ceil(factor * m / eta / 100.0) * 100)


def paper_regime(replicates: int, steps: int = 6000) -> TheoryRegime:
    """The paper-like default regime (Figure 3's theory setting): k_core = k_bg = 8, m = 64, d = 2^14, eta = 0.05, B = 32."""
    return TheoryRegime(replicates=replicates, steps=steps)


@st.composite
def theory_regimes(draw: st.DrawFn, replicates: int, k_bg: tuple[int, ...] = (8, 16), max_eps: float = 0.16) -> TheoryRegime:
    """Valid regimes of the theory setting with enough steps for the ID risk to saturate."""
    m = draw(st.sampled_from((32, 64, 128)))
    k_core = 8
    eta = draw(st.sampled_from((0.02, 0.03, 0.05, 0.08)))
    lo = max(2 * math.log2(8 * k_core), 12)  # sqrt(d) >= 8 k_core
    hi = 2 * math.log2(max_eps * m / eta)  # eps <= max_eps
    if hi < lo:
        eta = max_eps * m / 2 ** (lo / 2)
        hi = lo
    log_d = draw(st.integers(min_value=int(math.ceil(lo)), max_value=int(max(math.ceil(lo), min(20, math.floor(hi))))))
    batch = draw(st.sampled_from((16, 32, 64)))
    return TheoryRegime(m=m, d=2**log_d, k_core=k_core, k_bg=draw(st.sampled_from(k_bg)), eta=eta, batch=batch,
                        steps=saturating_steps(m, eta), replicates=replicates, seed=draw(SEEDS))


@lru_cache(maxsize=16)
def run(model: TheoryModel, sgd: SGD, replicates: int, seed: int, device: str) -> Trajectory:
    """``simulate`` memoised within a worker: several claims read the same training run."""
    return simulate(model, sgd, replicates, seed, device=device)


def train(make_model: Callable[[TheoryRegime], TheoryModel], regime: TheoryRegime, device: str) -> Trajectory:
    """The (memoised) training run of ``make_model(regime)`` at the regime's own schedule and seed."""
    return run(make_model(regime), regime.sgd(), regime.replicates, regime.seed, device)


def paper_model(regime: TheoryRegime) -> TheoryModel:
    return regime.model()


BACKGROUNDS = {"U[0,1]": Uniform(0.0, 1.0), "U[-1,1]": Uniform(-1.0, 1.0)}
