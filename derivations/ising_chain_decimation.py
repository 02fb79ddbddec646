"""Decimation of the one-dimensional Ising chain (docs/recursions.md), derived by the engine.

Recursions for b = 2..5 and for general b, fixed points and their stability, the beta
function du/dl = u log u, the free energy from the constants along the flow, and a
flow diagram (drawn beside the document when it is written and matplotlib is installed).
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from pathlib import Path

import mpmath
import numpy as np
import sympy as sp

from symrg.output.document import Derivation
from symrg.rg.chain import chain_symbols, decimate_chain, transfer_matrix_log_z
from symrg.rg.recursion import free_energy_from_flow


def _ring_log_z(K: float, h: float, g: float, n: int) -> float:
    T = np.array([[math.exp(g + K * x * y + h * (x + y) / 2) for y in (-1, 1)] for x in (-1, 1)])
    return math.log(np.trace(np.linalg.matrix_power(T, n)))


def derivation() -> Derivation:
    S = chain_symbols()
    K, h, g = S["K"], S["h"], S["g"]
    doc = Derivation("Decimation of the Ising chain")
    doc.section(
        "Model",
        r"Weight $\exp \sum_{\langle s s' \rangle} [g + K s s' + \tfrac{h}{2}(s + s')]$ over the bonds, "
        r"Ising spins $s = \pm 1$, a constant $g$ per bond. Every $b$-th spin is kept and the $b - 1$ spins "
        "between two kept ones are summed explicitly.",
    )
    dec = decimate_chain("spin", 2)
    doc.equation("T", dec.transfer)
    doc.section("Recursion for $b = 2$", "Summed over the middle spin, projected on $1$, $s + s'$ and $s s'$.")
    doc.equation("K'", dec.images[K], name="K' (b=2)")
    doc.equation("h'", dec.images[h], name="h' (b=2)")
    doc.equation("g'", dec.constant_image, name="g' (b=2)")
    doc.text(r"Exact: the renormalized bond has no term outside $\{1, s + s', s s'\}$ (dropped terms: %d)." % len(dec.dropped))

    # numeric checks against Pathria / Nelson-Fisher and brute-force sums
    f = sp.lambdify((K, h, g), (dec.images[K], dec.images[h], dec.constant_image), modules="mpmath")
    Kv, hv, gv = mpmath.mpf("0.7"), mpmath.mpf("0.3"), mpmath.mpf("0.1")
    Kp, hp, gp = f(Kv, hv, gv)
    cp, cm, ch = mpmath.cosh(2 * Kv + hv), mpmath.cosh(2 * Kv - hv), mpmath.cosh(hv)
    doc.check("$K'$ against Pathria's closed form at $(K, h) = (0.7, 0.3)$", Kp, mpmath.log(cp * cm / ch**2) / 4, 1e-14)
    doc.check("$h'$ against Pathria's closed form at $(K, h) = (0.7, 0.3)$", hp, hv + mpmath.log(cp / cm) / 2, 1e-14)
    doc.check("$g'$ against Pathria's closed form at $(K, h) = (0.7, 0.3)$", gp, 2 * gv + mpmath.log(16 * cp * cm * ch**2) / 4, 1e-14)
    for s, t in itertools.product((-1, 1), repeat=2):
        brute = math.log(sum(math.exp(2 * float(gv) + float(Kv) * (s * m + m * t) + float(hv) * (s + 2 * m + t) / 2) for m in (-1, 1)))
        doc.check(f"renormalized bond at $(s, s') = ({s:+d}, {t:+d})$ against the brute-force sum", gp + Kp * s * t + hp * (s + t) / 2, brute, 1e-14)
    for n in (8, 12):
        doc.check(f"$\\log Z$ of a ring of $N = {n}$ after one step against before", _ring_log_z(float(Kp), float(hp), float(gp), n // 2),
                  _ring_log_z(float(Kv), float(hv), float(gv), n), 1e-12)

    doc.section("Zero field, $b = 2, \\ldots, 5$: $\\tanh K' = \\tanh^b K$")
    rows = []
    for b in range(2, 6):
        d0 = decimate_chain("spin", b, couplings=("K",))
        Kb = float(sp.N(d0.images[K].subs(K, sp.Rational(1, 2)), 20))
        rows.append([b, d0.images[K] if b <= 3 else "(sum of logarithms)", math.tanh(Kb), math.tanh(0.5) ** b])
        doc.check(f"$\\tanh K'$ against $\\tanh^{{{b}}} K$ at $K = 1/2$", math.tanh(Kb), math.tanh(0.5) ** b, 1e-14)
    doc.table(["$b$", "$K'$", "$\\tanh K'$ (engine)", "$\\tanh^b(1/2)$"], rows, digits=15)

    doc.section("General $b$", r"$T^b$ from the diagonalized transfer matrix (eigenvalues $2 \cosh K$ and $2 \sinh K$).")
    bs = sp.Symbol("b", positive=True)
    db = decimate_chain("spin", bs, couplings=("K",))
    doc.equation(r"T^b / e^{b g}", db.renormalized)
    doc.equation("K'", db.images[K], name="K' (general b)")
    u = sp.Symbol("u")
    mu = db.recursion_map.change_variables([u], [sp.tanh(K)], [sp.atanh(u)])
    doc.equation("u'", mu.images[0], name="u' (general b)")
    beta = mu.beta_function()[0]
    doc.equation(r"\frac{du}{dl}", beta, name="beta(u)")
    doc.equation(r"\frac{dK}{dl}", db.recursion_map.beta_function()[0], name="beta(K)")
    doc.check(r"$\beta(u) - u \log u$ after symbolic simplification (1 if nonzero)",
              float(sp.simplify(beta - u * sp.log(u)) != 0), 0.0, 0.0)

    doc.section(r"Fixed points ($b = 2$, in $u = \tanh K$)")
    fps = mu.subs({bs: 2}).fixed_points(bounds=[(0, 1)])
    doc.table(["$u^*$", "$K^*$", r"$\lambda$", "$y$", "direction"],
              [[fp.values[0], fp.original[K], fp.eigenvalues[0], fp.rg_eigenvalues[0], fp.labels[0]] for fp in fps])
    crit = [fp for fp in fps if fp.labels[0] == "relevant"]
    doc.check(r"$\nu = 1/y$ at the unstable fixed point $u^* = 1$", float(crit[0].nu), 1.0, 0.0)

    doc.section("Free energy from the constants along the flow",
                r"$\log Z / N = \sum_k c_k / 2^{k+1}$, with $c_k$ the constant generated at step $k$ ($g_0 = 0$); "
                r"compared with the logarithm of the largest eigenvalue $\lambda_{\max}$ of $T$.")
    rows = []
    for Kf, hf in ((0.5, 0.0), (0.7, 0.3)):
        fe = free_energy_from_flow(dec.recursion_map, {"K": Kf, "h": hf})
        ref = transfer_matrix_log_z("spin", Kf, hf)
        rows.append([str(Kf), str(hf), fe.log_z_per_bond, ref, fe.steps])
        doc.check(f"$\\log Z/N$ from the flow against the transfer matrix at $(K, h) = ({Kf}, {hf})$", fe.log_z_per_bond, ref, 1e-12)
    doc.table(["$K$", "$h$", "$\\log Z/N$ (flow)", r"$\log \lambda_{\max}$", "steps"], rows, digits=15)

    doc.section("Flow diagram")
    if importlib.util.find_spec("matplotlib") is not None:
        from symrg.rg.flowplot import plot_flow

        u_map = mu.subs({bs: 2})

        def draw(path: Path) -> None:
            plot_flow(u_map, path, ranges=[(0, 1)], fixed_points=fps, title=r"Ising chain, $b = 2$: $u' = u^2$")

        doc.figure("ising_chain_flow.png", draw,
                   r"Cobweb diagram of $u' = u^2$ ($b = 2$, $u = \tanh K$): every flow runs to the stable "
                   "fixed point $u^* = 0$ except the one that starts at the unstable $u^* = 1$.")

        field_map = dec.recursion_map

        def draw_field(path: Path) -> None:
            # at finite K the only fixed points are those of the line K = 0 (every h is fixed there),
            # which plot_flow finds and draws as a line; no isolated ones to search for
            plot_flow(field_map, path, ranges=[(0, 1.5), (-1, 1)], fixed_points=[], steps=8,
                      title=r"Ising chain in a field, $b = 2$")

        doc.figure("ising_chain_flow_field.png", draw_field,
                   "Flow in the $(K, h)$ plane ($b = 2$): $K = 0$ is a line of fixed points, attracting "
                   "across the line; every flow at finite $K$ runs to it.")
    else:
        doc.text("(No flow diagram: matplotlib is not installed.)")
    return doc


if __name__ == "__main__":
    doc = derivation()
    print(doc.render("text"))
    sys.exit(0 if doc.passed else 1)
