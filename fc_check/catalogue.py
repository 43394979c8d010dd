"""Every claim the suite checks: its id, paper reference, statement and assertion count.

``assertions`` is the number of intervals a check asserts per Hypothesis example (exact,
deterministic identities count 0: they spend no error budget). ``heavy`` checks run fewer
generated examples. The table is static so that the error budget does not depend on which
tests were collected.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    id: str
    paper_ref: str
    statement: str
    assertions: int
    module: str
    heavy: bool = False
    threshold_why: str = ""  # why this threshold (filled from _DOCS)
    mutant: str = ""  # the broken model its check must reject
    departure: str = ""  # where the check departs from the paper, and why


_ROWS = [
    ("lemma-1.1/closed-form-equals-autograd", "Lemma 1.1", "The closed-form hinge gradient -a_k y 1{yf<1} 1{<w_k,x> > 0} x equals autograd (float64).", 0, "theorems/test_lemma_1_1.py"),
    ("lemma-1.1/projection-identity", "Lemma 1.1", "The gradient's projection on feature m_j equals -a_k y 1{yf<1} 1{<w_k,x> > 0} z_j.", 0, "theorems/test_lemma_1_1.py"),
    ("lemma-1.1/linear-background-projection-zero", "Lemma 1.1, Figure 2 (right)", "For the identity activation at a class-symmetric state the expected gradient has no background projection.", 1, "theorems/test_lemma_1_1.py"),
    ("lemma-1.1/relu-background-projection-tracks-asymmetry", "Lemma 1.1, Figure 2 (left)", "For ReLU the expected background projection of -grad is (1/m)(E[z_j]/2) Delta_k: its sign and size follow the neuron's activation asymmetry.", 2, "theorems/test_lemma_1_1.py"),
    ("lemma-1.2/hoeffding-exceedance", "Lemma 1.2", "The projected batch gradient deviates from the population gradient by more than (1/m) sqrt(2 log(2/delta)/N) with probability at most delta.", 1, "theorems/test_lemma_1_2.py"),
    ("lemma-1.2/rate", "Lemma 1.2", "The RMS gap between batch and population projected gradients decays as N^(-1/2).", 1, "theorems/test_lemma_1_2.py"),
    ("theorem-4.1/no-asymmetry-at-init", "Theorem 4.1", "At initialisation the signed mean activation asymmetry is zero.", 1, "theorems/test_theorem_4_1.py"),
    ("theorem-4.1/persistence", "Theorem 4.1", "From T0 on, at every checkpoint, for both classes at least a quarter of the own-class neurons have Delta_k >= 0.5 (w.h.p. over replicates).", 1, "theorems/test_theorem_4_1.py"),
    ("theorem-4.1/t0-scaling", "Theorem 4.1", "T0 = Theta~(m / (eta sqrt(d))): the exponents of m, eta, d are 1, -1, -1/2.", 3, "theorems/test_theorem_4_1.py", True),
    ("theorem-4.2/own-core-growth", "Theorem 4.2", "After T0 the learned correlation with the neuron's own core features grows.", 1, "theorems/test_theorem_4_2.py"),
    ("theorem-4.2/background-growth", "Theorem 4.2", "After T0 the learned correlation with the background features grows (feature contamination).", 1, "theorems/test_theorem_4_2.py"),
    ("theorem-4.2/contamination-ratio", "Theorem 4.2", "The background-to-own-core learned correlation ratio is bounded below (>= 0.2).", 1, "theorems/test_theorem_4_2.py"),
    ("theorem-4.2/other-core-no-growth", "Theorem 4.2", "The learned correlation with the other class's core features does not grow.", 1, "theorems/test_theorem_4_2.py"),
    ("theorem-4.2/background-tracks-asymmetry", "Theorem 4.2", "Across neurons, background contamination increases with activation asymmetry.", 1, "theorems/test_theorem_4_2.py"),
    ("theorem-4.3/id-risk", "Theorem 4.3", "After training the ID hinge risk is small (<= 0.05).", 1, "theorems/test_theorem_4_3.py"),
    ("theorem-4.3/ood-gap", "Theorem 4.3", "After training the OOD hinge risk exceeds the ID risk by a constant (>= 0.2, paired).", 1, "theorems/test_theorem_4_3.py"),
    ("theorem-4.3/ood-error-grows-with-background", "Theorem 4.3", "The OOD 0-1 error increases with k_bg / k_core.", 1, "theorems/test_theorem_4_3.py"),
    ("theorem-4.4/no-contamination", "Theorem 4.4", "A linear network learns no background: |G|/C <= 0.05.", 1, "theorems/test_theorem_4_4.py"),
    ("theorem-4.4/no-ood-gap", "Theorem 4.4", "A linear network's paired OOD - ID risk is inside +-0.02.", 1, "theorems/test_theorem_4_4.py"),
    ("theorem-4.4/relu-contrast", "Theorem 4.4", "On identical seeds, ReLU's contamination ratio exceeds the linear network's by >= 0.2.", 1, "theorems/test_theorem_4_4.py"),
    ("figure-3a", "Figure 3(a)", "ID risk falls below 0.05 while OOD risk stays >= 0.2.", 2, "properties/test_figure_3abc.py"),
    ("figure-3b", "Figure 3(b)", "Mean activation asymmetry rises from about 0 to >= 0.3.", 2, "properties/test_figure_3abc.py"),
    ("figure-3c", "Figure 3(c)", "Own-core and background correlations both rise during training.", 2, "properties/test_figure_3abc.py"),
    *[(f"figure-3d/{a}", "Figure 3(d)", f"General setting ({a}): the background correlation ends above twice its initial value and OOD loss exceeds training loss.", 2, "properties/test_figure_3d.py", True) for a in ("relu", "gelu", "sigmoid", "tanh")],
    ("dose-response/leaky-slope", "Section 4 (activation), claims.md §5", "LeakyReLU: contamination decreases with the slope, >= 0.2 at slope 0 and <= 0.05 at slope 1.", 3, "properties/test_dose_response.py"),
    ("control/zero-mean-background", "Section 4 (mechanism)", "Zero-mean background (U[-1,1]) gives no contamination (<= 0.05) while U[0,1] does (>= 0.2), on the same seeds.", 2, "properties/test_controls.py"),
    ("control/no-spurious-correlation", "Definition 3.1", "The ID background is uncorrelated with the label: the correlation's interval contains 0 and lies inside +-0.02.", 1, "properties/test_controls.py"),
    ("distillation/relu-student", "Section 2, Figure 1", "A ReLU student fits the teacher's core representation on ID data (MSE <= 0.05), its OOD error is >= 10x its ID error, and a linear probe on it loses >= 0.03 OOD accuracy.", 3, "properties/test_distillation.py"),
    ("distillation/linear-student", "Section 2, Figure 1", "A linear student shows neither: OOD - ID representation error inside +-0.01 and probe accuracy loss <= 0.03.", 2, "properties/test_distillation.py"),
    ("digits/contamination", "Section 5, Figure 6 (handwritten digits)", "On digit images with a U[0,1] border independent of the label, ReLU learns the border: mean|G_k| / mean C_k >= 0.12, and exceeds the identity network's by >= 0.08 on the same seeds.", 2, "properties/test_digits.py"),
    ("digits/border-sign", "Lemma 1.1, Figure 6 (handwritten digits)", "ReLU's learned border weights are positive on average for the neurons of both classes (sign of a_k y_k); the identity network's average over all neurons is inside +-0.02 (relative to mean C_k).", 3, "properties/test_digits.py"),
    ("digits/ood-gap", "Theorem 4.3 on handwritten digits", "Negating the border raises ReLU's paired test hinge risk by >= 0.1, and by >= 0.05 more than the identity network's on the same seeds.", 2, "properties/test_digits.py"),
    ("digits/distillation", "Section 2, Figure 1 (handwritten digits)", "A ReLU student fitting an unbordered-image teacher's representation on bordered digits fits it ID (relative error <= 0.01), its OOD error is >= 20x its ID error, the teacher's head on it loses >= 0.02 accuracy OOD, and log10(OOD/ID) exceeds a linear student's by >= 1.", 4, "properties/test_digits.py", True),
    ("invariant/latent-equals-full", "claims.md §2 (latent reduction)", "Training in latent coordinates and in full input space gives the same trajectory (float64).", 0, "properties/test_latent_reduction.py"),
]

# Per-claim documentation (claim id -> {"threshold_why", "mutant", "departure"}), kept apart from
# the rows so that each claim's prose can be edited without touching the table.
_DOCS: dict[str, dict[str, str]] = {
    "digits/contamination": {
        "threshold_why": "Measured before the check was written (3 digit pairs, 64 border pixels, 8 replicates): ReLU 0.24-0.28, identity 0.05-0.06. 0.12 is half the smallest ReLU ratio (room for other pairs and the 36-pixel border of b = 1) and above identity's; 0.08 is about 40% of the measured ReLU - identity difference.",
        "mutant": "A zero-mean border, U[-1,1]: no mean for the ReLU neurons to accumulate, so both bounds fail.",
        "departure": "G_k is the learned weight averaged over the border pixels and C_k the mean |learned weight| over the image pixels (real images have no core coordinates); pixels are not orthonormal features.",
    },
    "digits/border-sign": {
        "threshold_why": "Lemma 1.1: an asymmetric ReLU neuron's border update has the sign of a_k y_k > 0, so the threshold 0 (strict) is the claim itself, per class of neurons. For identity every neuron's update is a_k times one vector, so the classes cancel; +-0.02 is a tenth of ReLU's ratio.",
        "mutant": "A zero-mean border, U[-1,1]: the ReLU class means are no longer positive.",
        "departure": "Averages are normalised by mean C_k so that the band is in the units of the contamination ratio.",
    },
    "digits/ood-gap": {
        "threshold_why": "Measured before (64 border pixels): ReLU gap 0.41-0.44, identity 0.02-0.06. b = 1's 36 border pixels carry about half the border's share of the pre-activation, so 0.1 is half the expected gap there; the contrast 0.05 is about identity's own gap.",
        "mutant": "Identity in place of ReLU: its gap is small and the paired contrast is 0.",
        "departure": "The test set is a held-out split of the digits, so the ID risk is not saturated (about 0.2); the gap is paired on the same images and border draws.",
    },
    "digits/distillation": {
        "threshold_why": "Measured before (width 256, 3 000 steps, 4 seeds): ReLU student ID 0.0016 vs OOD 0.33 (about 200x), head accuracy 0.975 -> 0.919; linear student 0.0098 vs 0.039 (about 4x). Bounds: ID <= 0.01, OOD/ID >= 20 (a tenth of 200), accuracy loss >= 0.02 (a third of 0.056), log10 contrast >= 1 (measured about 1.7).",
        "mutant": "A student trained with the OOD (negated) borders as well as the ID ones: it learns to ignore the border, so OOD/ID, the accuracy loss and the contrast fail.",
        "departure": "Teacher = a 10-class ReLU network on unbordered images (not a pretrained CLIP-like model); the linear student is stated as a paired contrast, not as immune (with a finite image set its OOD error also grows). Run with twice the profile's replicates (the accuracy loss is noisy across replicates).",
    },
}

CLAIMS: dict[str, Claim] = {r[0]: Claim(*r, **_DOCS.get(r[0], {})) for r in _ROWS}


def claim(claim_id: str) -> Claim:
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; known: {sorted(CLAIMS)}")
    return CLAIMS[claim_id]
