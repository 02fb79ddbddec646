"""LaTeX of models and the abstract (vector-notation) results of docs/marginalization.md (worked example)."""

import itertools

import numpy as np
import sympy as sp

from symrg.engine.canonical import canonical_form
from symrg.engine.marginalization import fold_all, marginalize
from symrg.model.energy import rbm, seed_dbm
from symrg.model.exprs import MatScalar
from symrg.output.printing import latex
from symrg.verify.brute_force import brute_force_log_weight

H_VH = (
    r"H\left(v, h\right) = - a^{T} v - \left(b + U c\right)^{T} h + \frac{h^{T} \left(I - U U^{T}\right) h}{2}"
    r" - v^{T} W h - \frac{c^{T} c}{2} - \frac{n_{s}}{2} \log{\left(2 \pi \right)}"
)
H_V = (
    r"H\left(v\right) = - a^{T} v - \frac{\left(b + U c + W^{T} v\right)^{T} C \left(b + U c + W^{T} v\right)}{2}"
    r" - \frac{c^{T} c}{2} - \frac{n_{h} + n_{s}}{2} \log{\left(2 \pi \right)}"
    r" + \frac{\log{\left(\det\left(I - U U^{T}\right) \right)}}{2}, \quad \text{where } C = \left(I - U U^{T}\right)^{-1},"
    r" \quad \text{valid when } I - U U^{T} \succ 0"
)


def test_seed_latex_reads_like_math_md(seed_abstract, H_abstract):
    step1 = fold_all(marginalize(seed_abstract, "s"))
    assert step1.latex() == H_VH
    assert H_abstract.latex() == H_V
    assert H_abstract._repr_latex_().startswith("$\\displaystyle H")


def _numeric_abstract(expr, subs):
    """Evaluate an abstract energy by substituting numeric matrices (no symrg numerics)."""
    out = expr.xreplace(subs)
    out = out.replace(lambda e: isinstance(e, MatScalar), lambda e: sp.Matrix(e.args[0].doit())[0, 0])
    out = out.replace(lambda e: isinstance(e, sp.Determinant), lambda e: sp.Matrix(e.arg.doit()).det())
    return complex(sp.N(out.doit())).real


def test_abstract_expressions_with_explicit_matrices_agree_with_explicit_mode(H_abstract):
    rng = np.random.default_rng(3)
    n_v, n_h, n_s = 3, 2, 2
    abstract = H_abstract
    nv, nh, ns = (sp.Symbol(f"n_{x}", integer=True, positive=True) for x in "vhs")
    vals = dict(a=rng.normal(size=(n_v, 1)), b=rng.normal(size=(n_h, 1)), c=rng.normal(size=(n_s, 1)),
                W=rng.normal(size=(n_v, n_h)) * 0.5, U=rng.normal(size=(n_h, n_s)) * 0.4)
    U = vals["U"]
    C = np.linalg.inv(np.eye(n_h) - U @ U.T)
    shapes = {k: (nv if k in "aW" else nh if k in "bU" else ns, 1 if k in "abc" else (nh if k == "W" else ns)) for k in vals}
    subs = {sp.MatrixSymbol(k, *shapes[k]): sp.Matrix(v) for k, v in vals.items()}
    subs[sp.MatrixSymbol("C", nh, nh)] = sp.Matrix(C)
    subs.update({nv: n_v, nh: n_h, ns: n_s})
    for state in itertools.product([0, 1], repeat=n_v):
        s = dict(subs)
        s[sp.MatrixSymbol("v", nv, 1)] = sp.Matrix(state)
        got = _numeric_abstract(abstract.energy, s)
        flat_vals = {k: v.ravel() if v.shape[1] == 1 else v for k, v in vals.items()}
        ref = brute_force_log_weight(seed_dbm(n_v, n_h, n_s), flat_vals, {"v": np.array([state], float)})[0]
        assert abs(got - ref) < 1e-10 * max(1, abs(ref))


def test_explicit_mode_keeps_named_intermediates(H_explicit):
    eff = H_explicit
    tex = eff.latex()
    assert r"C = \left(I - U U^{T}\right)^{-1}" in tex
    assert "W_{11}" in tex and "v_{1}" in tex
    assert not any(isinstance(a, sp.Inverse) for a in sp.preorder_traversal(eff.energy))


def test_rbm_abstract_latex_shows_softplus_sum():
    n_v, n_h = sp.symbols("n_v n_h", integer=True, positive=True)
    tex = marginalize(rbm(n_v, n_h), "h").latex()
    assert tex == r"H\left(v\right) = - a^{T} v - \sum_{j=1}^{n_{h}} \log\left(1 + e^{\left(b + W^{T} v\right)_{j}}\right)"
    tex = marginalize(rbm(n_v, n_h, hidden="spin"), "h").latex()
    assert r"\log\left(2 \cosh \left(b + W^{T} v\right)_{j}\right)" in tex


def test_canonical_form_matches_brute_force_mobius():
    n = 3
    model = seed_dbm(n, 2, 2)
    eff = marginalize(model, "s", "h")
    cf = canonical_form(eff)
    assert cf.max_order == 2
    rng = np.random.default_rng(4)
    vals = dict(a=rng.normal(size=n), b=rng.normal(size=2), c=rng.normal(size=2),
                W=rng.normal(size=(n, 2)) * 0.3, U=rng.normal(size=(2, 2)) * 0.3)
    # energies of every configuration by brute force, then inclusion-exclusion by hand
    configs = list(itertools.product([0, 1], repeat=n))
    H = dict(zip(configs, brute_force_log_weight(model, vals, {"v": np.array(configs, float)})))
    C = np.linalg.inv(np.eye(2) - vals["U"] @ vals["U"].T)
    num = model.substitutions(vals)
    num.update({sp.MatrixSymbol("C", 2, 2)[i, j]: C[i, j] for i in range(2) for j in range(2)})
    v = eff.layer("v").states
    for i, j in itertools.combinations(range(n), 2):
        def e(*ones):
            return H[tuple(1 if k in ones else 0 for k in range(n))]
        mobius = e(i, j) - e(i) - e(j) + e()
        assert abs(float(cf.raw(cf.coupling(v[i], v[j])).xreplace(num)) - mobius) < 1e-11
    for i in range(n):
        field = H[tuple(1 if k == i else 0 for k in range(n))] - H[(0,) * n]
        assert abs(float(cf.raw(cf.coupling(v[i])).xreplace(num)) - field) < 1e-11
    const = cf.raw(cf.constant).xreplace(num).xreplace({sp.MatrixSymbol("U", 2, 2): sp.Matrix(vals["U"])})
    const = const.replace(lambda e: isinstance(e, sp.Determinant), lambda e: sp.Matrix(e.arg.doit()).det())
    assert abs(float(const) - H[(0,) * n]) < 1e-11


def test_latex_helper_prints_identity_and_det():
    n = sp.Symbol("n")
    A = sp.MatrixSymbol("A", n, n)
    assert latex(sp.Determinant(sp.Identity(n) - A)) == r"\det\left(I - A\right)"
