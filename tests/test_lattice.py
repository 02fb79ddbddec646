"""Lattices, shells, interactions and blocks against geometry computed here from positions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from symrg.rg.lattice import (
    BlockPartition,
    Interaction,
    chain,
    chain_blocks,
    ising_model,
    multispin_interaction,
    square,
    square_blocks,
    triangular,
    triangular_blocks,
)

A1 = np.array([1.0, 0.0])
A2 = np.array([0.5, math.sqrt(3) / 2])


def _shell_counts(basis: np.ndarray, k: int) -> list[int]:
    """Coordination numbers of the first k shells, from cartesian positions."""
    R = 6
    d = basis.shape[0]
    dists = []
    for n in itertools.product(range(-R, R + 1), repeat=d):
        if any(n):
            dists.append(round(float(np.linalg.norm(np.array(n) @ basis)), 9))
    uniq = sorted(set(dists))[:k]
    return [dists.count(u) for u in uniq]


@pytest.mark.parametrize(
    "lat, basis",
    [(chain(), np.array([[1.0]])), (square(), np.eye(2)), (triangular(), np.array([A1, A2]))],
)
def test_shells_match_cartesian_coordination(lat, basis):
    counts = _shell_counts(basis, 4)
    for k in range(1, 5):
        assert 2 * len(lat.shell_vectors(k)) == counts[k - 1]
        d2 = float(lat.shell_distance2(k))
        for v in lat.shell_vectors(k):
            assert abs(float(np.linalg.norm(np.array(v) @ basis)) ** 2 - d2) < 1e-12


def test_triangular_shell_distances_and_square_vectors():
    assert [triangular().shell_distance2(k) for k in (1, 2, 3)] == [1, 3, 4]
    assert square().shell_vectors(1) == ((1, 0), (0, 1))
    assert set(square().shell_vectors(2)) == {(1, 1), (1, -1)}


@pytest.mark.parametrize(
    "lat, shell, expected",
    [
        (chain(10), 1, 10), (chain(10, periodic=False), 1, 9), (chain(10), 2, 10),
        (square(4), 1, 32), (square(4, periodic=False), 1, 24), (triangular(6), 1, 108),
        (triangular(6), 2, 108), (triangular(6), 3, 108),
    ],
)
def test_term_counts(lat, shell, expected):
    model = ising_model(lat, {"K": shell})
    assert len(model.terms()) == expected


def test_terms_are_at_the_shell_distance_on_a_torus():
    lat = triangular(6)
    pos = lat.positions()
    periods = [6 * A1, 6 * A2]
    for shell, d in ((1, 1.0), (2, math.sqrt(3)), (3, 2.0)):
        for _, (i, j) in ising_model(lat, {"K": shell}).terms():
            v = pos[j] - pos[i]
            best = min(np.linalg.norm(v + a * periods[0] + b * periods[1]) for a in (-1, 0, 1) for b in (-1, 0, 1))
            assert abs(best - d) < 1e-9


def test_small_ring_too_small_for_interaction():
    with pytest.raises(ValueError, match="too small"):
        ising_model(chain(2), {"L": 2}).terms()


def test_multispin_terms():
    m = ising_model(triangular(3), {"T": "triangles"})
    tri = m.terms()
    assert len(tri) == 18  # two triangles per site
    pos = m.lattice.positions()
    for _, sites in tri:
        for i, j in itertools.combinations(sites, 2):
            v = pos[j] - pos[i]
            best = min(np.linalg.norm(v + a * 3 * A1 + b * 3 * A2) for a in (-1, 0, 1) for b in (-1, 0, 1))
            assert abs(best - 1.0) < 1e-9
    assert len(ising_model(square(3), {"P": "plaquettes"}).terms()) == 9
    with pytest.raises(ValueError, match="valid kinds"):
        multispin_interaction(square(), "hexagons", "X")
    with pytest.raises(ValueError, match="needs a triangular lattice"):
        multispin_interaction(square(), "triangles", "X")


def test_log_weight_matches_direct_sum():
    rng = np.random.default_rng(0)
    m = ising_model(chain(6), {"K": 1, "L": 2, "h": "field"})
    X = rng.choice([-1, 1], size=(20, 6))
    w = m.log_weight(X, {"K": 0.3, "L": -0.2, "h": 0.1})
    ref = [sum(0.3 * x[i] * x[(i + 1) % 6] - 0.2 * x[i] * x[(i + 2) % 6] + 0.1 * x[i] for i in range(6)) for x in X]
    assert np.allclose(w, ref, atol=1e-14)
    with pytest.raises(ValueError, match="missing a value for coupling L"):
        m.log_weight(X, {"K": 0.3, "h": 0.1})


def test_blocks_partition_and_shapes():
    assert chain_blocks(chain(6), 3).blocks() == ((0, 1, 2), (3, 4, 5))
    sq = square_blocks(square(4), 2).blocks()
    assert sorted(i for b in sq for i in b) == list(range(16)) and len(sq) == 4
    tri = triangular_blocks(triangular(6, 3))
    blks = tri.blocks()
    assert len(blks) == 6 and sorted(i for b in blks for i in b) == list(range(18))
    pos = tri.lattice.positions()
    for b in blks:  # each block is a unit triangle
        for i, j in itertools.combinations(b, 2):
            v = pos[j] - pos[i]
            best = min(np.linalg.norm(v + a * 6 * A1 + c * 3 * A2) for a in (-1, 0, 1) for c in (-1, 0, 1))
            assert abs(best - 1.0) < 1e-9
    assert str(tri.scale_factor) == "sqrt(3)"


def test_block_errors_name_the_parameter():
    with pytest.raises(ValueError, match=r"block size b=3 does not divide the chain length n=16"):
        chain_blocks(chain(16), 3)
    with pytest.raises(ValueError, match=r"block size b=3 does not divide the chain length n=16"):
        chain_blocks(chain(16, periodic=False), 3)
    with pytest.raises(ValueError, match="divisible by 3"):
        triangular_blocks(triangular(4))
    with pytest.raises(ValueError, match="does not divide"):
        square_blocks(square(5), 2)
    with pytest.raises(ValueError, match="do not tile"):
        BlockPartition(chain(), ((0,), (2,)), ((2,),))
    with pytest.raises(ValueError, match="shell must be a positive integer"):
        chain().shell_vectors(0)


def _triangle_blocks_cartesian(R: int = 4) -> dict:
    """Up-triangle blocks on the sqrt3 x sqrt3 superlattice, built from cartesian vectors."""
    S1, S2 = A1 + A2, -A1 + 2 * A2
    out = {}
    for m, n in itertools.product(range(-R, R + 1), repeat=2):
        r = m * S1 + n * S2
        out[(m, n)] = [r, r + A1, r + A2]
    return out


def test_block_connections_match_cartesian_geometry():
    blocks = _triangle_blocks_cartesian()
    lat = triangular()
    tri = triangular_blocks(lat)
    model = ising_model(lat, {"K": 1, "L": 2, "M": 3})
    for name, dist in (("K", 1.0), ("L", math.sqrt(3)), ("M", 2.0)):
        engine = {D: len(v) for D, v in tri.connections(model.interaction(name)).items()}
        brute = {}
        for D, sites in blocks.items():
            if D == (0, 0):
                continue
            n = sum(1 for p in blocks[(0, 0)] for q in sites if abs(np.linalg.norm(p - q) - dist) < 1e-9)
            if n:
                brute[D] = n
        assert engine == brute
    # a nearest-neighbour block pair is joined by 2 nearest, 3 next-nearest and 2 third-neighbour bonds
    for name, n in (("K", 2), ("L", 3), ("M", 2)):
        assert {len(v) for v in tri.connections(model.interaction(name), 1).values()} == {n}


def test_coarse_lattice_is_triangular_with_spacing_sqrt3():
    tri = triangular_blocks(triangular())
    coarse = tri.coarse_lattice()
    assert [coarse.shell_distance2(k) for k in (1, 2, 3)] == [3, 9, 12]
    assert 2 * len(coarse.shell_vectors(1)) == 6


def test_interaction_validation():
    with pytest.raises(ValueError, match="distinct sites"):
        Interaction("K", (((0,), (0,)),))
    with pytest.raises(ValueError, match="valid: a shell number"):
        ising_model(chain(), {"K": "bonds"})


# ----------------------------------------------------------------------------------
# lattice hamiltonians as energy models (one constructor, one coupling table)
# ----------------------------------------------------------------------------------


def _triangular_energy(x: np.ndarray, L: int, K: float, T: float, h: float) -> np.ndarray:
    """-(K sum_nn + T sum_triangles + h sum_i) on the L x L triangular torus, from positions."""
    lat = triangular(L)
    pos = lat.positions()
    n = len(pos)
    periods = [a * L * A1 + b * L * A2 for a in (-1, 0, 1) for b in (-1, 0, 1)]

    def disp(i, j):  # the shortest image of the displacement i -> j
        return min((pos[j] - pos[i] + p for p in periods), key=np.linalg.norm)

    def bond(i, j):
        return abs(np.linalg.norm(disp(i, j)) - 1) < 1e-9

    pairs = [(i, j) for i, j in itertools.combinations(range(n), 2) if bond(i, j)]
    # elementary triangles: mutual neighbours whose unit displacements close (a wrapped row of 3 does not)
    tris = [(a, b, c) for a, b, c in itertools.combinations(range(n), 3)
            if bond(a, b) and bond(b, c) and bond(c, a) and np.linalg.norm(disp(a, b) + disp(b, c) + disp(c, a)) < 1e-9]
    assert len(pairs) == 3 * n and len(tris) == 2 * n
    e = -K * sum(x[:, i] * x[:, j] for i, j in pairs) - T * sum(x[:, a] * x[:, b] * x[:, c] for a, b, c in tris)
    return e - h * x.sum(axis=1)


def test_lattice_model_triangular_with_triangles_matches_positions():
    from symrg.output.numeric import lambdify
    from symrg.rg.lattice import lattice_model

    m = lattice_model(triangular(3), {"K": 1, "T": "triangles", "h": "field"})
    x = np.array(list(itertools.product((-1.0, 1.0), repeat=9)))
    vals = {"K": 0.4, "T": -0.25, "h": 0.3}
    ref = _triangular_energy(x, 3, **vals)
    assert np.max(np.abs(lambdify(m)(s=x, **vals) - ref)) < 1e-12
    # partition function by enumeration against the sum here
    log_z = -float(lambdify(m.marginalize("s"))(**vals))
    assert abs(log_z - np.log(np.exp(-ref).sum())) < 1e-12 * abs(log_z)


@pytest.mark.parametrize(
    "lat, spec",
    [
        (chain(7, periodic=False), {"K": 1, "L": 2, "h": "field"}),
        (chain(6), {"K": 1, "L": 2, "L3": 3}),
        (square(3, 4), {"K": 1, "D": 2, "P": "plaquettes", "h": "field"}),
        (square(4, periodic=False), {"K": 1, "P": "plaquettes"}),
        (triangular(3, periodic=False), {"K": 1, "T": "triangles"}),
        (square(2), {"K": 1, "P": "plaquettes"}),  # images: every bond and plaquette counted as LatticeModel does
    ],
)
def test_lattice_model_equals_log_weight_and_coupling_table(lat, spec):
    from symrg.output.numeric import lambdify
    from symrg.rg.lattice import lattice_model

    lm = ising_model(lat, spec)
    rng = np.random.default_rng(len(spec))
    vals = {str(c): float(rng.normal()) for c in lm.couplings}
    x = rng.choice([-1.0, 1.0], size=(64, lat.num_sites))
    w = lm.log_weight(x, vals)
    table = lm.coupling_table()
    assert np.max(np.abs(table.log_weight(x, vals) - w)) < 1e-12
    for m in (lattice_model(lat, spec), lattice_model(lm)):
        assert np.max(np.abs(lambdify(m)(s=x, **vals) + w)) < 1e-12


def test_lattice_model_errors():
    from symrg.errors import ModelError
    from symrg.model.energy import energy_model
    from symrg.rg.lattice import lattice_model

    with pytest.raises(ModelError, match="needs couplings"):
        lattice_model(chain(4))
    with pytest.raises(ModelError, match="alone"):
        lattice_model(ising_model(chain(4), {"K": 1}), {"K": 1})
    with pytest.raises(ModelError, match="expected a Lattice or a LatticeModel, got dict"):
        lattice_model({"K": 1})
    with pytest.raises(ModelError, match="infinite chain lattice has no finite coupling table"):
        ising_model(chain(), {"K": 1}).coupling_table()
    # fields in a self-coupling pattern belong in the bias: the error says so and names the layer
    with pytest.raises(ModelError, match="layer 's'.*one-unit terms.*lattice_model"):
        energy_model([("s", 4, "spin")], {("s", "s"): ising_model(chain(4), {"K": 1, "h": "field"})})
    with pytest.raises(ModelError, match="layer 's'.*infinite chain lattice has no finite coupling table"):
        energy_model([("s", 4, "spin")], {("s", "s"): ising_model(chain(), {"K": 1})})
    with pytest.raises(ModelError, match="layer 's'.*too small"):
        energy_model([("s", 2, "spin")], {("s", "s"): ising_model(chain(2), {"L": 2})})
    with pytest.raises(ModelError, match="table has 4 units, layer 's' has 5"):
        energy_model([("s", 5, "spin")], {("s", "s"): ising_model(chain(4), {"K": 1})})
