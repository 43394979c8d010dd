"""Lemma 1.1 (gradient form), Zhang et al. ICML 2024, Appendix.

For ReLU and the hinge loss, ``grad_{w_k} l(x, y) = -a_k y 1{y f(x) < 1} 1{<w_k, x> > 0} x``,
so its projection on feature ``m_j`` is ``-a_k y 1{yf<1} 1{<w_k,x> > 0} z_j``; for the identity
the activation indicator is absent. Consequence (Figure 2): at a class-symmetric state the
expected background projection vanishes for a linear network, while for ReLU it is about
``(1/m) (E[z_j]/2) Delta_k``: contamination is activation asymmetry times the background mean.

* ``closed-form-equals-autograd`` / ``projection-identity``: exact identities (float64,
  relative tolerance 1e-10) on generated networks and inputs; they spend no error budget.
* ``linear-background-projection-zero``: per replicate, RMS over neurons of
  ``m <-grad_{w_k} L, bg direction>`` from 100 000 samples at init, t interval <= 0.02.
* ``relu-background-projection-tracks-asymmetry``: per replicate, across neurons, the
  correlation of that projection with ``Delta_k`` (>= 0.9) and its slope (inside
  ``E[z_j]/2 +- 20%``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from fc_check.common import MakeModel, mean_at_least, mean_at_most, mean_inside
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import SEEDS, TheoryRegime, paper_model, paper_regime
from fc_check.verdict import Outcome, Plot, exact
from fc_model import Activation, autograd_gradient, generator, hinge_gradient, second_layer
from fc_model.network import activate
from fc_model.simulate import GradientFn, resolve_device

R = active_profile().replicates
RELATIVE_TOLERANCE = 1e-10  # float64 round-off on sums of a few thousand terms


@dataclass(frozen=True)
class NetworkDraw:
    """A generated network and input batch for the exact identities."""

    m: int = 16
    d0: int = 12
    d: int = 40
    n: int = 64
    activation: str = "relu"
    slope: float = 0.1
    weight_scale: float = 3.0
    replicates: int = 4
    seed: int = 0

    def act(self) -> Activation:
        return Activation(self.activation, self.slope)


NETWORKS = st.builds(NetworkDraw, m=st.sampled_from((2, 8, 16, 64)), d0=st.integers(2, 24), d=st.integers(24, 96), n=st.integers(1, 128),
                     activation=st.sampled_from(("relu", "identity", "leaky_relu")), slope=st.floats(0.0, 1.0), weight_scale=st.floats(0.3, 5.0),
                     replicates=st.integers(1, 4), seed=SEEDS)


def _draw(net: NetworkDraw, device: str) -> tuple[torch.Tensor, ...]:
    gen = generator(net.seed, "probe", resolve_device(device))
    kw: dict[str, Any] = {"generator": gen, "device": gen.device, "dtype": torch.float64}
    W = torch.randn((net.replicates, net.m, net.d), **kw) * (net.weight_scale / net.d**0.5)
    z = torch.rand((net.replicates, net.n, net.d0), **kw)
    q, _ = torch.linalg.qr(torch.randn((net.replicates, net.d, net.d0), **kw))
    y = torch.randint(0, 2, (net.replicates, net.n), generator=gen, device=gen.device).double() * 2 - 1
    return W, z, q, y


def check_closed_form_equals_autograd(gradient: GradientFn, net: NetworkDraw, *, level: float, device: str) -> Outcome:
    W, z, M, y = _draw(net, device)
    x = torch.bmm(z, M.transpose(1, 2))
    a = second_layer(net.m, torch.float64, W.device)
    got, ref = gradient(net.act(), W, x, y, a), autograd_gradient(net.act(), W, x, y, a)
    err = float(((got - ref).abs().max() / ref.abs().max().clamp_min(1e-300)).cpu())
    return Outcome([exact("lemma-1.1/closed-form-equals-autograd", "max |closed form - autograd| / max |autograd|", err, RELATIVE_TOLERANCE, net.replicates)], asdict(net), net.seed)


def check_projection_identity(gradient: GradientFn, net: NetworkDraw, *, level: float, device: str) -> Outcome:
    W, z, M, y = _draw(net, device)
    x = torch.bmm(z, M.transpose(1, 2))
    a = second_layer(net.m, torch.float64, W.device)
    act = net.act()
    proj = torch.bmm(gradient(act, W, x, y, a), M)  # <grad_{w_k}, m_j>: R x m x d0
    pre = torch.bmm(x, W.transpose(1, 2))
    f = activate(act, pre) @ a
    low = {"relu": 0.0, "identity": 1.0, "leaky_relu": act.slope}[act.name]
    ind = torch.where(pre > 0, torch.ones_like(pre), torch.full_like(pre, low))
    coef = -(y * (y * f < 1).double()).unsqueeze(-1) * a * ind / net.n  # R x n x m
    formula = torch.bmm(coef.transpose(1, 2), z)
    err = float(((proj - formula).abs().max() / formula.abs().max().clamp_min(1e-300)).cpu())
    return Outcome([exact("lemma-1.1/projection-identity", "max |<grad, m_j> - formula| / max |formula|", err, RELATIVE_TOLERANCE, net.replicates)], asdict(net), net.seed)


def background_projection(make_model: MakeModel, regime: TheoryRegime, device: str, n: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """At init: ``m <-grad_{w_k} L, mean bg feature>`` (population estimate from ``n`` samples)
    and ``Delta_k`` on the same samples, each ``R x m``."""
    model = make_model(regime)
    fm, net = model.features, model.network
    dev = resolve_device(device)
    W = model.init(net, fm, generator(regime.seed, "init", dev), regime.replicates, fm.d0, torch.float64)
    s = model.sampler(fm, generator(regime.seed, "eval", dev), regime.replicates, n, dtype=torch.float64)
    a = second_layer(net.m, torch.float64, dev)
    grad = model.gradient(net.activation, W, s.z, s.y, a)
    proj = -net.m * grad[..., fm.bg.start : fm.bg.stop].mean(-1)
    act = (torch.bmm(s.z, W.transpose(1, 2)) > 0).double()
    pos = (s.y > 0).double().unsqueeze(-1)
    p_pos, p_neg = (act * pos).sum(1) / pos.sum(1), (act * (1 - pos)).sum(1) / (1 - pos).sum(1)
    half = net.m // 2
    delta = torch.cat([p_pos[:, :half] - p_neg[:, :half], p_neg[:, half:] - p_pos[:, half:]], -1)
    return proj.cpu().numpy(), delta.cpu().numpy()


def check_linear_background_projection_zero(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str, tolerance: float = 0.02) -> Outcome:
    proj, _ = background_projection(make_model, regime, device)
    rms = np.sqrt((proj**2).mean(-1))
    f = mean_at_most("lemma-1.1/linear-background-projection-zero", "RMS over neurons of m <-grad, bg> at init", rms, tolerance, level)
    return Outcome([f], regime.as_dict(), regime.seed)


def check_relu_background_projection_tracks_asymmetry(make_model: MakeModel, regime: TheoryRegime, *, level: float, device: str,
                                                       min_correlation: float = 0.9, slope_tolerance: float = 0.2) -> Outcome:
    proj, delta = background_projection(make_model, regime, device)
    corr = np.array([np.corrcoef(delta[r], proj[r])[0, 1] if proj[r].std() > 0 else 0.0 for r in range(len(proj))])
    slope = np.array([np.polyfit(delta[r], proj[r], 1)[0] for r in range(len(proj))])
    predicted = make_model(regime).features.background.mean / 2
    lo, hi = sorted((predicted * (1 - slope_tolerance), predicted * (1 + slope_tolerance)))
    f1 = mean_at_least("lemma-1.1/relu-background-projection-tracks-asymmetry", "corr across neurons of m <-grad, bg> and Delta_k", corr, min_correlation, level)
    f2 = mean_inside("lemma-1.1/relu-background-projection-tracks-asymmetry", "slope of m <-grad, bg> on Delta_k", slope, lo, hi, level,
                     note=f"predicted E[z_j]/2 = {predicted:g}")

    def draw(ax) -> None:  # noqa: ANN001
        ax.scatter(delta[0], proj[0], s=8, label="neurons of replicate 0")
        xs = np.linspace(delta.min(), delta.max(), 10)
        ax.plot(xs, predicted * xs, "k--", label=f"(E[z_j]/2) Delta_k, E[z_j]/2 = {predicted:g}")
        ax.set_xlabel("Delta_k")
        ax.set_ylabel("m <-grad_{w_k} L, bg>")
        ax.legend(fontsize=7)

    return Outcome([f1, f2], regime.as_dict(), regime.seed, [Plot(f1.claim, "Background projection of the gradient against asymmetry (init)", draw)])


def linear_model(regime: TheoryRegime):  # noqa: ANN201
    return regime.model(Activation("identity"))


PROJECTION_REGIMES = st.builds(TheoryRegime, m=st.sampled_from((16, 32, 64, 128)), d=st.sampled_from((2**12, 2**14, 2**16)), k_bg=st.sampled_from((4, 8, 16)),
                               replicates=st.just(R), seed=SEEDS)
PAPER = paper_regime(R).with_(d=2**16)


@fc_settings()
@given(net=NETWORKS)
@example(net=NetworkDraw())
def test_closed_form_equals_autograd(fc, net: NetworkDraw) -> None:
    fc.check(check_closed_form_equals_autograd, hinge_gradient, net)


@fc_settings()
@given(net=NETWORKS)
@example(net=NetworkDraw())
def test_projection_identity(fc, net: NetworkDraw) -> None:
    fc.check(check_projection_identity, hinge_gradient, net)


@fc_settings()
@given(regime=PROJECTION_REGIMES)
@example(regime=PAPER)
def test_linear_background_projection_zero(fc, regime: TheoryRegime) -> None:
    fc.check(check_linear_background_projection_zero, linear_model, regime)


@fc_settings()
@given(regime=PROJECTION_REGIMES)
@example(regime=PAPER)
def test_relu_background_projection_tracks_asymmetry(fc, regime: TheoryRegime) -> None:
    fc.check(check_relu_background_projection_tracks_asymmetry, paper_model, regime)
