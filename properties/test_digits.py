"""Feature contamination on real images: scikit-learn's handwritten digits with a random border.

Zhang et al. ICML 2024, Section 5 and Figure 6 (CIFAR-10 padded with a coloured border: the
network learns the border's colour) and Section 2, Figure 1 (a student that fits an OOD-robust
teacher's representation still fails OOD), brought to images that ship offline. Two digit
classes are ``y = +1, -1``; each 8x8 image gets a border of ``b`` pixels (``b = 2``: 12x12, 80
border pixels) drawn ``U[0,1]`` independently of the label afresh for every SGD batch; OOD test
data are the same test images with the border negated (paired). The network and update are the
theory setting's (``m = 64``, fixed ``+-1/m`` output layer, hinge loss, online SGD with
``eta = 0.05``, ``B = 32``, 4 000 steps, ``sigma0 = 1/sqrt(D)``); ReLU and identity run on
identical seeds, splits, inits and batches. ``G_k`` is neuron ``k``'s learned weight
(``w_k(T) - w_k(0)``) averaged over the border pixels, ``C_k`` its mean absolute learned weight
over the image pixels. Every statistic is one number per replicate (seed); intervals are t
intervals over replicates at the suite's per-interval level.

Thresholds were fixed from figures measured before this module was written (3 digit pairs, 8
replicates, a 64-pixel border: ratio ReLU 0.24-0.28 vs identity 0.05-0.06; paired hinge gap
ReLU 0.41-0.44 vs identity 0.02-0.06; distillation below) and are not tuned to this code.

* ``digits/contamination``: ReLU ``mean_k |G_k| / mean_k C_k`` >= 0.12 (half the smallest ratio
  measured before, so that other pairs and the 36-pixel border of ``b = 1`` have room, while a
  network that learns no border, identity at about 0.05, stays below); the paired ReLU - identity
  difference of that ratio >= 0.08 (about 40% of the difference measured before).
* ``digits/border-sign``: Lemma 1.1: an asymmetric ReLU neuron's border update has the sign of
  ``a_k y_k > 0``, so ReLU's learned border weights are positive on average for the neurons of
  *both* classes: ``mean_{k in class c} G_k / mean_k C_k > 0`` for ``c = +1`` and ``c = -1`` (the
  threshold 0 is the claim). For identity the indicator is absent: every neuron's update is
  ``a_k`` times one vector, so the two classes' border weights cancel; the mean over all neurons
  of ``G_k / mean C_k`` lies inside +-0.02 (a tenth of ReLU's ratio). The report shows the learned
  weights as 12x12 images, averaged over each class's neurons, ReLU beside identity (the analog
  of the paper's Figure 6).
* ``digits/ood-gap``: paired test-set hinge risk ``L_OOD - L_ID`` for ReLU >= 0.1 (measured
  0.41-0.44 with 64 border pixels; with ``b = 1``'s 36 pixels the border's share of the
  pre-activation, and the gap with it, is about half, so 0.1 is half again); the paired ReLU -
  identity difference of the gap >= 0.05 (identity's gap was 0.02-0.06).
* ``digits/distillation`` (Figure 1): teacher = a 10-class ReLU network (width 64, Adam) trained on
  the *unbordered* images; its hidden layer is the target and ignores the border by construction.
  A ReLU student (two layers, biases, Adam 3e-3, MSE) and a linear student ``W x + b`` fit it on
  bordered images. Errors are relative to the target's mean square on the test images. Measured
  before (width 256, 3 000 steps, 4 seeds): ReLU ID 0.0016 vs OOD 0.33 (about 200x), teacher's
  head on the student's representation 0.975 -> 0.919; linear 0.0098 vs 0.039 (about 4x), 0.969
  -> 0.952. Claims: ReLU relative ID error <= 0.01 (it fits); ``log10(OOD / ID)`` >= ``log10 20``
  (many times: a tenth of the 200x measured); the teacher's head loses >= 0.02 accuracy OOD on the
  ReLU student's representation (a third of the 0.056 measured); and the paired ReLU - linear
  difference of ``log10(OOD / ID)`` >= 1 (the ReLU student is ten times more affected; measured
  about 1.7). The linear student is not claimed immune: with a finite image set and Adam its
  OOD error also grows. Replicates: at least 48 (48 under ``ci`` and ``default``), for a fresh-seed
  fail rate under 1e-3 (the reason is beside ``R_DISTILL``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from fc_check.common import mean_at_least, mean_at_most, mean_inside, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import SEEDS
from fc_check.verdict import Outcome, Plot
from fc_model import SGD, Activation, Network
from fc_model.digits import PIXELS, DigitsDistillation, DigitsRun, DigitsTask, as_images, distill_digits, train_digits

R = active_profile().replicates


@dataclass(frozen=True)
class DigitsRegime:
    positive: int = 3
    negative: int = 8
    border: int = 2
    m: int = 64
    eta: float = 0.05
    batch: int = 32
    steps: int = 4000
    replicates: int = 16
    seed: int = 0

    def task(self) -> DigitsTask:
        return DigitsTask(positive=self.positive, negative=self.negative, border=self.border)

    def sgd(self) -> SGD:
        return SGD(eta=self.eta, batch=self.batch, steps=self.steps)


@dataclass(frozen=True)
class DigitsModel:
    """What a check trains: the task (data, border laws) and the network."""

    task: DigitsTask
    network: Network


def paper_digits(regime: DigitsRegime, activation: str) -> DigitsModel:
    return DigitsModel(regime.task(), Network(m=regime.m, activation=Activation(activation)))


@lru_cache(maxsize=8)
def _run(model: DigitsModel, sgd: SGD, replicates: int, seed: int, device: str) -> DigitsRun:
    """``train_digits`` memoised within a worker: three claims read the same two runs."""
    return train_digits(model.task, model.network, sgd, replicates, seed, device=device)


def runs(make_model, regime: DigitsRegime, device: str) -> tuple[DigitsRun, DigitsRun]:  # noqa: ANN001
    """The ReLU and identity runs of ``make_model`` on the regime's seed (identical splits, inits, batches)."""
    return tuple(_run(make_model(regime, a), regime.sgd(), regime.replicates, regime.seed, device) for a in ("relu", "identity"))  # type: ignore[return-value]


def ratio(run: DigitsRun) -> np.ndarray:
    """Per replicate, ``mean_k |G_k| / mean_k C_k``."""
    return per_replicate(run.border.abs().mean(-1) / run.image.mean(-1))


def class_border(run: DigitsRun, own: int) -> np.ndarray:
    """Per replicate, the mean ``G_k`` over the neurons of own class ``own``, over ``mean_k C_k``."""
    half = run.border.shape[-1] // 2
    part = run.border[:, :half] if own > 0 else run.border[:, half:]
    return per_replicate(part.mean(-1) / run.image.mean(-1))


def check_contamination(make_model, regime: DigitsRegime, *, level: float, device: str, ratio_min: float = 0.12, contrast_min: float = 0.08) -> Outcome:  # noqa: ANN001
    relu, ident = runs(make_model, regime, device)
    claim = "digits/contamination"
    r, i = ratio(relu), ratio(ident)
    note = f"identity {float(i.mean()):.3g}"
    return Outcome([mean_at_least(claim, "ReLU mean|G_k| / mean C_k (border vs image pixels)", r, ratio_min, level, note=note),
                    mean_at_least(claim, "ReLU - identity, mean|G_k| / mean C_k (paired)", r - i, contrast_min, level)], asdict(regime), regime.seed)


def weights_figure(relu: DigitsRun, ident: DigitsRun) -> Plot:
    """Learned first-layer weights as bordered images, mean over each class's neurons (and replicates)."""
    b = relu.task.border
    panels = []
    for name, run in (("ReLU", relu), ("identity", ident)):
        half = run.learned.shape[1] // 2
        for cls, sl in (("+1", slice(None, half)), ("-1", slice(half, None))):
            mean = run.learned[:, sl].double().mean((0, 1))
            panels.append((f"{name}, class {cls} neurons\nborder mean {float(mean[PIXELS:].mean()):+.2g}", as_images(mean, b).numpy()))

    def draw(ax) -> None:  # noqa: ANN001
        from matplotlib.patches import Rectangle

        ax.axis("off")
        for n, (title, img) in enumerate(panels):
            inset = ax.inset_axes([0.01 + 0.25 * n, 0.12, 0.225, 0.76])
            lim = float(np.abs(img).max()) or 1.0  # symmetric limits: the colour map is centred at 0
            im = inset.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
            inset.add_patch(Rectangle((b - 0.5, b - 0.5), 8, 8, fill=False, edgecolor="black", linewidth=0.8))
            inset.set_xticks([])
            inset.set_yticks([])
            inset.set_title(title, fontsize=6)
            cb = ax.figure.colorbar(im, cax=inset.inset_axes([0.0, -0.14, 1.0, 0.07]), orientation="horizontal")  # its own inset: tight_layout-safe
            cb.ax.tick_params(labelsize=5)
        ax.set_title(f"learned weights w(T) - w(0), digits {relu.task.positive} (+1) vs {relu.task.negative} (-1)\n"
                     "mean over neurons and replicates; inside the square: the image, outside: the border", fontsize=7)

    return Plot("digits/border-sign", "Learned first-layer weights, ReLU beside identity (Figure 6 analog)", draw)


def check_border_sign(make_model, regime: DigitsRegime, *, level: float, device: str, identity_band: float = 0.02) -> Outcome:  # noqa: ANN001
    relu, ident = runs(make_model, regime, device)
    claim = "digits/border-sign"
    fs = [mean_at_least(claim, f"ReLU mean G_k over class {c:+d} neurons / mean C_k", class_border(relu, c), 0.0, level, strict=True) for c in (1, -1)]
    overall = per_replicate(ident.border.mean(-1) / ident.image.mean(-1))
    fs.append(mean_inside(claim, "identity mean G_k over all neurons / mean C_k", overall, -identity_band, identity_band, level,
                          note=f"identity class means {float(class_border(ident, 1).mean()):.3g}, {float(class_border(ident, -1).mean()):.3g}"))
    return Outcome(fs, asdict(regime), regime.seed, [weights_figure(relu, ident)])


def check_ood_gap(make_model, regime: DigitsRegime, *, level: float, device: str, gap_min: float = 0.1, contrast_min: float = 0.05) -> Outcome:  # noqa: ANN001
    relu, ident = runs(make_model, regime, device)
    claim = "digits/ood-gap"
    g_relu = per_replicate(relu.hinge_ood - relu.hinge_id)
    g_ident = per_replicate(ident.hinge_ood - ident.hinge_id)
    note = (f"ReLU L_ID {float(relu.hinge_id.mean()):.3g}, 0-1 error ID {float(relu.err_id.mean()):.3g} -> OOD {float(relu.err_ood.mean()):.3g}; "
            f"identity gap {float(g_ident.mean()):.3g}")
    return Outcome([mean_at_least(claim, "ReLU test hinge risk L_OOD - L_ID (paired)", g_relu, gap_min, level, note=note),
                    mean_at_least(claim, "ReLU - identity, L_OOD - L_ID (paired)", g_relu - g_ident, contrast_min, level)], asdict(regime), regime.seed)


@dataclass(frozen=True)
class DistillRegime:
    border: int = 2
    width: int = 256
    steps: int = 3000
    batch: int = 64
    replicates: int = 32
    seed: int = 0

    def config(self) -> DigitsDistillation:
        return DigitsDistillation(border=self.border, width=self.width, steps=self.steps, batch=self.batch)


def paper_distillation(regime: DistillRegime) -> DigitsDistillation:
    return regime.config()


def check_distillation(make_config, regime: DistillRegime, *, level: float, device: str, id_max: float = 0.01, ratio_min: float = 20.0,  # noqa: ANN001
                       probe_loss_min: float = 0.02, contrast_min: float = 1.0) -> Outcome:
    res = distill_digits(make_config(regime), regime.replicates, regime.seed, device=device)
    claim = "digits/distillation"
    relu, lin = res.relu, res.linear
    log_relu = per_replicate((relu.rel_mse_ood / relu.rel_mse_id).log10())
    log_lin = per_replicate((lin.rel_mse_ood / lin.rel_mse_id).log10())
    note = (f"teacher accuracy {float(res.teacher_acc.mean()):.3f}; ReLU student OOD {float(relu.rel_mse_ood.mean()):.3g}; linear student ID "
            f"{float(lin.rel_mse_id.mean()):.3g}, OOD {float(lin.rel_mse_ood.mean()):.3g}, head accuracy {float(lin.probe_acc_id.mean()):.3f} -> {float(lin.probe_acc_ood.mean()):.3f}")
    fs = [mean_at_most(claim, "ReLU student relative representation error, ID", per_replicate(relu.rel_mse_id), id_max, level),
          mean_at_least(claim, "ReLU student log10(OOD / ID representation error)", log_relu, float(np.log10(ratio_min)), level, note=f"threshold log10 {ratio_min:g}"),
          mean_at_least(claim, "teacher's head on the ReLU student: accuracy ID - OOD", per_replicate(relu.probe_acc_id - relu.probe_acc_ood), probe_loss_min, level,
                        note=f"{float(relu.probe_acc_id.mean()):.3f} -> {float(relu.probe_acc_ood.mean()):.3f}"),
          mean_at_least(claim, "ReLU - linear student, log10(OOD / ID error) (paired)", log_relu - log_lin, contrast_min, level, note=note)]

    def draw(ax) -> None:  # noqa: ANN001
        names = ["ReLU student", "linear student"]
        ids = [float(relu.rel_mse_id.mean()), float(lin.rel_mse_id.mean())]
        oods = [float(relu.rel_mse_ood.mean()), float(lin.rel_mse_ood.mean())]
        ax.bar([0, 1], ids, width=0.35, label="ID")
        ax.bar([0.35, 1.35], oods, width=0.35, label="OOD (border negated)")
        ax.set_yscale("log")
        ax.set_xticks([0.17, 1.17], names)
        ax.set_ylabel("representation error / target mean square")
        ax.set_title(f"border {regime.border}, R = {regime.replicates} (means)\nteacher's head accuracy ID -> OOD: ReLU student "
                     f"{float(relu.probe_acc_id.mean()):.3f} -> {float(relu.probe_acc_ood.mean()):.3f}, "
                     f"linear {float(lin.probe_acc_id.mean()):.3f} -> {float(lin.probe_acc_ood.mean()):.3f}", fontsize=7)
        ax.legend(fontsize=7)

    return Outcome(fs, asdict(regime), regime.seed, [Plot(claim, "Representation error of the students, ID vs OOD (Figure 1 analog)", draw)])


PAIRS = st.lists(st.integers(min_value=0, max_value=9), min_size=2, max_size=2, unique=True)
REGIMES = st.builds(lambda p, b, s: DigitsRegime(positive=p[0], negative=p[1], border=b, replicates=R, seed=s), PAIRS, st.sampled_from((1, 2)), SEEDS)
PAPER = DigitsRegime(replicates=R)
# twice the profile's replicates: the head's accuracy loss varies across replicates (sd about 0.03 in a trial
# of the implementation at 16), which at the suite's per-interval level needs about 30 replicates to resolve
# At least 48 replicates (ci ran 2 R = 32 until the calibration study): its power pool at the paper's model
# (128 fresh replicates) gave the head's accuracy loss a mean of 0.075 and an sd of 0.043 against >= 0.02, and a
# fresh-seed fail rate of 0.002 [0.0005, 0.005] at 32 (noncentral t 0.038); at 48 the noncentral t gives 1.7e-4
R_DISTILL = max(48, 2 * R)
DISTILL_REGIMES = st.builds(DistillRegime, border=st.sampled_from((1, 2)), replicates=st.just(R_DISTILL), seed=SEEDS)
DISTILL_PAPER = DistillRegime(replicates=R_DISTILL)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_contamination(fc, regime: DigitsRegime) -> None:
    fc.check(check_contamination, paper_digits, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_border_sign(fc, regime: DigitsRegime) -> None:
    fc.check(check_border_sign, paper_digits, regime)


@fc_settings()
@given(regime=REGIMES)
@example(regime=PAPER)
def test_ood_gap(fc, regime: DigitsRegime) -> None:
    fc.check(check_ood_gap, paper_digits, regime)


@fc_settings(heavy=True)
@given(regime=DISTILL_REGIMES)
@example(regime=DISTILL_PAPER)
def test_distillation(fc, regime: DistillRegime) -> None:
    fc.check(check_distillation, paper_distillation, regime)

