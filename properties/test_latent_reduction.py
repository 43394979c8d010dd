"""Implementation invariant: the latent reduction (``docs/catalogue.md#invariant-latent-equals-full``).

With ``noise = 0`` every gradient lies in ``span(M)``, so training in input space and training
on ``z`` with init ``M^T w_k(0)`` give the same trajectory of ``M^T w_k``. Checked exactly
(float64, relative tolerance 1e-9) on the recorded observables and the final latent weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
from hypothesis import example, given
from hypothesis import strategies as st

from fc_check.hypo import fc_settings
from fc_check.regimes import SEEDS
from fc_check.verdict import Outcome, exact
from fc_model import SGD, Activation, FeatureModel, Network, Schedule, TheoryModel, dictionary, generator, simulate
from fc_model.simulate import resolve_device

TOLERANCE = 1e-9


@dataclass(frozen=True)
class CouplingRegime:
    m: int = 16
    d: int = 256
    k_core: int = 4
    k_bg: int = 4
    activation: str = "relu"
    eta: float = 0.05
    steps: int = 200
    replicates: int = 3
    seed: int = 0


def paper_coupled(reg: CouplingRegime) -> TheoryModel:
    return TheoryModel(FeatureModel(k_core=reg.k_core, k_bg=reg.k_bg, d=reg.d), Network(m=reg.m, activation=Activation(reg.activation)))


def check_latent_equals_full(make_model, reg: CouplingRegime, *, level: float, device: str, full_noise: float = 0.0) -> Outcome:  # noqa: ANN001
    """``full_noise``: input noise sigma_xi in the full-space run only (the latent run cannot have any):
    the reduction's premise broken by a graded amount, along which the calibration study measures
    how small a departure this exact check detects."""
    model = make_model(reg)
    sgd = SGD(eta=reg.eta, batch=16, steps=reg.steps, n_eval=64, schedule=Schedule(dense_until=20, every=20))
    noisy = replace(model, features=replace(model.features, noise=full_noise)) if full_noise else model
    full = simulate(noisy, sgd, reg.replicates, reg.seed, device=device, dtype=torch.float64, space="full")
    M = dictionary(model.features, generator(reg.seed, "dictionary", resolve_device(device)), reg.replicates, torch.float64)
    latent = simulate(model, sgd, reg.replicates, reg.seed, device=device, dtype=torch.float64, init=torch.bmm(full.weights0, M))
    w_full, w_lat = torch.bmm(full.weights, M), latent.weights
    err = float(((w_full - w_lat).abs().max() / w_lat.abs().max()).cpu())  # weights stay on the device; histories are on the host
    for key in ("own_core", "background", "hinge_id", "hinge_ood", "delta"):
        err = max(err, float((full.history[key] - latent.history[key]).abs().max() / latent.history[key].abs().max().clamp_min(1e-12)))
    return Outcome([exact("invariant/latent-equals-full", "max relative gap, latent vs full-space trajectory", err, TOLERANCE, reg.replicates)], asdict(reg), reg.seed)


REGIMES = st.builds(CouplingRegime, m=st.sampled_from((4, 16, 32)), d=st.sampled_from((64, 128, 512)), activation=st.sampled_from(("relu", "identity", "leaky_relu", "gelu")),
                    seed=SEEDS)


@fc_settings()
@given(reg=REGIMES)
@example(reg=CouplingRegime())
def test_latent_equals_full(fc, reg: CouplingRegime) -> None:
    fc.check(check_latent_equals_full, paper_coupled, reg)
