"""The one numeric code generator: stable forms, input validation, conditions, safe exports.

References are independent: mpmath at high precision of the unstabilized formula,
hand-written numpy, brute-force enumeration.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

import symrg
from symrg.engine.marginalization import marginalize
from symrg.errors import ConditionError, ModelError
from symrg.model.energy import dbm, energy_model, rbm, seed_dbm
from symrg.output import codegen
from symrg.output.export import export_energy, export_recursion, write_module
from symrg.output.serialize import dumps, loads
from symrg.rg.chain import decimate_chain
from symrg.verify.brute_force import brute_force_log_weight, random_parameters

POINTS = [(400.0, 0.3), (-400.0, 5.0)]


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _chain_reference(K: float, h: float) -> tuple:
    """The chain map's images from the naive formula, evaluated with mpmath at 80 digits."""
    with mpmath.workdps(80):
        K, h = mpmath.mpf(K), mpmath.mpf(h)
        lc = lambda x: mpmath.log(mpmath.cosh(x))  # noqa: E731
        return (float(-lc(h) / 2 + lc(2 * K - h) / 4 + lc(2 * K + h) / 4),
                float(h - lc(2 * K - h) / 2 + lc(2 * K + h) / 2))


def _close(got, ref) -> None:
    for g, r in zip(got, ref):
        assert np.isfinite(float(g))
        assert abs(float(g) - r) <= 1e-12 * max(abs(r), 1.0), (got, ref)


@pytest.mark.parametrize("K, h", POINTS)
def test_chain_map_numeric_is_finite_and_exact_at_huge_couplings(K, h):
    rmap = decimate_chain().recursion_map
    ref = _chain_reference(K, h)
    _close(rmap.numeric("numpy")(K, h), ref)
    with mpmath.workdps(15):  # stable forms: right even at double precision in mpmath
        _close(rmap.numeric("mpmath")(K, h), ref)
    _close(rmap.iterate([K, h], 1).points[1], ref)


@pytest.mark.parametrize("K, h", POINTS)
def test_chain_map_lambdify_style_and_exported_module(K, h, tmp_path):
    rmap = decimate_chain().recursion_map
    ref = _chain_reference(K, h)
    f = codegen.compile_scalars(rmap.couplings, rmap.images, "numpy")  # what every route compiles
    _close(f(K, h), ref)
    mod = _import(write_module(rmap, tmp_path / "chain_map.py"), "chain_map")
    _close(mod.images(K, h), ref)
    ns: dict = {}
    exec(export_recursion(rmap), ns)
    _close([x[0] for x in ns["images"](np.array([K]), np.array([h]))], ref)  # vectorized


def test_energy_batches_broadcast_across_layers_never_truncate(tmp_path):
    m = rbm(3, 2)
    rng = np.random.default_rng(0)
    vals = dict(a=rng.normal(size=3), b=rng.normal(size=2), W=rng.normal(size=(3, 2)))
    v = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    h = np.array([1.0, 0.0])
    ref = np.array([-(x @ vals["a"] + h @ vals["b"] + x @ vals["W"] @ h) for x in v])
    got_np = m.lambdify()(v=v, h=h, **vals)
    got_mp = m.lambdify("mpmath")(v=v, h=h, **vals)
    mod = _import(write_module(m, tmp_path / "rbm_e.py"), "rbm_e")
    got_ex = mod.energy(v=v, h=h, **vals)
    for got in (got_np, got_mp, got_ex):
        assert len(got) == 3
        np.testing.assert_allclose([float(x) for x in got], ref, rtol=1e-13)
    assert isinstance(m.lambdify()(v=v[0], h=h, **vals), float)
    with pytest.raises(ModelError, match="different sizes"):
        m.lambdify()(v=v, h=np.zeros((2, 2)), **vals)
    with pytest.raises(mod.ModelError, match="different sizes"):
        mod.energy(v=v, h=np.zeros((2, 2)), **vals)


@pytest.mark.parametrize("backend", ["numpy", "mpmath", "export"])
def test_inputs_are_validated_with_the_argument_named(backend, tmp_path):
    m = rbm(2, 2, hidden="spin")
    if backend == "export":
        mod = _import(write_module(m, tmp_path / f"val_{backend}.py"), f"val_{backend}")
        f, CE, ME = mod.energy, mod.ConditionError, mod.ModelError
    else:
        f, CE, ME = (lambda **kw: m.lambdify(backend)(**kw)), ConditionError, ModelError
    good = dict(v=np.array([0.0, 1.0]), h=np.array([1.0, -1.0]), a=np.zeros(2), b=np.zeros(2), W=np.eye(2))
    f(**good)
    cases = [
        (dict(v=np.array([np.nan, 1.0])), CE, "layer 'v': NaN"),
        (dict(W=np.array([[np.inf, 0], [0, 1]])), CE, "parameter 'W': NaN or infinite"),
        (dict(W=np.eye(2) * 1j), CE, "parameter 'W': complex"),
        (dict(h=np.array([0.0, 1.0])), CE, r"layer 'h': value 0.0 is outside the support \(-1.0, 1.0\)"),
        (dict(v=np.array([2.0, 1.0])), CE, r"layer 'v': value 2.0 is outside the support \(0.0, 1.0\)"),
        (dict(W=np.zeros((3, 2))), ME, "parameter 'W' rows: expected size 2, got 3"),
        (dict(v=np.zeros((2, 2, 2))), ME, "layer 'v': states must have shape"),
    ]
    for change, err, msg in cases:
        with pytest.raises(err, match=msg):
            f(**{**good, **change})


def test_declared_positive_parameter_is_refused_when_negative():
    q = sp.Symbol("q", positive=True)
    m = energy_model([("v", 2, "bernoulli"), ("h", 1, symrg.Gaussian(q))], [("v", "h")])
    eff = marginalize(m, "h")
    f = eff.lambdify()
    assert "q" in f.arguments
    vals = {a: np.zeros(np.shape(v)) for a, v in random_parameters(m, np.random.default_rng(0)).items() if a in f.arguments}
    assert np.isfinite(f(v=np.array([1.0, 0.0]), q=2.0, **vals))
    with pytest.raises(ConditionError, match="argument 'q': declared positive"):
        f(v=np.array([1.0, 0.0]), q=-1.0, **vals)


def test_conditions_use_a_tolerance_relative_to_the_matrix_scale():
    H = marginalize(seed_dbm(), "s", "h")
    rng = np.random.default_rng(3)
    U = rng.normal(size=(2, 2))
    U = U / np.linalg.norm(U, 2)  # I - U U^T is singular up to rounding
    args = dict(v=np.ones(3), a=np.zeros(3), b=np.zeros(2), c=np.zeros(2), W=np.zeros((3, 2)), U=U)
    for backend in ("numpy", "mpmath"):
        with pytest.raises(ConditionError, match="not positive definite"):
            H.lambdify(backend)(**args)
    ns: dict = {}
    exec(export_energy(H), ns)
    with pytest.raises(ns["ConditionError"], match="not positive definite"):
        ns["energy"](**args)
    args["U"] = 0.5 * U  # safely inside: finite and equal to brute force
    ref = brute_force_log_weight(seed_dbm(3, 2, 2), args, {"v": args["v"][None, :]})
    assert abs(H.lambdify()(**args) - float(ref[0])) < 1e-12
    # NaN entries fail the condition check itself (Cholesky would not raise on NaN)
    rt = codegen.namespace("numpy")
    with pytest.raises(ConditionError, match="NaN"):
        rt["_chol"](np.array([[1.0, np.nan], [np.nan, 1.0]]), "M")


def test_tampered_save_file_cannot_inject_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = 'x""";__import__("os").system("touch canary");"""'
    d = json.loads(dumps(marginalize(seed_dbm(), "s", "h")))
    d["data"]["conditions"][0][1] = payload
    path = write_module(loads(json.dumps(d)), tmp_path / "h_injected.py")
    mod = _import(path, "h_injected")
    assert not (tmp_path / "canary").exists()
    assert payload in mod.CONDITIONS[0]  # kept as text, never as code
    r = subprocess.run([sys.executable, "-c", "import h_injected"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not (tmp_path / "canary").exists() and not os.path.exists("canary")


def test_numpy_string_names_and_hostile_names_never_reach_code():
    from symrg.model.terms import Layer

    m = energy_model([(np.str_("v"), 2), (np.str_("h"), 1)], [(np.str_("v"), np.str_("h"))])
    src = export_energy(m)
    assert "np.str_" not in src and "str_(" not in src
    ns: dict = {}
    exec(src, ns)
    assert ns["ARGUMENTS"][:2] == ("v", "h")
    with pytest.raises(ModelError):
        Layer('v"); import os; ("', 2)
    assert codegen.identifier('x"); import os', set()).isidentifier()


def test_condition_using_an_intermediate_is_checked_after_it_is_defined():
    M = marginalize(dbm([2, 2, 2, 2], ["bernoulli"] + ["gaussian"] * 3), "x3", "x2", "x1")
    vals = random_parameters(M.original, np.random.default_rng(1))
    x0 = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    ns: dict = {}
    exec(export_energy(M), ns)
    args = {k: vals[k] for k in ns["ARGUMENTS"] if k != "x0"}
    ref = brute_force_log_weight(M.original, vals, {"x0": x0})
    np.testing.assert_allclose(ns["energy"](x0=x0, **args), ref, rtol=1e-11)
    np.testing.assert_allclose(M.lambdify()(x0=x0, **args), ref, rtol=1e-11)


def test_enumerated_terms_are_stable_in_every_route():
    E = marginalize(energy_model([("v", 1), ("h", 1)], [("v", "h")]), "h", "v")
    args = dict(b_v=np.array([0.3]), b_h=np.array([1000.0]), W_vh=np.array([[0.5]]))
    # -log Z with Z = sum over v, h in {0,1} of exp(b_v v + b_h h + W v h)
    with mpmath.workdps(50):
        z = mpmath.fsum(mpmath.exp(0.3 * v + 1000 * h + 0.5 * v * h) for v in (0, 1) for h in (0, 1))
        ref = float(-mpmath.log(z))
    ns: dict = {}
    exec(export_energy(E), ns)
    for got in (E.lambdify()(**args), E.lambdify("mpmath")(**args), ns["energy"](**args)):
        assert abs(float(got) - ref) < 1e-12 * abs(ref)


def test_verify_sampling_evaluates_through_the_generator():
    x = sp.Symbol("x")
    assert codegen.evaluate(sp.log(1 + sp.exp(x)), {x: 800.0}) == 800.0
    with pytest.raises(codegen.Unsupported, match="cannot evaluate the function"):
        codegen.evaluate(sp.gamma(x), {x: 1.0})
    W = sp.MatrixSymbol("W", 2, 2)
    val = codegen.evaluate(sp.Determinant(W) + sp.Trace(W * W.T), {W: np.array([[1.0, 2.0], [3.0, 4.0]])})
    assert abs(val - (-2.0 + 30.0)) < 1e-12


def test_valid_model_with_an_explicit_diagonal_marginalizes_and_agrees_with_brute_force():
    # issue 11 item 6: this ended in AttributeError: 'int' object has no attribute 'is_Integer'
    model = energy_model([("h", 1, "gaussian"), ("v", 1), ("s", 2)], [("h", "v"), ("v", "s")])
    z = marginalize(model, "h", "v", "s")
    vals = random_parameters(model, np.random.default_rng(5))
    ref = brute_force_log_weight(model, vals, {})
    ns: dict = {}
    exec(export_energy(z), ns)
    for got in (z.lambdify()(**vals), z.lambdify("mpmath")(**vals), ns["energy"](**vals)):
        assert abs(float(got) - float(ref[0])) < 1e-12 * max(1.0, abs(float(ref[0])))


@pytest.mark.parametrize("kind, n", [("spin", 12), ([0, 1, 2, 3], 6), ([0, 1, 2], 4)])
def test_enumerated_layers_are_stored_structurally_and_match_brute_force(kind, n):
    from symrg.model.terms import EnumeratedTerm
    from symrg.verify.brute_force import crosscheck

    model = dbm([3, n, 2], ["spin", kind, "spin"])
    eff = marginalize(model, "x0", "x1")  # x1 enters the log-partition term of x0: enumerated
    term = eff.terms[-1]
    assert isinstance(term, EnumeratedTerm) and term.count == len(term.kind.values) ** n
    report = crosscheck(eff, seed=3)
    assert report.passed, report.text()
    # stored without per-configuration expressions: the save file is of the order of the
    # original model's (which holds the same parameters), the export does not grow with K
    small = marginalize(dbm([3, 2, 2], ["spin", kind, "spin"]), "x0", "x1")
    assert len(dumps(eff)) < 3 * len(dumps(model))
    assert len(export_energy(eff)) < len(export_energy(small)) + 1000
    assert loads(dumps(eff)) == eff
    vals = random_parameters(model, np.random.default_rng(4))
    x2 = np.array([[1.0, -1.0], [-1.0, -1.0]])
    args = {a: vals[a] for a in eff.lambdify().arguments if a in vals}
    a = eff.lambdify()(x2=x2, **args)
    b = eff.lambdify("mpmath")(x2=x2, **args)
    ns: dict = {}
    exec(export_energy(eff), ns)
    np.testing.assert_allclose([float(x) for x in b], a, rtol=1e-13)
    np.testing.assert_allclose(ns["energy"](x2=x2, **args), a, rtol=1e-13)
    np.testing.assert_allclose(a, brute_force_log_weight(model, vals, {"x2": x2}), rtol=1e-11)


def test_mpmath_route_keeps_the_working_precision_in_stable_forms():
    rmap = decimate_chain().recursion_map
    with mpmath.workdps(50):
        got = rmap.numeric("mpmath")(mpmath.mpf(3) / 10, mpmath.mpf(1) / 7)
    with mpmath.workdps(80):
        K, h = mpmath.mpf(3) / 10, mpmath.mpf(1) / 7
        lc = lambda x: mpmath.log(mpmath.cosh(x))  # noqa: E731
        ref = (-lc(h) / 2 + lc(2 * K - h) / 4 + lc(2 * K + h) / 4, h - lc(2 * K - h) / 2 + lc(2 * K + h) / 2)
        assert all(abs(g - r) < mpmath.mpf(10) ** -45 for g, r in zip(got, ref))


def test_complex_model_entries_and_huge_constants_are_refused():
    from symrg.errors import BudgetError

    x = sp.Symbol("x")
    for backend in ("numpy", "mpmath"):  # the real back-ends never drop an imaginary part
        with pytest.raises(ConditionError, match="complex"):
            codegen.compile_scalars((x,), (x + sp.I,), backend)(1.0)
    huge = sp.Mul(x, sp.Pow(10, sp.Integer(10) ** 4000, evaluate=False), evaluate=False)
    for backend in ("numpy", "mpmath"):  # refused when the code is written, never a hang
        with pytest.raises(BudgetError, match="exponent above"):
            codegen.compile_scalars((x,), (huge,), backend)
    with pytest.raises(ConditionError, match="beyond double precision"):
        codegen.compile_scalars((x,), (x * sp.Rational(10**400, 3),), "numpy")(1.0)


def test_mpc_backend_evaluates_claims_at_high_precision():
    W, x = sp.MatrixSymbol("W", 2, 2), sp.Symbol("x")
    with mpmath.workdps(50):
        Wv = mpmath.matrix([[1, 2], [3, 4]])
        got = codegen.evaluate(sp.tanh(40 * x**2 + 40) - 1, {x: mpmath.mpf(0)}, backend="mpc")
        assert abs(got - (mpmath.tanh(40) - 1)) < mpmath.mpf(10) ** -60 and got != 0  # 0 in double precision
        inv = codegen.evaluate(W.I * W, {W: Wv}, backend="mpc")
        assert isinstance(inv, mpmath.matrix) and mpmath.norm(inv - mpmath.eye(2)) < mpmath.mpf(10) ** -45
        assert abs(codegen.evaluate(sp.log(sp.Determinant(W)), {W: Wv}, backend="mpc") - mpmath.log(-2)) < 1e-45


def test_hostile_symbol_names_and_titles_stay_text_in_exports(tmp_path, monkeypatch):
    from symrg.output.export import export_expression
    from symrg.rg.recursion import RecursionMap

    monkeypatch.chdir(tmp_path)
    bad = 'K"""\nimport os\nos.system("touch canary")\n"""'
    K = sp.Symbol(bad)
    rmap = RecursionMap((K,), (sp.log(sp.cosh(2 * K)) / 2,), 2)
    for src in (export_recursion(rmap, title=bad), export_expression(sp.log(sp.cosh(K)), title=bad)):
        ns: dict = {}
        exec(compile(src, "x.py", "exec"), ns)
        assert ns["ARGUMENTS"] == ("K_import_os_os_system_touch_canary",)
        assert ns["SYMBOLS"]["K_import_os_os_system_touch_canary"] == bad and ns["__doc__"].startswith(bad)
    assert abs(ns["f"](0.5) - np.log(np.cosh(0.5))) < 1e-15
    assert not (tmp_path / "canary").exists()
