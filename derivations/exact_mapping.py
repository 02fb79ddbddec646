"""Kadanoff's variational RG as a Boltzmann machine (Mehta and Schwab, arXiv:1410.3831; docs/conventions.md).

A rule ``T(v, h)`` defines the coarse hamiltonian by ``exp(-H'(h)) = sum_v exp(T(v, h) - H(v))``;
the machine ``E = -T + H`` realizes it, and the step is exact when ``sum_h exp(T) = 1`` for every
``v``.  The document derives, with symrg.rg.variational and the marginalization engine: the
one-hidden-spin-per-bond machine of an Ising chain (``cosh 2w = e^{2K}``), the decimation of the
chain as such a machine (trace condition verified symbolically), a rule with ``Delta F = 0`` whose
trace condition fails, the 2x2 majority rule on a 4x4 periodic patch (against the block-RG route),
and the seed's three-layer DBM read as a variational RG.  Every check is against an independent
computation: brute-force enumeration, exact block RG, quadrature.
"""

from __future__ import annotations

import itertools
import math
import sys

import mpmath
import numpy as np
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.engine.multilinear import configurations, symbolic_couplings
from symrg.model.energy import seed_dbm
from symrg.output.document import Derivation
from symrg.output.numeric import lambdify
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.coarse import decimation, majority
from symrg.rg.lattice import chain, chain_blocks, ising_model, square, square_blocks
from symrg.rg.variational import (
    bond_machine,
    bond_weight,
    decimation_machine,
    ising_hamiltonian,
    machine_log_weights,
    ring_couplings,
    rule_multilinear,
    rule_table_defect,
    trace_defect,
    variational_rg,
)


def _nonzero(expr: sp.Expr) -> float:
    """1.0 when ``expr`` does not simplify to zero (acosh written as its logarithm), else 0.0."""
    return float(sp.simplify(sp.expand(sp.sympify(expr).rewrite(sp.log))) != 0)


def _ring_brute(n: int, K: float, kept: tuple[int, ...]) -> dict[tuple[int, ...], float]:
    """``-H'(h)`` of the decimated ring ``exp(K sum v_i v_{i+1})`` by summing every fine configuration."""
    out: dict[tuple[int, ...], list[float]] = {}
    for v in itertools.product((-1, 1), repeat=n):
        lw = K * sum(v[i] * v[(i + 1) % n] for i in range(n))
        out.setdefault(tuple(v[k] for k in kept), []).append(lw)
    return {h: float(mpmath.log(mpmath.fsum(mpmath.exp(x) for x in lws))) for h, lws in out.items()}


def _seed_energy(v: np.ndarray, h: np.ndarray, s: np.ndarray, p: dict) -> np.ndarray:
    """The seed energy written out by hand (one h, one s; arrays of h and s broadcast)."""
    return (-p["a"][:, 0] @ v - p["b"][0, 0] * h - p["c"][0, 0] * s + h * h / 2 + s * s / 2
            - (v @ p["W"][:, 0]) * h - h * p["U"][0, 0] * s)


#: uniform grid for the trapezoidal rule, spectrally accurate for these Gaussian integrands
GRID = np.linspace(-20.0, 20.0, 1601)


def _trapezoid(values: np.ndarray) -> float:
    """Trapezoidal rule over ``GRID`` along every axis of ``values`` (the tails are below 1e-40)."""
    step = float(GRID[1] - GRID[0])
    out = np.asarray(values, dtype=float)
    for _ in range(out.ndim):
        out = step * (out.sum(axis=-1) - (out[..., 0] + out[..., -1]) / 2)
    return float(out)


def derivation() -> Derivation:
    doc = Derivation("The exact mapping: variational RG as a Boltzmann machine")
    doc.section(
        "Definition",
        r"A rule $T(v, h)$ maps the fine hamiltonian $H(v)$ to the coarse one (Kadanoff; Mehta and Schwab, "
        r"arXiv:1410.3831) by",
    )
    doc.equation(None, r"e^{-H'(h)} = \sum_{v} e^{T(v, h) - H(v)}")
    doc.text(r"The Boltzmann machine with energy $E(v, h) = -T(v, h) + H(v)$ has the marginal $e^{-H'(h)}$ on $h$, "
             r"and the marginal $e^{-H(v)}$ on $v$ exactly when the trace condition holds:")
    doc.equation(None, r"\sum_{h} e^{T(v, h)} = 1 \quad \text{for every } v")
    doc.text("Summing the definition over $h$ with the trace defect")
    doc.equation("D(v)", r"\log \sum_{h} e^{T(v, h)}")
    doc.text(r"gives $Z' = \sum_v e^{D(v)} e^{-H(v)}$, hence")
    doc.equation(r"\Delta F = F' - F", r"-\log \langle e^{D} \rangle_{H}")
    doc.text(r"($\langle \cdot \rangle_H$ the average over $e^{-H} / Z$). $D = 0$ gives $\Delta F = 0$ for every $H$; "
             r"$\Delta F = 0$ for one $H$ is a single condition, the trace condition one for each $v$ "
             "(the authors' comment, arXiv:1609.03541). Spins are $\\pm 1$ throughout.")

    # -- one hidden spin per bond -----------------------------------------------------------
    K = sp.Symbol("K", positive=True)
    w, c, _ = bond_weight(K)
    doc.section(
        "One hidden spin per bond",
        r"For $K \ge 0$ write, with a hidden spin $b = \pm 1$, $e^{K s s'} = c \sum_b e^{w b (s + s')} = 2 c \cosh(w (s + s'))$. "
        r"At $s = s'$ this reads $2 c \cosh 2w = e^{K}$, at $s = -s'$ it reads $2 c = e^{-K}$, so",
    )
    doc.equation(r"\cosh 2w", sp.exp(2 * K))
    doc.equation("w", w, name="bond weight w")
    doc.equation("c", c, name="bond constant c")
    doc.text(r"For $K < 0$ the hidden spin couples to $s - s'$ and $|K|$ replaces $K$ (function bond_weight).")
    doc.check(r"bond identity at $s = s'$ and $s = -s'$, symbolic (1 if a residual is nonzero)",
              max(_nonzero(c * sum(sp.exp(w * bv * (s1 + s2)) for bv in (-1, 1)) - sp.exp(K * s1 * s2))
                  for s1, s2 in ((1, 1), (1, -1))), 0.0, 0.0)
    worst = 0.0
    for Kv in (0.3, -1.2):
        wv, cv, sig = (float(x) for x in bond_weight(Kv))
        worst = max(worst, max(abs(cv * sum(math.exp(wv * bv * (s1 + sig * s2)) for bv in (-1, 1)) / math.exp(Kv * s1 * s2) - 1)
                               for s1, s2 in itertools.product((-1, 1), repeat=2)))
    doc.check(r"bond identity, relative error at $K = 0.3$ and $K = -1.2$", worst, 0.0, 1e-14)
    bm = bond_machine(ring_couplings(4, K))
    wsym = sp.Symbol("w", positive=True)
    doc.text(r"The ring of four spins $v_i$ becomes a bipartite machine with one hidden spin $b_k$ per bond "
             "($w$ as above; function bond_machine of symrg.rg.variational):")
    doc.equation("E(v, b)", bm.energy.subs(sp.acosh(sp.exp(2 * K)), 2 * wsym))
    mg = marginalize(bm, "b")
    doc.text("The marginalization engine sums the bond layer:")
    doc.equation("E(v)", mg.energy.subs(sp.acosh(sp.exp(2 * K)), 2 * wsym))
    v4 = sp.symbols("v_1:5", real=True)
    cp = symbolic_couplings(mg.energy, v4, "spin", simplify=True)
    rows = [[", ".join(f"$v_{{{i + 1}}}$" for i in S) or "constant", val] for S, val in cp.items() if val != 0 or len(S) == 2]
    doc.table(["spins", "coefficient in $E(v)$"], rows,
              caption="Couplings of the marginal by the Walsh transform: the ring hamiltonian, no constant")
    doc.check(r"couplings of $E(v) + K \sum_i v_i v_{i+1}$, symbolic (1 if any is nonzero)",
              float(any(sp.simplify(val - (-K if S in ((0, 1), (1, 2), (2, 3), (0, 3)) else 0)) != 0 for S, val in cp.items())),
              0.0, 0.0)

    # -- decimation ------------------------------------------------------------------------
    n, kept = 8, (0, 2, 4, 6)
    vr = decimation_machine(ring_couplings(n, K), kept=kept)
    doc.section(
        "Decimation of the chain as a Boltzmann machine",
        r"Ring of $8$ spins $-H(v) = K \sum_i v_i v_{i+1}$; the rule keeps $v_1, v_3, v_5, v_7$ as $h_1, \ldots, h_4$ "
        r"and sums the others, renamed $x_1, \ldots, x_4$:",
    )
    doc.equation(r"e^{T(v, h)}", vr.rule)
    doc.equation(r"D(v)", vr.trace_defect, note="summed over the $2^4$ coarse configurations")
    doc.check("trace defect of decimation, symbolic (1 if nonzero)", float(vr.trace_defect != 0), 0.0, 0.0)
    doc.text(r"On the support of $e^{T}$ the machine energy $-T + H$ is $H$ with $v_{2j-1} = h_j$:")
    doc.equation("E(x, h)", vr.machine, name="decimation machine")
    doc.equation("H'(h)", vr.coarse, name="H'(h) decimation")
    hs = sp.symbols("h_1:5", real=True)
    cc = symbolic_couplings(-vr.coarse.energy, hs, "spin", simplify=True)
    Kc = cc[(0, 1)]
    doc.equation("K'", Kc, name="K' decimation", note="coefficient of $h_1 h_2$ in $-H'$")
    doc.equation("g'", cc[()] / 4, note="constant per coarse bond")
    doc.text(r"Every summed spin $x_a$ couples with weight $K$ to the two coarse spins of one coarse bond: the decimation "
             r"machine is the one-hidden-spin-per-bond machine of the coarse ring, with $w = K$ and "
             r"$\cosh 2w = e^{2K'}$, the decimation recursion $K' = \frac{1}{2} \log \cosh 2K$ "
             r"($\tanh K' = \tanh^2 K$). Iterated, each layer of summed spins is the bond layer of the next "
             "coarser chain: a deep machine whose weights are the couplings along the flow.")
    doc.check(r"$K' - \frac{1}{2} \log \cosh 2K$, symbolic (1 if nonzero)",
              float(sp.simplify(Kc - sp.log(sp.cosh(2 * K)) / 2) != 0), 0.0, 0.0)
    Kv = 0.7
    Kcv = float(Kc.subs(K, Kv))
    doc.check(f"bond weight $w$ of the coarse ring against $K = {Kv}$", float(bond_weight(Kcv)[0]), Kv, 1e-13)
    doc.check(f"$\\tanh K'$ against $\\tanh^2 K$, $K = {Kv}$", math.tanh(Kcv), math.tanh(Kv) ** 2, 1e-14)
    # H'(h) against the block-RG route and a brute-force sum
    f_coarse = lambdify(vr.coarse)
    hconf = configurations(len(kept), "spin").astype(float)
    mine = np.array([float(f_coarse(h=row, K=Kv)) for row in hconf])
    ring = ising_model(chain(n), {"K": 1})
    ex = exact_renormalization(ring, chain_blocks(ring.lattice, 2), decimation(), {"K": Kv}, "enumeration")
    brute = _ring_brute(n, Kv, kept)
    doc.check(f"$H'(h)$ (machine) against the block-RG route, max over $h$, $K = {Kv}$",
              float(np.abs(mine - ex.hamiltonian).max()), 0.0, 1e-12)
    doc.check(f"$H'(h)$ (machine) against the sum over all $2^8$ fine states, $K = {Kv}$",
              float(max(abs(m + brute[tuple(int(x) for x in row)]) for m, row in zip(mine, hconf))), 0.0, 1e-12)
    doc.check(f"$\\Delta F$ of decimation ($Z$, $Z'$ enumerated), $K = {Kv}$", vr.delta_f({"K": Kv}), 0.0, 1e-12)

    # -- Delta F = 0 is not the trace condition ----------------------------------------------------
    a, t = sp.symbols("a t", real=True)
    v = sp.symbols("v_1:5", real=True)
    h2 = sp.symbols("h_1:3", real=True)
    rule = (1 + h2[0] * v[0]) * (1 + h2[1] * v[2]) / 4 * (1 + a * (v[1] * v[3] - t))
    r = variational_rg(ising_hamiltonian(ring_couplings(4, K)), rule, h2)
    doc.section(
        r"$\Delta F = 0$ without the trace condition",
        r"Ring of $4$ spins; decimation to $v_1, v_3$ multiplied by $1 + a (v_2 v_4 - t)$, nonnegative for "
        r"$|a| (1 + |t|) \le 1$ (function variational_rg, by enumeration):",
    )
    doc.equation(r"e^{T(v, h)}", rule)
    doc.equation("D(v)", r.trace_defect, name="defect of the perturbed rule")
    doc.equation(r"\Delta F", r"-\log\left(1 + a \left(\langle v_2 v_4 \rangle_H - t\right)\right)")
    doc.text(r"so $\Delta F = 0$ at $t = \langle v_2 v_4 \rangle_H$ for every $a$, while $D \neq 0$ for $a \neq 0$: the "
             r"machine's own marginal on $v$ is $H - D$, not $H$, and the coarse coupling $K'$ (coefficient of $h_1 h_2$ "
             r"in $-H'$) is not that of decimation.")
    Kv2 = 0.45
    states = list(itertools.product((-1, 1), repeat=4))
    bws = [math.exp(Kv2 * sum(s[i] * s[(i + 1) % 4] for i in range(4))) for s in states]
    corr = sum(s[1] * s[3] * bw for s, bw in zip(states, bws)) / sum(bws)
    rows = []
    err_brute, err_zero = 0.0, 0.0
    for av in ("0", "0.3", "0.6"):
        sub = {K: Kv2, a: float(av), t: corr}
        dmax = max(abs(float(r.trace_defect.subs(sub).subs({v[1]: s1, v[3]: s2}))) for s1, s2 in ((1, 1), (1, -1)))
        hc = {hh: float(r.coarse.subs(sub).subs({h2[0]: hh[0], h2[1]: hh[1]})) for hh in itertools.product((-1, 1), repeat=2)}
        kprime = -(hc[(1, 1)] - hc[(1, -1)]) / 2
        df = float(r.delta_f.subs(sub))
        # at t = 0 Delta F is not zero: compared with Z' summed over v and h by brute force
        df0 = float(r.delta_f.subs({**sub, t: 0}))
        zc = sum(bw * sum((s[0] == g[0]) * (s[2] == g[1]) * (1 + float(av) * s[1] * s[3])
                          for g in itertools.product((-1, 1), repeat=2)) for s, bw in zip(states, bws))
        rows.append([av, df, df0, dmax, kprime])
        err_brute = max(err_brute, abs(df0 + math.log(zc / sum(bws))))
        err_zero = max(err_zero, abs(df))
    doc.check(r"$\Delta F$ at $t = 0$ against a brute-force $-\log(Z' / Z)$, max over $a$", err_brute, 0.0, 1e-14)
    doc.check(r"$|\Delta F|$ at $t = \langle v_2 v_4 \rangle_H$, max over $a$", err_zero, 0.0, 1e-14)
    doc.table(["$a$", r"$\Delta F$", r"$\Delta F$ at $t = 0$", r"$\max_v |D(v)|$", "$K'$"], rows, digits=10,
              caption=rf"$K = {Kv2}$, $t = \langle v_2 v_4 \rangle_H = {corr:.10f}$ (enumeration) except in the "
                      r"third column; $a = 0$ is decimation")
    doc.check(r"$|K'(0.6) - K'(0)| > 0.01$ (1 if not)", float(abs(rows[2][4] - rows[0][4]) <= 0.01), 0.0, 0.0)

    # -- 2x2 majority ------------------------------------------------------------------------
    doc.section(
        r"Majority rule on $2 \times 2$ blocks of a $4 \times 4$ periodic patch",
        r"For a block $x_1, \ldots, x_4$ the rule is $e^{T} = p(h \mid x) = (1 + h\, m(x)) / 2$ with $m(x) = E[h \mid x]$ "
        r"multilinear (Walsh transform of the rule's table); with ties broken at random:",
    )
    xs = sp.symbols("x_1:5", real=True)
    hb = sp.Symbol("h", real=True)
    coeffs = rule_multilinear(majority(tie="random"), 4)
    # printed grouped by order: each order has one coefficient (the rule is symmetric in the block)
    groups: dict[tuple[int, sp.Rational], list[sp.Expr]] = {}
    for mask, cf in enumerate(coeffs):
        if cf != 0:
            mono = sp.Mul(*[xs[i] for i in range(4) if mask >> i & 1])
            groups.setdefault((bin(mask).count("1"), sp.Rational(float(cf))), []).append(mono)
    shown = sp.Add(*[sp.Mul(cf, sp.Add(*monos), evaluate=False) for (_, cf), monos in sorted(groups.items())],
                   evaluate=False)
    doc.equation("m(x)", shown, name="majority m(x)")
    d_sym = trace_defect((1 + hb * shown) / 2, xs, [hb])
    doc.check("trace defect of the majority rule, symbolic (1 if nonzero)", float(d_sym != 0), 0.0, 0.0)
    table = np.asarray(majority(tie="random").numeric_table(4, {}), dtype=float)
    doc.check(r"printed $m(x)$ against $2 p(h = 1 \mid x) - 1$ of the rule's table, max over $x$",
              max(abs(float(shown.subs(dict(zip(xs, row)))) - (2 * table[k] - 1))
                  for k, row in enumerate(configurations(4, "spin").tolist())), 0.0, 1e-15)
    mvals = [float(shown.subs(dict(zip(xs, row)))) for row in itertools.product((-1, 1), repeat=4)]
    doc.check(r"$\max_x |m(x)| \le 1$, i.e. $e^{T} \ge 0$ (1 if not)", float(max(abs(x) for x in mvals) > 1), 0.0, 0.0)
    lat = square(4, 4)
    model = ising_model(lat, {"K": 1})
    blocks = square_blocks(lat, 2)
    fine = configurations(16, "spin").astype(np.int64)
    rows = []
    worst_defect = worst_h = worst_f = 0.0
    for tie in ("random", "first"):
        rule2 = majority(tie=tie)
        worst_defect = max(worst_defect, rule_table_defect(rule2, 4))
        for Kq in ("0.35", "0.44"):
            lwq = model.log_weight(fine, {"K": float(Kq)})
            Hm = -machine_log_weights(lwq, blocks.blocks(), rule2)
            exq = exact_renormalization(model, blocks, rule2, {"K": float(Kq)}, "enumeration")
            worst_h = max(worst_h, float(np.abs(Hm - exq.hamiltonian).max()))
            log_zc = float(np.log(np.exp(-Hm).sum()))
            log_z = float(np.log(np.exp(lwq).sum()))
            worst_f = max(worst_f, abs(log_zc - log_z))
            rows.append([tie, Kq, exq.coupling((0, 1)), exq.coupling((0, 3)), exq.coupling((0, 1, 2, 3))])
    doc.check("majority: numeric trace defect, max over $x$ and both tie rules", worst_defect, 0.0, 1e-12)
    doc.check("majority: $H'(h)$ (machine) against the block-RG route, max over $h$, ties, $K$", worst_h, 0.0, 1e-12)
    doc.check(r"majority: $|\Delta F|$ ($Z$ enumerated), max over ties and $K$", worst_f, 0.0, 1e-12)
    doc.table(["ties", "$K$", "nearest $K'$", "diagonal", "four-spin"], rows, digits=8,
              caption=r"Couplings of $-H'(h)$ on the $2 \times 2$ coarse torus (each coarse pair is joined twice)")

    # -- the seed DBM ----------------------------------------------------------------------------
    seed = seed_dbm()
    doc.section(
        "The seed's three-layer DBM read as a variational RG",
        r"Energy $E(v, h, s)$ of the seed, $v$ Bernoulli, $h$ and $s$ Gaussian. Take $H(v)$ as the machine's own "
        r"marginal and $T(v, h) = H(v) - E_s(v, h)$, with $E_s$ the energy after summing $s$:",
    )
    doc.equation("E(v, h, s)", seed)
    Hs = marginalize(seed, "s")
    doc.equation("E_s(v, h)", Hs)
    Hv = marginalize(seed, "s", "h")
    doc.equation("H(v)", Hv, where={i.symbol: i.definition for i in Hv.intermediates})
    doc.conditions(Hv.conditions)
    Hp = marginalize(seed, "s", "v")
    doc.equation("H'(h)", Hp, name="seed H'(h)")
    doc.text(r"Then $\int dh\, e^{T(v, h)} = e^{H(v)} \int dh\, e^{-E_s(v, h)} = 1$ for every $v$: the trace condition "
             r"holds by construction and $e^{T} = p(h \mid v)$. The identity is formal (any hierarchical model reads this "
             "way); its content is that the marginals the engine derives are the right ones, checked below by quadrature "
             "of the energy written out by hand, for $2$ visible, $1$ and $1$ hidden units.")
    small = seed_dbm(2, 1, 1)
    rng = np.random.default_rng(3)
    p = {"a": rng.normal(size=(2, 1)) * 0.5, "b": rng.normal(size=(1, 1)) * 0.5, "c": rng.normal(size=(1, 1)) * 0.5,
         "W": rng.normal(size=(2, 1)) * 0.5, "U": np.array([[0.6]])}
    fH = lambdify(marginalize(small, "s", "h"))
    fHp = lambdify(marginalize(small, "s", "v"))
    hh, ss = np.meshgrid(GRID, GRID, indexing="ij")
    worst = 0.0
    for vv in itertools.product((0, 1), repeat=2):
        va = np.array(vv, dtype=float)
        Hval = float(fH(v=va, **p))
        worst = max(worst, abs(_trapezoid(np.exp(Hval - _seed_energy(va, hh, ss, p))) - 1))
    doc.check(r"seed: $|\int dh\, ds\, e^{H(v) - E} - 1|$ (trapezoidal rule), max over $v$",
              worst, 0.0, 1e-12)
    worst = 0.0
    for hv in (-0.7, 0.4, 1.3):
        direct = sum(_trapezoid(np.exp(-_seed_energy(np.array(vv, dtype=float), hv, GRID, p)))
                     for vv in itertools.product((0, 1), repeat=2))
        worst = max(worst, abs(float(fHp(h=np.array([hv]), **p)) + math.log(direct)))
    doc.check(r"seed: $H'(h)$ against $-\log \sum_v \int ds\, e^{-E}$ at $h = -0.7, 0.4, 1.3$",
              worst, 0.0, 1e-12)
    log_z = math.log(sum(math.exp(-float(fH(v=np.array(vv, dtype=float), **p))) for vv in itertools.product((0, 1), repeat=2)))
    log_zc = math.log(_trapezoid(np.array([math.exp(-float(fHp(h=np.array([x]), **p))) for x in GRID])))
    doc.check(r"seed: $\Delta F$ ($Z$ enumerated, $Z'$ by the trapezoidal rule)",
              log_z - log_zc, 0.0, 1e-12)
    return doc


if __name__ == "__main__":
    doc = derivation()
    print(doc.render("text"))
    sys.exit(0 if doc.passed else 1)
