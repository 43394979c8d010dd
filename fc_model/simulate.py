"""Batched online-SGD simulator of the theory setting and its observables (claims.md §2-3).

``R`` independent replicates run as the leading dimension of one tensor program. By default
the simulator runs in latent coordinates (the latent reduction of claims.md §2: with
``noise = 0`` only ``M^T w_k`` evolves, so the cost does not depend on ``d``; ``d`` enters
through the init scale only). ``space='full'`` trains in input space on ``x = M z + xi``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F

from fc_model.config import SGD, Activation, FeatureModel, Network
from fc_model.data import Sample, dictionary, generator, sample_latent, to_input, workspace_size
from fc_model.network import activate, hinge, hinge_gradient, own_class, second_layer

GradientFn = Callable[..., torch.Tensor]
SamplerFn = Callable[..., Sample]
InitFn = Callable[[Network, FeatureModel, torch.Generator, int, int, torch.dtype], torch.Tensor]


def gaussian_init(net: Network, fm: FeatureModel, gen: torch.Generator, replicates: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
    """``w_k(0) ~ N(0, sigma0^2 I_dim)`` with ``sigma0 = 1/sqrt(d)`` unless set."""
    w = torch.randn((replicates, net.m, dim), generator=gen, device=gen.device, dtype=dtype)
    return w.mul_(net.init_scale(fm.d))


@dataclass(frozen=True)
class TheoryModel:
    """The model under test: data, network, and the pieces a mutant may replace.

    ``gradient``, ``sampler``, ``init`` and ``dictionary`` default to the paper's model; the mutants in
    ``tests/`` swap one of them for a deliberately broken version and are named by ``name``. A
    sampler has ``sample_latent``'s signature, keywords included (the simulator passes
    ``workspace``; a wrapper forwards ``**kw``), and draws iid across replicates.
    """

    features: FeatureModel = field(default_factory=FeatureModel)
    network: Network = field(default_factory=Network)
    gradient: GradientFn = hinge_gradient
    sampler: SamplerFn = sample_latent
    init: InitFn = gaussian_init
    dictionary: Callable[[FeatureModel, torch.Generator, int, torch.dtype], torch.Tensor] = dictionary
    name: str = "paper"

    def __post_init__(self) -> None:
        if not isinstance(self.features, FeatureModel):
            raise ValueError(f"features must be a FeatureModel, got {self.features!r}")
        if not isinstance(self.network, Network):
            raise ValueError(f"network must be a Network, got {self.network!r}")


@dataclass(frozen=True)
class Onset:
    """Theorem 4.1's criterion: a fraction ``fraction`` of each class's own neurons has ``Delta_k >= delta``."""

    delta: float = 0.5
    fraction: float = 0.25

    def __post_init__(self) -> None:
        if not (0 < self.delta <= 1 and 0 < self.fraction <= 1):
            raise ValueError(f"Onset needs delta in (0, 1] and fraction in (0, 1], got {self}")

    def met(self, frac_pos: torch.Tensor, frac_neg: torch.Tensor) -> torch.Tensor:
        """Whether both classes' fractions of asymmetric neurons reach ``fraction`` (bool)."""
        return (frac_pos >= self.fraction) & (frac_neg >= self.fraction)


@dataclass
class Trajectory:
    """What a run recorded. ``history[name]`` is ``n_checkpoints x R``; ``final``/``initial``
    hold per-neuron observables (``R x m``) at the last and first checkpoints."""

    steps: list[int]
    history: dict[str, torch.Tensor]
    initial: dict[str, torch.Tensor]
    final: dict[str, torch.Tensor]
    weights0: torch.Tensor  # latent (or full-space) initial weights, R x m x D
    weights: torch.Tensor

    def onset_step(self) -> torch.Tensor:
        """Per replicate, the first recorded step meeting the onset criterion (``nan``: censored)."""
        met = self.history["onset_met"].bool()
        steps = torch.tensor(self.steps, dtype=torch.float64)
        first = torch.where(met.any(0), met.float().argmax(0), torch.full((met.shape[1],), -1))
        return torch.where(first >= 0, steps[first.clamp_min(0)], torch.tensor(float("nan"), dtype=torch.float64))


def resolve_device(device: str | torch.device) -> torch.device:
    """``'auto'`` is CUDA when available, else CPU; ``'cpu'``, ``'cuda'``, ``'cuda:N'`` as given."""
    text = str(device)
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu" or text == "cuda" or (text.startswith("cuda:") and text[5:].isdigit()):
        if text.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {text!r} requested but CUDA is not available; use 'cpu' or 'auto'")
        return torch.device(text)
    raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {text!r}")


def _asymmetric_fractions(delta: torch.Tensor, onset: Onset) -> tuple[torch.Tensor, torch.Tensor]:
    """Per replicate, the fractions of own-class +1 and own-class -1 neurons with ``Delta_k >= delta``."""
    asym = (delta >= onset.delta).to(delta.dtype)
    half = delta.shape[-1] // 2
    return asym[:, :half].mean(-1), asym[:, half:].mean(-1)


def _fused_layout(W: torch.Tensor) -> torch.Tensor:
    """``W`` (``R x m x D``) stored with ``W.transpose(1, 2)`` contiguous, as the fused update wants."""
    return W.transpose(1, 2).contiguous().transpose(1, 2)


def observe(model: TheoryModel, V: torch.Tensor, V0: torch.Tensor, ev: Sample, onset: Onset) -> dict[str, torch.Tensor]:
    """Observables of claims.md §3 from latent weights ``V`` (``R x m x d0``) on the eval set."""
    fm, net = model.features, model.network
    a = second_layer(net.m, V.dtype, V.device)
    yk = own_class(net.m, V.dtype, V.device)
    pre = torch.bmm(ev.z, V.transpose(1, 2))  # R x n x m
    active = (pre > 0).to(V.dtype)
    pos = (ev.y > 0).to(V.dtype)
    n_pos = pos.sum(-1, keepdim=True).clamp_min(1)
    n_neg = (1 - pos).sum(-1, keepdim=True).clamp_min(1)
    p_pos = torch.bmm(pos.unsqueeze(1), active).squeeze(1) / n_pos  # R x m
    p_neg = torch.bmm((1 - pos).unsqueeze(1), active).squeeze(1) / n_neg
    own_pos = yk > 0
    p_own = torch.where(own_pos, p_pos, p_neg)
    p_other = torch.where(own_pos, p_neg, p_pos)
    delta = p_own - p_other
    learned = V - V0
    core_pos = learned[..., fm.core_pos.start : fm.core_pos.stop].mean(-1)
    core_neg = learned[..., fm.core_neg.start : fm.core_neg.stop].mean(-1)
    bg = learned[..., fm.bg.start : fm.bg.stop].mean(-1) if fm.k_bg else torch.zeros_like(core_pos)
    if fm.layout == "disjoint":
        own = torch.where(own_pos, core_pos, core_neg)
        other = torch.where(own_pos, core_neg, core_pos)
    else:
        own = yk * core_pos
        other = torch.full_like(own, float("nan"))
    out = {"p_own": p_own, "p_other": p_other, "delta": delta, "own_core": own, "other_core": other, "background": bg}
    out["frac_asym_pos"], out["frac_asym_neg"] = _asymmetric_fractions(delta, onset)
    out["onset_met"] = onset.met(out["frac_asym_pos"], out["frac_asym_neg"]).to(V.dtype)
    for tag, z in (("id", ev.z), ("ood", ev.z_ood)):
        margin = ev.y * (activate(net.activation, torch.bmm(z, V.transpose(1, 2))) @ a)
        out[f"hinge_{tag}"] = hinge(margin).mean(-1)
        out[f"err_{tag}"] = (margin <= 0).to(V.dtype).mean(-1)
        out[f"logistic_{tag}"] = F.softplus(-margin).mean(-1)
    return out


PER_NEURON = ("p_own", "p_other", "delta", "own_core", "other_core", "background")


def _reduce(obs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-replicate summaries kept at every checkpoint (per-neuron values are means over neurons)."""
    return {k: (v.mean(-1) if k in PER_NEURON else v) for k, v in obs.items()}


def _fused_update(act: Activation, a: torch.Tensor, scale: float, W: torch.Tensor, batch: int) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]:
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


def _batches(model: TheoryModel, sgd: SGD, replicates: int, seed: int, device: torch.device, dtype: torch.dtype, chunk_elements: int,
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


def _stepper(model: TheoryModel, sgd: SGD, W: torch.Tensor, M: torch.Tensor | None, noise_gen: torch.Generator | None) -> tuple[Callable[..., None], float]:
    """One SGD step on ``W`` in place from a batch of ``_batches``, and the ``y_scale`` it expects."""
    fm, net = model.features, model.network
    a = second_layer(net.m, W.dtype, W.device)
    scale = sgd.eta / sgd.batch
    if model.gradient is hinge_gradient and net.activation.piecewise_linear:
        update = _fused_update(net.activation, a, scale, W, sgd.batch)
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


def _sgd_steps(model: TheoryModel, sgd: SGD, W: torch.Tensor, M: torch.Tensor | None, seed: int, chunk_elements: int) -> Iterator[int]:
    """Update ``W`` in place, one online-SGD step at a time, yielding the step count after each."""
    noise_gen = generator(seed, "probe", W.device) if model.features.noise > 0 else None
    step_fn, y_scale = _stepper(model, sgd, W, M, noise_gen)
    for step, batch in enumerate(_batches(model, sgd, W.shape[0], seed, W.device, W.dtype, chunk_elements, y_scale), 1):
        step_fn(*batch)
        yield step


def onset_steps(model: TheoryModel, sgd: SGD, replicates: int, seed: int, *, device: str | torch.device = "cpu",
                onset: Onset | None = None, chunk_elements: int = 1 << 20) -> torch.Tensor:
    """Theorem 4.1's ``T0`` per replicate: the first step (evaluated at every step on the
    ``sgd.n_eval`` held-out samples) at which the onset criterion holds; ``nan`` if it never
    does within ``sgd.steps`` (censored). Same seeds and streams as ``simulate``.

    Only activation rates are computed, and a replicate stops being trained and evaluated once
    it has met the criterion (replicates are independent, so the others' runs do not change):
    whenever at most half of the replicates still running are left, they are split off into a
    smaller batch, so that a few slow or censored replicates do not cost a full batch each step.
    """
    onset = onset or Onset()
    dev = resolve_device(device)
    fm, net = model.features, model.network
    W = model.init(net, fm, generator(seed, "init", dev), replicates, fm.d0, torch.float32)
    ev = model.sampler(fm, generator(seed, "eval", dev), replicates, sgd.n_eval, dtype=torch.float32)
    pos = (ev.y > 0).float()
    weights = torch.stack([pos / pos.sum(-1, keepdim=True).clamp_min(1), (1 - pos) / (1 - pos).sum(-1, keepdim=True).clamp_min(1)], 1)  # R x 2 x n
    half = net.m // 2
    t0 = torch.full((replicates,), float("nan"), dtype=torch.float64)
    rows = torch.arange(replicates)  # the replicates in the running batch (indices into t0)

    def split(keep: torch.Tensor) -> tuple:
        """The running batch restricted to ``keep`` (positions in it): weights, eval data, buffers, step."""
        Wk = _fused_layout(W[keep])
        step_fn, y_scale = _stepper(model, sgd, Wk, None, None)
        active = torch.empty((len(keep), sgd.n_eval, net.m), device=dev)
        return Wk, ev_z[keep], weights_[keep], active, step_fn, y_scale

    ev_z, weights_ = ev.z, weights
    W, ev_z, weights_, active, step_fn, y_scale = split(rows.to(dev))

    def check(step: int) -> torch.Tensor:
        """Replicates of the running batch meeting the criterion at ``step`` (bool, on CPU)."""
        torch.bmm(ev_z, W.transpose(1, 2), out=active).clamp_min_(0).sign_()  # 1{pre > 0} in float kernels (a bool comparison is slower)
        rates = torch.bmm(weights_, active)  # R x 2 x m: p(+1), p(-1)
        delta = torch.cat([rates[:, 0, :half] - rates[:, 1, :half], rates[:, 1, half:] - rates[:, 0, half:]], -1)
        return onset.met(*_asymmetric_fractions(delta, onset)).cpu()

    met = check(0)
    t0[rows[met]] = 0.0
    running = ~met
    if not running.any():
        return t0
    index = None  # rows on the device, once the batch has been split
    for step, (z, zt, y) in enumerate(_batches(model, sgd, replicates, seed, dev, torch.float32, chunk_elements, y_scale), 1):
        if index is not None:
            z, zt, y = z[index], zt[index], y[index]
        step_fn(z, zt, y)
        met = check(step) & running
        t0[rows[met]] = float(step)
        running &= ~met
        left = int(running.sum())
        if left == 0:
            break
        if 2 * left <= len(rows):
            keep = running.nonzero().squeeze(1)
            rows, running = rows[keep], running[keep]
            index = rows.to(dev)
            W, ev_z, weights_, active, step_fn, _ = split(keep.to(dev))
    return t0


def simulate(
    model: TheoryModel,
    sgd: SGD,
    replicates: int,
    seed: int,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    space: Literal["latent", "full"] = "latent",
    init: torch.Tensor | None = None,
    onset: Onset | None = None,
    stop_at_onset: bool = False,
    chunk_elements: int = 1 << 20,
) -> Trajectory:
    """Train ``replicates`` independent networks with online SGD and record observables.

    ``init`` overrides the initial weights (``R x m x D``, ``D = d0`` in latent space, ``d`` in
    full space), which couples a latent run to a full-space one. ``stop_at_onset`` ends the run
    at the first checkpoint at which every replicate has met the onset criterion (used to
    locate ``T0``; replicates that never meet it are censored).
    """
    if not isinstance(replicates, int) or replicates < 1:
        raise ValueError(f"replicates must be an integer >= 1, got {replicates!r}")
    if space not in ("latent", "full"):
        raise ValueError(f"space must be 'latent' or 'full', got {space!r}")
    onset = onset or Onset()
    dev = resolve_device(device)
    fm, net = model.features, model.network
    if space == "latent" and fm.noise > 0:
        raise ValueError("noise > 0 breaks the latent reduction; use space='full'")
    R, D0 = replicates, fm.d0
    M = model.dictionary(fm, generator(seed, "dictionary", dev), R, dtype) if space == "full" else None
    dim = fm.d if space == "full" else D0
    if init is None:
        W = model.init(net, fm, generator(seed, "init", dev), R, dim, dtype)
    else:
        if tuple(init.shape) != (R, net.m, dim):
            raise ValueError(f"init must have shape {(R, net.m, dim)}, got {tuple(init.shape)}")
        W = init.to(device=dev, dtype=dtype).clone()
    W = _fused_layout(W)
    W0 = W.clone()
    ev = model.sampler(fm, generator(seed, "eval", dev), R, sgd.n_eval, paired_ood=True, dtype=dtype)

    def latent(w: torch.Tensor) -> torch.Tensor:
        return w if M is None else torch.bmm(w, M)

    V0 = latent(W0)
    checkpoints = sgd.schedule.steps(sgd.steps)
    marks = set(checkpoints)
    recorded: list[int] = []
    rows: list[dict[str, torch.Tensor]] = []
    initial: dict[str, torch.Tensor] = {}
    last: dict[str, torch.Tensor] = {}

    def record(step: int) -> bool:
        nonlocal initial, last
        obs = observe(model, latent(W), V0, ev, onset)
        recorded.append(step)
        rows.append(_reduce(obs))
        if step == 0:
            initial = obs
        last = obs
        if stop_at_onset:
            met = torch.stack([r["onset_met"] for r in rows]).amax(0)
            return bool(met.all())
        return False

    stop = record(0) if 0 in marks else False
    if not stop:
        for step in _sgd_steps(model, sgd, W, M, seed, chunk_elements):
            if step in marks and record(step):
                break
    history = {k: torch.stack([r[k] for r in rows]) for k in rows[0]}
    return Trajectory(recorded, history, initial, last, W0, W)
