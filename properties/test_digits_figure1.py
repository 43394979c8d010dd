"""Figure 1 on handwritten digits: three model families, OOD against ID accuracy.

Zhang et al. ICML 2024, Section 2, Figure 1: linear probes on *distilled* representations (students
trained to copy a pre-trained, OOD-robust representation) land with standard models trained on ID
data, far below linear probes on the pre-trained representations themselves, although the
students copy those representations. The analog on scikit-learn's digits, all ten classes
(``fc_model.digits_families``): (i) linear probes on the hidden layer of 10-class ReLU teachers
trained on the *unbordered* images (widths 32, 64, 128; after 200 and 1 000 Adam steps); (ii)
linear probes on ReLU students (widths 64, 128, 256) that fit the width-64 teacher's hidden layer
by MSE on images with a ``U[0,1]`` border drawn afresh every batch (the settings of
``digits/distillation``); (iii) standard ReLU networks (widths 64, 128, 256) trained end to end on
the labels of bordered images. Lengths: 1 000 and 3 000 steps for (ii) and (iii) (500 and 1 500
under ``ci``). Probes are ridge least-squares fits of one-hot labels (closed form). OOD test sets
are the same test images and border draws with the border shifted, two shifts declared before
anything was measured: **negated** (``-b``: ``-U[0,1]``) and **brighter** (``b + 1``: ``U[1,2]``,
the same draws one brighter, a law with a larger mean).

The teachers never read the border, so family (i) is unchanged by any border shift by
construction: this analog does not show how a robust representation is obtained, only what
distillation does with one. Per replicate and family, ``D_F`` = ID - OOD test accuracy averaged
over the family's widths and lengths; every statistic is paired by seed (same split, test images
and border draws for every family). Per shift:

* ``digits/three-families``: (0) family (i)'s drop is exactly 0 (checked exactly, no budget);
  (1) ``D_ii - D_i >= 0.05``: the distilled family loses accuracy OOD, by at least a third of the
  smallest per-configuration drop of the standard family measured in the prototype (0.150, width
  256 after 3 000 steps, brighter border); because ``D_i = 0`` this one interval is both "(ii)'s
  drop is bounded below" and "it exceeds (i)'s drop by that margin"; (2) ``D_ii - (D_i + D_iii)/2
  > 0``: at matched ID accuracy the distilled family lies nearer to the standard family than to the
  teachers' probes. Each family's points are summarised by a line of slope 1 through them
  (``OOD = ID - D_F``; family (i)'s is ``y = x``), so at the ID accuracy of any family-(ii) point its
  OOD accuracy is nearer the (iii) line than the (i) line exactly when its drop exceeds the midpoint
  of the two families' drops; threshold 0 is the claim itself. A slope-1 line is used rather than a
  fitted slope because the clouds are narrow in ID accuracy (prototype: 0.946-0.973, 0.944-0.964,
  0.970-0.977), where a fitted slope is noise.

Prototype, before this module was written (8 replicates, seed 0, ``b = 2``, lengths 1 000 and 3 000;
mean over replicates, sd across replicates): family (i) drop 0 under both shifts; negated border:
``D_ii`` 0.365 (sd 0.064; per configuration 0.14-0.54), ``D_iii`` 0.245 (0.080; 0.17-0.31), midpoint
statistic 0.242 (0.069); brighter border: ``D_ii`` 0.024 (0.004; 0.003-0.050), ``D_iii`` 0.174 (0.032;
0.150-0.190), midpoint statistic -0.063 (0.018). At the ``ci`` lengths 500 and 1 500: negated
``D_ii`` 0.416, midpoint 0.288; brighter ``D_ii`` 0.046, midpoint -0.042. ID accuracies: (i) 0.946-0.973,
(ii) 0.944-0.964, (iii) 0.970-0.977.

The check runs its pinned regime only under ``ci`` and ``default`` (a heavy check: 21 networks
per replicate), with the profile's replicates.

Found (``FINDING``; the test is a strict xfail under ``ci`` and ``default``): under the negated border
the claim holds (the distilled family drops 1.7-1.9 times as much as the standard one); under the
brighter border it does not: the distilled students lose 0.04-0.05 of accuracy, the standard
networks 0.18, so family (ii) lies near the teachers' probes.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import example, given

from fc_check.common import mean_at_least
from fc_check.hypo import active_profile, fc_settings
from fc_check.verdict import Outcome, Plot, exact
from fc_model.digits_families import FamiliesRun
from properties.digits_figures import FiguresRegime, drop, paper_families, regimes, run_of, steps_for

PROFILE = active_profile()
R = PROFILE.replicates
STEPS = steps_for(PROFILE.name)
PAPER = FiguresRegime(steps=STEPS, replicates=R)
REGIMES = regimes(STEPS, R, families=True)
CLAIM = "digits/three-families"
COLOURS = {"i": "tab:purple", "ii": "tab:orange", "iii": "tab:blue"}
MARKERS = {"i": "*", "ii": "s", "iii": "o"}


def _clouds(run: FamiliesRun) -> dict[str, object]:
    return {"i": run.teacher_probes, "ii": run.student_probes, "iii": run.standard}


def scatter(run: FamiliesRun, s: int) -> Plot:
    """OOD against ID accuracy for shift ``s``: each configuration's mean over replicates (large
    markers) and its replicates (small), one colour per family, and ``y = x``."""
    name = run.sets[s]
    shift = run.config.shifts[s - 1]

    def draw(ax) -> None:  # noqa: ANN001
        lo = 1.0
        for key, cloud in _clouds(run).items():
            if not cloud.widths:
                continue
            a = cloud.acc.double().numpy()  # R x sets x widths x lengths
            idv, ood = a[:, 0].reshape(a.shape[0], -1), a[:, s].reshape(a.shape[0], -1)
            ax.scatter(idv.ravel(), ood.ravel(), s=5, alpha=0.2, color=COLOURS[key], marker=MARKERS[key], linewidths=0)
            ax.scatter(idv.mean(0), ood.mean(0), s=70 if key == "i" else 36, color=COLOURS[key], marker=MARKERS[key], edgecolors="black",
                       linewidths=0.5, label=f"{cloud.name} ({len(cloud.widths)} widths x {len(cloud.lengths)} lengths)")
            lo = min(lo, float(ood.min()), float(idv.min()))
        lo = max(0.0, lo - 0.02)
        ax.plot([lo, 1], [lo, 1], color="grey", linestyle="--", linewidth=0.8, label="y = x")
        ax.set_xlim(lo, 1)
        ax.set_ylim(lo, 1)
        ax.set_xlabel("ID test accuracy")
        ax.set_ylabel(f"OOD test accuracy ({name} border: {shift.describe()})")
        ax.set_title(f"digits, 10 classes, border {run.config.distillation.border}, R = {run.teacher_acc.shape[0]}: "
                     f"{name} border\nlarge: mean of a configuration; small: its replicates", fontsize=7)
        ax.legend(fontsize=6, loc="upper left")

    return Plot(CLAIM, f"OOD vs ID accuracy of the three families, {name} border (Figure 1 analog)", draw)


def table(run: FamiliesRun) -> dict[str, object]:
    rows = []
    for cloud in _clouds(run).values():
        a = cloud.acc.double().mean(0).numpy()  # sets x widths x lengths
        for j, w in enumerate(cloud.widths):
            for li, length in enumerate(cloud.lengths):
                rows.append([cloud.name, w, length, *(round(float(a[s, j, li]), 4) for s in range(len(run.sets)))])
    return {"claim": CLAIM, "title": "Test accuracy per configuration (mean over replicates)", "columns": ["family", "width", "steps", *run.sets], "rows": rows}


def check_three_families(make_model, regime: FiguresRegime, *, level: float, device: str, drop_min: float = 0.05, midpoint_min: float = 0.0) -> Outcome:  # noqa: ANN001
    run = run_of(make_model, regime, device)
    fs = []
    for s in range(1, len(run.sets)):
        name = run.sets[s]
        d_i, d_ii, d_iii = drop(run.teacher_probes, s), drop(run.student_probes, s), drop(run.standard, s)
        a_i = run.teacher_probes.acc.double()
        fs.append(exact(CLAIM, f"family (i): largest |ID - OOD accuracy| of a teacher probe, {name} border", float((a_i[:, 0] - a_i[:, s]).abs().max()), 0.0,
                        len(d_i), note="the teachers never read the border"))
        note = f"mean drops: (i) {float(d_i.mean()):.3g}, (ii) {float(d_ii.mean()):.3g}, (iii) {float(d_iii.mean()):.3g}"
        fs.append(mean_at_least(CLAIM, f"(ii) - (i) ID - OOD accuracy drop, {name} border (paired)", d_ii - d_i, drop_min, level, note=note))
        fs.append(mean_at_least(CLAIM, f"(ii) drop minus the midpoint of the (i) and (iii) drops, {name} border (paired)", d_ii - (d_i + d_iii) / 2,
                                midpoint_min, level, strict=True, note=f"(ii) at {float((d_ii / np.maximum(d_iii, 1e-12)).mean()):.2f} of (iii)'s drop (mean ratio)"))
    plots = [scatter(run, s) for s in range(1, len(run.sets))]
    return Outcome(fs, asdict(regime), regime.seed, plots, [table(run)])


# A finding, recorded, not hidden (see the README): the test is a strict xfail under the profiles
# where it was measured, so the day the check passes CI fails and the finding is looked at again.
FINDING = ("the distilled family fails OOD under the negated border but not under the brighter one: "
           "brighter border (b + 1), (ii) - (i) drop 0.036 [0.018, inf) vs >= 0.05 and the midpoint statistic -0.052 [-0.080, inf) vs > 0 "
           "under default (R = 24; ci, R = 16, lengths 500/1 500: 0.052 [0.023, inf) and -0.036 [-0.072, inf)): per configuration the "
           "students go from 0.94-0.96 ID to 0.88-0.96 OOD, the standard networks from 0.97-0.98 to 0.77-0.83 (mean drops (ii) 0.036, "
           "(iii) 0.177); negated border (-b) holds: (ii) - (i) 0.399 [0.332, inf), midpoint 0.268 [0.181, inf), the students' drop 1.7 "
           "times the standard networks' (0.399 vs 0.262); family (i) drops exactly 0 (the teachers never read the border)")


@pytest.mark.xfail(PROFILE.name in ("ci", "default"), reason=FINDING, strict=True)
@fc_settings(heavy=True)
@given(regime=REGIMES)
@example(regime=PAPER)
def test_three_families(fc, regime: FiguresRegime) -> None:
    fc.check(check_three_families, paper_families, regime)
