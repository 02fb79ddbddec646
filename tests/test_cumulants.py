"""Tests of symrg.engine.cumulants, moments, joint_cumulants and cumulant_expansion, each
against an independent computation."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy.functions.combinatorial.numbers import stirling

from symrg.engine.cumulant_expansion import cumulant_expansion
from symrg.engine.cumulants import cgf, cgf_series, cumulant, cumulant_coefficients, cumulants
from symrg.engine.joint_cumulants import (
    MAX_SUBSET_VARIABLES,
    discrete_layer_cumulant,
    gaussian_layer_cumulant,
    joint_cumulant,
    subset_cumulants,
    subset_moments,
)
from symrg.engine.moments import cumulants_to_moments, moments_to_cumulants
from symrg.model.units import Bernoulli, Discrete, Gaussian, Spin

b = sp.Symbol("b")
sigma, m = sp.symbols("sigma m")


# ----------------------------------------------------------------------------------------
# independent references
# ----------------------------------------------------------------------------------------
def set_partitions(items):
    """All set partitions of a list (brute force reference)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest):
        yield [[first]] + part
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1 :]


def partition_cumulant(moment, slots):
    """kappa = sum over set partitions of (|pi|-1)! (-1)^(|pi|-1) prod E[block]."""
    total = 0
    for part in set_partitions(list(range(len(slots)))):
        k = len(part)
        term = (-1) ** (k - 1) * math.factorial(k - 1)
        for block in part:
            term = term * moment(tuple(sorted(slots[i] for i in block)))
        total = total + term
    return total


def taylor_cumulants(logpartition, b0, order, dps=60):
    """kappa_n = A^(n)(b0) by mpmath numerical differentiation."""
    with mpmath.workdps(dps):
        c = mpmath.taylor(logpartition, mpmath.mpf(b0), order)
        return [c[n] * mpmath.factorial(n) for n in range(1, order + 1)]


# ----------------------------------------------------------------------------------------
# unit-kind cumulants
# ----------------------------------------------------------------------------------------
def test_bernoulli_matches_stirling_form():
    ks = cumulants("bernoulli", 6, variable="natural")
    for n, k in enumerate(ks, start=1):
        ref = sum((-1) ** (j - 1) * sp.factorial(j - 1) * stirling(n, j) * sigma**j for j in range(1, n + 1))
        assert sp.expand(k - ref) == 0
    assert ks[3] == sigma - 7 * sigma**2 + 12 * sigma**3 - 6 * sigma**4


def test_spin_low_orders_match_math_md():
    ks = cumulants(Spin(), 4, variable="natural")
    assert ks[0] == m
    assert sp.expand(ks[1] - (1 - m**2)) == 0
    assert sp.expand(ks[2] - (-2 * m * (1 - m**2))) == 0
    assert sp.expand(ks[3] - (-2 + 8 * m**2 - 6 * m**4)) == 0


def test_low_orders_field_form_numeric():
    # compare with direct derivatives of the log-partition at a point (sympy diff + numeric)
    for kind, A in ((Bernoulli(), sp.log(1 + sp.exp(b))), (Spin(), sp.log(2 * sp.cosh(b)))):
        ks = cumulants(kind, 5)
        for n, k in enumerate(ks, start=1):
            ref = sp.diff(A, b, n).subs(b, sp.Rational(-7, 10)).evalf(30)
            assert abs(k.subs(b, sp.Rational(-7, 10)).evalf(30) - ref) < 1e-25


@pytest.mark.parametrize("kind", [Bernoulli(), Spin()])
@pytest.mark.parametrize("b0", ["0.3", "-1.7"])
def test_order_40_against_mpmath_taylor(kind, b0):
    ks = cumulants(kind, 40)
    ref = taylor_cumulants(kind.log_partition_mpmath, b0, 40)
    with mpmath.workdps(60):
        for n in (1, 2, 7, 23, 40):
            val = ks[n - 1].evalf(60, subs={b: sp.Float(b0, 60)})
            assert abs(mpmath.mpf(str(val)) - ref[n - 1]) <= 1e-25 * max(1, abs(ref[n - 1]))


def test_natural_and_field_forms_agree_and_coefficients():
    kn = cumulants("spin", 12, variable="natural")
    kf = cumulants("spin", 12)
    for a, c in zip(kn, kf):
        assert a.xreplace({m: sp.tanh(b)}) == c
    assert cumulant_coefficients("spin", 12) == tuple(sp.Poly(kn[11], m).all_coeffs()[::-1])
    assert cumulant("bernoulli", 5, variable="natural", natural=sp.Symbol("q")).has(sp.Symbol("q"))


def test_order_200_is_exact():
    # its time is a target in benchmarks/bench_cumulants.py (kappa_1..200, natural variable)
    ks = cumulants("bernoulli", 200, variable="natural")
    # leading coefficient (-1)^(n-1) (n-1)! S(n, n) and linear coefficient S(n, 1) = 1
    lead = sp.Poly(ks[199], sigma).LC()
    assert lead == (-1) ** 199 * sp.factorial(199)
    assert sp.Poly(ks[199], sigma).coeff_monomial(sigma) == 1


def test_gaussian_cumulants_and_cgf():
    p = sp.Rational(5, 2)
    ks = cumulants(Gaussian(p), 4, field=sp.Rational(3))
    assert ks == (sp.Rational(6, 5), sp.Rational(2, 5), 0, 0)
    mu, sd = sp.symbols("mu sigma")
    assert cumulants(Gaussian(), 3, variable="natural") == (mu, sd**2, 0)
    t = sp.Symbol("t")
    # numeric second derivative of the Gaussian log-partition at eta = 3
    ref = mpmath.diff(lambda e: e**2 / (2 * mpmath.mpf(2.5)) + mpmath.log(2 * mpmath.pi / 2.5) / 2, 3, 2)
    assert abs(float(ks[1]) - float(ref)) < 1e-12
    K = cgf(Gaussian(p), t, field=3)
    assert sp.simplify(K - (sp.Rational(6, 5) * t + t**2 / 5)) == 0


def test_cgf_series_against_cgf_numerically():
    t = sp.Symbol("t")
    for kind in ("bernoulli", "spin"):
        exact = cgf(kind, t).subs({b: 0.4, t: 0.1})
        approx = cgf_series(kind, t, 12).subs({b: 0.4, t: 0.1})
        assert abs(float(exact) - float(approx)) < 1e-13
        assert float(cgf(kind, t).subs({b: 0.4, t: 0})) == 0.0


def test_discrete_three_values_against_direct_moments():
    kind = Discrete((0, 1, 2))
    ks = cumulants(kind, 6)
    for b0 in (0.25, -1.1):
        x = np.array([0.0, 1.0, 2.0])
        w = np.exp(b0 * x)
        w /= w.sum()
        m1, m2, m3, m4 = (float(np.sum(w * x**k)) for k in (1, 2, 3, 4))
        ref = [
            m1,
            m2 - m1**2,
            m3 - 3 * m2 * m1 + 2 * m1**3,
            m4 - 4 * m3 * m1 - 3 * m2**2 + 12 * m2 * m1**2 - 6 * m1**4,
        ]
        for k, r in zip(ks, ref):
            assert abs(float(k.subs(b, b0)) - r) < 1e-12
        taylor = taylor_cumulants(kind.log_partition_mpmath, b0, 6, dps=30)
        assert abs(float(ks[5].subs(b, b0)) - float(taylor[5])) < 1e-12
    # natural variables: polynomial in the probabilities
    p0, p1, p2 = sp.symbols("p_0 p_1 p_2")
    k2 = cumulants(kind, 2, variable="natural")[1]
    assert k2.free_symbols <= {p0, p1, p2}


def test_discrete_irrational_values():
    kind = Discrete((-1, sp.sqrt(2), 3))
    k3 = cumulant(kind, 3)
    ref = taylor_cumulants(kind.log_partition_mpmath, 0.2, 3, dps=30)[2]
    assert abs(float(k3.subs(b, 0.2)) - float(ref)) < 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        cumulants("spin", -1)
    with pytest.raises(ValueError, match="unknown unit kind"):
        cumulants("potts", 3)
    with pytest.raises(ValueError, match="variable"):
        cumulants("spin", 3, variable="moment")
    with pytest.raises(ValueError, match="at least 1"):
        cumulant("spin", 0)
    with pytest.raises(ValueError, match="Bernoulli and Spin"):
        cumulant_coefficients(Gaussian(), 2)
    with pytest.raises(TypeError):
        cumulants("spin", 2.5)
    assert cumulants("spin", 0) == ()


# ----------------------------------------------------------------------------------------
# moments <-> cumulants
# ----------------------------------------------------------------------------------------
def test_round_trip_order_12_symbolic():
    mus = sp.symbols("mu1:13")
    ks = sp.symbols("k1:13")
    assert cumulants_to_moments(moments_to_cumulants(mus)) == mus
    assert moments_to_cumulants(cumulants_to_moments(ks)) == ks


def test_poisson_and_normal_numeric():
    lam = 1.3
    # Poisson moments by direct summation; all cumulants equal lambda
    kk = np.arange(80)
    logp = -lam + kk * np.log(lam) - np.array([math.lgamma(k + 1) for k in kk])
    mus = [float(np.sum(np.exp(logp) * kk.astype(float) ** n)) for n in range(1, 9)]
    assert np.allclose(moments_to_cumulants(mus), lam, rtol=1e-9)
    # normal N(0, 1) moments are the double factorials
    assert moments_to_cumulants([0, 1, 0, 3, 0, 15, 0, 105]) == (0, 1, 0, 0, 0, 0, 0, 0)
    assert cumulants_to_moments([0, 1, 0, 0, 0, 0]) == (0, 1, 0, 3, 0, 15)


# ----------------------------------------------------------------------------------------
# joint cumulants
# ----------------------------------------------------------------------------------------
def test_symbolic_joint_cumulant_matches_partition_sum():
    def mu(key):
        return sp.Symbol("m_" + "".join(map(str, key)))

    for slots in ((0, 1, 2, 3, 4), (0, 0, 1, 2), (1, 1, 1)):
        ours = joint_cumulant(mu, slots)
        ref = sp.expand(partition_cumulant(mu, slots))
        assert sp.expand(ours - ref) == 0


def test_numeric_subset_cumulants_match_partition_sum():
    rng = np.random.default_rng(1)
    n = 7
    mom = rng.normal(size=1 << n)
    mom[0] = 1.0
    kap = subset_cumulants(mom)
    for S in (0b1111111, 0b1010110, 0b0000011, 0b1000000):
        slots = [i for i in range(n) if S >> i & 1]
        ref = partition_cumulant(lambda key: mom[sum(1 << i for i in key)], slots)
        assert abs(kap[S] - ref) < 1e-9 * max(1.0, abs(ref))
    assert np.allclose(subset_moments(kap), mom, atol=1e-10)
    assert kap[0] == 0.0


def test_exact_rational_joint_cumulant():
    from fractions import Fraction

    mom = {(0,): Fraction(1, 2), (1,): Fraction(1, 3), (0, 1): Fraction(1, 4)}
    assert joint_cumulant(mom, (0, 1)) == Fraction(1, 4) - Fraction(1, 6)


def gaussian_moment(mean, cov, key):
    """E[prod x_key] by Stein's identity E[x_a F] = mu_a E[F] + sum_b C_ab E[dF/dx_b]."""
    if not key:
        return 1.0
    a, rest = key[0], key[1:]
    total = mean[a] * gaussian_moment(mean, cov, rest)
    for j in range(len(rest)):
        total += cov[a, rest[j]] * gaussian_moment(mean, cov, rest[:j] + rest[j + 1 :])
    return total


def test_correlated_gaussian_higher_cumulants_vanish():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(4, 4))
    P = A @ A.T + 4 * np.eye(4)
    theta = rng.normal(size=4)
    cov = np.linalg.inv(P)
    mean = cov @ theta
    mom = lambda key: gaussian_moment(mean, cov, key)  # noqa: E731
    assert abs(joint_cumulant(mom, (0, 1, 2, 3, 0, 1, 2, 3))) < 1e-12
    assert abs(joint_cumulant(mom, (1, 1, 2))) < 1e-12
    assert abs(joint_cumulant(mom, (0, 2)) - cov[0, 2]) < 1e-12
    assert abs(joint_cumulant(mom, (3,)) - mean[3]) < 1e-12
    # the closed-form layer cumulants
    assert abs(gaussian_layer_cumulant((1, 3), P, theta) - cov[1, 3]) < 1e-12
    assert abs(gaussian_layer_cumulant((2,), P, theta) - mean[2]) < 1e-12
    assert gaussian_layer_cumulant((0, 1, 2), P, theta) == 0.0
    Ps = sp.Matrix([[2, 1], [1, 3]])
    th = sp.Matrix([1, -1])
    assert gaussian_layer_cumulant((0, 1), Ps, th) == sp.Rational(-1, 5)
    assert gaussian_layer_cumulant((0,), Ps, th) == sp.Rational(4, 5)


def brute_ising_moments(values, theta, J):
    n = len(theta)
    configs = np.array(list(itertools.product(values, repeat=n)), dtype=float)
    logw = configs @ theta + 0.5 * np.einsum("ci,ij,cj->c", configs, J, configs)
    w = np.exp(logw)
    w /= w.sum()
    return lambda key: float(np.sum(w * np.prod(configs[:, list(key)], axis=1)))


@pytest.mark.parametrize("values,kind", [((-1, 1), "spin"), ((0, 1), "bernoulli"), ((0, 1, 2), (0, 1, 2))])
def test_discrete_layer_matches_brute_force(values, kind):
    rng = np.random.default_rng(3)
    n = 4
    theta = rng.normal(scale=0.5, size=n)
    J = rng.normal(scale=0.4, size=(n, n))
    J = (J + J.T) / 2
    np.fill_diagonal(J, 0.0)
    mom = brute_ising_moments(values, theta, J)
    for slots in ((0, 1, 2, 3), (0, 0, 1), (2,), (1, 3), (0, 1, 1, 2, 3)):
        ours = discrete_layer_cumulant(kind, slots, theta, J)
        ref = partition_cumulant(mom, slots)
        assert abs(ours - ref) < 1e-10


def test_discrete_layer_symbolic_small():
    K, h = sp.symbols("K h")
    J = sp.Matrix([[0, K], [K, 0]])
    theta = sp.Matrix([h, 0])
    k = discrete_layer_cumulant("spin", (0, 1), theta, J)
    num = float(k.subs({K: 0.3, h: 0.2}))
    mom = brute_ising_moments((-1, 1), np.array([0.2, 0.0]), np.array([[0, 0.3], [0.3, 0]]))
    assert abs(num - partition_cumulant(mom, (0, 1))) < 1e-12


def test_layer_size_guard_message():
    with pytest.raises(ValueError, match=r"17 units.*131072 configurations.*65536"):
        discrete_layer_cumulant("spin", (0, 1), np.zeros(17))
    with pytest.raises(ValueError, match="limit of 100"):
        discrete_layer_cumulant("spin", (0,), np.zeros(7), max_configurations=100)


def test_joint_cumulant_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        joint_cumulant({}, ())
    with pytest.raises(ValueError, match="length 2\\*\\*n"):
        subset_cumulants(np.ones(6))
    with pytest.raises(ValueError, match="must be 1"):
        subset_cumulants(np.array([2.0, 1.0]))
    with pytest.raises(ValueError, match=f"n=21 variables; the limit is {MAX_SUBSET_VARIABLES}"):
        subset_cumulants(np.ones(1 << 21))
    with pytest.raises(ValueError, match="discrete unit kind"):
        discrete_layer_cumulant(Gaussian(), (0,), np.zeros(2))


# ----------------------------------------------------------------------------------------
# cumulant expansion of log <exp(-X)>
# ----------------------------------------------------------------------------------------
def numeric_cumulants_of(values, probs, order):
    """Cumulants of a discrete random variable via mpmath Taylor of log E[exp(tX)]."""
    vals = [mpmath.mpf(float(v)) for v in values]
    ps = [mpmath.mpf(float(p)) for p in probs]

    def K(t):
        return mpmath.log(mpmath.fsum(p * mpmath.exp(t * v) for p, v in zip(ps, vals)))

    with mpmath.workdps(40):
        c = mpmath.taylor(K, 0, order)
        return [float(c[n] * mpmath.factorial(n)) for n in range(1, order + 1)]


def test_expansion_independent_spins_and_bernoulli():
    s1, s2, v = sp.symbols("s1 s2 v")
    K, h = sp.Rational(3, 10), sp.Rational(1, 5)
    X = K * s1 * s2 + h * s1 + K * s2 * v
    fields = {s1: 0.4, s2: -0.3, v: 0.7}
    dist = {s1: ("spin", sp.Symbol("b1")), s2: ("spin", sp.Symbol("b2")), v: ("bernoulli", sp.Symbol("b3"))}
    res = cumulant_expansion(X, dist, 5)
    subs = {sp.Symbol("b1"): 0.4, sp.Symbol("b2"): -0.3, sp.Symbol("b3"): 0.7}
    # direct enumeration of the distribution of X
    xs, ps = [], []
    for a, c, d in itertools.product((-1, 1), (-1, 1), (0, 1)):
        w = math.exp(fields[s1] * a + fields[s2] * c + fields[v] * d)
        xs.append(float(X.subs({s1: a, s2: c, v: d})))
        ps.append(w)
    Z = sum(ps)
    ps = [p / Z for p in ps]
    ref = numeric_cumulants_of(xs, ps, 5)
    for k, r in zip(res.cumulants, ref):
        assert abs(float(k.subs(subs)) - r) < 1e-10
    exact = math.log(sum(p * math.exp(-x) for p, x in zip(ps, xs)))
    err5 = abs(float(res.expr.subs(subs)) - exact)
    err10 = abs(float(cumulant_expansion(X, dist, 10).expr.subs(subs)) - exact)
    assert err10 < err5 < 1e-3
    assert err10 < 1e-6
    # natural variables keep the substitutions
    nat = cumulant_expansion(X, dist, 2, variable="natural")
    assert dict(nat.substitutions)[sp.Symbol("m_s1")] == sp.tanh(sp.Symbol("b1"))


def test_expansion_finite_joint_distribution():
    x, y = sp.symbols("x y")
    pairs = [({x: 0, y: 0}, sp.Rational(1, 2)), ({x: 1, y: 0}, sp.Rational(1, 4)), ({x: 1, y: 2}, sp.Rational(1, 4))]
    X = x + x * y
    res = cumulant_expansion(X, pairs, 4)
    ref = numeric_cumulants_of([0, 1, 3], [0.5, 0.25, 0.25], 4)
    assert all(abs(float(k) - r) < 1e-12 for k, r in zip(res.cumulants, ref))
    assert res.terms[0] == -res.cumulants[0]


def test_expansion_gaussian_quadratic():
    x = sp.Symbol("x")
    a, c, p, th = 0.7, 0.15, 2.0, 0.5
    res = cumulant_expansion(sp.Float(a) * x + sp.Float(c) * x**2, {x: (Gaussian(sp.Float(p)), sp.Float(th))}, 4)
    mu, var = th / p, 1 / p

    # log E[exp(t(a x + c x^2))] for x ~ N(mu, var) by the Gaussian integral
    def K(t):
        alpha = 1 / (2 * var) - t * c
        beta = mu / var + t * a
        return mpmath.log(mpmath.sqrt(mpmath.pi / alpha) / mpmath.sqrt(2 * mpmath.pi * var)) + beta**2 / (4 * alpha) - mu**2 / (2 * var)

    with mpmath.workdps(40):
        ref = [float(v * mpmath.factorial(n)) for n, v in enumerate(mpmath.taylor(K, 0, 4))][1:]
    for k, r in zip(res.cumulants, ref):
        assert abs(float(k) - r) < 1e-10


def test_expansion_non_polynomial_discrete():
    s1, s2 = sp.symbols("s1 s2")
    X = sp.log(1 + sp.exp(s1 + 2 * s2))
    res = cumulant_expansion(X, {s1: ("spin", 0.3), s2: ("bernoulli", -0.2)}, 3)
    xs, ps = [], []
    for a, d in itertools.product((-1, 1), (0, 1)):
        xs.append(math.log1p(math.exp(a + 2 * d)))
        ps.append(math.exp(0.3 * a - 0.2 * d))
    ps = [q / sum(ps) for q in ps]
    ref = numeric_cumulants_of(xs, ps, 3)
    for k, r in zip(res.cumulants, ref):
        assert abs(float(k) - r) < 1e-10
    with pytest.raises(ValueError, match="polynomial in Gaussian"):
        cumulant_expansion(sp.exp(s1), {s1: Gaussian()}, 2)
