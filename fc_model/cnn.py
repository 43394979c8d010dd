"""A small convolutional network on the handwritten digits with a constant-colour padded border.

The paper's Figure 6 (facts from the authors' public repository trzhang0116/feature-contamination,
``cifar/``) pads CIFAR-10 images by 8 pixels of the constant colour (150, 50, 50), random-crops
them back to 32 x 32, trains a ResNet-32 and visualises its deep features by activation
maximisation: on the bordered data they take the border's colour. This module is the offline
analog on scikit-learn's bundled 8 x 8 digits (the data, splits and image constants of
``fc_model.digits``):

* **Images.** Each grey digit (pixels in ``[0, 1]``, the same value in the three colour channels)
  is padded by ``pad`` pixels of a border and cropped back to ``crop x crop`` at a random offset,
  drawn afresh for every training image (and once per test image), so the border's width on
  each side varies while the digit stays whole (``pad = 3``, ``crop = 12``: 80 of the 144 pixels
  are border, 1 to 3 on each side). A border is a colour (``Border.colour``, RGB in ``[0, 1]``),
  or, for a deliberately broken border, zero-mean noise: every border pixel and channel drawn
  ``colour x U[-1, 1]`` afresh for each image. No border is the colour ``(0, 0, 0)``, the digits'
  own background. The digits carry no colour (chroma); a coloured border is the only coloured
  thing in the data and is independent of the label: an uncorrelated feature.
* **Network.** ``conv 3x3 -> ReLU -> 2x2 max-pool -> conv 3x3 -> ReLU (-> conv 3x3 -> ReLU) ->
  linear head`` on the flattened last map, ``len(classes)`` classes (padding 1 in every conv, so
  the last conv layer keeps a ``crop/2 x crop/2`` map aligned with the image; by default 8 and 16
  channels), cross-entropy, Adam, PyTorch's default init (``U(+-1/sqrt(fan_in))`` for weights and
  biases), mini-batches drawn with replacement.
* **Arms.** ``train_cnn`` trains one network per *arm* (a training border) and replicate, all
  batched as the groups of grouped convolutions (no loop over seeds or arms). Every arm of a
  replicate has the same split, init, training images and crop offsets: only the border differs.
* **Measurements**, on the device, crossing to the host once: test accuracy under every test
  border; activation-maximising inputs of the last conv layer's channels; Grad-CAM on the last
  conv layer for the correct class (see ``train_cnn``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from fc_model.config import _finite, _int_at_least
from fc_model.data import generator, uniforms
from fc_model.digits import CLASSES, IMAGE, _digits, split
from fc_model.host import groups_to_host
from fc_model.model import resolve_device

BORDER_KINDS = ("constant", "noise")
GREY = 0.5  # the neutral input of the feature visualisation (the authors pull towards grey)


@dataclass(frozen=True)
class Border:
    """A border: every border pixel the colour ``colour`` (``kind = "constant"``), or zero-mean
    noise ``colour x U[-1, 1]`` per pixel and channel, drawn afresh for every image (``"noise"``)."""

    colour: tuple[float, float, float] = (150 / 255, 50 / 255, 50 / 255)
    kind: str = "constant"

    def __post_init__(self) -> None:
        if not isinstance(self.colour, tuple) or len(self.colour) != 3:
            raise ValueError(f"colour must be a tuple of 3 channel values, got {self.colour!r}")
        for v in self.colour:
            _finite("colour", v)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"colour channels must be in [0, 1], got {self.colour!r}")
        if self.kind not in BORDER_KINDS:
            raise ValueError(f"kind must be one of {BORDER_KINDS}, got {self.kind!r}")

    def label(self) -> str:
        rgb = ", ".join(f"{round(255 * v)}" for v in self.colour)
        return f"({rgb})" if self.kind == "constant" else f"noise ±({rgb})"


BRICK = Border()  # the authors' border colour (150, 50, 50)
NO_BORDER = Border((0.0, 0.0, 0.0))


def hue_reversed(border: Border) -> Border:
    """The colour reflected through its own grey level (same mean over channels, opposite chroma):
    (150, 50, 50) becomes (17, 117, 117)."""
    g = sum(border.colour) / 3
    return Border(tuple(min(1.0, max(0.0, 2 * g - v)) for v in border.colour), border.kind)  # type: ignore[arg-type]


def chroma_direction(border: Border) -> torch.Tensor:
    """The unit vector of ``border.colour`` minus its grey level (3 channels; zero for a grey colour)."""
    c = torch.tensor(border.colour, dtype=torch.float64)
    c = c - c.mean()
    n = c.norm()
    return c / n if n > 0 else c


@dataclass(frozen=True)
class CnnSetting:
    pad: int = 3
    crop: int = 12
    channels: tuple[int, ...] = (8, 16)  # per conv layer: 2 or 3 layers
    classes: tuple[int, ...] = tuple(range(CLASSES))
    test_fraction: float = 0.3
    steps: int = 300
    batch: int = 32
    lr: float = 1e-2
    vis_steps: int = 100  # projected gradient ascent steps of the feature visualisation
    vis_lr: float = 0.05
    vis_l2: float = 0.5  # weight of the L2 pull towards grey, per pixel and channel
    cam_images: int = 4  # test images kept (replicate 0) for the Grad-CAM picture

    def __post_init__(self) -> None:
        _int_at_least("pad", self.pad, 0)
        _int_at_least("crop", self.crop, IMAGE)
        if self.crop > IMAGE + 2 * self.pad:
            raise ValueError(f"crop must be in [{IMAGE}, {IMAGE + 2 * self.pad}] (8 + 2 pad: the digit stays whole), got {self.crop}")
        if self.crop % 2:
            raise ValueError(f"crop must be even (one 2x2 max-pool), got {self.crop}")
        if not isinstance(self.channels, tuple) or not 2 <= len(self.channels) <= 3:
            raise ValueError(f"channels must be a tuple of 2 or 3 conv widths, got {self.channels!r}")
        for c in self.channels:
            _int_at_least("channels", c, 1)
        if not isinstance(self.classes, tuple) or len(self.classes) < 2 or len(set(self.classes)) != len(self.classes) or \
                not all(isinstance(c, int) and 0 <= c < CLASSES for c in self.classes):
            raise ValueError(f"classes must be a tuple of at least 2 different digits 0-9, got {self.classes!r}")
        _finite("test_fraction", self.test_fraction)
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        for name, low in (("steps", 0), ("batch", 1), ("vis_steps", 0), ("cam_images", 1)):
            _int_at_least(name, getattr(self, name), low)
        for name in ("lr", "vis_lr", "vis_l2"):
            _finite(name, getattr(self, name))
            if getattr(self, name) < 0 or (name != "vis_l2" and getattr(self, name) == 0):
                raise ValueError(f"{name} must be > 0 (vis_l2 >= 0), got {getattr(self, name)}")

    @property
    def side(self) -> int:
        """Side of the padded image before the crop."""
        return IMAGE + 2 * self.pad

    @property
    def cam_side(self) -> int:
        """Side of the last conv layer's map (one 2x2 max-pool)."""
        return self.crop // 2


@dataclass(frozen=True)
class CnnRun:
    """One run, on the host. ``arms`` index the first dimension of every per-arm tensor."""

    arms: tuple[Border, ...]
    test_borders: tuple[Border, ...]
    acc: torch.Tensor  # arms x R x test_borders: test accuracy
    train_acc: torch.Tensor  # arms x R: accuracy on the training images with the arm's own border (its last crops)
    hue: torch.Tensor  # arms x R x channels: hue projection of each channel's maximiser (see train_cnn)
    vis_gain: torch.Tensor  # arms x R x channels: the channel's mean pre-activation, maximiser minus grey
    cam_share: torch.Tensor  # arms x R: mean share of the Grad-CAM mass on border pixels (test images, test_borders[0])
    cam_valid: torch.Tensor  # arms x R: share of those images whose map has positive mass
    area_share: torch.Tensor  # R: the border's share of the map's cells (area), mean over the same images
    maximisers: torch.Tensor  # arms x channels x 3 x crop x crop (replicate 0)
    cam_pictures: torch.Tensor  # cam_images x 3 x crop x crop (replicate 0, test_borders[0])
    cam_maps: torch.Tensor  # arms x cam_images x cam_side x cam_side
    cam_cells: torch.Tensor  # cam_images x cam_side x cam_side: each cell's share of border pixels
    cam_labels: torch.Tensor  # cam_images


class _ChannelsLastGradient(torch.autograd.Function):
    """The identity, whose backward hands the gradient on in channels-last storage.

    The last map is read flattened (``logits``), so its gradient comes back in the default layout
    while the ReLU's output is channels-last, and ReLU's backward on two layouts took 12.7 ms a
    call against 1.1 ms on one (a quarter of the CNN's training time, one AMD EPYC core). One copy
    of the gradient puts both on one layout; the values are unchanged."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:  # noqa: ARG004
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:  # noqa: ARG004
        return grad.contiguous(memory_format=torch.channels_last)


def _conv_params(cfg: CnnSetting, gen: torch.Generator, R: int, dtype: torch.dtype) -> list[torch.Tensor]:
    """PyTorch's default init (``U(+-1/sqrt(fan_in))``), replicate-major: conv weights ``R x out x in x 3 x 3``,
    biases ``R x out``, then the head ``R x classes x (channels[-1] cam_side^2)`` and its bias."""

    def u(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
        b = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen, device=gen.device, dtype=dtype) * 2 - 1) * b

    out: list[torch.Tensor] = []
    c_in = 3
    for c in cfg.channels:
        out += [u((R, c, c_in, 3, 3), 9 * c_in), u((R, c), 9 * c_in)]
        c_in = c
    k, f = len(cfg.classes), c_in * cfg.cam_side**2
    return out + [u((R, k, f), f), u((R, k), f)]


class _Nets:
    """``G`` networks (arms x replicates) as the groups of grouped convolutions.

    Inputs are ``n x G x 3 x H x W`` (every net its own images); parameters are stored
    ``G``-major, so one Adam over them is ``G`` independent Adams."""

    def __init__(self, params: list[torch.Tensor], n_conv: int) -> None:
        self.params = params
        self.n_conv = n_conv
        self.G = params[0].shape[0]

    def features(self, x: torch.Tensor, *, pre: bool = False) -> torch.Tensor:
        """The last conv layer's map, ``n x G x C x h x w`` (after its ReLU, or before it with ``pre``)."""
        n, G = x.shape[0], self.G
        # channels-last storage: grouped convolutions run about 1.5x faster on CPU than in the default layout
        h = x.reshape(n, G * 3, *x.shape[-2:]).contiguous(memory_format=torch.channels_last)
        for i in range(self.n_conv):
            w, b = self.params[2 * i], self.params[2 * i + 1]
            h = F.conv2d(h, w.reshape(-1, *w.shape[2:]), b.reshape(-1), padding=1, groups=G)
            if i == self.n_conv - 1 and pre:
                break
            h = torch.relu(h)
            if i == 0:
                h = F.max_pool2d(h, 2)
        return _ChannelsLastGradient.apply(h).view(n, G, -1, *h.shape[-2:])

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """``n x G x classes``: each net's linear head on its flattened last conv map."""
        a = self.features(x).flatten(-3)  # n x G x (C h w)
        W, b = self.params[-2], self.params[-1]
        return torch.einsum("ngf,gkf->ngk", a, W) + b

    def cam_weights(self) -> torch.Tensor:
        """Grad-CAM's channel weights, ``G x classes x C``: ``d logit_y / d A_k(pos)`` is the head's weight
        ``W[y, k, pos]`` (the logits are linear in the last map), averaged over positions."""
        W = self.params[-2]
        C = self.params[2 * self.n_conv - 2].shape[1]
        return W.view(W.shape[0], W.shape[1], C, -1).mean(-1)


def _canvases(images: torch.Tensor, idx: torch.Tensor, cfg: CnnSetting) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded digits and border masks, flat: ``idx`` (``... ``) of images -> ``... x side^2`` each."""
    side, p = cfg.side, cfg.pad
    canvas = torch.zeros((*idx.shape, side, side), dtype=images.dtype, device=images.device)
    canvas[..., p : p + IMAGE, p : p + IMAGE] = images[idx].view(*idx.shape, IMAGE, IMAGE)
    mask = torch.ones((side, side), dtype=images.dtype, device=images.device)
    mask[p : p + IMAGE, p : p + IMAGE] = 0
    return canvas.flatten(-2), mask.flatten().expand(*idx.shape, side * side)


def _crop(flat: torch.Tensor, offsets: torch.Tensor, cfg: CnnSetting) -> torch.Tensor:
    """``... x side^2`` -> ``... x crop x crop`` at per-image offsets (``... x 2``)."""
    ar = torch.arange(cfg.crop, device=flat.device)
    rows = (offsets[..., 0, None] + ar) * cfg.side  # ... x crop
    cols = offsets[..., 1, None] + ar
    index = (rows[..., :, None] + cols[..., None, :]).flatten(-2)
    return flat.gather(-1, index).view(*offsets.shape[:-1], cfg.crop, cfg.crop)


def _offsets(gen: torch.Generator, shape: tuple[int, ...], cfg: CnnSetting) -> torch.Tensor:
    return torch.randint(cfg.side - cfg.crop + 1, (*shape, 2), generator=gen, device=gen.device)


def _paint(grey: torch.Tensor, mask: torch.Tensor, border: Border, gen: torch.Generator | None) -> torch.Tensor:
    """Colour images (``... x 3 x crop x crop``) from grey digits and border masks (``... x crop x crop``)."""
    colour = torch.tensor(border.colour, dtype=grey.dtype, device=grey.device).view(3, 1, 1)
    img = grey.unsqueeze(-3).expand(*grey.shape[:-2], 3, *grey.shape[-2:])
    if border.kind == "constant":
        return img + mask.unsqueeze(-3) * colour
    if gen is None:
        raise ValueError("a generator is required for a noise border")
    noise = uniforms(gen, tuple(img.shape), grey.dtype) * 2 - 1
    return img + mask.unsqueeze(-3) * colour * noise


def _arm_images(grey: torch.Tensor, mask: torch.Tensor, borders: tuple[Border, ...], gen: torch.Generator) -> torch.Tensor:
    """``R x n`` grey crops painted with each border -> ``n x (arms R) x 3 x crop x crop`` (arm-major groups)."""
    painted = torch.stack([_paint(grey, mask, b, gen) for b in borders])  # arms x R x n x 3 x H x W
    return painted.flatten(0, 1).transpose(0, 1)


def train_cnn(cfg: CnnSetting, arms: tuple[Border, ...], test_borders: tuple[Border, ...], replicates: int, seed: int, *,
              device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> CnnRun:
    """Train ``len(arms) x replicates`` networks and measure them; results cross to the host once.

    Streams per seed: the split and the test crops from ``eval``; the init from ``init`` (one draw
    per replicate, copied to every arm); the training images and crop offsets from ``train`` (the
    same for every arm); noise borders and the visualisation's starting jitter from ``probe``.

    * **Accuracy** on the test images (the same images and crops for every arm) under each of
      ``test_borders``; on the training crops of the last step under the arm's own border.
    * **Feature visualisation** of every channel ``k`` of the last conv layer: projected gradient
      ascent from grey (``0.5``, plus a ``U(+-0.01)`` jitter, the same for every arm of a replicate) on ``mean_pos pre_k(x) - vis_l2 x
      mean (x - 0.5)^2`` (the channel's mean pre-activation over the map: it has a gradient where
      the ReLU is off), each step ``x <- clip(x + vis_lr g / rms(g), 0, 1)``. Its **hue
      projection** is ``sum_pix <chroma(x_pix), u> / sum_pix |chroma(x_pix)|`` (``chroma`` = a
      pixel's colour minus its grey level, ``u`` = the unit chroma of ``test_borders[0]``): +1
      when every pixel's colour departs from grey towards the border's hue, 0 on average for
      hues unrelated to it, in ``[-1, 1]``.
    * **Grad-CAM** on the last conv layer for the correct class ``y``, on the test images with
      ``test_borders[0]``: the logits are linear in the last map ``A``, so ``d logit_y / d A_k(pos)``
      is the head's weight ``W[y, k, pos]`` exactly, Grad-CAM's channel weight is its mean over
      positions ``alpha_k``, and the map is ``relu(sum_k alpha_k A_k)`` (no autograd needed). Its
      border share, per replicate, is ``sum map x b / sum map`` over all cells of all its test
      images, ``b`` the share of a cell's 2x2 input pixels that are border (maps with no positive
      mass weigh nothing; the share of maps with positive mass is returned as ``cam_valid``); the
      border's area share (the mean of ``b``) is returned beside it.
    """
    _int_at_least("replicates", replicates, 1)
    if not arms or not test_borders or not all(isinstance(b, Border) for b in (*arms, *test_borders)):
        raise ValueError("arms and test_borders must be non-empty tuples of Border")
    dev = resolve_device(device)
    R, A, B, K = replicates, len(arms), cfg.batch, len(cfg.classes)
    G = A * R
    x_all, labels_np = _digits()
    images = torch.tensor(x_all, device=dev, dtype=dtype)  # a copy: the cached array is read-only
    labels = torch.tensor(labels_np, device=dev)
    remap = torch.full((CLASSES,), -1, dtype=torch.long, device=dev)
    remap[torch.tensor(cfg.classes, device=dev)] = torch.arange(K, device=dev)
    eval_gen, train_gen, probe_gen = generator(seed, "eval", dev), generator(seed, "train", dev), generator(seed, "probe", dev)
    tr, te = split(labels, cfg.classes, cfg.test_fraction, eval_gen, R)  # R x n_train, R x n_test (image indices)
    n_tr = tr.shape[1]

    drawn = _conv_params(cfg, generator(seed, "init", dev), R, dtype)
    params = [p.unsqueeze(0).expand(A, *p.shape).reshape(G, *p.shape[1:]).clone().requires_grad_(True) for p in drawn]  # every arm starts equal
    nets = _Nets(params, len(cfg.channels))
    opt = torch.optim.Adam(params, lr=cfg.lr)

    def batch() -> tuple[torch.Tensor, torch.Tensor]:
        j = tr.gather(1, torch.randint(n_tr, (R, B), generator=train_gen, device=dev))  # R x B image indices
        canvas, mask = _canvases(images, j, cfg)
        off = _offsets(train_gen, (R, B), cfg)
        x = _arm_images(_crop(canvas, off, cfg), _crop(mask, off, cfg), arms, probe_gen)  # B x G x 3 x H x W
        y = remap[labels[j]].repeat(A, 1).T  # B x G
        return x, y

    x = y = None
    for _ in range(cfg.steps):
        x, y = batch()
        logits = nets.logits(x)
        loss = F.cross_entropy(logits.reshape(-1, K), y.reshape(-1), reduction="sum") / B  # a sum over nets: each gets its own mean
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    out: dict[str, dict[str, torch.Tensor]] = {}
    with torch.no_grad():
        for p in params:
            p.requires_grad_(False)
        if x is None:
            x, y = batch()
        train_acc = (nets.logits(x).argmax(-1) == y).to(dtype).mean(0).view(A, R)

        # test sets: the same images and crops for every arm; each test border painted on all of them
        canvas, mask = _canvases(images, te, cfg)
        off = _offsets(eval_gen, tuple(te.shape), cfg)
        grey, bmask = _crop(canvas, off, cfg), _crop(mask, off, cfg)  # R x n_test x H x W
        y_te = remap[labels[te]]  # R x n_test
        chunk = 128
        acc = []
        for tb in test_borders:
            correct = torch.zeros((G,), dtype=dtype, device=dev)
            for s in range(0, te.shape[1], chunk):
                xt = _arm_images(grey[:, s : s + chunk], bmask[:, s : s + chunk], (tb,) * A, probe_gen)
                yt = y_te[:, s : s + chunk].repeat(A, 1).T
                correct += (nets.logits(xt).argmax(-1) == yt).to(dtype).sum(0)
            acc.append(correct / te.shape[1])
        acc_t = torch.stack(acc, -1).view(A, R, len(test_borders))

        # Grad-CAM on test_borders[0] images, for the correct class
        cells = F.avg_pool2d(bmask.flatten(0, 1).unsqueeze(1), 2).view(R, te.shape[1], cfg.cam_side, cfg.cam_side)  # border share per cell
        num = torch.zeros((te.shape[1], G), dtype=dtype, device=dev)
        den = torch.zeros_like(num)
        W = nets.cam_weights()  # G x K x C

        def grad_cam(xt: torch.Tensor, yt: torch.Tensor) -> torch.Tensor:
            """``n x G x h x w`` maps of images ``xt`` for the classes ``yt`` (``n x G``)."""
            wy = W.unsqueeze(0).expand(yt.shape[0], -1, -1, -1).gather(2, yt[..., None, None].expand(-1, -1, 1, W.shape[-1])).squeeze(2)  # n x G x C
            return torch.relu(torch.einsum("ngc,ngchw->nghw", wy, nets.features(xt)))

        for s in range(0, te.shape[1], chunk):
            xt = _arm_images(grey[:, s : s + chunk], bmask[:, s : s + chunk], (test_borders[0],) * A, probe_gen)
            cam = grad_cam(xt, y_te[:, s : s + chunk].repeat(A, 1).T)
            cell = cells[:, s : s + chunk].transpose(0, 1).repeat(1, A, 1, 1)  # n x G x h x w
            num[s : s + chunk] = (cam * cell).sum((-1, -2))
            den[s : s + chunk] = cam.sum((-1, -2))
        # for the picture: test images spread over the (class-ordered) test set, replicate 0 of every arm
        shown = torch.arange(cfg.cam_images, device=dev) * max(1, te.shape[1] // cfg.cam_images) % te.shape[1]
        xs = _arm_images(grey[:, shown], bmask[:, shown], (test_borders[0],) * A, probe_gen)
        maps = grad_cam(xs, y_te[:, shown].repeat(A, 1).T)[:, 0::R].transpose(0, 1)  # arms x n x h x w
        # pooled over the replicate's test images: maps with no positive mass weigh nothing (a replicate
        # whose every map is empty gives 0/0 = NaN, which no interval clears)
        cam_share = (num.sum(0) / den.sum(0)).view(A, R)
        cam_valid = (den > 0).to(dtype).mean(0).view(A, R)
        area_share = cells.mean((-1, -2)).mean(-1)  # R

    # feature visualisation: one input per (net, channel) of the last conv layer
    C = cfg.channels[-1]
    x0 = torch.full((C, G, 3, cfg.crop, cfg.crop), GREY, dtype=dtype, device=dev)
    jitter = (uniforms(probe_gen, (C, R, 3, cfg.crop, cfg.crop), dtype) * 2 - 1) * 0.01  # one per replicate, the same for every arm
    vis = (x0 + jitter.repeat(1, A, 1, 1, 1)).requires_grad_(True)
    pick = torch.eye(C, dtype=dtype, device=dev)  # input k maximises channel k
    with torch.enable_grad():
        for _ in range(cfg.vis_steps):
            pre = nets.features(vis, pre=True).mean((-1, -2))  # C x G x C
            objective = torch.einsum("kgc,kc->kg", pre, pick) - cfg.vis_l2 * (vis - GREY).pow(2).mean((-1, -2, -3))
            (g,) = torch.autograd.grad(objective.sum(), vis)
            with torch.no_grad():
                rms = g.pow(2).mean((-1, -2, -3), keepdim=True).sqrt().clamp_min(1e-12)
                vis.add_(g / rms, alpha=cfg.vis_lr).clamp_(0.0, 1.0)
    with torch.no_grad():
        gain = torch.einsum("kgc,kc->kg", nets.features(vis, pre=True).mean((-1, -2)) - nets.features(x0, pre=True).mean((-1, -2)), pick)
        u = chroma_direction(test_borders[0]).to(dtype=dtype, device=dev).view(3, 1, 1)
        chroma = vis - vis.mean(-3, keepdim=True)  # C x G x 3 x H x W
        along = (chroma * u).sum(-3).sum((-1, -2))
        size = chroma.norm(dim=-3).sum((-1, -2)).clamp_min(torch.finfo(dtype).tiny)
        hue = (along / size).T.reshape(A, R, C)
        out["run"] = {"acc": acc_t, "train_acc": train_acc, "hue": hue, "vis_gain": gain.T.reshape(A, R, C), "cam_share": cam_share,
                      "cam_valid": cam_valid, "area_share": area_share, "maximisers": vis.detach()[:, 0::R].transpose(0, 1),
                      "cam_pictures": xs[:, 0], "cam_maps": maps, "cam_cells": cells[0, shown],
                      "cam_labels": torch.tensor(cfg.classes, device=dev)[y_te[0, shown]]}
    host = groups_to_host(out)["run"]  # the one crossing to the host
    return CnnRun(arms=arms, test_borders=test_borders, **host)
