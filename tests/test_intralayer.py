"""Couplings inside a layer (issue 14, item 1): spin chains, a semi-restricted Boltzmann
machine and a 4x4 square Ising patch built with ``energy_model``, marginalized, and
checked against brute-force enumeration written here with numpy (docs/marginalization.md,
"Couplings inside a layer": the energy contains ``-1/2 x^T J x``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

from symrg.errors import ModelError
from symrg.model.couplings import CouplingTable, graph_couplings
from symrg.model.energy import MultispinTerm, energy_model
from symrg.model.numerics import logsumexp
from symrg.model.units import Discrete
from symrg.output import serialize
from symrg.output.numeric import lambdify
from symrg.rg.lattice import ising_model, square

SPINS = (-1.0, 1.0)
BITS = (0.0, 1.0)


def _configs(values, n: int) -> np.ndarray:
    return np.array(list(itertools.product(values, repeat=n)), dtype=float)


def _log_z(neg_energy: np.ndarray) -> float:
    m = neg_energy.max()
    return float(m + np.log(np.exp(neg_energy - m).sum()))


def _chain_edges(n: int, ring: bool) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if ring else [])


# --------------------------------------------------------------------------------------
# spin chains, open and ring
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ring", [False, True])
def test_spin_chain_energy_and_partition_function(ring):
    n, K, h = 8, 0.7, -0.3
    m = energy_model([("s", n, "spin")], {("s", "s"): graph_couplings(n, _chain_edges(n, ring), "K")},
                     biases={"s": [sp.Symbol("h")] * n})
    # the printed energy is - K sum_bonds s_i s_{i+1} - h sum_i s_i: each bond once (the 1/2 of x^T J x)
    s = m.layer("s").states
    K_, h_ = sp.Symbol("K", real=True), sp.Symbol("h")
    expected = -K_ * sum(s[i] * s[j] for i, j in _chain_edges(n, ring)) - h_ * sum(s)
    assert sp.expand(m.energy - expected) == 0
    # numbers against a sum over bonds written here
    x = _configs(SPINS, n)
    bonds = sum(x[:, i] * x[:, (i + 1) % n] for i in range(n if ring else n - 1))
    e_ref = -K * bonds - h * x.sum(axis=1)
    f = lambdify(m)
    assert np.max(np.abs(f(s=x, K=K, h=h) - e_ref)) < 1e-12
    # summing the coupled layer out (enumeration, or any exact route) keeps Z
    z = m.marginalize("s")
    assert z.layer_names == ()
    log_z = -float(lambdify(z)(K=K, h=h))
    ref = _log_z(-e_ref)
    assert abs(log_z - ref) < 1e-12 * max(1.0, abs(ref))
    # and Z against the transfer matrix of the ring (independent of enumeration)
    if ring:
        T = np.array([[np.exp(K * a * b + h * (a + b) / 2) for b in SPINS] for a in SPINS])
        assert abs(log_z - np.log(np.trace(np.linalg.matrix_power(T, n)))) < 1e-12 * abs(log_z)


def test_chain_from_an_explicit_matrix_and_a_name_agree():
    n = 5
    J = np.zeros((n, n))
    rng = np.random.default_rng(1)
    for i, j in _chain_edges(n, True):
        J[i, j] = J[j, i] = rng.normal()
    explicit = energy_model([("s", n, "spin")], {("s", "s"): J}, biases={"s": 0})
    named = energy_model([("s", n, "spin")], {("s", "s"): "J"}, biases={"s": 0})
    x = _configs(SPINS, n)
    e_ref = -0.5 * np.einsum("ki,ij,kj->k", x, J, x)
    assert np.max(np.abs(lambdify(explicit)(s=x) - e_ref)) < 1e-12
    assert np.max(np.abs(lambdify(named)(s=x, J=J) - e_ref)) < 1e-12
    # the named matrix is symmetric with a zero diagonal (a spin's s_i^2 = 1 is no coupling)
    val = named.params["J"].value
    assert val == val.T and all(val[i, i] == 0 for i in range(n))
    # the symbolic energy with the entries J_{ij} substituted gives the same numbers
    subs = {val[i, j]: J[i, j] for i in range(n) for j in range(n) if val[i, j] != 0}
    fn = sp.lambdify(list(named.layer("s").states), named.energy.xreplace(subs))
    assert np.max(np.abs(np.array([fn(*row) for row in x]) - e_ref)) < 1e-12


# --------------------------------------------------------------------------------------
# a semi-restricted Boltzmann machine: coupled visible spins, hidden Bernoulli units
# --------------------------------------------------------------------------------------


def _semi_rbm(nv=4, nh=3):
    return energy_model([("v", nv, "spin"), ("h", nh, "bernoulli")], {("v", "v"): "L", ("v", "h"): "W"},
                        biases={"v": "a", "h": "b"})


def _semi_rbm_values(nv=4, nh=3, seed=0):
    rng = np.random.default_rng(seed)
    L = rng.normal(scale=0.6, size=(nv, nv))
    L = np.triu(L, 1) + np.triu(L, 1).T
    return {"L": L, "W": rng.normal(scale=0.8, size=(nv, nh)), "a": rng.normal(size=nv), "b": rng.normal(size=nh)}


def _semi_rbm_energy(vals, v, h):
    """E(v, h) = -a.v - b.h - sum_{i<j} L_ij v_i v_j - v W h, for every pair of rows."""
    L, W, a, b = vals["L"], vals["W"], vals["a"], vals["b"]
    pairs = sum(L[i, j] * v[:, None, i] * v[:, None, j] for i in range(len(a)) for j in range(i + 1, len(a)))
    return -(v @ a)[:, None] - (h @ b)[None, :] - pairs - np.einsum("ki,ij,lj->kl", v, W, h)


def test_semi_rbm_hidden_then_visible():
    m, vals = _semi_rbm(), _semi_rbm_values()
    V, H = _configs(SPINS, 4), _configs(BITS, 3)
    E = _semi_rbm_energy(vals, V, H)
    assert np.max(np.abs(lambdify(m)(v=np.repeat(V, 8, 0), h=np.tile(H, (16, 1)), **vals) - E.ravel())) < 1e-12
    # the hidden layer sums in closed form; its free energy over v against brute force
    mv = m.marginalize("h")
    f_ref = -np.array([logsumexp(-row) for row in E])
    assert np.max(np.abs(lambdify(mv)(v=V, **vals) - f_ref)) < 1e-12
    # the coupled visible layer is summed by enumeration: Z is preserved
    log_z = -float(lambdify(mv.marginalize("v"))(**vals))
    assert abs(log_z - _log_z(-E.ravel())) < 1e-12 * max(1.0, abs(log_z))


def test_semi_rbm_visible_first_by_enumeration():
    m, vals = _semi_rbm(), _semi_rbm_values(seed=3)
    V, H = _configs(SPINS, 4), _configs(BITS, 3)
    E = _semi_rbm_energy(vals, V, H)
    mh = m.marginalize("v")
    assert [step.rule for step in mh.history] == ["explicit enumeration"]
    f_ref = -np.array([logsumexp(-col) for col in E.T])
    assert np.max(np.abs(lambdify(mh)(h=H, **vals) - f_ref)) < 1e-12
    log_z = -float(lambdify(mh.marginalize("h"))(**vals))
    assert abs(log_z - _log_z(-E.ravel())) < 1e-12 * max(1.0, abs(log_z))


def test_semi_rbm_prints_serializes_and_crosschecks():
    from symrg.verify.brute_force import crosscheck

    m, vals = _semi_rbm(), _semi_rbm_values()
    tex = m.latex()
    assert "L_{12} v_{1} v_{2}" in tex and "L_{11}" not in tex  # each pair once, no diagonal
    assert "v_{1}^{2}" not in tex
    mv = m.marginalize("h")
    for model in (m, mv, mv.marginalize("v")):
        back = serialize.loads(serialize.dumps(model))
        assert serialize.models_equal(model, back)
        args = {k: v for k, v in vals.items()}
        states = {l.name: _configs(l.kind.values, l.size) for l in model.layers}
        if len(states) == 2:
            states = {"v": np.repeat(states["v"], 8, 0), "h": np.tile(states["h"], (16, 1))}
        assert np.array_equal(lambdify(model)(**states, **args), lambdify(back)(**states, **args))
    check = crosscheck(mv, values=vals)
    assert check.passed and check.max_abs_error < 1e-12 and check.log_z_error < 1e-12


def test_gaussian_layer_with_self_coupling_integrates_with_precision_minus_j():
    # Q_h = P - J: the Gaussian rule uses the full self block (Schur complement)
    nv, nh = 3, 3
    rng = np.random.default_rng(5)
    J = rng.normal(scale=0.3, size=(nh, nh))
    J = (J + J.T) / 2
    W = rng.normal(scale=0.5, size=(nv, nh))
    m = energy_model([("v", nv, "spin"), ("h", nh, "gaussian")], {("h", "h"): J, ("v", "h"): W},
                     biases={"v": 0, "h": 0}, precisions={"h": 2})
    assert len(m.conditions) == 1  # 2 I - J must be positive definite
    mv = m.marginalize("h")
    V = _configs(SPINS, nv)
    Q = 2 * np.eye(nh) - J
    eta = V @ W
    ref = -0.5 * np.einsum("ki,ij,kj->k", eta, np.linalg.inv(Q), eta) - nh / 2 * np.log(2 * np.pi) \
        + 0.5 * np.linalg.slogdet(Q)[1]
    assert np.max(np.abs(lambdify(mv)(v=V) - ref)) < 1e-12


# --------------------------------------------------------------------------------------
# a 4x4 square Ising patch
# --------------------------------------------------------------------------------------


def _square_bonds(L: int, periodic: bool):
    idx = {(i, j): i + L * j for i in range(L) for j in range(L)}
    bonds, plaq = [], []
    for (i, j), a in idx.items():
        for di, dj in ((1, 0), (0, 1)):
            p, q = i + di, j + dj
            if periodic or (p < L and q < L):
                bonds.append((a, idx[(p % L, q % L)]))
        if periodic or (i + 1 < L and j + 1 < L):
            plaq.append((a, idx[((i + 1) % L, j)], idx[(i, (j + 1) % L)], idx[((i + 1) % L, (j + 1) % L)]))
    return bonds, plaq


@pytest.mark.parametrize("periodic", [False, True])
def test_square_4x4_ising_with_plaquettes(periodic):
    L, K, P, h = 4, 0.35, -0.2, 0.15
    lm = ising_model(square(L, periodic=periodic), {"K": 1, "P": "plaquettes"})
    m = energy_model([("s", L * L, "spin")], {("s", "s"): lm}, biases={"s": [sp.Symbol("h", real=True)] * (L * L)})
    assert [type(t) for t in m.terms] == [MultispinTerm]
    bonds, plaq = _square_bonds(L, periodic)
    assert len(m.terms[0].monomials) == len(plaq)
    x = _configs(SPINS, L * L)
    e_ref = -K * sum(x[:, a] * x[:, b] for a, b in bonds) - P * sum(np.prod(x[:, list(p)], axis=1) for p in plaq) \
        - h * x.sum(axis=1)
    f = lambdify(m)
    assert np.max(np.abs(f(s=x, K=K, P=P, h=h) - e_ref)) < 1e-12
    z = m.marginalize("s", max_configurations=2**16)
    log_z = -float(lambdify(z)(K=K, P=P, h=h))
    ref = _log_z(-e_ref)
    assert abs(log_z - ref) < 1e-12 * abs(ref)


def test_square_4x4_split_in_two_coupled_layers():
    # rows 0-1 are layer a, rows 2-3 layer b; both coupled inside and to each other
    L, K, h = 4, 0.4, 0.1
    bonds, _ = _square_bonds(L, True)
    J = np.zeros((16, 16))
    for a, b in bonds:
        J[a, b] += K
        J[b, a] += K
    A, B = list(range(8)), list(range(8, 16))
    m = energy_model([("a", 8, "spin"), ("b", 8, "spin")],
                     {("a", "a"): CouplingTable.from_matrix(J[np.ix_(A, A)]),
                      ("b", "b"): J[np.ix_(B, B)], ("a", "b"): J[np.ix_(A, B)]},
                     biases={"a": [h] * 8, "b": [h] * 8})
    X = _configs(SPINS, 8)
    full = np.concatenate([np.repeat(X, 256, 0), np.tile(X, (256, 1))], axis=1)
    e = (-0.5 * np.einsum("ki,ij,kj->k", full, J, full) - h * full.sum(axis=1)).reshape(256, 256)
    ma = m.marginalize("b")  # a coupled discrete layer summed by enumeration, given layer a
    f_ref = -np.array([logsumexp(-row) for row in e])
    assert np.max(np.abs(lambdify(ma)(a=X) - f_ref)) < 1e-12
    log_z = -float(lambdify(ma.marginalize("a", max_configurations=2**16))())  # 256 x 256 nested configurations
    assert abs(log_z - _log_z(-e.ravel())) < 1e-12 * abs(log_z)


def test_multispin_term_prints_serializes_and_runs_in_mpmath():
    import mpmath

    m = energy_model([("s", 4, "spin")], {("s", "s"): graph_couplings(4, [(0, 1), (1, 2, 3), (0, 1, 2, 3)], "G")},
                     biases={"s": 0})
    s = m.layer("s").states
    G = sp.Symbol("G", real=True)
    assert sp.expand(m.energy + G * (s[0] * s[1] + s[1] * s[2] * s[3] + s[0] * s[1] * s[2] * s[3])) == 0
    x = _configs(SPINS, 4)
    ref = -0.3 * (x[:, 0] * x[:, 1] + x[:, 1] * x[:, 2] * x[:, 3] + x.prod(axis=1))
    with mpmath.workdps(30):
        e_mp = lambdify(m, backend="mpmath")(s=x, G=0.3)
    assert max(abs(float(a) - b) for a, b in zip(e_mp, ref)) < 1e-14
    for model in (m, m.marginalize("s")):
        back = serialize.loads(serialize.dumps(model))
        assert serialize.models_equal(model, back)
        args = {"s": x} if model.layers else {}
        assert np.array_equal(lambdify(model)(**args, G=0.3), lambdify(back)(**args, G=0.3))
    assert abs(-float(lambdify(m.marginalize("s"))(G=0.3)) - _log_z(-ref)) < 1e-13


# --------------------------------------------------------------------------------------
# bad input: each error names the layer
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, spec, match",
    [
        (("v", 3, "spin"), [[0, 1, 0], [2, 0, 0], [0, 0, 0]], r"layer 'v'.*symmetric.*J\[1,2\] = 1 but J\[2,1\] = 2"),
        (("v", 2, "spin"), [[1, 0.5], [0.5, 0]], r"layer 'v' is Spin \(two-valued discrete units\).*zero diagonal.*J\[1,1\] = 1"),
        (("v", 2, "bernoulli"), [[0, 1], [1, "c"]], r"layer 'v'.*zero diagonal.*J\[2,2\] = c"),
        (("v", 3, "spin"), [[0, 1], [1, 0]], r"layer 'v'.*shape \(2, 2\), expected \(3, 3\)"),
        (("v", 3, "spin"), graph_couplings(4, [(0, 1)]), r"layer 'v'.*table has 4 units, layer 'v' has 3"),
        (("v", 3, "spin"), CouplingTable(3, [((0,), "h")]), r"layer 'v'.*one-unit terms"),
        (("v", 3, "gaussian"), graph_couplings(3, [(0, 1, 2)]), r"layer 'v'.*three or more units need a discrete layer"),
        (("v", sp.Symbol("n", integer=True, positive=True), "spin"), [[0, 1], [1, 0]], r"layer 'v' has symbolic size"),
        (("v", 2, "spin"), "2*J", r"layer 'v'.*not a plain identifier"),
        (("v", 3, "spin"), ("K", [(0, 1), (2, 3)]), r"layer 'v'.*unit index 3 is not in 0..2"),
        (("v", 3, "spin"), ("K", [(0, 0)]), r"layer 'v'.*repeat a unit"),
        (("v", 3, "spin"), ("2*K", [(0, 1)]), r"layer 'v'.*not a plain name"),
    ],
)
def test_bad_self_couplings_name_the_layer(layer, spec, match):
    with pytest.raises(ModelError, match=match):
        energy_model([layer], {(layer[0], layer[0]): spec})


def test_edge_list_form():
    # (coupling, edges): pairs into J, products of three or more units into a MultispinTerm
    m = energy_model([("s", 4, "spin")], {("s", "s"): ("K", [(0, 1), (1, 2), (2, 3), (3, 0), (0, 1, 2, 3)])},
                     biases={"s": 0})
    x = _configs(SPINS, 4)
    ref = -0.4 * (sum(x[:, i] * x[:, (i + 1) % 4] for i in range(4)) + x.prod(axis=1))
    assert np.max(np.abs(lambdify(m)(s=x, K=0.4) - ref)) < 1e-12
    assert [type(t) for t in m.terms] == [MultispinTerm]


def test_a_layer_coupled_to_itself_twice_is_refused():
    with pytest.raises(ModelError, match="layer 'v' is coupled to itself twice"):
        energy_model([("v", 2, "spin")], [("v", "v"), ("v", "v")])


def test_three_valued_units_keep_their_diagonal():
    # x^2 is no field for units in {0, 1, 2}: a diagonal entry is a genuine one-unit term
    J = np.array([[0.4, -0.3], [-0.3, -0.2]])
    m = energy_model([("x", 2, Discrete((0, 1, 2)))], {("x", "x"): J}, biases={"x": 0})
    x = _configs((0.0, 1.0, 2.0), 2)
    ref = -0.5 * np.einsum("ki,ij,kj->k", x, J, x)
    assert np.max(np.abs(lambdify(m)(x=x) - ref)) < 1e-14
    named = energy_model([("x", 2, Discrete((0, 1, 2)))], {("x", "x"): "J"}, biases={"x": 0})
    assert named.params["J"].value[0, 0] != 0
    log_z = -float(lambdify(m.marginalize("x"))())
    assert abs(log_z - _log_z(-ref)) < 1e-14


def test_gaussian_self_coupling_keeps_its_diagonal():
    # a diagonal entry of a Gaussian layer is a shift of its precision, not an error
    m = energy_model([("x", 2, "gaussian")], {("x", "x"): [[0.5, 0.1], [0.1, 0]]}, biases={"x": 0})
    x = np.array([[0.3, -1.2]])
    Q = np.eye(2) - np.array([[0.5, 0.1], [0.1, 0]])
    assert abs(lambdify(m)(x=x)[0] - 0.5 * x[0] @ Q @ x[0]) < 1e-14


def test_crosscheck_with_random_self_couplings_and_multispin_terms():
    from symrg.rg.lattice import lattice_model
    from symrg.verify.brute_force import brute_force_log_weight, crosscheck, random_parameters

    # random values of a named self-coupling: symmetric, zero diagonal on a discrete layer
    m = energy_model([("v", 4, "spin"), ("h", 3, "gaussian")], {("v", "v"): "L", ("h", "h"): "G", ("v", "h"): "W"},
                     precisions={"h": "P"})
    vals = random_parameters(m, np.random.default_rng(2))
    assert np.array_equal(vals["L"], vals["L"].T) and not np.diag(vals["L"]).any()
    assert np.array_equal(vals["G"], vals["G"].T) and np.linalg.eigvalsh(vals["P"]).min() > 0
    for eff in (m.marginalize("h"), m.marginalize("h", "v")):
        check = crosscheck(eff, seed=1)
        assert check.passed and check.max_abs_error < 1e-12
    # the reference sums multi-unit products too (a 3x3 torus with plaquettes, half of it summed)
    lat = lattice_model(square(3), {"K": 1, "P": "plaquettes", "h": "field"})
    vals = {"K": 0.3, "P": -0.4, "h": 0.2}
    check = crosscheck(lat.marginalize("s"), values=vals)
    assert check.passed and check.max_abs_error < 1e-12
    check = crosscheck(lat, values=vals)
    assert check.passed and check.log_z_error < 1e-12
    with pytest.raises(ModelError, match="no value for P"):
        brute_force_log_weight(lat, {"K": 0.3, "h": 0.2}, {})


def test_multispin_products_stay_in_the_polynomial_base_of_the_cumulant_series():
    from symrg.engine.effective import cumulant_series, effective_couplings

    m = energy_model([("s", 3, "spin"), ("h", 1, "spin")],
                     {("s", "s"): graph_couplings(3, [(0, 1), (0, 1, 2)], "G"), ("s", "h"): "W"}, biases={"s": 0, "h": 0})
    eff = m.marginalize("h")
    s = eff.layer("s").states
    G = sp.Symbol("G", real=True)
    assert dict(cumulant_series(eff, 2).base) == {(s[0], s[1]): -G, (s[0], s[1], s[2]): -G}
    # the exact three-body coupling: -G from the input, nothing from summing one hidden spin (an odd function)
    vals = {"G": 0.7, "W": np.array([[0.3], [-0.5], [0.8]])}
    exact = effective_couplings(eff, vals)
    assert abs(exact[0b111] + 0.7) < 1e-12


def test_canonical_form_of_a_plaquette_model():
    from symrg.engine.canonical import canonical_form
    from symrg.rg.lattice import lattice_model

    m = lattice_model(square(2, periodic=False), {"K": 1, "P": "plaquettes", "h": "field"})
    cf = canonical_form(m)
    K, P, h = (sp.Symbol(n, real=True) for n in "KPh")
    assert cf.coupling("s_1", "s_2", "s_3", "s_4") == -P
    assert cf.coupling("s_1", "s_2") == -K and cf.coupling("s_1", "s_4") == 0 and cf.coupling("s_3") == -h
    # the canonical polynomial is the energy on every configuration
    s = m.layer("s").states
    x = _configs(SPINS, 4)
    vals = {K: 0.3, P: -0.7, h: 0.2}
    poly = sp.lambdify(list(s), cf.expression().xreplace(vals))
    assert np.max(np.abs(np.array([poly(*row) for row in x]) - lambdify(m)(s=x, K=0.3, P=-0.7, h=0.2))) < 1e-12
    # a non-polynomial term is still refused, and named
    with pytest.raises(ModelError, match=r"non-polynomial terms \((Enumerated|TransferMatrix)Term\)"):
        canonical_form(energy_model([("s", 2, "spin"), ("t", 2, "spin")], {("s", "s"): "J", ("s", "t"): "W"}).marginalize("s"))
