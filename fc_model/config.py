"""Frozen, validated configuration objects for the feature model (Definition 3.1 and Section 3 of the paper).

Every constructor validates its fields and raises ``ValueError`` naming the field and the
allowed range, so nothing ever runs on an invalid configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

ACTIVATIONS = ("relu", "identity", "leaky_relu", "gelu", "sigmoid", "tanh", "softplus")
LAYOUTS = ("disjoint", "signed")


def _finite(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _int_at_least(name: str, value: int, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class Uniform:
    """Uniform distribution on ``[low, high]`` (``-U[0,1]`` is ``Uniform(-1, 0)``)."""

    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        _finite("Uniform.low", self.low)
        _finite("Uniform.high", self.high)
        if not self.low < self.high:
            raise ValueError(f"Uniform interval must be non-empty (low < high), got [{self.low}, {self.high}]")

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def from_unit(self, u):  # noqa: ANN001, ANN201 - tensor in, tensor out
        """Map ``U[0,1]`` draws to this interval (a quantile coupling used for paired sets)."""
        if self.low == 0 and self.high == 1:
            return u
        return u * (self.high - self.low) + self.low


@dataclass(frozen=True)
class Sphere:
    """Uniform distribution on the sphere of the given radius (the general setting's core)."""

    radius: float = 1.0

    def __post_init__(self) -> None:
        _finite("Sphere.radius", self.radius)
        if self.radius <= 0:
            raise ValueError(f"Sphere.radius must be > 0, got {self.radius}")


@dataclass(frozen=True)
class FeatureModel:
    """Definition 3.1: core features of each class, background features independent of ``y``.

    ``layout='disjoint'``: index sets ``S+`` and ``S-`` of size ``k_core`` each, then ``k_bg``
    background coordinates (``d0 = 2 k_core + k_bg``). ``layout='signed'``: ``k_core`` shared
    core coordinates with ``z_core = y * u`` (``d0 = k_core + k_bg``).
    """

    k_core: int = 8
    k_bg: int = 8
    d: int = 2**14
    layout: Literal["disjoint", "signed"] = "disjoint"
    core: Uniform = field(default_factory=Uniform)
    background: Uniform = field(default_factory=Uniform)
    ood_background: Uniform = field(default_factory=lambda: Uniform(-1.0, 0.0))
    noise: float = 0.0

    def __post_init__(self) -> None:
        _int_at_least("k_core", self.k_core, 1)
        _int_at_least("k_bg", self.k_bg, 0)
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        _int_at_least("d", self.d, 1)
        if self.d < self.d0:
            raise ValueError(f"d must be >= d0 = {self.d0} (the number of latent features), got {self.d}")
        for name in ("core", "background", "ood_background"):
            if not isinstance(getattr(self, name), Uniform):
                raise ValueError(f"{name} must be a Uniform interval in the theory model, got {getattr(self, name)!r}")
        _finite("noise", self.noise)
        if self.noise < 0:
            raise ValueError(f"noise (sigma_xi) must be >= 0, got {self.noise}")

    @property
    def d0(self) -> int:
        n_core = 2 * self.k_core if self.layout == "disjoint" else self.k_core
        return n_core + self.k_bg

    @property
    def core_pos(self) -> range:
        """Indices of the core features of class +1 (the shared core in the signed layout)."""
        return range(0, self.k_core)

    @property
    def core_neg(self) -> range:
        """Indices of the core features of class -1 (the shared core in the signed layout)."""
        return range(self.k_core, 2 * self.k_core) if self.layout == "disjoint" else range(0, self.k_core)

    @property
    def bg(self) -> range:
        return range(self.d0 - self.k_bg, self.d0)


@dataclass(frozen=True)
class Activation:
    """The hidden activation ``sigma``; ``slope`` is used by ``leaky_relu`` only."""

    name: str = "relu"
    slope: float = 0.1

    def __post_init__(self) -> None:
        if self.name not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.name!r}")
        _finite("slope", self.slope)
        if self.name == "leaky_relu" and not 0.0 <= self.slope <= 1.0:
            raise ValueError(f"leaky_relu slope must be in [0, 1], got {self.slope}")

    @property
    def piecewise_linear(self) -> bool:
        """Whether Lemma 1.1's closed-form gradient applies (relu, identity, leaky_relu)."""
        return self.name in ("relu", "identity", "leaky_relu")

    def label(self) -> str:
        return f"leaky_relu({self.slope:g})" if self.name == "leaky_relu" else self.name


@dataclass(frozen=True)
class Network:
    """``f(x) = sum_k a_k sigma(<w_k, x>)`` with ``a_k = +1/m`` for ``k < m/2`` and ``-1/m`` after."""

    m: int = 64
    activation: Activation = field(default_factory=Activation)
    sigma0: float | None = None  # init scale; None means 1/sqrt(d)

    def __post_init__(self) -> None:
        if not isinstance(self.m, int) or isinstance(self.m, bool) or self.m < 2 or self.m % 2:
            raise ValueError(f"m must be an even integer >= 2, got {self.m!r}")
        if not isinstance(self.activation, Activation):
            raise ValueError(f"activation must be an Activation, got {self.activation!r}")
        if self.sigma0 is not None:
            _finite("sigma0", self.sigma0)
            if self.sigma0 <= 0:
                raise ValueError(f"sigma0 must be > 0, got {self.sigma0}")

    def init_scale(self, d: int) -> float:
        return self.sigma0 if self.sigma0 is not None else 1.0 / math.sqrt(d)


@dataclass(frozen=True)
class Schedule:
    """Checkpoints: every step up to ``dense_until``, then every ``every`` steps, and the last."""

    dense_until: int = 100
    every: int = 100

    def __post_init__(self) -> None:
        _int_at_least("Schedule.dense_until", self.dense_until, 0)
        _int_at_least("Schedule.every", self.every, 1)

    def steps(self, total: int) -> list[int]:
        out = set(range(0, min(self.dense_until, total) + 1))
        out.update(range(0, total + 1, self.every))
        out.add(total)
        return sorted(out)


@dataclass(frozen=True)
class SGD:
    """Online SGD on the hinge loss: each step draws a fresh batch of ``batch`` ID samples."""

    eta: float = 0.05
    batch: int = 32
    steps: int = 3000
    n_eval: int = 400
    schedule: Schedule = field(default_factory=Schedule)

    def __post_init__(self) -> None:
        _finite("eta", self.eta)
        if self.eta <= 0:
            raise ValueError(f"eta (step size) must be > 0, got {self.eta}")
        _int_at_least("batch", self.batch, 1)
        _int_at_least("steps", self.steps, 0)
        _int_at_least("n_eval", self.n_eval, 2)
