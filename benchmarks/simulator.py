"""Benchmarks of the simulator (a script, not a timed test). Prints a table, then one JSON line.

``python benchmarks/simulator.py [--device cpu|cuda] [--general-iterations N] [--json PATH]``.
Each figure is the median of REPEATS runs measured side by side in this one process:

* speedup_vs_naive_full / speedup_vs_naive_latent: what a user would write instead, in the
  style of the authors' public toy script (``toy.py``): an ``nn.Module`` with a fixed +-1/m
  output layer, autograd, ``torch.optim.SGD`` and the hinge loss, one seed at a time, training
  in input space (d = 2^14, ``x = M z``) or in latent space, against ``simulate`` running the
  same 32 seeds batched (theory setting, m = 64, k_core = k_bg = 8, B = 32, 2000 steps). The
  loops are timed on a few seeds (NAIVE_SEEDS) and scaled to 32.
* throughput: replicate-steps per second of ``simulate`` against R (to 4096 on a GPU).
* batched_vs_loop (diagnostic only, not a target): the simulator batched vs its own R = 1 path;
  that path gets faster with every improvement of the simulator, so the ratio says little. The
  table adds the batched time with the training batches replayed from a cache.
* latent_d_independence: latent-mode time at d = 2^20 over d = 2^10.
* general_setting: per-replicate wall time of 16 batched general-setting replicates (2000
  iterations) over one replicate trained alone as a plain nn.Module loop on x = M z. The
  batched code applies the first layer as z (M^T W1^T), a third of the multiply-adds, so the
  table also gives train_general with R = 1: the cost of batching itself.
* gflops_fraction: FLOP rate of the training step (two bmm per step: forward and weight
  gradient) over the rate of the same two bmm run back to back on plain contiguous tensors.
  The table adds the rate of the two products in the simulator's own layouts (diagnostic).
* subnormal_flush: an Adam step in the state the digits distillation's ReLU student reaches
  after about 800 steps (half its first layer, 48 replicates x 144 x 256, with zero gradient and a
  first moment stuck at the smallest subnormals; ``fc_model.subnormal``), without over with the
  flush that ``fc_model.digits`` puts around its training loops. CPU only.
* output_layer: the general setting's one-unit output layer (activation, layer, and their
  gradients; R = 12, n = 1000, width 256, as Figure 3(d) under ``ci``) as a batched product with one
  column over the product-and-sum ``fc_model.general`` uses.
* general_gradients: a Figure 3(d)-sized ``train_general`` run (R = 12, 200 iterations, one thread),
  whose gradients are written by hand a few replicates at a time, over the same run with
  autograd over the whole batch (what ``fc_model.general`` did before; written out here).
* row_gather: drawing a digits batch (48 replicates x 64 rows of 64 pixels) with ``torch.gather``
  and its index expanded over the pixels, over ``fc_model.digits._gather`` (whole rows by
  ``index_select``).
* relu_layouts: ReLU's backward on the CNN's last map (32 images x 256 channels of 8 x 8, stored
  channels-last) when the gradient arrives in the default layout, over the same with the gradient
  in channels-last storage (what ``fc_model.cnn`` arranges; the copy is included).
* freed_memory: a Figure 3(d)-sized ``train_general`` run (R = 12, 200 iterations) in a fresh
  process with glibc's allocator defaults over one with ``fc_check.devices.keep_freed_memory`` (what
  the pytest plugin does for its own process; its xdist workers inherit glibc's variables instead,
  ``export_freed_memory_settings``); the table adds each one's system time and page faults. Linux
  with glibc only.

``--only NAME ...`` runs the named rows alone (the names above, plus ``throughput``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace

import torch
import torch.nn.functional as F

from fc_check.devices import MALLOC_VARIABLES
from fc_model import SGD, FeatureModel, Schedule, TheoryModel, simulate
from fc_model.data import Sample, dictionary, generator, sample_latent
from fc_model.general import GeneralSetting, general_data, train_general
from fc_model.model import resolve_device
from fc_model.subnormal import subnormals_flushed

REPEATS = 5
STEPS = 2000
SEEDS = 32
NAIVE_SEEDS = {"full": 2, "latent": 8}  # seeds the per-seed loops are timed on, scaled to SEEDS
SGD_CFG = SGD(eta=0.05, batch=32, steps=STEPS, schedule=Schedule(dense_until=0, every=STEPS))
DEVICE = torch.device("cpu")  # set by --device


def timed(fn: Callable[[], object], repeats: int | None = None) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs (default REPEATS, never more); on a GPU
    the device is drained before the clock stops."""
    out = []
    for _ in range(min(repeats or REPEATS, REPEATS)):
        if DEVICE.type == "cuda":
            torch.cuda.synchronize(DEVICE)
        t = time.perf_counter()
        fn()
        if DEVICE.type == "cuda":
            torch.cuda.synchronize(DEVICE)
        out.append(time.perf_counter() - t)
    return statistics.median(out)


class ToyNetwork(torch.nn.Module):
    """What a user would write: ``f(x) = sum_k a_k relu(<w_k, x>)`` with ``a_k = +-1/m`` fixed (a buffer)."""

    def __init__(self, m: int, d: int) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(d, m, bias=False)
        torch.nn.init.normal_(self.hidden.weight, std=1 / math.sqrt(d))
        self.register_buffer("a", torch.cat([torch.full((m // 2,), 1 / m), torch.full((m - m // 2,), -1 / m)]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.hidden(x)) @ self.a


def naive_seed(seed: int, space: str, d: int = 2**14, m: int = 64, k: int = 8, steps: int = STEPS, batch: int = 32, eta: float = 0.05) -> None:
    """One seed trained on its own: fresh data each step, autograd, ``torch.optim.SGD``, hinge loss."""
    torch.manual_seed(seed)
    d0 = 3 * k
    M = dictionary(FeatureModel(k_core=k, k_bg=k, d=d), generator(seed, "dictionary", DEVICE), 1, torch.float32)[0] if space == "full" else None
    net = ToyNetwork(m, d if space == "full" else d0).to(DEVICE)
    opt = torch.optim.SGD(net.parameters(), lr=eta)
    for _ in range(steps):
        y = torch.randint(0, 2, (batch,), device=DEVICE).float() * 2 - 1
        z = torch.rand(batch, d0, device=DEVICE)
        z[:, :k] *= (y > 0).float().unsqueeze(1)  # class +1 core
        z[:, k : 2 * k] *= (y < 0).float().unsqueeze(1)  # class -1 core; the last k coordinates are background U[0,1]
        x = z @ M.T if M is not None else z
        loss = torch.clamp(1 - y * net(x), min=0).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def naive(space: str) -> float:
    """Wall time of the per-seed loop for SEEDS seeds (timed on NAIVE_SEEDS[space] seeds, scaled)."""
    n = NAIVE_SEEDS[space]
    return timed(lambda: [naive_seed(s, space) for s in range(n)], repeats=1 if space == "full" else 3) * SEEDS / n


def throughput(replicates: tuple[int, ...], steps: int = 500) -> dict[int, float]:
    """Replicate-steps per second of ``simulate`` (theory setting, 500 steps) against R."""
    sgd = SGD(eta=0.05, batch=32, steps=steps, schedule=Schedule(dense_until=0, every=steps))
    return {R: R * steps / timed(lambda R=R: simulate(TheoryModel(), sgd, R, 0, device=DEVICE), repeats=3) for R in replicates}


def batched_vs_loop() -> tuple[float, float, float]:
    """Batched and looped wall times, and (diagnostic) the batched time with the training batches
    replayed from a cache, i.e. the SGD arithmetic alone, which bounds what faster sampling can give."""
    model = TheoryModel()
    batched = timed(lambda: simulate(model, SGD_CFG, 32, 0, device=DEVICE))
    loop = timed(lambda: [simulate(model, SGD_CFG, 1, r, device=DEVICE) for r in range(32)], repeats=max(3, REPEATS // 2 + 1))
    cache: dict[tuple, Sample] = {}

    def replay(fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw: object) -> Sample:
        key = (replicates, n, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = sample_latent(fm, gen, replicates, n, **kw)
        return cache[key]

    arithmetic = timed(lambda: simulate(replace(model, sampler=replay), SGD_CFG, 32, 0, device=DEVICE))
    return batched, loop, arithmetic


def latent_d() -> tuple[float, float]:
    small = timed(lambda: simulate(TheoryModel(FeatureModel(d=2**10)), SGD_CFG, 32, 0, device=DEVICE))
    large = timed(lambda: simulate(TheoryModel(FeatureModel(d=2**20)), SGD_CFG, 32, 0, device=DEVICE))
    return small, large


def general(iterations: int = 2000) -> tuple[float, float, float]:
    cfg = GeneralSetting(iterations=iterations, record_every=iterations)

    def plain() -> None:
        x, y = general_data(cfg, generator(0, "train", DEVICE), 1, cfg.n_train, torch.float32, ood=False)
        x = F.pad(x[0], (0, cfg.d - x.shape[-1]))  # input dimension 256; the orthogonal map is a rotation, cost-neutral
        y = y[0]
        net = torch.nn.Sequential(torch.nn.Linear(cfg.d, cfg.width), torch.nn.ReLU(), torch.nn.Linear(cfg.width, 1)).to(DEVICE)
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        for _ in range(iterations):
            opt.zero_grad()
            F.softplus(-y * net(x).squeeze(-1)).mean().backward()
            opt.step()

    batched = timed(lambda: train_general(cfg, 16, 0, device=DEVICE), repeats=3) / 16
    single = timed(plain, repeats=3)
    ours_alone = timed(lambda: train_general(cfg, 1, 0, device=DEVICE), repeats=3)  # batching overhead apart from the latent factoring
    return batched, single, ours_alone


def gflops() -> tuple[float, float, float]:
    R, B, m, D = 32, 32, 64, 24
    flops_per_step = 2 * (2 * R * B * m * D)  # forward pre-activations and the weight gradient
    step_time = timed(lambda: simulate(TheoryModel(), SGD_CFG, R, 0, device=DEVICE)) / STEPS
    z, W, G = torch.randn(R, B, D, device=DEVICE), torch.randn(R, m, D, device=DEVICE), torch.randn(R, B, m, device=DEVICE)

    def bmms() -> None:
        for _ in range(STEPS):
            torch.bmm(z, W.transpose(1, 2))
            torch.bmm(G.transpose(1, 2), z)

    bmm_time = timed(bmms) / STEPS
    # diagnostic: the same two products in the simulator's own layouts (x feature-major, W^T
    # contiguous, the weight gradient accumulated in place), i.e. the products' share of a step
    chunk = 42  # the simulator's chunk at these shapes (2^20 elements), cycled
    x = torch.randn(D, chunk, R, B, device=DEVICE).permute(1, 2, 3, 0)  # step-major chunk of feature-major samples
    Wt, pre, xct = torch.randn(R, D, m, device=DEVICE), torch.empty(R, B, m, device=DEVICE), torch.randn(R, D, B, device=DEVICE)

    def own_layout() -> None:
        for i in range(STEPS):
            torch.bmm(x[i % chunk], Wt, out=pre)
            Wt.baddbmm_(xct, pre, alpha=1e-9)

    own_time = timed(own_layout) / STEPS
    return flops_per_step / step_time / 1e9, flops_per_step / bmm_time / 1e9, flops_per_step / own_time / 1e9


def subnormal_flush(steps: int = 20) -> tuple[float, float]:
    """Median time of an Adam step (s) without, then with, subnormals flushed, on the digits ReLU
    student's first layer with half its weights dead: zero gradient, first moment 1.4e-45 (the
    smallest float32 subnormal, where Adam's decay by 0.9 rounds back to the same value, so
    these moments stay subnormal for the rest of the run; measured in the student: 0.6 million
    of its 1.8 million first moments were subnormal at step 800, and still at 1 200)."""
    gen = torch.Generator().manual_seed(0)
    shape = (48, 144, 256)
    dead = torch.rand(shape, generator=gen) < 0.5
    grad = torch.randn(shape, generator=gen) * 1e-3
    grad[dead] = 0.0

    def one(flush: bool) -> float:
        p = torch.randn(shape, generator=gen).requires_grad_(True)
        opt = torch.optim.Adam([p], lr=3e-3)
        p.grad = grad.clone()
        opt.step()  # creates the moments
        opt.state[p]["exp_avg"][dead] = 1.4e-45
        opt.state[p]["exp_avg_sq"][dead] = 1e-10  # still normal: its decay, 0.999, takes tens of thousands of steps to get there

        def steps_() -> None:
            for _ in range(steps):
                p.grad = grad
                opt.step()

        with subnormals_flushed(DEVICE) if flush else nullcontext():
            return timed(steps_) / steps

    return one(False), one(True)


def output_layer(R: int = 12, n: int = 1000, width: int = 256) -> tuple[float, float]:
    """Median time (s) of the output layer's forward and backward, as a batched product with one
    column (``baddbmm``), then as the product and sum over the width that ``fc_model.general`` uses."""
    gen = torch.Generator(device=DEVICE).manual_seed(0)
    pre = torch.randn((R, n, width), generator=gen, device=DEVICE, requires_grad=True)
    w = torch.randn((R, width, 1), generator=gen, device=DEVICE, requires_grad=True)
    b = torch.randn((R, 1, 1), generator=gen, device=DEVICE, requires_grad=True)
    g = torch.randn((R, n), generator=gen, device=DEVICE)

    def as_bmm() -> None:
        torch.baddbmm(b, torch.relu(pre), w).squeeze(-1).backward(g)

    def as_sum() -> None:
        ((torch.relu(pre) * w.transpose(1, 2)).sum(-1) + b.squeeze(-1)).backward(g)

    return timed(lambda: [as_bmm() for _ in range(20)]) / 20, timed(lambda: [as_sum() for _ in range(20)]) / 20


def general_gradients(iterations: int = 200) -> tuple[float, float]:
    """Median time (s) of a Figure 3(d)-sized run (R = 12), autograd over the whole batch, then ``train_general``."""
    from fc_model.data import orthonormal_columns
    from fc_model.general import init_params

    cfg, R = GeneralSetting(iterations=iterations, record_every=iterations), 12

    def autograd_run() -> None:  # the loop ``train_general`` ran before its gradients were written by hand
        M = orthonormal_columns(generator(0, "dictionary", DEVICE), R, cfg.d, cfg.k_core + cfg.k_bg, torch.float32)
        z, y = general_data(cfg, generator(0, "train", DEVICE), R, cfg.n_train, torch.float32, ood=False)
        W1, b1, W2, b2 = init_params(cfg, generator(0, "init", DEVICE), R, torch.float32)
        W1t, W2t = W1.transpose(1, 2).contiguous(), W2.transpose(1, 2).contiguous()
        params = [p.requires_grad_(True) for p in (W1t, b1, W2t, b2)]
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        Mt = M.transpose(1, 2).contiguous()
        for _ in range(iterations):
            f = (torch.relu(torch.baddbmm(b1, z, torch.bmm(Mt, W1t))) * W2t.transpose(1, 2)).sum(-1) + b2.squeeze(-1)
            opt.zero_grad(set_to_none=True)
            F.softplus(-y * f).mean(-1).sum().backward()
            opt.step()

    return timed(autograd_run, repeats=3), timed(lambda: train_general(cfg, R, 0, device=DEVICE), repeats=3)


def row_gather(R: int = 48, n: int = 1258, batch: int = 64, width: int = 64) -> tuple[float, float]:
    """Median time (s) of drawing one batch of rows per replicate: ``gather`` with an expanded index, then ``_gather``."""
    from fc_model.digits import _gather

    gen = torch.Generator(device=DEVICE).manual_seed(0)
    x = torch.rand((R, n, width), generator=gen, device=DEVICE)
    j = torch.randint(n, (R, batch), generator=gen, device=DEVICE)
    return (timed(lambda: [x.gather(1, j.unsqueeze(-1).expand(-1, -1, width)) for _ in range(100)]) / 100,
            timed(lambda: [_gather(x, j) for _ in range(100)]) / 100)


def relu_layouts(n: int = 32, channels: int = 256, side: int = 8) -> tuple[float, float]:
    """Median time (s) of ReLU's backward on a channels-last map: the gradient in the default layout, then
    copied to channels-last first."""
    gen = torch.Generator(device=DEVICE).manual_seed(0)
    out = torch.relu(torch.randn((n, channels, side, side), generator=gen, device=DEVICE)).contiguous(memory_format=torch.channels_last)
    grad = torch.randn((n, channels, side, side), generator=gen, device=DEVICE)
    mixed = timed(lambda: [torch.ops.aten.threshold_backward(grad, out, 0) for _ in range(50)]) / 50
    one = timed(lambda: [torch.ops.aten.threshold_backward(grad.contiguous(memory_format=torch.channels_last), out, 0) for _ in range(50)]) / 50
    return mixed, one


_FRESH_RUN = """
import resource, sys, time, torch
from fc_check.devices import keep_freed_memory
from fc_model.general import GeneralSetting, train_general
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
torch.set_num_threads(1)
cfg = GeneralSetting(iterations=200, record_every=25)
train_general(cfg, 12, 0)
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
train_general(cfg, 12, 0)
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(kept, time.perf_counter() - t0, r1.ru_stime - r0.ru_stime, r1.ru_minflt - r0.ru_minflt)
"""


def freed_memory(repeats: int = 3) -> dict[str, tuple[float, float, float]]:
    """Medians of (wall s, system s, page faults) of a second Figure 3(d)-sized run in fresh processes,
    alternating glibc's defaults and ``keep_freed_memory``; NaN where the call has no effect."""
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_VARIABLES}
    runs: dict[str, list[list[float]]] = {"default": [], "keep": []}
    for _ in range(repeats):
        for mode in runs:
            out = subprocess.run([sys.executable, "-c", _FRESH_RUN, mode], capture_output=True, text=True, check=True, env=env).stdout.split()
            if mode == "keep" and out[0] != "True":
                return {m: (math.nan, math.nan, math.nan) for m in runs}
            runs[mode].append([float(v) for v in out[1:]])
    return {m: tuple(statistics.median(r[i] for r in rows) for i in range(3)) for m, rows in runs.items()}  # type: ignore[misc]


ROWS = ("speedup_vs_naive", "batched_vs_loop", "latent_d_independence", "general_setting", "gflops_fraction", "throughput",
        "subnormal_flush", "output_layer", "general_gradients", "row_gather", "relu_layouts", "freed_memory")


def main() -> None:
    global DEVICE, REPEATS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | auto (default cpu)")
    parser.add_argument("--general-iterations", type=int, default=2000, help="general-setting iterations (the authors' run: 20000)")
    parser.add_argument("--json", default=None, help="also write the JSON line to this file")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs per median (default 5; the slow rows take at most 3)")
    parser.add_argument("--only", nargs="+", choices=ROWS, default=list(ROWS), metavar="NAME", help=f"run only these rows: {', '.join(ROWS)}")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    REPEATS = args.repeats
    try:
        DEVICE = resolve_device(args.device)
    except ValueError as exc:
        parser.error(str(exc))
    if args.general_iterations < 1:
        parser.error("--general-iterations must be >= 1")
    torch.manual_seed(0)
    only, cpu = set(args.only), DEVICE.type == "cpu"
    rows: list[tuple[str, float]] = []
    out: dict[str, object] = {"device": str(DEVICE)}
    if only & {"speedup_vs_naive", "batched_vs_loop"}:
        b, loop, arithmetic = batched_vs_loop()
        rows += [(f"simulate, R={SEEDS}, {STEPS} steps (s)", b), (f"diagnostic: simulate, {SEEDS} runs at R=1 (s)", loop),
                 ("diagnostic: batched, batches replayed from cache (s)", arithmetic)]
        out["batched_vs_loop_diagnostic"] = round(loop / b, 2)
        if "speedup_vs_naive" in only:
            full, lat = naive("full"), naive("latent")
            rows += [(f"naive per-seed loop, input space d=2^14, {SEEDS} seeds (s, {NAIVE_SEEDS['full']} timed)", full),
                     (f"naive per-seed loop, latent space, {SEEDS} seeds (s, {NAIVE_SEEDS['latent']} timed)", lat)]
            out |= {"speedup_vs_naive_full": round(full / b, 1), "speedup_vs_naive_latent": round(lat / b, 1)}
    if "latent_d_independence" in only:
        small, large = latent_d()
        rows += [("latent d=2^10 (s)", small), ("latent d=2^20 (s)", large)]
        out["latent_d_independence"] = round(large / small, 3)
    if "general_setting" in only:
        gb, gs, g1 = general(args.general_iterations)
        rows += [(f"general ({args.general_iterations} it): per replicate, 16 batched (s)", gb), ("general: one replicate alone, plain loop (s)", gs),
                 ("general: train_general with R=1 (s)", g1)]
        out["general_setting"] = round(gb / gs, 3)
    if "gflops_fraction" in only:
        achieved, peak, own = gflops()
        rows += [("training step GFLOP/s", achieved), ("same bmm shapes GFLOP/s", peak), ("same products in the simulator's layouts GFLOP/s", own)]
        out["gflops_fraction"] = round(achieved / peak, 3)
    if "throughput" in only:
        rates = throughput((32, 256, 1024, 4096) if DEVICE.type == "cuda" else (32, 128, 512))
        rows += [(f"throughput R={R} (replicate-steps/s)", v) for R, v in rates.items()]
        out["throughput"] = {str(R): round(v) for R, v in rates.items()}
    if "subnormal_flush" in only:
        unflushed, flushed = subnormal_flush() if cpu else (math.nan, math.nan)
        rows += [("Adam step, half the moments subnormal, unflushed (ms)", unflushed * 1e3), ("the same, subnormals flushed (ms)", flushed * 1e3)]
        out["subnormal_flush"] = round(unflushed / flushed, 2) if cpu else None
    if "output_layer" in only:
        as_bmm, as_sum = output_layer()
        rows += [("general output layer fwd+bwd, batched product with one column (ms)", as_bmm * 1e3),
                 ("the same as product and sum over the width (ms)", as_sum * 1e3)]
        out["output_layer"] = round(as_bmm / as_sum, 2)
    if "general_gradients" in only:
        by_autograd, by_hand = general_gradients()
        rows += [("general run, R=12, 200 it, autograd over the whole batch (s)", by_autograd), ("the same, gradients by hand, a few replicates at a time (s)", by_hand)]
        out["general_gradients"] = round(by_autograd / by_hand, 2)
    if "row_gather" in only:
        gathered, selected = row_gather()
        rows += [("digits batch, gather with an expanded index (ms)", gathered * 1e3), ("the same rows by index_select (ms)", selected * 1e3)]
        out["row_gather"] = round(gathered / selected, 2)
    if "relu_layouts" in only:
        mixed, one = relu_layouts()
        rows += [("ReLU backward, channels-last map, default-layout gradient (ms)", mixed * 1e3),
                 ("the same, gradient copied to channels-last first (ms)", one * 1e3)]
        out["relu_layouts"] = round(mixed / one, 2)
    if "freed_memory" in only:
        mem = freed_memory(min(REPEATS, 3)) if cpu else {}
        for mode, label in (("default", "glibc's defaults"), ("keep", "freed memory kept")):
            if mode in mem:
                rows += [(f"general run, 200 it, fresh process, {label}: wall (s)", mem[mode][0]), ("  system time (s)", mem[mode][1]),
                         ("  page faults", mem[mode][2])]
        out["freed_memory"] = round(mem["default"][0] / mem["keep"][0], 2) if mem and not math.isnan(mem["keep"][0]) else None
    print(f"torch {torch.__version__}, device {DEVICE}, threads {torch.get_num_threads()}, medians of {REPEATS} runs (3 for the slow rows)")
    for name, v in rows:
        print(f"{name:70} {v:14.4g}")
    line = json.dumps(out)
    print(line)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            fh.write(line + "\n")


if __name__ == "__main__":
    main()
