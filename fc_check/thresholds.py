"""Thresholds as people read them (``≥ log 2``, ``∋ −1/2, half-width ≤ 0.1``, ``∈ [−0.05, 0.05]``).

A finding keeps its threshold in machine form (a number, a ``[low, high]`` list, or a dict such as
``{"contains": -0.5, "max_half_width": 0.1}``) and its ``relation`` (``>=``, ``>``, ``<=``, ``in``,
``contains``); ``results.json`` stores both as they are, and only the terminal summary, the HTML
report and the catalogue document render them with :func:`format_threshold`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}
_DENOMINATORS = (2, 3, 4)  # halves, thirds, quarters read better as fractions; 0.05 or 0.2 do not


def format_number(x: Any) -> str:
    """A number as it would be written by hand: integers plain, simple fractions (``−1/2``),
    logarithms of small integers (``log 2``), else four significant digits; minus as ``−``."""
    if x is None:
        return "?"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    x = float(x)
    if not math.isfinite(x):
        return ("−" if x < 0 else "") + "∞" if math.isinf(x) else "NaN"
    sign = "−" if x < 0 else ""
    a = abs(x)
    if a == round(a) and a < 1e6:
        return f"{sign}{int(round(a))}"
    frac = Fraction(a).limit_denominator(max(_DENOMINATORS))
    if frac.denominator in _DENOMINATORS and abs(float(frac) - a) <= 1e-12 * a:
        return f"{sign}{frac.numerator}/{frac.denominator}"
    n = round(math.exp(a)) if a < 5 else 0
    if n >= 2 and abs(math.log(n) - a) <= 1e-12 * a:
        return f"{sign}log {n}"
    return sign + f"{a:.4g}"


def infer_relation(threshold: Any, margin: float | None, ci_low: float | None, ci_high: float | None) -> str:
    """The relation of a record that does not carry one (an older record, or a ``Finding`` built
    by hand): from the threshold's shape, else from which bound the margin was measured against."""
    if isinstance(threshold, dict) and "contains" in threshold:
        return "contains"
    if isinstance(threshold, list | tuple) and len(threshold) == 2:
        return "in"
    if isinstance(threshold, int | float) and margin is not None:
        if ci_low is not None and math.isclose(margin, ci_low - threshold, rel_tol=1e-9, abs_tol=1e-12):
            return ">="
        if ci_high is not None and math.isclose(margin, threshold - ci_high, rel_tol=1e-9, abs_tol=1e-12):
            return "<="
    return ""


def format_threshold(threshold: Any, relation: str = "") -> str:
    """``threshold`` under ``relation`` as text: ``≥ 0.2``, ``> 0``, ``≤ 1e-10``, ``∈ [−0.05, 0.05]``,
    ``∋ 1, half-width ≤ 0.3``. A shape it does not know is shown as ``key = value`` pairs."""
    if isinstance(threshold, dict):
        if "contains" in threshold:
            text = f"∋ {format_number(threshold['contains'])}"
            if "max_half_width" in threshold:
                text += f", half-width ≤ {format_number(threshold['max_half_width'])}"
            rest = {k: v for k, v in threshold.items() if k not in ("contains", "max_half_width")}
            return text + "".join(f", {k} = {format_number(v)}" for k, v in rest.items())
        return ", ".join(f"{k} = {format_number(v)}" for k, v in threshold.items())
    if isinstance(threshold, list | tuple):
        if len(threshold) == 2:
            return f"∈ [{format_number(threshold[0])}, {format_number(threshold[1])}]"
        return "[" + ", ".join(format_number(v) for v in threshold) + "]"
    symbol = _SYMBOL.get(relation)
    return f"{symbol} {format_number(threshold)}" if symbol else format_number(threshold)
