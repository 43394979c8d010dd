"""The handwritten-digits data: shapes, the split, the border stream, paired OOD sets, validation."""

from __future__ import annotations

import math

import pytest
import torch

from fc_model import SGD, Activation, Network, Uniform, generator
from fc_model.digits import (
    PIXELS,
    DigitsDistillation,
    DigitsTask,
    _batches,
    _digits,
    as_images,
    paired_sets,
    pixel_positions,
    split,
    train_digits,
)
from fc_model.network import closed_form_gradient, second_layer


def _labels() -> torch.Tensor:
    return torch.tensor(_digits()[1])


def test_images_are_scaled_to_unit_interval():
    x, y = _digits()
    assert x.shape == (1797, PIXELS) and y.shape == (1797,)
    assert x.min() == 0.0 and x.max() == 1.0


@pytest.mark.parametrize(("border", "dim"), [(1, 100), (2, 144)])
def test_shapes_and_pixel_layout(border: int, dim: int):
    task = DigitsTask(border=border)
    assert task.dim == dim and task.n_border == dim - 64
    pos = pixel_positions(border)
    assert sorted(pos.tolist()) == list(range(dim))
    vec = torch.cat([torch.ones(PIXELS), torch.zeros(task.n_border)])
    img = as_images(vec, border)
    assert img.shape == (task.side, task.side)
    inner = torch.zeros_like(img)
    inner[border : border + 8, border : border + 8] = 1
    assert torch.equal(img, inner)  # the first 64 internal coordinates are the image, row-major
    first_row = torch.zeros(dim)
    first_row[:8] = torch.arange(8, dtype=torch.float32)
    assert torch.equal(as_images(first_row, border)[border, border : border + 8], torch.arange(8, dtype=torch.float32))


def test_split_is_stratified_and_disjoint():
    labels = _labels()
    tr, te = split(labels, (3, 8), 0.3, generator(0, "eval"), 4)
    n3, n8 = int((labels == 3).sum()), int((labels == 8).sum())
    assert te.shape == (4, round(0.3 * n3) + round(0.3 * n8)) and tr.shape == (4, n3 + n8 - te.shape[1])
    for r in range(4):
        a, b = set(tr[r].tolist()), set(te[r].tolist())
        assert not a & b and len(a) == tr.shape[1] and len(b) == te.shape[1]
        assert set(labels[tr[r]].tolist()) == {3, 8} and int((labels[te[r]] == 3).sum()) == round(0.3 * n3)
    assert not torch.equal(tr[0].sort().values, tr[1].sort().values)  # each replicate has its own split


def _stream(task: DigitsTask, y_sign: float, steps: int = 6) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    labels = _labels()
    images = torch.tensor(_digits()[0])
    tr, _ = split(labels, (task.positive, task.negative), task.test_fraction, generator(1, "eval"), 3)
    y = torch.where(labels == task.positive, 1.0, -1.0)[tr] * y_sign
    sgd = SGD(batch=16, steps=steps)
    out = [(x.clone(), yb.clone()) for x, _, yb in _batches(task, images[tr], y, sgd, 3, generator(1, "train"), 1 << 14, 1.0)]
    return out, images[tr]


def test_batches_draw_training_images_and_a_unit_border():
    task = DigitsTask(border=2)
    stream, x_train = _stream(task, 1.0)
    assert len(stream) == 6
    for x, y in stream:
        assert x.shape == (3, 16, task.dim) and y.shape == (3, 16)
        border = x[..., PIXELS:]
        assert float(border.min()) >= 0.0 and float(border.max()) < 1.0
        for r in range(3):  # every image part is one of this replicate's training images
            match = (x[r, :, None, :PIXELS] == x_train[r][None]).all(-1).any(-1)
            assert bool(match.all())


def test_border_does_not_depend_on_the_label():
    """Same stream with every training label flipped: bit-identical borders (and images)."""
    task = DigitsTask()
    a, _ = _stream(task, 1.0)
    b, _ = _stream(task, -1.0)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, -yb)


def test_zero_mean_border_law():
    task = DigitsTask(background=Uniform(-1.0, 1.0))
    stream, _ = _stream(task, 1.0, steps=20)
    border = torch.cat([x[..., PIXELS:].reshape(-1) for x, _ in stream])
    assert float(border.min()) < -0.9 and abs(float(border.mean())) < 5 / math.sqrt(3 * border.numel())


def test_paired_ood_is_the_border_negated():
    images = torch.rand(2, 5, PIXELS)
    u = torch.rand(2, 5, 80)
    x_id, x_ood = paired_sets(images, u, Uniform(0.0, 1.0))
    assert torch.equal(x_id[..., :PIXELS], images) and torch.equal(x_ood[..., :PIXELS], images)
    assert torch.equal(x_ood[..., PIXELS:], -x_id[..., PIXELS:]) and torch.equal(x_id[..., PIXELS:], u)


def test_training_matches_a_plain_closed_form_loop():
    """The fused update used by ``train_digits`` against ``W -= eta * closed_form_gradient`` on the same stream.

    In float64: the two paths order their products differently, and in float32 a rounding
    difference could flip a hinge or activation indicator under another CPU's BLAS kernel."""
    task, R, seed, f64 = DigitsTask(border=1), 2, 5, torch.float64
    net, sgd = Network(m=8, activation=Activation("relu")), SGD(eta=0.5, batch=8, steps=40)
    run = train_digits(task, net, sgd, R, seed, dtype=f64)
    labels = _labels()
    images = torch.tensor(_digits()[0], dtype=f64)
    tr, _ = split(labels, (3, 8), task.test_fraction, generator(seed, "eval"), R)
    y = torch.where(labels == 3, 1.0, -1.0).to(f64)[tr]
    W0 = torch.randn((R, 8, task.dim), generator=generator(seed, "init"), dtype=f64) / math.sqrt(task.dim)
    W, a = W0.clone(), second_layer(8, f64)
    for x, _, yb in _batches(task, images[tr], y, sgd, R, generator(seed, "train"), 1 << 20, 1.0):
        W -= sgd.eta * closed_form_gradient(net.activation, W, x.contiguous(), yb, a)
    assert float(run.learned.abs().max()) > 1e-3  # it trained
    torch.testing.assert_close(run.learned, W - W0, rtol=0, atol=1e-5)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"positive": 3, "negative": 3}, "different digits"),
    ({"positive": 10}, "positive"),
    ({"negative": -1}, "negative"),
    ({"border": 0}, "border"),
    ({"test_fraction": 0.0}, "test_fraction"),
    ({"test_fraction": float("nan")}, "test_fraction"),
    ({"background": (0, 1)}, "background"),
])
def test_invalid_task_raises(kwargs: dict, field: str):
    with pytest.raises(ValueError, match=field):
        DigitsTask(**kwargs)


@pytest.mark.parametrize(("kwargs", "field"), [({"width": 0}, "width"), ({"lr": -1.0}, "lr"), ({"steps": -1}, "steps"), ({"border": 0}, "border")])
def test_invalid_distillation_raises(kwargs: dict, field: str):
    with pytest.raises(ValueError, match=field):
        DigitsDistillation(**kwargs)


def test_a_split_that_cannot_be_made_raises():
    with pytest.raises(ValueError, match="digit 3 has 183 images"):
        split(_labels(), (3, 8), 0.001, generator(0, "eval"), 2)  # no test image
    with pytest.raises(ValueError, match="training set"):
        split(_labels(), (3, 8), 0.999, generator(0, "eval"), 2)  # no training image


def test_non_piecewise_linear_activation_raises():
    with pytest.raises(ValueError, match="piecewise linear"):
        train_digits(DigitsTask(), Network(activation=Activation("gelu")), SGD(steps=1), 1, 0)
