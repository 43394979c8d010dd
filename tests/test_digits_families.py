"""The digits families of Figures 1, 4 and 5: border shifts, validation, networks trained side by
side as blocks, the linear probe, the selectivity index and the run's shapes and invariances."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from fc_model import Activation, generator
from fc_model.digits import DigitsDistillation, init_mlps, mlp_heads, mlp_hidden
from fc_model.digits_families import BRIGHTER, NEGATED, BorderShift, DigitsFamilies, HiddenUnits, ridge_probe, selectivity, train_families
from properties.digits_figures import FiguresRegime, mean_selectivity, share_low, share_low_firing

TINY = DigitsFamilies(distillation=DigitsDistillation(teacher_width=8, width=16, teacher_steps=12, steps=12), teacher_widths=(8, 4),
                      teacher_checkpoints=(4,), student_widths=(16, 8), standard_widths=(8,), checkpoints=(4,))


def test_border_shifts():
    b = torch.tensor([0.0, 0.25, 1.0])
    assert torch.equal(NEGATED.apply(b), -b) and torch.equal(BRIGHTER.apply(b), b + 1)
    assert NEGATED.describe() == "-b" and BRIGHTER.describe() == "b + 1"
    with pytest.raises(ValueError, match="ID border"):
        BorderShift("same", 1.0, 0.0)
    with pytest.raises(ValueError, match="identifier other than 'id'"):
        BorderShift("id", -1.0, 0.0)
    with pytest.raises(ValueError, match="BorderShift.offset"):
        BorderShift("x", 1.0, float("nan"))


@pytest.mark.parametrize(("change", "message"), [
    ({"teacher_widths": (32, 128)}, "teacher_widths must contain the distilled teacher's width 64"),
    ({"student_widths": (64,)}, "student_widths must contain the figure student's width 256"),
    ({"student_widths": (256, 256)}, "must not repeat a width"),
    ({"standard_widths": [64]}, "standard_widths must be a possibly empty tuple"),
    ({"checkpoints": (3000,)}, "checkpoints must be increasing step counts below distillation.steps = 3000"),
    ({"teacher_checkpoints": (500, 200)}, "teacher_checkpoints must be increasing"),
    ({"shifts": ()}, "shifts must be a non-empty tuple"),
    ({"shifts": (NEGATED, NEGATED)}, "distinct names"),
    ({"ridge": 0.0}, "ridge must be > 0"),
])
def test_invalid_families_name_the_field(change: dict, message: str):
    with pytest.raises(ValueError, match=message):
        DigitsFamilies(**change)


def test_networks_side_by_side_train_each_as_if_alone():
    """The gradient of the summed loss of two networks, with respect to one network's parameters,
    is that network's own gradient (float64)."""
    gen = generator(0, "init")
    widths, R, n, fan_in, out = (3, 5), 2, 7, 6, 4
    params = [p.detach().double().requires_grad_(True) for p in init_mlps(R, fan_in, widths, out, gen)]
    assert [tuple(p.shape) for p in params] == [(R, fan_in, 3), (R, 1, 3), (R, 3, out), (R, 1, out), (R, fan_in, 5), (R, 1, 5), (R, 5, out), (R, 1, out)]
    with torch.no_grad():
        for p in params[1::2]:
            p.normal_(generator=gen)  # non-zero biases, so that they are tested too
    x = torch.randn((R, n, fan_in), generator=gen, dtype=torch.float64)
    target = torch.randn((R, n, out), generator=gen, dtype=torch.float64)
    sum((o - target).pow(2).sum() for o in mlp_heads(params, [torch.relu(h) for h in mlp_hidden(params, x)])).backward()
    for j in range(len(widths)):
        own = [p.detach().clone().requires_grad_(True) for p in params[4 * j : 4 * j + 4]]
        (mlp_heads(own, [torch.relu(h) for h in mlp_hidden(own, x)])[0] - target).pow(2).sum().backward()
        for p, q in zip(params[4 * j : 4 * j + 4], own, strict=True):
            assert torch.allclose(p.grad, q.grad, rtol=1e-12, atol=1e-12)


def test_ridge_probe_reads_separable_features():
    gen = generator(1, "eval")
    y = torch.randint(10, (2, 200), generator=gen)
    f = F.one_hot(y, 10).double() * 3 + 0.01 * torch.randn((2, 200, 10), generator=gen, dtype=torch.float64)
    acc = ridge_probe(f, y, [f, f[:, torch.randperm(200, generator=gen)]], y, 1e-3)
    assert acc.shape == (2, 2) and torch.equal(acc[:, 0], torch.ones(2, dtype=torch.float64)) and (acc[:, 1] < 0.5).all()


def test_selectivity_index():
    means = torch.tensor([[1.0] + [0.0] * 9, [1.0] * 10, [0.0] * 10, [2.0, 1.0] + [0.0] * 8])
    si = selectivity(means)
    assert si[0] == 1.0 and si[1] == 0.0 and torch.isnan(si[2])
    assert torch.isclose(si[3], torch.tensor((2 - 1 / 9) / (2 + 1 / 9)))


def test_shares_and_selectivity_per_replicate():
    rates = torch.tensor([[[0.0] * 10, [1.0] + [0.0] * 9, [0.5] * 10]])  # a silent unit, a one-class unit, a dense unit
    units = HiddenUnits(rates=rates, means=rates.unsqueeze(1))
    assert share_low(units, 0.1)[0] == pytest.approx(19 / 30)
    assert share_low_firing(units, 0.1)[0] == pytest.approx(9 / 20)
    assert mean_selectivity(units, 0)[0] == pytest.approx(0.5)  # (1 + 0) / 2: the silent unit has no index


def test_run_shapes_and_the_teachers_invariance():
    run = train_families(TINY, 2, 3)
    S = len(TINY.sets)
    assert run.sets == ("id", "negated", "brighter")
    assert run.teacher_probes.acc.shape == (2, S, 2, 2) and run.student_probes.acc.shape == (2, S, 2, 2) and run.standard.acc.shape == (2, S, 1, 2)
    assert run.student.rates.shape == (2, 16, 10) and run.student.means.shape == (2, S, 16, 10) and run.teacher.means.shape == (2, S, 8, 10)
    # the teachers read the image pixels only: every border shift leaves their probes' accuracy as it is
    for s in range(1, S):
        assert torch.equal(run.teacher_probes.acc[:, s], run.teacher_probes.acc[:, 0])
        assert torch.equal(run.teacher.means[:, s], run.teacher.means[:, 0])
    assert ((run.student.rates >= 0) & (run.student.rates <= 1)).all()
    again = train_families(TINY, 2, 3)
    assert torch.equal(again.student_probes.acc, run.student_probes.acc) and torch.equal(again.student.means, run.student.means)


def test_mutant_hooks():
    frozen = train_families(replace(TINY, train_first_layer=False), 2, 3)
    assert torch.equal(frozen.student.rates, frozen.student_init.rates)  # the hidden layer stayed at its init
    ident = train_families(replace(TINY, student_activation=Activation("identity")), 2, 3)
    assert (ident.student.means < 0).any()  # class means of a linear hidden layer take both signs


def test_regime_configs():
    full, units = FiguresRegime().config(), FiguresRegime(families=False, border=1).config()
    assert full.lengths == (1000, 3000) and full.teacher_lengths == (200, 1000) and full.student_widths == (64, 128, 256)
    assert units.teacher_widths == (64,) and units.student_widths == (256,) and units.standard_widths == () and units.distillation.border == 1
