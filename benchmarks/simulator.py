"""Benchmarks of the simulator (a script, not a timed test). Prints a table, then one JSON line.

Each figure is the median of REPEATS runs measured in this one process:

* batched_vs_loop: 32 replicates batched vs the same 32 run one at a time (theory setting,
  m = 64, k_core = k_bg = 8, B = 32, 2000 steps). The table adds the batched time with the
  training batches replayed from a cache: the SGD arithmetic alone, the ceiling on this ratio.
* latent_d_independence: latent-mode time at d = 2^20 over d = 2^10.
* general_setting: per-replicate wall time of 16 batched general-setting replicates (2000
  iterations) over one replicate trained alone as a plain nn.Module loop on x = M z. The
  batched code applies the first layer as z (M^T W1^T), a third of the multiply-adds, so the
  table also gives train_general with R = 1: the cost of batching itself.
* gflops_fraction: FLOP rate of the training step (two bmm per step: forward and weight
  gradient) over the rate of the same two bmm run back to back on plain contiguous tensors.
  The table adds the rate of the two products in the simulator's own layouts (diagnostic).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import torch
import torch.nn.functional as F

from fc_model import SGD, FeatureModel, Schedule, TheoryModel, simulate
from fc_model.data import Sample, generator, sample_latent
from fc_model.general import GeneralSetting, general_data, train_general

REPEATS = 5
STEPS = 2000
SGD_CFG = SGD(eta=0.05, batch=32, steps=STEPS, schedule=Schedule(dense_until=0, every=STEPS))


def timed(fn: Callable[[], object], repeats: int = REPEATS) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def batched_vs_loop() -> tuple[float, float, float]:
    """Batched and looped wall times, and (diagnostic) the batched time with the training batches
    replayed from a cache, i.e. the SGD arithmetic alone, which bounds what faster sampling can give."""
    model = TheoryModel()
    batched = timed(lambda: simulate(model, SGD_CFG, 32, 0))
    loop = timed(lambda: [simulate(model, SGD_CFG, 1, r) for r in range(32)], repeats=max(3, REPEATS // 2 + 1))
    cache: dict[tuple, Sample] = {}

    def replay(fm: FeatureModel, gen: torch.Generator, replicates: int, n: int, **kw: object) -> Sample:
        key = (replicates, n, tuple(sorted(kw.items())))
        if key not in cache:
            cache[key] = sample_latent(fm, gen, replicates, n, **kw)
        return cache[key]

    arithmetic = timed(lambda: simulate(replace(model, sampler=replay), SGD_CFG, 32, 0))
    return batched, loop, arithmetic


def latent_d() -> tuple[float, float]:
    small = timed(lambda: simulate(TheoryModel(FeatureModel(d=2**10)), SGD_CFG, 32, 0))
    large = timed(lambda: simulate(TheoryModel(FeatureModel(d=2**20)), SGD_CFG, 32, 0))
    return small, large


def general(iterations: int = 2000) -> tuple[float, float, float]:
    cfg = GeneralSetting(iterations=iterations, record_every=iterations)

    def plain() -> None:
        x, y = general_data(cfg, generator(0, "train", "cpu"), 1, cfg.n_train, torch.float32, ood=False)
        x = F.pad(x[0], (0, cfg.d - x.shape[-1]))  # input dimension 256; the orthogonal map is a rotation, cost-neutral
        y = y[0]
        net = torch.nn.Sequential(torch.nn.Linear(cfg.d, cfg.width), torch.nn.ReLU(), torch.nn.Linear(cfg.width, 1))
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        for _ in range(iterations):
            opt.zero_grad()
            F.softplus(-y * net(x).squeeze(-1)).mean().backward()
            opt.step()

    batched = timed(lambda: train_general(cfg, 16, 0), repeats=3) / 16
    single = timed(plain, repeats=3)
    ours_alone = timed(lambda: train_general(cfg, 1, 0), repeats=3)  # batching overhead apart from the latent factoring
    return batched, single, ours_alone


def gflops() -> tuple[float, float, float]:
    R, B, m, D = 32, 32, 64, 24
    flops_per_step = 2 * (2 * R * B * m * D)  # forward pre-activations and the weight gradient
    step_time = timed(lambda: simulate(TheoryModel(), SGD_CFG, R, 0)) / STEPS
    z, W, G = torch.randn(R, B, D), torch.randn(R, m, D), torch.randn(R, B, m)

    def bmms() -> None:
        for _ in range(STEPS):
            torch.bmm(z, W.transpose(1, 2))
            torch.bmm(G.transpose(1, 2), z)

    bmm_time = timed(bmms) / STEPS
    # diagnostic: the same two products in the simulator's own layouts (x feature-major, W^T
    # contiguous, the weight gradient accumulated in place), i.e. the products' share of a step
    chunk = 42  # the simulator's chunk at these shapes (2^20 elements), cycled
    x = torch.randn(D, chunk, R, B).permute(1, 2, 3, 0)  # step-major chunk of feature-major samples
    Wt, pre, xct = torch.randn(R, D, m), torch.empty(R, B, m), torch.randn(R, D, B)

    def own_layout() -> None:
        for i in range(STEPS):
            torch.bmm(x[i % chunk], Wt, out=pre)
            Wt.baddbmm_(xct, pre, alpha=1e-9)

    own_time = timed(own_layout) / STEPS
    return flops_per_step / step_time / 1e9, flops_per_step / bmm_time / 1e9, flops_per_step / own_time / 1e9


def main() -> None:
    torch.manual_seed(0)
    b, loop, arithmetic = batched_vs_loop()
    small, large = latent_d()
    gb, gs, g1 = general(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
    achieved, peak, own = gflops()
    rows = [("batched R=32, 2000 steps (s)", b), ("loop of 32 x R=1 (s)", loop), ("batched, batches replayed from cache (s)", arithmetic), ("latent d=2^10 (s)", small), ("latent d=2^20 (s)", large),
            ("general: per replicate, 16 batched (s)", gb), ("general: one replicate alone, plain loop (s)", gs),
            ("general: train_general with R=1 (s)", g1), ("training step GFLOP/s", achieved),
            ("same bmm shapes GFLOP/s", peak), ("same products in the simulator's layouts GFLOP/s", own)]
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, medians of {REPEATS} runs")
    for name, v in rows:
        print(f"{name:50} {v:10.3f}")
    print(json.dumps({"batched_vs_loop": round(loop / b, 2), "latent_d_independence": round(large / small, 3),
                      "general_setting": round(gb / gs, 3), "gflops_fraction": round(achieved / peak, 3)}))


if __name__ == "__main__":
    main()
