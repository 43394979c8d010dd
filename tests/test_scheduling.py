"""Under xdist, the tests that read one memoised training run go to one worker (``fc_check.scheduling``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fc_check.report import VERDICT_DIR
from fc_check.scheduling import SHARED_RUNS, shared_run_group
from tests.test_usage import _env, _pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("key", sorted(SHARED_RUNS))
def test_every_shared_run_entry_names_a_test_that_exists(key: str) -> None:
    """A renamed file or test would silently leave its group: each entry names a file, and a test defined in it."""
    path, _, function = key.partition("::")
    text = (ROOT / path).read_text(encoding="utf-8")
    assert function == "" or f"def {function}(" in text, key
    assert function or "def test_" in text, key


def test_groups_read_ids_as_the_controller_sees_them() -> None:
    assert shared_run_group("properties/test_figure_6_cnn.py::test_grad_cam") == "cnn-run"
    assert shared_run_group("properties/test_digits.py::test_ood_gap") == "digits-runs"
    assert shared_run_group("properties/test_digits.py::test_distillation") is None  # its own run
    assert shared_run_group("maps/test_ood_gap.py::test_ood_gap_map") == shared_run_group("maps/test_contamination.py::test_contamination_map")
    assert shared_run_group("properties/test_figure_3d.py::test_figure_3d[relu]") is None


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    """The digits checks of one run, under -n 2: all their verdicts come from one worker's file."""
    tests = [f"properties/test_digits.py::{t}" for t in ("test_contamination", "test_border_sign", "test_ood_gap")]
    report = tmp_path / "rep"
    proc = _pytest(["--fc-profile", "ci", "--fc-device", "cpu", "--fc-report", str(report), *tests], _env(), workers=2)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    where: dict[str, set[str]] = {}
    for f in (report / VERDICT_DIR).glob("*.jsonl"):
        for line in f.read_text().splitlines():
            rec = json.loads(line)
            if "nodeid" in rec:
                where.setdefault(rec["nodeid"], set()).add(f.name)
    assert set(where) == set(tests) and len(set().union(*where.values())) == 1, where
