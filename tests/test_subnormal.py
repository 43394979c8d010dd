"""The subnormal flush around the digits' training loops is scoped: on inside, restored after."""

from __future__ import annotations

import pytest
import torch

from fc_model.subnormal import flushing_subnormals, subnormals_flushed

CPU = torch.device("cpu")


def _subnormal_survives() -> bool:
    return (torch.tensor([1e-30]) * 1e-9).item() != 0.0  # 1e-39: subnormal in float32


def test_flushes_inside_and_restores_the_callers_setting_after() -> None:
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode")
    assert not flushing_subnormals() and _subnormal_survives()
    with subnormals_flushed(CPU):
        assert flushing_subnormals() and not _subnormal_survives()
    assert not flushing_subnormals() and _subnormal_survives()
    torch.set_flush_denormal(True)  # a caller that flushes keeps flushing
    try:
        with subnormals_flushed(CPU):
            pass
        assert flushing_subnormals()
    finally:
        torch.set_flush_denormal(False)


def test_restores_the_setting_when_the_block_raises() -> None:
    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode")
    with pytest.raises(RuntimeError), subnormals_flushed(CPU):
        raise RuntimeError("training failed")
    assert not flushing_subnormals()


def test_sets_nothing_off_the_cpu() -> None:
    torch.set_flush_denormal(False)
    with subnormals_flushed(torch.device("meta")):
        assert not flushing_subnormals()
