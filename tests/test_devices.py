from __future__ import annotations

import pytest

from fc_check.devices import threads_per_worker, worker_device, worker_index


def test_worker_index() -> None:
    assert [worker_index(w) for w in ("gw0", "gw3", "gw12", "main", "master")] == [0, 3, 12, 0, 0]


def test_one_gpu_per_worker_round_robin() -> None:
    assert [worker_device("cuda", f"gw{i}", 2) for i in range(4)] == ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]
    assert worker_device("auto", "gw5", 4) == "cuda:1"
    assert worker_device("auto", "gw5", 0) == "cpu"
    assert worker_device("cpu", "gw1", 8) == "cpu"
    assert worker_device("cuda:3", "gw0", 4) == "cuda:3"


def test_cuda_requested_without_gpu_is_an_error() -> None:
    with pytest.raises(ValueError, match="no CUDA"):
        worker_device("cuda", "gw0", 0)
    with pytest.raises(ValueError, match="fc-device"):
        worker_device("tpu", "gw0", 0)
    with pytest.raises(ValueError, match="only 2 CUDA"):
        worker_device("cuda:2", "gw0", 2)


def test_threads_share_the_cores() -> None:
    assert threads_per_worker(2, 2) == 1
    assert threads_per_worker(4, 16) == 4
    assert threads_per_worker(8, 2) == 1
    assert threads_per_worker(1, 2) == 2
