"""Hubbard-Stratonovich layers: the Ising model as the spin marginal of a Gaussian-spin machine.

Run ``python derivations/hubbard_stratonovich.py`` or ``symrg derive derivations/hubbard_stratonovich.py``
(add ``--format latex`` for a standalone LaTeX document).  With the engine
(symrg.engine.hubbard_stratonovich, docs/marginalization.md) the script builds, for a
frustrated triangle and a ring of four spins with a symbolic coupling, the machine
``E(phi, s)`` whose spin marginal is the Ising model; integrates ``phi`` out and recovers the
Ising energy exactly (printed difference: 0); sums the spins out and gets the field theory
with its ``log 2cosh`` potential; and expands that potential in the spin cumulants, giving
the ``phi^2``, ``phi^4`` and ``phi^6`` couplings in closed form as functions of the field ``f``.
Numeric checks: the partition function (brute force against Gauss-Hermite quadrature of the
field theory), the potential's coefficients against mpmath's numerical Taylor expansion of
the exact ``log 2cosh``, and the truncated field theory against the exact one.
"""

from __future__ import annotations

import itertools
import math
import sys

import mpmath
import numpy as np
import sympy as sp

from symrg.engine.hubbard_stratonovich import explicit_energy, hubbard_stratonovich, potential_coefficients
from symrg.output.document import Derivation, format_number

#: the frustrated triangle: J_12 = J_23 = 1, J_13 = -1 (J_12 J_23 J_13 < 0), fields f
J_TRIANGLE = sp.Matrix([[0, 1, -1], [1, 0, 1], [-1, 1, 0]])
F_TRIANGLE = (sp.Rational(1, 3), sp.Integer(0), sp.Rational(-1, 2))
#: fields at which the potential's coefficients are compared with a numerical Taylor expansion
F_VALUES = (0.0, 1 / 3, -0.5, 1.2)
ORDER = 6


def _taylor(fv: float, order: int) -> list:
    """Coefficients of -log 2cosh(phi + f) in phi, by mpmath's numerical differentiation (30 digits)."""
    with mpmath.workdps(30):
        return [mpmath.mpf(c) for c in mpmath.taylor(lambda x: -mpmath.log(2 * mpmath.cosh(x + fv)), 0, order)]


def _log_z_quadrature(E: sp.Expr, phis: list, M: sp.Matrix, nodes: int = 40) -> float:
    """``log ∫ dphi exp(-E(phi))`` by a tensor Gauss-Hermite rule in ``phi = L z`` (``M = L L^T``)."""
    n = len(phis)
    L = np.linalg.cholesky(np.array(M.tolist(), dtype=float))
    x, w = np.polynomial.hermite_e.hermegauss(nodes)  # weight exp(-z^2 / 2)
    Z = np.array(list(itertools.product(x, repeat=n)))
    W = np.prod(np.array(list(itertools.product(w, repeat=n))), axis=1)
    P = Z @ L.T
    f = sp.lambdify(phis, E, "numpy")
    log_integrand = -f(*P.T) + 0.5 * np.sum(Z**2, axis=1)
    top = log_integrand.max()
    return float(math.log(abs(np.linalg.det(L))) + top + math.log(np.sum(W * np.exp(log_integrand - top))))


def derivation() -> Derivation:
    doc = Derivation("Hubbard-Stratonovich layers: the Ising model as a Gaussian-spin machine")
    doc.section(
        "Construction",
        r"For Ising spins $s_i = \pm 1$ with energy $H(s) = -\tfrac12 s^{T} J s - f^{T} s$ ($J$ symmetric, zero "
        r"diagonal) choose a shift $c$ making $M = J + c I$ positive definite; on spins $s^{T} s = n$, so "
        r"$\tfrac12 s^{T} J s = \tfrac12 s^{T} M s - \tfrac{c n}{2}$, and the Gaussian integral "
        r"$e^{\frac12 s^{T} M s} = \left[(2\pi)^{n} \det M\right]^{-1/2} \int d\phi\, "
        r"e^{-\frac12 \phi^{T} M^{-1} \phi + \phi^{T} s}$ "
        r"turns the pair couplings into a Gaussian layer $\phi$ of precision $M^{-1}$ coupled to each spin with "
        r"unit weight: the machine below, whose spin marginal is the Ising model, constant included.",
    )

    # -- the frustrated triangle ------------------------------------------------------------
    hs = hubbard_stratonovich(J_TRIANGLE, fields=list(F_TRIANGLE))
    c = hs.shift
    n = J_TRIANGLE.rows
    M = J_TRIANGLE + c * sp.eye(n)
    doc.section(
        "A frustrated triangle",
        r"$J_{12} = J_{23} = 1$, $J_{13} = -1$ (the product of the three couplings is negative: no spin "
        r"configuration satisfies all three bonds), fields $f = (1/3, 0, -1/2)$. The eigenvalues of $J$ are "
        f"$1, 1, -2$, so the default shift $c = \\lceil 1 - \\lambda_{{\\min}} \\rceil = {c}$ gives "
        r"$M = J + c I$ with eigenvalues $4, 4, 1$.",
    )
    doc.equation("H(s)", hs.ising, name="H(s) triangle")
    doc.equation(r"M^{-1}", M.inv())
    doc.equation(r"E(\phi, s)", hs.machine, name="E(phi, s) triangle")
    back = explicit_energy(hs.spin_marginal(), spins=("s",))
    doc.text(r"Integrating $\phi$ out with the marginalization engine (Gaussian integral) and writing every "
             r"intermediate out explicitly, with $s_i^2 = 1$:")
    doc.equation(r"\int d\phi\; e^{-E(\phi, s)} = e^{-H'(s)},\quad H'(s)", back, name="H'(s) triangle")
    diff = sp.simplify(back - hs.ising.energy)
    doc.equation(r"H'(s) - H(s)", diff, note="symbolic, constant included")
    doc.check(r"$H'(s) - H(s)$ after symbolic simplification (1 if nonzero)", float(diff != 0), 0.0, 0.0)

    # -- a ring of four spins with a symbolic coupling ----------------------------------------
    K, cs = sp.symbols("K c", positive=True)
    ring = K * sp.Matrix([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]])
    hs4 = hubbard_stratonovich(ring, shift=cs)
    back4 = explicit_energy(hs4.spin_marginal(), spins=("s",))
    doc.section(
        "A ring of four spins, symbolic",
        r"Nearest-neighbour coupling $K$; the eigenvalues of $J$ are $2K, 0, 0, -2K$, so any shift $c > 2K$ "
        r"makes $M$ positive definite (a condition the engine records). Integrating $\phi$ out:",
    )
    doc.equation("H'(s)", back4, name="H'(s) ring")
    diff4 = sp.simplify(sp.logcombine(back4 - hs4.ising.energy, force=True))
    doc.equation(r"H'(s) - H(s)", diff4, note="for $c > 2K$")
    doc.text(r"The logarithms are $\tfrac12 \log \det M$ from the Gaussian integral and the constant of the "
             r"machine; they cancel where $M$ is positive definite.")
    doc.check(r"$H'(s) - H(s)$ of the ring after symbolic simplification (1 if nonzero)", float(diff4 != 0), 0.0, 0.0)

    # -- the field theory --------------------------------------------------------------------
    ft = hs.field_theory()
    E = explicit_energy(ft)
    phis = [sp.Symbol(f"phi_{i + 1}", real=True) for i in range(n)]
    doc.section(
        "Summing the spins: the field theory",
        r"Summing each spin instead, $\sum_{s = \pm 1} e^{(\phi_i + f_i) s} = 2\cosh(\phi_i + f_i)$; for the triangle:",
    )
    doc.equation(r"E(\phi)", ft, name="E(phi) triangle")
    states = list(itertools.product((-1, 1), repeat=n))
    log_z_ising = float(mpmath.log(mpmath.fsum(
        mpmath.exp(-hs.ising.energy.xreplace({sp.Symbol(f"s_{i + 1}", real=True): s[i] for i in range(n)}))
        for s in states)))
    log_z_field = _log_z_quadrature(E, phis, M)
    doc.text(r"The partition function is the Ising one: $\log Z = \log \sum_{s} e^{-H(s)} = "
             f"{log_z_ising:.12f}$ by enumeration of the {len(states)} configurations, and the integral of "
             r"$e^{-E(\phi)}$ by a Gauss-Hermite rule (40 nodes per axis, in $\phi = L z$ with $M = L L^{T}$) "
             "gives the same number (checks below).")
    doc.check(r"$\log Z$ of the field theory (Gauss-Hermite) against the enumeration of the spins",
              log_z_field, log_z_ising, 1e-10)

    # -- the cumulant expansion of the potential -----------------------------------------------
    f = sp.Symbol("f", real=True)
    t = sp.Symbol("t", real=True)
    u = potential_coefficients(ORDER, f)
    doc.section(
        "Cumulant expansion of the potential",
        r"Each site carries $-\log 2\cosh(\phi + f) = -\log 2\cosh f - \sum_{n \ge 1} \kappa_n(f)\, \phi^{n}/n!$, "
        r"with $\kappa_n(f)$ the cumulants of a spin in the field $f$ (docs/marginalization.md). The coupling of "
        r"$\phi_i^{n}$ in $E(\phi)$ is $u_n(f_i) = -\kappa_n(f_i)/n!$ (for $n = 2$ the Gaussian part "
        r"$\tfrac12 (M^{-1})_{ii}$ adds to it). In $t = \tanh f$:",
    )
    for k in range(1, ORDER + 1):
        doc.equation(f"u_{{{k}}}(f)", sp.factor(u[k].subs(sp.tanh(f), t).subs(sp.cosh(f), 1 / sp.sqrt(1 - t**2))),
                     name=f"u_{k}")
    u4 = (1 - 3 * sp.tanh(f) ** 2) / (12 * sp.cosh(f) ** 2)
    doc.text(r"The quartic coupling in closed form ($\kappa_4 = -2 (1 - t^{2})(1 - 3 t^{2})$), and at zero field:")
    doc.equation(r"u_{4}(f)", u4, name="u_4 closed form")
    doc.equation(r"u_{4}(0)", u[4].subs(f, 0), name="u_4(0)")
    doc.check(r"$u_4(f)$ above minus the engine's $-\kappa_4(f)/4!$ after symbolic simplification (1 if nonzero)",
              float(sp.simplify((u4 - u[4]).rewrite(sp.exp)) != 0), 0.0, 0.0)
    doc.text(r"At zero field the odd couplings vanish and $u_2 = -\tfrac12$, $u_4 = \tfrac{1}{12}$, "
             r"$u_6 = -\tfrac{1}{45}$: the quartic coupling is positive. The quartic coupling changes sign where "
             r"$\tanh^{2} f = 1/3$.")

    rows = []
    for fv in F_VALUES:
        taylor = _taylor(fv, ORDER)
        with mpmath.workdps(30):
            # the closed forms at 30 digits against the numerical derivatives at 30 digits
            closed = [mpmath.mpf(str(sp.N(u[k].subs(f, sp.Float(fv, 40)), 35))) for k in range(ORDER + 1)]
            errors = [abs(closed[k] - taylor[k]) for k in range(ORDER + 1)]
        for k in (2, 4, 6):
            rows.append([f"${sp.latex(sp.nsimplify(fv))}$", k, float(closed[k]), float(taylor[k]),
                         f"${format_number(float(errors[k]), 2)}$"])
        worst = float(max(errors))
        doc.check(f"largest error of $u_0, \\ldots, u_6$ at $f = {sp.latex(sp.nsimplify(fv))}$ against mpmath's "
                  r"numerical Taylor expansion of $-\log 2\cosh(\phi + f)$", worst, 0.0, 1e-10)
        doc.check(f"$u_4$ at $f = {sp.latex(sp.nsimplify(fv))}$ against the numerical Taylor coefficient",
                  float(sp.N(u4.subs(f, sp.Float(fv, 30)), 30)), float(taylor[4]), 1e-10)
    doc.table(["$f$", "$n$", "$u_n(f)$ (closed form)", "Taylor (mpmath)", "difference"], rows, digits=12,
              caption=r"Couplings of $\phi^{2}$, $\phi^{4}$, $\phi^{6}$ in the potential.")

    # -- the triangle's field theory, expanded --------------------------------------------------
    Minv = M.inv()
    const = sum(u[0].subs(f, fi) for fi in F_TRIANGLE) + sp.log((2 * sp.pi) ** n * M.det()) / 2 + c * n / 2
    phi = sp.Matrix(phis)
    landau = (phi.T * Minv * phi)[0] / 2 + const + sum(
        u[k].subs(f, F_TRIANGLE[i]) * phis[i] ** k for i in range(n) for k in range(1, ORDER + 1))
    doc.section(
        "The triangle's field theory to sixth order",
        r"Collecting the couplings: $E(\phi) = \tfrac12 \phi^{T} M^{-1} \phi + \sum_i \sum_{n \le 6} u_n(f_i)\, "
        r"\phi_i^{n} + \text{const} + O(\phi^{7})$. The same triangle at zero field ($f = 0$):",
    )
    landau0 = (phi.T * Minv * phi)[0] / 2 + sum(u[k].subs(f, 0) * p**k for p in phis for k in range(1, ORDER + 1))
    doc.equation(r"E(\phi)\big|_{f = 0} - E(0)", sp.expand(landau0), note=r"$+\, O(\phi^{8})$")
    f_exact = sp.lambdify(phis, E, "mpmath")
    f_landau = sp.lambdify(phis, landau, "mpmath")
    with mpmath.workdps(30):
        for scale in (mpmath.mpf("0.01"), mpmath.mpf("0.02")):
            point = [scale, -2 * scale, scale]
            gap = abs(f_exact(*point) - f_landau(*point))
            doc.check(f"exact $E(\\phi)$ minus its sixth-order expansion at $\\phi = {float(scale):g}\\,(1, -2, 1)$",
                      float(gap), 0.0, 1e-11)
        series = sp.series(E.subs({phis[1]: 0, phis[2]: 0}), phis[0], 0, 5).removeO()
    doc.check(r"$\phi_1^{4}$ coefficient of the engine's $E(\phi)$ against $u_4(1/3)$ by the numerical Taylor expansion",
              float(sp.N(series.coeff(phis[0], 4), 30)), float(_taylor(1 / 3, 4)[4]), 1e-10)
    doc.text(r"Reading: the Gaussian layer carries the couplings of the spins, and each spin, summed, leaves "
             r"behind a local potential whose Taylor coefficients are its cumulants; a $\phi^{4}$ theory is the "
             r"truncation of this exact correspondence at the fourth cumulant.")
    return doc


if __name__ == "__main__":
    d = derivation()
    print(d.render("text"))
    sys.exit(0 if d.passed else 1)
