"""Hubbard-Stratonovich layers (symrg.engine.hubbard_stratonovich), issue 15 item 5.

The round trip is checked symbolically (constant included) and the partition function
against brute-force enumeration and quadrature; the potential's coefficients against
mpmath's numerical Taylor expansion of the exact log 2cosh.
"""

import itertools

import mpmath
import numpy as np
import pytest
import sympy as sp

import symrg
from symrg.engine.hubbard_stratonovich import explicit_energy, hubbard_stratonovich, potential_coefficients
from symrg.errors import ModelError


def test_round_trip_is_exact_symbolically_with_symbolic_couplings():
    J, c = sp.symbols("J c", positive=True)
    f1, f2 = sp.symbols("f1 f2", real=True)
    hs = hubbard_stratonovich([[0, J], [J, 0]], fields=[f1, f2], shift=c)
    back = explicit_energy(hs.spin_marginal(), spins=("s",))
    s1, s2 = sp.symbols("s_1 s_2", real=True)
    # the constants log(c - J) + log(c + J) - log(c^2 - J^2) cancel where J + c I is positive definite
    assert sp.simplify(sp.logcombine(back - (-J * s1 * s2 - f1 * s1 - f2 * s2), force=True)) == 0
    assert sp.simplify(sp.logcombine(back - hs.ising.energy, force=True)) == 0


def test_round_trip_is_exact_for_a_frustrated_three_spin_matrix():
    J = sp.Matrix([[0, 1, -2], [1, 0, sp.Rational(1, 2)], [-2, sp.Rational(1, 2), 0]])
    hs = hubbard_stratonovich(J, fields=[sp.Rational(1, 3), 0, -1])
    assert hs.shift >= 1
    back = explicit_energy(hs.spin_marginal(), spins=("s",))
    assert sp.simplify(back - hs.ising.energy) == 0


def test_partition_function_is_preserved_brute_force_and_quadrature():
    rng = np.random.default_rng(7)
    a = float(rng.normal()) * 0.8
    f = rng.normal(size=2) * 0.5
    hs = hubbard_stratonovich([[0, a], [a, 0]], fields=[float(f[0]), float(f[1])])
    log_z = float(mpmath.log(mpmath.fsum(mpmath.exp(a * s1 * s2 + f[0] * s1 + f[1] * s2)
                                         for s1, s2 in itertools.product((-1, 1), repeat=2))))
    E = explicit_energy(hs.field_theory())
    p1, p2 = sp.symbols("phi_1 phi_2", real=True)
    fE = sp.lambdify((p1, p2), E, "numpy")
    # tensor trapezoidal rule on [-30, 30]^2: spectrally accurate for this smooth integrand, whose
    # gaussian factor has variances >= 1 (the default shift); 2-D mpmath.quad took 50 s
    x = np.linspace(-30.0, 30.0, 1201)
    X, Y = np.meshgrid(x, x, indexing="ij")
    e = -fE(X, Y)
    top = e.max()
    log_quad = top + np.log(np.exp(e - top).sum() * (x[1] - x[0]) ** 2)
    assert abs(log_quad - log_z) < 1e-10, abs(log_quad - log_z)


def test_field_theory_has_the_log_2cosh_potential():
    f = sp.Symbol("f", real=True)
    hs = hubbard_stratonovich([[0, 1], [1, 0]], fields=[f, 0])
    E = explicit_energy(hs.field_theory())
    p1, p2 = sp.symbols("phi_1 phi_2", real=True)
    M = sp.Matrix([[2, 1], [1, 2]])  # J + c I with the default shift c = 2
    phi = sp.Matrix([p1, p2])
    expected = (phi.T * M.inv() * phi)[0] / 2 - sp.log(2 * sp.cosh(p1 + f)) - sp.log(2 * sp.cosh(p2))
    diff = sp.lambdify((p1, p2, f), E - expected, "mpmath")
    values = [diff(x, y, z) for x, y, z in [(0.1, -0.4, 0.3), (1.2, 0.7, -0.8), (-2.0, 0.3, 0.0)]]
    # the difference is the constant 1/2 log det(2 pi M) + c n / 2, the same everywhere
    assert max(abs(v - values[0]) for v in values) < 1e-12
    assert abs(values[0] - float(sp.log(M.det()) / 2 + sp.log(2 * sp.pi) + 2)) < 1e-12


def test_potential_coefficients_at_zero_field():
    u = potential_coefficients(6)
    assert (u[2], u[4], u[6]) == (sp.Rational(-1, 2), sp.Rational(1, 12), sp.Rational(-1, 45))
    assert u[1] == u[3] == u[5] == 0
    taylor = mpmath.taylor(lambda x: -mpmath.log(2 * mpmath.cosh(x)), 0, 6)
    for n in range(7):
        assert abs(float(u[n]) - float(taylor[n])) < 1e-10


@pytest.mark.parametrize("fv", [0.37, -1.1, 2.5])
def test_potential_coefficients_at_nonzero_field(fv):
    f = sp.Symbol("f", real=True)
    u = potential_coefficients(6, f)
    mpmath.mp.dps = 30
    try:
        taylor = mpmath.taylor(lambda x: -mpmath.log(2 * mpmath.cosh(x + fv)), 0, 6)
    finally:
        mpmath.mp.dps = 15
    for n in range(7):
        assert abs(float(u[n].subs(f, fv)) - float(taylor[n])) < 1e-10


def test_quartic_coupling_comes_out_of_the_engines_field_theory():
    """Expand the engine's E(phi) itself: the phi_1^4 coefficient is 1/12, phi_1^6 is -1/45."""
    hs = hubbard_stratonovich([[0, sp.Rational(1, 2)], [sp.Rational(1, 2), 0]])
    E = explicit_energy(hs.field_theory())
    p1, p2 = sp.symbols("phi_1 phi_2", real=True)
    series = sp.series(E.subs(p2, 0), p1, 0, 7).removeO()
    assert sp.nsimplify(series.coeff(p1, 4)) == sp.Rational(1, 12)
    assert sp.nsimplify(series.coeff(p1, 6)) == sp.Rational(-1, 45)
    # phi^2: the Gaussian 1/2 (M^{-1})_11 plus the spin part -1/2
    Minv = (sp.Matrix([[0, sp.Rational(1, 2)], [sp.Rational(1, 2), 0]]) + hs.shift * sp.eye(2)).inv()
    assert sp.simplify(series.coeff(p1, 2) - (Minv[0, 0] / 2 - sp.Rational(1, 2))) == 0


def test_bad_input():
    with pytest.raises(ModelError, match="symmetric"):
        hubbard_stratonovich([[0, 1], [2, 0]])
    with pytest.raises(ModelError, match="zero diagonal"):
        hubbard_stratonovich([[1, 0], [0, 0]])
    with pytest.raises(ModelError, match="positive definite"):
        hubbard_stratonovich([[0, 2], [2, 0]], shift=1)
    with pytest.raises(ModelError, match="explicit shift"):
        hubbard_stratonovich([[0, sp.Symbol("J")], [sp.Symbol("J"), 0]])
    assert symrg.SymrgError


@pytest.mark.parametrize("fv", [0.0, 0.2, -0.7, 1.9])
def test_quartic_coefficient_closed_form_against_numerical_fourth_derivative(fv):
    """u_4(f) = (1 - 3 tanh^2 f) / (12 cosh^2 f), the phi^4 coupling the derivation prints, against
    mpmath.diff of the exact -log 2cosh (an independent numerical route) to 1e-10."""
    f = sp.Symbol("f", real=True)
    u4 = potential_coefficients(4, f)[4]
    closed = (1 - 3 * sp.tanh(f) ** 2) / (12 * sp.cosh(f) ** 2)
    assert sp.simplify((u4 - closed).rewrite(sp.exp)) == 0
    with mpmath.workdps(30):
        d4 = mpmath.diff(lambda x: -mpmath.log(2 * mpmath.cosh(x)), fv, 4) / 24
    assert abs(float(u4.subs(f, fv)) - float(d4)) < 1e-10
    assert abs(float(closed.subs(f, fv)) - float(d4)) < 1e-10
