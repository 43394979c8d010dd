"""Under pytest-xdist, the tests that read one memoised training run are sent to one worker.

Several claims read the same training run, memoised within a process (``functools.lru_cache``):
the CNN's three checks, the digits checks of one run, Figures 4 and 5 on digits, and the
contamination and OOD-gap maps. Under xdist's default ``--dist load`` those tests can land on
different workers, and then each worker trains the run again (measured under ``ci`` on 2 cores: the
CNN's Grad-CAM check took 30 s on the second worker, 0.3 s beside its sibling).

``SHARED_RUNS`` declares the groups by test id, because the scheduler runs on the controller,
which sees ids but not markers. (xdist's own ``--dist loadgroup`` reads ``xdist_group`` markers
by suffixing ids on the workers, which pytest 9.2's node ids no longer carry, so it groups
nothing there.) Every other test is its own unit, scheduled as under ``load``.
"""

from __future__ import annotations

from typing import Any

# test file, or file::test function (parameters stripped) -> the group of tests that share a memoised run
SHARED_RUNS: dict[str, str] = {
    "properties/test_figure_6_cnn.py": "cnn-run",  # _run: feature visualisation, OOD gap, Grad-CAM
    "properties/test_digits_figure4.py": "digits-figures-4-5",  # digits_figures.figures_run
    "properties/test_digits_figure5.py": "digits-figures-4-5",
    "maps/test_contamination.py": "slope-maps",  # final_statistics: the two maps read the same cells
    "maps/test_ood_gap.py": "slope-maps",
    "properties/test_digits.py::test_contamination": "digits-runs",  # _run: the ReLU and identity runs
    "properties/test_digits.py::test_border_sign": "digits-runs",
    "properties/test_digits.py::test_ood_gap": "digits-runs",
}


def shared_run_group(nodeid: str) -> str | None:
    """The group of a test id under ``SHARED_RUNS`` (``None``: the test shares no memoised run)."""
    path, _, rest = nodeid.partition("::")
    function = rest.split("[", 1)[0].split("::", 1)[0]
    return SHARED_RUNS.get(f"{path}::{function}") or SHARED_RUNS.get(path)


def make_scheduler(config: Any, log: Any) -> Any:
    """xdist's scope scheduling with a scope per shared-run group and one per other test, or ``None``
    where this xdist has no scope scheduler (xdist then schedules as it would without this plugin)."""
    try:
        from xdist.scheduler import LoadScopeScheduling
    except ImportError:
        return None

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_run_group(nodeid) or nodeid

    return SharedRunScheduling(config, log)
