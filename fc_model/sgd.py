"""The hot loop: the training stream and the fused online-SGD update, batched over replicates.

Weights, batches and every intermediate live on the weights' device; nothing here reads a
value back to the host, so a GPU runs the steps without synchronising.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F

from fc_model.config import SGD, Activation
from fc_model.data import generator, to_input, workspace_size
from fc_model.model import TheoryModel
from fc_model.network import hinge_gradient, second_layer


def fused_layout(W: torch.Tensor) -> torch.Tensor:
    """``W`` (``R x m x D``) stored with ``W.transpose(1, 2)`` contiguous, as the fused update wants."""
    return W.transpose(1, 2).contiguous().transpose(1, 2)


def fused_update(act: Activation, a: torch.Tensor, scale: float, W: torch.Tensor, batch: int) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]:
    """``W <- W - eta * closed_form_gradient(...)`` in few kernels and no allocations (the hot loop).

    Same arithmetic as Lemma 1.1's closed form (``tests/test_model.py`` checks the two agree):
    the per-sample factor ``eta/B * y * 1{y f < 1}`` is folded into ``x`` (``B x D``, smaller
    than ``B x m``), the hinge indicator is ``sign(relu(eta/B - y_s f))`` and the activation's
    is ``sign(relu(pre))`` (float kernels: comparisons to bool tensors are several times
    slower), for leaky ReLU ``slope + (1 - slope) 1{pre > 0}``. ``W`` is updated in place and
    must be stored with ``W.transpose(1, 2)`` contiguous (``simulate`` does so); ``y_s`` arrives
    pre-scaled by ``eta/B``. The returned function takes ``x`` (``R x B x D``, fastest when
    stored feature-major, as ``sample_latent`` does), ``x.transpose(1, 2)`` and ``y_s``."""
    R, m, D = W.shape
    Wt = W.transpose(1, 2)
    kw = {"dtype": W.dtype, "device": W.device}
    pre = torch.empty((R, batch, m), **kw)
    rows = pre.view(R * batch, m)
    f = torch.empty((R, batch), **kw)
    f_flat = f.view(-1)
    coef = f.unsqueeze(1)  # the hinge factor overwrites f in place
    xct = torch.empty((R, D, batch), **kw)  # (coef x)^T, contiguous for baddbmm
    s = torch.tensor(scale, **kw)
    slope = act.slope

    def update(x: torch.Tensor, xt: torch.Tensor, y_scaled: torch.Tensor) -> None:
        torch.bmm(x, Wt, out=pre)
        if act.name == "identity":
            torch.mv(rows, a, out=f_flat)
        elif act.name == "leaky_relu":
            torch.mv(F.leaky_relu(rows, slope), a, out=f_flat)
            pre.clamp_min_(0).sign_().mul_(1.0 - slope).add_(slope).mul_(a)
        else:
            pre.clamp_min_(0)
            torch.mv(rows, a, out=f_flat)
            pre.sign_().mul_(a)
        torch.addcmul(s, y_scaled, f, value=-1, out=f)  # > 0 iff y f < 1 (y_s = eta/B y, eta/B > 0)
        f.clamp_min_(0).sign_().mul_(y_scaled)
        torch.mul(xt, coef, out=xct)
        if act.name == "identity":
            Wt.add_(xct.sum(2).unsqueeze(-1) * a)  # the indicator is 1, so x^T G = (sum_b xc_b) a^T
        else:
            Wt.baddbmm_(xct, pre)

    return update


def training_batches(model: TheoryModel, sgd: SGD, replicates: int, seed: int, device: torch.device, dtype: torch.dtype, chunk_elements: int,
             y_scale: float) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """The training stream: per step ``(z, z^T, y * y_scale)`` for all replicates (``R x B x d0``).

    Batches are drawn ``chunk`` steps at a time, in one sampler call for ``chunk * R``
    replicates of one batch each (samplers draw iid across replicates), so that each step's
    batch is one ``R x B x d0`` slice. The chunk size sets the order in which the stream is
    consumed, so a trajectory is reproducible for a fixed ``chunk_elements`` (the default
    everywhere).
    """
    fm, B, D0 = model.features, sgd.batch, model.features.d0
    train_gen = generator(seed, "train", device)
    chunk = max(1, chunk_elements // (replicates * B * D0))
    # one workspace (and one scaled-label buffer) for every chunk: fresh multi-MB buffers cost page faults
    workspace = torch.empty(workspace_size(fm, chunk * replicates, B), dtype=dtype, device=device)
    scaled = torch.empty((chunk, replicates, B), dtype=dtype, device=device) if y_scale != 1.0 else None
    step = 0
    while step < sgd.steps:
        n = min(chunk, sgd.steps - step)
        s = model.sampler(fm, train_gen, n * replicates, B, dtype=dtype, workspace=workspace)
        zs = s.z.reshape(n, replicates, B, D0)
        ys = s.y.reshape(n, replicates, B)
        if scaled is not None:
            ys = torch.mul(ys, y_scale, out=scaled[:n])
        yield from zip(zs.unbind(0), zs.transpose(2, 3).unbind(0), ys.unbind(0), strict=True)  # unbind: one call makes every view
        step += n


def stepper(model: TheoryModel, sgd: SGD, W: torch.Tensor, M: torch.Tensor | None, noise_gen: torch.Generator | None) -> tuple[Callable[..., None], float]:
    """One SGD step on ``W`` in place from a batch of ``training_batches``, and the ``y_scale`` it expects."""
    fm, net = model.features, model.network
    a = second_layer(net.m, W.dtype, W.device)
    scale = sgd.eta / sgd.batch
    if model.gradient is hinge_gradient and net.activation.piecewise_linear:
        update = fused_update(net.activation, a, scale, W, sgd.batch)
        if M is None:
            return update, scale

        def full_space(z: torch.Tensor, zt: torch.Tensor, y: torch.Tensor) -> None:
            x = to_input(z, M, fm.noise, noise_gen)
            update(x, x.transpose(1, 2), y)

        return full_space, scale

    def step(z: torch.Tensor, zt: torch.Tensor, y: torch.Tensor) -> None:
        x = z if M is None else to_input(z, M, fm.noise, noise_gen)
        W.sub_(model.gradient(net.activation, W, x, y, a), alpha=sgd.eta)

    return step, 1.0


def sgd_steps(model: TheoryModel, sgd: SGD, W: torch.Tensor, M: torch.Tensor | None, seed: int, chunk_elements: int) -> Iterator[int]:
    """Update ``W`` in place, one online-SGD step at a time, yielding the step count after each."""
    noise_gen = generator(seed, "probe", W.device) if model.features.noise > 0 else None
    step_fn, y_scale = stepper(model, sgd, W, M, noise_gen)
    for step, batch in enumerate(training_batches(model, sgd, W.shape[0], seed, W.device, W.dtype, chunk_elements, y_scale), 1):
        step_fn(*batch)
        yield step
