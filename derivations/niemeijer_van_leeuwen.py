"""Niemeijer-van Leeuwen cumulant RG of the triangular Ising lattice (docs/block_rg.md).

3-spin up-triangle blocks on the sqrt3 x sqrt3 superlattice, majority rule, b = sqrt 3.
K_0 holds the bonds inside blocks; the perturbation holds every bond between blocks and
the field.  First order, then second order with nearest (K), next-nearest (L) and
third-neighbour (M) couplings in the NvL counting (L, M count as O(K^2)).  Everything
is derived by symrg.rg.cluster_expansion from the lattice geometry; the checks compare with closed
forms and with enumeration of two- and three-block patches.
"""

from __future__ import annotations

import itertools
import re
import sys

import mpmath
import numpy as np
import sympy as sp

from symrg.output.document import Derivation, format_number
from symrg.output.printing import latex
from symrg.rg.cluster_expansion import cumulant_rg
from symrg.rg.lattice import ising_model, triangular, triangular_blocks


def _patch_pair_coefficient(K: float, couplings: dict, pairs: dict) -> float:
    """Coefficient of h_0 h_1 in kappa_1 of the bonds joining two blocks (enumeration, 64 states)."""
    xs = np.array(list(itertools.product((-1, 1), repeat=6)), dtype=float)
    intra = sum(K * (xs[:, 3 * j] * xs[:, 3 * j + 1] + xs[:, 3 * j + 1] * xs[:, 3 * j + 2] + xs[:, 3 * j] * xs[:, 3 * j + 2]) for j in (0, 1))
    V = sum(couplings[name] * xs[:, a] * xs[:, 3 + c] for name, lst in pairs.items() for a, c in lst)
    maj = [np.sign(xs[:, 3 * j : 3 * j + 3].sum(axis=1)) for j in (0, 1)]
    tot = 0.0
    for h0, h1 in itertools.product((-1, 1), repeat=2):
        w = np.exp(intra) * (maj[0] == h0) * (maj[1] == h1)
        tot += float((w * V).sum() / w.sum()) * h0 * h1 / 4
    return tot


def derivation() -> Derivation:
    doc = Derivation("Niemeijer-van Leeuwen cumulant expansion, triangular Ising lattice")
    lat = triangular()
    blocks = triangular_blocks(lat)
    b = blocks.scale_factor
    doc.section(
        "Construction",
        r"Triangular lattice, up-triangle blocks of 3 sites on the $\sqrt{3} \times \sqrt{3}$ superlattice "
        r"($b = \sqrt{3}$), majority rule $p(h \mid x) = [h = \operatorname{sign}(x_1 + x_2 + x_3)]$. "
        r"Convention: fine spins $x$, coarse spins $h$; "
        r"$-K'(h) = \sum_j [\log Z_0 + \log p_0(h_j)] + \sum_n \kappa_n(V \mid h)/n!$, "
        "with $V$ the inter-block bonds and the field.",
    )
    model3 = ising_model(lat, {"K": 1, "L": 2, "M": 3})
    rows = []
    for name in "KLM":
        it = model3.interaction(name)
        for shell in (1, 2, 3):
            conn = blocks.connections(it, shell)
            counts = sorted({len(v) for v in conn.values()})
            # the engine's label "K (shell 1, |d|^2 = 1)" with its math typeset
            m = re.fullmatch(r"(\w+) \(shell (\d+), \|d\|\^2 = (\d+)\)", it.label)
            label = f"${m[1]}$ (shell {m[2]}, $|d|^2 = {m[3]}$)" if m else it.label
            rows.append([label, f"coarse shell {shell}", len(conn), ", ".join(map(str, counts)) if counts else "0"])
    doc.table(["fine coupling", "block pair", "pairs (of both signs)", "fine bonds per block pair"], rows,
              caption="Geometry found by the engine: fine bonds joining block 0 to blocks of each coarse shell")

    # -- first order ------------------------------------------------------------------
    doc.section("First order")
    model = ising_model(lat, {"K": 1, "h": "field"})
    K, h = model.couplings
    r1 = cumulant_rg(model, blocks, "majority", 1)
    for s, e in r1.block_moments:
        doc.equation(s, e)
    doc.equation("K'", r1.raw[K], name="K' first order", note="first order")
    doc.equation("h'", r1.raw[h], name="h' first order", note="first order")
    phi = (sp.exp(3 * K) + sp.exp(-K)) / (sp.exp(3 * K) + 3 * sp.exp(-K))
    doc.check(r"$K' - 2 K \phi^2$ after symbolic simplification (1 if nonzero)", float(sp.simplify(r1.images[K] - 2 * K * phi**2) != 0), 0.0, 0.0)
    doc.check(r"$h' - 3 \phi h$ after symbolic simplification (1 if nonzero)", float(sp.simplify(r1.images[h] - 3 * phi * h) != 0), 0.0, 0.0)
    (fp1,) = r1.recursion_map.fixed_points(seeds=[(0.3, 0.0)])
    yt1, yh1 = fp1.y(K), fp1.y(h)  # the thermal and magnetic directions, by their eigenvectors
    doc.table(["quantity", "value"], [
        ["$K^*$", mpmath.mpf(sp.N(fp1.values[0], 30))],
        [r"$\frac{1}{4} \log(1 + 2 \sqrt{2})$", mpmath.log(1 + 2 * mpmath.sqrt(2)) / 4],
        ["$y_t$", mpmath.mpf(sp.N(yt1, 30))],
        [r"$\nu = 1/y_t$", 1 / mpmath.mpf(sp.N(yt1, 30))],
        ["$y_h$", mpmath.mpf(sp.N(yh1, 30))],
    ], caption=r"First-order fixed point (exact 2D Ising: $K_c = \frac{1}{4} \log 3 = 0.2747$, $\nu = 1$, "
               r"$y_h = 15/8$)", digits=16)
    with mpmath.workdps(30):
        Ks = mpmath.log(1 + 2 * mpmath.sqrt(2)) / 4
        doc.check(r"$K^*$ against $\frac{1}{4} \log(1 + 2 \sqrt{2})$", mpmath.mpf(sp.N(fp1.values[0], 30)), Ks, 1e-20)
        ph = (mpmath.exp(3 * Ks) + mpmath.exp(-Ks)) / (mpmath.exp(3 * Ks) + 3 * mpmath.exp(-Ks))
        doc.check(r"$y_h$ against $\log(3 \phi^*) / \log \sqrt{3}$", mpmath.mpf(sp.N(yh1, 30)), mpmath.log(3 * ph) / mpmath.log(mpmath.sqrt(3)), 1e-20)
    kv = 0.35
    conn = blocks.connections(model3.interaction("K"), 1)
    D0 = next(iter(conn))
    pairs = {"K": [(blocks.locate(a)[1], blocks.locate(c)[1]) for a, c in conn[D0]]}
    doc.check("$K'(0.35)$ against enumeration of two blocks", float(r1.images[K].subs(K, kv)), _patch_pair_coefficient(kv, {"K": kv}, pairs), 1e-13)
    r1f = cumulant_rg(model, blocks, "majority", 1, perturb_fields=False)
    (fpf,) = r1f.recursion_map.fixed_points(seeds=[(0.3, 0.0)])
    yhf = max(float(y) for y in fpf.rg_eigenvalues)
    doc.text(f"With the field in $K_0$ instead of the perturbation, $y_h = {format_number(yhf, 12)} > d = 2$ "
             "(unphysical), from")
    doc.equation("h'", r1f.raw[h], note="field in $K_0$")

    # -- second order ----------------------------------------------------------------------
    doc.section(
        "Second order, NvL counting",
        "Couplings $K$ (nearest), $L$ (next-nearest), $M$ (third neighbour); $L$ and $M$ count as $O(K^2)$: "
        "counting $K$ and $h$ as first order and $L$ and $M$ as second order keeps $L$, $M$ linearly "
        "and only the $K^2$, $K h$, $h^2$ products of the second cumulant.",
    )
    model2 = ising_model(lat, {"K": 1, "L": 2, "M": 3, "h": "field"})
    K, L, M, h = model2.couplings
    r2 = cumulant_rg(model2, blocks, "majority", 2, counting={K: 1, h: 1, L: 2, M: 2})
    for s, e in r2.block_moments:
        doc.equation(s, e)
    for c in (K, L, M, h):
        doc.equation(f"{c}'", r2.raw[c], name=f"{c}' second order", note="second order")
    rmap = r2.projected_map(couplings=(K, L, M))
    fps = rmap.fixed_points(seeds=[(0.28, -0.014, -0.015)])
    (fp2,) = [f for f in fps if abs(float(f.values[0]) - 0.28) < 0.05]
    lam_h = sp.diff(r2.images[h], h).subs(dict(zip((K, L, M), fp2.values)))
    yh2 = sp.log(lam_h) / sp.log(b)
    vals = [mpmath.mpf(sp.N(v, 30)) for v in fp2.values]
    doc.table(["quantity", "value"], [
        ["$K^*$", vals[0]],
        ["$L^*$", vals[1]],
        ["$M^*$", vals[2]],
        [r"$\lambda_t$", mpmath.mpf(sp.N(fp2.eigenvalues[0], 30))],
        ["$y_t$", mpmath.mpf(sp.N(fp2.rg_eigenvalues[0], 30))],
        [r"$\nu = 1/y_t$", mpmath.mpf(sp.N(fp2.nu, 30))],
        ["other $y$ (irrelevant)", ", ".join(f"${format_number(mpmath.mpf(sp.N(y, 30)), 12)}$" for y in fp2.rg_eigenvalues[1:])],
        ["$y_h$", mpmath.mpf(sp.N(yh2, 30))],
    ], caption=r"Second-order fixed point (literature: $K^* \approx 0.2789$, $L^* \approx -0.0143$, "
               r"$M^* \approx -0.0152$, $\nu \approx 1$)", digits=16)
    f = sp.lambdify((K, L, M), [rmap.images[i] for i in range(3)], modules="mpmath")
    with mpmath.workdps(30):
        img = f(*vals)
        for name, v, w in zip("KLM", img, vals):
            doc.check(f"${name}'({name}^*)$ against ${name}^*$", v, w, 1e-20)
    r_all = cumulant_rg(model2, blocks, "majority", 2)
    doc.text("Keeping every product of couplings instead (no counting rule) adds to $K'$ for example")
    extra = sp.expand(r_all.raw[K])
    doc.equation(r"\Delta K'", latex(extra.coeff(K * L) * K * L) + " + " + latex(extra.coeff(L**2) * L**2) + r" + \ldots")
    return doc


if __name__ == "__main__":
    doc = derivation()
    print(doc.render("text"))
    sys.exit(0 if doc.passed else 1)
