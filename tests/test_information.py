"""Mutual informations of coarse-graining rules (symrg.rg.information) and the optimal rule
(symrg.rg.optimal_rule), against brute-force enumeration of the joint law written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from symrg.errors import BudgetError, ModelError
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.coarse import coarse_rule, decimation, majority, smooth
from symrg.rg.information import (
    CoarseGrainingInformation,
    chain_joint,
    coarse_graining_information,
    conditional_table,
    information_gradient,
    information_symbolic,
    joint_information,
    lattice_information,
    mutual_information_chain,
)
from symrg.rg.lattice import chain, chain_blocks, ising_model, square
from symrg.rg.optimal_rule import (
    hamiltonian_measures,
    optimal_rule,
    rbm_information,
    rbm_table,
    renormalized_measures,
    threshold_table,
)


# -- brute force: every spin configuration of a finite chain and every value of h ------------
def _spins(n):
    k = np.arange(1 << n)
    return 2 * ((k[:, None] >> np.arange(n)) & 1) - 1


def _mi(joint):
    """I(A:B) of a 2D joint table (any normalization)."""
    J = joint / joint.sum()
    ref = np.outer(J.sum(axis=1), J.sum(axis=0))
    nz = J > 0
    return float((J[nz] * np.log(J[nz] / ref[nz])).sum())


def _brute(K, h, N, periodic, start, b, buffer, Q):
    """(I(V:E), I(H:E), I(V:E|H)) with E = every site beyond the buffers (no Markov shortcut)."""
    x = _spins(N)
    bonds = (x[:, :-1] * x[:, 1:]).sum(axis=1) + (x[:, -1] * x[:, 0] if periodic else 0)
    w = np.exp(K * bonds + h * x.sum(axis=1))
    blk = [(start + i) % N for i in range(b)]
    buf = {(start - j) % N for j in range(1, buffer + 1)} | {(start + b - 1 + j) % N for j in range(1, buffer + 1)}
    if not periodic:
        buf = {s for s in range(N) if start - buffer <= s < start + b + buffer} - set(blk)
    env = [s for s in range(N) if s not in blk and s not in buf]
    bits = (x > 0).astype(int)
    v = bits[:, blk] @ (1 << np.arange(b))
    e = bits[:, env] @ (1 << np.arange(len(env)))
    P = np.zeros((1 << b, 1 << len(env)))
    np.add.at(P, (v, e), w)
    P /= P.sum()
    nh = Q.shape[1]
    PHE = np.stack([Q[:, j] @ P for j in range(nh)])          # p(h, e)
    # I(V:E|H) = sum_h p(h) I(V:E | H = h) from p(v, e, h)
    loss = 0.0
    for j in range(nh):
        Pj = P * Q[:, j][:, None]
        if Pj.sum() > 0:
            loss += Pj.sum() * _mi(Pj)
    return _mi(P), _mi(PHE), loss


RULES = [
    ("decimation", decimation(), 2),
    ("decimation site 1", decimation(1), 3),
    ("majority 3", majority(), 3),
    ("majority random tie", majority(tie="random"), 2),
    ("majority first", majority(tie="first"), 4),
    ("smooth", smooth([0.7, -0.4]), 2),
    ("table 3 values", np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.4, 0.0], [1.0, 0.0, 0.0]]), 2),
]


@pytest.mark.parametrize("name, rule, b", RULES, ids=[r[0] for r in RULES])
@pytest.mark.parametrize("buffer", [0, 1])
@pytest.mark.parametrize("periodic", [False, True])
def test_chain_against_brute_force(name, rule, b, buffer, periodic):
    K, h, N = 0.7, 0.25, 12
    Q = conditional_table(rule, b)
    start = 0 if periodic else 4
    got = coarse_graining_information(K, rule, b, buffer, h, N=N, periodic=periodic, position=start)
    ref = _brute(K, h, N, periodic, start, b, buffer, Q)
    assert max(abs(g - r) for g, r in zip((got.I_VE, got.I_HE, got.I_VE_given_H), ref)) < 1e-12


@pytest.mark.parametrize("position", [0, 1, 7, 10])
def test_open_chain_block_near_an_end(position):
    """Environment on one side only; the buffer is cut by the end."""
    K, h, N, b, buffer = 0.9, -0.3, 12, 2, 1
    Q = conditional_table(majority(tie="random"), b)
    got = coarse_graining_information(K, Q, b, buffer, h, N=N, position=position)
    ref = _brute(K, h, N, False, position, b, buffer, Q)
    assert max(abs(g - r) for g, r in zip((got.I_VE, got.I_HE, got.I_VE_given_H), ref)) < 1e-12


def test_ring_with_one_environment_site():
    Q = conditional_table(smooth([0.5, 1.5]), 2)
    got = coarse_graining_information(0.6, Q, 2, 1, 0.1, N=5, periodic=True)
    ref = _brute(0.6, 0.1, 5, True, 0, 2, 1, Q)
    assert max(abs(g - r) for g, r in zip((got.I_VE, got.I_HE, got.I_VE_given_H), ref)) < 1e-12


@pytest.mark.parametrize("K, h", [(0.5, 0.0), (1.2, 0.3)])
@pytest.mark.parametrize("buffer", [0, 2])
def test_infinite_chain_is_the_limit_of_long_chains(K, h, buffer):
    rule = majority()
    inf = coarse_graining_information(K, rule, 3, buffer, h)
    for periodic in (False, True):
        gaps = []
        for N in (11, 21, 41, 81, 201):
            fin = coarse_graining_information(K, rule, 3, buffer, h, N=N, periodic=periodic)
            gaps.append(abs(fin.I_HE - inf.I_HE) + abs(fin.I_VE - inf.I_VE))
        # the boundary's influence dies as (correlation)^distance: gone at N = 201
        assert gaps[-1] < 1e-12
        if h == 0 and not periodic:
            # zero field: the law of a path inside an open chain is that of the infinite chain
            assert max(gaps) < 1e-14
        else:
            assert gaps[0] > 1e-6 and gaps[0] > gaps[1] > gaps[2]


def test_encoding_loss_identity_and_inequalities_on_random_rules():
    """I(V:E) >= I(H:E) >= 0, I(V:E|H) = I(V:E) - I(H:E), and data processing, ~30 random rules."""
    rng = np.random.default_rng(15)
    for trial in range(30):
        b = int(rng.integers(1, 4))
        buffer = int(rng.integers(0, 3))
        K, h = float(rng.uniform(-1.5, 1.5)), float(rng.uniform(-0.5, 0.5))
        nh = int(rng.integers(2, 4))
        Q = rng.dirichlet(np.ones(nh) * 0.5, size=1 << b)
        if trial % 3 == 0:     # the smooth / RBM family
            Q = conditional_table(smooth(list(rng.normal(0, 2, b))), b)
            nh = 2
        N = None if trial % 2 else int(rng.integers(b + 2 * buffer + 2, 16))
        r = coarse_graining_information(K, Q, b, buffer, h, N=N, periodic=bool(trial % 4 == 0))
        assert r.I_VE >= r.I_HE >= 0
        assert abs(r.I_VE - r.I_HE - r.I_VE_given_H) < 1e-13
        # post-processing H -> H' (a random channel) loses information
        C = rng.dirichlet(np.ones(2), size=nh)
        r2 = coarse_graining_information(K, Q @ C, b, buffer, h, N=N, periodic=bool(trial % 4 == 0))
        assert r2.I_HE <= r.I_HE + 1e-15
        # a wider buffer: E is further from V along a Markov chain
        if N is None:
            r3 = coarse_graining_information(K, Q, b, buffer + 1, h)
            assert r3.I_HE <= r.I_HE + 1e-15 and r3.I_VE <= r.I_VE + 1e-15


def test_lossless_and_useless_rules():
    # b = 1 decimation keeps everything; a constant rule keeps nothing
    r = coarse_graining_information(0.8, "decimation", 1, 1, 0.2)
    assert abs(r.I_VE - r.I_HE) < 1e-15 and r.I_VE_given_H < 1e-15
    r = coarse_graining_information(0.8, np.full((4, 2), 0.5), 2, 1)
    assert r.I_HE < 1e-15 and abs(r.I_VE_given_H - r.I_VE) < 1e-15
    assert coarse_graining_information(0.0, "majority", 3).I_VE < 1e-15


def test_mutual_information_chain_is_kept():
    a = mutual_information_chain(0.8, "decimation", 2, buffer=1)
    assert a == coarse_graining_information(0.8, "decimation", 2, 1).I_HE
    ref = _brute(0.8, 0.0, 14, False, 6, 2, 1, conditional_table("decimation", 2))[1]
    assert abs(a - ref) < 1e-9      # 4 sites of environment per side: t^5 = 1e-2 residual correlations squared


def test_units_and_display():
    r = coarse_graining_information(0.5, "majority", 3)
    rb = r.to("bits")
    assert abs(rb.I_HE - r.I_HE / math.log(2)) < 1e-15 and rb.unit == "bits"
    assert abs(rb.to("nats").I_VE - r.I_VE) < 1e-15
    assert coarse_graining_information(0.5, "majority", 3, unit="bits") == rb
    assert isinstance(r, CoarseGrainingInformation) and "I(H:E)" in str(r) and "nats" in str(r)
    assert r"I(V:E \mid H)" in r.latex()
    with pytest.raises(ModelError, match="unknown unit"):
        r.to("hartley")
    with pytest.raises(Exception):
        r.I_VE = 0.0   # immutable


def test_table_validation():
    with pytest.raises(ModelError, match=r"expected shape \(4, n_h\)"):
        conditional_table(np.ones((3, 2)) / 2, 2)
    with pytest.raises(ModelError, match="negative"):
        conditional_table([[1.5, -0.5], [0.5, 0.5]], 1)
    with pytest.raises(ModelError, match="row 1 .* sums to 0.9"):
        conditional_table([[0.5, 0.5], [0.4, 0.5]], 1)
    with pytest.raises(ModelError, match="finite"):
        conditional_table([[np.nan, 1.0], [0.5, 0.5]], 1)
    with pytest.raises(ModelError, match="2D array of numbers"):
        conditional_table([["a", "b"], ["c", "d"]], 1)
    with pytest.raises(ModelError, match="can tie"):
        conditional_table("majority", 2)
    with pytest.raises(ModelError, match="need numeric values"):
        conditional_table(smooth(sp.Symbol("Lambda")), 2)
    assert conditional_table(smooth(sp.Symbol("Lambda")), 1, {"Lambda": 0.0}).tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_size_and_geometry_errors():
    with pytest.raises(ModelError, match="no environment"):
        coarse_graining_information(0.5, "decimation", 2, 2, N=6, periodic=True)
    with pytest.raises(ModelError, match="no environment"):
        coarse_graining_information(0.5, "decimation", 2, 3, N=8)
    with pytest.raises(ModelError, match="does not fit"):
        coarse_graining_information(0.5, "decimation", 2, 0, N=8, position=7)
    with pytest.raises(ModelError, match="buffer must be a non-negative integer"):
        coarse_graining_information(0.5, "decimation", 2, -1)
    with pytest.raises(ValueError, match="block must be a positive integer"):   # ModelError is a ValueError
        coarse_graining_information(0.5, "decimation", 0)
    with pytest.raises(BudgetError, match="MAX_INFO_BLOCK"):
        coarse_graining_information(0.5, "decimation", 15)
    with pytest.raises(BudgetError, match="MAX_INFO_SITES"):
        lattice_information(ising_model(square(5, 5), {"K": 1}), {"K": 0.1}, [0], "decimation")


# -- closed form ---------------------------------------------------------------------------
def test_symbolic_two_spin_decimation_without_buffer():
    K = sp.Symbol("K", positive=True)
    s = information_symbolic("decimation", 2, 0, K)
    assert s.I_HE.free_symbols == {K} and s.I_VE.free_symbols == {K}
    for Kv in (0.1, 0.5, 1.3):
        num = coarse_graining_information(Kv, "decimation", 2, 0)
        ev = s.evaluate(Kv)
        assert abs(ev.I_HE - num.I_HE) < 1e-12 and abs(ev.I_VE - num.I_VE) < 1e-12
        assert abs(ev.I_VE_given_H - num.I_VE_given_H) < 1e-12
    # H = v_1: its environment information is that of one spin with neighbours at distances 1 and 2
    t = math.tanh(0.5)
    P = {(a, c, d): (1 + t * a * c) * (1 + t**2 * c * d) / 8 for a in (-1, 1) for c in (-1, 1) for d in (-1, 1)}
    J = np.array([[P[a, c, d] for a in (-1, 1) for d in (-1, 1)] for c in (-1, 1)])
    assert abs(float(s.I_HE.subs(K, 0.5)) - _mi(J)) < 1e-14


def test_symbolic_with_a_buffer_and_a_symbolic_rule():
    K, L = sp.Symbol("K", positive=True), sp.Symbol("Lambda")
    s = information_symbolic(smooth([L, 0]), 2, 1, K)
    ev = s.evaluate(0.7, {"Lambda": 0.9})
    num = coarse_graining_information(0.7, smooth([0.9, 0]), 2, 1)
    assert abs(ev.I_HE - num.I_HE) < 1e-12 and abs(ev.I_VE - num.I_VE) < 1e-12
    with pytest.raises(ModelError, match="give values for Lambda"):
        s.evaluate(0.7)
    with pytest.raises(ModelError, match="exact"):
        information_symbolic([[0.5, 0.5], [0.5, 0.5]], 1)
    with pytest.raises(BudgetError, match="MAX_SYMBOLIC_BLOCK"):
        information_symbolic("majority", 7)
    assert "I(H:E)" in str(s) and r"\tanh" in s.latex()


# -- finite lattices -----------------------------------------------------------------------
def test_lattice_route_matches_the_chain_route():
    m = ising_model(chain(12, periodic=False), {"K": 1, "h": "field"})
    rule = majority(tie="first")
    got = lattice_information(m, {"K": 0.7, "h": 0.25}, [5, 6], rule, buffer=1)
    ref = coarse_graining_information(0.7, rule, 2, 1, 0.25, N=12, position=5)
    assert abs(got.I_VE - ref.I_VE) < 1e-12 and abs(got.I_HE - ref.I_HE) < 1e-12


SQUARE_CASES = [(False, [5, 6, 9, 10], 0), (True, [5, 6, 9, 10], 0), (False, [0, 1], 1), (True, [5, 6], 1)]


@pytest.mark.parametrize("periodic, block, buffer", SQUARE_CASES)
def test_square_patch_against_brute_force(periodic, block, buffer):
    """A block in a 4x4 patch, E beyond a square shell of width L_B (site (x, y) has index x + 4 y)."""
    K = 0.35
    m = ising_model(square(4, 4, periodic=periodic), {"K": 1})
    rule = majority(tie="random") if len(block) == 4 else smooth([1.2, -0.3])
    got = lattice_information(m, {"K": K}, block, rule, buffer=buffer)
    x = _spins(16)
    bonds = 0
    for s in range(16):
        cx, cy = s % 4, s // 4
        for nx, ny in ((cx + 1, cy), (cx, cy + 1)):
            if periodic:
                bonds = bonds + x[:, s] * x[:, (nx % 4) + 4 * (ny % 4)]
            elif nx < 4 and ny < 4:
                bonds = bonds + x[:, s] * x[:, nx + 4 * ny]
    w = np.exp(K * bonds)

    def dist(a, b):
        d = [abs(a % 4 - b % 4), abs(a // 4 - b // 4)]
        return max(min(c, 4 - c) for c in d) if periodic else max(d)

    env = [s for s in range(16) if min(dist(s, j) for j in block) > buffer]
    Q = conditional_table(rule, len(block))
    ref = _brute_joint(x, w, block, env, Q)
    assert abs(got.I_VE - ref[0]) < 1e-12 and abs(got.I_HE - ref[1]) < 1e-12 and abs(got.I_VE_given_H - ref[2]) < 1e-12
    assert got.I_VE >= got.I_HE > 0


def _brute_joint(x, w, blk, env, Q):
    bits = (x > 0).astype(int)
    v = bits[:, blk] @ (1 << np.arange(len(blk)))
    e = bits[:, env] @ (1 << np.arange(len(env)))
    P = np.zeros((1 << len(blk), 1 << len(env)))
    np.add.at(P, (v, e), w)
    PHE = np.stack([Q[:, j] @ P for j in range(Q.shape[1])])
    loss = sum((P * Q[:, j][:, None]).sum() / P.sum() * _mi(P * Q[:, j][:, None]) for j in range(Q.shape[1]))
    return _mi(P), _mi(PHE), loss


# -- the engine's gradient -----------------------------------------------------------------
def test_information_gradient_against_finite_differences():
    rng = np.random.default_rng(3)
    P = chain_joint(0.8, 3, 1, 0.2)
    Q = rng.dirichlet(np.ones(3), size=8)
    I, G = information_gradient(P, Q)
    assert abs(I - joint_information(P, Q)[1]) < 1e-15
    eps = 1e-6
    for _ in range(6):
        D = rng.normal(size=Q.shape)
        D -= D.mean(axis=1, keepdims=True)          # stay on normalized tables
        fd = (joint_information(P, Q + eps * D)[1] - joint_information(P, Q - eps * D)[1]) / (2 * eps)
        assert abs(fd - np.sum(G * D)) < 1e-9


def test_chain_joint_is_a_law():
    P = chain_joint(0.4, 2, 0, 0.1, N=9, periodic=False, position=0)   # environment on the right only
    assert P.shape == (4, 2) and abs(P.sum() - 1) < 1e-15 and np.all(P > 0)
    assert chain_joint(0.4, 2, 1, N=5, periodic=True).shape == (4, 2)   # one environment site
    assert coarse_rule("decimation") == decimation()


# -- the optimal rule and the measures of the renormalized hamiltonian -------------------------

@pytest.mark.parametrize("b, buffer, h, N, periodic", [(2, 0, 0.0, None, False), (3, 1, 0.3, None, False), (2, 1, -0.2, 11, True), (3, 0, 0.1, 9, False)])
def test_rbm_gradient_against_finite_differences(b, buffer, h, N, periodic):
    rng = np.random.default_rng(b + buffer)
    P = chain_joint(0.9, b, buffer, h, N, periodic)
    for _ in range(4):
        lam = rng.normal(0, 1.5, b)
        I, g = rbm_information(P, lam)
        ref = coarse_graining_information(0.9, smooth(list(lam)), b, buffer, h, N=N, periodic=periodic).I_HE
        assert abs(I - ref) < 1e-13
        eps = 1e-6
        for i in range(b):
            d = np.zeros(b)
            d[i] = eps
            fd = (rbm_information(P, lam + d)[0] - rbm_information(P, lam - d)[0]) / (2 * eps)
            assert abs(fd - g[i]) < 1e-9 * max(1.0, abs(g[i]))


@pytest.mark.parametrize("K", [0.4, 1.0])
@pytest.mark.parametrize("buffer", [0, 1, 2])
def test_optimal_rule_for_two_spin_blocks_is_decimation(K, buffer):
    best = optimal_rule(K, 2, buffer, starts=4, seed=1, measure_blocks=None)
    dec = coarse_graining_information(K, "decimation", 2, buffer).I_HE
    # the supremum over Lambda, and the value the search reached at finite Lambda, are decimation's
    assert abs(best.supremum - dec) < 1e-8
    assert abs(best.I_HE - dec) < 1e-8
    assert best.rule_name.startswith("decimation")
    assert abs(best.information.I_HE - dec) < 1e-12
    # independent of the search: no Lambda on a grid does better than decimation, and
    # finite Lambda never reaches it (the supremum is not attained)
    P = chain_joint(K, 2, buffer)
    grid = np.linspace(-6, 6, 25)
    vals = [rbm_information(P, [a, c])[0] for a in grid for c in grid]
    assert max(vals) < dec
    assert max(vals) > dec - 1e-3 * dec


def test_optimal_rule_reports_the_ray_limit_and_measures():
    best = optimal_rule(0.7, 2, 1, h=0.3, starts=3, measure_blocks=8)
    dec = coarse_graining_information(0.7, "decimation", 2, 1, 0.3).I_HE
    assert best.supremum >= dec - 1e-12
    assert best.supremum == max(best.I_HE, best.limit_I_HE)
    assert len(best.reasons) == 3 and best.scale > 0 and abs(np.linalg.norm(best.direction) - 1) < 1e-12
    assert best.measures is not None and best.measures.blocks == 8
    assert "sup I(H:E)" in str(best) and r"\sup_\Lambda" in best.latex()
    with pytest.raises(ModelError, match="starts"):
        optimal_rule(0.7, 2, starts=0)


def test_threshold_and_rbm_tables():
    assert threshold_table([1.0, 1.0])[:, 1].tolist() == [0.0, 0.5, 0.5, 1.0]        # majority, random ties
    assert np.allclose(rbm_table([30.0, 0.0]), conditional_table("decimation", 2))
    assert np.allclose(rbm_table([0.4, -1.1]), conditional_table(smooth([0.4, -1.1]), 2), atol=1e-15)


def test_measures_of_decimation_and_of_the_exactly_nearest_neighbour_rbm_rules():
    m = renormalized_measures(0.6, "decimation", 2)
    assert m.range_ratio < 1e-12 and m.decay_length == 0.0 and m.many_body_ratio < 1e-12
    assert abs(m.pair_couplings[0] - math.atanh(math.tanh(0.6) ** 2)) < 1e-12     # tanh K' = tanh^2 K
    # p(h|v) ∝ exp(h (L1 v1 + L2 v2)) with tanh L1 tanh L2 = tanh K cancels the intra-block bond:
    # the coarse chain is then exactly nearest-neighbour (docs/block_rg.md)
    for K, L1 in ((0.6, 1.5), (1.1, 3.0)):
        L2 = math.atanh(math.tanh(K) / math.tanh(L1))
        m = renormalized_measures(K, smooth([L1, L2]), 2)
        assert m.range_ratio < 1e-12 and m.many_body_ratio < 1e-12
        m = renormalized_measures(K, smooth([L1, 0.5 * L2]), 2)
        assert m.range_ratio > 1e-4 and m.many_body_ratio > 1e-7 and 0 < m.decay_length < math.inf


def test_measures_against_the_enumeration_route():
    ring = ising_model(chain(14), {"K": 1})
    rule = majority(tie="random")
    a = hamiltonian_measures(exact_renormalization(ring, chain_blocks(ring.lattice, 2), rule, {"K": 0.7}, "transfer"))
    ex = exact_renormalization(ring, chain_blocks(ring.lattice, 2), rule, {"K": 0.7}, "enumeration")
    b = hamiltonian_measures(ex)
    assert abs(a.range_ratio - b.range_ratio) < 1e-10 and abs(a.many_body_ratio - b.many_body_ratio) < 1e-10
    # the definitions, read off the couplings directly
    g1, g2 = ex.couplings[0b11], ex.couplings[0b101]
    assert abs(b.range_ratio - abs(g2 / g1)) < 1e-12
    four = max(abs(ex.couplings[k]) for k in range(1 << 7) if bin(k).count("1") == 4)
    two = max(abs(ex.couplings[k]) for k in range(1 << 7) if bin(k).count("1") == 2)
    assert abs(b.many_body_ratio - four / two) < 1e-12
    assert b.distances == (1, 2, 3) and len(b.fit_distances) == 3
    slope = np.polyfit([1, 2, 3], np.log(np.abs([ex.couplings[0b11], ex.couplings[0b101], ex.couplings[0b1001]])), 1)[0]
    assert abs(b.decay_length + 1 / slope) < 1e-9
    with pytest.raises(ModelError, match="ring"):
        open_chain = ising_model(chain(12, periodic=False), {"K": 1})
        hamiltonian_measures(exact_renormalization(open_chain, chain_blocks(open_chain.lattice, 2), rule, {"K": 0.7}))
    with pytest.raises(ModelError, match="at least 5 blocks"):
        renormalized_measures(0.5, "decimation", 2, blocks=4)


def test_optimal_rule_for_three_spin_blocks_keeps_an_end_spin():
    best = optimal_rule(0.7, 3, 1, starts=4, seed=2, measure_blocks=None)
    end = coarse_graining_information(0.7, decimation(0), 3, 1).I_HE
    assert abs(best.supremum - end) < 1e-8
    assert best.supremum > coarse_graining_information(0.7, "majority", 3, 1).I_HE + 1e-3
    assert best.supremum > coarse_graining_information(0.7, decimation(1), 3, 1).I_HE + 1e-3
