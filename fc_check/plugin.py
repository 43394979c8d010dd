"""The pytest plugin: options, the ``fc`` fixture, per-worker verdict files and the reports.

Options: ``--fc-profile ci|default|thorough`` (or ``FC_PROFILE``), ``--fc-device
auto|cpu|cuda`` (or ``FC_DEVICE``), ``--fc-alpha`` (suite false-fail budget, default 1e-3),
``--fc-report DIR`` (default ``reports``). Under ``pytest -n N`` every worker appends its
verdicts to ``DIR/.verdicts/<worker>.jsonl`` as they finish (flushed per line); the controller
merges them into ``DIR/results.json`` and ``DIR/index.html`` when the session ends.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fc_check.budget import DEFAULT_ALPHA, ErrorBudget, Profile, profile
from fc_check.catalogue import claim as lookup_claim
from fc_check.devices import threads_per_worker, worker_device
from fc_check.hypo import PROFILE_ENV
from fc_check.report import VERDICT_DIR, read_records, summarise, write_reports
from fc_check.verdict import Outcome, verdict_record

STATE = pytest.StashKey["FcState"]()


@dataclass
class FcState:
    profile: Profile
    budget: ErrorBudget
    requested_device: str
    device: str
    report_dir: Path
    worker: str
    is_controller: bool
    torch_version: str

    @property
    def sink(self) -> Path:
        return self.report_dir / VERDICT_DIR / f"{self.worker}.jsonl"

    def append(self, record: dict[str, Any]) -> None:
        self.sink.parent.mkdir(parents=True, exist_ok=True)
        with open(self.sink, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=str) + "\n")
            fh.flush()

    def session_info(self) -> dict[str, Any]:
        return {"profile": self.profile.name, "alpha": self.budget.total, "level": self.budget.per_assertion,
                "slots": self.budget.slots, "device": self.requested_device, "torch": self.torch_version}


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("fc-verify", "feature-contamination claim checks")
    g.addoption("--fc-profile", default=None, help="ci | default | thorough (env FC_PROFILE; default 'default')")
    g.addoption("--fc-device", default=None, help="auto | cpu | cuda | cuda:N (env FC_DEVICE; default auto)")
    g.addoption("--fc-alpha", default=None, type=float, help=f"suite-wide false-fail budget (default {DEFAULT_ALPHA})")
    g.addoption("--fc-report", default="reports", help="report folder (default reports/)")


def pytest_configure(config: pytest.Config) -> None:
    import torch

    name = config.getoption("--fc-profile") or os.environ.get(PROFILE_ENV) or "default"
    prof = profile(name)
    os.environ[PROFILE_ENV] = prof.name  # read by fc_check.hypo when test modules are imported
    alpha = config.getoption("--fc-alpha")
    budget = ErrorBudget.for_profile(DEFAULT_ALPHA if alpha is None else alpha, prof)
    requested = config.getoption("--fc-device") or os.environ.get("FC_DEVICE") or "auto"
    workerinput = getattr(config, "workerinput", None)
    worker = workerinput["workerid"] if workerinput else "main"
    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    try:
        device = worker_device(requested, worker, cuda)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if device == "cpu" and workerinput:
        n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        torch.set_num_threads(threads_per_worker(n, os.cpu_count() or 1))
    report_dir = Path(config.getoption("--fc-report"))
    state = FcState(prof, budget, requested, device, report_dir, worker, workerinput is None, torch.__version__)
    config.stash[STATE] = state
    if state.is_controller:
        shutil.rmtree(report_dir / VERDICT_DIR, ignore_errors=True)
    config.addinivalue_line("markers", "fc_claim(id): the claim a test checks")


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or not state.is_controller or not (state.report_dir / VERDICT_DIR).exists():
        return
    write_reports(state.report_dir, state.session_info())


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.is_controller:
        return
    by_claim = summarise(read_records(state.report_dir))
    if not by_claim:
        return
    terminalreporter.section("fc-verify claims")
    terminalreporter.write_line(f"profile {state.profile.name}, budget {state.budget.total:g}, per interval {state.budget.per_assertion:.3g}")
    for cid, e in by_claim.items():
        w = e["weakest"]
        lo, hi = w.get("ci_low"), w.get("ci_high")
        terminalreporter.write_line(f"{e['verdict']:4}  {cid:55} {w['statistic']}: {_num(w.get('estimate'))} [{_num(lo, '-inf')}, {_num(hi)}] vs {w['threshold']}")
    terminalreporter.write_line(f"report: {state.report_dir / 'index.html'}")


def _num(x: Any, missing: str = "inf") -> str:
    return missing if x is None else f"{x:.4g}"


def _png(draw: Callable[[Any], None]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=90)
    try:
        draw(ax)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


class FcContext:
    """What a claim test needs: the level of each asserted interval, the device, the profile,
    and ``check`` to run a check, record its verdicts and assert on them."""

    def __init__(self, state: FcState, nodeid: str, config: pytest.Config) -> None:
        self.state = state
        self.nodeid = nodeid
        self.config = config
        self._plotted: set[tuple[str, str]] = set()

    @property
    def level(self) -> float:
        return self.state.budget.per_assertion

    @property
    def device(self) -> str:
        return self.state.device

    @property
    def profile(self) -> Profile:
        return self.state.profile

    def replay(self) -> str:
        args = ["pytest", self.nodeid, "--fc-profile", self.profile.name, "--fc-device", "cpu" if self.device == "cpu" else self.state.requested_device,
                "--fc-alpha", repr(self.state.budget.total), "-p", "no:randomly"]
        seed = self.config.getoption("hypothesis_seed", default=None)
        if seed is not None:
            args.append(f"--hypothesis-seed={seed}")
        return shlex.join(args)

    def record(self, outcome: Outcome, duration_s: float) -> None:
        for f in outcome.findings:
            c = lookup_claim(f.claim)
            self.state.append({"kind": "verdict", **verdict_record(
                f, paper_ref=c.paper_ref, statement=c.statement, regime=outcome.regime, seed=outcome.seed, device=self.device,
                torch_version=self.state.torch_version, duration_s=duration_s, replay=self.replay(), extra={"nodeid": self.nodeid})})
        for p in outcome.plots:
            if (p.claim, p.title) in self._plotted:
                continue
            self._plotted.add((p.claim, p.title))
            self.state.append({"kind": "plot", "claim": p.claim, "title": p.title, "png": _png(p.draw)})
        for t in outcome.tables:
            self.state.append({"kind": "table", "claim": t["claim"], "title": t["title"], "columns": t["columns"], "rows": t["rows"]})

    def check(self, fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
        """Run ``fn(*args, level=..., device=..., **kwargs)``, record every finding, steer
        Hypothesis towards the weakest regime, and assert that every finding passed."""
        from hypothesis import target
        from hypothesis.control import currently_in_test_context

        start = time.perf_counter()
        outcome = fn(*args, level=self.level, device=self.device, **kwargs)
        self.record(outcome, time.perf_counter() - start)
        if currently_in_test_context():
            for f in outcome.findings:
                if f.margin == f.margin and abs(f.margin) != float("inf"):
                    target(-float(f.margin), label=f"{f.claim}:{f.statistic}")
        assert outcome.passed, outcome.message()
        return outcome


@pytest.fixture
def fc(request: pytest.FixtureRequest) -> FcContext:
    return FcContext(request.config.stash[STATE], request.node.nodeid, request.config)
