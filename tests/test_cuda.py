"""The model on CUDA (skipped where there is none; ``benchmarks/device_check.sh`` runs them on a GPU).

The claim checks themselves run on CUDA under ``--fc-device cuda``; these tests pin down the
model layer there: exact identities in float64, the device boundary, and that CUDA's own random
streams give the same model as the CPU's (the streams differ, the law must not).
"""

from __future__ import annotations

import pytest
import torch

from fc_check.common import contamination_ratio
from fc_model import SGD, FeatureModel, Network, Schedule, TheoryModel, closed_form_gradient, simulate
from fc_model.general import GeneralSetting, train_general
from fc_model.simulate import onset_steps

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
CUDA = "cuda"


def test_results_cross_to_the_host_and_weights_stay_on_the_device() -> None:
    traj = simulate(TheoryModel(), SGD(steps=100), 4, 0, device=CUDA)
    assert all(v.device.type == "cpu" for part in (traj.history, traj.initial, traj.final) for v in part.values())
    assert traj.weights.device.type == "cuda" and torch.isfinite(traj.weights).all().cpu()
    assert train_general(GeneralSetting(iterations=10, width=8, n_train=20, n_test=20, record_every=5), 2, 0, device=CUDA).bg_corr.device.type == "cpu"


def test_onset_steps_matches_the_recorded_trajectory_on_cuda() -> None:
    model = TheoryModel(FeatureModel(d=2**12), Network(m=16))
    sgd = SGD(eta=0.02, steps=300, schedule=Schedule(dense_until=300, every=1))
    recorded = simulate(model, sgd, 12, 4, device=CUDA, dtype=torch.float64).onset_step()
    found = onset_steps(model, sgd, 12, 4, device=CUDA, dtype=torch.float64, sync_every=7)
    torch.testing.assert_close(found, recorded, equal_nan=True)


def test_fused_hot_loop_matches_the_closed_form_on_cuda() -> None:
    from dataclasses import replace

    model = TheoryModel(network=Network(m=8))
    sgd = SGD(steps=200, schedule=Schedule(dense_until=0, every=50))
    fast = simulate(model, sgd, 3, 1, device=CUDA, dtype=torch.float64)
    reference = simulate(replace(model, gradient=lambda *args: closed_form_gradient(*args)), sgd, 3, 1, device=CUDA, dtype=torch.float64)
    torch.testing.assert_close(fast.weights, reference.weights, rtol=1e-10, atol=1e-13)


def test_cuda_streams_give_the_same_model_as_the_cpu() -> None:
    """Different draws, same law: the contamination ratio of 32 replicates agrees within 0.02
    (its replicate standard deviation is about 0.01 at this regime, so the mean's is 0.002)."""
    model, sgd = TheoryModel(), SGD(steps=3000, schedule=Schedule(dense_until=0, every=3000))
    cpu = contamination_ratio(simulate(model, sgd, 32, 0, device="cpu")).mean()
    gpu = contamination_ratio(simulate(model, sgd, 32, 0, device=CUDA)).mean()
    assert abs(cpu - gpu) < 0.02, (cpu, gpu)
