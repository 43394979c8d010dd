"""Every claim the suite checks: its id, paper reference, statement and assertion count.

``assertions`` is the number of intervals a check asserts per Hypothesis example (exact,
deterministic identities count 0: they spend no error budget). ``heavy`` checks run fewer
generated examples. The table is static so that the error budget does not depend on which
tests were collected.
"""

from __future__ import annotations

from dataclasses import dataclass

from fc_check.maps import MAPS


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
    map_cells: tuple[tuple[str, int], ...] = ()  # a validity map's inside cells per profile (its slots)

    def slots(self, profile: str, examples: int) -> int:
        """Assertion slots under a profile: a map's inside cells (one run per profile), else
        ``assertions`` per Hypothesis example."""
        return dict(self.map_cells)[profile] if self.map_cells else self.assertions * examples


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
    ("invariant/latent-equals-full", "claims.md §2 (latent reduction)", "Training in latent coordinates and in full input space gives the same trajectory (float64).", 0, "properties/test_latent_reduction.py"),
    ("map/theorem-4.2/contamination-ratio", "Theorem 4.2 (validity map)", "Over LeakyReLU slope x k_bg/k_core, the contamination ratio's interval clears 0.2 in every cell of the declared region (ReLU, k_bg/k_core <= 2).", 0, "maps/test_contamination.py"),
    ("map/theorem-4.3/ood-gap", "Theorem 4.3 (validity map)", "Over LeakyReLU slope x k_bg/k_core, the paired OOD - ID hinge gap's interval clears 0.2 in every cell of the declared region (ReLU, 1/2 <= k_bg/k_core <= 2).", 0, "maps/test_ood_gap.py"),
    ("map/theorem-4.1/persistence", "Theorem 4.1 (validity map)", "Over k_bg/k_core x width m, the share of replicates whose onset criterion persists from T0 on clears 0.5 in every cell of the declared region (eps <= 0.16, k_bg < k_core).", 0, "maps/test_persistence.py"),
    ("map/theorem-4.1/t0-scaling", "Theorem 4.1 (validity map)", "Over k_bg/k_core x eps, the median of T0 eps lies within [0.5, 8] in every cell of the declared region (eps <= 0.16, k_bg < k_core).", 0, "maps/test_onset.py"),
]

# Per-claim documentation (claim id -> {"threshold_why", "mutant", "departure"}), kept apart from
# the rows so that each claim's prose can be edited without touching the table.
_DOCS: dict[str, dict[str, str]] = {
    "map/theorem-4.2/contamination-ratio": {
        "threshold_why": "0.2 is the bound of the Theorem 4.2 check; the region stops at k_bg/k_core = 2 because the ratio falls with more background coordinates (0.17 at k_bg = 32 measured before the map).",
        "mutant": "zero-mean background (U[-1,1]): no contamination, so inside cells FAIL.",
        "departure": "LeakyReLU cells are outside the theorem (ReLU only) and are drawn, not asserted.",
    },
    "map/theorem-4.3/ood-gap": {
        "threshold_why": "0.2 is the bound of the Theorem 4.3 check; below k_bg/k_core = 1/2 the gap is real but smaller (0.12 at k_bg = 2 measured before the map).",
        "mutant": "zero-mean background (U[-1,1]): nothing learned from the background, so the OOD shift costs nothing and inside cells FAIL.",
        "departure": "Reads the contamination map's training runs (6000 steps at m = 64, eta = 0.05).",
    },
    "map/theorem-4.1/persistence": {
        "threshold_why": "0.5: the claim holds w.h.p. over replicates, so more than half must persist; 128 replicates let a true 0.75 clear it.",
        "mutant": "shuffled labels: no class structure, the criterion is never met and inside cells FAIL.",
        "departure": "Trains 3 m/eta steps (not 5 m/eta): lapses came by 1.2 m/eta and the ID risk was 0.03 at 3 m/eta in a pilot; under default the cells outside the region run 64 replicates, for cost.",
    },
    "map/theorem-4.1/t0-scaling": {
        "threshold_why": "T0 eps was 1.6-2.6 over the scaling grid; [0.5, 8] allows a factor 3-4 either way.",
        "mutant": "init N(0, 1) instead of N(0, 1/d): the onset comes about a hundred times later and inside cells FAIL.",
        "departure": "The median with a distribution-free interval, censored replicates (T0 eps > 512) entered above all others.",
    },
}

# A map's slots are its inside cells under each profile's grid (declared in fc_check.maps).
_MAP_CELLS = {cid: tuple((p, spec.inside_cells(p)) for p, _ in spec.grids) for cid, spec in MAPS.items()}

CLAIMS: dict[str, Claim] = {r[0]: Claim(*r, **_DOCS.get(r[0], {}), map_cells=_MAP_CELLS.get(r[0], ())) for r in _ROWS}


def claim(claim_id: str) -> Claim:
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; known: {sorted(CLAIMS)}")
    return CLAIMS[claim_id]
