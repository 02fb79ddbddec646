import itertools

import mpmath
import numpy as np
import pytest
import sympy as sp

from symrg.errors import ModelError
from symrg.model.energy import energy_model
from symrg.model.units import Bernoulli, Discrete, Gaussian, Spin, unit_kind

eta = sp.Symbol("eta", real=True)


@pytest.mark.parametrize("kind", [Bernoulli(), Spin(), Discrete((0, 1, 2)), Discrete((-1, 0, 1)), Discrete(("1/2", 3))])
def test_log_partition_matches_direct_sum(kind):
    for x in (-2.3, 0.0, 0.7, 4.1):
        direct = np.log(sum(np.exp(x * float(v)) for v in kind.values))
        assert float(kind.log_partition(eta).subs(eta, x)) == pytest.approx(direct, rel=1e-14)
        assert float(kind.log_partition_numpy(np.array(x))) == pytest.approx(direct, rel=1e-14)
        assert float(kind.log_partition_mpmath(mpmath.mpf(x))) == pytest.approx(direct, rel=1e-14)


@pytest.mark.parametrize("kind", [Bernoulli(), Spin(), Discrete((0, 1, 2))])
def test_stable_forms_at_huge_fields(kind):
    for x in (-1000.0, 1000.0):
        val = kind.log_partition_numpy(np.array([x]))[0]
        assert np.isfinite(val)
        top = max(x * float(v) for v in kind.values)
        # log sum exp = max + log(count of maximal terms) up to e^-1000 corrections
        n_max = sum(1 for v in kind.values if x * float(v) == top)
        assert val == pytest.approx(top + np.log(n_max), rel=1e-15)
        mp = kind.log_partition_mpmath(mpmath.mpf(x))
        assert float(mp) == pytest.approx(top + np.log(n_max), rel=1e-15)


def test_gaussian_log_partition_is_the_gaussian_integral():
    p = 2.5
    g = Gaussian(p)
    for x in (-1.0, 0.3):
        integral = mpmath.quad(lambda y, x=x: mpmath.exp(x * y - p * y * y / 2), [-mpmath.inf, mpmath.inf])
        assert float(g.log_partition(eta).subs(eta, x)) == pytest.approx(float(mpmath.log(integral)), rel=1e-13)


def test_reduce_powers_agrees_on_the_support():
    x, y = sp.symbols("x y")
    expr = 3 * x**4 * y**2 - x**3 + 2 * x * y**5 + 7
    for kind in (Bernoulli(), Spin(), Discrete((0, 1, 2))):
        red = kind.reduce_powers(expr, [x, y])
        assert sp.degree(red, x) < kind.size and sp.degree(red, y) < kind.size
        for a, b in itertools.product(kind.values, repeat=2):
            assert red.subs({x: a, y: b}) == expr.subs({x: a, y: b})


def test_bad_kinds_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        Discrete((1, 1))
    with pytest.raises(ValueError, match="at least two"):
        Discrete((1,))
    with pytest.raises(ValueError, match="positive"):
        Gaussian(-1)
    with pytest.raises(ValueError, match="valid names"):
        unit_kind("potts")
    with pytest.raises(ValueError, match="Bernoulli units take"):
        Bernoulli((0, 2))


# --------------------------------------------------------------------------------------
# constructors never evaluate text (issue 11, item 2)
# --------------------------------------------------------------------------------------
def _hostile(canary):
    return [
        f"__import__('os').system('touch {canary}')",
        f"exec(\"open('{canary}', 'w').close()\")",
        f"Symbol('q') + __import__('pathlib').Path('{canary}').touch()",
        "lambda: 0",
        "q + 1",
        "2*q",
        "x**2",
        "1 + 1",
        "",
        " ",
    ]


def test_constructors_refuse_code_strings_and_run_nothing(tmp_path):
    canary = tmp_path / "canary"
    for text in _hostile(canary):
        with pytest.raises(ModelError, match="never evaluated|not accepted"):
            Gaussian(text)
        with pytest.raises(ModelError, match="never evaluated|not accepted"):
            Discrete((0, text))
        with pytest.raises(ModelError):
            unit_kind(text)
        with pytest.raises(ModelError):
            unit_kind([0, text])
        with pytest.raises(ModelError):  # through the model constructor
            energy_model([("v", 1), ("h", 1, text)], [("v", "h")])
    assert not canary.exists()


def test_constructors_accept_numbers_symbols_and_numeric_literals():
    assert Gaussian("q").precision == sp.Symbol("q")
    assert Gaussian(" p2 ").precision == sp.Symbol("p2")
    assert Gaussian("1/2").precision == sp.Rational(1, 2)
    assert Gaussian("2.5").precision == sp.Float("2.5")
    assert Gaussian(np.float64(3.0)).precision == sp.Float(3.0)
    p = sp.Symbol("p", positive=True)
    assert Gaussian(p).precision is p
    assert Discrete(("1/2", "-3", "0.25", 2.5, np.int64(7))).values == (
        sp.Rational(1, 2), -3, sp.Rational(1, 4), sp.Rational(5, 2), 7)
    assert Discrete((0, sp.sqrt(2))).values == (0, sp.sqrt(2))


@pytest.mark.parametrize(
    "bad",
    [float("nan"), float("inf"), 1j, True, sp.nan, sp.oo, sp.zoo, sp.I, -1, 0, sp.Matrix([1]), [1.0], None],
)
def test_gaussian_precision_must_be_a_positive_real_number(bad):
    with pytest.raises(ModelError):
        Gaussian(bad)


@pytest.mark.parametrize(
    "bad",
    [(0, float("nan")), (0, float("inf")), (0, 1j), (0, sp.oo), (0, sp.nan), (0, sp.Symbol("a", real=True)),
     (True, 0), "01", 5, tuple(range(65))],
)
def test_discrete_values_must_be_finite_real_numbers(bad):
    with pytest.raises(ModelError):
        Discrete(bad)


def test_kind_hooks_of_the_builtin_kinds():
    b, s, g = Bernoulli(), Spin(), Gaussian(2)
    theta = sp.Symbol("theta", real=True)
    # closed forms agree with the generic fallback of a plain Discrete on the same support
    for kind, plain in ((b, Discrete((0, 1))), (s, Discrete((-1, 1)))):
        assert sp.simplify(kind.convergence_radius(theta) - plain.convergence_radius(theta)) == 0
        for f, c in zip(kind.field_cumulants(5, theta), plain.field_cumulants(5, theta)):
            assert abs(float((f - c).subs(theta, 0.43))) < 1e-13
        assert kind.square_reduction() == plain.square_reduction()
        assert kind.multilinear_basis == plain.multilinear_basis
    assert b.square_reduction() == (1, 0) and s.square_reduction() == (0, 1)
    assert g.convergence_radius(theta) == sp.oo and g.is_gaussian and not g.is_discrete
    assert Discrete((0, 1, 2)).square_reduction() is None and Discrete((0, 2)).multilinear_basis is None
    # Gaussian moments from its field cumulants: E[x^4] = 3 var^2 + 6 var mean^2 + mean^4
    mean, var = theta / 2, sp.Rational(1, 2)
    assert sp.expand(g.moment(4, None, theta) - (3 * var**2 + 6 * var * mean**2 + mean**4)) == 0
    assert list(s.contains([-1, 1, 0, 0.5])) == [True, True, False, False]
    assert list(g.contains([0.3, np.inf, np.nan])) == [True, False, False]
    assert b.arguments() == {} and g.arguments() == {"precision": 2}
    assert Discrete((0, 2)).arguments() == {"values": (0, 2)}


def _zeros_inside(xs, center, radius, n=20000):
    """Number of zeros of Z(eta) = sum_k exp(eta x_k) inside a circle (argument principle)."""
    eta = center + radius * np.exp(2j * np.pi * np.arange(n + 1) / n)
    Z = np.exp(np.multiply.outer(eta, np.asarray(xs, float))).sum(axis=1)
    phase = np.unwrap(np.angle(Z))
    return round((phase[-1] - phase[0]) / (2 * np.pi))


@pytest.mark.parametrize(
    "values",
    [(0, 1), (-1, 1), (-1, 0, 1), (0, 1, 5), ("1/2", 3), (0, "1/3", 1, "7/5"), (0, "1/7", "2/3", 5), (0, "1/50", 4)],
)
def test_convergence_radius_by_the_argument_principle(values):
    kind = Discrete(values)
    th = sp.Symbol("theta", real=True)
    R = kind.convergence_radius(th)
    xs = [float(v) for v in kind.values]
    for theta in (-2.0, 0.3, 1.7):
        r = float(R.subs(th, theta))
        assert _zeros_inside(xs, theta, r * (1 - 1e-6)) == 0
        assert _zeros_inside(xs, theta, r * (1 + 1e-6)) >= 1


def test_convergence_radius_unknown_cases_return_none():
    assert Discrete((0, sp.sqrt(2))).convergence_radius(sp.Symbol("t")) is None  # incommensurate values
    assert Discrete((0, "1/1000", 1)).convergence_radius(sp.Symbol("t")) is None  # degree above the limit
