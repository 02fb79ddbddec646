"""RecursionMap: iteration, fixed points, linearization, beta functions, errors."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from symrg.rg.recursion import RecursionMap, free_energy_from_flow, solve_with_timeout

x, y, K, u, g = sp.symbols("x y K u g")


def test_iterate_numpy_and_mpmath_agree_with_plain_loop():
    m = RecursionMap((x, y), (x**2 + y / 4, x * y), 2)
    fl = m.iterate([0.6, 0.2], 5)
    fm = m.iterate([0.6, 0.2], 5, backend="mpmath")
    a, c = 0.6, 0.2
    for k in range(6):
        assert abs(fl.points[k, 0] - a) < 1e-15 and abs(fl.points[k, 1] - c) < 1e-15
        assert abs(float(fm.points[k, 0]) - a) < 1e-15
        a, c = a**2 + c / 4, a * c
    assert fl.constants is None


def test_two_dimensional_fixed_point_eigenvalues():
    # a linear map with known spectrum: fixed point 0, eigenvalues 4 and 1/2 (b = 2)
    m = RecursionMap((x, y), (4 * x, x + y / 2), 2)
    fps = m.fixed_points()
    assert len(fps) == 1 and fps[0].values == (0, 0) and fps[0].exact
    assert fps[0].eigenvalues == (4, sp.Rational(1, 2))
    assert fps[0].rg_eigenvalues == (2, -1)
    assert fps[0].labels == ("relevant", "irrelevant")
    assert fps[0].nu == sp.Rational(1, 2)
    # eigenvector of lambda = 4 solves (J - 4) v = 0
    v = sp.Matrix(fps[0].eigenvectors[0])
    assert (fps[0].jacobian - 4 * sp.eye(2)) * v == sp.zeros(2, 1)


def test_numeric_fixed_points_transcendental_against_bisection():
    m = RecursionMap((K,), (sp.log(sp.cosh(3 * K)) / 2,), 2)
    fps = m.fixed_points(bounds=[(0, 2)])
    vals = [float(fp.values[0]) for fp in fps]
    assert vals[0] == 0.0
    # independent bisection on f(K) = log(cosh 3K)/2 - K
    f = lambda k: math.log(math.cosh(3 * k)) / 2 - k  # noqa: E731
    lo, hi = 0.2, 1.5
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(lo) * f(mid) > 0 else (lo, mid)
    assert abs(vals[1] - lo) < 1e-13
    slope = 1.5 * math.tanh(3 * lo)
    assert abs(float(fps[1].rg_eigenvalues[0]) - math.log(slope) / math.log(2)) < 1e-12
    assert fps[1].labels == ("relevant",)


def test_marginal_label_and_seeds():
    m = RecursionMap((x,), (x - x**3,), 2)
    fps = m.fixed_points(bounds=[(-0.5, 0.5)])
    assert len(fps) == 1 and fps[0].exact and fps[0].labels == ("marginal",)
    # numeric search from user seeds finds the simple roots of x = x - x^3 + (x - 1/2)
    m2 = RecursionMap((x,), (x**3 + x / 2,), 2)
    fps2 = m2.fixed_points(seeds=[[0.6], [-0.6]], symbolic=False)
    assert [round(float(fp.values[0]), 14) for fp in fps2] == [round(-math.sqrt(0.5), 14), round(math.sqrt(0.5), 14)]


def test_change_variables_brings_infinity_to_one():
    m = RecursionMap((K,), (sp.log(sp.cosh(2 * K)) / 2,), 2)
    mu = m.change_variables([u], [sp.tanh(K)], [sp.atanh(u)])
    for uv in (0.2, 0.5, 0.9):
        assert abs(float(mu(uv)[0]) - math.tanh(0.5 * math.log(math.cosh(2 * math.atanh(uv))))) < 1e-14
    fps = mu.fixed_points(bounds=[(0, 1)])
    assert [fp.original for fp in fps] == [{K: 0}, {K: sp.oo}]


def test_beta_function_requires_symbolic_b_and_is_first_order():
    b = sp.Symbol("b", positive=True)
    m = RecursionMap((x,), (b**2 * x,), b)
    assert m.beta_function() == (2 * x,)
    with pytest.raises(ValueError, match="general b"):
        m.subs({b: 2}).beta_function()


def test_free_energy_needs_constant_and_sums_geometrically():
    m = RecursionMap((x,), (x / 2,), 3, g, 3 * g + x + 1)
    # c_j = x_j + 1 with x_j = x0 / 2^j: sum_j c_j / 3^(j+1) = 2 x0 / 5 + 1 / 2
    fe = free_energy_from_flow(m, [0.5])
    with mpmath.workdps(30):
        assert abs(fe.log_z_per_bond - mpmath.mpf(7) / 10) < 1e-25
    with pytest.raises(ValueError, match="constant"):
        free_energy_from_flow(RecursionMap((x,), (x,), 2), [1])


def test_solve_with_timeout_gives_up():
    # a degree-high system that sympy cannot finish in 0.05 s returns None
    z = sp.symbols("z0:4")
    eqs = [sum((i + j + 2) * z[j] ** (i + j + 3) for j in range(4)) - 1 for i in range(4)]
    assert solve_with_timeout(eqs, z, timeout=0.05) is None


def test_bad_input_names_the_parameter():
    m = RecursionMap((K, x), (K, x), 2)
    with pytest.raises(ValueError, match="values: expected 2 coupling"):
        m(1.0, 2.0, 3.0)
    with pytest.raises(KeyError, match="unknown coupling name 'J'"):
        m.point({"J": 1.0, "K": 2.0})
    with pytest.raises(KeyError, match="unknown parameter name 'q'"):
        m.subs({"q": 1})
    with pytest.raises(ValueError, match="scale factor b"):
        RecursionMap((K,), (K,), 1)
    with pytest.raises(ValueError, match="images: expected one image per coupling"):
        RecursionMap((K, x), (K,), 2)
    with pytest.raises(ValueError, match="substitute h"):
        RecursionMap((K,), (K * sp.Symbol("h"),), 2).iterate([1.0], 2)
    with pytest.raises(ValueError, match="steps"):
        RecursionMap((K,), (K,), 2).iterate([1.0], -1)


def test_map_is_immutable():
    m = RecursionMap((K,), (K,), 2)
    with pytest.raises(AttributeError):
        m.b = 3  # type: ignore[misc]
    assert isinstance(m.iterate([1.0], 1).points, np.ndarray)


def test_thermal_direction_is_found_by_eigenvector_not_by_size():
    import sympy as sp

    from symrg.rg.recursion import RecursionMap

    K, h = sp.symbols("K h")
    # y_h = 2 > y_t = 1: the largest eigenvalue is magnetic
    rmap = RecursionMap((K, h), (2 * K + K**2, 4 * h + K * h), 2)
    (fp,) = [p for p in rmap.fixed_points(seeds=[(0.0, 0.0)]) if abs(float(p.values[0])) < 1e-12]
    assert fp.y(K) == 1 and fp.y(h) == 2
    assert fp.nu_along(K) == 1 and fp.nu == sp.Rational(1, 2)
    with pytest.raises(ValueError, match=r"unknown coupling 'L'; the couplings are \['K', 'h'\]"):
        fp.y("L")
