"""Gaussian-field mutual information (symrg.rg.gaussian_information), issue 15 item 6.

Every information is checked against an independent route: the dense covariance
``Σ = A^{-1}`` (numpy inverse), the joint covariance of ``(H, V, E)`` built here by explicit
matrix products, and ``numpy.linalg.slogdet`` of its blocks; the module computes through
Schur complements of the precision (numeric) or determinants and cofactors (symbolic).
The optimal filter is checked against random rules, a brute-force maximization of the
Rayleigh quotient, and the canonical correlations of ``V`` and ``E`` (an SVD).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import sympy as sp

from symrg.errors import BudgetError, ConditionError, ModelError, SymrgError
from symrg.rg.gaussian_information import (
    MAX_SYMBOLIC_SITES,
    GaussianInformation,
    chain_field,
    free_field,
    gaussian_field,
    gaussian_information,
    generalized_eigh,
    linear_rule,
    optimal_linear_filter,
    square_field,
)
from symrg.rg.lattice import chain, square, triangular

# --------------------------------------------------------------------------------------
# the independent reference: dense covariance, explicit joint covariances, slogdet
# --------------------------------------------------------------------------------------


def _ld(M: np.ndarray) -> float:
    if M.size == 0:
        return 0.0
    sign, val = np.linalg.slogdet(M)
    assert sign > 0
    return float(val)


def reference(A, V, E, W=None, s2=0.0):
    """``(I(V:E), I(H:E), I(V:E|H))`` from the joint covariance of ``(H, V, E)``."""
    S = np.linalg.inv(np.asarray(A, dtype=float))
    V, E = list(V), list(E)
    S_V, S_E, S_VE = S[np.ix_(V, V)], S[np.ix_(E, E)], S[np.ix_(V, E)]
    joint_VE = np.block([[S_V, S_VE], [S_VE.T, S_E]])
    I_VE = 0.5 * (_ld(S_V) + _ld(S_E) - _ld(joint_VE))
    if W is None:
        return I_VE, None, None
    W = np.atleast_2d(np.asarray(W, dtype=float))
    k = W.shape[0]
    S_H = W @ S_V @ W.T + s2 * np.eye(k)  # Cov(H, H)
    S_HV = W @ S_V  # Cov(H, V)
    S_HE = W @ S_VE  # Cov(H, E)
    joint_HE = np.block([[S_H, S_HE], [S_HE.T, S_E]])
    I_HE = 0.5 * (_ld(S_H) + _ld(S_E) - _ld(joint_HE))
    if s2 == 0:
        # H is a function of V: the chain rule I(V:E) = I(H:E) + I(V:E|H) is all there is
        return I_VE, I_HE, I_VE - I_HE
    joint_HV = np.block([[S_H, S_HV], [S_HV.T, S_V]])
    joint_HVE = np.block([[S_H, S_HV, S_HE], [S_HV.T, S_V, S_VE], [S_HE.T, S_VE.T, S_E]])
    # I(V:E | H) = 1/2 log det Σ_HV det Σ_HE / (det Σ_H det Σ_HVE)
    I_VE_H = 0.5 * (_ld(joint_HV) + _ld(joint_HE) - _ld(S_H) - _ld(joint_HVE))
    return I_VE, I_HE, I_VE_H


def ring_environment(n, block, buffer):
    """Sites of a ring farther than ``buffer`` from the block (min-image distance)."""
    return [i for i in range(n) if min(min(abs(i - j), n - abs(i - j)) for j in block) > buffer]


def laplacian_free_field(lx, ly, m, periodic):
    """``-Δ + m^2`` on an ``lx x ly`` grid (``ly = 1``: a chain), written out directly."""
    n = lx * ly
    A = np.eye(n) * m**2
    for x, y in itertools.product(range(lx), range(ly)):
        i = x + lx * y
        for dx, dy, L in ((1, 0, lx), (0, 1, ly)):
            if L == 1:
                continue
            for s in (1, -1):
                xx, yy = x + s * dx, y + s * dy
                if periodic:
                    xx, yy = xx % lx, yy % ly
                elif not (0 <= xx < lx and 0 <= yy < ly):
                    continue
                A[i, i] += 1
                A[i, xx + lx * yy] -= 1
    return A


# --------------------------------------------------------------------------------------
# constructors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lx, ly, periodic", [(7, 1, True), (7, 1, False), (4, 4, True), (3, 5, False), (2, 3, True)])
def test_free_field_is_the_lattice_laplacian_plus_mass(lx, ly, periodic):
    m = 0.7
    fld = chain_field(lx, m, periodic) if ly == 1 else square_field(lx, m, ly, periodic)
    assert np.max(np.abs(fld.precision - laplacian_free_field(lx, ly, m, periodic))) < 1e-14
    assert not fld.precision.flags.writeable


def test_ring_spectrum_is_m2_plus_2_minus_2cos():
    n, m = 9, 0.4
    ev = np.sort(np.linalg.eigvalsh(chain_field(n, m).precision))
    expected = np.sort([m**2 + 2 - 2 * np.cos(2 * np.pi * k / n) for k in range(n)])
    assert np.max(np.abs(ev - expected)) < 1e-12


def test_symbolic_mass_gives_a_symbolic_field():
    m = sp.Symbol("m", positive=True)
    fld = chain_field(3, m)
    assert fld.is_symbolic and fld.symbols == (m,)
    assert fld.precision == sp.ImmutableMatrix([[2 + m**2, -1, -1], [-1, 2 + m**2, -1], [-1, -1, 2 + m**2]])
    assert np.max(np.abs(fld.numeric_precision({"m": 0.5}) - laplacian_free_field(3, 1, 0.5, True))) < 1e-14


def test_triangular_lattice_field_has_six_neighbours():
    fld = free_field(triangular(4), 1)
    assert np.all(np.diag(fld.precision) == 7.0)
    assert all(len(nb) == 6 for nb in fld.neighbours())


# --------------------------------------------------------------------------------------
# mutual information against the dense reference
# --------------------------------------------------------------------------------------

CASES = [
    # (n, mass, periodic, block, buffer)
    (12, 0.3, True, [0, 1], 1),
    (12, 0.3, True, [11, 0, 1], 2),
    (10, 0.5, False, [4, 5], 1),
    (10, 0.5, False, [0, 1, 2], 0),
    (40, 0.05, True, [0, 1, 2, 3], 3),
]


@pytest.mark.parametrize("n, m, periodic, block, buffer", CASES)
def test_chain_information_matches_the_dense_covariance(n, m, periodic, block, buffer):
    fld = chain_field(n, m, periodic)
    A = laplacian_free_field(n, 1, m, periodic)
    E = ring_environment(n, block, buffer) if periodic else [i for i in range(n) if min(abs(i - j) for j in block) > buffer]
    rng = np.random.default_rng(n + buffer)
    for k, s2 in [(1, 0.0), (1, 0.2), (2, 0.0), (2, 1.5), (len(block), 0.0)]:
        W = rng.normal(size=(k, len(block)))
        res = gaussian_information(fld, block, linear_rule(W, s2), buffer=buffer)
        assert res.environment == tuple(E) and res.block == tuple(block)
        I_VE, I_HE, I_VE_H = reference(A, block, E, W, s2)
        assert abs(res.block_information - I_VE) < 1e-10
        assert abs(res.information - I_HE) < 1e-10
        assert abs(res.loss - I_VE_H) < 1e-10
        assert I_VE > 1e-8 and I_HE > 1e-10


def test_square_lattice_information_with_a_square_annulus_and_a_graph_buffer():
    lx, m = 6, 0.35
    fld = square_field(lx, m)
    A = laplacian_free_field(lx, lx, m, True)
    block = [(0, 0), (1, 0), (0, 1), (1, 1)]
    V = [x + lx * y for x, y in block]

    def ring_d(a, b):
        d = abs(a - b) % lx
        return min(d, lx - d)

    # the square annulus of Lenggenhager et al. (Chebyshev distance > 1), given explicitly
    annulus = [x + lx * y for x, y in itertools.product(range(lx), repeat=2)
               if min(max(ring_d(x, bx), ring_d(y, by)) for bx, by in block) > 1]
    # the default buffer: graph distance in the lattice (Manhattan, min image) > 1
    diamond = [x + lx * y for x, y in itertools.product(range(lx), repeat=2)
               if min(ring_d(x, bx) + ring_d(y, by) for bx, by in block) > 1]
    rng = np.random.default_rng(5)
    for env, kwargs in [(annulus, {"environment": [(i % lx, i // lx) for i in annulus]}), (diamond, {"buffer": 1})]:
        for k, s2 in [(1, 0.0), (1, 0.3), (3, 0.1)]:
            W = rng.normal(size=(k, 4))
            res = gaussian_information(fld, block, W if s2 == 0 else linear_rule(W, s2), **kwargs)
            assert res.environment == tuple(sorted(env))
            ref = reference(A, V, env, W, s2)
            assert abs(res.block_information - ref[0]) < 1e-10
            assert abs(res.information - ref[1]) < 1e-10
            assert abs(res.loss - ref[2]) < 1e-10
    assert len(annulus) < len(diamond)


def test_general_precision_matrix_with_an_explicit_environment():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(9, 9))
    A = X @ X.T + 0.5 * np.eye(9)
    fld = gaussian_field(A)
    block, env = [3, 1], [0, 5, 8]
    W = rng.normal(size=(1, 2))
    res = gaussian_information(fld, block, linear_rule(W, 0.05), environment=env)
    assert res.buffer == (2, 4, 6, 7)
    ref = reference(A, block, env, W, 0.05)
    assert max(abs(res.block_information - ref[0]), abs(res.information - ref[1]), abs(res.loss - ref[2])) < 1e-10


def test_data_processing_across_random_rules():
    fld = chain_field(20, 0.2)
    rng = np.random.default_rng(3)
    for _ in range(100):
        b = int(rng.integers(1, 5))
        k = int(rng.integers(1, b + 1))
        s2 = float(rng.choice([0.0, rng.exponential()]))
        res = gaussian_information(fld, list(range(b)), linear_rule(rng.normal(size=(k, b)), s2), buffer=int(rng.integers(0, 4)))
        assert res.block_information >= res.information - 1e-13
        assert res.information >= -1e-13
    # noise only destroys information, and a full-rank noise-free rule keeps all of it
    W = rng.normal(size=(1, 3))
    infos = [gaussian_information(fld, [0, 1, 2], linear_rule(W, s2), buffer=1).information for s2 in (0, 0.1, 1, 10)]
    assert all(a > b for a, b in zip(infos, infos[1:]))
    full = gaussian_information(fld, [0, 1, 2], rng.normal(size=(3, 3)), buffer=1)
    assert abs(full.information - full.block_information) < 1e-12


def test_nothing_beyond_the_buffer_means_no_information():
    res = gaussian_information(chain_field(5, 1.0), [0], [1], buffer=2)
    assert res.environment == () and res.block_information == 0.0 and res.information == 0.0


def test_information_decays_with_the_buffer_like_the_correlation_length():
    """On a long ring I(V:E) for one site falls as exp(-2 d / xi), cosh(1/xi) = 1 + m^2 / 2."""
    m = 0.5
    fld = chain_field(120, m)
    xi = 1 / np.arccosh(1 + m**2 / 2)
    infos = [gaussian_information(fld, [0], buffer=d).block_information for d in range(2, 12)]
    rates = [np.log(a / b) for a, b in zip(infos, infos[1:])]
    assert abs(rates[-1] - 2 / xi) < 1e-6


# --------------------------------------------------------------------------------------
# symbolic route
# --------------------------------------------------------------------------------------


def test_symbolic_information_equals_numeric_and_the_reference():
    m = sp.Symbol("m", positive=True)
    a, b = sp.symbols("a b", real=True)
    s = sp.Symbol("s", positive=True)
    cases = [
        (chain_field(3, m), [0], 0, [a], s),
        (chain_field(4, m, periodic=False), [0, 1], 1, [a, b], s),
        (chain_field(5, m), [0, 1], 1, [[a, b]], 0),
        (square_field(2, m, 3, periodic=False), [(0, 0), (1, 0)], 1, [[1, b]], s),
    ]
    for fld, block, buffer, W, noise in cases:
        res = gaussian_information(fld, block, linear_rule(W, noise), buffer=buffer)
        assert res.is_symbolic and isinstance(res.block_information, sp.Expr)
        for mv, av, bv, sv in [(0.3, 1.0, 0.5, 0.1), (1.7, -0.4, 2.0, 2.5), (0.05, 0.9, -0.9, 0.01)]:
            vals = {m: mv, a: av, b: bv, s: sv}
            num = res.evaluate(vals)
            direct = gaussian_information(fld, block, linear_rule(W, noise), buffer=buffer, values={"m": mv, "a": av, "b": bv, "s": sv})
            Wn = np.array(sp.Matrix(np.atleast_2d(np.array(W, dtype=object))).xreplace(vals).tolist(), dtype=float)
            s2 = float(sp.sympify(noise).xreplace(vals))
            ref = reference(fld.numeric_precision({m: mv}), res.block, res.environment, Wn, s2)
            for x, y, r in zip((num.block_information, num.information, num.loss),
                               (direct.block_information, direct.information, direct.loss), ref):
                assert abs(x - y) < 1e-12 and abs(x - r) < 1e-10
    # numeric field, symbolic rule: the symbolic route too
    res = gaussian_information(chain_field(6, 0.5), [0, 1], [1, b], buffer=1)
    assert res.information.free_symbols == {b}


def test_symbolic_closed_form_of_two_sites():
    """Two sites with precision [[1 + m^2, -1], [-1, 1 + m^2]]: I = -1/2 log(1 - rho^2), rho = 1/(1 + m^2)."""
    m = sp.Symbol("m", positive=True)
    res = gaussian_information(chain_field(2, m, periodic=False), [0])
    rho = 1 / (1 + m**2)
    assert sp.simplify(sp.exp(2 * res.block_information) - 1 / (1 - rho**2)) == 0
    s = sp.Symbol("s", positive=True)
    res = gaussian_information(chain_field(2, m, periodic=False), [0], linear_rule([1], s))
    # H = x_0 + noise: rho_H^2 = rho^2 var(x_0) / (var(x_0) + s)
    var = (1 + m**2) / ((1 + m**2) ** 2 - 1)
    rhoH2 = rho**2 * var / (var + s)
    assert sp.simplify(sp.exp(2 * res.information) - 1 / (1 - rhoH2)) == 0


# --------------------------------------------------------------------------------------
# optimal filter
# --------------------------------------------------------------------------------------


def _pencil(A, V, E, s2):
    S = np.linalg.inv(A)
    S_V, S_E, S_VE = S[np.ix_(V, V)], S[np.ix_(E, E)], S[np.ix_(V, E)]
    S_VgE = S_V - S_VE @ np.linalg.solve(S_E, S_VE.T)
    n = len(V)
    return S_V + s2 * np.eye(n), S_VgE + s2 * np.eye(n)


def _rayleigh(C, D, u):
    return 0.5 * np.log((u @ C @ u) / (u @ D @ u))


def _best_in_plane(C, D):
    """Maximize over unit 2-vectors: a scan of 2001 angles refined by golden section."""
    th = np.linspace(0, np.pi, 2001)
    U = np.stack([np.cos(th), np.sin(th)], axis=1)
    f = 0.5 * np.log(np.einsum("ij,jk,ik->i", U, C, U) / np.einsum("ij,jk,ik->i", U, D, U))
    i = int(np.argmax(f))
    lo, hi = th[i] - np.pi / 2000, th[i] + np.pi / 2000
    for _ in range(60):  # golden section
        a = hi - (hi - lo) / 1.618033988749895
        b = lo + (hi - lo) / 1.618033988749895
        fa = _rayleigh(C, D, np.array([np.cos(a), np.sin(a)]))
        fb = _rayleigh(C, D, np.array([np.cos(b), np.sin(b)]))
        lo, hi = (lo, b) if fa > fb else (a, hi)
    t = (lo + hi) / 2
    return np.array([np.cos(t), np.sin(t)])


def _brute_force(C, D, seed=0, sweeps=200):
    """Maximize 1/2 log(u C u / u D u) on the unit sphere: an angle scan in 2D; in more
    dimensions, repeated scans over the plane of ``u`` and a random direction."""
    n = C.shape[0]
    if n == 2:
        return _best_in_plane(C, D)
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    u /= np.linalg.norm(u)
    for _ in range(sweeps):
        r = rng.normal(size=n)
        r -= (r @ u) * u
        P = np.stack([u, r / np.linalg.norm(r)], axis=1)
        u = P @ _best_in_plane(P.T @ C @ P, P.T @ D @ P)
        u /= np.linalg.norm(u)
    return u


@pytest.mark.parametrize("make, block, buffer", [
    (lambda: chain_field(16, 0.3), [0, 1], 1),
    (lambda: chain_field(12, 0.6, periodic=False), [2, 3], 0),
    (lambda: chain_field(16, 0.2), [0, 1, 2], 1),
    (lambda: chain_field(11, 0.4, periodic=False), [0, 1, 2, 3], 1),
    (lambda: square_field(5, 0.5, periodic=False), [(1, 1), (2, 1), (1, 2)], 1),
], ids=["ring-2", "open-2", "ring-3", "open-edge-4", "square-3"])
@pytest.mark.parametrize("s2", [0.0, 0.05, 1.0])
def test_optimal_filter_beats_random_rules_and_matches_brute_force(make, block, buffer, s2):
    fld = make()
    best = optimal_linear_filter(fld, block, buffer=buffer, noise=s2)
    A = np.array(fld.precision)
    V, E = list(best.block), list(best.environment)
    C, D = _pencil(A, V, E, s2)
    u = best.weights[0]
    assert abs(np.linalg.norm(u) - 1) < 1e-12
    # its information, by the reference route, is the one reported
    ref = reference(A, V, E, best.weights, s2)
    assert abs(best.information - ref[1]) < 1e-10 and abs(best.block_information - ref[0]) < 1e-10
    # beats 200 random unit-norm rules
    rng = np.random.default_rng(17)
    for _ in range(200):
        w = rng.normal(size=len(V))
        w /= np.linalg.norm(w)
        assert reference(A, V, E, w, s2)[1] <= best.information + 1e-12
    # matches a brute-force maximization of the Rayleigh quotient
    ub = _brute_force(C, D)
    assert abs(_rayleigh(C, D, ub) - best.information) < 1e-10
    assert min(np.linalg.norm(ub - u), np.linalg.norm(ub + u)) < 1e-4


def test_noise_free_eigenvalues_are_the_canonical_correlations():
    fld = chain_field(30, 0.25)
    block = [0, 1, 2]
    best = optimal_linear_filter(fld, block, buffer=1)
    S = np.linalg.inv(np.array(fld.precision))
    V, E = list(best.block), list(best.environment)

    def inv_sqrt(M):
        w, U = np.linalg.eigh(M)
        return U @ np.diag(w**-0.5) @ U.T

    rho = np.linalg.svd(inv_sqrt(S[np.ix_(V, V)]) @ S[np.ix_(V, E)] @ inv_sqrt(S[np.ix_(E, E)]), compute_uv=False)[:3]
    assert np.max(np.abs(best.eigenvalues - 1 / (1 - rho**2))) < 1e-9
    assert abs(best.block_information - (-0.5 * np.sum(np.log(1 - rho**2)))) < 1e-10
    # the block average is the first canonical variate here only by symmetry: check it is not assumed
    assert abs(best.weights[0, 0] - best.weights[0, 2]) < 1e-10
    full = optimal_linear_filter(fld, block, buffer=1, num_coarse=3)
    assert abs(full.information - full.block_information) < 1e-12


def test_several_coarse_variables_beat_random_orthonormal_rules():
    fld = square_field(6, 0.3)
    block = [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    for s2 in (0.0, 0.4):
        best = optimal_linear_filter(fld, block, buffer=1, noise=s2, num_coarse=2)
        W = best.weights
        assert np.max(np.abs(W @ W.T - np.eye(2))) < 1e-12
        A = np.array(fld.precision)
        V, E = list(best.block), list(best.environment)
        assert abs(reference(A, V, E, W, s2)[1] - best.information) < 1e-10
        rng = np.random.default_rng(2)
        for _ in range(200):
            Q, _ = np.linalg.qr(rng.normal(size=(6, 2)))
            assert reference(A, V, E, Q.T, s2)[1] <= best.information + 1e-12
        assert best.information < best.block_information
        one = optimal_linear_filter(fld, block, buffer=1, noise=s2)
        assert one.information < best.information


def test_optimal_filter_of_a_symbolic_field_needs_values():
    m = sp.Symbol("m", positive=True)
    fld = chain_field(6, m)
    best = optimal_linear_filter(fld, [0, 1], buffer=1, values={m: 0.4})
    same = optimal_linear_filter(chain_field(6, 0.4), [0, 1], buffer=1)
    assert np.max(np.abs(best.weights - same.weights)) < 1e-12
    with pytest.raises(ModelError, match="no value for m"):
        optimal_linear_filter(fld, [0, 1], buffer=1)


def test_generalized_eigh_against_numpy_eig():
    rng = np.random.default_rng(9)
    X, Y = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    a, b = X + X.T, Y @ Y.T + np.eye(5)
    w, U = generalized_eigh(a, b)
    ref = np.sort(np.linalg.eigvals(np.linalg.solve(b, a)).real)[::-1]
    assert np.max(np.abs(w - ref)) < 1e-10
    assert np.max(np.abs(a @ U - b @ U @ np.diag(w))) < 1e-10
    assert np.max(np.abs(U.T @ b @ U - np.eye(5))) < 1e-10


# --------------------------------------------------------------------------------------
# results and bad input
# --------------------------------------------------------------------------------------


def test_results_are_immutable_values_that_display():
    fld = chain_field(8, 0.5)
    res = gaussian_information(fld, [0, 1], linear_rule([1, 1], 0.1), buffer=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.information = 0.0
    assert res == gaussian_information(chain_field(8, 0.5), [0, 1], linear_rule([1, 1], 0.1), buffer=1)
    assert "I(H:E) = " in str(res) and "I(V:E|H)" in res.text()
    assert res.latex().startswith(r"\begin{aligned}I(V{:}E) &=")
    best = optimal_linear_filter(fld, [0, 1], buffer=1)
    with pytest.raises(ValueError):
        best.weights[0, 0] = 1.0
    assert "Λ = [0.707107, 0.707107]" in best.text() and r"\Lambda^{*}" in best.latex()
    assert hash(best) == hash(optimal_linear_filter(fld, [0, 1], buffer=1))
    assert best.rule.weights.shape == (1, 2)
    m = sp.Symbol("m", positive=True)
    sym = gaussian_information(chain_field(3, m), [0])
    assert isinstance(sym, GaussianInformation) and "log" in sym.text() and r"\log" in sym.latex()
    with pytest.raises(ModelError, match="no rule"):
        _ = sym.loss
    assert "symbolic in m" in chain_field(3, m).text()


def test_bad_input_gives_clear_errors():
    fld = chain_field(8, 0.5)
    with pytest.raises(ModelError, match="not positive definite"):
        gaussian_field([[1, 2], [2, 1]])
    with pytest.raises(ModelError, match="not positive definite"):
        chain_field(6, 0)  # the massless ring: a zero mode
    with pytest.raises(ModelError, match="symmetric"):
        gaussian_field([[2, 1], [0, 2]])
    with pytest.raises(ModelError, match="square"):
        gaussian_field([[2, 1, 0], [1, 2, 0]])
    with pytest.raises(ModelError, match="not positive definite for any value"):
        gaussian_field(sp.Matrix([[-1 - sp.Symbol("m", real=True) ** 2, 0], [0, 1]]))
    with pytest.raises(ModelError, match="3 weights per coarse variable but the block has 2 sites"):
        gaussian_information(fld, [0, 1], [[1, 2, 3]])
    with pytest.raises(ModelError, match=r"site 8 is not in the field: its sites are 0 \.\. 7"):
        gaussian_information(fld, [7, 8])
    with pytest.raises(ModelError, match=r"site \(4, 0\) is not in Lattice\(square, 4x4 periodic\)"):
        gaussian_information(square_field(4, 1), [(3, 0), (4, 0)])
    with pytest.raises(ModelError, match="no lattice"):
        gaussian_information(gaussian_field(np.eye(3) * 2), [(0,)])
    with pytest.raises(ModelError, match="twice"):
        gaussian_information(fld, [1, 1])
    with pytest.raises(ModelError, match="non-empty"):
        gaussian_information(fld, [])
    with pytest.raises(ModelError, match="shares the sites"):
        gaussian_information(fld, [0, 1], environment=[1, 5])
    with pytest.raises(ModelError, match="buffer width"):
        gaussian_information(fld, [0], buffer=-1)
    with pytest.raises(ModelError, match="non-negative"):
        linear_rule([1, 1], noise=-0.1)
    with pytest.raises(ModelError, match="num_coarse"):
        optimal_linear_filter(fld, [0, 1], num_coarse=3)
    with pytest.raises(ModelError, match="noise"):
        optimal_linear_filter(fld, [0, 1], noise=-1)
    with pytest.raises(ConditionError, match="dependent rows"):
        gaussian_information(fld, [0, 1], [[1, 1], [2, 2]])
    m = sp.Symbol("m", real=True)
    with pytest.raises(ConditionError, match="not positive definite"):
        gaussian_information(gaussian_field(sp.Matrix([[m, 0], [0, 1]])), [0], values={m: -1})
    with pytest.raises(ModelError, match="no value for m"):
        gaussian_information(chain_field(4, m), [0], values={})
    with pytest.raises(ModelError, match="value of m must be a number"):
        gaussian_information(chain_field(4, m), [0], values={"m": "heavy"})
    with pytest.raises(BudgetError, match="MAX_SYMBOLIC_SITES"):
        chain_field(MAX_SYMBOLIC_SITES + 1, m)
    with pytest.raises(ModelError, match="finite Lattice"):
        free_field(chain(), 1)
    with pytest.raises(ModelError, match="GaussianField"):
        gaussian_information(np.eye(3), [0])
    assert issubclass(ModelError, SymrgError) and square(2).num_sites == 4
