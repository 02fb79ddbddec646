"""A unit kind defined outside the package runs through the whole pipeline.

``ThreeState`` (values -1, 0, 1) is a small subclass written here, in the test, without
touching symrg: it gives its support and, optionally, a closed-form log-partition
``log(1 + 2 cosh eta)`` and its LaTeX.  ``Levels`` gives nothing but its support
(0, 1/2, 2): every other hook is the generic fallback.  Each route is checked against an
independent brute force written in this file (enumeration of all configurations,
numeric derivatives of ``log Z`` with mpmath, direct sums).
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from dataclasses import dataclass, field
from typing import ClassVar

import mpmath
import numpy as np
import pytest
import sympy as sp

import symrg
from symrg.engine.cumulant_expansion import cumulant_expansion
from symrg.engine.cumulants import cumulant, cumulants
from symrg.errors import ModelError
from symrg.model.units import Discrete, kind_class, unit_kind
from symrg.output.serialize import dumps, loads


@dataclass(frozen=True)
class ThreeState(Discrete):
    """A unit with values {-1, 0, 1}: ``A(eta) = log(1 + 2 cosh eta)``."""

    values: tuple = (-1, 0, 1)
    name: str = field(default="ThreeState", compare=False, repr=False)
    registry_name: ClassVar[str] = "tests.ThreeState"
    partition_label: ClassVar[str] = "logtrinomial"

    def __post_init__(self) -> None:
        if tuple(self.values) != (-1, 0, 1):
            raise ModelError("ThreeState units take the values (-1, 0, 1)")
        super().__post_init__()

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        return sp.log(1 + 2 * sp.cosh(eta))

    def log_partition_latex(self, entry: str) -> str:
        return rf"\log\left(1 + 2 \cosh {entry}\right)"


@dataclass(frozen=True)
class Levels(Discrete):
    """Only the support (0, 1/2, 2); everything else is the generic fallback."""

    values: tuple = (0, sp.Rational(1, 2), 2)
    name: str = field(default="Levels", compare=False, repr=False)


KINDS = [ThreeState(), Levels()]
IDS = ["ThreeState", "Levels"]


def _floats(kind) -> list[float]:
    return [float(v) for v in kind.values]


# --------------------------------------------------------------------------------------
# brute force, independent of symrg
# --------------------------------------------------------------------------------------
def _log_z(xs, eta):
    return float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(eta) * x) for x in xs)))


def _brute_h(states_v, params, kinds_hidden, energy):
    """``-log sum_{hidden} exp(-E(v, hidden))`` for each visible state, by enumeration."""
    out = []
    for v in states_v:
        terms = [-energy(np.asarray(v, float), [np.asarray(c, float) for c in cfg], params)
                 for cfg in itertools.product(*[list(itertools.product(xs, repeat=n)) for xs, n in kinds_hidden])]
        m = max(terms)
        out.append(-(m + math.log(sum(math.exp(t - m) for t in terms))))
    return np.array(out)


def _params_two_layer(rng, nv, nh):
    return {"b_v": rng.normal(size=nv), "b_h": rng.normal(size=nh), "W_vh": rng.normal(size=(nv, nh))}


def _energy_two_layer(v, hs, p):
    (h,) = hs
    return -p["b_v"] @ v - p["b_h"] @ h - v @ p["W_vh"] @ h


def _energy_three_layer(v, hs, p):
    h, s = hs
    return -p["b_v"] @ v - p["b_h"] @ h - p["b_s"] @ s - v @ p["W_vh"] @ h - h @ p["W_hs"] @ s


# --------------------------------------------------------------------------------------
# the kind itself
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_log_partition_forms_match_the_direct_sum(kind):
    eta = sp.Symbol("eta", real=True)
    for x in (-3.1, -0.4, 0.0, 0.9, 2.5):
        direct = _log_z(_floats(kind), x)
        assert float(kind.log_partition(eta).subs(eta, x)) == pytest.approx(direct, rel=1e-14, abs=1e-15)
        assert float(kind.log_partition_numpy(np.array(x))) == pytest.approx(direct, rel=1e-14, abs=1e-15)
        assert float(kind.log_partition_mpmath(mpmath.mpf(x))) == pytest.approx(direct, rel=1e-14, abs=1e-15)
        assert kind.log_partition_complex(np.array(x)).real == pytest.approx(direct, rel=1e-13)
    # complex arguments (verify samples them): against the direct sum in complex arithmetic
    for z in (0.3 + 0.7j, -1.2 + 0.1j):
        direct = np.log(sum(np.exp(z * v) for v in _floats(kind)))
        assert complex(kind.log_partition_mpc(mpmath.mpc(z))) == pytest.approx(direct, rel=1e-14)
        assert complex(kind.log_partition_complex(np.array(z))) == pytest.approx(direct, rel=1e-14)
    # the stable forms stay finite where exp overflows: A = max_k eta x_k + log(multiplicity)
    for x in (-900.0, 900.0):
        top = max(x * v for v in _floats(kind))
        assert float(kind.log_partition_numpy(np.array([x]))[0]) == pytest.approx(top, rel=1e-15)
        assert float(kind.log_partition_mpmath(mpmath.mpf(x))) == pytest.approx(top, rel=1e-15)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_cumulants_match_numeric_derivatives_and_moments(kind):
    xs = _floats(kind)
    b0 = 0.37
    ks = cumulants(kind, 6)
    nat = cumulants(kind, 6, variable="natural")
    with mpmath.workdps(40):
        probs = [mpmath.exp(mpmath.mpf(b0) * x) for x in xs]
        Z = mpmath.fsum(probs)
        probs = [q / Z for q in probs]
        # central moments -> cumulants up to 4, by the textbook formulas
        mean = mpmath.fsum(q * x for q, x in zip(probs, xs))
        c = [mpmath.fsum(q * (x - mean) ** k for q, x in zip(probs, xs)) for k in range(5)]
        by_moments = [mean, c[2], c[3], c[4] - 3 * c[2] ** 2]
        for n in range(1, 7):
            deriv = mpmath.diff(lambda b: mpmath.log(mpmath.fsum(mpmath.exp(b * x) for x in xs)), mpmath.mpf(b0), n)
            val = ks[n - 1].subs(sp.Symbol("b"), sp.Float(b0, 40)).evalf(40)
            assert float(val) == pytest.approx(float(deriv), rel=1e-20, abs=1e-25)
            nat_val = nat[n - 1].subs({sp.Symbol(f"p_{j}"): sp.Float(str(q), 40) for j, q in enumerate(probs)})
            assert float(nat_val) == pytest.approx(float(deriv), rel=1e-20, abs=1e-25)
            if n <= 4:
                assert float(by_moments[n - 1]) == pytest.approx(float(deriv), rel=1e-20, abs=1e-25)
    assert cumulant(kind, 3) == ks[2]


def test_cumulant_expansion_with_a_custom_kind():
    s, t, K = sp.symbols("s t K")
    res = cumulant_expansion(K * s * t + s, {s: ThreeState(), t: "spin"}, 3)
    fields = {sp.Symbol("b_s"): 0.2, sp.Symbol("b_t"): -0.5, K: 0.8}
    xs, ps = [], []
    for a, c in itertools.product((-1, 0, 1), (-1, 1)):
        xs.append(0.8 * a * c + a)
        ps.append(math.exp(0.2 * a - 0.5 * c))
    ps = [q / sum(ps) for q in ps]
    mean = sum(q * x for q, x in zip(ps, xs))
    var = sum(q * (x - mean) ** 2 for q, x in zip(ps, xs))
    third = sum(q * (x - mean) ** 3 for q, x in zip(ps, xs))
    for k, ref in zip(res.cumulants, (mean, var, third)):
        assert float(k.subs(fields)) == pytest.approx(ref, rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_convergence_radius_is_the_nearest_zero_of_the_partition_function(kind):
    theta = 0.3
    r = float(kind.convergence_radius(sp.Float(theta)))
    xs = _floats(kind)
    with mpmath.workdps(60):
        # an independent estimate: the root test on the Taylor coefficients of log Z; a
        # logarithmic singularity at distance R gives |n c_n| ~ (cos) R^-n
        coeffs = mpmath.taylor(lambda b: mpmath.log(mpmath.fsum(mpmath.exp(b * x) for x in xs)), theta, 60)
        est = min(abs(n * c) ** (-mpmath.mpf(1) / n) for n, c in enumerate(coeffs) if n >= 40 and c != 0)
        assert float(est) == pytest.approx(r, rel=0.03)
        # and there is a zero of Z at that distance
        zeros = [mpmath.findroot(lambda e: mpmath.fsum(mpmath.exp(e * x) for x in xs), theta + 1j * r * w)
                 for w in (1.0, 0.9, 1.1)]
        assert min(abs(z - theta) for z in zeros) == pytest.approx(r, rel=1e-10)
    if isinstance(kind, ThreeState):
        th = sp.Symbol("theta", real=True)
        assert sp.simplify(kind.convergence_radius(th) - sp.sqrt(th**2 + 4 * sp.pi**2 / 9)) == 0


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_support_membership_and_power_reduction(kind):
    xs = _floats(kind)
    assert kind.contains(xs).all()
    assert not kind.contains([xs[0] + 0.25, 7.0, np.nan]).any()
    x, y = sp.symbols("x y")
    expr = 5 * x**5 * y**3 - 2 * x**2 + 3 * y**4 + 1
    red = kind.reduce_powers(expr, [x, y])
    assert sp.degree(red, x) < kind.size and sp.degree(red, y) < kind.size
    for a, c in itertools.product(kind.values, repeat=2):
        assert red.subs({x: a, y: c}) == expr.subs({x: a, y: c})


def test_registry_and_unit_kind_by_name():
    assert kind_class("tests.ThreeState") is ThreeState
    assert unit_kind("tests.ThreeState") == ThreeState()
    assert kind_class("Levels") is Levels
    with pytest.raises(ModelError, match="already taken"):
        type("Spin", (Discrete,), {"__module__": "elsewhere", "__qualname__": "Spin"})


# --------------------------------------------------------------------------------------
# the pipeline
# --------------------------------------------------------------------------------------
def _visible_states(n):
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)))


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_marginalize_closed_form_lambdify_latex_export_crosscheck(kind, tmp_path):
    nv, nh = 3, 2
    m = symrg.energy_model([("v", nv, "spin"), ("h", nh, kind)], [("v", "h")])
    H = symrg.marginalize(m, "h")
    assert H.history[-1].rule == "closed-form sum"
    rng = np.random.default_rng(7)
    p = _params_two_layer(rng, nv, nh)
    V = _visible_states(nv)
    ref = _brute_h(V, p, [(_floats(kind), nh)], _energy_two_layer)

    # lambdify, numpy (batched) and mpmath (one state at a time)
    f = symrg.lambdify(H)
    np.testing.assert_allclose(f(v=V, **p), ref, rtol=1e-13, atol=1e-13)
    g = symrg.lambdify(H, "mpmath")
    for row, r in zip(V, ref):
        assert float(g(v=row, **p)) == pytest.approx(r, rel=1e-14, abs=1e-14)

    # the symbolic energy itself, substituted
    by_name = {f"b_v_{i + 1}": p["b_v"][i] for i in range(nv)}
    by_name.update({f"b_h_{j + 1}": p["b_h"][j] for j in range(nh)})
    by_name.update({f"W_vh_{{{i + 1}{j + 1}}}": p["W_vh"][i, j] for i in range(nv) for j in range(nh)})
    for row, r in zip(V[:3], ref[:3]):
        names = dict(by_name, **{f"v_{i + 1}": row[i] for i in range(nv)})
        s = {x: names[x.name] for x in H.energy.free_symbols}
        assert float(H.energy.subs(s)) == pytest.approx(r, rel=1e-12)

    # LaTeX: the kind's closed form appears (ThreeState) or its generic sum (Levels)
    tex = symrg.latex(H)
    if isinstance(kind, ThreeState):
        assert r"\log{\left(2 \cosh{\left(W^{(v,h)}_{11} v_{1}" in tex  # W_vh prints as its symbol
    else:  # the generic log sum_k exp(eta x_k) over 0, 1/2, 2
        assert r"e^{\frac{W^{(v,h)}_{11} v_{1}}{2}" in tex and r"e^{2 W^{(v,h)}_{11} v_{1}" in tex

    # export: a standalone module, imported and evaluated
    path = symrg.write_module(H, tmp_path / f"custom_{type(kind).__name__.lower()}.py")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    np.testing.assert_allclose(mod.energy(v=V, **p), ref, rtol=1e-13, atol=1e-13)

    # states outside the spin support are refused by the numeric layer
    with pytest.raises(symrg.SymrgError):
        f(v=np.array([0.0, 1.0, 1.0]), **p)

    # crosscheck against symrg's own brute force
    cc = symrg.crosscheck(H)
    assert cc.passed, cc.text()

    # save / load keeps the custom kind
    back = loads(dumps(H))
    assert back.terms[0].kind == kind and type(back.terms[0].kind) is type(kind)
    np.testing.assert_allclose(symrg.lambdify(back)(v=V, **p), ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_marginalize_by_enumeration(kind):
    # summing s first leaves a log-partition term in h: h is then summed by enumeration
    nv, nh, ns = 2, 2, 2
    m = symrg.energy_model([("v", nv, "spin"), ("h", nh, kind), ("s", ns, kind)], [("v", "h"), ("h", "s")])
    H = symrg.marginalize(m, "s", "h")
    assert [st.rule for st in H.history] == ["closed-form sum", "explicit enumeration"]
    rng = np.random.default_rng(11)
    p = _params_two_layer(rng, nv, nh)
    p.update({"b_s": rng.normal(size=ns), "W_hs": rng.normal(size=(nh, ns))})
    V = _visible_states(nv)
    ref = _brute_h(V, p, [(_floats(kind), nh), (_floats(kind), ns)], _energy_three_layer)
    np.testing.assert_allclose(symrg.lambdify(H)(v=V, **p), ref, rtol=1e-13, atol=1e-13)
    g = symrg.lambdify(H, "mpmath")
    assert float(g(v=V[1], **p)) == pytest.approx(ref[1], rel=1e-14)
    cc = symrg.crosscheck(H)
    assert cc.passed, cc.text()


def test_custom_kind_as_survivor_and_in_matrix_notation():
    # survivors of the custom kind: support checks and powers reduced on {-1, 0, 1}
    m = symrg.energy_model([("x", 2, ThreeState()), ("h", 2, "bernoulli")], [("x", "h")])
    H = symrg.marginalize(m, "h")
    f = symrg.lambdify(H)
    rng = np.random.default_rng(3)
    p = {"b_x": rng.normal(size=2), "b_h": rng.normal(size=2), "W_xh": rng.normal(size=(2, 2))}
    X = np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=2)))
    ref = [-(p["b_x"] @ x) - sum(math.log1p(math.exp(p["b_h"][j] + x @ p["W_xh"][:, j])) for j in range(2)) for x in X]
    np.testing.assert_allclose(f(x=X, **p), ref, rtol=1e-13, atol=1e-13)
    with pytest.raises(symrg.SymrgError):
        f(x=np.array([0.5, 1.0]), **p)
    assert symrg.crosscheck(H).passed
    # abstract sizes: the matrix-notation formula prints the kind's own A
    n, k = sp.symbols("n k", integer=True, positive=True)
    Ha = symrg.marginalize(symrg.energy_model([("v", n, "spin"), ("h", k, ThreeState())], [("v", "h")]), "h")
    assert r"\log\left(1 + 2 \cosh" in symrg.latex(Ha)
    # and evaluates numerically once sizes are fixed by the arguments
    v = np.array([1.0, -1.0, 1.0])
    pa = {"b_v": rng.normal(size=3), "b_h": rng.normal(size=2), "W_vh": rng.normal(size=(3, 2))}
    eta = pa["b_h"] + v @ pa["W_vh"]
    ref_a = -(pa["b_v"] @ v) - sum(_log_z([-1.0, 0.0, 1.0], e) for e in eta)
    assert float(symrg.lambdify(Ha)(v=v, **pa)) == pytest.approx(ref_a, rel=1e-13)


def test_cumulant_series_of_a_custom_kind_converges_to_the_exact_energy():
    # one ThreeState unit summed out; series truncated at order N vs the exact closed form
    m = symrg.energy_model([("v", 2, "spin"), ("h", 1, ThreeState())], [("v", "h")])
    H = symrg.marginalize(m, "h")
    series = symrg.cumulant_series(H, 6)
    assert series.radius_conditions  # the generic radius gives a recorded condition
    th = sp.Symbol("b_h_1", real=True)
    assert any(sp.simplify(r - sp.sqrt(th**2 + 4 * sp.pi**2 / 9)) == 0 for _, r in series.fluctuations)
    by_name = {"b_h_1": 0.3, "b_v_1": 0.1, "b_v_2": -0.2, "W_vh_{11}": 0.15, "W_vh_{21}": -0.1}
    syms = set().union(series.constant.free_symbols, *[c.free_symbols for c in series.base.values()],
                       *[c.free_symbols for n in series.orders for c in series.orders[n].values()])
    vals = {x: by_name[x.name] for x in syms if x.name in by_name}
    errs = []
    for N in (2, 4, 6):
        for v in itertools.product((-1, 1), repeat=2):
            t = 0.15 * v[0] - 0.1 * v[1]
            exact = -(0.1 * v[0] - 0.2 * v[1]) - _log_z([-1.0, 0.0, 1.0], 0.3 + t)
            approx = float(series.constant.subs(vals))
            for key, c in series.base.items():
                approx += float(c.subs(vals)) * math.prod(v[series.units.index(u)] for u in key)
            for n in range(1, N + 1):
                for key, c in series.orders[n].items():
                    approx += float(c.subs(vals)) * math.prod(v[series.units.index(u)] for u in key)
            errs.append((N, abs(approx - exact)))
    worst = {N: max(e for n, e in errs if n == N) for N in (2, 4, 6)}
    assert worst[6] < worst[4] < worst[2] < 1e-2
    assert worst[6] < 1e-6
