"""Built-in derivations: the seed's three-layer deep Boltzmann machine.

:func:`seed_derivation` is what ``symrg derive`` runs when no file is named: integrate
``s`` then ``h`` out of ``E(v, h, s)`` (docs/marginalization.md, "Worked example"), print both renormalized
hamiltonians in vector notation, read each step as a cumulant statement, and check the
result numerically against brute force on a random explicit instance.

Examples
--------
>>> doc = seed_derivation(n_v=3, n_h=2, n_s=2, seed=0)
>>> doc.passed
True
>>> sorted(doc.results)
['C', 'H(v)', 'H(v,h)', 'W C W^T']
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from symrg.engine.canonical import canonical_form
from symrg.engine.joint_cumulants import gaussian_layer_cumulant
from symrg.engine.marginalization import fold_all, marginalize
from symrg.model.energy import seed_dbm
from symrg.output.document import Derivation
from symrg.output.numeric import lambdify
from symrg.verify.brute_force import brute_force_log_weight, crosscheck, random_parameters

__all__ = ["seed_derivation"]

TOLERANCE = 1e-10


def seed_derivation(n_v: int = 4, n_h: int = 3, n_s: int = 2, seed: int = 0) -> Derivation:
    """The seed's derivation, abstract (vector notation) then checked on an explicit instance.

    Parameters
    ----------
    n_v, n_h, n_s
        Sizes of the explicit instance used for the numeric cross-check.
    seed
        Seed of the random parameters of the cross-check.
    """
    doc = Derivation("Three-layer deep Boltzmann machine: integrating out $s$, then $h$")
    model = seed_dbm()
    doc.section(
        "The model",
        "Visible Bernoulli units $v$, hidden Gaussian layers $h$ and $s$ (unit precision), stacked "
        "$v - h - s$. The flow runs from the UV layer $s$ to the IR layer $v$.",
    )
    doc.equation("E(v, h, s)", model)

    step1 = marginalize(model, "s")
    folded1 = fold_all(step1)
    doc.section("Step 1: integrate out $s$", f"Rule: {step1.history[-1].rule}. {step1.history[-1].detail}.")
    doc.equation("H(v, h)", step1)
    doc.text("Expanding the square (Schur complement), the couplings of the surviving layers read")
    doc.equation("H(v, h)", folded1, name="H(v,h)")
    doc.text(
        "Cumulant reading: the $h$-$h$ interaction is renormalized by $-U U^T$, the coupling to the UV layer "
        "times the second cumulant (the covariance, here $I$) of the prior of $s$; the field of $h$ shifts by "
        "$U c$, the coupling times the first cumulant (the mean $c$)."
    )

    step2 = marginalize(step1, "h")
    doc.section("Step 2: integrate out $h$", f"Rule: {step2.history[-1].rule}. {step2.history[-1].detail}.")
    where = {i.symbol: i.definition for i in step2.intermediates}
    doc.equation("H(v)", step2, name="H(v)", where=where)
    for sym, definition in where.items():
        doc.results[str(sym)] = definition
    doc.conditions(step2.conditions)
    W, C = sp.MatrixSymbol("W", *step2.params["W"].symbol.shape), next(iter(where))
    doc.text(
        "The visible units now interact pairwise through $W C W^T$, the coupling times the covariance of $h$ "
        "under its renormalized prior (precision $I - U U^T$). Because $v_i^2 = v_i$, the diagonal of that "
        "matrix folds into the visible field in the canonical form."
    )
    doc.equation("J_{vv}", W * C * W.T, name="W C W^T")

    _numeric_checks(doc, n_v, n_h, n_s, seed)
    return doc


def _numeric_checks(doc: Derivation, n_v: int, n_h: int, n_s: int, seed: int) -> None:
    """Cross-check an explicit instance against brute force (enumeration + joint Gaussian integral)."""
    model = seed_dbm(n_v, n_h, n_s)
    eff = marginalize(model, "s", "h")
    report = crosscheck(eff, seed=seed, tolerance=TOLERANCE)
    doc.section(
        "Numeric cross-check",
        f"Random instance $n_v = {n_v}$, $n_h = {n_h}$, $n_s = {n_s}$ (seed {seed}); the reference enumerates "
        "every visible configuration and integrates $h$ and $s$ jointly as one Gaussian integral.",
    )
    doc.check(f"max relative error of $H(v)$ over all {2 ** n_v} visible states", report.max_rel_error, 0.0, TOLERANCE)
    # every visible state is enumerated, so log Z and the correlators are compared too
    assert report.log_z_error is not None and report.correlator_error is not None
    doc.check("relative error of $\\log Z$ (partition function preserved)", report.log_z_error, 0.0, TOLERANCE)
    doc.check("max error of the pair correlators $\\langle v_i v_j \\rangle$", report.correlator_error, 0.0, TOLERANCE)

    # the cumulant reading of step 1: Q_h = I - U K2 U^T with K2 the covariance of the prior of s
    rng = np.random.default_rng(seed)
    vals = random_parameters(model, rng, scale=0.4)
    blocks = lambdify(fold_all(marginalize(model, "s"))).parameters(**vals)
    k2 = np.array([[gaussian_layer_cumulant((i, j), np.eye(n_s), vals["c"]) for j in range(n_s)] for i in range(n_s)])
    k1 = np.array([gaussian_layer_cumulant((i,), np.eye(n_s), vals["c"]) for i in range(n_s)])
    U = vals["U"]
    doc.check(
        "$h$-$h$ coupling shift $= U \\kappa_2(s) U^T$ (max entry error)",
        float(np.abs(blocks["Q_h"] - (np.eye(n_h) - U @ k2 @ U.T)).max()), 0.0, TOLERANCE,
    )
    doc.check(
        "$h$ field shift $= U \\kappa_1(s)$ (max entry error)",
        float(np.abs(blocks["theta_h"].ravel() - (vals["b"] + U @ k1)).max()), 0.0, TOLERANCE,
    )
    # the canonical pair coupling of two visible units against inclusion-exclusion of brute force
    small = seed_dbm(2, n_h, n_s)
    vals2 = random_parameters(small, rng, scale=0.4)
    configs = np.array(list(itertools.product([0.0, 1.0], repeat=2)))
    H = brute_force_log_weight(small, vals2, {"v": configs})
    mobius = H[3] - H[1] - H[2] + H[0]
    f = lambdify(fold_all(marginalize(small, "s", "h")))
    J = f.parameters(**vals2)["Q_v"]
    doc.check(
        "pair coupling $((Q_v)_{12} + (Q_v)_{21})/2$ against $H(11) - H(10) - H(01) + H(00)$",
        float(J[0, 1] + J[1, 0]) / 2, mobius, TOLERANCE,
    )
    cf = canonical_form(marginalize(seed_dbm(2, 1, 1), "s", "h"))
    doc.text("Canonical form of a 2-1-1 instance (energy coefficients by order; $v^2 = v$ applied):")
    doc.table(["order", "units", "coefficient"], [list(r) for r in cf.table()])
