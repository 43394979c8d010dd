"""Figure 6 with a convolutional network: the learned features of a CNN trained on digits with a
constant-colour border, Zhang et al. ICML 2024, §5 (facts from the authors' public repository
trzhang0116/feature-contamination, ``cifar/``: CIFAR-10 padded by 8 pixels of the colour
(150, 50, 50), random crop, a ResNet-32, features visualised by activation maximisation with an
L2 pull towards grey; on the bordered data the features show the border's colour).

The offline analog (``fc_model.cnn``): scikit-learn's 8 x 8 digits, grey, all ten classes, padded
by 3 pixels of the authors' colour (150, 50, 50) and cropped back to 12 x 12 at a random offset
(80 of 144 pixels are border); a two-layer CNN (8 and 16 channels, ReLU, a 2 x 2 max-pool, a
linear head), Adam 1e-2, batch 32, 300 steps. Per seed, a *bordered* net and an *unbordered* one
(trained on the same digits, crops, init and batches, with the border black, the digits' own
background) are trained side by side. The colour is the only coloured thing in the data and is
independent of the label. Every statistic is one number per replicate (seed); t intervals over
replicates at the suite's per-interval level. Replicates: 2.5 times the profile's (40 under ``ci``,
60 under ``default``), the fewest for which the prototypes' spread of the feature-visualisation
contrast (sd 0.30) resolves its margin at that level.

Thresholds were fixed from prototype runs of this configuration made before the checks were
written (seeds 1 and 2, 16 replicates each; the pinned regime is seed 0), each by the rule "half
the smaller of the two seeds' means" unless said otherwise:

* ``deep/feature-visualisation``: for every channel of the last conv layer, an activation
  maximiser (projected gradient ascent from grey on the channel's mean pre-activation with an L2
  pull towards grey, pixels kept in [0, 1]); its **hue projection** is ``sum_pix <chroma(x_pix), u>
  / sum_pix |chroma(x_pix)|``, ``chroma`` a pixel's colour minus its grey level and ``u`` the unit
  chroma of (150, 50, 50): +1 when every pixel departs from grey towards the border's hue, 0 on
  average for unrelated hues. Per replicate, the mean over channels. The unbordered net never sees
  colour (its colour weights stay at their random init), so its mean is 0 in law. Claim: bordered -
  unbordered (paired) >= 0.239 (prototypes 0.680 and 0.479; bordered 0.556 and 0.463, unbordered
  -0.125 and -0.016). The picture is the 16 maximisers of each net, replicate 0, side by side.
* ``deep/ood-gap``: the bordered net's test accuracy with its border minus without it (the same
  test images and crops) >= 0.224 (prototypes 0.491 and 0.448: 0.90-0.93 -> 0.41-0.48); and that
  drop minus the unbordered net's drop on the swap of the same two test sets (no border -> the
  bordered net's border) >= 0.069 (prototypes 0.148 and 0.138; the unbordered net lost 0.34 and
  0.31). A table gives both nets' accuracies with each border and with the hue-reversed border
  (17, 117, 117).
* ``deep/grad-cam``: Grad-CAM on the last conv layer for the correct class, on bordered test
  images; per replicate the share of the maps' mass (pooled over its test images) on border
  pixels. The baseline, chosen before any measurement, is the unbordered net's share on the same
  images (same seed, crops and init), not the border's area share (0.556): the area share ignores
  where a CNN's maps fall for other reasons (receptive fields, zero padding at the image edge),
  while the paired contrast varies only the training border. Claim: bordered - unbordered >= 0.05.
  The rule gives no margin (the prototypes' contrasts were -0.054 and 0.002, both nets near 0.39),
  so 0.05, a twentieth of the map's mass, is declared as the smallest shift the claim could mean.
  A replicate none of whose maps has positive mass (1 of 32 in the prototypes) has no share and is
  left out, and counted. The picture is four test images with both nets' maps overlaid.

Also measured in the prototypes: a border resampled as zero-mean noise (``colour x U[-1, 1]`` per
pixel and channel, the feature-visualisation mutant) gave a hue contrast of 0.06 (sd 0.47); a
head on the global average pool instead of the flattened map trained to 0.80-0.83 test accuracy
(against 0.90-0.96) and gave a Grad-CAM contrast of -0.09, so the flattened head was kept.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fc_check.common import mean_at_least, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import SEEDS
from fc_check.verdict import Outcome, Plot
from fc_model.cnn import BRICK, NO_BORDER, Border, CnnRun, CnnSetting, hue_reversed, train_cnn

# 2.5 x the profile's replicates (40 under ci, 60 under default): the fewest for which the prototypes'
# spread of the feature-visualisation contrast (sd 0.30) resolves its margin (0.24) at the suite's level
R = math.ceil(2.5 * active_profile().replicates)
# Thresholds, fixed before the check was written from prototype runs of this configuration (seeds 1 and
# 2, 16 replicates each; see the module docstring): half the smaller of the two seeds' means
PROTOTYPE = {"hue contrast": (0.6802, 0.4788), "drop": (0.4910, 0.4476), "excess": (0.1476, 0.1382), "cam contrast": (-0.0536, 0.0019)}
HUE_MIN = min(PROTOTYPE["hue contrast"]) / 2  # 0.239
DROP_MIN = min(PROTOTYPE["drop"]) / 2  # 0.224
EXCESS_MIN = min(PROTOTYPE["excess"]) / 2  # 0.069
CAM_MIN = 0.05  # the rule gives no margin (the prototypes' contrasts are -0.054 and 0.002): a twentieth of the map's mass


@dataclass(frozen=True)
class CnnRegime:
    pad: int = 3
    crop: int = 12
    steps: int = 300
    batch: int = 32
    replicates: int = R
    seed: int = 0

    def setting(self) -> CnnSetting:
        return CnnSetting(pad=self.pad, crop=self.crop, steps=self.steps, batch=self.batch)


@dataclass(frozen=True)
class CnnModel:
    """What a check trains: the setting, the bordered arm's border and the unbordered arm's."""

    setting: CnnSetting
    bordered: Border = BRICK
    unbordered: Border = NO_BORDER


def paper_cnn(regime: CnnRegime) -> CnnModel:
    return CnnModel(regime.setting())


@lru_cache(maxsize=4)
def _run(model: CnnModel, replicates: int, seed: int, device: str) -> CnnRun:
    """``train_cnn`` memoised within a worker: the three claims read the same run. Test borders: the
    bordered arm's (index 0), the unbordered arm's (1) and the first one hue-reversed (2, shown only)."""
    borders = (model.bordered, model.unbordered)
    return train_cnn(model.setting, borders, (*borders, hue_reversed(model.bordered)), replicates, seed, device=device)


def run(make_model, regime: CnnRegime, device: str) -> CnnRun:  # noqa: ANN001
    return _run(make_model(regime), regime.replicates, regime.seed, device)


def _mosaic(images: np.ndarray, cols: int) -> np.ndarray:
    """``n x 3 x H x W`` images in [0, 1] as one RGB picture, ``cols`` a row, white gaps between them."""
    n, _, h, w = images.shape
    rows = -(-n // cols)
    out = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1, 3))
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = images[i].transpose(1, 2, 0)
    return out


def maximiser_figure(res: CnnRun) -> Plot:
    """The maximisers of the last conv layer's channels (replicate 0), bordered net beside unbordered,
    and every replicate's mean hue projection for both nets."""
    names = (f"bordered {res.arms[0].label()}", f"unbordered {res.arms[1].label()}")
    grids = [(f"{names[a]} net\nhue projection {float(res.hue[a, 0].mean()):+.2f}", _mosaic(res.maximisers[a].double().numpy(), 4)) for a in (0, 1)]
    per_rep = [res.hue[a].double().mean(-1).numpy() for a in (0, 1)]

    def draw(ax) -> None:  # noqa: ANN001
        ax.axis("off")
        for n, (title, img) in enumerate(grids):
            inset = ax.inset_axes([0.0 + 0.34 * n, 0.02, 0.31, 0.8])
            inset.imshow(np.clip(img, 0, 1), interpolation="nearest")
            inset.set_xticks([])
            inset.set_yticks([])
            inset.set_title(title, fontsize=7)
        strip = ax.inset_axes([0.75, 0.1, 0.24, 0.72])
        jitter = np.linspace(-0.12, 0.12, len(per_rep[0]))
        for n, v in enumerate(per_rep):
            strip.scatter(n + jitter, v, s=6, alpha=0.7)
        strip.axhline(0, color="grey", linewidth=0.6)
        strip.set_xticks([0, 1], ["bordered", "unbordered"], fontsize=6)
        strip.tick_params(labelsize=6)
        strip.set_title(f"mean hue projection,\nall {len(per_rep[0])} replicates", fontsize=7)
        ax.set_title("activation maximisers of the last conv layer's 16 channels (12 x 12 inputs), replicate 0;\n"
                     "projected gradient ascent from grey; the border colour is (150, 50, 50)", fontsize=7)

    return Plot("deep/feature-visualisation", "Feature visualisation: maximisers of the bordered and the unbordered CNN (Figure 6 analog)", draw)


def check_feature_visualisation(make_model, regime: CnnRegime, *, level: float, device: str) -> Outcome:  # noqa: ANN001
    res = run(make_model, regime, device)
    claim = "deep/feature-visualisation"
    hue_b, hue_u = per_replicate(res.hue[0]), per_replicate(res.hue[1])
    note = f"bordered {float(hue_b.mean()):.3g}, unbordered {float(hue_u.mean()):.3g} (mean hue projection of the maximisers)"
    f = mean_at_least(claim, "bordered - unbordered mean hue projection of the maximisers (paired)", hue_b - hue_u, HUE_MIN, level, note=note)
    return Outcome([f], asdict(regime), regime.seed, [maximiser_figure(res)])


def check_ood_gap(make_model, regime: CnnRegime, *, level: float, device: str) -> Outcome:  # noqa: ANN001
    res = run(make_model, regime, device)
    claim = "deep/ood-gap"
    acc = res.acc.double()
    drop_b = per_replicate(acc[0, :, 0] - acc[0, :, 1])  # bordered net: own border -> no border
    drop_u = per_replicate(acc[1, :, 1] - acc[1, :, 0])  # unbordered net: no border -> the bordered net's border
    mean = acc.mean(1)
    note = (f"bordered net {mean[0, 0]:.3f} -> {mean[0, 1]:.3f}; unbordered net {mean[1, 1]:.3f} -> {mean[1, 0]:.3f}; "
            f"hue-reversed border: bordered {mean[0, 2]:.3f}, unbordered {mean[1, 2]:.3f}")
    fs = [mean_at_least(claim, "bordered net: test accuracy, own border - no border (paired)", drop_b, DROP_MIN, level, note=note),
          mean_at_least(claim, "bordered net's drop - unbordered net's drop when the border is added (paired)", drop_b - drop_u, EXCESS_MIN, level)]
    labels = [res.test_borders[0].label(), "none", f"hue-reversed {res.test_borders[2].label()}"]
    table = {"claim": claim, "title": f"test accuracy by test border (mean of {regime.replicates} replicates; rows: the training border)",
             "columns": ["net", *labels],
             "rows": [[f"bordered {res.arms[0].label()}", *(round(float(v), 4) for v in mean[0])],
                      [f"unbordered {res.arms[1].label()}", *(round(float(v), 4) for v in mean[1])]]}
    return Outcome(fs, asdict(regime), regime.seed, [], [table])


def cam_figure(res: CnnRun) -> Plot:
    """A few bordered test images, with the Grad-CAM map of each net overlaid (replicate 0)."""
    pics = res.cam_pictures.double().numpy()
    maps = res.cam_maps.double().numpy()  # arms x n x h x w
    cells = res.cam_cells.double().numpy()  # n x h x w: each cell's share of border pixels
    n = pics.shape[0]

    def draw(ax) -> None:  # noqa: ANN001
        ax.axis("off")
        rows = [("image", None), ("bordered net", 0), ("unbordered net", 1)]
        width = 0.8 / n
        for j, (name, _) in enumerate(rows):
            ax.text(0.0, 0.76 - j * 0.32, name, fontsize=7, ha="left", va="center", transform=ax.transAxes)
        for i in range(n):
            for j, (_, arm) in enumerate(rows):
                inset = ax.inset_axes([0.2 + i * width, 0.65 - j * 0.32, width * 0.92, 0.23])
                inset.imshow(np.clip(pics[i].transpose(1, 2, 0), 0, 1), interpolation="nearest")
                if arm is not None:
                    m = np.kron(maps[arm, i], np.ones((2, 2)))  # each cell covers 2 x 2 input pixels
                    inset.imshow(m / (m.max() or 1.0), cmap="jet", alpha=0.55, vmin=0, vmax=1, interpolation="nearest")
                    share = _share(maps[arm, i], cells[i])
                    inset.set_title(f"border share {share:.2f}" if share == share else "no positive mass", fontsize=5.5, pad=2)
                else:
                    inset.set_title(f"digit {int(res.cam_labels[i])}", fontsize=5.5, pad=2)
                inset.set_xticks([])
                inset.set_yticks([])
        ax.set_title("Grad-CAM for the correct class on bordered test images (replicate 0)\njet overlay, each map scaled to its maximum", fontsize=7)

    return Plot("deep/grad-cam", "Grad-CAM overlays, bordered net beside unbordered net (same bordered images)", draw)


def _share(cam: np.ndarray, cells: np.ndarray) -> float:
    """One map's share of its mass on border pixels (``cells``: each cell's share of border pixels)."""
    total = cam.sum()
    return float((cam * cells).sum() / total) if total > 0 else float("nan")


def check_grad_cam(make_model, regime: CnnRegime, *, level: float, device: str) -> Outcome:  # noqa: ANN001
    res = run(make_model, regime, device)
    claim = "deep/grad-cam"
    share_b, share_u = per_replicate(res.cam_share[0]), per_replicate(res.cam_share[1])
    kept = np.isfinite(share_b) & np.isfinite(share_u)  # a replicate whose every map is empty has no share: left out, counted
    note = (f"bordered {float(share_b[kept].mean()):.3g}, unbordered {float(share_u[kept].mean()):.3g}, border area {float(res.area_share.mean()):.3g}; "
            f"maps with positive mass: {float(res.cam_valid[0].mean()):.2f}, {float(res.cam_valid[1].mean()):.2f}; "
            f"replicates left out (no map with positive mass): {int((~kept).sum())}")
    f = mean_at_least(claim, "bordered - unbordered net's Grad-CAM mass share on border pixels, same bordered images (paired)", (share_b - share_u)[kept], CAM_MIN, level, note=note)
    return Outcome([f], asdict(regime), regime.seed, [cam_figure(res)])


# The three tests read one memoised training run per worker: under pytest -n a worker that runs none of them
# trains nothing, one that runs two or three trains once (xdist's loadgroup, which would keep them on one
# worker, assigns groups through the node id and has no effect under pytest 9.2, which no longer reads it).
REGIMES = st.builds(CnnRegime, replicates=st.just(R), seed=SEEDS)
PAPER = CnnRegime()
MEASURED = active_profile().name in ("ci", "default")  # the profiles whose pinned runs gave the findings below

# Findings of the pinned runs, recorded, not hidden: each test is a strict xfail under the profiles that
# measured it, so the day a claim passes CI fails and the finding is looked at again.
FINDING_FEATURE_VISUALISATION = (
    "the paired contrast of the maximisers' mean hue projection is 0.437 [0.205, inf) under ci (40 replicates; bordered 0.495, unbordered "
    "0.057) and 0.414 [0.232, inf) under default (60), against >= 0.239: the bordered net's maximisers lean to the border's hue (about 1.8 "
    "times the threshold), but the unbordered net's random hues (sd about 0.2 across seeds) keep the lower bound under the threshold at the "
    "suite's per-interval level")
FINDING_OOD_GAP = (
    "the bordered net loses 0.470 [0.373, inf) test accuracy without its border (0.914 -> 0.444, PASS), but its excess over the unbordered "
    "net's drop when the border is added (0.932 -> 0.591) is 0.129 [0.017, inf) under ci and 0.118 [0.017, inf) under default, against "
    ">= 0.069: an unseen border disturbs the unbordered net almost as much as losing its border disturbs the bordered one")
FINDING_GRAD_CAM = (
    "the bordered net's Grad-CAM puts 0.366 of its mass on border pixels against the unbordered net's 0.371 on the same images: paired "
    "contrast -0.004 [-0.089, inf) under ci, -0.016 [-0.083, inf) under default, against >= 0.05; both lie below the border's area share "
    "0.556: Grad-CAM for the correct class does not point at the border, though the maximisers take its colour")


@pytest.mark.xfail(MEASURED, reason=FINDING_FEATURE_VISUALISATION, strict=True)
@fc_settings(heavy=True)
@given(regime=REGIMES)
@example(regime=PAPER)
def test_feature_visualisation(fc, regime: CnnRegime) -> None:
    fc.check(check_feature_visualisation, paper_cnn, regime)


@pytest.mark.xfail(MEASURED, reason=FINDING_OOD_GAP, strict=True)
@fc_settings(heavy=True)
@given(regime=REGIMES)
@example(regime=PAPER)
def test_ood_gap(fc, regime: CnnRegime) -> None:
    fc.check(check_ood_gap, paper_cnn, regime)


@pytest.mark.xfail(MEASURED, reason=FINDING_GRAD_CAM, strict=True)
@fc_settings(heavy=True)
@given(regime=REGIMES)
@example(regime=PAPER)
def test_grad_cam(fc, regime: CnnRegime) -> None:
    fc.check(check_grad_cam, paper_cnn, regime)
