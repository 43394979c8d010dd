"""The general numerical setting of Figure 3(d), batched over replicates, and its variants.

Facts from the authors' public code (the script ``toy.py`` of their GitHub repository
trzhang0116/feature-contamination): logistic loss, AdamW (lr 1e-3, weight decay 1e-3), a
trainable output layer, biases, width 256, 32 core + 32 background coordinates mapped by a
random orthogonal map into input dimension 256, a fixed training set of n = 1000 used full
batch; class +1 core uniform on the unit sphere, class -1 on the radius-2 sphere; background
``U(0,1)^32`` in training and ``-U(0,1)^32`` at test. "Correlation" is the mean over neurons of
the L2 norm of the first-layer weights projected onto the core (background) subspace.

The same script's switches, as facts: ``loss_name`` (logistic or hinge), ``opt`` (AdamW, or SGD
with momentum 0.9 and the same learning rate and weight decay), ``nonlinear = False`` (the core
is ``U[0,1]^32`` for class +1 and ``-U[0,1]^32`` for class -1: the ``signed`` core here),
``mlp_freeze_output`` (the output weights set to ``+1/width`` for the first half of the last
hidden layer and ``-1/width`` for the rest, and the whole output layer, its bias included,
excluded from training) and ``mlp_n_layers`` (linear layers, ``>= 2``; hidden layers of width
``width``, the activation after every layer but the last). Its README names hinge + SGD +
``nonlinear = False`` + frozen output as the configuration that matches the theory.

Every variant runs through the one training loop below, so the default (logistic, AdamW, sphere
core, two layers) is the Figure 3(d) run it always was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from fc_model.config import Activation, Sphere, Uniform, _finite, _int_at_least
from fc_model.data import generator, orthonormal_columns
from fc_model.host import to_host
from fc_model.model import resolve_device
from fc_model.network import activate, second_layer

LOSSES = ("logistic", "hinge")
OPTIMIZERS = ("adamw", "sgd")
CORES = ("sphere", "signed")


@dataclass(frozen=True)
class GeneralSetting:
    k_core: int = 32
    k_bg: int = 32
    d: int = 256
    width: int = 256
    n_train: int = 1000
    n_test: int = 1000
    iterations: int = 20000
    lr: float = 1e-3
    weight_decay: float = 1e-3
    activation: Activation = field(default_factory=Activation)
    core_pos: Sphere = field(default_factory=lambda: Sphere(1.0))
    core_neg: Sphere = field(default_factory=lambda: Sphere(2.0))
    background: Uniform = field(default_factory=Uniform)
    ood_background: Uniform = field(default_factory=lambda: Uniform(-1.0, 0.0))
    record_every: int = 500
    loss: str = "logistic"  # "logistic": log(1 + exp(-y f)); "hinge": max(0, 1 - y f)
    optimizer: str = "adamw"  # "adamw", or "sgd" (with ``momentum``; weight decay added to the gradient, as torch.optim.SGD)
    momentum: float = 0.9  # SGD only
    freeze_output: bool = False  # output weights fixed at +-1/width (first half +), output bias fixed at its init draw
    core: str = "sphere"  # "sphere": core_pos / core_neg spheres; "signed": y * U[0,1]^k_core
    layers: int = 2  # linear layers (the authors' mlp_n_layers): layers - 1 hidden layers of width ``width``

    def __post_init__(self) -> None:
        for name, low in (("k_core", 1), ("k_bg", 1), ("width", 1), ("n_train", 2), ("n_test", 2), ("iterations", 0), ("record_every", 1), ("layers", 2)):
            _int_at_least(name, getattr(self, name), low)
        _int_at_least("d", self.d, self.k_core + self.k_bg)
        for name in ("lr", "weight_decay", "momentum"):
            _finite(name, getattr(self, name))
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        for name, allowed in (("loss", LOSSES), ("optimizer", OPTIMIZERS), ("core", CORES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not isinstance(self.freeze_output, bool):
            raise ValueError(f"freeze_output must be True or False, got {self.freeze_output!r}")
        if self.freeze_output and self.width % 2:
            raise ValueError(f"width must be even when freeze_output is set (half +1/width, half -1/width), got {self.width}")


@dataclass
class GeneralResult:
    """Per checkpoint and replicate (``n_checkpoints x R``), on the host.

    ``asymmetry``: the mean over the last hidden layer's neurons of ``Delta_k = y_k (p_k(+1) -
    p_k(-1))``, ``p_k(c)`` the share of class-``c`` training points on which neuron ``k``'s
    pre-activation is positive and ``y_k`` the sign of its current output weight (its own class;
    with a frozen output layer, the theory's ``sign(a_k)``). ``train_loss`` and ``ood_loss`` are the
    setting's loss (logistic or hinge), on the training set and on the OOD test set."""

    steps: list[int]
    core_corr: torch.Tensor  # n_checkpoints x R
    bg_corr: torch.Tensor
    train_loss: torch.Tensor
    ood_loss: torch.Tensor
    asymmetry: torch.Tensor


def _sphere(gen: torch.Generator, shape: tuple[int, ...], dim: int, radius: float, dtype: torch.dtype) -> torch.Tensor:
    g = torch.randn((*shape, dim), generator=gen, device=gen.device, dtype=dtype)
    return radius * g / g.norm(dim=-1, keepdim=True)


def general_data(cfg: GeneralSetting, gen: torch.Generator, R: int, n: int, dtype: torch.dtype, *, ood: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Latent data ``R x n x (k_core + k_bg)`` and labels ``R x n``."""
    y = torch.randint(0, 2, (R, n), generator=gen, device=gen.device).to(dtype).mul_(2).sub_(1)
    if cfg.core == "signed":
        core = torch.rand((R, n, cfg.k_core), generator=gen, device=gen.device, dtype=dtype) * y.unsqueeze(-1)
    else:
        pos = _sphere(gen, (R, n), cfg.k_core, cfg.core_pos.radius, dtype)
        neg = _sphere(gen, (R, n), cfg.k_core, cfg.core_neg.radius, dtype)
        core = torch.where((y > 0).unsqueeze(-1), pos, neg)
    u = torch.rand((R, n, cfg.k_bg), generator=gen, device=gen.device, dtype=dtype)
    bg = (cfg.ood_background if ood else cfg.background).from_unit(u)
    return torch.cat([core, bg], -1), y


def init_params(cfg: GeneralSetting, gen: torch.Generator, R: int, dtype: torch.dtype) -> list[torch.Tensor]:
    """PyTorch's default ``nn.Linear`` init: ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights and biases.

    Layer by layer, weight then bias (``[W1, b1, W2, b2, ...]``, ``W_i`` as ``R x out x in``, biases
    ``R x 1 x out``), so a two-layer setting draws exactly what it drew before depth existed.
    With ``freeze_output`` the output weights are then set to ``+-1/width`` (the draw is made all
    the same, so the other parameters do not depend on the switch)."""

    def u(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
        b = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen, device=gen.device, dtype=dtype) * 2 - 1) * b

    dims = [cfg.d] + [cfg.width] * (cfg.layers - 1) + [1]
    params: list[torch.Tensor] = []
    for fan_in, out in zip(dims[:-1], dims[1:], strict=True):
        params += [u((R, out, fan_in), fan_in), u((R, 1, out), fan_in)]
    if cfg.freeze_output:
        params[-2] = second_layer(cfg.width, dtype, gen.device).expand(R, 1, cfg.width).clone()
    return params


def through_activation(act: Activation, grad: torch.Tensor, pre: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``grad * sigma'(pre)``, given ``out = sigma(pre)``: autograd's own backward kernels (so its
    conventions: 0 at ReLU's kink, the slope at leaky ReLU's, GELU's exact form, softplus linear
    above its threshold 20), but for ReLU and identity. ``grad`` may be overwritten."""
    name = act.name
    if name == "relu":
        return grad.mul_(torch.sign(out))  # one float kernel; ReLU's threshold_backward is several times slower on CPU
    if name == "identity":
        return grad
    if name == "leaky_relu":
        return torch.ops.aten.leaky_relu_backward(grad, pre, act.slope, False)
    if name == "gelu":
        return torch.ops.aten.gelu_backward(grad, pre)
    if name == "sigmoid":
        return torch.ops.aten.sigmoid_backward(grad, out)
    if name == "tanh":
        return torch.ops.aten.tanh_backward(grad, out)
    if name == "softplus":
        return torch.ops.aten.softplus_backward(grad, pre, 1.0, 20.0)
    raise ValueError(f"unknown activation {name!r}")


def train_general(cfg: GeneralSetting, replicates: int, seed: int, *, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> GeneralResult:
    """Full-batch training of ``replicates`` networks batched on dimension 0 (AdamW or SGD with momentum).

    Both optimisers are elementwise and each replicate's loss depends only on its own parameters,
    so one optimiser over the stacked tensors is exactly ``replicates`` independent optimisers. The
    parameters and data live on ``device``; the recorded curves cross to the host once, at the end.
    """
    if not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates must be an integer >= 1, got {replicates!r}")
    dev = resolve_device(device)
    R = replicates
    M = orthonormal_columns(generator(seed, "dictionary", dev), R, cfg.d, cfg.k_core + cfg.k_bg, dtype)
    z, y = general_data(cfg, generator(seed, "train", dev), R, cfg.n_train, dtype, ood=False)
    zt, yt = general_data(cfg, generator(seed, "eval", dev), R, cfg.n_test, dtype, ood=True)
    drawn = init_params(cfg, generator(seed, "init", dev), R, dtype)
    # weights are stored transposed (R x in x out, contiguous): the forward and weight-gradient bmm
    # then read contiguous operands, about 25% faster on CPU than the nn.Linear layout
    weights = [w.transpose(1, 2).contiguous() for w in drawn[0::2]]
    biases = drawn[1::2]
    trainable = [p for pair in zip(weights, biases, strict=True) for p in pair]
    if cfg.freeze_output:
        trainable = trainable[:-2]  # the output layer (weights and bias) keeps its values, as the authors' requires_grad = False
    W1t, b1 = weights[0], biases[0]
    hidden = list(zip(weights[1:-1], biases[1:-1], strict=True))
    Wout_t, bout = weights[-1], biases[-1]
    Mt = M.transpose(1, 2).contiguous()  # R x (k_core + k_bg) x d
    # SGD (with momentum and coupled weight decay) is linear in the weights, the gradient and its
    # buffer, and the gradient of W1^T lies in the span of M's columns; so the latent weights
    # P = M^T W1^T follow SGD on their own, with the same settings and the gradient M^T dL/dW1^T.
    # SGD then trains P itself: two products of the first layer's size fewer a step, and an update
    # a quarter the size (``tests/test_model.py`` checks the run against SGD on W1 in input space).
    # AdamW acts coordinate by coordinate in input space, so there W1 itself is trained.
    latent = cfg.optimizer == "sgd"
    if latent:
        trainable[0] = torch.bmm(Mt, W1t)
    params = trainable  # plain tensors: their gradients are written by hand (``backprop``), no graph is built
    first = params[0]  # W1^T (R x d x width) or, under SGD, P (R x (k_core + k_bg) x width)
    if cfg.optimizer == "adamw":
        opt: torch.optim.Optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

    def latent_weights() -> torch.Tensor:
        """``M^T W1^T`` (``R x (k_core + k_bg) x width``): row ``i`` is every neuron's projection on feature ``i``."""
        return first if latent else torch.bmm(Mt, first)

    def last_hidden(latent: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
        """Pre-activations of the last hidden layer (``R x n x width``)."""
        # x W1^T = (z M^T) W1^T = z (M^T W1^T): the same first layer applied to x = M z, with a third
        # of the multiply-adds (d = 256 against k_core + k_bg = 64). Under AdamW, W1 itself and the optimiser stay in input space.
        pre = torch.baddbmm(b1, latent, P)
        for Wt, b in hidden:
            pre = torch.baddbmm(b, activate(cfg.activation, pre), Wt)
        return pre

    def output(pre: torch.Tensor) -> torch.Tensor:
        # The one-unit output layer as a product and a sum over the width, not a batched product with
        # one column: on CPU that bmm, and above all its weight gradient h^T g (a transposed operand
        # and one column), took about as long as the first layer's full product under autograd
        # (activation, output layer and their gradients: 9.9 ms against 20.6 ms a step at R = 12,
        # n = 1000, width 256). ``backprop`` below takes h^T g as a row, g^T h, for the same reason.
        return (activate(cfg.activation, pre) * Wout_t.transpose(1, 2)).sum(-1) + bout.squeeze(-1)

    def loss_of(f: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        margin = labels * f
        return (F.softplus(-margin) if cfg.loss == "logistic" else torch.relu(1 - margin)).mean(-1)

    pos = (y > 0).to(dtype)
    n_pos, n_neg = pos.sum(-1, keepdim=True).clamp_min(1), (1 - pos).sum(-1, keepdim=True).clamp_min(1)
    steps: list[int] = []
    rows: list[tuple[torch.Tensor, ...]] = []

    def record(step: int, train_loss: torch.Tensor, P: torch.Tensor) -> None:
        with torch.no_grad():
            core = P[:, : cfg.k_core].norm(dim=1).mean(-1)  # per neuron, the norm of its core projection
            bg = P[:, cfg.k_core :].norm(dim=1).mean(-1)
            ood = loss_of(output(last_hidden(zt, P)), yt)
            active = (last_hidden(z, P) > 0).to(dtype)  # R x n x width
            rate_pos = torch.bmm(pos.unsqueeze(1), active).squeeze(1) / n_pos
            rate_neg = torch.bmm((1 - pos).unsqueeze(1), active).squeeze(1) / n_neg
            own = torch.sign(Wout_t.squeeze(-1))  # R x width: the class each neuron votes for
            asym = (own * (rate_pos - rate_neg)).mean(-1)
        steps.append(step)
        rows.append((core, bg, train_loss.clone(), ood, asym))

    # The gradients are written by hand (``backprop``) into buffers the optimiser reads as ``.grad``:
    # on a CPU, a few replicates at a time, so that the ``n x width`` activations and their
    # gradients stay in cache. Autograd over the whole batch made about eight passes over
    # ``R x n x width`` tensors (12 MB at R = 12) a step, as costly as the products themselves.
    # ``tests/test_model.py`` checks the runs against plain autograd loops, every activation included.
    grads = [torch.zeros_like(p) for p in params]
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    chunk = R if dev.type != "cpu" else max(1, (1 << 20) // (cfg.n_train * cfg.width))
    train_loss = torch.empty(R, dtype=dtype, device=dev)
    M_rows = M.contiguous()  # R x d x (k_core + k_bg)

    def backprop(s: slice) -> None:
        """Forward and backward for replicates ``s``: their training loss, and every trainable
        parameter's gradient of it (the mean over the training set) into ``grads``."""
        zs, ys = z[s], y[s]
        P = first[s] if latent else torch.bmm(Mt[s], first[s])
        pres = [torch.baddbmm(b1[s], zs, P)]
        outs = [activate(cfg.activation, pres[0])]
        for Wt, b in hidden:
            pres.append(torch.baddbmm(b[s], outs[-1], Wt[s]))
            outs.append(activate(cfg.activation, pres[-1]))
        w_row = Wout_t[s].transpose(1, 2)  # c x 1 x width
        f = (outs[-1] * w_row).sum(-1) + bout[s].squeeze(-1)
        margin = ys * f
        train_loss[s] = loss_of(f, ys)
        if cfg.loss == "logistic":  # d softplus(-m) / dm = -sigmoid(-m); softplus is linear above its threshold 20, as torch's
            slope = torch.where(margin < -20, torch.ones_like(margin), torch.sigmoid(-margin))
        else:  # d relu(1 - m) / dm = -1{1 - m > 0}, 0 at the kink (as autograd)
            slope = (1 - margin).clamp_min_(0).sign_()
        g_f = slope.mul_(ys).mul_(-1.0 / cfg.n_train)  # d mean loss / d f, c x n
        if not cfg.freeze_output:
            k = len(grads) - 2
            torch.bmm(g_f.unsqueeze(1), outs[-1], out=grads[k][s].view(g_f.shape[0], 1, -1))  # h^T g as a row: c x 1 x width
            torch.sum(g_f, -1, out=grads[k + 1][s].view(-1))
        delta = through_activation(cfg.activation, g_f.unsqueeze(-1) * w_row, pres[-1], outs[-1])
        for layer in range(len(pres) - 1, 0, -1):  # the hidden layers, last first: layer l reads outs[l - 1]
            torch.bmm(outs[layer - 1].transpose(1, 2), delta, out=grads[2 * layer][s])
            torch.sum(delta, 1, keepdim=True, out=grads[2 * layer + 1][s])
            delta = through_activation(cfg.activation, torch.bmm(delta, hidden[layer - 1][0][s].transpose(1, 2)), pres[layer - 1], outs[layer - 1])
        torch.sum(delta, 1, keepdim=True, out=grads[1][s])
        if latent:
            torch.bmm(zs.transpose(1, 2), delta, out=grads[0][s])  # dL/dP = z^T delta
        else:
            torch.bmm(M_rows[s], torch.bmm(zs.transpose(1, 2), delta), out=grads[0][s])  # dL/dW1^T = M (z^T delta): x = M z

    for it in range(cfg.iterations + 1):
        for i in range(0, R, chunk):
            backprop(slice(i, min(R, i + chunk)))
        if it % cfg.record_every == 0 or it == cfg.iterations:
            record(it, train_loss, latent_weights())
        if it == cfg.iterations:
            break
        opt.step()
    names = ("core", "bg", "train", "ood", "asym")
    host = to_host({n: torch.stack(c) for n, c in zip(names, zip(*rows, strict=True), strict=True)})  # one crossing to the host
    return GeneralResult(steps, *(host[n] for n in names))
