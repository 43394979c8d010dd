"""Under xdist, the tests that read one memoised training run go to one worker (``fc_check.scheduling``)."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import pytest

from fc_check import scheduling
from fc_check.report import VERDICT_DIR
from fc_check.scheduling import EXPECTED_SECONDS, SHARED_RUNS, shared_run_group
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


@pytest.mark.parametrize("key", sorted(EXPECTED_SECONDS))
def test_every_expected_cost_names_a_test_that_exists(key: str) -> None:
    """A renamed test would lose its place at the head of the queue without a word."""
    path, function = scheduling._function_key(key)
    assert f"def {function}(" in (ROOT / path).read_text(encoding="utf-8"), key
    if "[" in key:  # a parametrized instance, of the mutant test: its case exists
        from tests.test_mutants import CASES

        assert path == "tests/test_mutants.py" and key.split("[", 1)[1].removesuffix("]") in CASES, key


class _Node:
    """A stand-in for an xdist worker: records the tests it is sent, and in ``log`` the order of all sends."""

    def __init__(self, name: str, log: list[int]) -> None:
        self.gateway, self.sent, self.log, self.shutting_down = SimpleNamespace(id=name), [], log, False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent += indices
        self.log += indices

    def shutdown(self) -> None:
        self.shutting_down = True


def test_the_costliest_units_go_first_and_a_group_stays_together() -> None:
    """Driven as xdist drives it (collections in, work units out to two workers): the units of
    largest expected cost are sent first, a shared-run group as one unit (its tests' costs summed),
    and tests of no listed cost follow in collection order."""
    cls = scheduling.scheduler_class()
    if cls is None:
        pytest.skip("this pytest-xdist has no scope scheduler")
    collection = [
        "tests/test_a.py::test_cheap_1",
        "properties/test_digits.py::test_contamination",  # the digits group: 7 s with its two siblings
        "properties/test_digits.py::test_border_sign",
        "properties/test_digits.py::test_ood_gap",
        "tests/test_a.py::test_cheap_2",
        "theorems/test_theorem_4_1.py::test_t0_scaling",
        "tests/test_a.py::test_cheap_3",
        "properties/test_figure_3d.py::test_figure_3d[relu]",
        "tests/test_a.py::test_cheap_4",
    ]
    sched = object.__new__(cls)  # xdist's __init__ reads the command line's -n; the state it sets is this
    sched.numnodes, sched.collection, sched.log = 2, None, lambda *args: None
    sched.workqueue, sched.assigned_work, sched.registered_collections = OrderedDict(), {}, {}
    sched.config = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True))
    log: list[int] = []
    nodes = [_Node("gw0", log), _Node("gw1", log)]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    first = [collection[node.sent[0]] for node in nodes]
    assert first == ["theorems/test_theorem_4_1.py::test_t0_scaling", "properties/test_figure_3d.py::test_figure_3d[relu]"]
    assert collection[log[2]] == "properties/test_digits.py::test_contamination"  # the group (7 s) went out next, whole, to one worker
    holder = next(node for node in nodes if collection.index("properties/test_digits.py::test_contamination") in node.sent)
    assert {collection.index(f"properties/test_digits.py::{t}") for t in ("test_border_sign", "test_ood_gap")} <= set(holder.sent)
    while sched.workqueue:  # the rest, as workers ask: no listed cost, so collection order
        sched._assign_work_unit(nodes[0])
    sent_in_order = [collection[i] for i in log]
    assert sorted(sent_in_order) == sorted(collection)
    assert [t for t in sent_in_order if "cheap" in t] == [t for t in collection if "cheap" in t]
