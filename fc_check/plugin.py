"""The pytest plugin: options, the ``fc`` fixture, per-worker verdict files and the reports.

Options (each with an environment variable; the option wins): ``--fc-profile ci|default|thorough``
(``FC_PROFILE``), ``--fc-device auto|cpu|cuda|cuda:N`` (``FC_DEVICE``), ``--fc-alpha`` (suite
error budget in (0, 1), default 1e-3: the probability that any asserted interval misses its true value, which bounds
the chance of any false PASS of an 'at least / at most / inside' claim and of any false FAIL of a 'contains' claim; ``FC_ALPHA``), ``--fc-report DIR`` (default ``reports``;
``FC_REPORT``). All are validated in ``pytest_configure``: a bad one is a ``pytest.UsageError``
(exit code 4, one line) before any test is collected, and the report folder is created and
test-written there. Under ``pytest -n N`` every worker appends its verdicts to
``DIR/.verdicts/<worker>.jsonl`` as they finish (flushed per line); the controller merges them into
``DIR/results.json`` and ``DIR/index.html`` when the session ends. An error while recording or
writing verdicts stops the run with exit code 3 (pytest's internal error), never a claim FAIL.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fc_check.budget import DEFAULT_ALPHA, PROFILES, ErrorBudget, Profile
from fc_check.catalogue import claim as lookup_claim
from fc_check.devices import export_freed_memory_settings, keep_freed_memory, threads_per_worker, worker_device
from fc_check.hypo import PROFILE_ENV
from fc_check.plots import png
from fc_check.report import SESSION_FILE, VERDICT_DIR, atomic_write, deduplicate, read_records, summarise, threshold_text, write_reports
from fc_check.verdict import Outcome, verdict_record

STATE = pytest.StashKey["FcState"]()
DEVICE_ENV, ALPHA_ENV, REPORT_ENV = "FC_DEVICE", "FC_ALPHA", "FC_REPORT"


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
    errors: list[str] = field(default_factory=list)  # errors of the run (recording), reported at the end with exit code 3

    @property
    def sink(self) -> Path:
        return self.report_dir / VERDICT_DIR / f"{self.worker}.jsonl"

    def append(self, record: dict[str, Any]) -> None:
        self.sink.parent.mkdir(parents=True, exist_ok=True)
        stamped = {**record, "recorded_at": datetime.now(UTC).isoformat(timespec="microseconds")}  # decides which duplicate wins a merge
        with open(self.sink, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(stamped, default=str) + "\n")
            fh.flush()

    def session_info(self) -> dict[str, Any]:
        return {"profile": self.profile.name, "alpha": self.budget.total, "level": self.budget.per_assertion,
                "slots": self.budget.slots, "device": self.requested_device, "torch": self.torch_version}


@dataclass(frozen=True)
class Options:
    """The run's validated settings, each from its option, else its environment variable, else the default."""

    profile: Profile
    alpha: float
    device: str
    report_dir: Path


def _setting(value: str | None, option: str, env: str, environ: dict[str, str] | os._Environ[str], default: str) -> tuple[str, str]:
    """The value in effect and where it came from (the option beats the environment variable)."""
    if value is not None:
        return value, option
    if environ.get(env):
        return environ[env], env
    return default, option


def resolve_options(profile_opt: str | None, alpha_opt: str | None, device_opt: str | None, report_opt: str | None,
                    environ: dict[str, str] | os._Environ[str], cuda_count: int) -> Options:
    """Validate every fc-verify setting at configuration time; a bad one raises ``pytest.UsageError``
    with one line naming the option (or variable) and its allowed values, before any test runs."""
    name, src = _setting(profile_opt, "--fc-profile", PROFILE_ENV, environ, "default")
    if name not in PROFILES:
        raise pytest.UsageError(f"{src}: {name!r} is not a profile; allowed: {', '.join(PROFILES)}")
    raw, src = _setting(alpha_opt, "--fc-alpha", ALPHA_ENV, environ, repr(DEFAULT_ALPHA))
    try:
        alpha = float(raw)
    except ValueError:
        alpha = float("nan")
    if not 0 < alpha < 1:  # NaN fails too
        raise pytest.UsageError(f"{src}: {raw!r} is not an error budget; allowed: a number in (0, 1), e.g. {DEFAULT_ALPHA:g}")
    device, src = _setting(device_opt, "--fc-device", DEVICE_ENV, environ, "auto")
    if device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", device):
        raise pytest.UsageError(f"{src}: {device!r} is not a device; allowed: auto, cpu, cuda, cuda:N")
    try:
        worker_device(device, "main", cuda_count)
    except ValueError as exc:
        here = "auto, cpu" + (f", cuda, cuda:0 to cuda:{cuda_count - 1}" if cuda_count else "")
        raise pytest.UsageError(f"{src}: {exc}; allowed on this machine: {here}") from None
    folder, src = _setting(report_opt, "--fc-report", REPORT_ENV, environ, "reports")
    report_dir = Path(folder)
    try:  # created and proven writable now, so that a bad folder cannot cost a run's simulations
        (report_dir / VERDICT_DIR).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=report_dir / VERDICT_DIR, prefix=".probe-"):
            pass
    except OSError as exc:
        raise pytest.UsageError(f"{src}: {folder!r} is not a writable folder ({exc.strerror or exc}); allowed: a folder this user can create and write") from None
    return Options(PROFILES[name], alpha, device, report_dir)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("fc-verify", "feature-contamination claim checks")
    g.addoption("--fc-profile", default=None, help=f"ci | default | thorough (env {PROFILE_ENV}; default 'default')")
    g.addoption("--fc-device", default=None, help=f"auto | cpu | cuda | cuda:N (env {DEVICE_ENV}; default auto)")
    g.addoption("--fc-alpha", default=None, help=f"suite-wide error budget in (0, 1): the probability that any asserted interval misses its true value, bounding any false PASS "
                f"of an at-least/at-most/inside claim and any false FAIL of a 'contains' claim (env {ALPHA_ENV}; default {DEFAULT_ALPHA})")
    g.addoption("--fc-report", default=None, help=f"report folder (env {REPORT_ENV}; default reports/)")


def pytest_configure(config: pytest.Config) -> None:
    import torch

    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    opts = resolve_options(config.getoption("--fc-profile"), config.getoption("--fc-alpha"), config.getoption("--fc-device"),
                           config.getoption("--fc-report"), os.environ, cuda)
    os.environ[PROFILE_ENV] = opts.profile.name  # read by fc_check.hypo when test modules are imported
    budget = ErrorBudget.for_profile(opts.alpha, opts.profile)
    workerinput = getattr(config, "workerinput", None)
    worker = workerinput["workerid"] if workerinput else "main"
    device = worker_device(opts.device, worker, cuda)
    if device == "cpu" and workerinput:
        n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        torch.set_num_threads(threads_per_worker(n, os.cpu_count() or 1))
    # Freed memory kept for reuse (fewer page faults, same arithmetic): this process through mallopt
    # (in a worker the inherited variables already rule, and it does nothing), then, in the
    # controller, the variables for the workers xdist starts next. This order: once exported, they
    # would read as the user's own and mallopt would be skipped in a run without xdist.
    keep_freed_memory()
    if workerinput is None:
        export_freed_memory_settings()
    state = FcState(opts.profile, budget, opts.device, device, opts.report_dir, worker, workerinput is None, torch.__version__)
    config.stash[STATE] = state
    if state.is_controller:  # a fresh run starts from no verdicts (the folder itself was checked above)
        for old in (opts.report_dir / VERDICT_DIR).glob("*.jsonl"):
            old.unlink()
        atomic_write(opts.report_dir / VERDICT_DIR / SESSION_FILE, json.dumps(state.session_info()))  # for `report build` after a crash
    config.addinivalue_line("markers", "fc_claim(id): the claim a test checks")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` with xdist's default ``--dist load``: the tests that share a memoised training run go to one
    worker (``fc_check.scheduling``). Any other ``--dist`` is xdist's own."""
    if config.getvalue("dist") != "load":
        return None
    from fc_check.scheduling import make_scheduler

    return make_scheduler(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    if state is None or not state.is_controller:
        return
    try:
        if (state.report_dir / VERDICT_DIR).exists():
            write_reports(state.report_dir, state.session_info())
    except Exception as exc:  # noqa: BLE001 - a report that cannot be written is an error of the run, not of a claim
        state.errors.append(f"fc-verify: could not write the report in {state.report_dir}: {type(exc).__name__}: {exc}")
    if state.errors:
        more = f" (and {len(state.errors) - 1} more)" if len(state.errors) > 1 else ""
        pytest.exit(state.errors[0] + more, returncode=pytest.ExitCode.INTERNAL_ERROR)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: a worker's recording error becomes the controller's (exit code 3 at the end)."""
    msg = getattr(node, "workeroutput", {}).get("fc_error")
    state = node.config.stash.get(STATE, None)
    if msg and state is not None:
        state.errors.append(msg)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.is_controller:
        return
    by_claim = summarise(deduplicate(read_records(state.report_dir)))
    if not by_claim:
        return
    terminalreporter.section("fc-verify claims")
    terminalreporter.write_line(f"profile {state.profile.name}, budget {state.budget.total:g}, per interval {state.budget.per_assertion:.3g}")
    for cid, e in by_claim.items():
        w = e["weakest"]
        lo, hi = w.get("ci_low"), w.get("ci_high")
        terminalreporter.write_line(f"{e['verdict']:4}  {cid:55} {w['statistic']}: {_num(w.get('estimate'))} [{_num(lo, '-inf')}, {_num(hi)}] vs {threshold_text(w)}")
    terminalreporter.write_line(f"report: {state.report_dir / 'index.html'}")


def _num(x: Any, missing: str = "inf") -> str:
    return missing if x is None else f"{x:.4g}"


class FcContext:
    """What a claim test needs: the level of each asserted interval, the device, the profile,
    and ``check`` to run a check, record its verdicts and assert on them."""

    def __init__(self, state: FcState, nodeid: str, config: pytest.Config, record_property: Callable[[str, object], None] | None = None,
                 session: pytest.Session | None = None) -> None:
        self.state = state
        self.session = session
        self.record_property = record_property
        self.nodeid = nodeid
        self.config = config
        self._plotted: set[tuple[str, str]] = set()
        self._recorded = 0
        self._outcomes: dict[Any, Outcome] = {}  # this test's checks by their arguments (see ``check``)

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
        """Append the outcome's verdicts, plots and tables to this worker's file. Any error here is
        an error of the run (pytest's internal-error exit code), never a FAIL of the claim."""
        try:
            self._record(outcome, duration_s)
        except Exception as exc:  # noqa: BLE001
            msg = f"fc-verify: could not record the verdicts of {self.nodeid}: {type(exc).__name__}: {exc}"
            self.state.errors.append(msg)
            self.session.shouldstop = msg  # no further test runs (its verdicts could not be kept); the claim's own result stands
            workeroutput = getattr(self.config, "workeroutput", None)
            if workeroutput is not None:  # reaches the controller through xdist (pytest_testnodedown)
                workeroutput["fc_error"] = msg
        if self.record_property is not None:  # JUnit XML properties, for CI systems that read --junitxml
            for f in outcome.findings:  # one numbered group per finding of every example the test ran
                key = f"fc[{self._recorded}]"
                self._recorded += 1
                self.record_property(f"{key}.claim", f.claim)
                self.record_property(f"{key}.statistic", f.statistic)
                self.record_property(f"{key}.verdict", "PASS" if f.passed else "FAIL")
                self.record_property(f"{key}.estimate", f"{f.estimate:.6g}")
                self.record_property(f"{key}.interval", f"[{f.ci_low:.6g}, {f.ci_high:.6g}] ({f.method})")
                self.record_property(f"{key}.level", f"{f.level:.3g}")
                self.record_property(f"{key}.threshold", f.threshold_text)

    def _record(self, outcome: Outcome, duration_s: float) -> None:
        for f in outcome.findings:
            c = lookup_claim(f.claim)
            self.state.append({"kind": "verdict", **verdict_record(
                f, paper_ref=c.paper_ref, statement=c.statement, regime=outcome.regime, seed=outcome.seed, device=self.device,
                torch_version=self.state.torch_version, duration_s=duration_s, replay=self.replay(), extra={"nodeid": self.nodeid})})
        for p in outcome.plots:
            if (p.claim, p.title) in self._plotted:
                continue
            self._plotted.add((p.claim, p.title))
            self.state.append({"kind": "plot", "claim": p.claim, "title": p.title, "png": png(p.draw)})
        for t in outcome.tables:
            self.state.append({"kind": "table", "claim": t["claim"], "title": t["title"], "columns": t["columns"], "rows": t["rows"]})

    def check(self, fn: Callable[..., Outcome], *args: Any, **kwargs: Any) -> Outcome:
        """Run ``fn(*args, level=..., device=..., **kwargs)`` (once for given arguments), record every finding, steer
        Hypothesis towards the weakest regime, and assert that every finding passed."""
        from hypothesis import target
        from hypothesis.control import currently_in_test_context

        # A check is a seeded function of its arguments. Hypothesis's generated example can repeat the
        # pinned one (under ``ci``, the ReLU distillation student's first generated regime is its pinned
        # regime: 18-22 s of one core spent twice), so a repeated call reuses its outcome, recorded once.
        try:
            key: Any = (fn, args, tuple(sorted(kwargs.items())))
            outcome = self._outcomes.get(key)
        except TypeError:  # unhashable arguments: always run
            key, outcome = None, None
        if outcome is None:
            start = time.perf_counter()
            outcome = fn(*args, level=self.level, device=self.device, **kwargs)
            self.record(outcome, time.perf_counter() - start)
            if key is not None:
                self._outcomes[key] = outcome
        if currently_in_test_context():
            for f in outcome.findings:
                if f.margin == f.margin and abs(f.margin) != float("inf"):
                    target(-float(f.margin), label=f"{f.claim}:{f.statistic}")
        assert outcome.passed, outcome.message()
        return outcome


@pytest.fixture
def fc(request: pytest.FixtureRequest, record_property: Callable[[str, object], None]) -> FcContext:
    return FcContext(request.config.stash[STATE], request.node.nodeid, request.config, record_property, request.session)
