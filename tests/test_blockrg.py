"""Block RG on chains: exact routes against brute-force sums, cumulant series, I(H:E)."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from symrg.rg.block_exact import MAX_ENUMERATION_SITES, exact_renormalization
from symrg.rg.cluster_expansion import cumulant_rg
from symrg.rg.coarse import custom, decimation, majority, smooth
from symrg.rg.information import mutual_information_chain
from symrg.rg.lattice import chain, chain_blocks, ising_model, square, square_blocks

LOG_COSH = math.log(math.cosh(0.6)) / 2  # 1/2 log cosh 2K at K = 0.3


def _brute_coarse_log_weight(n, b, table, energy):
    """-K'(h) for every coarse configuration by explicit loops (no shared code)."""
    nb = n // b
    out = np.zeros(1 << nb)
    for hk in range(1 << nb):
        hs = [2 * ((hk >> j) & 1) - 1 for j in range(nb)]
        tot = 0.0
        for xs in itertools.product((-1, 1), repeat=n):
            p = 1.0
            for j in range(nb):
                blk = xs[j * b : (j + 1) * b]
                c = sum(((s + 1) // 2) << i for i, s in enumerate(blk))
                p *= table[c] if hs[j] > 0 else 1 - table[c]
            if p:
                tot += p * math.exp(energy(xs))
        out[hk] = math.log(tot)
    return out


def _ring_energy(K, L=0.0, h=0.0):
    def e(xs):
        n = len(xs)
        return sum(K * xs[i] * xs[(i + 1) % n] + L * xs[i] * xs[(i + 2) % n] + h * xs[i] for i in range(n))

    return e


# -- exact route ------------------------------------------------------------------
def test_decimation_ring_16_gives_half_log_cosh_and_nothing_else():
    m = ising_model(chain(16), {"K": 1})
    ex = exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.3})
    assert ex.method == "transfer matrix"
    nn = {(1 << j) | (1 << ((j + 1) % 8)) for j in range(8)}
    for mask in range(1, 1 << 8):
        if mask in nn:
            assert abs(ex.couplings[mask] - LOG_COSH) < 1e-12
        else:
            assert abs(ex.couplings[mask]) < 1e-12
    assert ex.range_profile() == {(2, 1.0): pytest.approx(LOG_COSH, abs=1e-12)}
    en = exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.3}, "enumeration")
    assert np.abs(en.couplings - ex.couplings).max() < 1e-11


RULES = [
    ("decimation", decimation(1), 2),
    ("majority3", majority(), 3),
    ("majority2-random", majority(tie="random"), 2),
    ("smooth", smooth([0.9, 0.4]), 2),
    ("custom", custom(lambda x: 0.2 + 0.6 * (x[0] + x[-1] > 0)), 2),
]


@pytest.mark.parametrize("name, rule, b", RULES, ids=[r[0] for r in RULES])
def test_transfer_and_enumeration_agree_with_brute_force(name, rule, b):
    n = 6 if b == 3 else 8
    K, L, h = 0.45, -0.15, 0.2
    m = ising_model(chain(n), {"K": 1, "L": 2, "h": "field"})
    blocks = chain_blocks(m.lattice, b)
    vals = {"K": K, "L": L, "h": h}
    tr = exact_renormalization(m, blocks, rule, vals, "transfer")
    en = exact_renormalization(m, blocks, rule, vals, "enumeration")
    brute = _brute_coarse_log_weight(n, b, rule.numeric_table(b), _ring_energy(K, L, h))
    assert np.abs(-tr.hamiltonian - brute).max() < 1e-11
    assert np.abs(-en.hamiltonian - brute).max() < 1e-11
    assert np.abs(tr.couplings - en.couplings).max() < 1e-11


@pytest.mark.parametrize("n, b, rule", [(12, 2, majority(tie="random")), (12, 3, majority()), (16, 4, smooth(0.6)), (18, 2, smooth([0.3, 1.1]))])
def test_transfer_matches_enumeration_on_larger_rings(n, b, rule):
    rng = np.random.default_rng(n + b)
    K, h = rng.uniform(-0.8, 0.8), rng.uniform(-0.3, 0.3)
    m = ising_model(chain(n), {"K": 1, "h": "field"})
    blocks = chain_blocks(m.lattice, b)
    tr = exact_renormalization(m, blocks, rule, {"K": K, "h": h}, "transfer")
    en = exact_renormalization(m, blocks, rule, {"K": K, "h": h}, "enumeration")
    assert np.abs(tr.couplings - en.couplings).max() < 1e-11
    assert abs(tr.log_z - en.log_z) < 1e-11


def test_log_z_is_preserved():
    K, h = 0.7, 0.1
    T = np.array([[math.exp(K * x * y + h * (x + y) / 2) for y in (-1, 1)] for x in (-1, 1)])
    m = ising_model(chain(40), {"K": 1, "h": "field"})
    ex = exact_renormalization(m, chain_blocks(m.lattice, 2), smooth(0.5), {"K": K, "h": h})
    assert abs(ex.log_z - math.log(np.trace(np.linalg.matrix_power(T, 40)))) < 1e-10


def test_transfer_route_ring_40():
    # its time (< 10 s) is a target in benchmarks/bench_blockrg.py (chain couplings, N=40)
    m = ising_model(chain(40), {"K": 1})
    ex = exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.3})
    assert ex.num_blocks == 20
    assert abs(ex.coupling((0, 1)) - LOG_COSH) < 1e-12
    assert abs(ex.coupling((19, 0)) - LOG_COSH) < 1e-12
    others = np.abs(ex.couplings).copy()
    others[0] = 0
    for j in range(20):
        others[(1 << j) | (1 << ((j + 1) % 20))] = 0
    assert others.max() < 1e-12


def test_majority_generates_longer_range_couplings_that_decay():
    m = ising_model(chain(16), {"K": 1})
    ex = exact_renormalization(m, chain_blocks(m.lattice, 2), majority(tie="random"), {"K": 0.5})
    prof = ex.range_profile(1e-14)
    pairs = [prof[(2, float(d))] for d in (1, 2, 3, 4)]
    assert all(a > b for a, b in zip(pairs, pairs[1:]))
    assert pairs[1] > 1e-4  # a genuine next-nearest coupling
    assert (4, 3.0) in prof  # and four-spin terms
    # odd orders vanish in zero field for a symmetric rule
    assert all(k[0] % 2 == 0 for k in prof)


def test_square_lattice_enumeration_against_brute_force():
    m = ising_model(square(4, 2), {"K": 1})
    blocks = square_blocks(m.lattice, 2)
    ex = exact_renormalization(m, blocks, majority(tie="random"), {"K": 0.4})
    pos = [(i % 4, i // 4) for i in range(8)]
    bonds = set()  # directed pairs: on the 2-row torus each vertical pair is bonded twice
    for i in range(8):
        x, y = pos[i]
        for dx, dy in ((1, 0), (0, 1)):
            bonds.add((i, ((x + dx) % 4) + 4 * ((y + dy) % 2)))
    bonds = list(bonds)
    tab = majority(tie="random").numeric_table(4)
    blks = blocks.blocks()
    brute = np.zeros(4)
    for hk in range(4):
        hs = [2 * ((hk >> j) & 1) - 1 for j in range(2)]
        tot = 0.0
        for xs in itertools.product((-1, 1), repeat=8):
            e = 0.4 * sum(xs[i] * xs[j] for i, j in bonds)
            p = 1.0
            for j, blk in enumerate(blks):
                c = sum(((xs[s] + 1) // 2) << k for k, s in enumerate(blk))
                p *= tab[c] if hs[j] > 0 else 1 - tab[c]
            tot += p * math.exp(e)
        brute[hk] = math.log(tot)
    assert np.abs(-ex.hamiltonian - brute).max() < 1e-11


def test_exact_route_errors():
    with pytest.raises(ValueError, match=f"lattice too large to enumerate: 30 fine sites .* limit of {MAX_ENUMERATION_SITES} sites"):
        m = ising_model(chain(30, periodic=False), {"K": 1})
        exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.3})
    m = ising_model(chain(60), {"K": 1})
    with pytest.raises(ValueError, match="30 blocks .* limit of 24 coarse sites"):
        exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.3})
    m = ising_model(chain(8), {"K": 1, "M": 3})
    with pytest.raises(ValueError, match="beyond the next block"):
        exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.3, "M": 0.1}, "transfer")
    with pytest.raises(ValueError, match="unknown method 'fast'; valid methods: auto, enumeration, transfer"):
        exact_renormalization(m, chain_blocks(m.lattice, 2), "decimation", {"K": 0.3, "M": 0.1}, "fast")
    m = ising_model(chain(8), {"K": 1})
    with pytest.raises(ValueError, match="majority rule on blocks of 2 sites can tie"):
        exact_renormalization(m, chain_blocks(m.lattice, 2), "majority", {"K": 0.3})
    with pytest.raises(ValueError, match="unknown coarse-graining rule 'blockspin'; valid rules"):
        exact_renormalization(m, chain_blocks(m.lattice, 2), "blockspin", {"K": 0.3})
    with pytest.raises(ValueError, match="infinite lattice"):
        mi = ising_model(chain(), {"K": 1})
        cumulant_rg(ising_model(chain(8), {"K": 1}), chain_blocks(chain(8), 2), "decimation", 1)
    with pytest.raises(ValueError, match="finite lattice"):
        exact_renormalization(mi, chain_blocks(mi.lattice, 2), "decimation", {"K": 0.3})


# -- cumulant route on the chain -----------------------------------------------------
def _decimation_series_brute(K: float, order: int) -> float:
    """Coefficient of h h' in sum_{n<=order} kappa_n / n!, kappa_n of V = K x h' with x ∝ exp(K h x).

    The cumulant generating function of one spin is differentiated numerically (mpmath).
    """
    with mpmath.workdps(40):
        vals = {}
        for hh, hp in itertools.product((-1, 1), repeat=2):
            f = lambda lam: mpmath.log(mpmath.cosh(K * hh + lam * K * hp) / mpmath.cosh(K * hh))  # noqa: E731
            coeffs = mpmath.taylor(f, 0, order)
            vals[(hh, hp)] = sum(coeffs[1:])
        return float(sum(v * a * b for (a, b), v in vals.items()) / 4)


def test_decimation_cumulant_series_converges_to_exact():
    m = ising_model(chain(), {"K": 1})
    (K,) = m.couplings
    errs = []
    for n in (1, 2, 3, 4, 5, 6):
        res = cumulant_rg(m, chain_blocks(m.lattice, 2), "decimation", n)
        v = float(res.images[K].subs(K, sp.Rational(3, 10)))
        assert abs(v - _decimation_series_brute(0.3, n)) < 1e-13
        errs.append(abs(v - LOG_COSH))
        # decimation generates no longer-range coupling at any order
        assert res.coefficients.get(((0,), (2,)), 0) == 0
    assert errs[0] == errs[1] and errs[2] == errs[3] and errs[4] == errs[5]  # odd cumulants only
    assert errs[2] < errs[1] / 30 and errs[4] < errs[3] / 30
    assert sp.simplify(cumulant_rg(m, chain_blocks(m.lattice, 2), "decimation", 1).images[K] - K * sp.tanh(K)) == 0


def _patch_series(nblocks, b, table, K, h, order, field_in_h0=False):
    """Coefficients (field of block 1, pair (1, 2)) of log Z0 p0(h) + sum_{n<=order} kappa_n/n!
    on an open patch of nblocks blocks, by enumeration of the patch."""
    n = nblocks * b
    xs = np.array(list(itertools.product((-1, 1), repeat=n)))[:, ::-1]
    blk_of = np.arange(n) // b
    intra = sum(K * xs[:, i] * xs[:, i + 1] for i in range(n - 1) if blk_of[i] == blk_of[i + 1])
    inter = sum(K * xs[:, i] * xs[:, i + 1] for i in range(n - 1) if blk_of[i] != blk_of[i + 1])
    fld = h * xs.sum(axis=1)
    if field_in_h0:
        intra = intra + fld
    else:
        inter = inter + fld
    codes = np.stack([(((xs[:, j * b : (j + 1) * b] + 1) // 2) << np.arange(b)).sum(axis=1) for j in range(nblocks)], axis=1)
    W = np.zeros(1 << nblocks)
    for hk in range(1 << nblocks):
        p = np.exp(intra)
        for j in range(nblocks):
            t = table[codes[:, j]]
            p = p * (t if (hk >> j) & 1 else 1 - t)
        Z = p.sum()
        q = p / Z
        mom = [float((q * inter**k).sum()) for k in range(1, order + 1)]
        kap = []
        for k in range(1, order + 1):  # moments -> cumulants
            acc = mom[k - 1]
            for j in range(1, k):
                acc -= math.comb(k - 1, j - 1) * kap[j - 1] * mom[k - j - 1]
            kap.append(acc)
        W[hk] = math.log(Z) + sum(kap[k] / math.factorial(k + 1) for k in range(order))
    hs = 2 * ((np.arange(1 << nblocks)[:, None] >> np.arange(nblocks)) & 1) - 1
    field = float((W * hs[:, 2]).mean())
    pair = float((W * hs[:, 2] * hs[:, 3]).mean())
    return field, pair


@pytest.mark.parametrize(
    "rule, b, field_in_h0",
    [(majority(), 3, False), (majority(), 3, True), (smooth([0.8, 0.3]), 2, False), (majority(tie="random"), 2, True)],
)
def test_cumulant_order2_matches_patch_enumeration(rule, b, field_in_h0):
    Kv, hv = 0.35, 0.15
    m = ising_model(chain(), {"K": 1, "h": "field"})
    K, h = m.couplings
    res = cumulant_rg(m, chain_blocks(m.lattice, b), rule, 2, perturb_fields=not field_in_h0)
    pt = {K: Kv, h: hv}
    field, pair = _patch_series(6, b, rule.numeric_table(b), Kv, hv, 2, field_in_h0)
    assert abs(float(res.images[h].subs(pt)) - field) < 1e-12
    assert abs(float(res.images[K].subs(pt)) - pair) < 1e-12


def test_cumulant_next_nearest_coupling_from_majority_matches_patch():
    m = ising_model(chain(), {"K": 1})
    (K,) = m.couplings
    res = cumulant_rg(m, chain_blocks(m.lattice, 2), majority(tie="random"), 2, targets=[((0,), (2,))])
    v = float(res.coefficient(((0,), (2,))).subs(K, 0.4))
    # brute force: blocks 0, 1, 2 with their two joining bonds, coefficient of h_0 h_2 in kappa_2 / 2
    tab = majority(tie="random").numeric_table(2)
    xs = np.array(list(itertools.product((-1, 1), repeat=6)))
    intra = 0.4 * (xs[:, 0] * xs[:, 1] + xs[:, 2] * xs[:, 3] + xs[:, 4] * xs[:, 5])
    V = 0.4 * (xs[:, 1] * xs[:, 2] + xs[:, 3] * xs[:, 4])
    coef = 0.0
    for hk in range(8):
        hs = [2 * ((hk >> j) & 1) - 1 for j in range(3)]
        p = np.exp(intra)
        for j in range(3):
            t = tab[((xs[:, 2 * j] + 1) // 2) + 2 * ((xs[:, 2 * j + 1] + 1) // 2)]
            p = p * (t if hs[j] > 0 else 1 - t)
        q = p / p.sum()
        k2 = (q * V**2).sum() - (q * V).sum() ** 2
        coef += k2 / 2 * hs[0] * hs[2] / 8
    assert abs(v - coef) < 1e-13
    assert abs(v) > 1e-4


def test_counting_validation():
    m = ising_model(chain(), {"K": 1})
    blocks = chain_blocks(m.lattice, 2)
    with pytest.raises(ValueError, match="counting: unknown coupling Q; valid names: K"):
        cumulant_rg(m, blocks, "decimation", 2, counting={"Q": 1})
    with pytest.raises(ValueError, match="weight of K must be a positive integer"):
        cumulant_rg(m, blocks, "decimation", 2, counting={"K": 0})
    with pytest.raises(ValueError, match="order must be a positive integer"):
        cumulant_rg(m, blocks, "decimation", 0)


# -- mutual information -----------------------------------------------------------------
def _mi_open_chain(K, table, b, buffer, env):
    """I(H:E) on an open zero-field chain env + buffer + block + buffer + env, by enumeration."""
    n = 2 * env + 2 * buffer + b
    xs = np.array(list(itertools.product((-1, 1), repeat=n)))
    w = np.exp(K * (xs[:, :-1] * xs[:, 1:]).sum(axis=1))
    w /= w.sum()
    start = env + buffer
    code = (((xs[:, start : start + b] + 1) // 2) << np.arange(b)).sum(axis=1)
    pplus = table[code]
    envcols = list(range(env)) + list(range(n - env, n))
    ecode = (((xs[:, envcols] + 1) // 2) << np.arange(len(envcols))).sum(axis=1)
    joint = np.zeros((2, 1 << len(envcols)))
    np.add.at(joint[1], ecode, w * pplus)
    np.add.at(joint[0], ecode, w * (1 - pplus))
    ph = joint.sum(axis=1, keepdims=True)
    pe = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (ph @ pe)[nz])).sum())


@pytest.mark.parametrize("rule, b", [(decimation(), 2), (majority(), 3), (majority(tie="random"), 2), (smooth([0.7, 0.2]), 2)])
@pytest.mark.parametrize("buffer", [0, 1])
def test_mutual_information_against_enumeration(rule, b, buffer):
    K = 0.6
    got = mutual_information_chain(K, rule, b, buffer=buffer)
    ref = _mi_open_chain(K, rule.numeric_table(b), b, buffer, env=3)
    assert abs(got - ref) < 1e-12


def test_mutual_information_properties():
    assert mutual_information_chain(0.0, "decimation", 2) == 0.0
    a = mutual_information_chain(0.8, smooth(0.5), 2, h=0.3)
    assert abs(a - mutual_information_chain(0.8, smooth(0.5), 2, h=-0.3)) < 1e-12
    # decimation keeps the information the block has about its neighbours best among these
    assert mutual_information_chain(0.8, "decimation", 2, buffer=1) > mutual_information_chain(0.8, smooth([0.3, 0.3]), 2, buffer=1)
    assert mutual_information_chain(0.8, "decimation", 2, buffer=2) < mutual_information_chain(0.8, "decimation", 2, buffer=1)
    with pytest.raises(ValueError, match="buffer must be a non-negative integer"):
        mutual_information_chain(0.8, "decimation", 2, buffer=-1)
