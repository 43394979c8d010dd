"""``python -m fc_check.calibrate``: run the calibration study and write ``calibration.json``.

    python -m fc_check.calibrate [--profile ci|default] [--claims ID ...] [--out DIR] [--from-report DIR]
                                 [--device cpu|cuda|auto] [--no-heavy] [--no-power] [--power-along DEPARTURE ...]
                                 [--strengths S ...] [--write-levels]
    python -m fc_check.calibrate --merge-from FILE ... [--out DIR]

``--out`` is the report folder (default ``reports``): ``calibration.json`` goes there, and
``index.html`` is rebuilt from the folder's verdicts when it has any, so that the report shows the
study. ``--no-heavy`` leaves out the families that cost seconds per replicate (under ``default``
they take hours on 2 cores), as ``--profile ci`` always does; ``--no-power`` measures the levels and
fresh-seed fail rates only (the power pools, one per strength, cost as much as the rest under
``default``); ``--power-along NAME ...`` measures power along the named departures in place of the
profile's (``ci`` studies five of them to stay within its wall time), at every test along them: the
costly families too, even under ``ci``, unless ``--no-heavy`` (narrow with ``--claims``). ``--from-report DIR`` studies, beside each pinned regime, the weakest regime that the run in
``DIR`` found (from its ``results.json``). ``--write-levels`` writes the calibrated levels the study
chose into ``fc_check/calibrated_levels.json`` (the table the checks read; commit it with the study's
figures). Write it from a study with ``--from-report``: an entry then holds at the pinned and the
weakest regime (without, at the pinned one only, and the command says so). See
``fc_check.calibration`` for what is measured. ``--merge-from FILE ...`` runs no study: it adds the
power curves of other studies' files to the ``calibration.json`` already in ``--out`` (a curve of the
same departure and test is replaced, or joined point by point where it was measured with
``--strengths``; each added one records its commit and device), so that the costly families' curves,
measured on a GPU or overnight, join the ``ci`` study's report. ``--strengths S ...`` (with one
``--power-along`` departure) measures those strengths in place of the departure's declared grid: a
curve in parts, or only its paper's strength (the check's fresh-seed fail rate) where one strength
costs long (a costly family's pool on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fc_check.budget import PROFILES
from fc_check.calibration import STUDIES, departures_named, run_study
from fc_check.devices import export_freed_memory_settings


def weakest_regimes(report_dir: Path) -> dict[str, dict[str, Any]]:
    """Per claim, the regime of its verdict with the least margin in ``report_dir/results.json``."""
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    best: dict[str, tuple[float, dict[str, Any]]] = {}
    for v in results.get("verdicts", []):
        m = v.get("margin")
        if m is None or not isinstance(v.get("regime"), dict):
            continue
        if v["claim"] not in best or m < best[v["claim"]][0]:
            best[v["claim"]] = (m, v["regime"])
    return {c: r for c, (_, r) in best.items()}


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10, cwd=Path(__file__).resolve().parents[1])
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=10, cwd=Path(__file__).resolve().parents[1])
        return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def merge_into(out: Path, files: list[Path], ap: argparse.ArgumentParser) -> int:
    """``--merge-from``: the power curves of ``files`` merged into ``out/calibration.json``, in order."""
    from fc_check.calibration import merge_power
    from fc_check.report import VERDICT_DIR, atomic_write, build

    path = out / "calibration.json"

    def read(p: Path, what: str) -> dict[str, Any]:
        try:
            return dict(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, TypeError, ValueError) as exc:
            ap.error(f"--merge-from: {what} {p} cannot be read ({exc})")

    study = read(path, "the study to merge into (run python -m fc_check.calibrate --out DIR first):")
    for f in files:
        added = read(f, "the file")
        try:
            study = merge_power(study, added)
        except ValueError as exc:
            ap.error(f"--merge-from {f}: {exc}")
        print(f"merged {study['power_merged'][-1]['curves']} power curves from {f} (commit {added.get('commit')}, {added.get('device')})")
    atomic_write(path, json.dumps(study, indent=1, default=str))
    if (out / VERDICT_DIR).is_dir():
        build(out)
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    import torch

    from fc_check.levels import TABLE_PATH
    from fc_model.model import resolve_device

    ap = argparse.ArgumentParser(prog="python -m fc_check.calibrate", description="Measure what each verdict's stated level delivers, and what each check detects.")
    ap.add_argument("--profile", choices=sorted(STUDIES), default="ci")
    ap.add_argument("--claims", nargs="*", default=[], help="claim ids or prefixes (default: every claim)")
    ap.add_argument("--out", type=Path, default=Path("reports"), help="report folder for calibration.json (default reports/)")
    ap.add_argument("--from-report", type=Path, default=None, help="also study the weakest regime of each claim in DIR/results.json")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes that run the pools' batches on the CPU, one torch thread each (default: 2, or 1 on one core)")
    ap.add_argument("--no-heavy", action="store_true",
                    help="leave the costly families (general setting, distillation, digits, deep networks, persistence and onset maps, boundaries, "
                         "the T0 fit) out of the study, as --profile ci does; the report lists them as not calibrated")
    ap.add_argument("--no-power", action="store_true", help="measure levels and fresh-seed fail rates only, not the power along the departures")
    ap.add_argument("--power-along", nargs="+", default=None, metavar="DEPARTURE",
                    help="measure power along these departures (names as in docs/catalogue.md) in place of the profile's "
                         f"(ci: {', '.join(STUDIES['ci'].power_departures or ())}), at every test along them, the costly families "
                         "included unless --no-heavy")
    ap.add_argument("--strengths", nargs="+", type=float, default=None, metavar="S",
                    help="with one --power-along departure: measure these strengths in place of its declared grid (a curve in parts, "
                         "or only the paper's strength, the fresh-seed fail rate, where a strength costs long); merge the parts with --merge-from")
    ap.add_argument("--write-levels", action="store_true", help=f"write the calibrated levels into {TABLE_PATH.name}")
    ap.add_argument("--merge-from", nargs="+", type=Path, default=None, metavar="FILE",
                    help="run no study: merge the power curves of these calibration.json files (e.g. the costly families', measured on a GPU "
                         "by benchmarks/heavy_power.sh) into the one already in --out, whose levels and fresh-seed rates are kept; a curve of "
                         "the same departure and test is replaced")
    args = ap.parse_args(argv)
    if args.merge_from is not None:
        if args.claims or args.power_along is not None or args.no_power or args.write_levels or args.from_report is not None or args.strengths is not None:
            ap.error("--merge-from runs no study: it takes none of --claims, --power-along, --strengths, --no-power, --write-levels, --from-report")
        return merge_into(args.out, args.merge_from, ap)
    if args.profile not in PROFILES:
        ap.error(f"--profile: {args.profile!r} is not a profile")
    try:
        device = str(resolve_device(args.device))
    except ValueError as exc:
        ap.error(f"--device: {exc}")
    weakest = None
    if args.from_report is not None:
        try:
            weakest = weakest_regimes(args.from_report)
        except (OSError, json.JSONDecodeError) as exc:
            ap.error(f"--from-report: {args.from_report}/results.json cannot be read ({exc})")
    from fc_check.catalogue import CLAIMS

    unknown = [c for c in args.claims if not any(k == c or k.startswith(c) for k in CLAIMS)]
    if unknown:
        ap.error(f"--claims: no claim id starts with {', '.join(map(repr, unknown))}")
    if args.power_along is not None:
        if args.no_power:
            ap.error("--power-along and --no-power: choose one")
        try:
            departures_named(args.power_along)
        except ValueError as exc:
            ap.error(f"--power-along: {exc}")
    if args.strengths is not None and (args.power_along is None or len(set(args.power_along)) != 1):
        ap.error("--strengths: name exactly one departure with --power-along")
    if args.strengths is not None and not all(math.isfinite(x) for x in args.strengths):
        ap.error(f"--strengths: finite numbers only, got {args.strengths}")
    if args.workers < 1:
        ap.error(f"--workers: at least 1, got {args.workers}")
    if device == "cpu":
        torch.set_num_threads(max(1, torch.get_num_threads()))
    # the commit of the code that runs, read before the study: a study takes up to hours, and the checkout may move meanwhile
    measured_on = commit()
    result = run_study(args.profile, claims=tuple(args.claims), device=device, weakest=weakest, log=lambda s: print(s, flush=True), workers=args.workers,
                       heavy=not args.no_heavy, power=not args.no_power,
                       power_along=tuple(args.power_along) if args.power_along is not None else None,
                       power_strengths=tuple(args.strengths) if args.strengths is not None else None)
    result.update(commit=measured_on, created=datetime.now(UTC).isoformat(timespec="seconds"), device=device, torch=torch.__version__,
                  claims_requested=list(args.claims), from_report=str(args.from_report) if args.from_report else None)
    args.out.mkdir(parents=True, exist_ok=True)
    from fc_check.report import VERDICT_DIR, atomic_write, build

    path = args.out / "calibration.json"
    atomic_write(path, json.dumps(result, indent=1, default=str))
    if args.write_levels:
        if args.from_report is None:
            print("note: --write-levels without --from-report: the entries written hold at the pinned regimes only "
                  "(run the claim suite, then add --from-report reports, for levels that also hold at the weakest regime a run found)")
        table = {"provenance": {"profile": args.profile, "commit": result["commit"], "created": result["created"], "device": device},
                 "entries": {}}
        if TABLE_PATH.exists():
            table = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
            table.setdefault("entries", {})
            table.setdefault("provenance", {})
        table["provenance"][args.profile] = {"commit": result["commit"], "created": result["created"], "device": device}
        # a study replaces the entries of the claims it studied under its profile (their replicate counts may have
        # changed since); entries of other claims and other profiles stay
        studied = {r["claim"] for r in result["statistics"]}
        table["entries"] = {k: v for k, v in table["entries"].items()
                            if not (v.get("profile", "ci") == args.profile and v.get("claim", k.split(" | ")[0]) in studied)}
        table["entries"].update({k: {**v, "profile": args.profile} for k, v in result["levels_table"].items()})
        atomic_write(TABLE_PATH, json.dumps(table, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(result['levels_table'])} calibrated entries into {TABLE_PATH}")
    if (args.out / VERDICT_DIR).is_dir():
        build(args.out)
    print(f"calibration study ({args.profile}): {len(result['statistics'])} statistics, {result['wall_s']} s: {path}")
    return 0


# glibc's allocator maps each large block (above a threshold it adapts up to 32 MB) afresh and unmaps it
# when freed, so every batch of the pools (Lemma 1.1's 100 000 samples per replicate, the simulators'
# tensors) paid its pages again in the kernel: a third of the study's CPU time under ci on 2 cores was
# system time. With glibc's variables set before the process starts (its spawned workers inherit them),
# freed memory is kept and reused. Other C libraries ignore them; a user's own setting is left alone.
if __name__ == "__main__":
    if export_freed_memory_settings():
        os.execv(sys.executable, [sys.executable, "-m", "fc_check.calibrate", *sys.argv[1:]])
    sys.exit(main())
