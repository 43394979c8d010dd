"""Theorem 4.1's ``T0`` located to one step, per replicate."""

from __future__ import annotations

import torch

from fc_model.config import SGD
from fc_model.data import generator
from fc_model.model import TheoryModel, resolve_device
from fc_model.observe import Onset, asymmetric_fractions
from fc_model.sgd import fused_layout, stepper, training_batches


def onset_steps(model: TheoryModel, sgd: SGD, replicates: int, seed: int, *, device: str | torch.device = "cpu",
                onset: Onset | None = None, dtype: torch.dtype = torch.float32, chunk_elements: int = 1 << 20,
                sync_every: int = 32, eval_chunk: int | None = None) -> torch.Tensor:
    """Theorem 4.1's ``T0`` per replicate, on the host: the first step (evaluated at every step
    on the ``sgd.n_eval`` held-out samples) at which the onset criterion holds; ``nan`` if it
    never does within ``sgd.steps`` (censored). Same seeds and streams as ``simulate``.

    Only activation rates are computed. Each step's criterion is written to a log on the device;
    the log crosses to the host once every ``sync_every`` steps (one synchronisation on a GPU),
    where ``T0`` is read off to the step. A replicate that has met the criterion stops being
    trained and evaluated at the next synchronisation (replicates are independent, so the
    others' runs do not change): whenever at most half of the running replicates are left,
    they are split off into a smaller batch, so that a few slow or censored replicates do not
    cost a full batch each step. The split changes the shapes of the batched products, so in
    float32 a replicate's rounding can differ from ``simulate``'s; compare the two in float64.

    ``eval_chunk``: replicates whose held-out activations are computed at once (``None``: about
    ``2^20`` activations' worth on a CPU, every replicate on a GPU).
    """
    if not isinstance(sync_every, int) or sync_every < 1:
        raise ValueError(f"sync_every must be an integer >= 1, got {sync_every!r}")
    if eval_chunk is not None and (not isinstance(eval_chunk, int) or eval_chunk < 1):
        raise ValueError(f"eval_chunk must be an integer >= 1 or None, got {eval_chunk!r}")
    onset = onset or Onset()
    dev = resolve_device(device)
    fm, net = model.features, model.network
    W = model.init(net, fm, generator(seed, "init", dev), replicates, fm.d0, dtype)
    ev = model.sampler(fm, generator(seed, "eval", dev), replicates, sgd.n_eval, dtype=dtype)
    pos = (ev.y > 0).to(dtype)
    weights = torch.stack([pos / pos.sum(-1, keepdim=True).clamp_min(1), (1 - pos) / (1 - pos).sum(-1, keepdim=True).clamp_min(1)], 1)  # R x 2 x n
    half = net.m // 2
    # The held-out activations (R x n_eval x m) dominate a step's cost. On a CPU they are computed a
    # few replicates at a time, in a buffer of about 2^20 elements that stays in cache: measured
    # on one AMD EPYC core at n_eval = 400, m = 256, 96 replicates, 12 ms a step instead of 25 ms (Theorem 4.1's
    # 27-regime scaling grid: 128 s instead of 156 s on one core). A GPU
    # takes the whole batch at once (one kernel per operation).
    chunk = eval_chunk or (replicates if dev.type != "cpu" else max(1, (1 << 20) // (sgd.n_eval * net.m)))
    t0 = torch.full((replicates,), float("nan"), dtype=torch.float64)
    rows = torch.arange(replicates)  # host: the replicates in the running batch (indices into t0)

    def split(keep: torch.Tensor) -> tuple:
        """The running batch restricted to ``keep`` (positions in it, on the device): weights, eval data, buffers, step."""
        Wk = fused_layout(W[keep])
        step_fn, y_scale = stepper(model, sgd, Wk, None, None)
        active = torch.empty((min(len(keep), chunk), sgd.n_eval, net.m), dtype=dtype, device=dev)
        log = torch.empty((sync_every, len(keep)), dtype=torch.bool, device=dev)
        return Wk, ev_z[keep], weights_[keep], active, log, step_fn, y_scale

    def check(out: torch.Tensor) -> None:
        """Writes into ``out`` (on the device) which replicates of the running batch meet the criterion now."""
        n = W.shape[0]
        rates = torch.empty((n, 2, net.m), dtype=dtype, device=dev)  # p(+1), p(-1) per neuron
        for i in range(0, n, chunk):
            j = min(n, i + chunk)
            act = active[: j - i]
            torch.bmm(ev_z[i:j], W[i:j].transpose(1, 2), out=act).clamp_min_(0).sign_()  # 1{pre > 0} in float kernels (a bool comparison is slower)
            torch.bmm(weights_[i:j], act, out=rates[i:j])
        delta = torch.cat([rates[:, 0, :half] - rates[:, 1, :half], rates[:, 1, half:] - rates[:, 0, half:]], -1)
        out.copy_(onset.met(*asymmetric_fractions(delta, onset)))

    ev_z, weights_ = ev.z, weights
    W, ev_z, weights_, active, log, step_fn, y_scale = split(torch.arange(replicates, device=dev))
    running = torch.ones(replicates, dtype=torch.bool)  # host, updated at each synchronisation
    index = None  # the running rows on the device, once the batch has been split
    check(log[0])
    filled, first_step = 1, 0  # rows of the log written since the last synchronisation; the step of its first row
    batches = training_batches(model, sgd, replicates, seed, dev, dtype, chunk_elements, y_scale)
    step = 0
    while True:
        if filled == sync_every or step == sgd.steps:
            met = log[:filled].cpu()  # the one synchronisation of this block of steps
            hit = met.any(0) & running
            first = met.float().argmax(0)
            t0[rows[hit]] = (first_step + first[hit]).double()
            running &= ~hit
            left = int(running.sum())
            if left == 0 or step == sgd.steps:
                break
            if 2 * left <= len(rows):
                keep = running.nonzero().squeeze(1)
                rows, running = rows[keep], running[keep]
                index = rows.to(dev)
                W, ev_z, weights_, active, log, step_fn, _ = split(keep.to(dev))
            filled, first_step = 0, step + 1
        z, zt, y = next(batches)
        if index is not None:
            z, zt, y = z[index], zt[index], y[index]
        step_fn(z, zt, y)
        step += 1
        check(log[filled])
        filled += 1
    return t0
