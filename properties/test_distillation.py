"""Representation distillation (Section 2, Figure 1), Zhang et al. ICML 2024, in the feature model.

Even when a student explicitly fits a teacher representation that generalises OOD (here the
core coordinates), a non-linear student learns the background too: its OOD representation
error is many times its ID error, and a linear probe on its representation loses OOD accuracy.
A linear student shows neither.

* ``distillation/relu-student``: ReLU student (width 128, both layers, MSE, online SGD) with
  ``k_core = 8, k_bg = 16``: ID representation MSE <= 0.05; per-replicate OOD/ID MSE ratio >= 10.
  Probe: OOD accuracy of a least-squares probe fitted on ID representations, teacher minus
  student, >= 0.03. The probe loss is heavy-tailed across replicates (median about 0.02 at
  ``k_bg = 16``, a few replicates near chance), so it is measured with ``k_bg = 64`` and twice
  the profile's replicates, where the budgeted interval can resolve it. The representation
  statistics take twice the profile's replicates too (32 under ``ci``, 48 under ``default``): the
  calibration study's power pool at this model (64 fresh replicates, before this choice) gave the
  per-replicate OOD/ID ratio a mean of 19.1 and an sd of 4.9 against its threshold 10, so at the
  profile's 16 a fresh seed FAILed with probability 0.14 (noncentral t: 0.22); at 32 the
  noncentral t gives 5e-6.
* ``distillation/linear-student``: the same protocol with a linear student (learning rate 0.5:
  at 0.05 it has not converged in the step budget): paired OOD - ID MSE inside +-0.01, probe
  loss <= 0.03.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from hypothesis import example, given
from hypothesis import strategies as st

from fc_check.common import mean_at_least, mean_at_most, mean_inside, per_replicate
from fc_check.hypo import active_profile, fc_settings
from fc_check.regimes import SEEDS
from fc_check.verdict import Outcome, Plot
from fc_model import FeatureModel
from fc_model.distill import Distillation, distill

R = active_profile().replicates
# the ReLU student's replicates: twice the profile's, for a fresh-seed fail rate under 1e-3 (see the docstring)
R_RELU = 2 * R


@dataclass(frozen=True)
class DistillRegime:
    k_core: int = 8
    k_bg: int = 16
    probe_k_bg: int = 64
    width: int = 128
    steps: int = 3000
    replicates: int = 16
    seed: int = 0
    probe_replicates: int | None = None  # the probe's run (None: twice ``replicates``)

    @property
    def probe_r(self) -> int:
        return 2 * self.replicates if self.probe_replicates is None else self.probe_replicates

    def config(self, k_bg: int | None = None) -> Distillation:
        kb = self.k_bg if k_bg is None else k_bg
        return Distillation(features=FeatureModel(k_core=self.k_core, k_bg=kb, d=4 * (2 * self.k_core + kb)), width=self.width, steps=self.steps)


def relu_student(cfg: Distillation) -> Distillation:
    return cfg


def linear_student(cfg: Distillation) -> Distillation:
    return replace(cfg, linear=True, lr=0.5)


def check_relu_student(student, reg: DistillRegime, *, level: float, device: str, id_max: float = 0.05, ratio_min: float = 10.0, probe_loss_min: float = 0.03) -> Outcome:  # noqa: ANN001
    res = distill(student(reg.config()), reg.replicates, reg.seed, device=device)
    probe = distill(student(reg.config(reg.probe_k_bg)), reg.probe_r, reg.seed, device=device)
    claim = "distillation/relu-student"
    ratio = per_replicate(res.mse_ood / res.mse_id)
    loss = per_replicate(probe.probe_teacher_ood - probe.probe_student_ood)
    fs = [mean_at_most(claim, "ID representation MSE", per_replicate(res.mse_id), id_max, level),
          mean_at_least(claim, "OOD / ID representation MSE", ratio, ratio_min, level),
          mean_at_least(claim, "probe OOD accuracy, teacher - student", loss, probe_loss_min, level, note=f"k_bg = {reg.probe_k_bg}, R = {reg.probe_r}")]

    def draw(ax) -> None:  # noqa: ANN001
        lin = distill(linear_student(reg.config()), reg.replicates, reg.seed, device=device)
        names = ["teacher", "ReLU student", "linear student"]
        ax.bar([0, 1, 2], [0, float(res.mse_id.mean()), float(lin.mse_id.mean())], width=0.35, label="ID MSE")
        ax.bar([0.35, 1.35, 2.35], [0, float(res.mse_ood.mean()), float(lin.mse_ood.mean())], width=0.35, label="OOD MSE")
        ax2 = ax.twinx()
        ax2.plot([0.17, 1.17, 2.17], [float(res.probe_teacher_ood.mean()), float(res.probe_student_ood.mean()), float(lin.probe_student_ood.mean())], "ko-", label="probe OOD acc")
        ax2.set_ylim(0, 1.05)
        ax.set_xticks([0.17, 1.17, 2.17], names)
        ax.set_ylabel("representation MSE")
        ax2.set_ylabel("probe OOD accuracy")
        ax.legend(fontsize=7, loc="upper left")

    return Outcome(fs, asdict(reg), reg.seed, [Plot(claim, "Representation error (ID, OOD) and probe OOD accuracy", draw)])


def check_linear_student(student, reg: DistillRegime, *, level: float, device: str, gap_tolerance: float = 0.01, probe_loss_max: float = 0.03) -> Outcome:  # noqa: ANN001
    res = distill(student(reg.config()), reg.replicates, reg.seed, device=device)
    claim = "distillation/linear-student"
    gap = per_replicate(res.mse_ood - res.mse_id)
    loss = per_replicate(res.probe_teacher_ood - res.probe_student_ood)
    return Outcome([mean_inside(claim, "OOD - ID representation MSE", gap, -gap_tolerance, gap_tolerance, level),
                    mean_at_most(claim, "probe OOD accuracy, teacher - student", loss, probe_loss_max, level)], asdict(reg), reg.seed)


# width 64 with k_bg = 12 gave an OOD/ID ratio of 8.1 [4.5, inf): the 10x figure belongs to wide students with k_bg >= k_core
REGIMES = st.builds(DistillRegime, k_bg=st.sampled_from((16, 24)), width=st.sampled_from((128, 256)), replicates=st.just(R), seed=SEEDS)
PAPER = DistillRegime(replicates=R)
RELU_REGIMES = st.builds(DistillRegime, k_bg=st.sampled_from((16, 24)), width=st.sampled_from((128, 256)), replicates=st.just(R_RELU),
                         probe_replicates=st.just(2 * R), seed=SEEDS)
RELU_PAPER = DistillRegime(replicates=R_RELU, probe_replicates=2 * R)


@fc_settings()
@given(reg=RELU_REGIMES)
@example(reg=RELU_PAPER)
def test_relu_student(fc, reg: DistillRegime) -> None:
    fc.check(check_relu_student, relu_student, reg)


@fc_settings()
@given(reg=REGIMES)
@example(reg=PAPER)
def test_linear_student(fc, reg: DistillRegime) -> None:
    fc.check(check_linear_student, linear_student, reg)
