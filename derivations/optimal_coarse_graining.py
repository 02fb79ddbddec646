"""Optimal coarse-graining of the Ising chain from information theory (docs/block_rg.md).

For two-spin blocks of the chain and the RBM rules p(h | x) ∝ exp(h Lambda . x): the
mutual informations I(V:E), I(H:E) and the encoding loss, exactly; the range and the
many-body-ness of the exact renormalized hamiltonian along a family of rules from a
symmetric to a decimation-like one; the rules whose coarse chain is exactly
nearest-neighbour; the search for the rule of largest I(H:E), which finds decimation;
and a figure of the measures against I(H:E) (drawn when matplotlib is installed).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import sympy as sp

from symrg.output.document import Derivation
from symrg.rg.coarse import decimation, smooth
from symrg.rg.information import coarse_graining_information, information_symbolic
from symrg.rg.optimal_rule import optimal_rule, renormalized_measures

COUPLINGS = (0.5, 1.0)
BUFFERS = (0, 1)
ALPHAS = tuple(np.linspace(0.0, 1.0, 9))
START, END = np.array([0.5, 0.5]), np.array([4.0, 0.0])   # symmetric -> decimation-like


def _family(alpha: float) -> list[float]:
    return [float(c) for c in (1 - alpha) * START + alpha * END]


def _decreasing(values: list[float]) -> bool:
    return all(b < a for a, b in zip(values, values[1:]))


def derivation() -> Derivation:
    doc = Derivation("Optimal coarse-graining of the Ising chain")
    doc.section(
        "Setting",
        r"Ising chain with weight $\exp \sum_i K x_i x_{i+1}$. A block $V$ of $L_V = 2$ spins is "
        r"surrounded by buffers of $L_B$ spins; the environment $E$ is everything beyond them. The coarse "
        r"spin $H$ is drawn from $p(h \mid x) = e^{h \Lambda \cdot x} / (2 \cosh \Lambda \cdot x)$, the RBM rule. "
        r"Since $H$ depends on $E$ only through $V$, $I(V:E) = I(H:E) + I(V:E \mid H)$: the rule keeps "
        r"$I(H:E)$ and loses $I(V:E \mid H)$. All informations are exact (transfer matrix, infinite chain), "
        "in nats.",
    )

    doc.section("Closed form for decimation, $L_B = 0$",
                r"In zero field the law of a path factorizes into $(1 + t^d s s')/2$ with $t = \tanh K$; "
                r"decimation keeps $H = x_1$, whose neighbours in $E$ sit at distances 1 and 2:")
    Ks = sp.Symbol("K", positive=True)
    sym = information_symbolic("decimation", 2, 0, Ks)
    t = sp.Symbol("t", positive=True)
    doc.equation("I(H:E)", sym.I_HE.subs(sp.tanh(Ks), t), where={t: sp.tanh(Ks)}, name="I(H:E) decimation")
    for K in COUPLINGS:
        num = coarse_graining_information(K, "decimation", 2, 0)
        ev = sym.evaluate(K)
        doc.check(f"closed-form $I(H:E)$ against the transfer matrix at $K = {K}$", ev.I_HE, num.I_HE, 1e-12)
        doc.check(f"closed-form $I(V:E)$ against the transfer matrix at $K = {K}$", ev.I_VE, num.I_VE, 1e-12)

    doc.section("A family from a symmetric to a decimation-like rule",
                r"$\Lambda(\alpha) = (1 - \alpha)(0.5, 0.5) + \alpha (4, 0)$. For each rule: $I(H:E)$ at two "
                r"buffers, and the exact renormalized hamiltonian of a ring of 12 coarse spins (24 sites), "
                r"$-K'(h) = \sum_S g'_S \prod_{j \in S} h_j$: its range $|g'_2 / g'_1|$ (couplings at distances "
                r"2 and 1), its decay length $\xi$ (least squares on $\log |g'_r| = a - r/\xi$, $r = 1..5$) and its "
                r"many-body-ness $\max |g'_4| / \max |g'_2|$ (largest four-spin over largest two-spin coupling). "
                "The hamiltonian does not depend on the buffer; $I(H:E)$ does.")
    curves = {}
    for K in COUPLINGS:
        rows = []
        Is: dict = {L: [] for L in BUFFERS}
        ranges, xis, manys = [], [], []
        for a in ALPHAS:
            rule = smooth(_family(a))
            for L in BUFFERS:
                Is[L].append(coarse_graining_information(K, rule, 2, L).I_HE)
            m = renormalized_measures(K, rule, 2)
            ranges.append(m.range_ratio)
            xis.append(m.decay_length)
            manys.append(m.many_body_ratio)
            lam = _family(a)
            rows.append([f"{a:.3f}", f"$({lam[0]:.3g}, {lam[1]:.3g})$", Is[0][-1], Is[1][-1], m.range_ratio, m.decay_length, m.many_body_ratio])
        doc.table([r"$\alpha$", r"$\Lambda$", "$I(H:E)$, $L_B = 0$", "$I(H:E)$, $L_B = 1$", r"$|g'_2/g'_1|$", r"$\xi$",
                   r"$\max|g'_4|/\max|g'_2|$"], rows, caption=f"The family at $K = {K}$", digits=5)
        for L in BUFFERS:
            doc.check(f"$I(H:E)$ increases along the family ($K = {K}$, $L_B = {L}$; 1 if so)", float(_decreasing([-x for x in Is[L]])), 1.0, 0.0)
        order = np.argsort(Is[0])
        for name, vals in (("range", ranges), ("decay length", xis), ("many-body ratio", manys)):
            doc.check(f"the {name} decreases as $I(H:E)$ increases ($K = {K}$; 1 if so)", float(_decreasing([vals[i] for i in order])), 1.0, 0.0)
        curves[K] = (Is[0], ranges, manys)

    doc.section("Rules with an exactly nearest-neighbour coarse chain",
                r"With $\cosh(\Lambda_1 x_1 + \Lambda_2 x_2) = \cosh\Lambda_1 \cosh\Lambda_2 (1 + \tanh\Lambda_1 \tanh\Lambda_2\, x_1 x_2)$ "
                r"and $e^{K x_1 x_2} = \cosh K\, (1 + \tanh K\, x_1 x_2)$, the normalization of the rule cancels the "
                r"bond inside the block when $\tanh \Lambda_1 \tanh \Lambda_2 = \tanh K$. What is left, "
                r"$e^{h_j (\Lambda_1 x_{2j} + \Lambda_2 x_{2j+1})}$ and the bonds between blocks, is a single path "
                r"$\ldots x_{2j} - h_j - x_{2j+1} - x_{2j+2} - h_{j+1} - x_{2j+3} \ldots$, so summing the $x$ leaves "
                r"a nearest-neighbour coarse chain at finite $\Lambda$: no range, no many-body terms. As "
                r"$\Lambda_1 \to \infty$ along the curve ($\Lambda_2 \to K$) the rule tends to decimation.")
    rows = []
    for K in COUPLINGS:
        for L1 in (1.5, 4.0):
            L2 = math.atanh(math.tanh(K) / math.tanh(L1))
            m = renormalized_measures(K, smooth([L1, L2]), 2)
            rows.append([str(K), str(L1), L2, coarse_graining_information(K, smooth([L1, L2]), 2, 0).I_HE, m.range_ratio, m.many_body_ratio])
            doc.check(f"range and many-body ratio vanish at $K = {K}$, $\\Lambda = ({L1}, {L2:.4f})$", m.range_ratio + m.many_body_ratio, 0.0, 1e-12)
            doc.check(f"$I(H:E)$ there below decimation's ($K = {K}$, $\\Lambda_1 = {L1}$; 1 if so)",
                      float(rows[-1][3] < coarse_graining_information(K, "decimation", 2, 0).I_HE), 1.0, 0.0)
    doc.table(["$K$", r"$\Lambda_1$", r"$\Lambda_2$", "$I(H:E)$, $L_B = 0$", r"$|g'_2/g'_1|$", r"$\max|g'_4|/\max|g'_2|$"], rows,
              caption=r"Rules on the curve $\tanh\Lambda_1 \tanh\Lambda_2 = \tanh K$", digits=6)
    doc.text(r"On this curve $I(H:E)$ still grows with $\Lambda_1$ towards decimation's value: a short-range coarse "
             "hamiltonian does not by itself make a rule optimal, while the optimal rule below has one.")

    doc.section("The optimal rule",
                r"BFGS ascent of $I(H:E)$ over $\Lambda \in \mathbb{R}^2$ with the analytic gradient "
                r"$\partial I / \partial \Lambda_i = \sum_{v} [G(v, +) - G(v, -)]\, (1 - m_v^2)\, v_i / 2$, "
                r"$m_v = \tanh \Lambda \cdot v$, $G(v, h) = \sum_e P(v, e) \log[p(h, e) / (p(h) p(e))]$, from four "
                r"random starts. The supremum lies at $|\Lambda| \to \infty$: the search follows $\Lambda$ to "
                r"$|\Lambda| = 40$, then optimizes the direction there, and compares with the rule at the end of "
                r"the ray, $h = \mathrm{sign}(u \cdot x)$. The rule found is decimation (up to the relabelling "
                r"$h \to -h$, which changes no information), with a nearest-neighbour coarse hamiltonian.")
    rows = []
    for K in COUPLINGS:
        for L in BUFFERS:
            best = optimal_rule(K, 2, L, starts=4, seed=0, measure_blocks=12)
            dec = coarse_graining_information(K, decimation(), 2, L)
            assert best.measures is not None
            if best.rule_name.startswith("decimation"):
                site = int(best.rule_name.split("site=")[1].split(")")[0]) + 1
                found = f"decimation, $h = x_{site}$" if "h -> -h" not in best.rule_name else f"decimation, $h = -x_{site}$"
            else:
                found = best.rule_name
            rows.append([str(K), L, best.supremum, dec.I_HE, dec.I_VE, dec.I_VE_given_H, found,
                         best.measures.range_ratio, best.measures.many_body_ratio])
            doc.check(f"$\\sup_\\Lambda I(H:E)$ against decimation at $K = {K}$, $L_B = {L}$", best.supremum, dec.I_HE, 1e-8)
            doc.check(f"$I(H:E)$ at the finite $\\Lambda$ reached, against decimation ($K = {K}$, $L_B = {L}$)", best.I_HE, dec.I_HE, 1e-8)
            doc.check(f"identity $I(V:E) - I(H:E) = I(V:E \\mid H)$ for decimation ($K = {K}$, $L_B = {L}$)",
                      dec.I_VE - dec.I_HE, dec.I_VE_given_H, 1e-14)
    doc.table(["$K$", "$L_B$", r"$\sup I(H:E)$", "$I(H:E)$ dec.", "$I(V:E)$", r"$I(V:E \mid H)$", "rule found",
               r"$|g'_2/g'_1|$", r"$\frac{\max|g'_4|}{\max|g'_2|}$"], rows,
              caption="The optimum against decimation", digits=8)

    doc.text(r"Three-spin blocks, same search over $\Lambda \in \mathbb{R}^3$: the optimum keeps a spin at an end of the block, "
             "next to the environment, and beats the majority rule and decimation of the middle spin.")
    rows = []
    for K in COUPLINGS:
        best = optimal_rule(K, 3, 0, starts=4, seed=0, measure_blocks=None)
        end, mid, maj = (coarse_graining_information(K, r, 3, 0).I_HE for r in (decimation(0), decimation(1), "majority"))
        rows.append([str(K), best.supremum, end, mid, maj])
        doc.check(f"$\\sup_\\Lambda I(H:E)$ against decimation of an end spin ($L_V = 3$, $K = {K}$)", best.supremum, end, 1e-8)
    doc.table(["$K$", r"$\sup I(H:E)$", "keep $x_1$", "keep $x_2$", "majority"], rows,
              caption="Three-spin blocks, $L_B = 0$: the optimum against fixed rules", digits=8)

    doc.section("Figure")
    if importlib.util.find_spec("matplotlib") is not None:
        def draw(path: Path) -> None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=(8, 3.4))
            FigureCanvasAgg(fig)
            axes = fig.subplots(1, 2)
            for K, (I, rng, many) in curves.items():
                sup = coarse_graining_information(K, "decimation", 2, 0).I_HE
                line = axes[0].semilogy(I, rng, "o-", label=f"K = {K}")[0]
                axes[1].semilogy(I, many, "s-", label=f"K = {K}", color=line.get_color())
                for ax in axes:
                    ax.axvline(sup, ls="--", lw=1, color=line.get_color())
            axes[0].set_ylabel(r"range $|g'_2 / g'_1|$")
            axes[1].set_ylabel(r"many-body $\max|g'_4| / \max|g'_2|$")
            for ax in axes:
                ax.set_xlabel(r"$I(H:E)$ (nats), $L_B = 0$")
                ax.legend()
            fig.tight_layout()
            fig.savefig(path, dpi=120)

        doc.figure("optimal_coarse_graining.png", draw,
                   r"Range and many-body ratio of the renormalized hamiltonian against $I(H:E)$ along the family "
                   r"$\Lambda(\alpha)$; both fall as the rule keeps more information. Dashed: $I(H:E)$ of decimation, the "
                   r"supremum over all $\Lambda$, where both measures vanish.", width=0.95)
    else:
        doc.text("(No figure: matplotlib is not installed.)")
    return doc


if __name__ == "__main__":
    doc = derivation()
    print(doc.render("text"))
    sys.exit(0 if doc.passed else 1)
