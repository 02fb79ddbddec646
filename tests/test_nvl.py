"""Niemeijer-van Leeuwen cumulant RG on the triangular lattice, against patch enumeration.

The brute force here builds the triangular lattice and the sqrt3 x sqrt3 up-triangle blocks
from cartesian vectors, finds bonds by distance, and computes the cumulants of the
inter-block terms by enumerating every configuration of patches of two or three blocks.
It shares no code with the engine.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from symrg.rg.cluster_expansion import cumulant_rg
from symrg.rg.lattice import ising_model, triangular, triangular_blocks

A1 = np.array([1.0, 0.0])
A2 = np.array([0.5, math.sqrt(3) / 2])
S1, S2 = A1 + A2, -A1 + 2 * A2
BLOCKS = {(m, n): [m * S1 + n * S2 + o for o in (0 * A1, A1, A2)] for m in range(-3, 4) for n in range(-3, 4)}
RANGE = {1.0: "K", math.sqrt(3): "L", 2.0: "M"}
B = math.sqrt(3)


def _bonds(b1, b2):
    """Fine bonds between two blocks by type: {"K": [(i, j)], ...} (site positions in the blocks)."""
    out = {"K": [], "L": [], "M": []}
    for i, p in enumerate(BLOCKS[b1]):
        for j, q in enumerate(BLOCKS[b2]):
            d = np.linalg.norm(p - q)
            for r, name in RANGE.items():
                if abs(d - r) < 1e-9:
                    out[name].append((i, j))
    return out


def _origin_distance(D):
    return float(np.linalg.norm(BLOCKS[D][0] - BLOCKS[(0, 0)][0]))


def _nn_blocks(b):
    return [c for c in BLOCKS if c != b and _bonds(b, c)["K"]]


# one representative block per coarse shell (block origins at sqrt3, 3, 2 sqrt3)
TARGETS = {}
for _D in BLOCKS:
    for _k, _r in ((1, B), (2, 3.0), (3, 2 * B)):
        if abs(_origin_distance(_D) - _r) < 1e-9 and _k not in TARGETS:
            TARGETS[_k] = _D


def _patch(blocks, K, couplings):
    """Per coarse configuration: log sum_x prod p(h|x) e^{K_0}, kappa_1, kappa_2 of V.

    ``couplings`` maps a bond type or "h" to its value in V (missing: not in V).
    Returns arrays over coarse configurations (bit j = h of blocks[j]) and the h table.
    """
    nb = len(blocks)
    n = 3 * nb
    xs = np.array(list(itertools.product((-1, 1), repeat=n)), dtype=float)
    intra = np.zeros(len(xs))
    V = np.zeros(len(xs))
    for j in range(nb):
        s = xs[:, 3 * j : 3 * j + 3]
        intra += K * (s[:, 0] * s[:, 1] + s[:, 1] * s[:, 2] + s[:, 0] * s[:, 2])
        if "h" in couplings:
            V += couplings["h"] * s.sum(axis=1)
    for a, c in itertools.combinations(range(nb), 2):
        for name, pairs in _bonds(blocks[a], blocks[c]).items():
            if name in couplings:
                for i, j in pairs:
                    V += couplings[name] * xs[:, 3 * a + i] * xs[:, 3 * c + j]
    maj = [np.sign(xs[:, 3 * j : 3 * j + 3].sum(axis=1)) for j in range(nb)]
    logz, k1, k2 = (np.zeros(1 << nb) for _ in range(3))
    for hk in range(1 << nb):
        ok = np.ones(len(xs), dtype=bool)
        for j in range(nb):
            ok &= maj[j] == (1 if (hk >> j) & 1 else -1)
        w = np.exp(intra) * ok
        logz[hk] = math.log(w.sum())
        q = w / w.sum()
        k1[hk] = (q * V).sum()
        k2[hk] = (q * V**2).sum() - k1[hk] ** 2
    hs = 2 * ((np.arange(1 << nb)[:, None] >> np.arange(nb)) & 1) - 1
    return logz, k1, k2, hs


def _coef(values, hs, which):
    return float((values * np.prod(hs[:, which], axis=1)).mean())


def bf_map(K, L, M):
    """(K', L', M') at second order in the NvL counting, by patch enumeration."""
    out = []
    for shell in (1, 2, 3):
        D = TARGETS[shell]
        _, k1, _, hs = _patch([(0, 0), D], K, {"K": K, "L": L, "M": M})
        val = _coef(k1, hs, [0, 1])
        common = [I for I in _nn_blocks((0, 0)) if I != D and _bonds(I, D)["K"]]
        for I in common:
            _, _, k2, hs3 = _patch([(0, 0), I, D], K, {"K": K})
            val += _coef(k2, hs3, [0, 2]) / 2
        out.append(val)
    return tuple(out)


def bf_field_ratio(K, second_order=True):
    """h'/h (linear in h) at first or second order, by patch enumeration."""
    _, k1, _, hs = _patch([(0, 0)], K, {"h": 1.0})
    val = _coef(k1, hs, [0])
    if second_order:
        for J in _nn_blocks((0, 0)):
            # cov(V_K, V_h) = (kappa_2(V_K + V_h) - kappa_2(V_K) - kappa_2(V_h)) / 2; with the 1/2! it counts once
            _, _, a, hs2 = _patch([(0, 0), J], K, {"K": K, "h": 1.0})
            _, _, b, _ = _patch([(0, 0), J], K, {"K": K})
            _, _, c, _ = _patch([(0, 0), J], K, {"h": 1.0})
            val += _coef((a - b - c) / 2, hs2, [0])
    return val


def bf_first_order_mp(K):
    """K' at first order in mpmath: the two bonds joining nearest blocks times E[x|h]^2."""
    num = mpmath.exp(3 * K) + mpmath.exp(-K)  # sum over blocks with majority + of x_a e^{K_0}
    den = mpmath.exp(3 * K) + 3 * mpmath.exp(-K)
    n_bonds = len(_bonds((0, 0), TARGETS[1])["K"])
    return n_bonds * K * (num / den) ** 2, 3 * num / den


# -- engine results ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def first():
    lat = triangular()
    model = ising_model(lat, {"K": 1, "h": "field"})
    return model, cumulant_rg(model, triangular_blocks(lat), "majority", 1)


@pytest.fixture(scope="module")
def second():
    lat = triangular()
    model = ising_model(lat, {"K": 1, "L": 2, "M": 3, "h": "field"})
    K, L, M, h = model.couplings
    return model, cumulant_rg(model, triangular_blocks(lat), "majority", 2, counting={K: 1, h: 1, L: 2, M: 2})


def test_geometry_of_the_brute_force():
    assert [len(_bonds((0, 0), TARGETS[1])[n]) for n in "KLM"] == [2, 3, 2]
    assert len(_nn_blocks((0, 0))) == 6


def test_first_order_symbolic(first):
    model, res = first
    K, h = model.couplings
    phi = (sp.exp(3 * K) + sp.exp(-K)) / (sp.exp(3 * K) + 3 * sp.exp(-K))
    assert sp.simplify(res.images[K] - 2 * K * phi**2) == 0
    assert sp.simplify(res.images[h] - 3 * phi * h) == 0
    assert res.blocks.scale_factor == sp.sqrt(3)


def test_first_order_fixed_point_and_exponents(first):
    model, res = first
    K, h = model.couplings
    (fp,) = res.recursion_map.fixed_points(seeds=[(0.3, 0.0)])
    with mpmath.workdps(30):
        Kstar = mpmath.log(1 + 2 * mpmath.sqrt(2)) / 4
        assert abs(mpmath.mpf(sp.N(fp.values[0], 30)) - Kstar) < 1e-25
        # independent: the brute-force map is stationary at K*, slope by numerical differentiation
        Kp, _ = bf_first_order_mp(Kstar)
        assert abs(Kp - Kstar) < 1e-25
        lam_t = mpmath.diff(lambda k: bf_first_order_mp(k)[0], Kstar)
        lam_h = bf_first_order_mp(Kstar)[1]
        yt = mpmath.log(lam_t) / mpmath.log(mpmath.sqrt(3))
        yh = mpmath.log(lam_h) / mpmath.log(mpmath.sqrt(3))
    ys = dict(zip(("t", "h"), sorted(fp.rg_eigenvalues, key=lambda y: float(y))))
    assert abs(float(ys["t"]) - float(yt)) < 1e-12
    assert abs(float(ys["h"]) - float(yh)) < 1e-12
    assert abs(1 / float(ys["t"]) - 1.133526412114) < 1e-11  # nu printed by the derivation
    # the numpy patch enumeration agrees too
    k_bf = bf_first_order_mp(0.4)[0]
    _, k1, _, hs = _patch([(0, 0), TARGETS[1]], 0.4, {"K": 0.4})
    assert abs(_coef(k1, hs, [0, 1]) - float(k_bf)) < 1e-14
    assert abs(bf_field_ratio(0.4, second_order=False) - float(bf_first_order_mp(0.4)[1])) < 1e-14


def test_field_in_h0_gives_unphysical_yh():
    lat = triangular()
    model = ising_model(lat, {"K": 1, "h": "field"})
    K, h = model.couplings
    res = cumulant_rg(model, triangular_blocks(lat), "majority", 1, perturb_fields=False)
    (fp,) = res.recursion_map.fixed_points(seeds=[(0.3, 0.0)])
    yh = max(float(y) for y in fp.rg_eigenvalues)
    assert yh > 2  # above the dimension: docs/block_rg.md


def test_second_order_images_match_patch_enumeration(second):
    model, res = second
    K, L, M, h = model.couplings
    f = sp.lambdify((K, L, M), [res.images[c].subs(h, 0) for c in (K, L, M)])
    rng = np.random.default_rng(5)
    for _ in range(3):
        k, l_, m = rng.uniform(0.1, 0.5), rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)
        assert np.allclose(f(k, l_, m), bf_map(k, l_, m), atol=1e-13, rtol=0)
    fh = sp.lambdify(K, sp.diff(res.images[h], h))
    assert abs(fh(0.3) - bf_field_ratio(0.3)) < 1e-13


def test_second_order_fixed_point_and_exponents(second):
    model, res = second
    K, L, M, h = model.couplings
    rmap = res.projected_map(couplings=(K, L, M))
    fps = rmap.fixed_points(seeds=[(0.28, -0.014, -0.015)])
    (fp,) = [f for f in fps if abs(float(f.values[0]) - 0.28) < 0.05]
    star = tuple(float(v) for v in fp.values)
    # the printed fixed point: K*, L*, M* (compare the literature 0.2789, -0.0143, -0.0152)
    assert np.allclose(star, (0.278869055025, -0.014247972479, -0.015231230705), atol=1e-11)
    assert np.allclose(bf_map(*star), star, atol=1e-12)
    # thermal eigenvalue against a finite-difference jacobian of the brute-force map
    eps = 1e-5
    J = np.zeros((3, 3))
    for c in range(3):
        up, dn = list(star), list(star)
        up[c] += eps
        dn[c] -= eps
        J[:, c] = (np.array(bf_map(*up)) - np.array(bf_map(*dn))) / (2 * eps)
    lam = max(np.linalg.eigvals(J).real)
    assert abs(float(fp.eigenvalues[0]) - lam) < 1e-7
    nu = float(fp.nu)
    assert abs(nu - math.log(B) / math.log(lam)) < 1e-6
    assert abs(nu - 0.959344779627) < 1e-10
    # magnetic eigenvalue: h'/h at the fixed point
    lam_h = float(sp.diff(res.images[h], h).subs(dict(zip((K, L, M), fp.values))))
    assert abs(lam_h - bf_field_ratio(star[0])) < 1e-12
    assert abs(math.log(lam_h) / math.log(B) - 1.845013402) < 1e-8


def test_counting_is_explicit_and_matters(second):
    model, res_nvl = second
    K, L, M, h = model.couplings
    res_all = cumulant_rg(model, triangular_blocks(model.lattice), "majority", 2)
    e = sp.expand(res_all.raw[K])
    assert e.coeff(K * L) != 0 and e.coeff(L**2) != 0  # products the NvL counting drops
    assert sp.expand(res_nvl.raw[K]).coeff(K * L) == 0
    assert dict(res_nvl.counting) == {K: 1, L: 2, M: 2, h: 1}
