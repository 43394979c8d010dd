"""Figure 4 on handwritten digits: class-wise activation rates of a random and a distilled network.

Zhang et al. ICML 2024, Section 4 (activation asymmetry, Theorem 4.1, in real networks), Figure 4:
histograms of class-averaged activation rates of a randomly initialised and a distilled CLIP-RN50;
after training, more classes have small activation rates close to zero and only a few have large
ones. The analog (``fc_model.digits_families``): the ReLU student of ``digits/distillation`` (width
256, fitting the hidden layer of a width-64 teacher trained on the unbordered images, all ten
digits, Adam 3e-3, 3 000 steps; 1 500 under ``ci``) at its initialisation and after training. For
every hidden unit ``k`` and class ``c``, ``p_kc = P[<w_k, x> + b_k > 0 | c]`` on the ID test images
(bordered, ``U[0,1]``). The teacher's rates (trained on the labels, never reading the border, at init
and after training) are drawn and noted, not asserted. Per replicate, paired by seed (the student's
init is its own random network):

* ``digits/activation-rates``: (1) the share of (unit, class) pairs with ``p_kc <= 0.1`` rises from
  init to trained (distilled - init > 0); (2) the same share among the units that fire on some
  class (``max_c p_kc > 0.1``) rises too. Threshold 0 for both: "rises" is the claim, with no effect
  size. (2) is there because a unit that is silent on every class puts all its ten pairs at or
  below 0.1 without any class structure: the figure describes units that fire for a few classes and
  rarely for the others, and a network whose units die would pass (1) alone.

Prototype, before this module was written (8 replicates; mean, sd across replicates): seed 0,
``b = 2``: share (1) 0.255 (0.037) at init, 0.504 (0.024) trained; silent units 0.033 -> 0.490;
share (2) among firing units about 0.23 -> 0.03 (0.504 of the pairs low, 0.49 of them from silent
units); pairs with ``p_kc >= 0.9``: 0.263 -> 0.409. Seed 1, ``b = 1``: (1) rise 0.139 (0.026), (2)
0.168 -> 0.042 (rise -0.126, 0.024), silent 0.037 -> 0.351. Seed 0, learning rate 1e-3: (1) rise
0.057 (0.031), (2) rise -0.119 (0.012). The teacher: (1) 0.288 -> 0.133 (it falls), ``p_kc >= 0.9``
0.285 -> 0.600. The inputs are non-negative and not centred (pixels in [0, 1], border ``U[0,1]``), so
a random unit with a zero bias fires on nearly all images or on nearly none: the histogram at init
is U-shaped (0.26 of the pairs at or below 0.1, 0.26 at or above 0.9), unlike the paper's random
CLIP-RN50.

Found (``FINDING``; the test is a strict xfail under ``ci`` and ``default``): (1) holds, (2) does not.
Distillation silences about half of the student's units and makes most of the others fire on
nearly every image: the share of low-rate pairs rises through silent units only.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import example, given

from fc_check.common import mean_at_least
from fc_check.hypo import active_profile, fc_settings
from fc_check.verdict import Outcome, Plot
from fc_model.digits_families import FamiliesRun, HiddenUnits
from properties.digits_figures import FiguresRegime, paper_families, regimes, run_of, share_low, share_low_firing, silent, steps_for

PROFILE = active_profile()
R = PROFILE.replicates
STEPS = steps_for(PROFILE.name)
UNIT_PAPER = FiguresRegime(steps=STEPS, families=False, replicates=R)
REGIMES = regimes(STEPS, R, families=False)
CLAIM = "digits/activation-rates"


def histograms(run: FamiliesRun, low: float) -> Plot:
    """The rates ``p_kc`` over all (unit, class) pairs and replicates: random-init student, distilled
    student and teacher side by side; pairs of units silent on every class in grey."""
    panels = [("random-init student", run.student_init), ("distilled student", run.student), ("teacher (trained on labels)", run.teacher)]
    bins = np.linspace(0, 1, 21)

    def draw(ax) -> None:  # noqa: ANN001
        ax.axis("off")
        data = []
        for _, units in panels:
            p = units.rates.double().numpy()
            quiet = np.broadcast_to(silent(units, low).numpy()[..., None], p.shape)
            data.append((p, quiet))
        top = max(float(np.histogram(p, bins=bins)[0].max()) / p.size for p, _ in data)
        for n, ((title, units), (p, quiet)) in enumerate(zip(panels, data, strict=True)):
            inset = ax.inset_axes([0.07 + 0.33 * n, 0.13, 0.26, 0.6])
            colour = ("tab:blue", "tab:orange", "tab:purple")[n]
            inset.hist([p[~quiet], p[quiet]], bins=bins, stacked=True, color=[colour, "lightgrey"],
                       weights=[np.full(int((~quiet).sum()), 1 / p.size), np.full(int(quiet.sum()), 1 / p.size)],
                       label=["units that fire on some class", "units silent on every class"])
            inset.axvline(low, color="black", linestyle=":", linewidth=0.8)
            inset.set_ylim(0, 1.1 * top)
            inset.set_xlabel("activation rate p_kc", fontsize=6)
            if n == 0:
                inset.set_ylabel("share of (unit, class) pairs", fontsize=6)
            inset.tick_params(labelsize=5)
            inset.set_title(f"{title}\np_kc <= {low:g}: {float((p <= low).mean()):.2f} of pairs\nsilent units: {float(silent(units, low).double().mean()):.2f}",
                            fontsize=5.5)
            if n == 1:
                inset.legend(fontsize=5, loc="upper center")
        d = run.config.distillation
        ax.set_title(f"activation rates per (hidden unit, class), ID test images, all replicates\n"
                     f"digits, border {d.border}; student width {d.width}, {d.steps} steps; R = {run.teacher_acc.shape[0]}", fontsize=6.5)

    return Plot(CLAIM, "Class-wise activation rates: random init, distilled student, teacher (Figure 4 analog)", draw)


def _units_note(tag: str, units: HiddenUnits, low: float) -> str:
    return f"{tag}: share {float(share_low(units, low).mean()):.3g}, firing-unit share {float(share_low_firing(units, low).mean()):.3g}, " \
           f"silent units {float(silent(units, low).double().mean()):.3g}, pairs >= 0.9 {float((units.rates >= 0.9).double().mean()):.3g}"


def check_activation_rates(make_model, regime: FiguresRegime, *, level: float, device: str, low: float = 0.1, rise_min: float = 0.0) -> Outcome:  # noqa: ANN001
    run = run_of(make_model, regime, device)
    init, trained = run.student_init, run.student
    note = "; ".join(_units_note(t, u, low) for t, u in (("init", init), ("distilled", trained), ("teacher init", run.teacher_init), ("teacher", run.teacher)))
    fs = [mean_at_least(CLAIM, f"share of (unit, class) pairs with p_kc <= {low:g}, distilled - random init (paired)", share_low(trained, low) - share_low(init, low),
                        rise_min, level, strict=True, note=note),
          mean_at_least(CLAIM, f"the same share among units firing on some class (max_c p_kc > {low:g}), distilled - random init (paired)",
                        share_low_firing(trained, low) - share_low_firing(init, low), rise_min, level, strict=True)]
    return Outcome(fs, asdict(regime), regime.seed, [histograms(run, low)])


FINDING = ("the share of low-rate (unit, class) pairs rises only through units that fall silent: over all pairs 0.250 -> 0.500, rise "
           "0.250 [0.207, inf) (PASS), but units silent on every class rise 0.126 -> 0.492 and among the units that fire the share falls "
           "0.143 -> 0.017, rise -0.126 [-0.154, inf) vs > 0 (default, R = 24, b = 2; ci, R = 16: 0.241 [0.191, inf) and -0.126 [-0.156, inf)); "
           "the firing units fire on nearly every class (pairs with p_kc >= 0.9: 0.25 -> 0.41); the label-trained teacher's share falls too "
           "(0.294 -> 0.146)")


@pytest.mark.xfail(PROFILE.name in ("ci", "default"), reason=FINDING, strict=True)
@fc_settings()
@given(regime=REGIMES)
@example(regime=UNIT_PAPER)
def test_activation_rates(fc, regime: FiguresRegime) -> None:
    fc.check(check_activation_rates, paper_families, regime)
