"""verify: symbolic then numeric comparison of claims with derived results."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.examples import seed_derivation
from symrg.model.energy import rbm, seed_dbm
from symrg.rg.chain import chain_symbols, decimate_chain
from symrg.verify.parsing import ClaimError
from symrg.verify.testing import assert_equivalent
from symrg.verify.verdict import Verdict, resolve_result, verify, verify_result

# docs/marginalization.md (worked example), in sympy syntax and in LaTeX
GOOD = ("-a.T*v - (b + U*c + W.T*v).T*C*(b + U*c + W.T*v)/2 - c.T*c/2"
        " - (n_h + n_s)/2*log(2*pi) + log(det(1 - U*U.T))/2")
GOOD_LATEX = (r"-a^{T} v - \frac{1}{2}\left(b + U c + W^{T} v\right)^{T} C \left(b + U c + W^{T} v\right)"
              r" - \frac{1}{2} c^{T} c - \frac{n_h + n_s}{2}\log(2\pi) + \frac{1}{2}\log\det\left(1 - U U^{T}\right)")
WRONG = {
    "sign error": GOOD.replace("- c.T*c/2", "+ c.T*c/2"),
    "missing log det": GOOD.replace(" + log(det(1 - U*U.T))/2", ""),
    "transposed matrix": GOOD.replace("W.T*v", "W*v"),
}


@pytest.fixture(scope="module")
def H_abstract():
    return marginalize(seed_dbm(), "s", "h")


@pytest.fixture(scope="module")
def H_explicit():
    return marginalize(seed_dbm(2, 2, 2), "s", "h")


def _explicit(claim: str) -> str:
    return claim.replace("(n_h + n_s)", "(2 + 2)").replace("n_h + n_s", "4")


@pytest.mark.parametrize("claim", [GOOD, GOOD_LATEX], ids=["sympy", "latex"])
def test_correct_H_v_abstract(H_abstract, claim):
    v = verify(claim, H_abstract)
    # proved in abstract mode: products expanded, 1x1 products in canonical order, C symmetric
    assert (v.status, v.method) == ("equal", "symbolic") and v.equal and bool(v) and v.agrees
    assert "canonical order" in v.reason


@pytest.mark.parametrize("claim", [GOOD, GOOD_LATEX], ids=["sympy", "latex"])
def test_numeric_agreement_alone_is_consistent_not_equal(H_abstract, claim):
    v = verify(claim, H_abstract, symbolic=False)
    # no symbolic proof: numeric agreement is "consistent", never "equal"
    assert v.status == "consistent" and not v.equal and not bool(v) and v.agrees
    assert v.method == "numeric" and v.points >= 18 and v.max_difference < 1e-12
    assert v.digits == 50 and v.hp_points == v.points and (v.rtol, v.atol) == (1e-8, 1e-10)
    # sizes beyond 4 are tried, and the reason names precision, tolerance, points and sizes
    assert set(v.sizes) >= {1, 2, 3, 4, 5, 6}
    for part in ("50 significant digits", "rtol=1e-08", f"{v.points} seeded random points", "sizes tried [1, 2, 3, 4, 5, 6]"):
        assert part in v.reason, part


@pytest.mark.parametrize("claim", [GOOD, GOOD_LATEX], ids=["sympy", "latex"])
def test_correct_H_v_explicit_is_proved_symbolically(H_explicit, claim):
    v = verify(_explicit(claim), H_explicit)
    assert (v.status, v.method) == ("equal", "symbolic")
    assert "written by their entries" in v.reason


def _check_counterexample(H, v: Verdict):
    """The reported values really are a counterexample: recompute the derived side independently."""
    ce = v.counterexample
    assert v.status == "not equal" and ce is not None
    vals = {k: np.asarray(ce.values[k], dtype=float) for k in ("v", "a", "b", "c", "W", "U")}
    f = H.lambdify()
    derived = f(v=vals["v"].ravel(), a=vals["a"], b=vals["b"], c=vals["c"], W=vals["W"], U=vals["U"])
    assert abs(derived - float(np.real(ce.derived))) < 1e-10
    assert abs(complex(ce.claimed) - derived) > 1e-6
    # the point lies inside the valid region: I - U U^T positive definite
    U = vals["U"]
    assert np.linalg.eigvalsh(np.eye(U.shape[0]) - U @ U.T).min() > 0
    assert set(np.unique(vals["v"])) <= {0.0, 1.0}
    assert "counterexample:" in v.text() and "claimed:" in v.text()


@pytest.mark.parametrize("which", sorted(WRONG))
def test_wrong_variants_abstract(H_abstract, which):
    v = verify(WRONG[which], H_abstract)
    assert v.method == "numeric"
    _check_counterexample(H_abstract, v)


@pytest.mark.parametrize("which", sorted(WRONG))
def test_wrong_variants_explicit(H_explicit, which):
    v = verify(_explicit(WRONG[which]), H_explicit)
    _check_counterexample(H_explicit, v)


def test_matrix_results_and_intermediates(H_abstract):
    doc_C = H_abstract.intermediates[0]
    assert verify("(1 - U*U.T)**-1", doc_C.definition).equal
    assert verify(r"\left(I - U U^{T}\right)^{-1}", doc_C.definition).equal
    wrong = verify("(1 + U*U.T)**-1", doc_C.definition)
    assert wrong.status == "not equal" and wrong.counterexample.claimed.shape == wrong.counterexample.derived.shape
    # a scalar claim for a matrix result
    assert verify("log(2)", doc_C.definition).status == "not equal"
    # explicit matrices, entry by entry
    x = sp.Symbol("x", real=True)
    M = sp.Matrix([[sp.cosh(x) ** 2, 0], [0, 1]])
    assert verify(sp.Matrix([[1 + sp.sinh(x) ** 2, 0], [0, 1]]), M).method == "symbolic"
    assert verify(sp.Matrix([[sp.sinh(x) ** 2, 0], [0, 1]]), M).status == "not equal"


def test_reduction_rules_of_the_units():
    m = marginalize(rbm(2, 1, hidden="spin"), "h")
    e = m.energy
    v1 = m.layer("v").states[0]
    claim = e.subs(v1, v1**3)  # v^3 = v on {0, 1}
    v = verify(claim, m)
    assert (v.status, v.method) == ("equal", "symbolic")
    assert "reduction rules" in v.reason
    assert verify(e.subs(v1, 2 * v1), m).status == "not equal"


def test_positivity_where_declared():
    K = sp.Symbol("K", positive=True)
    assert verify("sqrt(K**2)", K).method == "symbolic"
    k = sp.Symbol("k", real=True)
    v = verify("sqrt(k**2)", k, seed=3)
    assert v.status == "not equal" and v.counterexample.values["k"] < 0


def test_chain_recursion_against_pathria():
    S = chain_symbols()
    K = S["K"]
    dec = decimate_chain("spin", 2)
    v = verify(r"\frac{1}{4}\log\left(\frac{\cosh(2K + h)\cosh(2K - h)}{\cosh(h)^{2}}\right)", dec.images[K])
    assert v.equal
    assert verify(r"\frac{1}{2}\log\cosh(2K + h)", dec.images[K]).status == "not equal"


def test_undecided_when_no_valid_point_exists():
    n = sp.Symbol("n", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, n)
    v = verify("log(det(X*X.T + 1))", sp.log(sp.Determinant(X * X.T + sp.Identity(n))) + 0 * sp.Trace(X),
               conditions=[-X * X.T - sp.Identity(n)], symbolic=False)
    assert v.status == "undecided" and "no point inside the valid region" in v.reason
    assert not v


def test_unknown_names_and_unsafe_claims_are_errors(H_abstract):
    with pytest.raises(ClaimError, match="unknown name 'Q'"):
        verify("Q*v", H_abstract)
    with pytest.raises(ClaimError):
        verify("__import__('os')", H_abstract)


def test_named_results_of_a_derivation():
    doc = seed_derivation(n_v=3, n_h=2, n_s=2, seed=1)
    derived, where = resolve_result(doc, "H(v)")
    assert hasattr(derived, "intermediates")  # the model, not just its expression
    assert verify_result(doc, "H(v)", GOOD_LATEX).equal
    assert verify_result(doc, "C", "(1 - U*U.T)**-1").equal
    assert verify_result(doc, "W C W^T", "W*C*W.T").equal
    assert verify_result(doc, "W C W^T", "W*(1 - U*U.T)**-1*W.T").equal
    assert verify_result(doc, "W C W^T", "W*W.T").status == "not equal"
    with pytest.raises(ValueError, match="no result named 'nope'"):
        verify_result(doc, "nope", "1")


def test_seeded_and_reproducible(H_abstract):
    a = verify(WRONG["sign error"], H_abstract, seed=7).counterexample
    b = verify(WRONG["sign error"], H_abstract, seed=7).counterexample
    assert a.claimed == b.claimed and np.array_equal(a.values["W"], b.values["W"])


def test_assert_equivalent_message(H_abstract):
    assert assert_equivalent(GOOD, H_abstract).equal
    with pytest.raises(AssertionError) as e:
        assert_equivalent(WRONG["missing log det"], H_abstract)
    msg = str(e.value)
    assert msg.startswith("the claim is not equal to the derived result")
    for part in ("claim:", "derived:", "counterexample:", "U = ", "claimed: ", "difference: "):
        assert part in msg


# -- command line ------------------------------------------------------------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_cli_verify_exit_statuses(capsys):
    from symrg.cli import main

    assert main(["verify", "--claim", GOOD_LATEX]) == 0  # the built-in seed derivation, result H(v)
    assert capsys.readouterr().out.startswith("EQUAL")
    script = str(ROOT / "derivations" / "gaussian_dbm.py")
    assert main(["verify", script, "--result", "H(v)", "--claim", WRONG["transposed matrix"]]) == 1
    out = capsys.readouterr().out
    assert out.startswith("NOT EQUAL") and "counterexample:" in out and "claimed:" in out
    assert main(["verify", "--lhs", "log(cosh(2*K))/2", "--rhs", "log(cosh(K)**2 + sinh(K)**2)/2"]) == 0
    assert main(["verify", "--lhs", "x**2", "--rhs", "x**3"]) == 1
    capsys.readouterr()
    for bad in (["--claim", "__import__('os').system('true')"], ["--claim", "Q*v"], [script, "--claim", "1"],
                ["--lhs", "x"], ["--result", "nope", "--claim", "1"]):
        assert main(["verify", *bad]) == 2, bad
        err = capsys.readouterr().err
        assert err.startswith("symrg verify: error:"), err


def test_cli_verify_claim_file(tmp_path, capsys):
    from symrg.cli import main

    f = tmp_path / "eq17.tex"
    f.write_text(GOOD_LATEX + "\n")
    assert main(["verify", "--result", "C", "--claim", r"\left(1 - U U^{T}\right)^{-1}"]) == 0
    assert main(["verify", "--claim-file", str(f)]) == 0
    assert main(["verify", "--claim-file", str(tmp_path / "missing.tex")]) == 2
    assert "no such file" in capsys.readouterr().err


# -- sound verdicts (issue 11, item 3) ---------------------------------------------------


@pytest.mark.parametrize("claim,derived", [
    ("exp(x**2 + 50)", "exp(x**2 + 50) + 1"),
    ("tanh(40*K**2 + 40)", "1"),
    ("log(1 + exp(40 + x**2))", "40 + x**2"),
    ("x + 10**(-11)", "x"),
    ("x + 10**(-60)", "x"),
])
def test_differences_below_double_precision_are_not_equal(claim, derived):
    v = verify(claim, derived)
    assert v.status == "not equal" and not v.agrees
    if v.method == "numeric":  # seen only at 50 digits: the counterexample says so
        assert v.counterexample is not None and "at 80 digits, claimed - derived = " in v.counterexample.note
        assert 0 < v.counterexample.difference < 1e-8


def test_an_exact_nonzero_difference_is_a_symbolic_not_equal():
    v = verify("x + 10**(-11)", "x")
    assert (v.status, v.method) == ("not equal", "symbolic")
    assert v.reason == "the difference (claim - derived) is the nonzero constant 1/100000000000"
    v = verify("exp(E*pi) + 1", "0")
    assert (v.status, v.method) == ("not equal", "symbolic") and "nonzero constant" in v.reason
    # a constant that is 0 in disguise is proved equal, not "not equal"
    assert verify("sqrt(2)*sqrt(3)", "sqrt(6)").status == "equal"


def _e5_by_traces(X):
    """The 5th elementary symmetric polynomial of X's eigenvalues (Newton's identities);
    it vanishes for every X of size <= 4, and is det(X) for size 5."""
    p = [None] + [sp.Trace(X**k) if k > 1 else sp.Trace(X) for k in range(1, 6)]
    return (p[1]**5 - 10 * p[1]**3 * p[2] + 15 * p[1] * p[2]**2 + 20 * p[1]**2 * p[3] - 20 * p[2] * p[3]
            - 30 * p[1] * p[4] + 24 * p[5]) / 120


def test_a_matrix_identity_that_holds_only_up_to_size_4_is_not_equal():
    n = sp.Symbol("n", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, n)
    claim = _e5_by_traces(X)
    # independent check of the identity used: zero at sizes 1..4, det(X) at size 5
    rng = np.random.default_rng(0)
    for size in (1, 2, 3, 4, 5):
        M = rng.normal(size=(size, size))
        e5 = -np.poly(M)[5] if size >= 5 else 0.0  # characteristic polynomial: c_5 = -e_5
        tr = [np.trace(np.linalg.matrix_power(M, k)) for k in range(6)]
        newton = (tr[1]**5 - 10 * tr[1]**3 * tr[2] + 15 * tr[1] * tr[2]**2 + 20 * tr[1]**2 * tr[3]
                  - 20 * tr[2] * tr[3] - 30 * tr[1] * tr[4] + 24 * tr[5]) / 120
        assert abs(newton - e5) < 1e-8 * max(1.0, abs(e5))
    v = verify(claim, sp.S.Zero)
    assert v.status == "not equal"
    assert v.counterexample.values["n"] >= 5
    # asked for sizes 1..4 only, one size above the largest power (5) is still tried
    v = verify(claim, sp.S.Zero, sizes=(1, 2, 3, 4))
    assert v.status == "not equal" and v.counterexample.values["n"] == 6


def test_consistent_names_precision_tolerance_points_and_sizes():
    n = sp.Symbol("n", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, n)
    v = verify("tr(X*X.T)", sp.Trace(X.T * X), symbolic=False, rtol=1e-9, digits=40, n_points=12)
    assert v.status == "consistent" and v.method == "numeric" and not v and v.agrees
    assert (v.digits, v.rtol, v.points, v.hp_points) == (40, 1e-9, 12, 12)
    assert 6 in v.sizes and max(v.sizes) > 4
    for part in ("12 seeded random points", "rtol=1e-09", "40 significant digits", "sizes tried"):
        assert part in v.reason


def test_symbolic_work_is_bounded_by_its_budget():
    # the tanh addition formula with 8 symbols: minutes of simplification, cut at the budget
    xs = sp.symbols("x1:9", real=True)
    t = sp.tanh(xs[0])
    for x in xs[1:]:
        t = (t + sp.tanh(x)) / (1 + t * sp.tanh(x))
    v = verify(t, sp.tanh(sum(xs)), symbolic_budget=1.0)
    assert v.status == "consistent"
    assert v.budget == "symbolic simplification (1 s)" and "stopped at its budget" in v.reason
    v = verify(t, sp.tanh(sum(xs)), symbolic_budget=1.0, numeric_budget=0.05)
    assert v.status == "undecided" and v.budget == "numeric comparison (0.05 s)"


@pytest.mark.parametrize("bad", [dict(n_points=0), dict(digits=5), dict(symbolic_budget=-1), dict(rtol=2.0),
                                 dict(sizes=(0, 1)), dict(sizes=(100,))])
def test_bad_options_are_verify_errors(bad):
    from symrg.errors import VerifyError

    with pytest.raises(VerifyError):
        verify("x", "x", **bad)


def test_assert_equivalent_accepts_consistent_unless_a_proof_is_required(H_abstract):
    v = assert_equivalent(GOOD, H_abstract, symbolic=False)
    assert v.status == "consistent"
    with pytest.raises(AssertionError, match="no symbolic proof"):
        assert_equivalent(GOOD, H_abstract, symbolic=False, require_proof=True)
    assert assert_equivalent(GOOD, H_abstract, require_proof=True).equal


def test_huge_sympy_inputs_are_refused_before_any_tree_walk():
    from symrg.errors import BudgetError

    x = sp.Symbol("x")
    e = x
    for _ in range(80):  # a DAG whose tree has 2**80 nodes
        e = sp.Add(e, e, evaluate=False)
    with pytest.raises(BudgetError, match="the claim"):
        verify(e, x)
    with pytest.raises(BudgetError, match="the derived result"):
        verify("x", sp.Max(*sp.symbols("y:300"), evaluate=False))  # (evaluating it alone takes minutes)


# -- every verifiable result type knows its coupling names (issue 13, item 6) --------------


def test_chain_decimation_results_by_name():
    dec = decimate_chain("spin", 2)
    K_prime = r"\frac{1}{4}\log\left(\frac{\cosh(2K + h)\cosh(2K - h)}{\cosh(h)^{2}}\right)"
    for claim, kw in ((f"K' = {K_prime}", {}), (K_prime, {"result": "K'"}), (K_prime, {"result": "K"}),
                      ("h' = h + log(cosh(2*K + h)/cosh(2*K - h))/2", {})):
        v = verify(claim, dec, **kw)
        assert v.equal, (claim, v)
    # the same right side checked against h' is wrong, with a counterexample
    assert verify(K_prime, dec, result="h'").status == "not equal"
    with pytest.raises(ValueError, match=r"several results \(K', h', g'\)"):
        verify("K", dec)
    with pytest.raises(ValueError, match="no result 'q'"):
        verify("K", dec, result="q")
    with pytest.raises(ClaimError, match="unknown name 'J'"):
        verify("K' = J", dec)


def test_recursion_maps_and_lattice_cumulant_rg_results_by_name():
    from symrg.rg.cluster_expansion import cumulant_rg
    from symrg.rg.lattice import chain, chain_blocks, ising_model
    from symrg.rg.migdal_kadanoff import migdal_kadanoff

    mk = migdal_kadanoff(2)  # bond moving (2K) then decimation: K' = log cosh(4K) / 2
    assert verify("K' = log(cosh(4*K))/2", mk).equal
    assert verify("K' = log(cosh(2*K))/2", mk).status == "not equal"
    assert verify("log(cosh(4*K))/2", decimate_chain("spin", 2).recursion_map, result="K").status == "not equal"
    m = ising_model(chain(), {"K": 1})
    res = cumulant_rg(m, chain_blocks(m.lattice, 2), "decimation", 1)
    assert verify("K' = K*tanh(K)", res).status in ("equal", "consistent")
    assert verify("K' = K*tanh(K)**2", res).status == "not equal"


def test_cumulant_series_coefficients_by_name():
    from symrg.engine.effective import cumulant_series
    from symrg.verify.verdict import named_results

    cs = cumulant_series(rbm(2, 1, hidden="spin"), 2)
    results = named_results(cs)
    key = "c[v_1 h_1]" if "c[v_1 h_1]" in results else sorted(results)[0]
    expr = results[key]
    assert verify(sp.sstr(expr), cs, result=key).equal
    assert verify(sp.sstr(expr) + " + 1", cs, result=key).status == "not equal"


def test_str_of_a_verdict_is_a_few_readable_lines():
    v = verify("K**2", "K**3", seed=1)
    lines = str(v).splitlines()
    assert len(lines) == 2 and lines[0].startswith("NOT EQUAL (numeric): ")
    assert lines[1].startswith("  at K = ") and "claimed " in lines[1] and "derived " in lines[1]
    assert "array(" not in str(v) and "+0j" not in str(v) and "j)" not in str(v)
    ce = v.counterexample
    assert isinstance(ce.claimed, float) and isinstance(ce.derived, float)
    K = ce.values["K"]
    assert ce.claimed == pytest.approx(K**2) and ce.derived == pytest.approx(K**3)  # real numbers, recomputed
    assert str(verify("x", "x")) == "EQUAL (symbolic): the two expressions are identical"
    hp = str(verify("tanh(40*K**2 + 40)", "1"))
    assert "at 80 digits, claimed - derived = " in hp and len(hp.splitlines()) == 2
    latex = v._repr_latex_()
    assert latex.startswith("$") and latex.endswith("$")
    assert r"\underbrace{K^{2}}_{\text{claim}} \;\neq\; \underbrace{K^{3}}_{\text{derived}}" in latex


# --------------------------------------------------------------------------------------
# the model's own LaTeX, copied into a claim (symbols h^{(1)}, W^{(v,h^{(1)})}, latex_names)
# --------------------------------------------------------------------------------------


def _four_layers(**kw):
    from symrg.model.energy import dbm

    return dbm([2, 2, 2, 2], ["spin", "bernoulli", "spin", "bernoulli"], ["v", "h1", "h2", "h3"],
               ["W_vh1", "W_h1h2", "W_h2h3"], **kw)


def _flip_first(tex: str, term: str) -> str:
    """The claim with the sign of one printed term flipped."""
    assert term in tex, term
    return tex.replace(term, "+" + term[1:] if term.startswith("-") else "-" + term[1:], 1)


@pytest.mark.parametrize("overrides", [None, {"h1": r"\tilde h", "W_vh1": "w", "h3": r"\mathbf{s}"}],
                         ids=["defaults", "latex_names"])
@pytest.mark.parametrize("summed", [(), ("h3",), ("h3", "h1")], ids=["model", "h3 summed", "h3 h1 summed"])
def test_the_models_printed_latex_reads_back_equal(overrides, summed):
    model = _four_layers(latex_names=overrides)
    for name in summed:
        model = marginalize(model, name)
    tex = model.latex()  # left side H(v, h^{(1)}, ...) included
    if overrides is None:
        assert "h^{(2)}_{1}" in tex and "W_h1h2" not in tex and "h_{1" not in tex
    else:
        assert r"\mathbf{s}" in tex or "h3" in summed
    for claim in (tex, model.rhs_latex()):
        v = verify(claim, model)
        assert v.status == "equal", (v.status, v.reason)
    # one sign flipped is not equal, with a counterexample
    term = "- b^{(v)}_{1} v_{1}"
    bad = verify(_flip_first(model.rhs_latex(), term), model)
    assert bad.status == "not equal" and bad.counterexample is not None
    # the difference the counterexample shows is the flipped term, 2 b_v_1 v_1
    ce = bad.counterexample
    b, x = float(ce.values["b_v_1"]), float(ce.values["v_1"])
    assert abs(complex(ce.claimed) - complex(ce.derived) - 2 * b * x) < 1e-9


def test_seed_dbm_with_user_symbols_reads_back_equal():
    names = {"h": r"\tilde h", "W": r"\mathbf{W}", "a": r"\alpha", "U": "K"}
    model = seed_dbm(2, 2, 2, latex_names=names)
    tex = model.latex()
    assert r"\mathbf{W}_{11} \tilde h_{1} v_{1}" in tex and r"K_{11} \tilde h_{1} s_{1}" in tex
    assert verify(tex, model).status == "equal"
    eff = marginalize(model, "s", "h")
    rhs = eff.rhs_latex()
    assert r"\alpha_{1} v_{1}" in rhs and r"\mathbf{W}_{11}" in rhs and "C_{11}" in rhs
    v = verify(rhs, eff)
    assert v.status == "equal", v.reason
    bad = verify(_flip_first(rhs, r"- \alpha_{1} v_{1}"), eff)
    assert bad.status == "not equal"


def test_user_symbols_of_a_summed_out_layer_read_back():
    # a summed-out layer keeps its symbol in the parameters that remain (b^{(\tilde h)})
    model = _four_layers(latex_names={"h1": r"\tilde h"})
    eff = marginalize(model, "h1")
    rhs = eff.rhs_latex()
    assert r"b^{(\tilde h)}_{1}" in rhs and r"W^{(v,\tilde h)}_{1,1}" in rhs
    assert verify(rhs, eff).status == "equal"
    assert verify(rhs.replace(r"b^{(\tilde h)}_{1}", r"b^{(\tilde h)}_{2}", 1), eff).status == "not equal"


def test_two_names_printing_one_symbol_are_a_claim_error():
    model = _four_layers(latex_names={"h1": r"\tilde h", "h2": r"\tilde{h}"})
    with pytest.raises(ClaimError, match="ambiguous"):
        verify(model.latex(), model)


def _coupling_cases(eff, lhs: str):
    """(free indices, the coefficient the printed definition ``lhs`` stands for), from the canonical form.

    The energy is ``E_0 - sum_i theta_i x_i - sum_{i<j} J_ij x_i x_j - sum_ij J^{(x,y)}_ij x_i y_j``
    (symrg.output.printing.couplings_latex), so each printed coupling is minus a coefficient of
    the canonical form, which symrg.engine.canonical computes without the printer.
    """
    from symrg.engine.canonical import canonical_form
    from symrg.model.naming import model_symbols

    cf = canonical_form(eff)
    syms = model_symbols(eff)
    names = eff.layer_names
    field = r"\theta" if any(n.startswith("h") for n in names) else "h"

    def minus(*units):
        return -cf.coupling(*units).xreplace(cf.entries)

    for a in names:
        xs = eff.layer(a).states
        tag = f"^{{({syms[a]})}}" if len(names) > 1 else ""
        if lhs == f"{field}{tag}_{{i}}":
            return [({"i": i + 1}, minus(xs[i])) for i in range(len(xs))]
        if lhs == f"J{tag}_{{ij}}":
            return [({"i": i + 1, "j": j + 1}, minus(xs[i], xs[j]))
                    for i in range(len(xs)) for j in range(i + 1, len(xs))]
        for b in names:
            if lhs == f"J^{{({syms[a]},{syms[b]})}}_{{ij}}":
                ys = eff.layer(b).states
                return [({"i": i + 1, "j": j + 1}, minus(xs[i], ys[j])) for i in range(len(xs)) for j in range(len(ys))]
    raise AssertionError(f"no coupling is printed as {lhs}")


def _check_couplings(eff) -> int:
    from symrg.output.printing import couplings_latex
    from symrg.verify.parsing import Namespace, parse_claim

    tex = couplings_latex(eff)
    checked = 0
    for definition in tex.split(r", \quad ")[1:]:
        lhs, rhs = definition.split(" = ", 1)
        if lhs == "C":  # the intermediate: its printed definition is the model's
            v = verify(rhs, eff.intermediates[0].symbol, model=eff)
            assert v.status == "equal", v.reason
            continue
        for indices, derived in _coupling_cases(eff, lhs):
            ns = Namespace.from_model(eff)
            ns.indices = indices  # the free indices i, j of the printed definition
            claim = parse_claim(rhs, ns)
            v = verify(claim, derived, model=eff)
            assert v.status == "equal", (lhs, indices, v.reason)
            checked += 1
            # one sign flipped: not equal
            first = rhs.split(" ", 1)
            if len(first) == 2 and not first[0].startswith("-"):
                ns = Namespace.from_model(eff)
                ns.indices = indices
                assert verify(parse_claim("- " + rhs, ns), derived, model=eff).status == "not equal"
    return checked


def test_printed_couplings_read_back_equal_four_layers_with_user_symbols():
    from symrg.model.energy import dbm

    model = dbm([3, 2, 2, 2], ["spin", "gaussian", "bernoulli", "gaussian"], ["v", "h1", "h2", "h3"],
                ["W_vh1", "W_h1h2", "W_h2h3"], latex_names={"h2": r"\mathbf{h}", "W_h1h2": "K"})
    eff = marginalize(model, "h1", "h3")
    # theta^{(v)} (3), J^{(v)} (3 pairs), theta^{(h)} (2), J^{(h)} (1), J^{(v,h)} (6)
    assert _check_couplings(eff) == 15


def test_printed_couplings_read_back_equal_default_symbols():
    from symrg.model.energy import dbm

    model = dbm([2, 2, 2, 2], ["spin", "bernoulli", "spin", "gaussian"], ["v", "h1", "h2", "h3"],
                ["W_vh1", "W_h1h2", "W_h2h3"])
    eff = marginalize(model, "h3")
    # theta of v, h1, h2 (2 each), J^{(h2)} (1 pair), J^{(v,h1)} and J^{(h1,h2)} (4 each)
    assert _check_couplings(eff) == 15


def test_printed_couplings_of_the_seed_dbm_read_back_equal():
    eff = marginalize(seed_dbm(3, 2, 2, latex_names={"h": r"\tilde h", "W": r"\mathbf{W}"}), "s", "h")
    # h_i (3) and J_ij (3 pairs): C_{kl} and C_{lk} are one entry of the symmetric C = (I - U U^T)^{-1}
    assert _check_couplings(eff) == 6


_SCRIPT = '''
from symrg.model.energy import dbm
from symrg.output.document import Derivation


def derivation():
    m = dbm([2, 2, 2, 2], ["spin", "bernoulli", "spin", "bernoulli"], ["v", "h1", "h2", "h3"],
            ["W_vh1", "W_h1h2", "W_h2h3"])
    doc = Derivation("four layers")
    doc.equation("H(v, h1, h2)", m.marginalize("h3"), name="H(v, h1, h2)")
    return doc
'''


def test_notes_copied_from_the_models_latex_are_checked(tmp_path, capsys):
    from symrg.cli import main
    from symrg.output.document import Derivation
    from symrg.verify.notes import check_notes

    eff = marginalize(_four_layers(latex_names={"h1": r"\tilde h"}), "h3")
    note = "The marginal is\n\\begin{equation}\n" + eff.latex() + "\n\\end{equation}\n"
    assert r"H\left(v, \tilde h, h^{(2)}\right) = " in note
    # a result kept as the model: its own symbols, the left side named with them
    report = check_notes(note, {"H(v, h1, h2)": eff})
    assert [(c.result, c.status) for c in report.checks] == [("H(v, h1, h2)", "equal")]
    wrong = note.replace(r"- b^{(v)}_{1} v_{1}", r"+ b^{(v)}_{1} v_{1}", 1)
    assert [c.status for c in check_notes(wrong, {"H(v, h1, h2)": eff}).checks] == ["not equal"]
    # a document keeps the energy only: the default symbols of its entry names read
    plain = marginalize(_four_layers(), "h3")
    doc = Derivation("x")
    doc.equation("H(v, h1, h2)", plain, name="H(v, h1, h2)")
    note = "\\[ " + plain.latex() + " \\]"
    assert [(c.result, c.status) for c in check_notes(note, doc).checks] == [("H(v, h1, h2)", "equal")]
    # and so does the command line, symrg verify FILE NOTES
    script, notes = tmp_path / "four.py", tmp_path / "notes.tex"
    script.write_text(_SCRIPT)
    notes.write_text(note + "\n")
    assert main(["verify", str(script), str(notes)]) == 0
    notes.write_text(note.replace(r"- b^{(v)}_{1} v_{1}", r"+ b^{(v)}_{1} v_{1}", 1) + "\n")
    assert main(["verify", str(script), str(notes)]) == 1
    capsys.readouterr()


def test_a_wide_layer_prints_and_reads_comma_indices():
    from symrg.model.energy import dbm

    model = dbm([3, 10], ["spin", "bernoulli"], ["v", "h1"], ["W_vh1"])
    tex = model.latex()
    assert r"W^{(v,h^{(1)})}_{3,10} h^{(1)}_{10} v_{3}" in tex
    assert verify(tex, model).status == "equal"
    eff = marginalize(model, "h1")  # ten softplus terms in the W entries
    assert r"W^{(v,h^{(1)})}_{3,10}" in eff.rhs_latex()
    assert verify(eff.rhs_latex(), eff).status == "equal"
    bad = eff.rhs_latex().replace(r"W^{(v,h^{(1)})}_{3,10}", r"W^{(v,h^{(1)})}_{2,10}", 1)
    assert verify(bad, eff).status == "not equal"
