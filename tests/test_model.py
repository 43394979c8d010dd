"""Unit tests of fc_model: validation, samplers, gradients, reproducibility, latent reduction."""

from __future__ import annotations

import math

import pytest
import torch

from fc_model import (
    SGD,
    Activation,
    FeatureModel,
    Network,
    Schedule,
    TheoryModel,
    Uniform,
    autograd_gradient,
    closed_form_gradient,
    dictionary,
    generator,
    sample_latent,
    second_layer,
    simulate,
)
from fc_model.config import ACTIVATIONS
from fc_model.data import label_background_correlation
from fc_model.distill import Distillation
from fc_model.general import GeneralSetting, train_general
from fc_model.network import activate
from fc_model.simulate import resolve_device


@pytest.mark.parametrize(("build", "field"), [
    (lambda: Network(m=3), "m"), (lambda: Network(m=0), "m"), (lambda: FeatureModel(k_core=0), "k_core"),
    (lambda: FeatureModel(k_core=8, k_bg=8, d=16), "d"), (lambda: SGD(eta=0.0), "eta"), (lambda: SGD(eta=-1.0), "eta"),
    (lambda: Uniform(1.0, 1.0), "non-empty"), (lambda: Uniform(float("nan"), 1.0), "Uniform.low"), (lambda: SGD(eta=float("nan")), "eta"),
    (lambda: Activation("swish"), "activation"), (lambda: Activation("leaky_relu", 1.5), "slope"), (lambda: FeatureModel(layout="mixed"), "layout"),
    (lambda: FeatureModel(noise=-1.0), "noise"), (lambda: Network(sigma0=0.0), "sigma0"), (lambda: resolve_device("tpu"), "device"),
    (lambda: GeneralSetting(lr=0.0), "lr"), (lambda: Distillation(width=0), "width"), (lambda: SGD(batch=0), "batch"),
    (lambda: GeneralSetting(loss="mse"), "loss"), (lambda: GeneralSetting(optimizer="adam"), "optimizer"), (lambda: GeneralSetting(core="ball"), "core"),
    (lambda: GeneralSetting(layers=1), "layers"), (lambda: GeneralSetting(momentum=1.0), "momentum"), (lambda: GeneralSetting(freeze_output=True, width=7), "width"),
])
def test_invalid_configuration_names_the_field(build, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        build()


def test_nothing_runs_on_invalid_replicates() -> None:
    with pytest.raises(ValueError, match="replicates"):
        simulate(TheoryModel(), SGD(steps=1), 0, 0)


@pytest.mark.parametrize("layout", ["disjoint", "signed"])
def test_sampler_support_and_class_structure(layout: str) -> None:
    fm = FeatureModel(k_core=4, k_bg=3, d=64, layout=layout)
    s = sample_latent(fm, generator(1, "train"), 3, 500, paired_ood=True)
    assert s.z.shape == (3, 500, fm.d0) and set(s.y.unique().tolist()) == {-1.0, 1.0}
    bg, bg_ood = s.z[..., fm.bg.start :], s.z_ood[..., fm.bg.start :]
    assert bg.min() >= 0 and bg.max() <= 1 and bg_ood.min() >= -1 and bg_ood.max() <= 0
    core = s.z[..., : fm.d0 - fm.k_bg]
    assert torch.equal(core, s.z_ood[..., : fm.d0 - fm.k_bg])  # paired: same labels and core draws
    pos = s.y > 0
    if layout == "disjoint":
        assert (core[..., 4:][pos] == 0).all() and (core[..., :4][~pos] == 0).all()
        assert (core[..., :4][pos] >= 0).all()
    else:
        assert (core[pos] >= 0).all() and (core[~pos] <= 0).all()


def test_id_background_is_uncorrelated_with_label() -> None:
    fm = FeatureModel()
    corr = label_background_correlation(sample_latent(fm, generator(3, "eval"), 8, 20_000), fm)
    # 8 replicates of a correlation with sd 1/sqrt(20000) = 0.007: |mean| under 6 se
    assert corr.mean().abs() < 6 * 0.0071 / math.sqrt(8)


def test_dictionary_is_orthonormal() -> None:
    M = dictionary(FeatureModel(k_core=4, k_bg=4, d=50), generator(0, "dictionary"), 2)
    assert torch.allclose(M.transpose(1, 2) @ M, torch.eye(12, dtype=M.dtype).expand(2, 12, 12), atol=1e-12)


@pytest.mark.parametrize("act", [Activation("relu"), Activation("identity"), Activation("leaky_relu", 0.3)])
def test_closed_form_gradient_equals_autograd(act: Activation) -> None:
    g = torch.Generator().manual_seed(0)
    W, x = torch.randn(2, 8, 10, generator=g, dtype=torch.float64), torch.randn(2, 32, 10, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (2, 32), generator=g).double() * 2 - 1
    a = second_layer(8, torch.float64)
    torch.testing.assert_close(closed_form_gradient(act, W, x, y, a), autograd_gradient(act, W, x, y, a), rtol=1e-12, atol=1e-14)


def test_same_seed_is_bit_identical_on_cpu() -> None:
    sgd = SGD(steps=50, schedule=Schedule(dense_until=10, every=10))
    a, b = simulate(TheoryModel(), sgd, 4, 7), simulate(TheoryModel(), sgd, 4, 7)
    assert torch.equal(a.weights, b.weights) and all(torch.equal(a.history[k], b.history[k]) for k in a.history)
    c = simulate(TheoryModel(), sgd, 4, 8)
    assert not torch.equal(a.weights, c.weights)


def test_latent_and_full_space_training_agree() -> None:
    model = TheoryModel(FeatureModel(k_core=3, k_bg=2, d=40), Network(m=6))
    sgd = SGD(steps=60, batch=8, n_eval=32, schedule=Schedule(dense_until=5, every=20))
    full = simulate(model, sgd, 2, 3, dtype=torch.float64, space="full")
    M = dictionary(model.features, generator(3, "dictionary"), 2)
    lat = simulate(model, sgd, 2, 3, dtype=torch.float64, init=torch.bmm(full.weights0, M))
    torch.testing.assert_close(torch.bmm(full.weights, M), lat.weights, rtol=1e-10, atol=1e-12)


def test_replicates_are_independent_streams_of_one_program() -> None:
    t = simulate(TheoryModel(), SGD(steps=20), 3, 0)
    assert not torch.equal(t.weights[0], t.weights[1])


def test_general_setting_batches_replicates_exactly() -> None:
    cfg = GeneralSetting(iterations=3, width=8, n_train=20, n_test=20, record_every=1)
    res = train_general(cfg, 2, 5)
    assert res.bg_corr.shape == (4, 2) and torch.isfinite(res.ood_loss).all()
    assert abs(float(res.bg_corr[0].mean()) - math.sqrt(32 / (3 * 256))) < 0.05  # U(+-1/16) init: norm of a 32-dim projection


@pytest.mark.parametrize("act", [Activation("relu"), Activation("identity"), Activation("leaky_relu", 0.25)])
def test_fused_hot_loop_matches_the_closed_form(act: Activation) -> None:
    from dataclasses import replace

    model = TheoryModel(network=Network(m=8, activation=act))
    sgd = SGD(steps=200, schedule=Schedule(dense_until=0, every=50))
    fast = simulate(model, sgd, 3, 1, dtype=torch.float64)
    reference = simulate(replace(model, gradient=lambda *args: closed_form_gradient(*args)), sgd, 3, 1, dtype=torch.float64)
    torch.testing.assert_close(fast.weights, reference.weights, rtol=1e-10, atol=1e-13)


def test_general_setting_equals_an_input_space_reference() -> None:
    """``train_general`` multiplies latent data by ``M^T W1^T``; a plain loop on ``x = M z`` must give the same run."""
    from fc_model.data import orthonormal_columns
    from fc_model.general import general_data, init_params

    cfg = GeneralSetting(iterations=4, width=8, n_train=20, n_test=20, record_every=2, d=80)
    R, seed, f64 = 2, 3, torch.float64
    res = train_general(cfg, R, seed, dtype=f64)
    M = orthonormal_columns(generator(seed, "dictionary"), R, cfg.d, cfg.k_core + cfg.k_bg, f64)
    z, y = general_data(cfg, generator(seed, "train"), R, cfg.n_train, f64, ood=False)
    params = init_params(cfg, generator(seed, "init"), R, f64)
    for r in range(R):
        W1, b1, W2, b2 = (p[r].clone().requires_grad_(True) for p in params)
        opt = torch.optim.AdamW([W1, b1, W2, b2], lr=cfg.lr, weight_decay=cfg.weight_decay)
        x = z[r] @ M[r].T
        for _ in range(cfg.iterations):
            opt.zero_grad()
            torch.nn.functional.softplus(-y[r] * (torch.relu(x @ W1.T + b1) @ W2.T + b2).squeeze(-1)).mean().backward()
            opt.step()
        bg = (W1.detach() @ M[r][:, cfg.k_core :]).norm(dim=-1).mean()
        torch.testing.assert_close(res.bg_corr[-1, r], bg, rtol=1e-10, atol=1e-12)


def test_onset_steps_matches_the_recorded_trajectory() -> None:
    """``onset_steps`` (which drops replicates from its batch once they meet the criterion) finds
    the same ``T0`` as ``simulate`` recording the criterion at every step on the same streams.

    In float64: the split changes the shapes of the batched products, and in float32 the rounding
    of those products depends on the CPU's BLAS kernel (on one AMD EPYC a replicate's T0 moved from
    50 to 37). In float64 a rounding difference is about 1e-16 and does not flip the criterion."""
    from fc_model.simulate import onset_steps

    model = TheoryModel(FeatureModel(d=2**12), Network(m=16))
    sgd = SGD(eta=0.02, steps=300, schedule=Schedule(dense_until=300, every=1))
    recorded = simulate(model, sgd, 12, 4, dtype=torch.float64).onset_step()
    found = onset_steps(model, sgd, 12, 4, dtype=torch.float64, sync_every=7)
    assert recorded.isnan().sum() < 12 and len(set(recorded[~recorded.isnan()].tolist())) > 3  # spread out: the batch is split
    torch.testing.assert_close(found, recorded, equal_nan=True)
    # the held-out activations computed a few replicates at a time (as on a CPU at larger m) find the same T0
    torch.testing.assert_close(onset_steps(model, sgd, 12, 4, dtype=torch.float64, sync_every=7, eval_chunk=5), recorded, equal_nan=True)
    with pytest.raises(ValueError, match="eval_chunk"):
        onset_steps(model, sgd, 12, 4, eval_chunk=0)


def test_sampler_workspace_gives_the_same_draws_and_is_validated() -> None:
    from fc_model.data import workspace_size

    fm = FeatureModel(k_core=3, k_bg=2, d=40)
    fresh = sample_latent(fm, generator(5, "train"), 4, 7)
    ws = torch.full((workspace_size(fm, 4, 7) + 3,), float("nan"))
    reused = sample_latent(fm, generator(5, "train"), 4, 7, workspace=ws)
    assert torch.equal(fresh.z, reused.z) and torch.equal(fresh.y, reused.y)
    with pytest.raises(ValueError, match="workspace"):
        sample_latent(fm, generator(5, "train"), 4, 7, workspace=torch.empty(10))


@pytest.mark.parametrize("variant", ["theory-matching", "depth-3", *(f"depth-3-{a}" for a in ACTIVATIONS if a != "relu"), "hinge-adamw-gelu"])
def test_general_variants_equal_a_plain_loop(variant: str) -> None:
    """The hinge / SGD-momentum / frozen-output / signed-core switches, extra hidden layers and every
    activation run through the same batched loop, whose gradients are written by hand; per replicate,
    a plain autograd loop on ``x = M z`` (the authors' script's structure: linear layers with biases,
    the activation between them) gives the same run (float64)."""
    from fc_model.data import orthonormal_columns
    from fc_model.general import general_data, init_params

    small = {"iterations": 5, "width": 8, "n_train": 20, "n_test": 20, "record_every": 5, "d": 80}
    if variant == "theory-matching":
        cfg = GeneralSetting(**small, loss="hinge", optimizer="sgd", freeze_output=True, core="signed", lr=0.05)
    elif variant == "hinge-adamw-gelu":  # a trained output layer under the hinge, with a smooth activation
        cfg = GeneralSetting(**small, loss="hinge", activation=Activation("gelu"), lr=0.05)
    else:  # lr 0.05: the weights move enough in 5 steps that a wrong derivative shows
        name = variant.removeprefix("depth-3").removeprefix("-") or "relu"
        cfg = GeneralSetting(**small, layers=3, activation=Activation(name, 0.2), lr=0.05)
    R, seed, f64 = 2, 3, torch.float64
    res = train_general(cfg, R, seed, dtype=f64)
    M = orthonormal_columns(generator(seed, "dictionary"), R, cfg.d, cfg.k_core + cfg.k_bg, f64)
    z, y = general_data(cfg, generator(seed, "train"), R, cfg.n_train, f64, ood=False)
    zt, yt = general_data(cfg, generator(seed, "eval"), R, cfg.n_test, f64, ood=True)
    params = init_params(cfg, generator(seed, "init"), R, f64)
    if variant == "theory-matching":
        assert torch.equal(params[-2][0, 0, :4], torch.full((4,), 1 / 8, dtype=f64)) and torch.equal(params[-2][0, 0, 4:], torch.full((4,), -1 / 8, dtype=f64))
        assert bool((z[..., :32] * y.unsqueeze(-1) >= 0).all())  # the signed core: y * U[0, 1]
    for r in range(R):
        layers = [p[r].clone() for p in params]
        trainable = layers[:-2] if cfg.freeze_output else layers
        for p in trainable:
            p.requires_grad_(True)
        if cfg.optimizer == "sgd":
            opt = torch.optim.SGD(trainable, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        else:
            opt = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)

        def net(x: torch.Tensor, layers: list[torch.Tensor] = layers) -> torch.Tensor:
            h = x @ layers[0].T + layers[1]
            for i in range(2, len(layers), 2):
                h = activate(cfg.activation, h) @ layers[i].T + layers[i + 1]
            return h.squeeze(-1)

        def loss(x: torch.Tensor, labels: torch.Tensor, net=net) -> torch.Tensor:  # noqa: ANN001
            m = labels * net(x)
            return (torch.relu(1 - m) if cfg.loss == "hinge" else torch.nn.functional.softplus(-m)).mean()

        x, xt = z[r] @ M[r].T, zt[r] @ M[r].T
        for _ in range(cfg.iterations):
            opt.zero_grad()
            loss(x, y[r]).backward()
            opt.step()
        with torch.no_grad():
            bg = (layers[0] @ M[r][:, cfg.k_core :]).norm(dim=-1).mean()
            torch.testing.assert_close(res.bg_corr[-1, r], bg, rtol=1e-10, atol=1e-12)
            torch.testing.assert_close(res.ood_loss[-1, r], loss(xt, yt[r]), rtol=1e-10, atol=1e-12)
            torch.testing.assert_close(res.train_loss[-1, r], loss(x, y[r]), rtol=1e-10, atol=1e-12)
            pre = x @ layers[0].T + layers[1]
            for i in range(2, len(layers) - 2, 2):
                pre = activate(cfg.activation, pre) @ layers[i].T + layers[i + 1]
            active, own = (pre > 0).double(), torch.sign(layers[-2][0])
            delta = own * (active[y[r] > 0].mean(0) - active[y[r] < 0].mean(0))
            torch.testing.assert_close(res.asymmetry[-1, r], delta.mean(), rtol=1e-10, atol=1e-12)


def test_scaling_grid_keeps_the_points_under_its_eps_cap() -> None:
    """Theorem 4.1's T0 grid: ``max_eps`` leaves out the points with a larger ``eta sqrt(d) / m``
    (the pinned grid keeps 17 of 27 at 0.02); a cap that leaves none, or is not a positive number, is refused."""
    from theorems.test_theorem_4_1 import FULL_GRID, ScalingGrid

    kept = FULL_GRID.regimes()
    assert len(kept) == 17 and max(r.eps for r in kept) <= 0.02 + 1e-12
    assert len(ScalingGrid(m=FULL_GRID.m, eta=FULL_GRID.eta, log2_d=FULL_GRID.log2_d).regimes()) == 27
    for bad, said in ((0.0, "max_eps must be a number > 0"), (float("nan"), "max_eps must be a number > 0"), (1e-4, "no grid point")):
        with pytest.raises(ValueError, match=said):
            ScalingGrid(max_eps=bad)
