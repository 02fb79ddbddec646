"""Notation and compact closed forms for explicit sizes (issue 12, items 1 and 2).

Every printed form is checked against an independent computation: the couplings of the
visible marginal by brute-force enumeration (inclusion-exclusion over configurations),
and the index-form formulas by evaluating them with numpy.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from symrg.engine.canonical import canonical_form
from symrg.engine.marginalization import marginalize
from symrg.model.energy import dbm, seed_dbm
from symrg.model.naming import latex_name
from symrg.output.printing import couplings_latex, index_latex
from symrg.verify.brute_force import brute_force_log_weight

SEED_864 = (
    r"H\left(v\right) = E_{0} - \sum_{i=1}^{8} h_{i} v_{i} - \sum_{1 \le i < j \le 8} J_{ij} v_{i} v_{j}, \quad "
    r"h_{i} = a_{i} + \sum_{k,l=1}^{6} W_{ik} C_{kl} \left(b_{l} + \sum_{m=1}^{4} U_{lm} c_{m}\right) "
    r"+ \frac{1}{2} \sum_{k,l=1}^{6} W_{ik} C_{kl} W_{il}, \quad "
    r"J_{ij} = \sum_{k,l=1}^{6} W_{ik} C_{kl} W_{jl}, \quad C = \left(I - U U^{T}\right)^{-1}"
)

FOUR_LAYERS = (
    r"H\left(v, h^{(2)}\right) = E_{0} - \sum_{i=1}^{3} \theta^{(v)}_{i} v_{i} "
    r"- \sum_{1 \le i < j \le 3} J^{(v)}_{ij} v_{i} v_{j} - \sum_{i=1}^{2} \theta^{(h^{(2)})}_{i} h^{(2)}_{i} "
    r"- \sum_{1 \le i < j \le 2} J^{(h^{(2)})}_{ij} h^{(2)}_{i} h^{(2)}_{j} "
    r"- \sum_{i=1}^{3} \sum_{j=1}^{2} J^{(v,h^{(2)})}_{ij} v_{i} h^{(2)}_{j}, \quad "
    r"\theta^{(v)}_{i} = b^{(v)}_{i} + \sum_{k=1}^{2} W^{(v,h^{(1)})}_{ik} b^{(h^{(1)})}_{k}, \quad "
    r"J^{(v)}_{ij} = \sum_{k=1}^{2} W^{(v,h^{(1)})}_{ik} W^{(v,h^{(1)})}_{jk}, \quad "
    r"\theta^{(h^{(2)})}_{i} = b^{(h^{(2)})}_{i} + \sum_{k=1}^{2} W^{(h^{(1)},h^{(2)})}_{ki} b^{(h^{(1)})}_{k} "
    r"+ \sum_{l=1}^{2} W^{(h^{(2)},h^{(3)})}_{il} b^{(h^{(3)})}_{l} "
    r"+ \frac{1}{2} \sum_{k=1}^{2} W^{(h^{(2)},h^{(3)})}_{ik} W^{(h^{(2)},h^{(3)})}_{ik} "
    r"+ \frac{1}{2} \sum_{l=1}^{2} W^{(h^{(1)},h^{(2)})}_{li} W^{(h^{(1)},h^{(2)})}_{li}, \quad "
    r"J^{(h^{(2)})}_{ij} = \sum_{k=1}^{2} W^{(h^{(2)},h^{(3)})}_{ik} W^{(h^{(2)},h^{(3)})}_{jk} "
    r"+ \sum_{l=1}^{2} W^{(h^{(1)},h^{(2)})}_{li} W^{(h^{(1)},h^{(2)})}_{lj}, \quad "
    r"J^{(v,h^{(2)})}_{ij} = \sum_{k=1}^{2} W^{(v,h^{(1)})}_{ik} W^{(h^{(1)},h^{(2)})}_{kj}"
)


def _four_layers():
    return dbm([3, 2, 2, 2], ["spin", "gaussian", "bernoulli", "gaussian"], names=["v", "h1", "h2", "h3"],
               weights=["W_vh1", "W_h1h2", "W_h2h3"])


def test_seed_dbm_864_couplings_in_index_form():
    eff = marginalize(seed_dbm(8, 6, 4), "s", "h")
    assert couplings_latex(eff) == SEED_864
    assert len(eff.latex()) < 20_000  # was 241,309 characters


def test_four_layer_model_names_are_unambiguous():
    eff = marginalize(_four_layers(), "h1", "h3")
    assert couplings_latex(eff) == FOUR_LAYERS
    # no digit ever runs into an index: h1's entries are h^{(1)}_{k}, never h_{1 1} or h_{11}
    assert "h_{1" not in FOUR_LAYERS and "W_vh1" not in FOUR_LAYERS


def test_user_symbols_override_the_defaults():
    eff = marginalize(_four_layers(), "h1", "h3")
    tex = couplings_latex(eff, latex_names={"h2": r"\mathbf{h}", "W_h1h2": "K"})
    assert tex.startswith(r"H\left(v, \mathbf{h}\right) = E_{0}")
    assert r"J^{(v,\mathbf{h})}_{ij} = \sum_{k=1}^{2} W^{(v,h^{(1)})}_{ik} K_{kj}" in tex
    assert "h^{(2)}" not in tex and "W^{(h^{(1)},h^{(2)})}" not in tex


def test_latex_names():
    assert latex_name("h1") == "h^{(1)}"
    assert latex_name("x12") == "x^{(12)}"
    assert latex_name("W_vh1", ["v", "h1"]) == "W^{(v,h^{(1)})}"
    assert latex_name("b_h12", ["h12"]) == "b^{(h^{(12)})}"
    assert latex_name("C") == "C"


def test_index_latex_of_products_and_sums():
    W, C, U = sp.MatrixSymbol("W", 8, 6), sp.MatrixSymbol("C", 6, 6), sp.MatrixSymbol("U", 6, 4)
    b, c = sp.MatrixSymbol("b", 6, 1), sp.MatrixSymbol("c", 4, 1)
    assert index_latex(W * C * W.T, "i", "j") == r"\sum_{k,l=1}^{6} W_{ik} C_{kl} W_{jl}"
    assert index_latex(W * C * (U * c + b), "i") == (
        r"\sum_{k,l=1}^{6} W_{ik} C_{kl} \left(b_{l} + \sum_{m=1}^{4} U_{lm} c_{m}\right)")


def _random_seed_values(n_v: int, n_h: int, n_s: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return dict(a=rng.normal(size=n_v), b=rng.normal(size=n_h), c=rng.normal(size=n_s),
                W=rng.normal(size=(n_v, n_h)) * 0.3, U=rng.normal(size=(n_h, n_s)) * 0.2)


def _mobius(H: dict, n: int):
    def e(*ones):
        return H[tuple(1 if k in ones else 0 for k in range(n))]
    return e


def test_seed_dbm_864_compact_coefficients_match_brute_force():
    n_v, n_h, n_s = 8, 6, 4
    model = seed_dbm(n_v, n_h, n_s)
    eff = marginalize(model, "s", "h")
    cf = canonical_form(eff)
    vals = _random_seed_values(n_v, n_h, n_s, 7)
    configs = list(itertools.product([0, 1], repeat=n_v))
    H = dict(zip(configs, brute_force_log_weight(model, vals, {"v": np.array(configs, float)})))
    e = _mobius(H, n_v)
    # the printed index forms, evaluated with numpy
    C = np.linalg.inv(np.eye(n_h) - vals["U"] @ vals["U"].T)
    W = vals["W"]
    J = W @ C @ W.T
    h = vals["a"] + W @ C @ (vals["b"] + vals["U"] @ vals["c"]) + np.diag(J) / 2
    # the compact symbolic coefficients, evaluated at the same point
    num = eff.substitutions(vals)
    num.update({s: C[el.i, el.j] for s, el in cf.entries.items()})
    v = eff.layer("v").states
    for i, j in itertools.combinations(range(n_v), 2):
        mobius = e(i, j) - e(i) - e(j) + e()
        assert abs(-J[i, j] - mobius) < 1e-10
        assert abs(float(cf.coupling(v[i], v[j]).xreplace(num)) - mobius) < 1e-10
    for i in range(n_v):
        assert abs(-h[i] - (e(i) - e())) < 1e-10
        assert abs(float(cf.coupling(v[i]).xreplace(num)) - (e(i) - e())) < 1e-10
    const = cf.constant.xreplace(num).xreplace({sp.MatrixSymbol("U", n_h, n_s): sp.Matrix(vals["U"])})
    const = const.replace(lambda x: isinstance(x, sp.Determinant), lambda x: sp.Matrix(x.arg.doit()).det())
    assert abs(float(const) - e()) < 1e-9


def test_symmetric_intermediate_entries_are_merged():
    cf = canonical_form(marginalize(seed_dbm(3, 3, 2), "s", "h"))
    names = {str(s) for s in cf.entries}
    assert "C_{12}" in names and "C_{21}" not in names
    assert len(names) == 6
    assert "C[" not in cf.text()  # one index base: 1-based entry names everywhere


def test_expanded_form_is_available_and_equal():
    eff = marginalize(seed_dbm(3, 2, 2), "s", "h")
    compact, expanded = canonical_form(eff), canonical_form(eff, expand=True)
    assert type(compact) is type(expanded)
    for key, c in expanded.couplings.items():
        assert sp.expand(compact.couplings[key] - c) == 0
    assert sp.expand(compact.constant - expanded.constant) == 0


def test_spin_squares_reduce_to_one_in_the_canonical_form():
    eff = marginalize(_four_layers(), "h1", "h3")
    cf = canonical_form(eff)
    v = eff.layer("v").states
    assert all(k.count(u) <= 1 for k in cf.couplings for u in v)
    vals = {"b_v": np.array([0.1, -0.2, 0.3]), "b_h1": np.array([0.2, -0.1]), "b_h2": np.array([0.05, 0.4]),
            "b_h3": np.array([-0.3, 0.2]), "W_vh1": np.array([[0.3, -0.2], [0.1, 0.25], [-0.15, 0.2]]),
            "W_h1h2": np.array([[0.2, -0.1], [0.3, 0.1]]), "W_h2h3": np.array([[0.25, 0.1], [-0.2, 0.15]])}
    model = _four_layers()
    configs = list(itertools.product([-1, 1], [-1, 1], [-1, 1], [0, 1], [0, 1]))
    arr = np.array(configs, float)
    H = brute_force_log_weight(model, vals, {"v": arr[:, :3], "h2": arr[:, 3:]})
    num = eff.substitutions(vals)
    units = list(eff.layer("v").states) + list(eff.layer("h2").states)
    for cfg, ref in zip(configs, H):
        got = cf.expression().xreplace(num).xreplace(dict(zip(units, cfg)))
        assert abs(float(got) - ref) < 1e-10
    # the printed index forms (FOUR_LAYERS), evaluated with numpy, give the same energy differences
    A, B, D = vals["W_vh1"], vals["W_h1h2"], vals["W_h2h3"]
    theta_v = vals["b_v"] + A @ vals["b_h1"]
    J_v = A @ A.T
    theta_h = vals["b_h2"] + B.T @ vals["b_h1"] + D @ vals["b_h3"] + np.diag(D @ D.T) / 2 + np.diag(B.T @ B) / 2
    J_h = D @ D.T + B.T @ B
    J_vh = A @ B

    def printed(x, y):
        return (-theta_v @ x - sum(J_v[i, j] * x[i] * x[j] for i, j in itertools.combinations(range(3), 2))
                - theta_h @ y - J_h[0, 1] * y[0] * y[1] - x @ J_vh @ y)

    base = printed(arr[0, :3], arr[0, 3:]) - H[0]
    for row, ref in zip(arr, H):
        assert abs(printed(row[:3], row[3:]) - ref - base) < 1e-10


def test_printed_forms_reduce_unit_powers_and_drop_unit_coefficients():
    from symrg.model.energy import rbm
    from symrg.model.expressions import energy_pieces
    from symrg.output.printing import _reduce_powers

    for visible, values in (("bernoulli", (0, 1)), ("spin", (-1, 1))):
        eff = marginalize(rbm(2, 2, visible=visible, hidden="gaussian"), "h")
        tex = eff.latex()
        assert "v_{1}^{2}" not in tex and "v_{2}^{2}" not in tex
        assert r"- \log{\left(2 \pi \right)}" in tex and r"1 \log" not in tex
        # the reduced pieces equal the energy on every configuration of the support
        printed = sp.Add(*[_reduce_powers(eff, p) for p in energy_pieces(eff, scalar=True)])
        v = list(eff.layer("v").states)
        for cfg in itertools.product(values, repeat=2):
            point = dict(zip(v, cfg))
            assert sp.expand(printed.xreplace(point) - eff.energy.xreplace(point)) == 0


def test_cumulant_series_prints_named_sigmoids_with_the_same_values():
    from symrg.engine.effective import cumulant_series, named_sigmoids
    from symrg.model.energy import rbm

    series = cumulant_series(marginalize(rbm(2, 2), "h"), 3)
    tex = series.latex()
    # the cumulants are named in the coefficients (kappa_n(b_j)) and defined once with the sigmoid
    assert "e^{- b" not in tex and r"\kappa_{2}{\left(b_{1} \right)}" in tex and r"\sigma{\left(x \right)}" in tex
    sigma = sp.Function(r"\sigma")
    rng = np.random.default_rng(3)
    for n in (1, 2, 3):
        for c in series.orders[n].values():
            named = named_sigmoids(c)
            point = {s: float(rng.normal()) for s in c.free_symbols}
            logistic = named.replace(lambda e: isinstance(e, sigma), lambda e: 1 / (1 + sp.exp(-e.args[0])))
            assert abs(float(c.xreplace(point)) - float(logistic.xreplace(point))) < 1e-12


# --------------------------------------------------------------------------------------
# symbols of layers and parameters in every printed form (issue 12, item 1)
# --------------------------------------------------------------------------------------

SMALL_FOUR = (
    r"H\left(v, h^{(1)}, h^{(2)}, h^{(3)}\right) = - b^{(v)}_{1} v_{1} - b^{(v)}_{2} v_{2} "
    r"- b^{(h^{(1)})}_{1} h^{(1)}_{1} - b^{(h^{(1)})}_{2} h^{(1)}_{2} - b^{(h^{(2)})}_{1} h^{(2)}_{1} "
    r"- b^{(h^{(3)})}_{1} h^{(3)}_{1} + \frac{\left(h^{(1)}_{1}\right)^{2}}{2} + \frac{\left(h^{(1)}_{2}\right)^{2}}{2} "
    r"+ \frac{\left(h^{(3)}_{1}\right)^{2}}{2} - W^{(v,h^{(1)})}_{1,1} h^{(1)}_{1} v_{1} - W^{(v,h^{(1)})}_{1,2} h^{(1)}_{2} v_{1} "
    r"- W^{(v,h^{(1)})}_{2,1} h^{(1)}_{1} v_{2} - W^{(v,h^{(1)})}_{2,2} h^{(1)}_{2} v_{2} "
    r"- W^{(h^{(1)},h^{(2)})}_{1,1} h^{(1)}_{1} h^{(2)}_{1} - W^{(h^{(1)},h^{(2)})}_{2,1} h^{(1)}_{2} h^{(2)}_{1} "
    r"- W^{(h^{(2)},h^{(3)})}_{1,1} h^{(2)}_{1} h^{(3)}_{1}"
)

SMALL_FOUR_OVERRIDDEN = (
    r"H\left(v, \tilde h, h^{(2)}, h^{(3)}\right) = - \theta_{1} v_{1} - \theta_{2} v_{2} "
    r"- b^{(\tilde h)}_{1} \tilde h_{1} - b^{(\tilde h)}_{2} \tilde h_{2} - b^{(h^{(2)})}_{1} h^{(2)}_{1} "
    r"- b^{(h^{(3)})}_{1} h^{(3)}_{1} + \frac{\tilde h_{1}^{2}}{2} + \frac{\tilde h_{2}^{2}}{2} "
    r"+ \frac{\left(h^{(3)}_{1}\right)^{2}}{2} - w_{1,1} \tilde h_{1} v_{1} - w_{1,2} \tilde h_{2} v_{1} "
    r"- w_{2,1} \tilde h_{1} v_{2} - w_{2,2} \tilde h_{2} v_{2} - W^{(\tilde h,h^{(2)})}_{1,1} \tilde h_{1} h^{(2)}_{1} "
    r"- W^{(\tilde h,h^{(2)})}_{2,1} \tilde h_{2} h^{(2)}_{1} - W^{(h^{(2)},h^{(3)})}_{1,1} h^{(2)}_{1} h^{(3)}_{1}"
)

SMALL_FOUR_OVERRIDDEN_COUPLINGS = (
    r"H\left(v, h^{(2)}\right) = E_{0} - \sum_{i=1}^{2} \theta^{(v)}_{i} v_{i} - \sum_{1 \le i < j \le 2} J^{(v)}_{ij} v_{i} v_{j} "
    r"- \sum_{i=1}^{1} \theta^{(h^{(2)})}_{i} h^{(2)}_{i} - \sum_{i=1}^{2} \sum_{j=1}^{1} J^{(v,h^{(2)})}_{ij} v_{i} h^{(2)}_{j}, \quad "
    r"\theta^{(v)}_{i} = \theta_{i} + \sum_{k=1}^{2} w_{ik} b^{(\tilde h)}_{k}, \quad "
    r"J^{(v)}_{ij} = \sum_{k=1}^{2} w_{ik} w_{jk}, \quad "
    r"\theta^{(h^{(2)})}_{i} = b^{(h^{(2)})} + \sum_{k=1}^{2} W^{(\tilde h,h^{(2)})}_{k} b^{(\tilde h)}_{k} "
    r"+ W^{(h^{(2)},h^{(3)})} b^{(h^{(3)})} + \frac{1}{2} W^{(h^{(2)},h^{(3)})} W^{(h^{(2)},h^{(3)})} "
    r"+ \frac{1}{2} \sum_{k=1}^{2} W^{(\tilde h,h^{(2)})}_{k} W^{(\tilde h,h^{(2)})}_{k}, \quad "
    r"J^{(v,h^{(2)})}_{ij} = \sum_{k=1}^{2} w_{ik} W^{(\tilde h,h^{(2)})}_{k}"
)


def _small_four(**kw):
    from symrg.model.energy import energy_model

    return energy_model([("v", 2, "spin"), ("h1", 2, "gaussian"), ("h2", 1), ("h3", 1, "gaussian")],
                        [("v", "h1"), ("h1", "h2"), ("h2", "h3")], **kw)


def test_model_latex_of_layers_v_h1_h2_h3():
    assert _small_four().latex() == SMALL_FOUR
    # the same model in the shape of the couplings test: no name runs into an index
    tex = _four_layers().latex()
    for bad in ("h_{1", "h_{2", "h_{3", "W_vh1", "W_h1h2", "b_{h", "b_{v"):
        assert bad not in tex
    assert tex.startswith(r"H\left(v, h^{(1)}, h^{(2)}, h^{(3)}\right) = - b^{(v)}_{1} v_{1}")
    assert r"- W^{(v,h^{(1)})}_{3,2} h^{(1)}_{2} v_{3}" in tex


def test_user_symbols_in_model_latex_and_couplings():
    model = _small_four(latex_names={"h1": r"\tilde h", "W_vh1": "w", "b_v": r"\theta"})
    assert model.latex() == SMALL_FOUR_OVERRIDDEN
    eff = marginalize(model, "h1", "h3")
    assert couplings_latex(eff) == SMALL_FOUR_OVERRIDDEN_COUPLINGS
    tex = eff.latex()  # the summed-out layer keeps its symbol in the parameters that remain
    assert r"b^{(\tilde h)}_{1}" in tex and r"w_{1,1} w_{2,1} v_{1} v_{2}" in tex and "h^{(1)}" not in tex
    # the documents print the model's symbols too (LaTeX and Markdown)
    from symrg.output.document import Derivation

    doc = Derivation("symbols")
    doc.equation("H", eff)
    for fmt in ("latex", "markdown"):
        out = doc.render(fmt)
        assert r"w_{1,1} w_{2,1} v_{1} v_{2}" in out and "W_vh1" not in out and "h_{1 1}" not in out


def test_text_forms_name_units_and_entries_without_latex():
    from symrg.engine.effective import cumulant_series
    from symrg.model.energy import rbm

    model = _small_four(latex_names={"h1": r"\tilde h", "W_vh1": "w"})
    eff = marginalize(model, "h1", "h3")
    cf = canonical_form(eff)
    series = cumulant_series(marginalize(rbm(2, 2), "h"), 3)
    texts = [model.text(), str(model), eff.text(), str(eff), cf.text(), str(cf), series.text(),
             canonical_form(marginalize(seed_dbm(3, 2, 2), "s", "h"), expand=True).text()]
    for t in texts:
        assert "\\" not in t and "$" not in t
        assert "[0" not in t and "Determinant" not in t  # 1-based entries, det(...) as in every printed form
    # names, read from the right, as the parsers and coupling() take them
    assert "W_vh1_{11}*b_h1_1*v_1" in eff.text() and "h2_1" in eff.text()
    assert cf.coupling("h2_1") != 0
    # spin units reduce on their support in text as in LaTeX: no v_1**2
    assert "v_1**2" not in eff.text() and "h2_1**2" not in eff.text()


def test_cumulant_series_names_cumulants_in_every_printed_form():
    from symrg.engine.effective import cumulant_series, kappa
    from symrg.model.energy import rbm

    for hidden in ("bernoulli", "spin"):
        series = cumulant_series(marginalize(rbm(2, 2, hidden=hidden), "h"), 3)
        tex, txt = series.latex(), series.text()
        assert "e^{- b" not in tex and "exp(-b" not in txt and "1/(1 + exp" not in txt.split("where")[0]
        assert r"c^{(2)}_{v_{1} v_{2}} &= - W_{11} W_{21} \kappa_{2}{\left(b_{1} \right)}" in tex
        assert "c^(2)[v_1 v_2] = -W_{11}*W_{21}*κ_2(b_1) - W_{12}*W_{22}*κ_2(b_2)" in txt
        if hidden == "bernoulli":
            assert "κ_2(x) = -(σ(x) - 1)*σ(x)" in txt and "σ(x) = 1/(1 + exp(-x))" in txt
        # the named forms are the same numbers: kappa_n replaced by its definition, at random points
        x = sp.Symbol("x", real=True)
        defs = dict(series.kappas)
        sigma = sp.Function(r"\sigma")
        rng = np.random.default_rng(11)
        for n in (1, 2, 3):
            for key, c in series.orders[n].items():
                named = series.printed(n, key)
                spelled = named.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func.__name__.startswith("kappa_"),
                                        lambda e: defs[kappa(int(e.func.__name__[6:]))(x)].xreplace({x: e.args[0]}))
                spelled = spelled.replace(lambda e: isinstance(e, sigma), lambda e: 1 / (1 + sp.exp(-e.args[0])))
                point = {s: float(rng.normal()) for s in c.free_symbols}
                assert abs(float(c.xreplace(point)) - float(spelled.xreplace(point))) < 1e-12
        # and the definitions are the derivatives of the log-partition function
        for n in (1, 2, 3):
            A = sp.log(1 + sp.exp(x)) if hidden == "bernoulli" else sp.log(2 * sp.cosh(x))
            value = defs[kappa(n)(x)].replace(lambda e: isinstance(e, sigma), lambda e: 1 / (1 + sp.exp(-e.args[0])))
            for pt in (-1.3, 0.2, 2.1):
                assert abs(float(sp.diff(A, x, n).subs(x, pt)) - float(value.subs(x, pt))) < 1e-12


def test_results_print_the_models_symbols_and_save_them():
    import json

    from symrg.engine.effective import cumulant_series
    from symrg.errors import SerializeError
    from symrg.model.energy import rbm
    from symrg.output.serialize import dumps, loads

    eff = marginalize(_small_four(latex_names={"h1": r"\tilde h", "W_vh1": "w"}), "h1", "h3")
    cf = canonical_form(eff)
    tex = cf.latex()
    assert r"2 & v_{1} v_{2} & - w_{1,1} w_{2,1} - w_{1,2} w_{2,2} \\" in tex
    assert r"1 & h^{(2)}_{1} &" in tex and "W_vh1" not in tex and "h_{2 1}" not in tex
    series = cumulant_series(marginalize(rbm(2, 2, latex_names={"W": "w", "b": r"\beta"}), "h"), 2)
    assert r"c^{(2)}_{v_{1} v_{2}} &= - w_{11} w_{21} \kappa_{2}{\left(\beta_{1} \right)}" in series.latex()
    for result in (cf, series):
        back = loads(dumps(result))
        assert back.latex() == result.latex() and back.text() == result.text()
    # a saved result cannot carry a command into a document
    doc = json.loads(dumps(cf))
    text = json.dumps(doc).replace('"w"', '"\\\\input{x}"')
    with pytest.raises(SerializeError, match="input"):
        loads(text)


def test_document_text_keeps_accents_of_user_symbols():
    from symrg.output.document import Derivation, tex_to_unicode

    assert tex_to_unicode(r"\tilde h_{1} + \hat{\theta}_{2} - \bar{x}") == "h\u0303\u2081 + \u03b8\u0302\u2082 - x\u0304"
    doc = Derivation("accents")
    doc.equation("H", _small_four(latex_names={"h1": r"\tilde h"}))
    out = doc.render("text")
    assert "h\u0303\u2081" in out and "\\" not in out and "$" not in out
