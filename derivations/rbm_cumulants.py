"""The hidden layer of an RBM as a cumulant expansion (docs/cumulants.md).

Summing out the Bernoulli hidden layer of ``E(v, h) = -a^T v - b^T h - v^T W h`` gives the
closed form ``H(v) = -a^T v - sum_j log(1 + e^{b_j + (W^T v)_j})``.  Expanding each
log-partition in ``t_j = (W^T v)_j`` weights the induced n-body couplings by the n-th
cumulant of the hidden unit's prior: this is the "exact mapping" of Mehta and Schwab,
and the constant ``- sum_j log(1 + e^{b_j})`` is what keeps the partition function.
The script prints the closed form, the cumulants, the couplings order by order, the
exact couplings, and the convergence of the truncated series, all checked numerically.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
import sympy as sp

from symrg.engine.cumulants import cumulants
from symrg.engine.effective import convergence_ratio, cumulant_series, effective_couplings
from symrg.engine.marginalization import marginalize
from symrg.model.energy import rbm
from symrg.output.document import Derivation, format_number
from symrg.verify.brute_force import brute_force_log_weight, crosscheck

N_V, N_H, ORDER, SEED = 5, 3, 8, 7


def derivation() -> Derivation:
    doc = Derivation("RBM hidden layer: cumulant expansion and exact multi-body couplings")
    n_v, n_h = sp.symbols("n_v n_h", integer=True, positive=True)
    abstract = marginalize(rbm(n_v, n_h), "h")
    doc.section("Closed form", f"Rule: {abstract.history[-1].rule}. {abstract.history[-1].detail}.")
    doc.equation("E(v, h)", rbm(n_v, n_h))
    doc.equation("H(v)", abstract, name="H(v)")

    doc.section("Cumulants of the hidden units",
                r"Prior of hidden unit $j$: $q(h) \propto e^{b_j h}$. In $\sigma = 1/(1 + e^{-b})$:")
    for n, k in enumerate(cumulants("bernoulli", 6, variable="natural"), start=1):
        doc.equation(sp.Symbol(f"kappa_{n}"), sp.factor(k))
    m = sp.Symbol("m")
    doc.text(r"For a spin hidden unit, in $m = \tanh b$:")
    for n, k in enumerate(cumulants("spin", 4, variable="natural", natural=m), start=1):
        doc.equation(sp.Symbol(f"kappa_{n}"), sp.factor(k))

    small = marginalize(rbm(3, 2), "h")
    series3 = cumulant_series(small, order=4)
    doc.section("Induced couplings order by order",
                "Index notation, with the multiplicities of the reduction $v_i^2 = v_i$ explicit:")
    # the index formula is a comma-separated list of statements: one display each
    for part in series3.index_formula.split(r",\quad"):
        doc.equation(None, part.strip())
    v1, v2, v3 = series3.units
    doc.text(r"With the cumulants named, $\kappa_n(b_j)$ as above with $\sigma = \sigma(b_j)$:")
    for n in (2, 3, 4):
        doc.equation(f"c^{{({n})}}_{{v_1 v_2}}", series3.printed(n, (v1, v2)))
    doc.equation("c^{(3)}_{v_1 v_2 v_3}", series3.printed(3, (v1, v2, v3)))
    doc.text("Sufficient condition for convergence (each hidden unit):")
    doc.conditions(series3.radius_conditions)

    doc.section("Exact couplings", "Möbius inversion of $H(v)$: the pair coupling is a four-softplus expression.")
    exact3 = effective_couplings(small)
    doc.equation("c_{v_1 v_2}", exact3[(v1, v2)], name="c_12")

    # numeric: series against exact, exact against brute force
    model = rbm(N_V, N_H)
    eff = marginalize(model, "h")
    rng = np.random.default_rng(SEED)
    vals = dict(a=rng.normal(size=N_V) * 0.5, b=rng.normal(size=N_H) * 0.5, W=rng.normal(size=(N_V, N_H)) * 0.25)
    exact = effective_couplings(eff, vals)
    configs = np.array(list(itertools.product([0.0, 1.0], repeat=N_V)))
    H = brute_force_log_weight(model, vals, {"v": configs})
    series = cumulant_series(eff, order=ORDER)
    subs = model.substitutions(vals)
    rho = convergence_ratio(series, subs)
    units = series.units
    rows, errors = [], []
    subsets = [S for k in (1, 2) for S in itertools.combinations(range(N_V), k)]
    for N in range(1, ORDER + 1):
        err = max(abs(float(series.total(*[units[i] for i in S], upto=N).xreplace(subs)) - exact[sum(1 << i for i in S)]) for S in subsets)
        errors.append(err)
        rows.append([N, err, rho ** (N + 1)])
    doc.section(
        "Convergence of the truncated series",
        f"Random RBM with {N_V} visible and {N_H} hidden units (seed {SEED}); "
        f"$\\rho = \\max_j \\max_v |t_j| / R_j = {format_number(rho, 12)}$. "
        "Error of the fields and pair couplings against the exact ones:",
    )
    doc.table(["order $N$", "largest error", r"$\rho^{N+1}$"], rows, digits=4)
    # the exact couplings against inclusion-exclusion over brute-force energies
    worst = 0.0
    for mask in range(1 << N_V):
        S = [i for i in range(N_V) if mask >> i & 1]
        ref = sum((-1) ** (len(S) - r) * H[sum(1 << (N_V - 1 - i) for i in T)] for r in range(len(S) + 1) for T in itertools.combinations(S, r))
        worst = max(worst, abs(exact[mask] - ref))
    doc.check("largest error of the exact couplings against inclusion-exclusion of brute-force energies", worst, 0.0, 1e-12)
    doc.check(f"largest error of the series at order {ORDER} against the exact fields and pair couplings",
              errors[-1], 0.0, 1e-5)
    doc.check("ratio of the series errors at order 8 and order 1", errors[-1] / errors[0], 0.0, 1e-3)
    report = crosscheck(eff, values=vals)
    doc.check(r"relative error of $\log Z$ (partition function preserved)", report.log_z_error, 0.0, 1e-12)
    doc.text(
        "Reading: every order $n$ of the expansion is an n-body coupling among visible units weighted by "
        "the $n$-th cumulant of the hidden prior (the exact mapping); the constant $-\\sum_j \\log(1 + e^{b_j})$ "
        "keeps $Z$ unchanged, which is what makes the marginalization an RG step."
    )
    return doc


if __name__ == "__main__":
    d = derivation()
    print(d.render("text"))
    sys.exit(0 if d.passed else 1)
