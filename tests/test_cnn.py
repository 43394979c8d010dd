"""Unit tests of fc_model.cnn: validation, the bordered crops, the arms' coupling, the measurements' shapes."""

from __future__ import annotations

import pytest
import torch

from fc_model.cnn import BRICK, NO_BORDER, Border, CnnSetting, _canvases, _crop, _offsets, chroma_direction, hue_reversed, train_cnn
from fc_model.data import generator


@pytest.mark.parametrize(("build", "field"), [
    (lambda: CnnSetting(crop=15), "crop"), (lambda: CnnSetting(crop=6), "crop"), (lambda: CnnSetting(pad=1, crop=12), "crop"),
    (lambda: CnnSetting(channels=(8,)), "channels"), (lambda: CnnSetting(channels=(8, 0)), "channels"), (lambda: CnnSetting(classes=(3, 3)), "classes"),
    (lambda: CnnSetting(classes=(1, 10)), "classes"), (lambda: CnnSetting(lr=0.0), "lr"), (lambda: CnnSetting(test_fraction=1.0), "test_fraction"),
    (lambda: CnnSetting(steps=-1), "steps"), (lambda: Border((1.2, 0.0, 0.0)), "colour"), (lambda: Border((0.5, 0.5)), "colour"),
    (lambda: Border(kind="stripes"), "kind"),
])
def test_invalid_configuration_names_the_field(build, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        build()


def test_crops_keep_the_digit_whole_and_move_the_border() -> None:
    cfg = CnnSetting()
    images = torch.arange(3 * 64, dtype=torch.float32).view(3, 64) + 1  # no zero pixel: the digit is recognisable
    idx = torch.tensor([[0, 1, 2]])
    canvas, mask = _canvases(images, idx, cfg)
    off = _offsets(generator(0, "train"), (1, 3), cfg)
    grey, border = _crop(canvas, off, cfg), _crop(mask, off, cfg)
    assert grey.shape == (1, 3, 12, 12)
    assert torch.equal(border.sum((-1, -2)), torch.full((1, 3), 144.0 - 64))  # every crop keeps all 64 digit pixels
    assert torch.equal((grey > 0).float(), 1 - border)  # the digit's pixels are exactly the non-border ones
    many = _offsets(generator(1, "train"), (500,), cfg)
    assert set(many.flatten().tolist()) == {0, 1, 2}  # offsets 0 .. side - crop: the border's width varies from 1 to 3


def test_colours() -> None:
    u = chroma_direction(BRICK)
    assert abs(float(u.norm()) - 1) < 1e-12 and abs(float(u.sum())) < 1e-12 and float(u[0]) > 0
    teal = hue_reversed(BRICK)
    assert abs(sum(teal.colour) - sum(BRICK.colour)) < 1e-12 and float(chroma_direction(teal) @ u) < -0.999
    assert float(chroma_direction(NO_BORDER).norm()) == 0.0


def test_arms_share_everything_but_the_border() -> None:
    """Two arms with the same border are the same networks (same init, batches, crops): equal results."""
    cfg = CnnSetting(steps=3, vis_steps=2, classes=(3, 8))
    run = train_cnn(cfg, (BRICK, BRICK, NO_BORDER), (BRICK, NO_BORDER), 2, 0)
    assert run.acc.shape == (3, 2, 2) and run.hue.shape == (3, 2, 16) and run.maximisers.shape == (3, 16, 3, 12, 12)
    assert run.cam_maps.shape == (3, cfg.cam_images, 6, 6) and run.cam_pictures.shape == (cfg.cam_images, 3, 12, 12)
    torch.testing.assert_close(run.acc[0], run.acc[1])
    torch.testing.assert_close(run.hue[0], run.hue[1], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(run.cam_share[0], run.cam_share[1], rtol=1e-4, atol=1e-4)
    assert bool(((run.area_share - 80 / 144).abs() < 1e-6).all())
    assert bool(((run.maximisers >= 0) & (run.maximisers <= 1)).all())  # projected onto the pixel range
