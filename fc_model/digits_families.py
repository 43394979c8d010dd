"""The paper's representation figures on digits: Figure 1's three model families, and the hidden
units behind Figures 4 and 5, on scikit-learn's bundled digits (all ten classes).

Zhang et al. (ICML 2024), Figure 1, compare three families of models by OOD against ID accuracy:
(i) linear probes on pre-trained representations, (ii) linear probes on *distilled*
representations (students trained to copy a pre-trained representation), (iii) standard models
trained on ID data. Figures 4 and 5 look inside distilled networks: class-wise activation rates
and the class selectivity of their neurons. ``train_families`` builds the offline analog of all
three on the pipeline of ``fc_model.digits`` (its split, border, teacher, distillation loss and
host crossing):

* the **teachers** are 10-class ReLU networks trained by Adam on the *unbordered* images: they
  never read the border, so their representation is unchanged by any border shift, by
  construction (the analog of a representation that is robust OOD; it does not show how such a
  representation is obtained);
* family (i): a linear probe on each teacher's hidden layer (widths ``teacher_widths``, each
  after ``teacher_lengths`` steps);
* family (ii): ReLU **students** (``student_widths``; the distillation settings of
  ``DigitsDistillation``: Adam, MSE, fresh border every batch) fit the hidden layer of the teacher
  of width ``teacher_width`` on bordered images, and a linear probe reads each student's
  representation after each of ``lengths`` steps;
* family (iii): **standard** ReLU networks (``standard_widths``) trained end to end by Adam on
  the labels of bordered images (same batch, learning rate and lengths as the students).

A linear probe is a ridge (least-squares) fit of one-hot labels on the features with a bias,
closed form on the training images with one border draw each (a border does not reach the
teacher's features); it is evaluated on the test images. Test sets are the same test images with
one border draw: ID (``background``), and for each ``BorderShift`` the same draws shifted (the
negated border ``-b``, a brighter border ``b + 1`` ...), so ID/OOD differences are paired.

For Figures 4 and 5 the run keeps, for the student of width ``distillation.width`` at init and
after training, and for the figure teacher at init and after training, per hidden unit ``k`` and
class ``c``: the activation rate ``P[pre-activation_k > 0 | c]`` on the ID test images and the
class means of the unit's activation on every test set.

Streams (sequential, in this order): ``eval``: the split, the test borders, the probes' training
borders; ``init``: the teachers, the students, the standard networks; ``train``: the teachers'
batches, then the standard networks'; ``probe``: the students' batches. With one teacher width,
one student width and no standard network, the teacher and the student are those of
``distill_digits`` on the same seed (same draws in the same order, trained by the same fused Adam
kernel; it rounds differently from torch's default Adam loop, and costs a fraction of it). Each
family's networks train side by side with one optimiser on shared batches
(``fc_model.digits.init_mlps``): each exactly as if alone. Results cross to the host once, at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from fc_model.config import Activation, _finite, _int_at_least
from fc_model.data import generator, uniforms
from fc_model.digits import (
    CLASSES,
    PIXELS,
    DigitsDistillation,
    _adam,
    _gather,
    _split_all,
    distill_loss,
    init_mlps,
    mlp_heads,
    mlp_hidden,
    train_teacher,
)
from fc_model.host import groups_to_host
from fc_model.model import resolve_device
from fc_model.network import activate


@dataclass(frozen=True)
class BorderShift:
    """An OOD border: the ID border values ``b`` (per pixel) become ``scale * b + offset`` on the
    same test images and draws (``scale = -1, offset = 0``: the negated border)."""

    name: str
    scale: float
    offset: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier() or self.name == "id":
            raise ValueError(f"BorderShift.name must be an identifier other than 'id', got {self.name!r}")
        _finite("BorderShift.scale", self.scale)
        _finite("BorderShift.offset", self.offset)
        if self.scale == 1.0 and self.offset == 0.0:
            raise ValueError("BorderShift must shift the border: scale = 1 with offset = 0 is the ID border")

    def apply(self, b: torch.Tensor) -> torch.Tensor:
        return b * self.scale + self.offset

    def describe(self) -> str:
        if self.offset == 0.0:
            return "-b" if self.scale == -1.0 else f"{self.scale:g} b"
        return f"{'' if self.scale == 1.0 else f'{self.scale:g} '}b {'+' if self.offset > 0 else '-'} {abs(self.offset):g}"


NEGATED = BorderShift("negated", -1.0, 0.0)  # -U[0,1]: the shift of the digits claims
BRIGHTER = BorderShift("brighter", 1.0, 1.0)  # U[1,2]: the same draws one brighter (mean 1.5)


def _widths(name: str, widths: tuple[int, ...], allow_empty: bool = False) -> None:
    if not isinstance(widths, tuple) or (not widths and not allow_empty):
        raise ValueError(f"{name} must be a {'possibly empty ' if allow_empty else 'non-empty '}tuple of widths, got {widths!r}")
    for w in widths:
        _int_at_least(name, w, 1)
    if len(set(widths)) != len(widths):
        raise ValueError(f"{name} must not repeat a width, got {widths!r}")


def _checkpoints(name: str, steps: tuple[int, ...], total: int, total_name: str) -> None:
    if not isinstance(steps, tuple):
        raise ValueError(f"{name} must be a tuple of step counts, got {steps!r}")
    for s in steps:
        _int_at_least(name, s, 1)
    if list(steps) != sorted(set(steps)) or (steps and steps[-1] >= total):
        raise ValueError(f"{name} must be increasing step counts below {total_name} = {total}, got {steps!r}")


@dataclass(frozen=True)
class DigitsFamilies:
    """The three families of Figure 1 and the networks of Figures 4 and 5 (module docstring).

    ``distillation`` holds the data, border, teacher and student settings (its ``teacher_width``
    is the teacher the students distil, its ``width`` the student of Figures 4 and 5, its
    ``steps`` the length of students and standard networks); ``checkpoints`` and
    ``teacher_checkpoints`` are the earlier lengths at which the families are also evaluated.
    Mutant hooks: ``distillation.train_on_ood`` (students see the negated border too),
    ``student_activation`` (e.g. identity), ``train_first_layer = False`` (the students' hidden
    layer stays at its init: random features with a trained readout)."""

    distillation: DigitsDistillation = field(default_factory=DigitsDistillation)
    teacher_widths: tuple[int, ...] = (32, 64, 128)
    teacher_checkpoints: tuple[int, ...] = (200,)
    student_widths: tuple[int, ...] = (64, 128, 256)
    standard_widths: tuple[int, ...] = (64, 128, 256)
    checkpoints: tuple[int, ...] = (1000,)
    shifts: tuple[BorderShift, ...] = (NEGATED, BRIGHTER)
    ridge: float = 1e-3  # the probes' penalty, relative to the mean diagonal of the features' Gram matrix
    student_activation: Activation = field(default_factory=Activation)
    train_first_layer: bool = True

    def __post_init__(self) -> None:
        d = self.distillation
        if not isinstance(d, DigitsDistillation):
            raise ValueError(f"distillation must be a DigitsDistillation, got {d!r}")
        _widths("teacher_widths", self.teacher_widths)
        _widths("student_widths", self.student_widths)
        _widths("standard_widths", self.standard_widths, allow_empty=True)
        if d.teacher_width not in self.teacher_widths:
            raise ValueError(f"teacher_widths must contain the distilled teacher's width {d.teacher_width}, got {self.teacher_widths!r}")
        if d.width not in self.student_widths:
            raise ValueError(f"student_widths must contain the figure student's width {d.width}, got {self.student_widths!r}")
        _int_at_least("distillation.teacher_steps", d.teacher_steps, 1)
        _int_at_least("distillation.steps", d.steps, 1)
        _checkpoints("teacher_checkpoints", self.teacher_checkpoints, d.teacher_steps, "distillation.teacher_steps")
        _checkpoints("checkpoints", self.checkpoints, d.steps, "distillation.steps")
        if not isinstance(self.shifts, tuple) or not self.shifts or not all(isinstance(s, BorderShift) for s in self.shifts):
            raise ValueError(f"shifts must be a non-empty tuple of BorderShift, got {self.shifts!r}")
        if len({s.name for s in self.shifts}) != len(self.shifts):
            raise ValueError(f"shifts must have distinct names, got {[s.name for s in self.shifts]}")
        _finite("ridge", self.ridge)
        if not self.ridge > 0:
            raise ValueError(f"ridge must be > 0, got {self.ridge}")
        if not isinstance(self.student_activation, Activation):
            raise ValueError(f"student_activation must be an Activation, got {self.student_activation!r}")

    @property
    def sets(self) -> tuple[str, ...]:
        """Test sets: ``id``, then each shift's name."""
        return ("id", *(s.name for s in self.shifts))

    @property
    def lengths(self) -> tuple[int, ...]:
        return (*self.checkpoints, self.distillation.steps)

    @property
    def teacher_lengths(self) -> tuple[int, ...]:
        return (*self.teacher_checkpoints, self.distillation.teacher_steps)


@dataclass(frozen=True)
class FamilyCloud:
    """One family's points (host): test accuracy per replicate, test set, width and length."""

    name: str
    widths: tuple[int, ...]
    lengths: tuple[int, ...]
    acc: torch.Tensor  # R x sets x widths x lengths


@dataclass(frozen=True)
class HiddenUnits:
    """A hidden layer on the test images (host), per replicate, unit ``k`` and class ``c``."""

    rates: torch.Tensor  # R x K x C: P[pre-activation_k > 0 | c] on the ID test images
    means: torch.Tensor  # R x sets x K x C: the class means of the unit's activation on each test set


@dataclass(frozen=True)
class FamiliesRun:
    config: DigitsFamilies
    teacher_probes: FamilyCloud  # family (i)
    student_probes: FamilyCloud  # family (ii)
    standard: FamilyCloud  # family (iii); no widths when standard_widths is empty
    student_init: HiddenUnits  # the figure student at init (the random network of Figures 4 and 5)
    student: HiddenUnits  # the figure student after training
    teacher_init: HiddenUnits
    teacher: HiddenUnits
    teacher_acc: torch.Tensor  # R: the distilled teacher's own head on the test images
    rel_mse: torch.Tensor  # R x sets: the figure student's representation error relative to the target's mean square

    @property
    def sets(self) -> tuple[str, ...]:
        return self.config.sets


def ridge_probe(f_tr: torch.Tensor, y_tr: torch.Tensor, f_tests: list[torch.Tensor], y_te: torch.Tensor, ridge: float) -> torch.Tensor:
    """A linear probe per replicate: least squares of one-hot labels on the features ``f_tr``
    (``R x n x p``) and a bias, with a penalty ``ridge`` times the mean diagonal of the Gram matrix
    on the weights (not the bias), in float64; its test accuracy on each of ``f_tests`` (``R x len``)."""
    def design(f: torch.Tensor) -> torch.Tensor:
        return torch.cat([f.double(), torch.ones(f.shape[:-1] + (1,), dtype=torch.float64, device=f.device)], -1)

    a = design(f_tr)
    gram = a.transpose(1, 2) @ a
    p = a.shape[-1]
    pen = torch.ones(p, dtype=torch.float64, device=a.device)
    pen[-1] = 0.0
    lam = ridge * gram.diagonal(dim1=1, dim2=2)[:, :-1].mean(-1)
    w = torch.linalg.solve(gram + lam.view(-1, 1, 1) * torch.diag(pen), a.transpose(1, 2) @ F.one_hot(y_tr, CLASSES).double())
    return torch.stack([((design(f) @ w).argmax(-1) == y_te).double().mean(-1) for f in f_tests], -1)


def _class_stats(pre: torch.Tensor, act: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per unit and class: the share of the class's images with a positive pre-activation, and the
    class mean of the activation (``R x K x C`` each) from ``R x n x K`` tensors and labels ``R x n``."""
    onehot = F.one_hot(y, CLASSES).to(pre.dtype)  # R x n x C
    count = onehot.sum(1, keepdim=True)  # R x 1 x C
    rates = ((pre > 0).to(pre.dtype).transpose(1, 2) @ onehot) / count
    means = (act.transpose(1, 2) @ onehot) / count
    return rates, means


def train_families(cfg: DigitsFamilies, replicates: int, seed: int, *, device: str | torch.device = "cpu") -> FamiliesRun:
    """Train the three families and record the figure networks' hidden units, for ``R`` replicates (module docstring)."""
    _int_at_least("replicates", replicates, 1)
    dev = resolve_device(device)
    d = cfg.distillation
    R, D, nb, H = replicates, d.dim, d.dim - PIXELS, d.teacher_width
    eval_gen, init_gen = generator(seed, "eval", dev), generator(seed, "init", dev)
    train_gen, probe_gen = generator(seed, "train", dev), generator(seed, "probe", dev)
    x_tr, y_tr, x_te, y_te = _split_all(d.test_fraction, eval_gen, R)
    b_te = d.background.from_unit(uniforms(eval_gen, (R, x_te.shape[1], nb)))
    tests = [torch.cat([x_te, b_te], -1), *(torch.cat([x_te, s.apply(b_te)], -1) for s in cfg.shifts)]  # ID, then each shift
    x_pr = torch.cat([x_tr, d.background.from_unit(uniforms(eval_gen, (R, x_tr.shape[1], nb)))], -1)  # the probes' training inputs
    S = len(tests)
    out: dict[str, dict[str, torch.Tensor]] = {}

    # --- teachers, family (i): probes on the hidden layer of unbordered-image networks
    tw, tl = cfg.teacher_widths, cfg.teacher_lengths
    teachers = init_mlps(R, PIXELS, tw, CLASSES, init_gen)
    t_fig = tw.index(H)
    acc_i = torch.zeros((R, S, len(tw), len(tl)), device=dev)

    def teacher_hidden(x: torch.Tensor) -> list[torch.Tensor]:
        return mlp_hidden(teachers, x[..., :PIXELS])  # the teachers read the image pixels only: no border reaches them

    def teacher_units(tag: str) -> None:
        pre = [teacher_hidden(x)[t_fig] for x in tests]
        stats = [_class_stats(p, torch.relu(p), y_te) for p in pre]
        out[tag] = {"rates": stats[0][0], "means": torch.stack([m for _, m in stats], 1)}

    def teacher_checkpoint(li: int) -> None:
        with torch.no_grad():
            h_tr, h_te = teacher_hidden(x_tr), [teacher_hidden(x) for x in tests]
            for j in range(len(tw)):
                acc_i[:, :, j, li] = ridge_probe(torch.relu(h_tr[j]), y_tr, [torch.relu(h[j]) for h in h_te], y_te, cfg.ridge)

    with torch.no_grad():
        teacher_units("teacher_init")
    train_teacher(teachers, x_tr, y_tr, d.teacher_batch, d.teacher_lr, d.teacher_steps, train_gen,
                  {s: (lambda li=li: teacher_checkpoint(li)) for li, s in enumerate(tl)}, fused=True)
    with torch.no_grad():
        teacher_units("teacher")
        target_tr = torch.relu(teacher_hidden(x_tr)[t_fig])
        target_te = torch.relu(teacher_hidden(x_te)[t_fig])
        head = mlp_heads(teachers[4 * t_fig : 4 * t_fig + 4], [target_te])[0]
        teacher_acc = (head.argmax(-1) == y_te).float().mean(-1)
        scale_te = target_te.pow(2).mean((-1, -2))

    # --- students, family (ii): probes on distilled representations
    sw, sl = cfg.student_widths, cfg.lengths
    students = init_mlps(R, D, sw, H, init_gen)
    s_fig = sw.index(d.width)
    act = cfg.student_activation
    acc_ii = torch.zeros((R, S, len(sw), len(sl)), device=dev)
    rel_mse = torch.zeros((R, S), device=dev)

    def reps(x: torch.Tensor) -> list[torch.Tensor]:
        return mlp_heads(students, [activate(act, h) for h in mlp_hidden(students, x)])

    def student_units(tag: str) -> None:
        pre = [mlp_hidden(students[4 * s_fig : 4 * s_fig + 4], x)[0] for x in tests]
        stats = [_class_stats(p, activate(act, p), y_te) for p in pre]
        out[tag] = {"rates": stats[0][0], "means": torch.stack([m for _, m in stats], 1)}

    def student_checkpoint(li: int) -> None:
        with torch.no_grad():
            r_tr, r_te = reps(x_pr), [reps(x) for x in tests]
            for j in range(len(sw)):
                acc_ii[:, :, j, li] = ridge_probe(r_tr[j], y_tr, [r[j] for r in r_te], y_te, cfg.ridge)
            if li == len(sl) - 1:
                rel_mse.copy_(torch.stack([(r[s_fig] - target_te).pow(2).mean((-1, -2)) / scale_te for r in r_te], -1))

    with torch.no_grad():
        student_units("student_init")
    trained = students
    if not cfg.train_first_layer:
        for p in students[0::4] + students[1::4]:
            p.requires_grad_(False)
        trained = [p for p in students if p.requires_grad]
    _adam(trained, d.lr, d.steps, distill_loss(reps, x_tr, target_tr, d, probe_gen), {s: (lambda li=li: student_checkpoint(li)) for li, s in enumerate(sl)},
          fused=True)
    with torch.no_grad():
        student_units("student")

    # --- standard networks, family (iii): trained end to end on the labels of bordered images
    nw = cfg.standard_widths
    acc_iii = torch.zeros((R, S, len(nw), len(sl)), device=dev)
    if nw:
        nets = init_mlps(R, D, nw, CLASSES, init_gen)
        n_tr = x_tr.shape[1]

        def forward(x: torch.Tensor) -> list[torch.Tensor]:
            return mlp_heads(nets, [torch.relu(h) for h in mlp_hidden(nets, x)])

        def standard_loss() -> torch.Tensor:
            j = torch.randint(n_tr, (R, d.batch), generator=train_gen, device=dev)
            x = torch.cat([_gather(x_tr, j), d.background.from_unit(uniforms(train_gen, (R, d.batch, nb)))], -1)
            y = _gather(y_tr, j).reshape(-1)
            total = None
            for o in forward(x):
                ce = F.cross_entropy(o.reshape(-1, CLASSES), y, reduction="sum") / d.batch
                total = ce if total is None else total + ce
            return total

        def standard_checkpoint(li: int) -> None:
            with torch.no_grad():
                for si, x in enumerate(tests):
                    for j, o in enumerate(forward(x)):
                        acc_iii[:, si, j, li] = (o.argmax(-1) == y_te).float().mean(-1)

        _adam(nets, d.lr, d.steps, standard_loss, {s: (lambda li=li: standard_checkpoint(li)) for li, s in enumerate(sl)}, fused=True)

    out["clouds"] = {"i": acc_i, "ii": acc_ii, "iii": acc_iii}
    out["student_run"] = {"teacher_acc": teacher_acc, "rel_mse": rel_mse}
    host = groups_to_host(out)  # the one device -> host crossing
    units = {tag: HiddenUnits(**host[tag]) for tag in ("student_init", "student", "teacher_init", "teacher")}
    clouds = host["clouds"]
    return FamiliesRun(
        config=cfg,
        teacher_probes=FamilyCloud("(i) linear probe on the teacher", tw, tl, clouds["i"]),
        student_probes=FamilyCloud("(ii) linear probe on a distilled student", sw, sl, clouds["ii"]),
        standard=FamilyCloud("(iii) standard network", nw, sl, clouds["iii"]),
        teacher_acc=host["student_run"]["teacher_acc"], rel_mse=host["student_run"]["rel_mse"], **units)


def selectivity(means: torch.Tensor) -> torch.Tensor:
    """Morcos et al.'s class-selectivity index per unit from class means ``... x K x C`` of a
    non-negative activation: ``(mu_max - mu_rest) / (mu_max + mu_rest)``, ``mu_rest`` the mean over
    the other classes; ``nan`` for a unit whose class means are all 0 (silent on every class)."""
    mx = means.amax(-1)
    rest = (means.sum(-1) - mx) / (means.shape[-1] - 1)
    den = mx + rest
    return torch.where(den > 0, (mx - rest) / den.clamp_min(torch.finfo(means.dtype).tiny), torch.full_like(den, math.nan))
