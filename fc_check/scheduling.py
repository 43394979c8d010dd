"""Under pytest-xdist, the tests that read one memoised training run are sent to one worker.

Several claims read the same training run, memoised within a process (``functools.lru_cache``):
the CNN's three checks, the digits checks of one run, Figures 4 and 5 on digits, and the
contamination and OOD-gap maps. Under xdist's default ``--dist load`` those tests can land on
different workers, and then each worker trains the run again (measured under ``ci`` on 2 cores: the
CNN's Grad-CAM check took 30 s on the second worker, 0.3 s beside its sibling).

``SHARED_RUNS`` declares the groups by test id, because the scheduler runs on the controller,
which sees ids but not markers. (xdist's own ``--dist loadgroup`` reads ``xdist_group`` markers
by suffixing ids on the workers, which pytest 9.2's node ids no longer carry, so it groups
nothing there.) Every other test is its own unit.

Units are handed out costliest first (``EXPECTED_SECONDS``; longest processing time first), so that
the workers finish together: in collection order, one worker ran the onset map (40 s) last while
the other had been idle for 32 s (``ci``, 2 cores).
"""

from __future__ import annotations

import functools
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


# Seconds a test takes under ``ci`` with one thread (``-n 2`` on 2 cores, AMD EPYC; its checks' durations in
# the verdicts of a run of the first README command, summed over examples), rounded: only the
# order they give matters, not the figures. A test not listed counts as 0 and runs after the listed
# ones, in collection order. A key is a test id, or a test function (``file::function``) whose
# instances each count it where their own id is not listed.
EXPECTED_SECONDS: dict[str, float] = {
    "theorems/test_theorem_4_1.py::test_t0_scaling": 100,
    "properties/test_digits.py::test_distillation": 87,
    "properties/test_theory_matching.py::test_theory_matching": 62,
    "maps/test_boundary_persistence.py::test_persistence_boundary": 51,
    "maps/test_onset.py::test_onset_map": 50,
    "properties/test_digits_figure1.py::test_three_families": 43,
    "properties/test_figure_3d_depth.py::test_depth_3": 43,
    "properties/test_figure_3d_depth.py::test_depth_4": 42,
    "properties/test_figure_6_cnn.py::test_feature_visualisation": 36,
    "properties/test_figure_3d.py::test_figure_3d": 33,
    "properties/test_distillation.py::test_relu_student": 20,
    "maps/test_boundary_contamination.py::test_contamination_boundary": 18,
    "maps/test_persistence.py::test_persistence_map": 18,
    "theorems/test_lemma_1_1.py::test_relu_background_projection_tracks_asymmetry": 17,
    "theorems/test_lemma_1_2.py::test_rate": 15,
    "properties/test_dose_response.py::test_dose_response": 15,
    "theorems/test_theorem_4_2.py::test_background_tracks_asymmetry": 13,
    "properties/test_digits_figure4.py::test_activation_rates": 12,
    "theorems/test_theorem_4_3.py::test_ood_error_grows_with_background": 9,
    "maps/test_contamination.py::test_contamination_map": 9,
    "maps/test_boundary_ood_gap.py::test_ood_gap_boundary": 8,
    "properties/test_digits.py::test_contamination": 6,
    "theorems/test_theorem_4_1.py::test_persistence": 6,
    "theorems/test_lemma_1_2.py::test_hoeffding_exceedance": 6,
    "maps/test_boundary_onset.py::test_onset_boundary": 5,
    "theorems/test_lemma_1_1.py::test_linear_background_projection_zero": 5,
    "properties/test_controls.py::test_zero_mean_background": 4,
    "theorems/test_theorem_4_2.py::test_own_core_growth": 3,
    # the unit tests (the second command) that run checks, trainings or pytest itself
    "tests/test_boundaries.py::test_scaled_background_moves_the_persistence_crossing_above_the_edge": 32,
    "tests/test_calibration.py::test_a_study_without_the_heavy_families_says_so_per_claim": 25,
    "tests/test_scheduling.py::test_a_group_runs_on_one_worker": 25,
    "tests/test_report_tools.py::test_two_shards_merge_to_the_unsharded_run": 21,
    "tests/test_mutants.py::test_check_fails_on_its_mutant[figure-3abc/theory-matching]": 20,
    "tests/test_mutants.py::test_check_fails_on_its_mutant[figure-3d/depth-3]": 19,
    "tests/test_report.py::test_xdist_run_merges_every_worker_verdict": 15,
    "tests/test_usage.py::test_recording_error_is_an_error_of_the_run_not_a_fail": 8,
    "tests/test_mutants.py::test_check_fails_on_its_mutant[digits/three-families]": 9,
    "tests/test_mutants.py::test_check_fails_on_its_mutant[distillation/relu-student]": 9,
    "tests/test_calibration.py::test_pool_batches_run_in_worker_processes_give_the_same_replicates": 9,
    "tests/test_report_tools.py::test_build_and_merge_command_line": 8,
}


def _function_key(nodeid: str) -> tuple[str, str]:
    path, _, rest = nodeid.partition("::")
    return path, rest.split("[", 1)[0].split("::", 1)[0]


@functools.cache  # the scheduler sums these over every pending unit at each hand-out
def expected_seconds(nodeid: str) -> float:
    """``EXPECTED_SECONDS`` of a test id (its own entry, else its function's; 0 where neither)."""
    if nodeid in EXPECTED_SECONDS:
        return EXPECTED_SECONDS[nodeid]
    path, function = _function_key(nodeid)
    return EXPECTED_SECONDS.get(f"{path}::{function}", 0.0)


def shared_run_group(nodeid: str) -> str | None:
    """The group of a test id under ``SHARED_RUNS`` (``None``: the test shares no memoised run)."""
    path, function = _function_key(nodeid)
    return SHARED_RUNS.get(f"{path}::{function}") or SHARED_RUNS.get(path)


def scheduler_class() -> type | None:
    """xdist's scope scheduling with a scope per shared-run group and one per other test, handed out
    costliest first; ``None`` where this xdist has no scope scheduler."""
    try:
        from xdist.scheduler import LoadScopeScheduling
    except ImportError:
        return None

    class SharedRunScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_run_group(nodeid) or nodeid

        def _assign_work_unit(self, node: Any) -> None:
            # xdist hands out the unit at the head of its queue: put the costliest pending one there
            # (the first of equals, so that units of no listed cost keep xdist's order)
            if self.workqueue and hasattr(self.workqueue, "move_to_end"):
                costliest = max(self.workqueue, key=lambda scope: sum(map(expected_seconds, self.workqueue[scope])))
                self.workqueue.move_to_end(costliest, last=False)
            super()._assign_work_unit(node)

    return SharedRunScheduling


def make_scheduler(config: Any, log: Any) -> Any:
    """The scheduler of ``scheduler_class``, or ``None`` (xdist then schedules as it would without this plugin)."""
    cls = scheduler_class()
    return None if cls is None else cls(config, log)
