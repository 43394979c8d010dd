"""Lemma 1.2 (gap between empirical and population gradients), Zhang et al. ICML 2024, Appendix.

Each term of the projected gradient ``<grad_{w_k} l, m_j>`` lies in ``[-1/m, 1/m]`` when
``z in [-1, 1]``, so by Hoeffding the mean over a batch of ``N`` i.i.d. samples deviates from its
population value by more than ``(1/m) sqrt(2 log(2/delta) / N)`` with probability at most
``delta``, and the typical gap decays as ``N^(-1/2)``.

* ``hoeffding-exceedance``: over ``R`` replicate networks (at init) x ``T`` batches x batch
  sizes, the frequency with which the gap for one (neuron, background feature) pair exceeds the
  radius; Clopper-Pearson upper bound <= ``delta``. Given the network every batch is an
  independent trial with exceedance probability <= delta, so pooling is valid. The population
  value comes from ``100 x max N`` samples; its own Hoeffding error (at half the level, union
  over replicates) is added to the radius, so an exceedance counted is a true exceedance.
* ``rate``: per replicate and ``N``, the RMS gap over batches and all (neuron, feature) pairs,
  corrected for the population sample's variance; OLS of ``log RMS`` on ``log N`` with errors
  clustered by replicate; the slope's interval contains -1/2 with half-width <= 0.1.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from fc_check import stats
from fc_check.hypo import active_profile, fc_settings
from fc_check.verdict import Finding, Outcome, Plot, at_most
from fc_model import Activation, FeatureModel, Network, TheoryModel, generator, hinge_gradient, second_layer
from fc_model.simulate import GradientFn, gaussian_init, resolve_device

R = active_profile().replicates


@dataclass(frozen=True)
class GapRegime:
    m: int = 64
    k_core: int = 8
    k_bg: int = 8
    d: int = 2**14
    batch_sizes: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    batches: int = 100
    delta: float = 0.1
    replicates: int = 16
    seed: int = 0

    def model(self) -> TheoryModel:
        return TheoryModel(FeatureModel(k_core=self.k_core, k_bg=self.k_bg, d=self.d), Network(m=self.m, activation=Activation("relu")))


def radius(m: int, n: int, delta: float) -> float:
    return math.sqrt(2 * math.log(2 / delta) / n) / m


def gaps(estimator: GradientFn, reg: GapRegime, device: str) -> tuple[dict[int, torch.Tensor], float, torch.Tensor]:
    """Per batch size: ``|batch - population|`` projected gradients, ``R x T x m x d0``; the
    population sample size; and the per-replicate population variance of a term (``R``)."""
    model = reg.model()
    fm, net = model.features, model.network
    dev = resolve_device(device)
    Rr, T = reg.replicates, reg.batches
    W = gaussian_init(net, fm, generator(reg.seed, "init", dev), Rr, fm.d0, torch.float64)
    a = second_layer(net.m, torch.float64, dev)
    n_pop = 100 * max(reg.batch_sizes)
    pop = model.sampler(fm, generator(reg.seed, "eval", dev), Rr, n_pop, dtype=torch.float64)
    # the population value is the reference mean of the terms over the large sample; the
    # estimator under test is applied to the batches only
    g_pop = hinge_gradient(net.activation, W, pop.z, pop.y, a)
    pre = torch.bmm(pop.z, W.transpose(1, 2))
    f = pre.clamp_min(0) @ a
    coef = -(pop.y * (pop.y * f < 1).double()).unsqueeze(-1) * a * (pre > 0).double()
    var = (torch.bmm((coef**2).transpose(1, 2), pop.z**2) / n_pop - g_pop**2).mean((-1, -2))
    gen = generator(reg.seed, "train", dev)
    out = {}
    for n in reg.batch_sizes:
        s = model.sampler(fm, gen, Rr * T, n, dtype=torch.float64)
        g = estimator(net.activation, W.repeat_interleave(T, 0), s.z, s.y, a).view(Rr, T, net.m, fm.d0)
        out[n] = (g - g_pop.unsqueeze(1)).abs()
    return out, n_pop, var


def check_hoeffding_exceedance(estimator: GradientFn, reg: GapRegime, *, level: float, device: str) -> Outcome:
    gap, n_pop, _ = gaps(estimator, reg, device)
    fm = reg.model().features
    j = fm.bg.start  # one (neuron, background feature) pair per batch: trials are independent
    pop_err = radius(reg.m, n_pop, level / 2 / reg.replicates)
    per_replicate = sum((g[:, :, 0, j] > radius(reg.m, n, reg.delta) + pop_err).sum(1) for n, g in gap.items()).cpu().numpy()  # one read-back
    exceed, trials = int(per_replicate.sum()), reg.replicates * reg.batches * len(reg.batch_sizes)
    iv = stats.proportion_interval_of_counts(per_replicate, reg.batches * len(reg.batch_sizes), level / 2, "upper")
    f = at_most("lemma-1.2/hoeffding-exceedance", f"frequency of gap > Hoeffding radius (delta = {reg.delta})", iv, reg.delta,
                stats.min_margin_resolvable_by_clopper_pearson(trials, reg.delta, level / 2, "upper"),
                note=f"{exceed} of {trials}; population from {n_pop} samples adds {pop_err * reg.m:.3g}/m to the radius")
    return Outcome([f], asdict(reg), reg.seed)


def check_rate(estimator: GradientFn, reg: GapRegime, *, level: float, device: str, target: float = -0.5, max_half_width: float = 0.1) -> Outcome:
    gap, n_pop, var = gaps(estimator, reg, device)
    ys, xs, groups = [], [], []
    for n, g in gap.items():
        ms = (g**2).mean((1, 2, 3)) - var / n_pop  # remove the population estimate's own variance
        ys.append(0.5 * torch.log(ms.clamp_min(1e-300)).cpu().numpy())
        xs.append(np.full(reg.replicates, math.log(n)))
        groups.append(np.arange(reg.replicates))
    y, x, grp = np.concatenate(ys), np.concatenate(xs), np.concatenate(groups)
    fit = stats.scaling_fit_by_clustered_ols(y, x, grp, ("N",), level)
    iv = fit.intervals[0]
    half = (iv.high - iv.low) / 2
    ok = iv.contains(target) and half <= max_half_width
    f = Finding("lemma-1.2/rate", "slope of log RMS gap on log N", iv.estimate, iv.low, iv.high, level, {"contains": target, "max_half_width": max_half_width},
                stats.min_margin_resolvable_by_normal(float(fit.se[0]), level, "two-sided", df=fit.df), iv.n, ok,
                min(target - iv.low, iv.high - target, max_half_width - half), iv.method, relation="contains", sample=iv.sample)

    def draw(ax) -> None:  # noqa: ANN001
        ax.loglog(np.exp(x), np.exp(y) * reg.m, ".", alpha=0.4, label="m x RMS gap (replicates)")
        ns = np.array(reg.batch_sizes, dtype=float)
        ax.loglog(ns, [radius(1, int(n), reg.delta) for n in ns], "k--", label=f"Hoeffding radius x m (delta={reg.delta})")
        ax.set_xlabel("batch size N")
        ax.legend(fontsize=7)
        ax.set_title(f"slope {iv.estimate:.3f} [{iv.low:.3f}, {iv.high:.3f}]", fontsize=8)

    return Outcome([f], asdict(reg), reg.seed, [Plot(f.claim, "RMS gradient gap against batch size", draw)])


REGIMES = st.builds(GapRegime, m=st.sampled_from((16, 32, 64)), k_bg=st.sampled_from((4, 8, 16)), d=st.sampled_from((2**12, 2**14, 2**16)),
                    delta=st.sampled_from((0.01, 0.05, 0.1)), replicates=st.just(R), seed=st.integers(0, 2**31 - 1))
PAPER = GapRegime(replicates=R)


@fc_settings()
@given(reg=REGIMES)
@example(reg=PAPER)
def test_hoeffding_exceedance(fc, reg: GapRegime) -> None:
    fc.check(check_hoeffding_exceedance, hinge_gradient, reg)


@fc_settings()
@given(reg=REGIMES)
@example(reg=PAPER)
def test_rate(fc, reg: GapRegime) -> None:
    fc.check(check_rate, hinge_gradient, reg)
