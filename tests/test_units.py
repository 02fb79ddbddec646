import itertools

import mpmath
import numpy as np
import pytest
import sympy as sp

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
        integral = mpmath.quad(lambda y: mpmath.exp(x * y - p * y * y / 2), [-mpmath.inf, mpmath.inf])
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
