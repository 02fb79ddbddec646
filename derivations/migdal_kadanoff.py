"""Migdal-Kadanoff bond-moving RG for the Ising model in d = 2 and d = 3 (docs/recursions.md).

Bond moving (K -> b^(d-1) K) composed with the derived chain decimation; fixed point,
RG eigenvalue and nu, compared with Onsager (d = 2) and the best-known 3D values.
"""

from __future__ import annotations

import math
import sys

import mpmath
import sympy as sp

from symrg.output.document import Derivation
from symrg.rg.migdal_kadanoff import bond_moving, critical_point, migdal_kadanoff, migdal_kadanoff_tanh

#: reference values: exact 2D (Onsager), 3D from Monte Carlo / conformal bootstrap
REFERENCE = {2: (0.440686793509772, 1.0), 3: (0.2216546, 0.62997)}


def _bisect(d: int, b: int) -> mpmath.mpf:
    """Independent root of tanh K = tanh^b(b^(d-1) K) by bisection (40 digits)."""
    with mpmath.workdps(40):
        c = b ** (d - 1)
        lo, hi = mpmath.mpf("0.01"), mpmath.mpf(2)
        for _ in range(140):
            mid = (lo + hi) / 2
            if mpmath.tanh(c * mid) ** b < mpmath.tanh(mid):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2


def derivation() -> Derivation:
    doc = Derivation("Migdal-Kadanoff renormalization of the Ising model")
    doc.section(
        "Construction",
        r"Move the bonds of each $b^d$ cell onto chains ($K \to b^{d-1} K$, the constant per bond likewise), "
        "then decimate the chains of $b$ bonds with the derived chain recursion (symrg.rg.chain).",
    )
    rows = []
    for d in (2, 3):
        b = 2
        m = migdal_kadanoff(d, b)
        (K,) = m.couplings
        where = f"$d = {d}$, $b = {b}$"
        doc.section(f"Dimension $d = {d}$, $b = {b}$")
        doc.equation("K'", m.images[0], name=f"K' d={d}", note=where)
        doc.equation("g'", m.constant_image, note=where)
        mu = migdal_kadanoff_tanh(d, b)
        doc.equation("u'", mu.images[0], name=f"u' d={d}", note=rf"$u = \tanh K$, $d = {d}$")
        fp = critical_point(d, b)
        Ks, y, nu = fp.values[0], fp.rg_eigenvalues[0], fp.nu
        doc.equation("K^*", sp.Float(Ks, 20), name=f"K* d={d}", note=f"$d = {d}$")
        doc.equation("y_t", sp.Float(y, 20), note=f"$d = {d}$")
        doc.equation(r"\nu", sp.Float(nu, 20), name=f"nu d={d}", note=f"$d = {d}$")
        with mpmath.workdps(40):
            ref = _bisect(d, b)
            doc.check(f"$K^*$ ($d = {d}$) against bisection of $\\tanh K = \\tanh^2({bond_moving(d, b)} K)$",
                      mpmath.mpf(Ks), ref, 1e-20)
            # dK'/dK from tanh K' = tanh^b(cK): (1 - t'^2) dK' = b t^(b-1) (1 - t^2) c dK, t = tanh cK, t' = t^b
            t = mpmath.tanh(b ** (d - 1) * ref)
            lam = b * t ** (b - 1) * (1 - t**2) * b ** (d - 1) / (1 - t ** (2 * b))
            doc.check(f"$\\nu$ ($d = {d}$) against the chain-rule slope at the bisection root",
                      mpmath.mpf(nu), mpmath.log(b) / mpmath.log(lam), 1e-15)
        Kref, nuref = REFERENCE[d]
        rows.append([d, b, mpmath.mpf(Ks), str(Kref), mpmath.mpf(nu), str(nuref)])
        if d == 2:
            fps = mu.fixed_points(bounds=[(0, 1)])
            crit = [f for f in fps if f.labels[0] == "relevant"]
            doc.text(r"In $u = \tanh K$ the map is rational and sympy solves the fixed-point equation exactly:")
            doc.equation("u^*", crit[0].values[0], name="u* d=2 exact", note="$d = 2$")
            doc.check(r"$\tanh K^*$ against the exact $u^*$", math.tanh(float(Ks)), float(sp.N(crit[0].values[0], 20)), 1e-14)
    doc.section("Comparison with exact / best-known values")
    doc.table(["$d$", "$b$", "$K^*$ (MK)", "$K_c$ (reference)", r"$\nu$ (MK)", r"$\nu$ (reference)"], rows,
              caption=r"$d = 2$: Onsager $K_c = \frac{1}{2} \log(1 + \sqrt{2})$, $\nu = 1$; "
                      r"$d = 3$: $K_c \approx 0.2216546$, $\nu \approx 0.62997$", digits=15)
    doc.check(r"Onsager's $K_c$ against $\frac{1}{2} \log(1 + \sqrt{2})$", REFERENCE[2][0], math.log(1 + math.sqrt(2)) / 2, 1e-14)
    return doc


if __name__ == "__main__":
    doc = derivation()
    print(doc.render("text"))
    sys.exit(0 if doc.passed else 1)
