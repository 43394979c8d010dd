from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from fc_check.devices import MALLOC_VARIABLES, REUSE_MEMORY_ENV, export_freed_memory_settings, keep_freed_memory, threads_per_worker, worker_device, worker_index


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


GLIBC_2_33 = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc"
    or tuple(int(p) for p in platform.libc_ver()[1].split(".")[:2]) < (2, 33), reason="glibc's allocator (mallinfo2 from 2.33)")

# Does a 30 MB malloc come from a mapping of its own (glibc's mmap threshold starts at 128 KB) or from
# the heap, where freed memory stays for reuse? ``mapped`` is how many mappings it added: 0 or 1.
_MALLOC_30MB = """
import ctypes
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype, libc.malloc.restype, libc.malloc.argtypes = MallInfo2, ctypes.c_void_p, [ctypes.c_size_t]
before = libc.mallinfo2().hblks
block = libc.malloc(30 * 2**20)
mapped = libc.mallinfo2().hblks - before
"""
# in a fresh process with torch imported, as in a worker, with or without keep_freed_memory
_MAPPED = """
import sys, torch
from fc_check.devices import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else False
""" + _MALLOC_30MB + "print(kept, mapped)\n"


def _without_malloc_variables(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in MALLOC_VARIABLES}


@GLIBC_2_33
def test_freed_memory_is_kept_for_reuse() -> None:
    """After ``keep_freed_memory`` a block of up to 32 MB comes from the heap (whose freed memory
    is reused), not from a mapping of its own that ``free`` hands back to the kernel."""
    env = _without_malloc_variables(dict(os.environ))
    runs = {mode: subprocess.run([sys.executable, "-c", _MAPPED, mode], capture_output=True, text=True, check=True, env=env).stdout.split()
            for mode in ("keep", "default")}
    assert runs == {"keep": ["True", "0"], "default": ["False", "1"]}


def test_user_malloc_settings_are_left_to_rule() -> None:
    for name in MALLOC_VARIABLES:
        assert keep_freed_memory({name: "1"}) is False


def test_freed_memory_settings_are_exported_for_started_processes() -> None:
    env: dict[str, str] = {}
    assert export_freed_memory_settings(env) is (sys.platform.startswith("linux"))
    assert env == (REUSE_MEMORY_ENV if sys.platform.startswith("linux") else {})
    for name in MALLOC_VARIABLES:
        env = {name: "1"}
        assert export_freed_memory_settings(env) is False and env == {name: "1"}


@pytest.mark.skipif(not sys.platform.startswith("linux") or "GLIBC_TUNABLES" in os.environ
                    or any(os.environ.get(k, v) != v for k, v in REUSE_MEMORY_ENV.items()), reason="Linux, without malloc settings of the user's")
def test_this_run_exported_them() -> None:
    """The plugin exported the variables before xdist started its workers (this process is one, or the controller itself)."""
    for name, value in REUSE_MEMORY_ENV.items():
        assert os.environ.get(name) == value


@GLIBC_2_33
def test_a_run_without_xdist_keeps_its_own_freed_memory(tmp_path) -> None:  # noqa: ANN001
    """Without xdist no process inherits the exported variables, so the plugin's process itself must
    be set through mallopt: a 30 MB block there comes from the heap."""
    from tests.test_usage import _env, _pytest

    body = "def test_block():\n" + "".join(f"    {line}\n" for line in (_MALLOC_30MB + "assert mapped == 0").strip().splitlines())
    (tmp_path / "test_block.py").write_text(body)
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["fc_check.plugin"]\n')
    run = _pytest(["-p", "no:cacheprovider", "--fc-report", str(tmp_path / "report"), str(tmp_path / "test_block.py")],
                  _without_malloc_variables(_env()), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
