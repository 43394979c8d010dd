"""Verdict files into ``results.json`` and a self-contained ``index.html``; the ``build`` and ``merge`` tools.

A run's workers append records (verdicts, plots, tables; one JSON object per line) to
``DIR/.verdicts/<worker>.jsonl``, and the controller writes ``DIR/.verdicts/session.json`` (profile,
budget, device). From those files alone:

* ``python -m fc_check.report build DIR`` rebuilds ``DIR/results.json`` and ``DIR/index.html``
  (e.g. after a run was killed before it wrote them);
* ``python -m fc_check.report merge DIR... --out OUT`` combines the verdict folders of several runs
  (shards, machines) into ``OUT/.verdicts/merged.jsonl`` and writes the whole report in ``OUT``.

**A verdict that arrives twice** (same node id, claim, statistic, regime and seed: the same example
of the same test, e.g. a shard rerun after a crash, or overlapping selections) is kept once: the
one recorded last (``recorded_at``, UTC) wins, and of equal times the one read last (later
folder on the command line, later file, later line). A rerun is the newer evidence about the same
example; keeping both would count one regime twice. Plots and tables are kept once per (claim,
title) by the same rule.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from fc_check.catalogue import CLAIMS
from fc_check.catalogue_doc import doc_link
from fc_check.thresholds import format_threshold, infer_relation
from fc_check.trust import trust_context

VERDICT_DIR = ".verdicts"
SESSION_FILE = "session.json"


def verdict_key(r: dict[str, Any]) -> tuple[str, ...]:
    """What makes two records the same verdict (see the module docstring)."""
    if r.get("kind") == "verdict":
        return ("verdict", str(r.get("nodeid", "")), str(r.get("claim")), str(r.get("statistic")),
                json.dumps(r.get("regime"), sort_keys=True, default=str), str(r.get("seed")))
    return (str(r.get("kind")), str(r.get("claim")), str(r.get("title")))


def deduplicate(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per :func:`verdict_key`: the latest ``recorded_at`` wins, ties go to the one read
    last; the survivors keep the order in which their key first appeared."""
    best: dict[tuple[str, ...], tuple[int, dict[str, Any]]] = {}
    for r in records:
        key = verdict_key(r)
        if key in best and str(best[key][1].get("recorded_at", "")) > str(r.get("recorded_at", "")):
            continue
        best[key] = (best[key][0] if key in best else len(best), r)
    return [r for _, r in sorted(best.values(), key=lambda t: t[0])]


def read_records(report_dir: Path) -> list[dict[str, Any]]:
    """All records the workers appended (one JSON object per line; a torn last line is skipped)."""
    out: list[dict[str, Any]] = []
    folder = Path(report_dir) / VERDICT_DIR
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600; a report is for reading
    os.replace(tmp, path)


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    verdicts = [r for r in records if r.get("kind") == "verdict"]
    by_claim: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for cid in CLAIMS:
        rows = [v for v in verdicts if v["claim"] == cid]
        if rows:
            by_claim[cid] = {"rows": rows}
    for v in verdicts:  # claims outside the catalogue (e.g. an extension) still get a section
        by_claim.setdefault(v["claim"], {"rows": []})
        if v not in by_claim[v["claim"]]["rows"]:
            by_claim[v["claim"]]["rows"].append(v)
    for cid, entry in by_claim.items():
        rows = entry["rows"]
        entry["verdict"] = "PASS" if all(r["verdict"] == "PASS" for r in rows) else "FAIL"
        margins = [r for r in rows if r.get("margin") is not None]
        entry["weakest"] = min(margins, key=lambda r: r["margin"]) if margins else rows[0]
        entry["statement"] = rows[0].get("statement", "")
        entry["paper_ref"] = rows[0].get("paper_ref", "")
        entry["module"] = CLAIMS[cid].module if cid in CLAIMS else ""
        entry["threshold_why"] = CLAIMS[cid].threshold_why if cid in CLAIMS else ""
        entry["departure"] = CLAIMS[cid].departure if cid in CLAIMS else ""
        entry["catalogue"] = doc_link(cid)
        # a boundary and the validity map it refines link to each other
        entry["refines"] = CLAIMS[cid].refines if cid in CLAIMS else ""
        entry["refined_by"] = [b for b, c in CLAIMS.items() if c.refines == cid]
        entry["plots"] = [r for r in records if r.get("kind") == "plot" and r["claim"] == cid]
        entry["tables"] = [r for r in records if r.get("kind") == "table" and r["claim"] == cid]
    return by_claim


def write_reports(report_dir: Path, session: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``results.json`` and ``index.html`` atomically from the worker files (duplicates
    resolved by :func:`deduplicate`)."""
    report_dir = Path(report_dir)
    records = deduplicate(read_records(report_dir))
    verdicts = [r for r in records if r.get("kind") == "verdict"]
    by_claim = summarise(records)
    results = {"session": session, "claims": {cid: e["verdict"] for cid, e in by_claim.items()},
               "verdicts": [{k: v for k, v in r.items() if k != "kind"} for r in verdicts]}
    json_path, html_path = report_dir / "results.json", report_dir / "index.html"
    atomic_write(json_path, json.dumps(results, indent=1, default=str))
    atomic_write(html_path, render_html(by_claim, session, trust_context(report_dir, by_claim)))
    return json_path, html_path


def threshold_text(record: dict[str, Any]) -> str:
    """A verdict record's threshold as people read it (``≥ log 2``), from its machine form."""
    relation = record.get("relation") or infer_relation(record.get("threshold"), record.get("margin"), record.get("ci_low"), record.get("ci_high"))
    return format_threshold(record.get("threshold"), relation)


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    if isinstance(x, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in x.items())
    return "" if x is None else str(x)


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>fc-verify report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:.25em .5em;vertical-align:top}
th{background:#f3f3f3}.PASS{color:#065f06;font-weight:bold}.FAIL{color:#a00;font-weight:bold}
code{font-size:.85em;word-break:break-all}section{border-top:2px solid #ddd;margin-top:2em}img{max-width:560px;margin:.3em}
.small{font-size:.8em;color:#555}
</style></head><body>
<h1>fc-verify: feature contamination claims</h1>
<p class="small">Zhang et al., ICML 2024. Profile <b>{{ s.profile }}</b>, suite error budget {{ s.alpha }}
(per asserted interval {{ fmt(s.level) }}, Bonferroni over {{ s.slots }} slots), device {{ s.device }}, torch {{ s.torch }},
{{ claims|length }} claims, {{ s.n_verdicts }} verdicts. A PASS means the interval clears the threshold. The level bounds one error,
named beside it: for "at least", "at most" and "inside" claims a <b>false PASS</b> (were the claim false, its interval would clear
the threshold with probability at most the level); for "contains" claims (an exponent, a rate) a <b>false FAIL</b> (the interval
misses the true value with probability at most the level). The other error is limited by power: the resolution is the distance
from the threshold at which a true claim passes with probability 0.9{% if trust.calibration %}, and <a href="#trust">How far to trust
a verdict</a> gives each claim's measured fail rate on fresh seeds{% endif %}.
{% if delivered.known %}Of the {{ delivered.total }} asserted intervals of this run, {{ delivered.known }} have a level the calibration study
measured: their delivered levels add up to {{ fmt(delivered.sum_delivered) }} against {{ fmt(delivered.sum_nominal) }} stated
({{ delivered.total - delivered.known }} not measured, counted at their stated level).{% endif %}</p>
{% if trust.forest %}<h2 id="forest">How far each claim is from failing</h2>
<p class="small">Each claim's weakest verdict: the distance of its interval's deciding bound (|) and of its estimate (o) from the
threshold, in units of the verdict's resolution, on the claim's side (positive: clearing it; symmetric-log scale). A bound near 0
is a claim the data barely support; one resolution (dashed) is where a true claim passes with probability 0.9.</p>
<img alt="forest plot" style="max-width:900px" src="data:image/png;base64,{{ trust.forest }}">{% endif %}
<h2 id="table">Claims at a glance</h2>
<table><tr><th>claim</th><th>paper</th><th>verdict</th><th>weakest statistic</th><th>estimate</th><th>interval</th><th>threshold</th><th>regimes</th></tr>
{% for cid, e in claims.items() %}<tr class="claim-row"><td><a href="#{{ cid }}">{{ cid }}</a></td><td>{{ e.paper_ref }}</td>
<td class="{{ e.verdict }}">{{ e.verdict }}</td><td>{{ e.weakest.statistic }}</td><td>{{ fmt(e.weakest.estimate) }}</td>
<td>[{{ fmt(e.weakest.ci_low) }}, {{ fmt(e.weakest.ci_high) }}]</td><td>{{ thr(e.weakest) }}</td><td>{{ e.rows|length }}</td></tr>
{% endfor %}</table>
{% if missing %}<p class="small">Not run in this session: {{ missing|join(", ") }}</p>{% endif %}
{% if trust.calibration %}{% set c = trust.calibration %}<section id="trust"><h2>How far to trust a verdict</h2>
<p class="small">The calibration study (<code>python -m fc_check.calibrate --profile {{ c.profile }}</code>), measured on commit <code>{{ c.commit }}</code>,
profile <b>{{ c.profile }}</b>, device {{ c.device }}, {{ c.created }}, in {{ c.wall_s }} s. Each check was run on a pool of independent replicates at its
pinned regime (and at the weakest regime a run found, where asked); batches of the check's replicate count were drawn from the pool with
replacement, and each bound computed again: its miss rate is the share of draws whose bound excludes the pool's value, with a 95% Clopper-Pearson
interval (⚠: above the level beyond Monte Carlo error). "After" is the t bound at the calibrated level the checks now use (in parentheses), measured
on draws independent of those that chose it. Statistics that are not one number per replicate (fits) are measured on groups of the check's replicate count, at a relaxed
level: disjoint groups of the pool (each a fresh seed), or drawn from it with replacement where the record says so.
The fresh-seed fail rate is the probability that the claim's check FAILs on a fresh seed at its own level
(power, not the level, limits it); its union over the suite, at the pinned regimes: estimate {{ fmt(c.union.get('pinned', {}).get('rate')) }},
95% upper bound {{ fmt(c.union.get('pinned', {}).get('upper')) }} (the claims' upper ends summed){% if c.union.get('weakest', {}).get('upper') %}; at the weakest
regimes: estimate {{ fmt(c.union.weakest.rate) }}, upper bound {{ fmt(c.union.weakest.upper) }}{% endif %}.
"Detected at 0.9" is the strength of the claim family's graded departure at which its check FAILs with probability 0.9 (curves below).
A claim whose levels this study did not pool (a costly family) has a row only where its power was measured: its fresh-seed fail rate is then the
curve's P(FAIL) at the paper's strength, the pinned model on fresh seeds.{% if c.merged %} Power curves merged from later studies
(<code>--merge-from</code>): {% for m in c.merged %}{{ m.curves }} measured on commit <code>{{ m.commit }}</code>, {{ m.device }}, {{ m.created }}, in {{ m.wall_s }} s
{%- if not loop.last %}; {% endif %}{% endfor %}; each such plot says where it was measured.{% endif %}</p>
<table><tr><th>claim</th><th>statistic</th><th>regime</th><th>method</th><th>bound</th><th>R</th><th>pool</th><th>skewness</th><th>excess kurtosis</th>
<th>miss at 10%</th><th>1%</th><th>0.1%</th><th>1e-4</th><th>own level</th><th>after repair (10%, 1%, 0.1%, 1e-4, own)</th><th>fresh-seed fail</th><th>detected at 0.9</th><th>resolution</th></tr>
{% for r in c.rows %}<tr><td>{{ r.claim }}</td><td>{{ r.statistic }}</td><td>{{ r.regime }}</td><td>{{ r.method }}</td><td>{{ r.bound }}</td><td>{{ r.n }}</td><td>{{ r.pool }}</td>
<td>{{ fmt(r.skewness) }}</td><td>{{ fmt(r.kurtosis) }}</td>
{% if r.before and r.before|select|list %}{% for b in r.before %}<td class="small">{{ b }}</td>{% endfor %}
{% else %}<td colspan="5" class="small">{{ r.relaxed or r.note }}</td>{% endif %}
<td class="small">{{ (r.after or [])|join("; ") }}</td><td>{{ r.fresh_fail }}</td><td class="small">{{ r.detected }}</td>
<td>{{ r.resolution }}</td></tr>{% endfor %}</table>
{% if c.not_calibrated %}<p class="small"><b>Not calibrated:</b> {% for n in c.not_calibrated %}{{ n.claim }}{% if n.statistic %}
({{ n.statistic }}){% endif %}: {{ n.why }}{% if not loop.last %}; {% endif %}{% endfor %}.</p>{% endif %}
{% if c.power_measured %}{% for p in c.plots %}<figure><img alt="{{ p.title }}" src="data:image/png;base64,{{ p.png }}"><figcaption class="small">{{ p.title }}</figcaption></figure>{% endfor %}
{% else %}<p class="small"><b>Power:</b> not measured in this study (<code>--no-power</code>); the "detected at 0.9" column is empty.</p>{% endif %}
</section>{% endif %}
{% for cid, e in claims.items() %}<section id="{{ cid }}"><h2>{{ cid }} <span class="{{ e.verdict }}">{{ e.verdict }}</span></h2>
<p>{{ e.statement }}</p><p class="small">{{ e.paper_ref }}{% if e.module %} · checked in <code>{{ e.module }}</code>{% endif %} · catalogue entry <code>{{ e.catalogue }}</code></p>
{% if e.threshold_why %}<p class="small"><b>Why this threshold:</b> {{ e.threshold_why }}</p>{% endif %}
{% if e.departure %}<p class="small"><b>Departure from the paper:</b> {{ e.departure }}</p>{% endif %}
{% if e.refines %}<p class="small">Refines the validity map <a href="#{{ e.refines }}">{{ e.refines }}</a>: where its claim stops holding along one axis.</p>{% endif %}
{% if e.refined_by %}<p class="small">Boundary of this map, with intervals: {% for b in e.refined_by %}<a href="#{{ b }}">{{ b }}</a>
{%- if b not in claims %} (not run in this session){% endif %}{% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
<p class="small">Weakest regime found: {{ fmt(e.weakest.regime) }} (seed {{ e.weakest.seed }}, margin {{ fmt(e.weakest.margin) }})</p>
<table><tr><th>verdict</th><th>statistic</th><th>estimate</th><th>interval</th><th>level (error bounded)</th><th>threshold</th><th>resolution</th><th>R</th>
<th>regime</th><th>seed</th><th>device</th><th>s</th><th>replay</th></tr>
{% for r in e.rows %}<tr><td class="{{ r.verdict }}">{{ r.verdict }}</td><td>{{ r.statistic }}{% if r.note %}<br><span class="small">{{ r.note }}</span>{% endif %}</td>
<td>{{ fmt(r.estimate) }}</td><td>[{{ fmt(r.ci_low) }}, {{ fmt(r.ci_high) }}] {{ r.method }}{% if r.nominal_levels %}<br>
<span class="small">computed at per-tail levels {{ fmt(r.nominal_levels) }}</span>{% endif %}</td><td>{{ fmt(r.level) }}{% if r.level_bounds %}<br>
<span class="small">{{ r.level_bounds }}{% if r.get("delivered_level") is not none %}; delivered {{ fmt(r.delivered_level) }}{% endif %}</span>{% endif %}</td><td>{{ thr(r) }}</td>
<td>{{ fmt(r.detectable_effect) }}</td><td>{{ r.replicates }}</td><td class="small">{{ fmt(r.regime) }}</td><td>{{ r.seed }}</td><td>{{ r.device }}</td>
<td>{{ r.duration_s }}</td><td><code>{{ r.replay }}</code></td></tr>{% endfor %}</table>
{% for t in e.tables %}<h3>{{ t.title }}</h3><table><tr>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr>{% for v in row %}<td>{{ fmt(v) }}</td>{% endfor %}</tr>{% endfor %}</table>{% endfor %}
{% for p in e.plots %}<figure><img alt="{{ p.title }}" src="data:image/png;base64,{{ p.png }}"><figcaption class="small">{{ p.title }}</figcaption></figure>{% endfor %}
</section>{% endfor %}
</body></html>
"""


def delivered_summary(by_claim: dict[str, Any]) -> dict[str, Any]:
    """The run's asserted intervals, how many have a delivered level the calibration study measured,
    and the sums of delivered and stated levels over those."""
    rows = [r for e in by_claim.values() for r in e["rows"] if r.get("level")]
    known = [r for r in rows if r.get("delivered_level") is not None]
    return {"total": len(rows), "known": len(known), "sum_delivered": sum(max(r["delivered_level"], 0.0) for r in known), "sum_nominal": sum(r["level"] for r in known)}


def render_html(by_claim: dict[str, Any], session: dict[str, Any], trust: dict[str, Any] | None = None) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.globals["fmt"] = _fmt
    env.globals["thr"] = threshold_text
    missing = [cid for cid in CLAIMS if cid not in by_claim]
    s = dict(session)
    s.setdefault("n_verdicts", sum(len(e["rows"]) for e in by_claim.values()))
    return env.from_string(_TEMPLATE).render(claims=by_claim, s=s, missing=missing, trust=trust or {"forest": None, "calibration": None},
                                             delivered=delivered_summary(by_claim))


def read_session(report_dir: Path) -> dict[str, Any]:
    """The session description a run's controller left (empty if it left none)."""
    path = Path(report_dir) / VERDICT_DIR / SESSION_FILE
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError):
        return {}


def merge_sessions(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """One description of several runs: a field on which they agree keeps its value; one on which
    they differ lists the distinct values (the report then shows e.g. ``ci, default``)."""
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for s in sessions for k in s):
        values = list(dict.fromkeys(json.dumps(s[key], default=str) for s in sessions if key in s))
        out[key] = json.loads(values[0]) if len(values) == 1 else ", ".join(str(json.loads(v)) for v in values)
    return out


def build(report_dir: Path) -> tuple[Path, Path]:
    """Rebuild ``results.json`` and ``index.html`` of a run from its verdict files."""
    report_dir = Path(report_dir)
    if not (report_dir / VERDICT_DIR).is_dir():
        raise FileNotFoundError(f"{report_dir / VERDICT_DIR} does not exist: not the report folder of a run")
    return write_reports(report_dir, read_session(report_dir))


def merge(sources: list[Path], out: Path) -> tuple[Path, Path]:
    """Combine the verdict folders of several runs into one report in ``out``."""
    records: list[dict[str, Any]] = []
    sessions = []
    for src in map(Path, sources):
        if not (src / VERDICT_DIR).is_dir():
            raise FileNotFoundError(f"{src / VERDICT_DIR} does not exist: not the report folder of a run")
        records += read_records(src)
        sessions.append(read_session(src))
    session = merge_sessions(sessions)
    session["merged_from"] = [str(s) for s in sources]
    folder = Path(out) / VERDICT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.jsonl"):
        old.unlink()
    atomic_write(folder / "merged.jsonl", "".join(json.dumps(r, default=str) + "\n" for r in deduplicate(records)))
    atomic_write(folder / SESSION_FILE, json.dumps(session, default=str))
    return write_reports(Path(out), session)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m fc_check.report", description="Rebuild or merge fc-verify reports from verdict files.")
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="rebuild DIR/results.json and DIR/index.html from DIR/.verdicts")
    b.add_argument("dir", type=Path)
    m = sub.add_parser("merge", help="combine the verdict folders of several runs into one report")
    m.add_argument("dirs", type=Path, nargs="+")
    m.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        json_path, html_path = build(args.dir) if args.command == "build" else merge(args.dirs, args.out)
    except OSError as exc:
        ap.exit(2, f"{ap.prog} {args.command}: {exc}\n")
    summary = json.loads(json_path.read_text(encoding="utf-8"))
    n_fail = sum(v == "FAIL" for v in summary["claims"].values())
    print(f"{len(summary['claims'])} claims ({n_fail} FAIL), {len(summary['verdicts'])} verdicts: {json_path}, {html_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
