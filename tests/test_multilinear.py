"""Tests of symrg.engine.multilinear against naive subset sums and direct evaluation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp

from symrg.engine.multilinear import (
    MAX_SYMBOLIC_UNITS,
    MAX_TRANSFORM_UNITS,
    configurations,
    couplings_by_order,
    energy_from_couplings,
    exact_couplings,
    inverse_walsh_transform,
    mask_to_subset,
    mobius_transform,
    subset_to_mask,
    symbolic_couplings,
    walsh_transform,
    zeta_transform,
)


def naive_mobius(H):
    c = np.zeros(len(H))
    for S in range(len(H)):
        for T in range(len(H)):
            if T & S == T:
                c[S] += (-1) ** (bin(S).count("1") - bin(T).count("1")) * H[T]
    return c


def naive_walsh(H):
    n = len(H).bit_length() - 1
    J = np.zeros(len(H))
    for S in range(len(H)):
        for k in range(len(H)):
            spins = [2 * ((k >> i) & 1) - 1 for i in range(n)]
            J[S] += H[k] * math.prod(spins[i] for i in range(n) if S >> i & 1)
    return J / len(H)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_transforms_match_naive_sums(n):
    rng = np.random.default_rng(n)
    H = rng.normal(size=1 << n)
    assert np.allclose(mobius_transform(H), naive_mobius(H), atol=1e-12, rtol=0)
    assert np.allclose(walsh_transform(H), naive_walsh(H), atol=1e-12, rtol=0)
    # inputs are not modified unless inplace
    H0 = H.copy()
    mobius_transform(H)
    walsh_transform(H)
    assert np.array_equal(H, H0)


def test_round_trips_and_inplace():
    rng = np.random.default_rng(7)
    H = rng.normal(size=1 << 12)
    assert np.allclose(zeta_transform(mobius_transform(H)), H, atol=1e-12, rtol=0)
    assert np.allclose(inverse_walsh_transform(walsh_transform(H)), H, atol=1e-12, rtol=0)
    assert np.allclose(energy_from_couplings(exact_couplings(H, "spin"), "spin"), H, atol=1e-12, rtol=0)
    a = H.copy()
    out = mobius_transform(a, inplace=True)
    assert out is a
    assert np.allclose(a, mobius_transform(H))
    with pytest.raises(ValueError, match="inplace"):
        mobius_transform([1.0, 2.0], inplace=True)


def test_known_polynomial_energies():
    # H(v) = 1 - 2 v0 + 3 v1 v2 + 0.5 v0 v1 v2 evaluated directly on configurations
    states = configurations(3).astype(float)
    v0, v1, v2 = states.T
    H = 1 - 2 * v0 + 3 * v1 * v2 + 0.5 * v0 * v1 * v2
    table = couplings_by_order(exact_couplings(H), tol=1e-12)
    assert table == {0: {(): 1.0}, 1: {(0,): -2.0}, 2: {(1, 2): 3.0}, 3: {(0, 1, 2): 0.5}}
    # spins: H(s) = 0.25 - s0 s2 + 2 s1
    s = configurations(3, "spin").astype(float)
    Hs = 0.25 - s[:, 0] * s[:, 2] + 2 * s[:, 1]
    table = couplings_by_order(exact_couplings(Hs, "spin"), tol=1e-12)
    assert table == {0: {(): 0.25}, 1: {(1,): 2.0}, 2: {(0, 2): -1.0}}


def test_callable_energy_rbm_against_truncated_series_limit():
    # one hidden spin summed out: H(s) = -log(2 cosh(b + w.s)); exact couplings via callable
    rng = np.random.default_rng(11)
    n = 5
    w = rng.normal(scale=0.3, size=n)
    bias = 0.2
    f = lambda st: -np.log(2 * np.cosh(bias + st @ w))  # noqa: E731
    J = exact_couplings(f, "spin", n=n)
    direct = np.array([f(np.array(cfg, dtype=float)[None, :])[0] for cfg in itertools.product((-1, 1), repeat=n)])
    # itertools.product varies the last unit fastest: reorder to the module's bit order
    order = [sum((1 << i) for i in range(n) if cfg[i] == 1) for cfg in itertools.product((-1, 1), repeat=n)]
    H = np.empty(1 << n)
    H[order] = direct
    assert np.allclose(J, naive_walsh(H), atol=1e-12, rtol=0)


def test_configurations_bit_order():
    st = configurations(10)
    k = 613
    assert [int(x) for x in st[k]] == [(k >> i) & 1 for i in range(10)]
    assert configurations(0).shape == (1, 0)
    sp_ = configurations(9, "spin")
    assert set(np.unique(sp_)) == {-1, 1}
    assert sp_.shape == (512, 9)


def test_mask_helpers():
    for subset in [(), (0,), (2, 5, 7), (0, 1, 2, 3)]:
        assert mask_to_subset(subset_to_mask(subset)) == subset
    assert subset_to_mask((3, 1)) == 0b1010
    with pytest.raises(ValueError, match="repeated"):
        subset_to_mask((1, 1))
    with pytest.raises(ValueError, match="non-negative"):
        mask_to_subset(-3)


def test_symbolic_rbm_pair_coupling_four_softplus():
    v1, v2, a1, a2, bb, w1, w2 = sp.symbols("v1 v2 a1 a2 b w1 w2")
    H = -a1 * v1 - a2 * v2 - sp.log(1 + sp.exp(bb + w1 * v1 + w2 * v2))
    c = symbolic_couplings(H, [v1, v2])
    sp_ = lambda x: math.log1p(math.exp(x))  # noqa: E731
    vals = {a1: 0.3, a2: -0.4, bb: 0.1, w1: 0.8, w2: -1.3}
    ref12 = -sp_(0.1 + 0.8 - 1.3) + sp_(0.1 + 0.8) + sp_(0.1 - 1.3) - sp_(0.1)
    assert abs(float(c[(0, 1)].subs(vals)) - ref12) < 1e-14
    assert abs(float(c[(0,)].subs(vals)) - (-0.3 - sp_(0.9) + sp_(0.1))) < 1e-14
    assert abs(float(c[()].subs(vals)) + sp_(0.1)) < 1e-14
    # numeric transform of the same energy agrees
    Hn = np.array([float(H.subs(vals).subs({v1: k & 1, v2: k >> 1 & 1})) for k in range(4)])
    cn = exact_couplings(Hn)
    assert all(abs(float(c[mask_to_subset(k)].subs(vals)) - cn[k]) < 1e-14 for k in range(4))


def test_symbolic_spin_couplings_exact():
    s = sp.symbols("s0:3")
    K, h = sp.symbols("K h")
    H = -K * (s[0] * s[1] + s[1] * s[2]) - h * s[2] + 3
    J = symbolic_couplings(H, s, "spin")
    assert J[(0, 1)] == -K and J[(1, 2)] == -K and J[(2,)] == -h and J[()] == 3
    assert J[(0, 2)] == 0 and J[(0, 1, 2)] == 0
    assert len(J) == 8


def test_bad_input_messages():
    with pytest.raises(ValueError, match=f"n=25 units is above the limit of {MAX_TRANSFORM_UNITS}"):
        configurations(25)
    with pytest.raises(ValueError, match=f"n=11 units is above the limit of {MAX_SYMBOLIC_UNITS}"):
        symbolic_couplings(sp.S.Zero, sp.symbols("x0:11"))
    with pytest.raises(ValueError, match="length 2\\*\\*n"):
        mobius_transform(np.ones(6))
    with pytest.raises(ValueError, match="Bernoulli or Spin"):
        exact_couplings(np.ones(4), (0, 1, 2))
    with pytest.raises(ValueError, match="required"):
        exact_couplings(lambda s: s.sum(axis=1))
    with pytest.raises(ValueError, match="unknown unit kind"):
        exact_couplings(np.ones(4), "potts")


def test_truncated_cumulant_series_converges_to_exact_couplings():
    # docs/cumulants.md: H(v) = -K(w.v) with K the CGF of a hidden Bernoulli unit of field b;
    # the couplings of the truncated cumulant series approach the exact Möbius couplings.
    from symrg.engine.cumulants import cumulants

    rng = np.random.default_rng(5)
    n = 4
    w = rng.normal(scale=0.35, size=n)
    bias = -0.3
    v = configurations(n).astype(float)
    t = v @ w
    exact = exact_couplings(-(np.logaddexp(0, bias + t) - np.logaddexp(0, bias)))
    ks = [float(k.subs(sp.Symbol("b"), bias)) for k in cumulants("bernoulli", 12)]
    errors = []
    for N in (2, 4, 8, 12):
        series = -sum(ks[j - 1] * t**j / math.factorial(j) for j in range(1, N + 1))
        errors.append(np.abs(exact_couplings(series) - exact).max())
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-7 < errors[0]
