"""Exact block RG in two dimensions (strip transfer matrices) against independent sums.

The references here share no code with symrg.rg.strip_transfer: bonds and blocks are
listed from coordinates, the rules written out, and Z(h) summed over every fine
configuration with numpy bit operations; couplings by an explicit Walsh sum.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from symrg.errors import BudgetError, ModelError
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.chain import decimate_chain
from symrg.rg.cluster_expansion import cumulant_rg
from symrg.rg.coarse import custom, decimation, majority, smooth
from symrg.rg.lattice import BlockPartition, chain, chain_blocks, ising_model, square, square_blocks, triangular, triangular_blocks
from symrg.rg.strip_transfer import strip_plan


# -- independent reference ---------------------------------------------------------------
def _square_terms(lx, ly, K, h=0.0, L=0.0, P=0.0, wrap_x=True, wrap_y=True):
    """(value, sites) of nn, field, diagonal and plaquette terms, from coordinates."""
    def idx(x, y):
        if not wrap_x and not 0 <= x < lx or not wrap_y and not 0 <= y < ly:
            return None
        return (x % lx) + lx * (y % ly)

    out = []
    for y in range(ly):
        for x in range(lx):
            for val, offs in ((K, [(1, 0)]), (K, [(0, 1)]), (L, [(1, 1)]), (L, [(1, -1)]), (P, [(1, 0), (0, 1), (1, 1)])):
                sites = [idx(x, y)] + [idx(x + dx, y + dy) for dx, dy in offs]
                if val and None not in sites:
                    out.append((val, tuple(sites)))
            if h:
                out.append((h, (idx(x, y),)))
    return out


def _square_block_sites(lx, ly, b):
    """b x b blocks in symrg's order (by smallest site), sites in motif order (x fastest)."""
    return [tuple((b * bx + dx) + lx * (b * by + dy) for dy in range(b) for dx in range(b))
            for by in range(ly // b) for bx in range(lx // b)]


def _row_tables(n, terms, width):
    """The energy as tables over the rows each term touches: ``[(rows, table)]``.

    Site ``s`` is bit ``s`` of a configuration; row ``r`` holds bits ``r width .. r width + width - 1``.
    """
    groups: dict = {}
    for val, sites in terms:
        groups.setdefault(tuple(sorted({s // width for s in sites})), []).append((val, sites))
    out = []
    for rows, group in groups.items():
        table = np.zeros(1 << (width * len(rows)))
        for loc in range(len(table)):
            spin = {}
            for i, r in enumerate(rows):
                for c in range(width):
                    spin[r * width + c] = 2 * ((loc >> (i * width + c)) & 1) - 1
            table[loc] = sum(val * math.prod(spin[s] for s in sites) for val, sites in group)
        out.append((rows, table))
    return out


def _brute_log_z(n, terms, blocks, probs, width=4, chunk=1 << 20):
    """log Z(h) for every coarse configuration (bit j = block j) by summing all 2^n configurations.

    ``probs`` is one rule ``p(h = +1 | x)`` or a list of them (one result each, one pass).
    The energy of each configuration is read from tables over the rows (``width`` sites) each term touches.
    """
    tabs = _row_tables(n, terms, width)
    single = callable(probs)
    probs = [probs] if single else list(probs)
    nb = len(blocks)
    m = len(blocks[0])
    cfg = [tuple(2 * ((c >> i) & 1) - 1 for i in range(m)) for c in range(1 << m)]
    tables = [np.array([p(x) for x in cfg], dtype=float) for p in probs]
    half = nb // 2
    Z = [np.zeros((1 << half, 1 << (nb - half))) for _ in probs]
    for start in range(0, 1 << n, chunk):
        k = np.arange(start, min(start + chunk, 1 << n), dtype=np.int64)
        e = np.zeros(len(k))
        for rows, table in tabs:
            loc = np.zeros(len(k), dtype=np.int64)
            for i, r in enumerate(rows):
                loc |= ((k >> (r * width)) & ((1 << width) - 1)) << (i * width)
            e += table[loc]
        w = np.exp(e)
        conf = [sum(((k >> s) & 1) << i for i, s in enumerate(blk)) for blk in blocks]
        for r, table in enumerate(tables):
            F = []
            for group in (conf[:half], conf[half:]):
                f = np.ones((1, len(k)))
                for c in group:
                    p = table[c]
                    f = np.concatenate([f * (1 - p), f * p])  # each block the next higher bit
                F.append(f)
            Z[r] += (F[0] * w) @ F[1].T  # [first-half h, second-half h]
    out = [np.log(z.T.reshape(-1)) for z in Z]  # index a + 2^half b
    return out[0] if single else out


def _walsh(f):
    n = int(len(f)).bit_length() - 1
    S = np.array([[(-1) ** bin(((~h) & ((1 << n) - 1)) & S_).count("1") for h in range(1 << n)] for S_ in range(1 << n)])
    return S @ f / len(f)  # sum_h f(h) prod_{j in S} h_j / 2^n (h_j = -1 where bit j of h is 0)


def _maj(x):
    s = sum(x)
    return 1.0 if s > 0 else 0.0 if s < 0 else 0.5


RULES = {
    "majority-random": (majority(tie="random"), _maj),
    "majority-first": (majority(tie="first"), lambda x: 1.0 if sum(x) > 0 or (sum(x) == 0 and x[0] > 0) else 0.0),
    "decimation-site3": (decimation(3), lambda x: 1.0 if x[3] > 0 else 0.0),
    "smooth": (smooth([0.9, 0.3, -0.2, 0.5]), lambda x: (1 + math.tanh(0.9 * x[0] + 0.3 * x[1] - 0.2 * x[2] + 0.5 * x[3])) / 2),
}


# -- brute force at 4x4 and 4x6 ------------------------------------------------------------
VALS = {"K": 0.37, "h": 0.11, "L": -0.09, "P": 0.13}


def _square_model(lx, ly, periodic=True):
    return ising_model(square(lx, ly, periodic=periodic), {"K": 1, "h": "field", "L": 2, "P": "plaquettes"})


@pytest.mark.parametrize("rule_name", list(RULES))
def test_4x4_torus_against_brute_force(rule_name):
    rule, prob = RULES[rule_name]
    model = _square_model(4, 4)
    ex = exact_renormalization(model, square_blocks(model.lattice, 2), rule, VALS)
    assert ex.method == "strip transfer matrix" and ex.boundary == "torus"
    ref = _brute_log_z(16, _square_terms(4, 4, **VALS), _square_block_sites(4, 4, 2), prob)
    assert np.abs(-ex.hamiltonian - ref).max() < 1e-12
    assert np.abs(ex.couplings - _walsh(ref)).max() < 1e-12
    assert abs(ex.log_z - math.log(np.exp(ref).sum())) < 1e-12


def test_4x6_torus_against_brute_force():
    names = ["majority-random", "smooth"]
    refs = _brute_log_z(24, _square_terms(4, 6, **VALS), _square_block_sites(4, 6, 2), [RULES[r][1] for r in names])
    model = _square_model(4, 6)
    for name, ref in zip(names, refs):
        ex = exact_renormalization(model, square_blocks(model.lattice, 2), RULES[name][0], VALS)
        assert np.abs(-ex.hamiltonian - ref).max() < 1e-12
        assert np.abs(ex.couplings - _walsh(ref)).max() < 1e-12
        # the transposed lattice transfers along its other axis (rows of 4 spins): same physics
        tr = _square_model(6, 4)
        et = exact_renormalization(tr, square_blocks(tr.lattice, 2), RULES[name][0], VALS)
        assert abs(et.log_z - ex.log_z) < 1e-11
        if name == "majority-random":  # a rotation-symmetric rule: the same coupling classes
            a, b = ex.classes(1e-10), et.classes(1e-10)
            assert a.keys() == b.keys() and all(abs(a[k].value - b[k].value) < 1e-12 for k in a)


@pytest.mark.parametrize("boundary, shape", [("cylinder", (4, 4)), ("cylinder", (4, 6)), ("open", (4, 4)), ("open", (6, 2))])
def test_cylinder_and_open_against_brute_force(boundary, shape):
    lx, ly = shape
    periodic = boundary == "cylinder"
    model = _square_model(lx, ly, periodic)
    ex = exact_renormalization(model, square_blocks(model.lattice, 2), majority(tie="random"), VALS,
                               boundary="cylinder" if periodic else None)
    assert ex.boundary == boundary
    terms = _square_terms(lx, ly, **VALS, wrap_x=periodic, wrap_y=False)
    ref = _brute_log_z(lx * ly, terms, _square_block_sites(lx, ly, 2), _maj, width=lx)
    assert np.abs(-ex.hamiltonian - ref).max() < 1e-12
    assert np.abs(ex.couplings - _walsh(ref)).max() < 1e-12


def test_triangular_lattice_nvl_and_2x2_blocks_against_brute_force():
    # triangular: basis (1, 0), (1/2, sqrt3/2); nearest neighbours at (1, 0), (0, 1), (1, -1)
    def tri_terms(lx, ly, K, h):
        out = []
        for y in range(ly):
            for x in range(lx):
                for dx, dy in ((1, 0), (0, 1), (1, -1)):
                    out.append((K, (x + lx * y, (x + dx) % lx + lx * ((y + dy) % ly))))
                out.append((h, (x + lx * y,)))
        return out

    vals = {"K": 0.33, "h": 0.08}
    lat = triangular(3, 6)
    model = ising_model(lat, {"K": 1, "h": "field"})
    blocks = triangular_blocks(lat)
    ex = exact_renormalization(model, blocks, "majority", vals)
    assert ex.method == "strip transfer matrix"
    ref = _brute_log_z(18, tri_terms(3, 6, **vals), list(blocks.blocks()), _maj, width=3)
    assert np.abs(-ex.hamiltonian - ref).max() < 1e-12
    # 2x2 parallelogram blocks of the triangular lattice
    lat = triangular(4, 4)
    model = ising_model(lat, {"K": 1, "h": "field"})
    blocks = BlockPartition(lat, ((0, 0), (1, 0), (0, 1), (1, 1)), ((2, 0), (0, 2)), "2x2 rhombi")
    ex = exact_renormalization(model, blocks, smooth(0.6), vals)
    ref = _brute_log_z(16, tri_terms(4, 4, **vals), _square_block_sites(4, 4, 2), lambda x: (1 + math.tanh(0.6 * sum(x))) / 2)
    assert np.abs(-ex.hamiltonian - ref).max() < 1e-12


def test_3x3_blocks_and_custom_rule_match_enumeration():
    model = ising_model(square(6, 3), {"K": 1, "h": "field"})
    blocks = BlockPartition(model.lattice, tuple((i, j) for j in range(3) for i in range(3)), ((3, 0), (0, 3)))
    rule = custom(lambda x: 0.1 + 0.8 * (x[4] + x[0] + x[8] > 0))
    st = exact_renormalization(model, blocks, rule, {"K": 0.5, "h": 0.2}, "strip")
    en = exact_renormalization(model, blocks, rule, {"K": 0.5, "h": 0.2}, "enumeration")
    assert np.abs(st.couplings - en.couplings).max() < 1e-12
    plan = strip_plan(model, blocks, {"K": 0.5, "h": 0.2}, rule.numeric_table(9))
    assert sorted({u.rows for u in plan.units}) in ([1, 2], [3])  # rows of a block row are summed inside one step


def test_chunks_give_the_same_result():
    model = ising_model(square(6, 4), {"K": 1, "h": "field"})
    blocks = square_blocks(model.lattice, 2)
    one = exact_renormalization(model, blocks, majority(tie="random"), {"K": 0.6, "h": 0.1}, chunks=1)
    many = exact_renormalization(model, blocks, majority(tie="random"), {"K": 0.6, "h": 0.1}, chunks=7)
    assert np.abs(one.couplings - many.couplings).max() < 1e-13


def test_large_couplings_do_not_overflow():
    model = ising_model(square(4, 4), {"K": 1})
    blocks = square_blocks(model.lattice, 2)
    st = exact_renormalization(model, blocks, majority(tie="random"), {"K": 40.0})
    en = exact_renormalization(model, blocks, majority(tie="random"), {"K": 40.0}, "enumeration")
    assert np.all(np.isfinite(st.hamiltonian))
    assert np.abs(st.hamiltonian - en.hamiltonian).max() < 1e-9 * np.abs(en.hamiltonian).max()


# -- strips of one row against the chain ----------------------------------------------------
def test_one_row_strip_against_the_chain():
    K, h = 0.45, 0.15
    strip = ising_model(square(10, 1), {"K": (((0, 0), (1, 0)),), "h": "field"})
    blocks = BlockPartition(strip.lattice, ((0, 0), (1, 0)), ((2, 0), (0, 1)), "2x1")
    ring = ising_model(chain(10), {"K": 1, "h": "field"})
    for rule in (decimation(), majority(tie="random"), smooth([0.8, -0.3])):
        st = exact_renormalization(strip, blocks, rule, {"K": K, "h": h})
        ch = exact_renormalization(ring, chain_blocks(ring.lattice, 2), rule, {"K": K, "h": h}, "transfer")
        assert st.method == "strip transfer matrix"
        assert np.abs(st.couplings - ch.couplings).max() < 1e-12
    # decimation of the chain is closed: K' and h' of decimate_chain (p ∝ exp(K s s' + h s))
    dec = decimate_chain("spin", 2)
    Ks, hs = dec.couplings
    st = exact_renormalization(strip, blocks, decimation(), {"K": K, "h": h})
    assert abs(st.coupling((0, 1)) - float(dec.images[Ks].subs({Ks: K, hs: h}))) < 1e-12
    assert abs(st.coupling((0,)) - float(dec.images[hs].subs({Ks: K, hs: h}))) < 1e-12


# -- the cumulant expansion at weak coupling ------------------------------------------------
def test_cumulant_series_approaches_the_exact_couplings():
    K = 0.05
    model = ising_model(square(8, 8), {"K": 1})
    ex = exact_renormalization(model, square_blocks(model.lattice, 2), majority(tie="random"), {"K": K})
    nn, diag = ex.class_value(2, [1.0]), ex.class_value(2, [math.sqrt(2)])
    # on the coarse 4x4 torus a pair coupling adds its images; clusters of <= 3 terms never wrap around
    images = {"nn": [(1, 0), (-3, 0)], "diag": [(1, 1), (-3, 1), (1, -3), (-3, -3)]}
    inf = ising_model(square(), {"K": 1})
    targets = [((0, 0), d) for ds in images.values() for d in ds]
    errors = []
    for order in (1, 2, 3):
        res = cumulant_rg(inf, square_blocks(inf.lattice, 2), majority(tie="random"), order, targets=targets)
        Ks = inf.couplings[0]

        def value(d):
            return float(sp.N(res.coefficient(((0, 0), d)).subs(Ks, K), 20))

        errors.append(max(abs(sum(value(d) for d in images["nn"]) - nn), abs(sum(value(d) for d in images["diag"]) - diag)))
    assert errors[0] > 10 * errors[1] > 100 * errors[2]
    assert errors[2] < 1e-6


# -- periodic images --------------------------------------------------------------------------
def test_periodic_images_are_named():
    model = ising_model(square(4, 4), {"K": 1})
    ex = exact_renormalization(model, square_blocks(model.lattice, 2), majority(tie="random"), {"K": 0.3})
    # coarse 2x2 torus: blocks 0 1 / 2 3; the right and left neighbour of block 0 are both block 1
    assert (0, 1) in ex.periodic_images and (0, 2) in ex.periodic_images and (0, 3) in ex.periodic_images
    assert set(ex.periodic_images) == {k for order, rows in ex.table().items() if order >= 2 for k in rows}
    assert "meet their own periodic image" in ex.text() and "g'[0, 1]" in ex.text()
    assert "periodic images" in ex.latex()
    assert all(c.images for c in ex.classes().values())
    # a coarse 3x3 torus: pairs are fine, a row of three blocks closes around the torus
    model = ising_model(square(6, 6), {"K": 1, "h": "field"})
    ex = exact_renormalization(model, square_blocks(model.lattice, 2), majority(tie="random"), {"K": 0.3, "h": 0.1})
    assert not any(len(s) == 2 for s in ex.periodic_images)
    assert (0, 1, 2) in ex.periodic_images and (0, 3, 6) in ex.periodic_images and (0, 1, 3) not in ex.periodic_images
    nn = ex.classes()[(2, (1.0,), False)]
    assert nn.members == 18 and nn.spread < 1e-14
    # a cylinder is open along y: the pair (0, 2) of a 2-block-high cylinder is a plain nearest-neighbour pair
    model = ising_model(square(4, 4), {"K": 1})
    cyl = exact_renormalization(model, square_blocks(model.lattice, 2), majority(tie="random"), {"K": 0.3}, boundary="cylinder")
    assert (0, 2) not in cyl.periodic_images and (0, 1) in cyl.periodic_images
    # a 4x4 coarse torus (8x8 fine would do; a 1D ring is quicker): the half-way pair is its own image
    ring = ising_model(chain(8), {"K": 1})
    ex = exact_renormalization(ring, chain_blocks(ring.lattice, 2), majority(tie="random"), {"K": 0.5})
    assert (0, 2) in ex.periodic_images and (0, 1) not in ex.periodic_images
    dec = exact_renormalization(ring, chain_blocks(ring.lattice, 2), decimation(), {"K": 0.5})
    assert dec.periodic_images == ()  # decimation of a chain: only nearest neighbours, no image


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input():
    with pytest.raises(ValueError, match=r"block size b=3 does not divide the lattice shape \(4, 4\)"):
        square_blocks(square(4), 3)
    model = ising_model(square(16, 16), {"K": 1})
    with pytest.raises(BudgetError, match=r"lattice 16x16: rows of 16 spins need transfer matrices of 2\^16 x 2\^16, .* \(MAX_ROW_WIDTH\)"):
        exact_renormalization(model, square_blocks(model.lattice, 4), "decimation", {"K": 0.3})
    ring = ising_model(chain(18), {"K": 1})
    with pytest.raises(BudgetError, match="blocks of 18 sites: the rule's table would have 2\\^18 entries"):
        exact_renormalization(ring, chain_blocks(ring.lattice, 18), "decimation", {"K": 0.3})
    model = ising_model(square(8, 12), {"K": 1})
    with pytest.raises(BudgetError, match="rows of 8 spins and 24 coarse spins needs about .* multiply-adds, above the budget"):
        exact_renormalization(model, square_blocks(model.lattice, 2), majority(tie="random"), {"K": 0.3})
    with pytest.raises(BudgetError, match="multiply-adds, above the budget of 1e\\+06"):
        exact_renormalization(ising_model(square(6), {"K": 1}), square_blocks(square(6), 2), majority(tie="random"), {"K": 0.3}, max_work=1e6)
    model = ising_model(square(4), {"K": 1})
    blocks = square_blocks(model.lattice, 2)
    with pytest.raises(ModelError, match="boundary 'cylinder' is available on the strip route"):
        exact_renormalization(model, blocks, majority(tie="random"), {"K": 0.3}, "enumeration", boundary="cylinder")
    with pytest.raises(ModelError, match="unknown boundary 'mobius'"):
        exact_renormalization(model, blocks, majority(tie="random"), {"K": 0.3}, boundary="mobius")
    with pytest.raises(ModelError, match="boundary 'open' needs an open lattice"):
        exact_renormalization(model, blocks, majority(tie="random"), {"K": 0.3}, "strip", boundary="open")
    # a term two rows long along both directions leaves no row to cut
    far = ising_model(square(4), {"K": 1, "M": (((0, 0), (2, 2)),)})
    with pytest.raises(ModelError, match="no row along axis .* where the transfer can be cut"):
        exact_renormalization(far, square_blocks(far.lattice, 2), majority(tie="random"), {"K": 0.3, "M": 0.1}, "strip")
    # ... which the automatic choice then enumerates (16 sites)
    ok = exact_renormalization(far, square_blocks(far.lattice, 2), majority(tie="random"), {"K": 0.3, "M": 0.1})
    assert ok.method == "enumeration"
    # NvL triangles wrap across the open ends of a cylinder
    tri = ising_model(triangular(3, 3), {"K": 1})
    with pytest.raises(ModelError, match="wraps across the open ends of the cylinder"):
        exact_renormalization(tri, triangular_blocks(tri.lattice), "majority", {"K": 0.3}, boundary="cylinder")
    with pytest.raises(ModelError, match="chunks must be a positive integer"):
        exact_renormalization(model, blocks, majority(tie="random"), {"K": 0.3}, chunks=0)


def test_time_limit_stops_the_sum():
    model = ising_model(square(8, 8), {"K": 1})
    with pytest.raises(BudgetError, match="time budget exceeded: exact_renormalization"):
        exact_renormalization(model, square_blocks(model.lattice, 2), majority(tie="random"), {"K": 0.3}, time_limit=1e-3)


# -- the chunks on a Dask cluster ----------------------------------------------------------------
def test_strip_chunks_on_a_dask_cluster_equal_the_local_run():
    distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed (symrg[distributed])")
    model = ising_model(square(6, 6), {"K": 1, "h": "field"})
    blocks = square_blocks(model.lattice, 2)
    vals = {"K": 0.44, "h": 0.05}
    local = exact_renormalization(model, blocks, majority(tie="random"), vals, chunks=16)
    one = exact_renormalization(model, blocks, majority(tie="random"), vals, chunks=1)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            remote = exact_renormalization(model, blocks, majority(tie="random"), vals, chunks=16, client=client)
    assert np.array_equal(local.hamiltonian, remote.hamiltonian)  # the same chunks, the same arithmetic
    assert np.abs(one.couplings - remote.couplings).max() < 1e-13
