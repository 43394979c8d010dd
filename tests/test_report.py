"""The report: HTML from fixed verdicts, and a merged results.json from a real `pytest -n 2` run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from fc_check.report import VERDICT_DIR, write_reports
from fc_check.verdict import VERDICT_KEYS, Finding, verdict_record

ROOT = Path(__file__).resolve().parents[1]


def _verdict(claim: str, passed: bool, regime: dict) -> dict:
    f = Finding(claim, "a statistic", 0.4, 0.35, 0.45, 1e-5, 0.2, 0.05, 16, passed, 0.15 if passed else -0.1, "t")
    return {"kind": "verdict", **verdict_record(f, paper_ref="Theorem 4.2", statement="<b>statement</b>", regime=regime, seed=3, device="cpu",
                                                torch_version="x", duration_s=1.0, replay="pytest x")}


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows = 0
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        d = dict(attrs)
        if tag == "tr" and d.get("class") == "claim-row":
            self.rows += 1
        for key in ("src", "href"):
            if d.get(key):
                self.urls.append(d[key] or "")


def test_html_has_one_row_per_claim_no_external_url_and_escapes(tmp_path: Path) -> None:
    folder = tmp_path / VERDICT_DIR
    folder.mkdir()
    records = [_verdict("theorem-4.2/contamination-ratio", True, {"m": 64}), _verdict("theorem-4.2/contamination-ratio", False, {"m": "<script>alert(1)</script>"}),
               _verdict("figure-3a", True, {"m": 32}), {"kind": "plot", "claim": "figure-3a", "title": "t", "png": "AAAA"}]
    (folder / "gw0.jsonl").write_text("\n".join(json.dumps(r) for r in records[:2]) + "\n{torn", encoding="utf-8")
    (folder / "gw1.jsonl").write_text("\n".join(json.dumps(r) for r in records[2:]) + "\n", encoding="utf-8")
    json_path, html_path = write_reports(tmp_path, {"profile": "ci", "alpha": 1e-3, "level": 1e-5, "slots": 81, "device": "cpu", "torch": "x"})
    html = html_path.read_text(encoding="utf-8")
    p = Collector()
    p.feed(html)
    assert p.rows == 2
    assert all(u.startswith("#") or u.startswith("data:image/png;base64,") for u in p.urls), p.urls
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "script" not in p.tags
    results = json.loads(json_path.read_text())
    assert results["claims"] == {"theorem-4.2/contamination-ratio": "FAIL", "figure-3a": "PASS"}
    assert len(results["verdicts"]) == 3 and all(set(VERDICT_KEYS) <= set(v) for v in results["verdicts"])


def test_xdist_run_merges_every_worker_verdict(tmp_path: Path) -> None:
    report = tmp_path / "rep"
    env = {**os.environ, "FC_PROFILE": "ci"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--fc-profile", "ci", "--fc-device", "cpu", "--fc-report", str(report),
           "theorems/test_lemma_1_1.py::test_closed_form_equals_autograd", "theorems/test_lemma_1_1.py::test_projection_identity",
           "properties/test_controls.py::test_no_spurious_correlation"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((report / "results.json").read_text())
    claims = {v["claim"] for v in results["verdicts"]}
    assert claims == {"lemma-1.1/closed-form-equals-autograd", "lemma-1.1/projection-identity", "control/no-spurious-correlation"}
    assert len(results["verdicts"]) == 6  # pinned + one generated example each
    assert len(list((report / VERDICT_DIR).glob("*.jsonl"))) >= 2  # both workers wrote their own file
    assert (report / "index.html").exists() and "fc-verify claims" in proc.stdout
    assert all(v["replay"].startswith("pytest ") and v["level"] > 0 or v["level"] == 0 for v in results["verdicts"])


def test_a_check_repeated_with_the_same_arguments_runs_and_is_recorded_once() -> None:
    """Hypothesis's generated example can equal the pinned one; the check is a seeded function of its
    arguments, so ``fc.check`` reuses the outcome (and still asserts on it) instead of running it again."""
    from types import SimpleNamespace

    import numpy as np
    import pytest

    from fc_check.common import mean_at_most
    from fc_check.plugin import FcContext
    from fc_check.verdict import Outcome

    calls: list[int] = []

    def check(regime: int, *, level: float, device: str) -> Outcome:
        calls.append(regime)
        f = mean_at_most("theorem-4.4/no-contamination", "a statistic", np.linspace(0.09, 0.11, 16) * regime, 0.2, level)
        return Outcome([f], {"regime": regime}, 0)

    appended: list[dict] = []
    state = SimpleNamespace(budget=SimpleNamespace(per_assertion=1e-3, total=1e-2), device="cpu", requested_device="cpu",
                            profile=SimpleNamespace(name="ci"), torch_version=None, errors=[], append=appended.append)
    ctx = FcContext(state, "theorems/test_x.py::test_y", SimpleNamespace(getoption=lambda *a, **k: None))  # type: ignore[arg-type]
    first = ctx.check(check, 1)
    assert ctx.check(check, 1) is first and calls == [1]
    with pytest.raises(AssertionError):  # another regime runs, and a FAIL is still asserted
        ctx.check(check, 3)
    with pytest.raises(AssertionError):  # ... and asserted again when reused
        ctx.check(check, 3)
    assert calls == [1, 3]
    assert [r["regime"] for r in appended if r["kind"] == "verdict"] == [{"regime": 1}, {"regime": 3}]
