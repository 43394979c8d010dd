"""``docs/catalogue.md`` is what the code gives now, and its generator reads every claim's check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from fc_check.catalogue import CLAIMS
from fc_check.catalogue_doc import DOC_PATH, doc_anchor, docstring_bullet, statistics_of
from fc_check.common import mean_at_least, mean_inside

ROOT = Path(__file__).resolve().parents[1]


def test_committed_catalogue_is_current() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FC_")}
    proc = subprocess.run([sys.executable, "-m", "fc_check.catalogue_doc", "--check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:] + "\nregenerate with: python -m fc_check.catalogue_doc"


def test_every_claim_has_an_entry_with_statistics() -> None:
    text = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    for cid in CLAIMS:
        entry = text.split(f'<a id="{doc_anchor(cid)}"></a>', 1)
        assert len(entry) == 2, f"no entry for {cid}"
        body = entry[1].split("<a id=", 1)[0]
        # the statistics come from the check's source, or (a check built on other helpers) from its module's own bullet
        assert "| statistic | interval | threshold |" in body or "**As the module states it:**" in body, cid
        assert "**Mutant it rejects:**" in body and "**Why this threshold:** not documented" not in body, cid
    assert "claims.md" not in text


def check_demo(make_model, regime, *, level: float, device: str, floor: float = 0.25, band: float = 0.1):  # noqa: ANN001, ANN201
    x = make_model(regime)
    return [mean_at_least("demo/x", "a statistic", x, floor, level, strict=True), mean_inside("demo/x", f"gap at {band:g}", x, -band, band, level)]


def test_statistics_are_read_from_the_check_source() -> None:
    rows = statistics_of(check_demo)
    assert [(r["statistic"], r["threshold"]) for r in rows] == [("a statistic", "> 1/4"), ("gap at {band}", "∈ [−0.1, 0.1]")]
    assert rows[0]["method"].startswith("one-sided t interval (lower bound)")


def test_docstring_bullet_of_a_new_claim() -> None:
    mod = ModuleType("m", "Intro.\n\n* ``map/new-claim``: the statistic,\n  over two lines.\n* ``other``: no.\n")
    assert docstring_bullet(mod, "map/new-claim") == "``map/new-claim``: the statistic, over two lines."
    assert docstring_bullet(mod, "digits/absent") == ""


NEW_CLAIM = """
from fc_check import catalogue
from fc_check.catalogue_doc import render
catalogue.CLAIMS["map/new"] = catalogue.Claim("map/new", "Figure 9", "A statement.", 1, "maps/test_absent.py", threshold_why="Because.")
text = render()
entry = text.split('<a id="map-new"></a>', 1)[1]
assert "no check function found" in entry and "**Why this threshold:** Because." in entry and "none registered" in entry, entry
print("ok")
"""


def test_a_claim_added_elsewhere_gets_an_entry() -> None:
    """A row whose module, check or mutant is not (yet) there still gets an entry that says so
    (run in a subprocess: rendering re-imports the claim modules under each profile)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FC_")}
    proc = subprocess.run([sys.executable, "-c", NEW_CLAIM], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
