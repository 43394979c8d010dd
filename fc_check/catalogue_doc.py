"""``docs/catalogue.md``, generated from the code so that it cannot drift from it.

``python -m fc_check.catalogue_doc`` writes it; ``--check`` exits 1 when the committed file differs
from what the code gives (``tests/test_catalogue_doc.py`` runs that). For every claim of
``fc_check.catalogue.CLAIMS`` it gathers:

* the paper reference and statement (the catalogue row);
* the statistics, interval methods and thresholds, read from the source of the claim's check
  function (its calls to the finding helpers of ``fc_check.common`` / ``fc_check.verdict``, the
  interval function of ``fc_check.stats`` behind each, the threshold parameters' defaults) and the
  claim's bullet in its module's docstring;
* why the threshold, the mutant's prose and any departure from the paper (``Claim.threshold_why``,
  ``mutant``, ``departure``, filled from the catalogue's ``_DOCS``);
* the regimes per profile: the pinned Hypothesis example of the claim's test and the module's
  profile-dependent constants, imported once under each profile;
* the mutant its check must reject (``tests/test_mutants.py``'s ``CASES``, the mutant's name and
  docstring).

Nothing here lists claims by hand: a claim added to the catalogue (with its check, its test and
its mutant) appears on the next run, and what cannot be found is said to be missing.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from fc_check.boundaries import BOUNDARIES, BoundarySpec
from fc_check.maps import MAPS, MapSpec
from fc_check.thresholds import format_threshold

DOC_PATH = Path("docs") / "catalogue.md"
ROOT = Path(__file__).resolve().parents[1]

# The finding helpers: (relation, interval method or None when an Interval is passed in, index of
# the threshold argument(s)).
_HELPERS: dict[str, tuple[str, str | None, tuple[int, ...]]] = {
    "mean_at_least": (">=", "one-sided t interval (lower bound) on the mean over replicates", (3,)),
    "mean_at_most": ("<=", "one-sided t interval (upper bound) on the mean over replicates", (3,)),
    "mean_inside": ("in", "two-sided t interval on the mean over replicates (equivalence)", (3, 4)),
    "at_least": (">=", None, (3,)),
    "at_most": ("<=", None, (3,)),
    "inside": ("in", None, (3, 4)),
    "exact": ("<=", "exact identity, computed once (deterministic: spends no error budget)", (3,)),
    "Finding": ("", None, (6,)),
}


def doc_anchor(claim_id: str) -> str:
    """The anchor of a claim's entry in ``docs/catalogue.md`` (lower case, runs of other
    characters as one ``-``: the same on GitHub, in editors and in browsers)."""
    return re.sub(r"[^a-z0-9]+", "-", claim_id.lower()).strip("-")


def doc_link(claim_id: str) -> str:
    """Relative link from the project root to the claim's entry."""
    return f"{DOC_PATH.as_posix()}#{doc_anchor(claim_id)}"


class _Unresolved(str):
    """A threshold leaf that is computed inside the check (shown as code)."""


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _text(node: ast.AST) -> str:
    """A statistic's label as written (an f-string shows its placeholders)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}" for v in node.values)
    return ast.unparse(node)


def _evaluate(node: ast.AST, env: dict[str, Any]) -> Any:
    """The value of a threshold expression from the module's globals and the check's defaults;
    a dict or pair is evaluated leaf by leaf, and a leaf computed in the check stays code."""
    if isinstance(node, ast.Dict):
        return {_evaluate(k, env) if k is not None else "**": _evaluate(v, env) for k, v in zip(node.keys, node.values, strict=True)}
    try:
        return eval(compile(ast.Expression(node), "<threshold>", "eval"), dict(env))  # noqa: S307 - the project's own source
    except Exception:  # noqa: BLE001 - a local of the check: shown as code
        return _Unresolved(ast.unparse(node))


def _bindings(fn: ast.FunctionDef, name: str) -> Iterator[ast.AST]:
    """Expressions a local ``name`` is bound to in ``fn`` (assignments and for-loop iterables)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and any(name in {_name(n) for n in ast.walk(t)} for t in node.targets):
            yield node.value
        if isinstance(node, ast.For) and name in {_name(n) for n in ast.walk(node.target)}:
            yield node.iter


def _interval_function(fn: ast.FunctionDef, expr: ast.AST, stats: ModuleType, depth: int = 0) -> str | None:
    """The ``fc_check.stats`` function an interval argument comes from, following locals."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and hasattr(stats, _name(node.func)) and callable(getattr(stats, _name(node.func))):
            return _name(node.func)
    if depth < 4:
        for node in ast.walk(expr):
            if isinstance(node, ast.Name):
                for bound in _bindings(fn, node.id):
                    found = _interval_function(fn, bound, stats, depth + 1)
                    if found:
                        return found
    return None


def _first_sentence(doc: str | None) -> str:
    text = " ".join((doc or "").split())
    return text.split(". ")[0].rstrip(".") if text else ""


def statistics_of(check: Callable[..., Any]) -> list[dict[str, str]]:
    """Each finding ``check`` makes: its statistic, interval method and readable threshold."""
    from fc_check import stats
    from fc_check.thresholds import format_threshold

    tree = ast.parse(textwrap.dedent(inspect.getsource(check)))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    sig = inspect.signature(check)
    env = {**vars(inspect.getmodule(check)), **{k: p.default for k, p in sig.parameters.items() if p.default is not p.empty}}
    out = []
    for node in ast.walk(fn):
        if not (isinstance(node, ast.Call) and _name(node.func) in _HELPERS) or len(node.args) <= max(_HELPERS[_name(node.func)][2]):
            continue
        helper = _name(node.func)
        relation, method, at = _HELPERS[helper]
        if any(k.arg == "strict" and isinstance(k.value, ast.Constant) and k.value.value for k in node.keywords):
            relation = ">"
        values = [_evaluate(node.args[i], env) for i in at]
        threshold = values[0] if len(values) == 1 else values
        if method is None:
            source = _interval_function(fn, node.args[2], stats)
            method = f"`stats.{source}`: {_first_sentence(getattr(stats, source).__doc__)}" if source else f"from `{ast.unparse(node.args[2])}`"
        text = format_threshold(threshold, relation).replace("`", "")
        for leaf in _leaves(threshold):  # show what the check computes itself as code
            text = text.replace(str(leaf), f"`{leaf}`", 1)
        out.append({"statistic": _text(node.args[1]), "method": method, "threshold": text, "order": str(node.lineno)})
    return sorted(out, key=lambda r: int(r["order"]))


def _leaves(x: Any) -> Iterator[_Unresolved]:
    if isinstance(x, _Unresolved):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, list | tuple):
        for v in x:
            yield from _leaves(v)


def parameters_of(check: Callable[..., Any]) -> list[str]:
    """The check's tunable parameters (keyword defaults besides level and device), as declared."""
    return [f"`{k} = {p.default!r}`" for k, p in inspect.signature(check).parameters.items()
            if p.kind is p.KEYWORD_ONLY and k not in ("level", "device") and p.default is not p.empty]


def docstring_bullet(module: ModuleType, claim_id: str) -> str:
    """The bullet of the module docstring that names the claim (``* ``id``: ...``), else ''."""
    doc = inspect.getdoc(module) or ""
    suffix = claim_id.split("/", 1)[-1]
    bullets = re.split(r"\n(?=\* )", doc)
    for b in bullets:
        if not b.startswith("* "):
            continue
        head = b.split(":", 1)[0]
        if f"``{claim_id}``" in head or f"``{suffix}``" in head:
            body = b.split("\n\n")[0]
            return " ".join(body[2:].split())
    return ""


def _plain(value: Any) -> str:
    """A regime as ``field = value`` pairs (dataclasses), else its repr."""
    if is_dataclass(value) and not isinstance(value, type):
        return ", ".join(f"{f.name}={getattr(value, f.name)!r}" for f in fields(value))
    return repr(value)


def _mutant_of(claim_id: str, cases: dict[str, tuple[Any, ...]], check: Callable[..., Any] | None) -> tuple[str, str]:
    """(name, docstring) of the mutant registered for the claim, or for another claim served by
    the same check function; a closure over a component (``with_sampler(shuffled_labels)``) is
    named by its factory and the component."""
    if claim_id not in cases:
        shared = [cid for cid, case in cases.items() if check is not None and case[0] is check]
        if not shared:
            return "", ""
        name, doc = _mutant_of(shared[0], cases, check)
        return f"{name}` registered for `{shared[0]}", doc
    fn = cases[claim_id][1]
    name, doc = fn.__name__, inspect.getdoc(fn) or ""
    inner = [c.cell_contents for c in (fn.__closure__ or ()) if callable(c.cell_contents)]
    if name == "<lambda>" and inner:
        factory = fn.__qualname__.split(".")[0]
        name, doc = f"{factory}({inner[0].__name__})", inspect.getdoc(inner[0]) or ""
    return name, doc


def _check_of(claim_id: str, module: ModuleType, cases: dict[str, tuple[Any, ...]]) -> Callable[..., Any] | None:
    """The claim's check: the mutant table's entry, else the module's ``check_...`` function whose
    source names the claim (or, for ids made with an f-string, its family ``prefix/``)."""
    if claim_id in cases:
        return cases[claim_id][0]
    checks = [f for n, f in vars(module).items() if n.startswith("check_") and inspect.isfunction(f) and f.__module__ == module.__name__]
    for needle in (f'"{claim_id}"', f'"{claim_id.rsplit("/", 1)[0]}/'):
        found = [f for f in checks if needle in inspect.getsource(f)]
        if found:
            return found[0]
    return None


def _tests_of(module: ModuleType, check: Callable[..., Any]) -> list[str]:
    out = []
    for name, fn in vars(module).items():
        inner = getattr(getattr(fn, "hypothesis", None), "inner_test", fn)
        if name.startswith("test_") and callable(fn) and re.search(rf"\b{check.__name__}\b", inspect.getsource(inner)):
            out.append(name)
    return out


def _constants(module: ModuleType) -> dict[str, str]:
    return {k: repr(v) for k, v in vars(module).items() if k.isupper() and isinstance(v, int | float | str | tuple) and not isinstance(v, bool)}


def _load(module_path: str) -> ModuleType | None:
    """The claim's module, or None when the catalogue row names none that imports (the entry
    then says that no check was found, and the staleness test shows the change)."""
    try:
        return importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
    except ImportError:
        return None


def render() -> str:
    """The whole document (imports every claim module once per profile)."""
    from fc_check.budget import DEFAULT_ALPHA, PROFILES, ErrorBudget
    from fc_check.catalogue import CLAIMS
    from fc_check.hypo import PROFILE_ENV

    saved = os.environ.get(PROFILE_ENV)
    per_profile: dict[str, dict[str, dict[str, Any]]] = {}  # profile -> module -> {"pinned": {test: str}, "constants": {..}}
    modules = list(dict.fromkeys(c.module for c in CLAIMS.values() if c.module))
    try:
        for pname in PROFILES:
            os.environ[PROFILE_ENV] = pname  # the modules read the profile when imported
            per_profile[pname] = {}
            for path in modules:
                first = _load(path)
                if first is None:
                    continue
                mod = importlib.reload(first)
                pinned = {}
                for name, fn in vars(mod).items():
                    examples = getattr(fn, "hypothesis_explicit_examples", None)
                    if name.startswith("test_") and examples:
                        pinned[name] = "; ".join(", ".join(f"{k}: {_plain(v)}" for k, v in ex.kwargs.items()) for ex in examples)
                per_profile[pname][path] = {"pinned": pinned, "constants": _constants(mod)}
        os.environ[PROFILE_ENV] = "default"
        loaded = {path: importlib.reload(m) for path in modules if (m := _load(path)) is not None}
        try:
            from tests.test_mutants import CASES
        except ImportError:  # an installed copy without the tests folder
            CASES = {}
    finally:
        if saved is None:
            os.environ.pop(PROFILE_ENV, None)
        else:
            os.environ[PROFILE_ENV] = saved

    levels = {p: ErrorBudget.for_profile(DEFAULT_ALPHA, prof).per_assertion for p, prof in PROFILES.items()}
    out = [
        "# Claim catalogue",
        "",
        "<!-- Generated by `python -m fc_check.catalogue_doc` from the code; do not edit by hand. -->",
        "",
        "Every claim the suite checks, from the paper *Feature contamination: neural networks learn uncorrelated",
        "features and fail to generalize* (Zhang, Zhao, Chen, Jiang and Chen, ICML 2024). For each: the paper's",
        "reference and statement; each statistic, its interval and threshold (read from the check's source);",
        "why that threshold; the regimes each profile runs; the broken model its check must reject; and where",
        "the check departs from the paper. Thresholds read `≥ x` (the interval's lower bound must reach `x`),",
        "`> x` (strictly above), `≤ x` (the upper bound at most `x`), `∈ [a, b]` (the two-sided interval inside),",
        "`∋ c, half-width ≤ h` (the interval contains `c` and is at most `2h` wide). Code in backticks inside a",
        "threshold is computed by the check itself (see its module's words).",
        "",
        f"Levels below are at the default suite budget (`--fc-alpha {DEFAULT_ALPHA:g}`), split over the catalogue's assertion slots.",
        "",
        "| profile | generated examples (ordinary / heavy) | Hypothesis seeds | base replicates | per-interval level |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p, prof in PROFILES.items():
        out.append(f"| `{p}` | {prof.generated} / {prof.heavy_generated} | {'fixed' if prof.derandomize else 'fresh'} | {prof.replicates} | {levels[p]:.3g} |")
    out += ["", "## Claims", ""]
    out += [f"- [`{cid}`](#{doc_anchor(cid)}) ({c.paper_ref})" for cid, c in CLAIMS.items()]
    for cid, c in CLAIMS.items():
        mod = loaded.get(c.module)
        check = _check_of(cid, mod, CASES) if mod else None
        out += ["", f'<a id="{doc_anchor(cid)}"></a>', "", f"### `{cid}`", "", f"**{c.paper_ref}.** {c.statement}", ""]
        if check is None:
            out += [f"- **Checked in** `{c.module}`: no check function found for this id.", ""]
        else:
            tests = _tests_of(mod, check) if mod else []
            checked = f"- **Checked by** `{check.__name__}` in `{c.module}`" + (f", test {', '.join(f'`{t}`' for t in tests)}" if tests else "")
            if cid in MAPS:
                out += [checked + "; a validity map: one asserted interval per inside cell.", ""] + _map_lines(MAPS[cid])
                rows = []
            elif cid in BOUNDARIES:
                out += [checked + "; a boundary: one asserted interval per series inside the theory's conditions.", ""] + _boundary_lines(BOUNDARIES[cid])
                rows = []
            else:
                out.append(checked + f"; {c.assertions} asserted interval(s) per example{' (a heavy check: fewer generated examples)' if c.heavy else ''}.")
                rows = statistics_of(check)
            if rows:
                out += ["", "  | statistic | interval | threshold |", "  | --- | --- | --- |"]
                out += [f"  | {_cell(r['statistic'])} | {_cell(r['method'])} | {_cell(r['threshold'])} |" for r in rows]
                out.append("")
            params = parameters_of(check)
            if params:
                out.append(f"- **Parameters** (defaults the test uses): {', '.join(params)}.")
        bullet = docstring_bullet(mod, cid) if mod else ""
        if bullet:
            out.append(f"- **As the module states it:** {bullet}")
        out.append(f"- **Why this threshold:** {c.threshold_why or 'not documented.'}")
        if cid not in BOUNDARIES:  # a boundary's runs per profile are its design table
            out += _regime_lines(c, per_profile, check, mod)
        name, doc = _mutant_of(cid, CASES, check)
        said = bool(doc) and doc.rstrip(".") in c.mutant  # the catalogue's prose already says what the docstring says
        mutant = f"`{name}` ({doc.rstrip('.')}). " if name and doc and not said else f"`{name}`. " if name else ""
        out.append(f"- **Mutant it rejects:** {mutant}{c.mutant or ('' if mutant else 'none registered in `tests/test_mutants.py`.')}".rstrip())
        out.append(f"- **Power measured along:** {_departure_line(c.module, _tests_of(mod, check) if (mod and check) else [])}")
        out.append(f"- **Departure from the paper:** {c.departure or 'none.'}")
    return "\n".join(out) + "\n"


def _departure_line(module: str, tests: list[str]) -> str:
    """The graded departure along which the calibration study measures the claim's power."""
    from fc_check.calibration import HEAVY_MODULES
    from fc_check.departures import departure_of

    for t in tests:
        dep = departure_of(f"{module}::{t}")
        if dep is not None:
            costly = dep.heavy or f"{module}::{t}".startswith(HEAVY_MODULES)
            when = " (a costly family: studied under the `default` calibration profile, or under `ci` with `--power-along`)" if costly else ""
            return f"`{dep.name}`: {dep.strength}, strengths {', '.join(f'{v:g}' for v in dep.strengths)}{when}."
    return "no graded departure declared (`fc_check/departures.py`); its mutant is the only model on which its failure is shown."


def _map_lines(spec: MapSpec) -> list[str]:
    """A validity map's statistic, threshold, declared region and grid per profile."""
    threshold = format_threshold(list(spec.threshold), "in") if isinstance(spec.threshold, tuple) else format_threshold(spec.threshold, ">=")
    out = ["  | statistic | interval | threshold |", "  | --- | --- | --- |",
           f"  | {_cell(spec.statistic)} | per cell, two-sided at the per-interval level; HOLDS / FAILS / UNRESOLVED | {_cell(threshold)} |", "",
           f"- **Declared region** (asserted: every inside cell HOLDS; outside cells are drawn, never asserted): {spec.region_why}",
           "- **Grid per profile:**", "", "  | profile | x | y | replicates per cell | inside cells (budget slots) |", "  | --- | --- | --- | --- | --- |"]
    for name, grid in spec.grids:
        reps = f"{grid.replicates}" + (f" inside, {grid.outside_replicates} outside" if grid.outside_replicates else "")
        out.append(f"  | `{name}` | {grid.x.name} {list(grid.x.values)} | {grid.y.name} {list(grid.y.values)} | {reps} | {spec.inside_cells(name)} of {len(list(grid.cells()))} |")
    return out + [""]


def _boundary_lines(spec: BoundarySpec) -> list[str]:
    """A boundary's statistic, crossing, interval, the region it must clear and its design per profile."""
    kind = "binomial GLM (logit)" if spec.kind == "share" else "weighted least squares of the cell means"
    out = ["  | statistic | interval | threshold |", "  | --- | --- | --- |",
           f"  | crossing of `{spec.axis}` where the {_cell(spec.statistic)} = {format_threshold(spec.threshold)} | Fieller's interval from a {kind}, "
           f"degree {spec.degree} in the axis, cells within {format_threshold(spec.window)} of the bracket; two-sided at the per-interval level | "
           f"{_cell(format_threshold(spec.edge, spec.relation))} (outside the region of `{spec.refines}`), half-width ≤ the design's resolution |", "",
           f"- **Region it must clear** (the map's, unchanged): {MAPS[spec.refines].region_why}",
           f"- **Design:** {spec.why}",
           "- **Sequential design per profile** (coarse pass, then bisection on replicate batches; the trend is the crossing against 1/sqrt(m), stated, not asserted):", "",
           "  | profile | series | coarse pass | replicates per batch (coarse) | batches per series | resolution | asserted series (budget slots) |",
           "  | --- | --- | --- | --- | --- | --- | --- |"]
    for name, d in spec.designs:
        series = "; ".join(s.label for s in d.series)
        out.append(f"  | `{name}` | {_cell(series)} | {[format_threshold(x) for x in d.coarse]} | {d.replicates} ({d.coarse_reps}) | {d.batches} | "
                   f"{format_threshold(d.resolution)} | {spec.slots(name)} of {len(d.series)} |")
    return out + [""]


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _regime_lines(c: Any, per_profile: dict[str, dict[str, dict[str, Any]]], check: Callable[..., Any] | None, mod: ModuleType | None) -> list[str]:
    from fc_check.budget import PROFILES

    if any(c.module not in per_profile[p] for p in per_profile):
        return []
    tests = _tests_of(mod, check) if (mod and check) else []
    lines = ["- **Regimes per profile** (the pinned example is the paper-like regime; the others are generated):", "",
             "  | profile | examples | pinned regime | profile-dependent constants |", "  | --- | --- | --- | --- |"]
    first = per_profile[next(iter(per_profile))][c.module]["constants"]
    varying = sorted(k for k in first if len({per_profile[p][c.module]["constants"].get(k) for p in per_profile}) > 1)
    for p, prof in PROFILES.items():
        info = per_profile[p][c.module]
        pinned = "; ".join(info["pinned"][t] for t in tests if t in info["pinned"]) or "—"
        consts = ", ".join(f"{k} = {info['constants'][k]}" for k in varying) or "—"
        n = prof.examples(c.heavy)
        lines.append(f"  | `{p}` | {n} (1 pinned + {n - 1} generated) | {_cell(pinned)} | {_cell(consts)} |")
    if mod and tests:
        given = getattr(getattr(getattr(mod, tests[0]), "hypothesis", None), "_given_kwargs", None)
        if given:
            text = ", ".join(f"{k} = {v!r}" for k, v in given.items())
            lines += ["", f"  Generated from `{_cell(text if len(text) <= 600 else text[:600] + ' …')}`."]
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fc_check.catalogue_doc", description="Write docs/catalogue.md from the code.")
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed file differs from what the code gives")
    ap.add_argument("--out", type=Path, default=ROOT / DOC_PATH)
    args = ap.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is stale: regenerate it with `python -m fc_check.catalogue_doc`", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
