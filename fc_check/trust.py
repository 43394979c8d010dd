"""The report's "How far to trust a verdict" (from ``calibration.json``) and the forest plot of every
claim's interval against its threshold, in units of its resolution."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from fc_check.plots import png

CALIBRATION_FILE = "calibration.json"


def read_calibration(report_dir: Path) -> dict[str, Any] | None:
    """The calibration study in the report folder, or None when there is none (or it cannot be read)."""
    path = Path(report_dir) / CALIBRATION_FILE
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError):
        return None


def _at(points: list[dict[str, Any]], level: float) -> dict[str, Any] | None:
    return next((p for p in points if math.isclose(p.get("level", p.get("target", -1)), level, rel_tol=1e-9)), None)


def _fmt_rate(p: dict[str, Any] | None) -> str:
    if not p:
        return ""
    flag = " ⚠" if p.get("exceeds") else ""
    return f"{p['rate']:.2g} [{p['ci'][0]:.2g}, {p['ci'][1]:.2g}]{flag}"


def statistic_rows(cal: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per studied statistic: its method, law, miss rates before and after repair, the claim's
    fresh-seed fail rate, the strength its check detects with probability 0.9 and the resolution."""
    fail = cal.get("fresh_seed_fail", {})
    power = {c: p for p in (cal.get("power") or []) for c in p.get("claims", [])}
    rows = []
    for r in cal.get("statistics", []):
        side = r.get("side", "")
        tails = ("lower", "upper") if side == "two-sided" else (side,)
        row: dict[str, Any] = {"claim": r["claim"], "statistic": r["statistic"], "regime": r.get("regime_kind", ""), "method": r.get("method", ""),
                               "bound": side, "n": r.get("n"), "pool": r.get("pool"), "skewness": r.get("skewness"), "kurtosis": r.get("excess_kurtosis")}
        levels = [0.1, 0.01, 0.001, 1e-4, r.get("level")]
        if "miss" in r:
            method = "t" if "t" in r["miss"] else next(iter(r["miss"]))
            if side == "two-sided" and "miss_two_sided" in r:
                pts = r["miss_two_sided"][method]
            else:
                pts = r["miss"][method].get(tails[0], [])
            row["before"] = [_fmt_rate(_at(pts, a)) for a in levels]
            row["before_flag"] = any(p.get("exceeds") for p in pts)
            # at a weakest regime the check reads the table's levels (chosen at the pinned one): those are its "after"
            repaired = r.get("table_levels") if r.get("regime_kind") == "weakest" and r.get("table_levels") else r.get("calibrated")
            if repaired:
                after = []
                for a in levels:
                    parts = [_at(repaired.get(t, []), a / 2 if side == "two-sided" else a) for t in tails]
                    if all(parts):
                        misses = sum(p["misses"] for p in parts)  # type: ignore[index]
                        draws = parts[0]["draws"]  # type: ignore[index]
                        nominal = min(p["nominal"] for p in parts)  # type: ignore[index]
                        after.append(f"{misses / draws:.2g} (at {nominal:.2g})" + (" ⚠" if any(p.get("exceeds") for p in parts) else ""))  # type: ignore[union-attr]
                    else:
                        after.append("")
                row["after"] = after
        elif "miss_relaxed" in r:
            row["before"] = ["" for _ in levels]
            row["relaxed"] = f"{_fmt_rate(r['miss_relaxed'])} at {r['miss_relaxed']['level']:g} over {r.get('groups')} fresh seeds"
        elif "not_studied" in r:
            row["note"] = r["not_studied"]
        f = fail.get(r["claim"], {}).get(r.get("regime_kind", "pinned"), {})
        row["fresh_fail"] = (f"not measured ({f['not_measured']})" if f.get("not_measured") else
                             f"{f['rate']:.2g} (≤ {f['upper']:.2g})" if f else "")
        p = power.get(r["claim"])
        if p:
            row["detected"] = _detected(p)
            res = [s.get("resolution") for s in p["points"][0]["statistics"] if s.get("statistic") == r["statistic"]] if p["points"] else []
            row["resolution"] = f"{res[0]:.3g}" if res and res[0] is not None else ""
        rows.append(row)
    # claims with a power curve but no level pool (the costly families under ci, or curves merged in):
    # a row each, whose fresh-seed fail rate is the curve's P(FAIL) at the paper's strength
    why = {n["claim"]: n["why"] for n in cal.get("not_calibrated", [])}
    listed = {r["claim"] for r in rows}
    for c, p in power.items():
        if c in listed:
            continue
        listed.add(c)
        at_paper = _paper_point(p)
        res = [x.get("resolution") for x in at_paper["statistics"] if x.get("resolution") is not None] if at_paper else []
        fail_at = at_paper.get("fail") if at_paper else None
        rows.append({"claim": c, "statistic": "; ".join(x["statistic"] for x in at_paper["statistics"]) if at_paper else "", "regime": "pinned",
                     "method": "", "bound": "", "n": "", "pool": at_paper.get("pool") if at_paper else "", "skewness": None, "kurtosis": None,
                     "note": f"levels not calibrated: {why.get(c, 'no level pool in this study')}",
                     "fresh_fail": (f"{_fmt_rate(fail_at)} at the paper's strength ({_how_measured(at_paper)}"
                                    + (f"; its exact findings held on all {at_paper['exact_held']['batches']} of the pool's batches" if at_paper.get("exact_held") else "")
                                    + ")" if fail_at else ""),
                     "detected": _detected(p),
                     "resolution": ", ".join(f"{r:.3g}" for r in res)})
    return rows


def _strengths_of(points: list[dict[str, Any]]) -> str:
    return " (s = " + ", ".join(f"{x['strength']:g}" for x in points) + ")"


def _how_measured(point: dict[str, Any]) -> str:
    """How a power point's P(FAIL) was measured, in words."""
    if point.get("cell_pools"):
        return f"{point['runs']} runs drawing their cells from pools of {point['cell_pools']['per_cell']} replicates per axis value"
    return "whole runs" if point.get("runs") else "drawn from the power pool"


def _detected(curve: dict[str, Any]) -> str:
    """A power curve's "detected at 0.9" cell: the departure, the strength and its measured bracket."""
    br = curve.get("bracket_0.9")
    between = f" (measured between {br[0]:.3g} and {br[1]:.3g})" if br else ""
    at = curve.get("detected_at_0.9")
    return f"{curve['departure']}: s = {at:.3g}{between}" if at is not None else f"{curve['departure']}: not reached"


def _paper_point(curve: dict[str, Any]) -> dict[str, Any] | None:
    """The point of a power curve at the paper's strength (the departure's first strength): the pinned
    model, on fresh seeds."""
    s0 = curve.get("paper_strength")
    if s0 is None:  # curves written before the field: the departure's declared first strength
        from fc_check.departures import DEPARTURES

        s0 = next((d.strengths[0] for d in DEPARTURES if d.name == curve.get("departure")), None)
    return next((x for x in curve.get("points", []) if s0 is not None and math.isclose(x["strength"], s0, abs_tol=1e-12)), None)


def power_plots(cal: dict[str, Any]) -> list[dict[str, str]]:
    """One plot per departure and test: measured P(FAIL) with its interval against the strength, the
    noncentral-t prediction where the check's statistics are t bounds, and the 0.9 line."""
    out = []
    for p in (cal.get("power") or []):
        pts = [x for x in p["points"] if x.get("fail")]
        if not pts:
            continue

        def draw(ax: Any, pts: list[dict[str, Any]] = pts, p: dict[str, Any] = p) -> None:
            s = [x["strength"] for x in pts]
            r = [x["fail"]["rate"] for x in pts]
            lo = [x["fail"]["rate"] - x["fail"]["ci"][0] for x in pts]
            hi = [x["fail"]["ci"][1] - x["fail"]["rate"] for x in pts]
            ax.errorbar(s, r, yerr=[lo, hi], marker="o", capsize=3, label="measured P(FAIL)")
            pred = [(x["strength"], x["predicted_fail"]) for x in pts if x.get("predicted_fail") is not None]
            if pred:
                ax.plot(*zip(*pred, strict=True), "k--", label="noncentral t at the pool's mean and sd")
            ax.axhline(0.9, color="grey", linewidth=0.8)
            ax.set_ylim(-0.03, 1.03)
            ax.set_xlabel(p["strength"], fontsize=7)
            ax.set_ylabel("P(check reports FAIL)")
            ax.set_title(f"{', '.join(p['claims'])}\n{p['test']}", fontsize=7)
            ax.legend(fontsize=6)

        m = p.get("measured") or {}
        where = f" (merged: measured on commit {m.get('commit')}, {m.get('device')}, {m.get('created')})" if m and m.get("commit") != cal.get("commit") else ""
        refused = [x for x in p["points"] if x.get("refused")]
        ends = f"; at s = {refused[0]['strength']:g} the check refuses its regime ({refused[0]['refused']}), so the curve ends there" if refused else ""
        whole = [x for x in pts if x.get("runs") and not x.get("cell_pools")]
        drawn = [x for x in pts if x.get("cell_pools")]
        runs = sorted({x["runs"] for x in whole})
        pooled = sorted({x["runs"] for x in drawn})
        per_cell = sorted({x["cell_pools"]["per_cell"] for x in drawn})
        mixed = bool(whole and drawn)  # a curve joined from parts measured both ways: say which points each gave
        how = (f"; P(FAIL) as the share of {'/'.join(map(str, runs))} whole fresh-seed runs per strength{_strengths_of(whole) if mixed else ''}" if runs else "") + (
            f"; P(FAIL) as the share of {'/'.join(map(str, pooled))} runs per strength drawn from pools of "
            f"{'/'.join(map(str, per_cell))} replicates per cell{_strengths_of(drawn) if mixed else ''}" if pooled else "") + (
            "; its exact findings held on every batch of the pools" if any(x.get("exact_held") for x in pts) else "") + (
            f"; joined from {p['joined_parts']} parts measured apart" if p.get("joined_parts", 1) > 1 else "")
        out.append({"title": f"Power along '{p['departure']}': {', '.join(p['claims'])}{where}{how}{ends}", "png": png(draw)})
    return out


def forest_rows(by_claim: dict[str, Any]) -> list[dict[str, Any]]:
    """Per claim, its weakest verdict's distance from the threshold in units of its resolution:
    ``margin`` (how far the interval's deciding bound clears the threshold) and the estimate's
    distance, both over the recorded resolution (positive: on the claim's side)."""
    rows = []
    for cid, e in by_claim.items():
        w = e["weakest"]
        res, margin, est = w.get("detectable_effect"), w.get("margin"), w.get("estimate")
        if res is None or margin is None or not res > 0 or w.get("method") == "exact":
            rows.append({"claim": cid, "verdict": e["verdict"], "margin": None, "note": "exact identity" if w.get("method") == "exact" else "no resolution recorded"})
            continue
        thr, rel = w.get("threshold"), w.get("relation", "")
        if rel in (">=", ">") and isinstance(thr, int | float) and est is not None:
            distance = (est - thr) / res
        elif rel == "<=" and isinstance(thr, int | float) and est is not None:
            distance = (thr - est) / res
        elif rel == "in" and isinstance(thr, list) and est is not None:
            distance = min(est - thr[0], thr[1] - est) / res
        else:
            distance = None
        rows.append({"claim": cid, "verdict": e["verdict"], "margin": margin / res, "distance": distance})
    return rows


def forest_plot(by_claim: dict[str, Any]) -> str | None:
    """The forest plot as an embedded PNG (None when no claim has a resolution)."""
    rows = [r for r in forest_rows(by_claim) if r["margin"] is not None]
    if not rows:
        return None

    def draw(ax: Any) -> None:
        for i, r in enumerate(reversed(rows)):
            color = "#065f06" if r["verdict"] == "PASS" else "#a00"
            end = r["distance"] if r["distance"] is not None else r["margin"]
            ax.plot([r["margin"], end], [i, i], color=color, linewidth=2.0, solid_capstyle="butt")
            ax.plot([r["margin"]], [i], "|", color=color, markersize=9)
            if r["distance"] is not None:
                ax.plot([r["distance"]], [i], "o", color=color, markersize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.axvline(1, color="grey", linewidth=0.6, linestyle="--")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_yticks(range(len(rows)), [r["claim"] for r in reversed(rows)], fontsize=6)
        ax.set_xlabel("distance from the threshold in resolutions (|: the interval's deciding bound; o: the estimate; dashed: one resolution)", fontsize=7)
        ax.tick_params(axis="x", labelsize=7)

    return png(draw, (8.0, 0.22 * len(rows) + 1.2))


def trust_context(report_dir: Path, by_claim: dict[str, Any]) -> dict[str, Any]:
    """What the report template needs for the calibration section and the forest plot."""
    cal = read_calibration(report_dir)
    ctx: dict[str, Any] = {"forest": forest_plot(by_claim), "calibration": None}
    if cal is None:
        return ctx
    union = cal.get("union", {})
    ctx["calibration"] = {
        "profile": cal.get("profile"), "commit": cal.get("commit", "unknown"), "created": cal.get("created", ""), "device": cal.get("device", ""),
        "wall_s": cal.get("wall_s"), "level": cal.get("level"), "rows": statistic_rows(cal), "plots": power_plots(cal),
        "union": union, "not_calibrated": cal.get("not_calibrated", []), "pools": cal.get("pools", []),
        "levels_table": len(cal.get("levels_table", {})), "study": cal.get("study", {}), "power_measured": cal.get("power") is not None,
        "merged": cal.get("power_merged", []),
    }
    return ctx
