"""A CPU stand-in for a GPU: it marks the tensors a run makes for its device and raises where one
would reach the host without an explicit copy, or where device and host tensors meet in one op.

On CPU a "device" tensor can be read with ``.numpy()``, ``float(t)`` or ``bool(t)`` and mixed with
host tensors freely; on a GPU the first raises, the others synchronise the device at each call,
and mixing raises. ``DeviceGuard`` is a ``TorchFunctionMode`` that keeps the GPU's rules on CPU:

* a tensor is on the device when a factory made it with an explicit ``device=`` (other than the
  literal string ``"cpu"``: code that makes a host tensor names no device, or ``"cpu"``), when it came out of an op with a device tensor among its inputs, or
  when ``.to(<torch.device>)`` put it there; whatever ``fc_model.data.uniforms`` makes is a
  device tensor too (on a GPU it draws from the device generator; on CPU it fills a host buffer
  through numpy, so the rules are not applied inside it: ``ALLOWED``);
* ``.cpu()`` and ``.to("cpu")`` are the explicit crossings: they return host copies and are
  counted as synchronisations, as are ops whose output size depends on the data (``nonzero``,
  boolean-mask indexing);
* ``.numpy()``, ``.item()``, ``.tolist()``, ``bool``, ``float``, ``int``, ``__index__``,
  ``__array__`` and ``format`` of a device tensor raise ``ImplicitHostTransfer``, except inside
  code that runs on CPU only (``ALLOWED``);
* an op whose tensor arguments include both device tensors and host tensors of one or more
  dimensions raises ``MixedDevices`` (a GPU accepts only 0-dimensional host tensors there), and
  so does a factory given a ``generator`` but no ``device`` (a device generator cannot fill a
  host tensor).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

MARK = "_fc_on_device"
# functions that only run when the device is the CPU: (file suffix, function name)
ALLOWED = (("fc_model/data.py", "uniforms"),)

_READS = {"numpy", "item", "tolist", "__bool__", "__float__", "__int__", "__index__", "__array__", "__format__", "__complex__"}
_DATA_DEPENDENT = {"nonzero", "masked_select", "unique", "argwhere", "nonzero_static"}


class ImplicitHostTransfer(RuntimeError):
    """A device tensor's value was read on the host without an explicit ``.cpu()``."""


class MixedDevices(RuntimeError):
    """One op received both device tensors and host tensors of one or more dimensions."""


def _tensors(obj: Any, depth: int = 0) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        yield obj
    elif depth < 3 and isinstance(obj, list | tuple):
        for o in obj:
            yield from _tensors(o, depth + 1)
    elif depth < 3 and isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o, depth + 1)


def on_device(t: torch.Tensor) -> bool:
    return bool(getattr(t, MARK, False))


def _mark(obj: Any) -> None:
    for t in _tensors(obj):
        setattr(t, MARK, True)


def _caller() -> tuple[str, str, int]:
    """The innermost frame outside torch and this module: (file, function, line)."""
    f = sys._getframe(2)
    while f is not None:
        name = f.f_code.co_filename.replace("\\", "/")
        if "/torch/" not in name and not name.endswith("tests/device_guard.py"):
            return name, f.f_code.co_name, f.f_lineno
        f = f.f_back
    return "?", "?", 0


def _where() -> str:
    file, fn, line = _caller()
    return f"{file}:{line} in {fn}"


def _allowed() -> bool:
    f = sys._getframe(1)
    while f is not None:
        name = f.f_code.co_filename.replace("\\", "/")
        if any(name.endswith(suffix) and f.f_code.co_name == fn for suffix, fn in ALLOWED):
            return True
        f = f.f_back
    return False


def _is_host_target(args: tuple, kwargs: dict) -> bool | None:
    """For ``Tensor.to``: True for ``"cpu"`` (a host copy), False for a ``torch.device`` or a
    device tensor (a device placement), None when no device is named (a dtype change)."""
    for a in (*args[1:], kwargs.get("device")):
        if isinstance(a, str):
            return a == "cpu"
        if isinstance(a, torch.device):
            return False
        if isinstance(a, torch.Tensor):
            return not on_device(a)
    return None


class DeviceGuard(TorchFunctionMode):
    """Enforces the device boundary while active (see the module docstring). ``syncs`` counts
    the explicit crossings and the data-dependent ops that a GPU would wait for."""

    def __init__(self) -> None:
        super().__init__()
        self.syncs = 0
        self.sync_sites: dict[str, int] = {}

    def _sync(self) -> None:
        self.syncs += 1
        where = _where()
        self.sync_sites[where] = self.sync_sites.get(where, 0) + 1

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if _allowed():  # CPU-only code standing in for a device kernel: its tensors are device tensors
            out = func(*args, **kwargs)
            if name not in _READS:
                _mark(out)
            return out
        inputs = list(_tensors(args)) + list(_tensors(kwargs))
        device_in = [t for t in inputs if on_device(t)]
        if name in _READS and device_in:
            raise ImplicitHostTransfer(f"{name}() reads a device tensor on the host without .cpu(), at {_where()}")
        if name == "cpu" or (name == "to" and _is_host_target(args, kwargs) is True):
            out = func(*args, **kwargs)
            if device_in:
                self._sync()
                out = out.clone() if out is args[0] else out  # on CPU .cpu() returns the same tensor
                if hasattr(out, MARK):
                    delattr(out, MARK)
            return out
        if "generator" in kwargs and kwargs.get("device") is None and not device_in:
            raise MixedDevices(f"{name}() draws from a generator into a host tensor (no device=), at {_where()}")
        if device_in:
            host = [t for t in inputs if not on_device(t) and t.dim() > 0]
            if host:
                raise MixedDevices(f"{name}() mixes device tensors with a host tensor of shape {tuple(host[0].shape)}, at {_where()}")
            if name in _DATA_DEPENDENT or (name in ("__getitem__", "__setitem__") and any(t.dtype == torch.bool for t in _tensors(args[1:2]))):
                self._sync()
        out = func(*args, **kwargs)
        device_kw = kwargs.get("device")
        made_here = device_kw is not None and device_kw != "cpu"
        placed = name == "to" and _is_host_target(args, kwargs) is False
        if placed and out is args[0] and not on_device(out):
            out = out.clone()  # on CPU .to(device) returns the host tensor itself: mark a copy, not the original
        if device_in or made_here or placed:
            _mark(out)
        return out


@contextmanager
def device_guard() -> Iterator[DeviceGuard]:
    """``with device_guard() as g:`` runs the body under the guard; ``g.syncs`` counts the crossings."""
    with DeviceGuard() as guard:
        yield guard
