"""Figure 5 on handwritten digits: neuron selectivity of a random and a distilled network, ID and OOD.

Zhang et al. ICML 2024, Figure 5: distilled CLIP-RN50 and CLIP-ViT-B/16 students have a larger
average neuron selectivity than random networks, and their selectivity drops on OOD data. The
analog (``fc_model.digits_families``): the ReLU student of ``digits/distillation`` (width 256, all
ten digits, the width-64 teacher's hidden layer fitted by MSE on images with a ``U[0,1]`` border,
Adam 3e-3, 3 000 steps; 1 500 under ``ci``) at init (the random network) and after training. Per
hidden unit, Morcos et al.'s class-selectivity index ``(mu_max - mu_rest) / (mu_max + mu_rest)``
over the class means of its ReLU activation on a test set (``mu_rest``: the mean over the other nine
classes), averaged over the units active on that set (a unit with every class mean 0 has no
index). Test sets: the ID test images, and the same images and border draws with the border
shifted, two shifts declared before anything was measured: **negated** (``-b``) and **brighter**
(``b + 1``: ``U[1,2]``). Per replicate, paired by seed:

* ``digits/selectivity``: (a) distilled - random-init selectivity on ID data > 0; (b) per shift,
  the distilled student's ID - OOD selectivity > 0, and that drop minus the random network's own
  ID - OOD change (the control: what the shift does to an untrained network of the same
  architecture) > 0. Threshold 0 for all: "more selective" and "drops" are the claims, with no effect
  size.

An earlier trial on a two-class theory network on digits found selectivity *rising* OOD (0.56 ->
0.78 under a negated border). Prototype, before this module was written (8 replicates; mean, sd
across replicates): seed 0, ``b = 2``: selectivity ID 0.407 (0.016) at init, 0.328 (0.016)
distilled, so (a) -0.079 (0.024); distilled drop negated 0.004 (0.015), brighter 0.020 (0.009);
control (random network) negated -0.002 (0.023), brighter 0.085 (0.015); drop minus control negated
0.006 (0.027), brighter -0.065 (0.020). Seed 1, ``b = 1``: (a) -0.098 (0.021); drop negated -0.084
(0.018), brighter 0.033 (0.008); control -0.003, 0.067. Seed 0, learning rate 1e-3: (a) -0.101; drop
negated -0.105, brighter 0.086; control 0.002, 0.079. The teacher (trained on the labels): 0.53 at
init, 0.40 trained. About half of the distilled student's units are silent on every ID class (0.49
at ``b = 2``) and most of the others fire on nearly every image; the negated border wakes many
silent units (active share 0.46 ID, 0.78 negated).

Found (``FINDING``; the test is a strict xfail under ``ci`` and ``default``): (a) fails (distillation
lowers the mean selectivity), (b) fails under the negated border (no drop at ``b = 2``, a rise at
``b = 1``) and holds under the brighter border, where the drop is smaller than the random network's.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import example, given

from fc_check.common import mean_at_least
from fc_check.hypo import active_profile, fc_settings
from fc_check.plots import BAND_LEVEL
from fc_check.verdict import Outcome, Plot
from fc_model.digits_families import FamiliesRun
from properties.digits_figures import FiguresRegime, mean_selectivity, paper_families, regimes, run_of, steps_for

PROFILE = active_profile()
R = PROFILE.replicates
STEPS = steps_for(PROFILE.name)
UNIT_PAPER = FiguresRegime(steps=STEPS, families=False, replicates=R)
REGIMES = regimes(STEPS, R, families=False)
CLAIM = "digits/selectivity"


def bars(run: FamiliesRun) -> Plot:
    """Mean selectivity per test set, random-init and distilled student, with replicate t bands (display only)."""
    from scipy import stats as sps

    sets = run.sets
    values = {"random-init student": [mean_selectivity(run.student_init, s) for s in range(len(sets))],
              "distilled student": [mean_selectivity(run.student, s) for s in range(len(sets))]}
    teacher = float(mean_selectivity(run.teacher, 0).mean())

    def draw(ax) -> None:  # noqa: ANN001
        x = np.arange(len(sets))
        for n, (name, vals) in enumerate(values.items()):
            means = [float(v.mean()) for v in vals]
            half = [float(sps.t.ppf(0.5 + BAND_LEVEL / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))) for v in vals]
            bar = ax.bar(x + (n - 0.5) * 0.38, means, width=0.36, yerr=half, capsize=3, label=name, color="tab:blue" if n == 0 else "tab:orange")
            ax.bar_label(bar, labels=[f"{m:.3f}" for m in means], fontsize=6, padding=2)
        ax.axhline(teacher, color="tab:purple", linestyle="--", linewidth=0.8, label=f"teacher, ID ({teacher:.3f})")
        labels = ["ID"] + [f"OOD: {s.name}\n({s.describe()})" for s in run.config.shifts]
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_ylabel("mean class-selectivity index of the hidden units")
        ax.set_ylim(0, max(max(float(v.mean()) for v in vals) for vals in values.values()) * 1.35)
        d = run.config.distillation
        ax.set_title(f"digits, 10 classes, border {d.border}, student width {d.width}, {d.steps} steps, R = {run.teacher_acc.shape[0]}\n"
                     f"bars: mean over replicates, {BAND_LEVEL:.0%} t band (display only)", fontsize=7)
        ax.legend(fontsize=6, loc="upper right")

    return Plot(CLAIM, "Neuron selectivity, random init vs distilled, ID and OOD (Figure 5 analog)", draw)


def check_selectivity(make_model, regime: FiguresRegime, *, level: float, device: str, gain_min: float = 0.0, drop_min: float = 0.0) -> Outcome:  # noqa: ANN001
    run = run_of(make_model, regime, device)
    init, trained = run.student_init, run.student
    si_init, si = mean_selectivity(init, 0), mean_selectivity(trained, 0)
    note = f"random init {float(si_init.mean()):.3g}, distilled {float(si.mean()):.3g}, teacher {float(mean_selectivity(run.teacher, 0).mean()):.3g} (ID)"
    fs = [mean_at_least(CLAIM, "(a) selectivity, distilled - random init, ID (paired)", si - si_init, gain_min, level, strict=True, note=note)]
    for s in range(1, len(run.sets)):
        name = run.sets[s]
        drop = si - mean_selectivity(trained, s)
        control = si_init - mean_selectivity(init, s)
        fs.append(mean_at_least(CLAIM, f"(b) distilled selectivity ID - OOD, {name} border (paired)", drop, drop_min, level, strict=True,
                                note=f"distilled {float(si.mean()):.3g} -> {float(mean_selectivity(trained, s).mean()):.3g}; random init "
                                     f"{float(si_init.mean()):.3g} -> {float(mean_selectivity(init, s).mean()):.3g}"))
        fs.append(mean_at_least(CLAIM, f"(b) distilled drop minus the random network's ID - OOD change, {name} border (paired)", drop - control, drop_min,
                                level, strict=True, note=f"control (random init) {float(control.mean()):.3g}"))
    return Outcome(fs, asdict(regime), regime.seed, [bars(run)])


FINDING = ("Figure 5 does not carry over: (a) distillation lowers selectivity, 0.407 -> 0.324, -0.083 [-0.101, inf) vs > 0 (default, "
           "R = 24, b = 2; ci, R = 16: -0.088 [-0.124, inf)); (b) negated border (-b): no drop, 0.0014 [-0.015, inf) (ci: -0.016 "
           "[-0.044, inf); at b = 1, R = 16, the same code measures a rise 0.361 -> 0.434, drop -0.073, sd 0.019, as the earlier two-class "
           "trial did); brighter border (b + 1): a drop, 0.020 [0.011, inf) (PASS; ci 0.044 [0.026, inf)), but smaller than the random "
           "network's own drop under that shift (0.087): drop minus control -0.067 [-0.092, inf) vs > 0")


@pytest.mark.xfail(PROFILE.name in ("ci", "default"), reason=FINDING, strict=True)
@fc_settings()
@given(regime=REGIMES)
@example(regime=UNIT_PAPER)
def test_selectivity(fc, regime: FiguresRegime) -> None:
    fc.check(check_selectivity, paper_families, regime)
