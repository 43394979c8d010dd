"""Every claim the suite checks: its id, paper reference, statement and assertion count.

``assertions`` is the number of intervals a check asserts per Hypothesis example (exact,
deterministic identities count 0: they spend no error budget). ``heavy`` checks run fewer
generated examples. The table is static so that the error budget does not depend on which
tests were collected.
"""

from __future__ import annotations

from dataclasses import dataclass

from fc_check.boundaries import BOUNDARIES
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
    boundary_series: tuple[tuple[str, int], ...] = ()  # a boundary's asserted series per profile (its slots)
    refines: str = ""  # a boundary: the validity map whose region it tests

    def slots(self, profile: str, examples: int) -> int:
        """Assertion slots under a profile: a map's inside cells or a boundary's asserted series (one
        run per profile), else ``assertions`` per Hypothesis example."""
        if self.map_cells:
            return dict(self.map_cells)[profile]
        if self.boundary_series:
            return dict(self.boundary_series)[profile]
        return self.assertions * examples


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
    ("dose-response/leaky-slope", "Sections 4-5 (activation)", "LeakyReLU: contamination decreases with the slope, >= 0.2 at slope 0 and <= 0.05 at slope 1.", 3, "properties/test_dose_response.py"),
    ("control/zero-mean-background", "Section 4 (mechanism)", "Zero-mean background (U[-1,1]) gives no contamination (<= 0.05) while U[0,1] does (>= 0.2), on the same seeds.", 2, "properties/test_controls.py"),
    ("control/no-spurious-correlation", "Definition 3.1", "The ID background is uncorrelated with the label: the correlation's interval contains 0 and lies inside +-0.02.", 1, "properties/test_controls.py"),
    ("distillation/relu-student", "Section 2, Figure 1", "A ReLU student fits the teacher's core representation on ID data (MSE <= 0.05), its OOD error is >= 10x its ID error, and a linear probe on it loses >= 0.03 OOD accuracy.", 3, "properties/test_distillation.py"),
    ("distillation/linear-student", "Section 2, Figure 1", "A linear student shows neither: OOD - ID representation error inside +-0.01 and probe accuracy loss <= 0.03.", 2, "properties/test_distillation.py"),
    ("digits/contamination", "Section 5, Figure 6 (handwritten digits)", "On digit images with a U[0,1] border independent of the label, ReLU learns the border: mean|G_k| / mean C_k >= 0.12, and exceeds the identity network's by >= 0.08 on the same seeds.", 2, "properties/test_digits.py"),
    ("digits/border-sign", "Lemma 1.1, Figure 6 (handwritten digits)", "ReLU's learned border weights are positive on average for the neurons of both classes (sign of a_k y_k); the identity network's average over all neurons is inside +-0.02 (relative to mean C_k).", 3, "properties/test_digits.py"),
    ("digits/ood-gap", "Theorem 4.3 on handwritten digits", "Negating the border raises ReLU's paired test hinge risk by >= 0.1, and by >= 0.05 more than the identity network's on the same seeds.", 2, "properties/test_digits.py"),
    ("digits/distillation", "Section 2, Figure 1 (handwritten digits)", "A ReLU student fitting an unbordered-image teacher's representation on bordered digits fits it ID (relative error <= 0.01), its OOD error is >= 20x its ID error, the teacher's head on it loses >= 0.02 accuracy OOD, and log10(OOD/ID) exceeds a linear student's by >= 1.", 4, "properties/test_digits.py", True),
    ("digits/three-families", "Section 2, Figure 1 (handwritten digits, 10 classes)", "Linear probes on ReLU students distilled from an unbordered-image teacher lose OOD accuracy (border negated, or one brighter) by >= 0.05 more than probes on the teachers themselves (whose drop is exactly 0), and at matched ID accuracy lie nearer to standard networks trained on bordered images than to the teachers' probes; per shift, paired by seed.", 4, "properties/test_digits_figure1.py", True),
    ("digits/activation-rates", "Section 4, Figure 4 (handwritten digits, 10 classes)", "Distillation raises the share of (hidden unit, class) pairs whose activation rate P[h_k > 0 | c] on ID test images is <= 0.1, over all units and over the units that fire on some class (paired by seed, distilled vs random init).", 2, "properties/test_digits_figure4.py"),
    ("digits/selectivity", "Figure 5 (handwritten digits, 10 classes)", "The distilled student's mean class-selectivity index exceeds its random init's on ID data, and drops from ID to OOD (border negated, or one brighter), also beyond the random network's own change (paired by seed).", 5, "properties/test_digits_figure5.py"),
    ("deep/feature-visualisation", "Section 5, Figure 6 (a CNN on digits with a constant-colour border)", "The activation maximisers of a CNN trained on digits with a constant (150, 50, 50) border lean to the border's hue: their mean hue projection exceeds that of an unbordered CNN (same seeds, splits, inits, batches) by >= 0.24.", 1, "properties/test_figure_6_cnn.py", True),
    ("deep/ood-gap", "Section 5, Theorem 4.3 (a CNN on digits with a constant-colour border)", "Removing the border costs the bordered CNN >= 0.22 test accuracy, and >= 0.07 more than the unbordered CNN loses when the border is added (paired).", 2, "properties/test_figure_6_cnn.py", True),
    ("deep/grad-cam", "Section 5, Grad-CAM (a CNN on digits with a constant-colour border)", "On bordered test images, the bordered CNN's Grad-CAM for the correct class puts >= 0.05 more of its mass on border pixels than the unbordered CNN's (paired).", 1, "properties/test_figure_6_cnn.py", True),
    ("figure-3abc/theory-matching", "Figure 3(a)-(c), the authors' theory-matching run", "Hinge loss, SGD with momentum, output frozen at +-1/256, signed core: the ID hinge falls below a bound while the OOD hinge stays above one, the background correlation grows by a factor and the mean activation asymmetry rises (bounds per run length).", 4, "properties/test_theory_matching.py", True),
    *[(f"figure-3d/depth-{n}", f"Figure 3(d), depth {n}", f"General setting with {n} linear layers: the first-layer background correlation ends >= 1.154x its initial value (above a linear network's drift) and the OOD loss exceeds the training loss (paired).", 2, "properties/test_figure_3d_depth.py", True) for n in (3, 4)],
    ("invariant/latent-equals-full", "Implementation invariant (the model of Section 3)", "Training in latent coordinates and in full input space gives the same trajectory (float64).", 0, "properties/test_latent_reduction.py"),
    ("map/theorem-4.2/contamination-ratio", "Theorem 4.2 (validity map)", "Over LeakyReLU slope x k_bg/k_core, the contamination ratio's interval clears 0.2 in every cell of the declared region (ReLU, k_bg/k_core <= 2).", 0, "maps/test_contamination.py"),
    ("map/theorem-4.3/ood-gap", "Theorem 4.3 (validity map)", "Over LeakyReLU slope x k_bg/k_core, the paired OOD - ID hinge gap's interval clears 0.2 in every cell of the declared region (ReLU, 1/2 <= k_bg/k_core <= 2).", 0, "maps/test_ood_gap.py"),
    ("map/theorem-4.1/persistence", "Theorem 4.1 (validity map)", "Over k_bg/k_core x width m, the share of replicates whose onset criterion persists from T0 on clears 0.5 in every cell of the declared region (eps <= 0.16, k_bg < k_core).", 0, "maps/test_persistence.py"),
    ("map/theorem-4.1/t0-scaling", "Theorem 4.1 (validity map)", "Over k_bg/k_core x eps, the median of T0 eps lies within [0.5, 8] in every cell of the declared region (eps <= 0.16, k_bg < k_core).", 0, "maps/test_onset.py"),
    ("boundary/theorem-4.1/persistence", "Theorem 4.1 (boundary)", "The k_bg/k_core at which the persistence share crosses 1/2 lies, at every width with eps <= 0.16, wholly outside the persistence map's region (at or above k_bg = k_core), located to a half-width of 1/16 (ci: 1/8); its trend with 1/sqrt(m) is stated.", 0, "maps/test_boundary_persistence.py"),
    ("boundary/theorem-4.1/onset", "Theorem 4.1 (boundary)", "The k_bg/k_core at which the median T0 eps leaves [1/2, 8] upward (P(T0 eps > 8) crosses 1/2) lies, at every width with eps <= 0.16, wholly outside the onset map's region (at or above k_bg = k_core), to a half-width of 1/16; its trend with 1/sqrt(m) is stated.", 0, "maps/test_boundary_onset.py"),
    ("boundary/theorem-4.2/contamination-ratio", "Theorem 4.2 (boundary)", "The LeakyReLU slope at which the contamination ratio crosses 0.2 lies above slope 0 (outside the map's ReLU region) at k_bg/k_core = 1/2, 1, 2, to a half-width of 0.05; its trend with 1/sqrt(m) is stated.", 0, "maps/test_boundary_contamination.py"),
    ("boundary/theorem-4.3/ood-gap", "Theorem 4.3 (boundary)", "For ReLU, the k_bg/k_core at which the paired OOD - ID hinge gap crosses 0.2 on the small-background side lies below 1/2 (outside the map's region) at every width with eps <= 0.16, to a half-width of 1/16; its trend with 1/sqrt(m) is stated.", 0, "maps/test_boundary_ood_gap.py"),
]

# Per-claim documentation (claim id -> {"threshold_why", "mutant", "departure"}), kept apart from
# the rows so that each claim's prose can be edited without touching the table.
_T0_NOTE = ("Measured by running the simulator in the paper-like regime (k_core = k_bg = 8, m = 64, d = 2^14, eta = 0.05, B = 32, "
            "3000 steps, 16 replicates) before the checks were written: ")
_DOCS: dict[str, dict[str, str]] = {
    "lemma-1.1/closed-form-equals-autograd": {
        "threshold_why": "Both sides are computed in float64 from the same inputs; the only difference is round-off in sums of a few thousand terms, orders of magnitude below 1e-10 in relative terms, while a wrong formula differs at order 1.",
        "mutant": "The ReLU indicator 1{<w_k, x> > 0} is dropped, which is the linear network's gradient: the relative gap becomes of order 1.",
    },
    "lemma-1.1/projection-identity": {
        "threshold_why": "As for the closed form: float64 round-off only.",
        "mutant": "The same indicator-free gradient: its projections no longer match the formula with the indicator.",
    },
    "lemma-1.1/linear-background-projection-zero": {
        "threshold_why": "For ReLU at the same state the RMS background projection is of order (E[z_j]/2)·|Delta_k| ≈ 0.25 × 0.28 ≈ 0.07 (|Delta_k| averages about 0.28 at init), so 0.02 separates 'zero' from the ReLU value with room for the 100 000-sample estimate's noise.",
        "mutant": "A ReLU network in place of the linear one: its background projection is not zero.",
    },
    "lemma-1.1/relu-background-projection-tracks-asymmetry": {
        "threshold_why": "The derivation treats one background coordinate as independent of the activation event; measured before the checks were written (m = 64, d = 2^16, 200 000 samples) the correlation was 0.998-0.9997 and the slope 0.23-0.25 against 0.25 predicted. 0.9 and ±20% leave room for smaller widths and samples while a sign or mechanism error fails.",
        "mutant": "The identity activation: its projection is zero and does not follow Delta_k (correlation near 0).",
    },
    "lemma-1.2/hoeffding-exceedance": {
        "threshold_why": "Hoeffding's inequality bounds the exceedance probability by delta; the population value's own error is added to the radius so that a counted exceedance is a real one.",
        "mutant": "A gradient estimator with a constant bias of half a term's range: the batch mean misses the population value by more than the radius far more often than delta.",
    },
    "lemma-1.2/rate": {
        "threshold_why": "The N^(-1/2) rate is exact for a mean of i.i.d. bounded terms; a half-width of 0.1 makes the interval resolve -1/2 from -0.3 or -0.7 (a different law) while the replicate-clustered OLS over the profile's replicates can reach it.",
        "mutant": "The biased estimator: its gap stops shrinking with N (slope near 0).",
    },
    "theorem-4.1/no-asymmetry-at-init": {
        "threshold_why": "At init the asymmetry of each neuron is a random sign times about 0.28 (disjoint core sets), so its signed mean over neurons is zero in law; ±0.05 is a fifth of that per-neuron size, so a systematic bias of the init towards each neuron's own class is caught.",
        "mutant": "An init with a positive offset on each neuron's own core features: asymmetric from the start.",
        "departure": "Sixteen times the profile's replicates (256 under ci; an init costs no training): with eight, the calibration study measured a fresh-seed fail rate of 0.12% at the weakest regime a ci run found (m = 32, d = 2^12, where the neuron-mean is taken over fewer neurons).",
    },
    "theorem-4.1/persistence": {
        "threshold_why": "'With high probability' becomes: a replicate meets the criterion at some T0 and at every later checkpoint with probability at least 1/2, a bar that a fragile or transient asymmetry does not clear; the 25% and Delta_k >= 0.5 criterion is the theorem's 'constant fraction ... activate on y and rarely on -y' made concrete.",
        "mutant": "Labels drawn independently of the features: no class structure, so no neuron becomes asymmetric.",
        "departure": "Checked with k_bg < k_core (4 of 8, generated 2 or 4). At k_bg = k_core = 8 the criterion lapses mid-training for one class in almost every replicate and recovers later: the class whose margins saturate first stops pushing the other-core weights down while the background weights keep growing. The verdict's note records this. Four times the profile's replicates (64 under ci): with 32 the share's Clopper-Pearson bound at the suite's level needs 29 of 32, and the calibration study measured a fresh-seed fail rate of 2.5% at a true share of 0.965.",
    },
    "theorem-4.1/t0-scaling": {
        "threshold_why": "The exponents (1, -1, -1/2) are those of T0 = Theta~(m / (eta sqrt(d))); a half-width of 0.3 tells 1 from 1/2 or 3/2 (a different law). The grid keeps eps = eta sqrt(d)/m <= 0.02 (17 of the 3 x 3 x 3 points), where T0 is about 100 steps or more: the theorem's law is for small eta. On a coarser grid (eps up to 0.64) the fitted exponents were about 1.2 and -0.8; on the whole 3 x 3 x 3 grid (eps up to 0.16, the grid until the calibration study) a pool of 384 replicates gave exponents m 0.970, eta -0.978, d -0.494 (T0 eps rising from 1.91 at eps 0.0025 to 2.08 at 0.08-0.16), and the check FAILed 0.45% of fresh seeds (9 of 2 000 resampled draws of 96), an eta or d interval just missing the theory's value; over the points with eps <= 0.02 the same pool gave 0.985, -1.000, -0.500.",
        "mutant": "Init scale fixed at 2^-7 instead of 1/sqrt(d): T0 stops depending on d, and the d exponent leaves -1/2.",
        "departure": "96 replicates per grid point (16 were enough for the 99% intervals measured before the checks were written, not at the suite's levels: the m exponent's spread is heavy-tailed) and a nested Gaussian init (same law; the first neurons shared across widths) so replicates are paired across m as the shared seed pairs them across eta and d. Replicates that never meet the criterion are censored: excluded from the fit and counted in every verdict; more than 5% is an error of the regime.",
    },
    "theorem-4.2/own-core-growth": {
        "threshold_why": "The theorem says the correlation grows after T0: a strictly positive lower bound is exactly that, with no effect size assumed.",
        "mutant": "Gradient ascent (the update's sign flipped): the own-core correlation falls.",
        "departure": "Generated regimes keep k_bg <= k_core (4 or 8 of 8). With more background than core the onset criterion is met late or never (median T0 2115 steps at k_bg = 12, m = 32, against about 17 predicted; all 24 replicates censored at m = 128), after the core is learned, so 'growth after T0' measures only the end of training. The default profile found this as a FAIL at m = 32, k_bg = 16 (growth 0.10 [-0.04, -]).",
    },
    "theorem-4.2/background-growth": {
        "threshold_why": "As for own-core growth: 'grows' is a strictly positive lower bound.",
        "mutant": "Zero-mean background U[-1,1]: the two classes' background contributions cancel and nothing grows.",
        "departure": "The same restriction to k_bg <= k_core as own-core growth, for the same reason. Both growth checks (and every Theorem 4.2 check) run twice the profile's replicates: about one replicate in a few hundred has every neuron inactive and grows by almost nothing, the statistic's skewness is about -11, and at 16 replicates the calibrated bound FAILed on a fresh seed 2% of the time (calibration study). Under default the two growth checks run four times the profile's replicates (96): at 48 the default study's calibrated level (a t tail of about 4e-33) left background growth FAILing 0.17% of fresh seeds at the pinned regime and 0.19% at the weakest, above 1e-3.",
    },
    "theorem-4.2/contamination-ratio": {
        "threshold_why": _T0_NOTE + "the ratio was about 0.43 for ReLU and 0.02 for the identity. 0.2 is the theorem's 'bounded below by a constant' made concrete: half the ReLU value, ten times the linear one.",
        "mutant": "Zero-mean background U[-1,1]: the ratio drops to about 1e-4.",
    },
    "theorem-4.2/other-core-no-growth": {
        "threshold_why": "'Does not grow' from a zero-mean init: the mean stays at or below 0 (the other class pushes these weights down).",
        "mutant": "A sampler that leaves the other class's core features in place: they behave like background and grow.",
    },
    "theorem-4.2/background-tracks-asymmetry": {
        "threshold_why": "Lemma 1.1 makes each neuron's background update proportional to its asymmetry, so across neurons the two should be strongly correlated; 0.5 asks for a clear positive association without requiring the lemma's near-perfect linearity at the end of training.",
        "mutant": "Zero-mean background: background weights no longer follow asymmetry.",
        "departure": "Eight times the profile's replicates (128 under ci). A replicate whose neurons are all inactive has no asymmetry and counts as a correlation of 0, against the claim; at 32 replicates two such replicates in a draw FAIL the calibrated bound, and the calibration study measured a fresh-seed fail rate of 0.34%; at 64, 2.4% at the weakest regime a ci run found (m = 32, d = 2^12), with the level that holds at both regimes.",
    },
    "theorem-4.3/id-risk": {
        "threshold_why": "'After training the ID risk is small': " + _T0_NOTE + "the ID hinge risk was about 0.04 at 3000 steps (ReLU); regimes train for about 5 m / eta steps, past saturation.",
        "mutant": "Gradient ascent: the risk grows instead.",
    },
    "theorem-4.3/ood-gap": {
        "threshold_why": _T0_NOTE + "ID / OOD hinge risks about 0.04 / 0.55 for ReLU and 0.022 / 0.022 for the identity; 0.2 is the theorem's 'constant gap', well below the ReLU gap and far above the linear one.",
        "mutant": "No OOD shift (the OOD background is U[0,1] like ID): the gap vanishes.",
    },
    "theorem-4.3/ood-error-grows-with-background": {
        "threshold_why": "'Grows with k_bg / k_core' is a strictly positive trend over the ordered levels 4, 8, 16, 24 (k_core = 8), with no effect size assumed.",
        "mutant": "No OOD shift: the OOD error stays at the ID error for every k_bg.",
    },
    "theorem-4.4/no-contamination": {
        "threshold_why": _T0_NOTE + "the identity's ratio was about 0.02 (from the finite-sample noise of the background weights), ReLU's about 0.43; 0.05 is the theorem's 'no background' with room for that noise.",
        "mutant": "A ReLU network in place of the linear one.",
    },
    "theorem-4.4/no-ood-gap": {
        "threshold_why": "A linear network's OOD and ID risks are equal in law (0.022 and 0.022 measured in the paper-like regime); ±0.02 is a tenth of the ReLU gap threshold.",
        "mutant": "A ReLU network: its OOD gap is about 0.5.",
    },
    "theorem-4.4/relu-contrast": {
        "threshold_why": "The difference of the two ratios on identical seeds (about 0.43 - 0.02) must be at least the contamination threshold 0.2.",
        "mutant": "A ReLU network in place of the linear one: the paired difference is about 0.",
    },
    "figure-3a": {
        "threshold_why": "The figure shows ID risk going to about 0 while OOD risk stays high; the thresholds are those of Theorem 4.3 (ID <= 0.05, OOD >= 0.2), for the same reasons.",
        "mutant": "The identity activation: its OOD risk stays at its ID risk.",
    },
    "figure-3b": {
        "threshold_why": "The figure's mean asymmetry rises from about 0 to a clear plateau; 0.3 both for the end value and for the paired rise excludes the init level (|Delta_k| about 0.28, signed mean 0).",
        "mutant": "Labels independent of the features: no asymmetry develops.",
    },
    "figure-3c": {
        "threshold_why": "'Both rise': strictly positive lower bounds for the end-minus-start of each correlation, no effect size assumed.",
        "mutant": "Zero-mean background: the background correlation does not rise.",
    },
    **{f"figure-3d/{a}": {
        "threshold_why": "'Well above its initial value' becomes at least twice it (log ratio >= log 2); in runs of the authors' public script toy.py (repository trzhang0116/feature-contamination on GitHub) the background correlation went from 0.20 to 0.79-2.20 after 1000 iterations and 1.24-5.17 after 20 000, four activations. The OOD loss exceeding the training loss is a strictly positive paired log ratio.",
        "mutant": "The identity activation in the same general setting: its background weights do not grow." if a == "relu" else "One check function serves the four activations.",
        "departure": "Both ratios are tested on the log scale: across replicates they span an order of magnitude (sigmoid's OOD loss from about 1 to 20), and the mean of the logarithm is what a t interval over a dozen replicates resolves. The ci profile runs 1 000 iterations instead of the authors' 20 000.",
    } for a in ("relu", "gelu", "sigmoid", "tanh")},
    "dose-response/leaky-slope": {
        "threshold_why": "LeakyReLU interpolates between ReLU (slope 0: ratio about 0.43) and the identity (slope 1: about 0.02); measured before the checks were written, slopes 0.1 / 0.5 / 0.9 gave 0.42 / 0.41 / 0.11. The end thresholds are those of Theorems 4.2 and 4.4; the trend only needs to be non-increasing (upper bound of the slope <= 0).",
        "mutant": "The slopes reversed (slope s runs as 1 - s): contamination rises with the slope.",
    },
    "control/zero-mean-background": {
        "threshold_why": "The mechanism is the background's non-zero mean: with U[-1,1] the ratio was about 1e-4, with U[0,1] about 0.43 on the same seeds. The thresholds are those of Theorems 4.4 and 4.2.",
        "mutant": "A sampler that ignores the configured background and always draws U[0,1]: the zero-mean run contaminates too.",
    },
    "control/no-spurious-correlation": {
        "threshold_why": "By construction the ID background is independent of y, so the correlation is zero; ±0.02 is an equivalence margin an 80 000-sample estimate per replicate resolves, while a background mean shifted by 0.1 y gives a correlation near 0.1.",
        "departure": "80 000 samples per replicate rather than the 20 000 first used: with 20 000 (sd 0.007 per replicate) the calibration study measured a fresh-seed fail rate of 0.9% under ci; four times the samples halve the sd.",
        "mutant": "A background whose mean is shifted by 0.1 y: a spurious correlation.",
    },
    "distillation/relu-student": {
        "threshold_why": "Measured before the checks were written (width 128, k_bg = 16): ID / OOD representation MSE 0.015 / 2.06 and probe accuracy OOD 0.93 against the teacher's 1.00. 0.05 says the student fits the teacher; 'many times' becomes >= 10; a probe loss of 0.03 is a third of the measured one.",
        "mutant": "A student fitted on ID and paired OOD samples together: it learns to ignore the background, so its OOD error stays near its ID error.",
        "departure": "The probe's OOD accuracy loss is heavy-tailed across replicates (median about 0.02 at k_bg = 16, a few replicates near chance), so it is measured at k_bg = 64 with twice the replicates, where the budgeted interval can resolve it.",
    },
    "distillation/linear-student": {
        "threshold_why": "A linear student measured 0 / 0 representation error and probe accuracy 1.00; ±0.01 and 0.03 are the margins of 'shows neither' next to the ReLU student's values.",
        "mutant": "The ReLU student in place of the linear one.",
        "departure": "The linear student trains with learning rate 0.5: at 0.05 it has not converged in the step budget.",
    },
    "deep/feature-visualisation": {
        "threshold_why": "Prototype runs before the check was written (this configuration, seeds 1 and 2, 16 replicates each): the paired contrast of the mean hue projection was 0.68 and 0.48 (bordered 0.56 and 0.46, unbordered -0.13 and -0.02); 0.24 is half the smaller. The hue projection is in [-1, 1] and 0 for hues unrelated to the border; an unbordered net's maximisers take the random hues of its untrained colour weights (its data are grey), so its mean is 0 in law.",
        "mutant": "A border resampled as zero-mean noise, colour x U[-1, 1] per pixel and channel (no mean colour for the network to learn): the contrast falls to about 0 (0.06 in a prototype).",
        "departure": "Digits (8 x 8, grey, ten classes) padded by 3 pixels and cropped to 12 x 12, a two-layer CNN (8 and 16 channels) trained 300 steps with Adam, instead of CIFAR-10 with an 8-pixel border and an adversarially trained ResNet-32; maximisers are 12 x 12 inputs by projected gradient ascent from grey on a channel's mean pre-activation with an L2 pull, without the authors' upscaling and blur. 2.5 x the profile's replicates: the unbordered net's random hues make the contrast vary across seeds (sd 0.24-0.30).",
    },
    "deep/ood-gap": {
        "threshold_why": "Prototype runs before the check was written (seeds 1 and 2, 16 replicates): the bordered net lost 0.49 and 0.45 test accuracy without its border (0.90-0.93 -> 0.41-0.48); the unbordered net lost 0.34 and 0.31 when the border was added, so the excess was 0.15 and 0.14. Each threshold is half the smaller prototype mean: 0.224 and 0.069.",
        "mutant": "The unbordered net in place of the bordered one: both arms train on unbordered images, so the bordered arm's drop and the excess are 0.",
        "departure": "The unbordered net's drop is measured on the swap of the same two test sets (no border -> the bordered net's border), so both nets move from their training border to the other one; a hue-reversed border (17, 117, 117), shown in the table, costs the bordered net 0.10-0.13 and the unbordered net 0.30-0.34.",
    },
    "deep/grad-cam": {
        "threshold_why": "The baseline, chosen before any measurement: the unbordered net's share on the same bordered images (same seed, crops, init), because the area share ignores where a CNN's maps fall for reasons other than the border (receptive fields, the zero padding at the image edge). The rule used elsewhere (half the prototypes' mean) gives no margin here: the prototypes' paired contrasts were -0.054 and 0.002 (seeds 1 and 2); 0.05, a twentieth of the map's mass, is declared as the smallest shift the claim could mean.",
        "mutant": "The unbordered net in place of the bordered one: identical networks, so the paired contrast is 0.",
        "departure": "Grad-CAM's channel weights are the head's weights averaged over positions (exact: the logits are linear in the last map); with a position-wise linear head about 40% of the maps have no positive mass, and a replicate with none is left out and counted.",
    },
    "figure-3abc/theory-matching": {
        "threshold_why": "One rule for every statistic: half-way between the curve's start and the weaker reference value at the run's length (geometrically for the ID hinge from 1 and the background ratio from 1; arithmetically for the OOD hinge and the asymmetry's rise). References: prototype runs before the check was written (seeds 1 and 2, 4 replicates; 4 000 iterations: ID 0.502, OOD 0.892, background x1.211, asymmetry rise 0.724) and, at 20 000 iterations, the authors' script run unmodified (ID 0.0037, OOD 0.770, background 0.2015 -> 0.360). Bounds at 4 000 (ci): ID <= 0.709, OOD >= 0.446, background >= x1.100, rise >= 0.362; at 20 000 (default): ID <= 0.061, OOD >= 0.385, background >= x1.337, rise >= 0.362.",
        "mutant": "The identity activation (a linear network, Theorem 4.4): its background correlation does not grow.",
        "departure": "The ci profile runs 4 000 of the 20 000 iterations (the ID hinge has halved, the OOD hinge has moved by a tenth, the background has grown 21%; the ID hinge reaches 0.04 only by about 8 000), with bounds for that length. Labels are drawn at random, not half and half; the OOD set has its own core draws (the authors' test set keeps the training core).",
    },
    **{f"figure-3d/depth-{n}": {
        "threshold_why": "Prototype runs before the check was written (300 iterations, 4 replicates per run): the identity (linear) network's first-layer background correlation grew by 1.034-1.070 at depths 3 and 4 (a fixed training set drifts it), ReLU's by 1.244-1.322 at depth 3 and 0.986-1.031 at depth 4. The factor is the geometric mean of the largest linear growth and the smallest ReLU depth-3 growth, sqrt(1.0696 x 1.2444) = 1.154, the same at every depth, so that a pass means more than a linear network's drift. The OOD loss exceeding the training loss is a strictly positive paired log ratio.",
        "mutant": "The identity activation: a linear network's first layer grows less than the factor." if n == 3 else "One check function serves both depths (its mutant is registered for depth 3).",
        "departure": "The ci profile runs 300 of the 20 000 iterations (the training loss is 3e-4 and the depth-3 growth 1.24-1.32 by then); the authors' script at depth 3 gives 0.2025 -> 0.323 (x1.6) at 20 000 iterations.",
    } for n in (3, 4)},
    "invariant/latent-equals-full": {
        "threshold_why": "With no input noise every gradient lies in the span of the dictionary, so the two trajectories are the same arithmetic up to float64 round-off.",
        "mutant": "A dictionary without the QR step (Gaussian columns scaled by 1/sqrt(d)): not orthonormal, so the latent run is not the full run.",
        "departure": "Not a claim of the paper: the suite's own exact reduction (training in latent coordinates, at a cost independent of d), checked because every other verdict relies on it.",
    },
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
    "digits/three-families": {
        "threshold_why": "Prototype before the check (8 replicates, seed 0, b = 2, lengths 1 000 and 3 000): family (i) drop 0 (by construction); negated border: distilled family (ii) 0.365 (per configuration 0.14-0.54), standard family (iii) 0.245 (0.17-0.31); brighter border: (ii) 0.024 (0.003-0.050), (iii) 0.174 (0.150-0.190). 0.05 is a third of the smallest per-configuration drop of the standard family (0.150): the least loss called failing OOD. The midpoint statistic's threshold 0 is the claim itself (nearer to (iii) than to (i)); prototype 0.242 negated, -0.063 brighter.",
        "mutant": "Students fitted on the ID and the negated-border images together (the OOD-aware student): their drop under the negated border vanishes, so (ii) - (i) and the midpoint fail there.",
        "departure": "Teachers are 10-class ReLU networks trained on the unbordered images (not pre-trained CLIP models): robust by construction, since they never read the border; the analog does not show how a robust representation is obtained. Probes are ridge least-squares fits of one-hot labels (closed form) rather than logistic regression. Clouds: teachers of widths 32/64/128 after 200 and 1 000 steps; students and standard networks of widths 64/128/256 after 1 000 and 3 000 steps (500 and 1 500 under ci, where the prototype showed the same verdicts). 'At matched ID accuracy' is a line of slope 1 through each family (the clouds are too narrow in ID accuracy for a fitted slope). Heavy: its pinned regime only under ci and default.",
    },
    "digits/activation-rates": {
        "threshold_why": "'Rises' is the claim, with no effect size: threshold 0 (strict) for both shares. Prototype before the check (8 replicates): all pairs 0.255 -> 0.504 (seed 0, b = 2), rise 0.139 (seed 1, b = 1), 0.057 (learning rate 1e-3); among units that fire on some class about 0.23 -> 0.03, 0.168 -> 0.042, rise -0.119. Units silent on every class rose from 0.03 to 0.35-0.49, which is all of the first share's rise.",
        "mutant": "A student whose hidden layer is the identity (a linear student with the same parameters): its pre-activations change sign on more images after training, so the share of low-rate pairs falls (0.249 -> 0.128 in the prototype).",
        "departure": "The teacher's rates are drawn and noted, not asserted (it is trained on labels, and its share falls, 0.288 -> 0.133 in the prototype). Inputs are non-negative and not centred, so at init a zero-bias random unit fires on nearly all images or nearly none: a U-shaped histogram, unlike the paper's random CLIP-RN50. The second share (units that fire on some class) is added because a network whose units die passes the first alone.",
    },
    "digits/selectivity": {
        "threshold_why": "'More selective' and 'drops' are the claims, with no effect size: threshold 0 (strict) for each. Prototype before the check (8 replicates, seed 0, b = 2): selectivity ID 0.407 at init, 0.328 distilled ((a) -0.079); distilled ID - OOD 0.004 negated, 0.020 brighter; random network's own change -0.002 and 0.085. Seed 1, b = 1: (a) -0.098, drops -0.084 and 0.033. An earlier trial on a two-class theory network found selectivity rising OOD (0.56 -> 0.78, negated border).",
        "mutant": "A student whose hidden layer stays at its init (only the readout trains: random features): its selectivity equals the random network's, so (a) fails.",
        "departure": "The index is Morcos et al.'s over the class means of each hidden unit's ReLU activation, averaged over the units active on the test set (units silent on every class have no index; about half of the distilled student's units are silent on ID data). The random network is the student at its own init (zero biases, N(0, 1/fan_in) weights) on non-negative, uncentred inputs.",
    },
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
    "boundary/theorem-4.1/persistence": {
        "threshold_why": "The persistence map's declared region is k_bg < k_core (eps <= 0.16): the share must clear 1/2 there, so its crossing of 1/2 must lie at or above k_bg/k_core = 1; the half-width 1/16 is one step of the axis at k_core = 16 (ci: 1/8, the finest step its coarser design reaches in 95% of synthetic series shaped after the prototype).",
        "mutant": "shuffled labels: no class structure, the share is 0 at every k_bg and the crossing is reported below the axis, inside the region. A background U[0, 3/4] (mean scaled by 3/4) moves the crossing above k_bg = k_core, where tests/test_boundaries.py requires it to be reported.",
        "departure": "k_core = 16 (the map's is 8) so that k_bg/k_core moves in steps of 1/16; each batch of replicates has a seed of its own (cells independent).",
    },
    "boundary/theorem-4.1/onset": {
        "threshold_why": "The onset map's region is k_bg < k_core (eps <= 0.16) and its window for the median of T0 eps is [1/2, 8]; the median leaves it upward where P(T0 eps > 8) crosses 1/2, so that crossing must lie at or above 1. Half-width 1/16: one axis step at k_core = 16.",
        "mutant": "a background U[0, 3/2] (mean scaled by 3/2): the late onset comes at a smaller k_bg (prototype: P(late) 0.98 at k_bg/k_core = 3/4), inside the region, where it must be reported.",
        "departure": "k_core = 16; widths m at eta = 0.05 (the map moves eps through eta at m = 64); training stops at 8 / eps steps, all the statistic needs.",
    },
    "boundary/theorem-4.2/contamination-ratio": {
        "threshold_why": "The contamination map's region is ReLU (slope 0) with k_bg/k_core <= 2: the ratio must clear 0.2 there, so its crossing along the slope must lie above 0; the half-width 0.05 in slope is the unit the issue names (the fit reaches about 4e-4).",
        "mutant": "zero-mean background U[-1, 1]: the ratio is about 0 at every slope and the crossing is reported at or below slope 0, inside the region.",
        "departure": "Training length scaled with the width (6000 m / 64 steps, the map's 6000 at m = 64).",
    },
    "boundary/theorem-4.3/ood-gap": {
        "threshold_why": "The OOD-gap map's region is ReLU with 1/2 <= k_bg/k_core <= 2: the gap must clear 0.2 there, so on the small-background side its crossing must lie below 1/2; half-width 1/16, one axis step at k_core = 16.",
        "mutant": "zero-mean background U[-1, 1]: no gap at any k_bg, the crossing is reported above the axis's range, inside the region.",
        "departure": "k_core = 16 (the map's is 8); training length scaled with the width.",
    },
}

# A map's slots are its inside cells under each profile's grid (declared in fc_check.maps); a
# boundary's are its series inside the theory's conditions under each profile's design (fc_check.boundaries).
_MAP_CELLS = {cid: tuple((p, spec.inside_cells(p)) for p, _ in spec.grids) for cid, spec in MAPS.items()}
_BOUNDARY_SERIES = {cid: tuple((p, spec.slots(p)) for p, _ in spec.designs) for cid, spec in BOUNDARIES.items()}

CLAIMS: dict[str, Claim] = {r[0]: Claim(*r, **_DOCS.get(r[0], {}), map_cells=_MAP_CELLS.get(r[0], ()), boundary_series=_BOUNDARY_SERIES.get(r[0], ()),
                                        refines=BOUNDARIES[r[0]].refines if r[0] in BOUNDARIES else "") for r in _ROWS}


def claim(claim_id: str) -> Claim:
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; known: {sorted(CLAIMS)}")
    return CLAIMS[claim_id]
