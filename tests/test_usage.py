"""Bad settings stop the run at configuration in one line; errors of recording are errors of the run.

Each case runs pytest in a subprocess on one cheap exact-identity test and requires pytest's
usage-error exit code (4), a single ``ERROR:`` line naming the option or variable and the allowed
values, no traceback, and no test run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHEAP = "theorems/test_lemma_1_1.py::test_closed_form_equals_autograd"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FC_") and not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(ROOT)
    return {**env, **extra}


def _pytest(args: list[str], env: dict[str, str], cwd: Path = ROOT, workers: int = 0) -> subprocess.CompletedProcess[str]:
    xdist = ["-n", str(workers)] if workers else ["-p", "no:xdist"]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", *xdist, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


BAD = [
    (["--fc-profile", "bogus"], {}, "--fc-profile: 'bogus' is not a profile; allowed: ci, default, thorough"),
    (["--fc-alpha", "2"], {}, "--fc-alpha: '2' is not an error budget; allowed: a number in (0, 1)"),
    (["--fc-alpha", "nan"], {}, "--fc-alpha: 'nan' is not an error budget"),
    (["--fc-alpha", "x"], {}, "--fc-alpha: 'x' is not an error budget"),
    (["--fc-report", "/proc/nope"], {}, "--fc-report: '/proc/nope' is not a writable folder"),
    (["--fc-device", "tpu"], {}, "--fc-device: 'tpu' is not a device; allowed: auto, cpu, cuda, cuda:N"),
    ([], {"FC_PROFILE": "x"}, "FC_PROFILE: 'x' is not a profile; allowed: ci, default, thorough"),
    ([], {"FC_ALPHA": "0"}, "FC_ALPHA: '0' is not an error budget"),
    ([], {"FC_DEVICE": "gpu"}, "FC_DEVICE: 'gpu' is not a device"),
    ([], {"FC_REPORT": "/proc/nope"}, "FC_REPORT: '/proc/nope' is not a writable folder"),
]


@pytest.mark.parametrize(("args", "env", "message"), BAD, ids=[" ".join(a) or next(iter(e.items()))[0] for a, e, _ in BAD])
def test_bad_setting_is_a_one_line_usage_error(tmp_path: Path, args: list[str], env: dict[str, str], message: str) -> None:
    if "--fc-report" not in args and "FC_REPORT" not in env:
        args = [*args, "--fc-report", str(tmp_path / "rep")]
    proc = _pytest([CHEAP, *args], _env(**env))
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert lines == [f"ERROR: {lines[0][len('ERROR: '):]}"] and message in lines[0], lines
    assert "Traceback" not in proc.stderr and "passed" not in proc.stdout


def test_option_beats_environment_and_folder_is_created(tmp_path: Path) -> None:
    """An option overrides its variable; the report folder is made at configuration."""
    report = tmp_path / "a" / "b"
    proc = _pytest([CHEAP, "--fc-profile", "ci", "--fc-report", str(report)], _env(FC_PROFILE="default"))
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert json.loads((report / "results.json").read_text())["session"]["profile"] == "ci"


def test_cuda_without_gpu_is_a_usage_error(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    proc = _pytest([CHEAP, "--fc-device", "cuda", "--fc-report", str(tmp_path)], _env())
    assert proc.returncode == 4 and "ERROR: --fc-device: cuda requested but no CUDA device is available; allowed on this machine: auto, cpu" in proc.stderr


BROKEN = '''
import shutil
from pathlib import Path

from fc_model import hinge_gradient
from theorems.test_lemma_1_1 import NetworkDraw, check_closed_form_equals_autograd


def test_verdict_folder_vanishes(fc):
    folder = fc.state.report_dir / ".verdicts"
    shutil.rmtree(folder)
    folder.write_text("not a folder")  # the worker can no longer append its verdicts
    fc.check(check_closed_form_equals_autograd, hinge_gradient, NetworkDraw())


def test_report_cannot_be_written(fc):
    (fc.state.report_dir / "results.json").mkdir()  # the controller cannot replace it at the end
    fc.check(check_closed_form_equals_autograd, hinge_gradient, NetworkDraw())
'''


@pytest.mark.parametrize(("test", "workers", "message"), [("test_verdict_folder_vanishes", 0, "fc-verify: could not record the verdicts of"),
                                                          ("test_verdict_folder_vanishes", 2, "fc-verify: could not record the verdicts of"),
                                                          ("test_report_cannot_be_written", 0, "fc-verify: could not write the report in")])
def test_recording_error_is_an_error_of_the_run_not_a_fail(tmp_path: Path, test: str, workers: int, message: str) -> None:
    """Exit code 3 (pytest's internal error), the reason in one line, and no test reported FAILED;
    under xdist the worker's error reaches the controller."""
    (tmp_path / "test_broken.py").write_text(textwrap.dedent(BROKEN), encoding="utf-8")
    proc = _pytest(["-p", "fc_check.plugin", f"test_broken.py::{test}", "--fc-profile", "ci", "--fc-report", str(tmp_path / "rep"),
                    "--rootdir", str(tmp_path)], _env(), cwd=tmp_path, workers=workers)
    out = proc.stdout + proc.stderr
    assert proc.returncode == pytest.ExitCode.INTERNAL_ERROR, out[-3000:]
    assert message in out and "FAILED" not in out and "failed" not in out.splitlines()[-1] and "INTERNALERROR" not in out, out[-3000:]
