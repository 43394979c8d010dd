"""Report tools: readable thresholds, ``build`` after a crash, ``merge`` of shards, and which duplicate wins."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fc_check.report import SESSION_FILE, VERDICT_DIR, deduplicate, merge, threshold_text
from fc_check.stats import Interval
from fc_check.thresholds import format_number, format_threshold
from fc_check.verdict import Finding, at_least, at_most, exact, inside, verdict_record

ROOT = Path(__file__).resolve().parents[1]
CHEAP = ["theorems/test_lemma_1_1.py::test_closed_form_equals_autograd", "theorems/test_lemma_1_1.py::test_projection_identity",
         "properties/test_controls.py::test_no_spurious_correlation"]


def test_thresholds_read_as_written() -> None:
    iv = Interval(0.8, 0.75, 0.85, 1e-5, "t", 16, "two-sided")
    assert at_least("c", "s", iv, math.log(2), 0.1).threshold_text == "≥ log 2"
    assert at_least("c", "s", iv, 0.0, 0.1, strict=True).threshold_text == "> 0"
    assert at_most("c", "s", iv, 0.05, 0.1).threshold_text == "≤ 0.05"
    assert inside("c", "s", iv, -0.05, 0.05, 0.1).threshold_text == "∈ [−0.05, 0.05]"
    assert exact("c", "s", 1e-16, 1e-10, 4).threshold_text == "≤ 1e-10"
    assert format_threshold({"contains": -0.5, "max_half_width": 0.1}) == "∋ −1/2, half-width ≤ 0.1"
    assert [format_number(x) for x in (1.0, -1.0, 0.5, 1 / 3, 0.2, 12345.678, math.log(10))] == ["1", "−1", "1/2", "1/3", "0.2", "1.235e+04", "log 10"]


def test_relation_is_inferred_for_records_without_one() -> None:
    """A Finding built by hand (no relation) still reads with its direction, from its margin."""
    low = Finding("c", "s", 0.5, 0.4, 0.6, 1e-5, 0.2, 0.1, 16, True, 0.4 - 0.2, "t")
    high = Finding("c", "s", 0.5, 0.4, 0.6, 1e-5, 0.9, 0.1, 16, True, 0.9 - 0.6, "t")
    assert (low.threshold_text, high.threshold_text) == ("≥ 0.2", "≤ 0.9")
    rec = verdict_record(high, paper_ref="", statement="", regime={}, seed=0, device="cpu", torch_version="x", duration_s=0, replay="")
    assert rec["relation"] == "<=" and rec["threshold"] == 0.9  # results.json keeps the machine form
    assert threshold_text({k: v for k, v in rec.items() if k != "relation"}) == "≤ 0.9"


def _record(estimate: float, at: str, seed: int = 1, nodeid: str = "t.py::test") -> dict:
    f = Finding("figure-3a", "ID risk", estimate, estimate - 0.01, estimate + 0.01, 1e-5, 0.05, 0.01, 16, estimate < 0.04, 0.04 - estimate, "t", relation="<=")
    rec = verdict_record(f, paper_ref="Figure 3(a)", statement="s", regime={"m": 64}, seed=seed, device="cpu", torch_version="x", duration_s=1, replay="pytest t")
    return {"kind": "verdict", **rec, "nodeid": nodeid, "recorded_at": at}


def test_duplicate_verdict_latest_recorded_wins() -> None:
    old, new, other = _record(0.03, "2026-01-01T00:00:00"), _record(0.06, "2026-01-02T00:00:00"), _record(0.01, "2026-01-01T00:00:00", seed=2)
    assert deduplicate([old, other, new]) == [new, other]  # the survivor keeps the first position of its key
    assert deduplicate([new, other, old]) == [new, other]  # an older copy read later does not replace it
    tie = {**old, "estimate": 0.02}
    assert deduplicate([old, tie]) == [tie]  # equal times: the one read last
    assert len(deduplicate([old, _record(0.03, "2026-01-01T00:00:00", nodeid="u.py::test")])) == 2  # another test is another verdict


def _write_run(folder: Path, records: list[dict], session: dict) -> None:
    (folder / VERDICT_DIR).mkdir(parents=True)
    (folder / VERDICT_DIR / "gw0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (folder / VERDICT_DIR / SESSION_FILE).write_text(json.dumps(session), encoding="utf-8")


def test_build_and_merge_command_line(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    _write_run(a, [_record(0.03, "2026-01-01T00:00:00")], {"profile": "ci", "alpha": 1e-3})
    _write_run(b, [_record(0.06, "2026-01-02T00:00:00"), _record(0.01, "2026-01-01T00:00:00", seed=2)], {"profile": "default", "alpha": 1e-3})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "fc_check.report", "build", str(a)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    built = json.loads((a / "results.json").read_text())
    assert built["claims"] == {"figure-3a": "PASS"} and built["session"]["profile"] == "ci" and (a / "index.html").exists()
    proc = subprocess.run([sys.executable, "-m", "fc_check.report", "merge", str(a), str(b), "--out", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    merged = json.loads((out / "results.json").read_text())
    assert [v["estimate"] for v in merged["verdicts"]] == [0.06, 0.01] and merged["claims"] == {"figure-3a": "FAIL"}
    assert merged["session"]["profile"] == "ci, default" and merged["session"]["alpha"] == 1e-3
    assert "≤ 0.05" in (out / "index.html").read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "fc_check.report", "build", str(tmp_path / "none")], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not the report folder of a run" in proc.stderr


def _run(args: list[str], report: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FC_", "PYTEST_"))}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "--fc-profile", "ci", "--fc-device", "cpu", "--fc-report", str(report), *args, *CHEAP]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _essence(results: dict) -> list[tuple]:
    return sorted((v["nodeid"], v["claim"], v["statistic"], json.dumps(v["regime"], sort_keys=True), v["seed"], v["verdict"], v["estimate"]) for v in results["verdicts"])


def test_two_shards_merge_to_the_unsharded_run(tmp_path: Path) -> None:
    """pytest-split's groups, each writing its own folder, merge to the verdicts of one run; every
    test's JUnit XML carries its verdicts' estimate, interval, level and word."""
    pytest.importorskip("pytest_split")
    whole = _run(["--junitxml", str(tmp_path / "junit.xml")], tmp_path / "whole")
    assert whole.returncode == 0, whole.stdout[-3000:]
    shards = [_run(["--splits", "2", "--group", str(g)], tmp_path / f"shard{g}") for g in (1, 2)]
    assert all(p.returncode == 0 for p in shards), [p.stdout[-2000:] for p in shards]
    parts = [json.loads((tmp_path / f"shard{g}" / "results.json").read_text()) for g in (1, 2)]
    assert all(p["verdicts"] for p in parts)  # each shard ran part of the selection
    merge([tmp_path / "shard1", tmp_path / "shard2"], tmp_path / "merged")
    merged, one = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("merged", "whole"))
    assert _essence(merged) == _essence(one) and merged["claims"] == one["claims"] and len(one["verdicts"]) == 6
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    props = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in cases}
    spurious = props["test_no_spurious_correlation"]
    assert spurious["fc[0].claim"] == "control/no-spurious-correlation" and spurious["fc[0].verdict"] == "PASS"
    assert {"fc[0].estimate", "fc[0].interval", "fc[0].level", "fc[0].threshold", "fc[1].verdict"} <= set(spurious)
    assert spurious["fc[0].threshold"].startswith("∈ [")
