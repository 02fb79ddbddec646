"""Kadanoff's variational RG as a Boltzmann machine (symrg.rg.variational), issue 15 item 4.

Every coarse hamiltonian is compared with independent routes: brute-force enumeration of the
fine configurations, the block-RG route (``exact_renormalization``), quadrature.
"""

import itertools

import mpmath
import numpy as np
import pytest
import sympy as sp

import symrg
from symrg.engine.multilinear import configurations, symbolic_couplings
from symrg.errors import BudgetError, ModelError
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.coarse import decimation, majority, smooth
from symrg.rg.lattice import chain, chain_blocks, ising_model, square, square_blocks
from symrg.rg.variational import (
    bond_machine,
    bond_weight,
    decimation_machine,
    ising_hamiltonian,
    machine_log_weights,
    ring_couplings,
    rule_multilinear,
    rule_table_defect,
    trace_defect,
    variational_rg,
)

K, L, B = sp.symbols("K L B", real=True)


def ring_with_nnn(n):
    J = sp.zeros(n, n)
    for i in range(n):
        J[i, (i + 1) % n] = J[(i + 1) % n, i] = K
        J[i, (i + 2) % n] = J[(i + 2) % n, i] = L
    return sp.ImmutableMatrix(J)


def coarse_values(vr, values, m):
    f = symrg.lambdify(vr.coarse)
    hs = configurations(m, "spin").astype(float)
    return np.array([float(f(h=row, **values)) for row in hs])


def brute_force_decimation(n, kept, values):
    """-log sum over v with v_kept = h of exp(sum_i K v_i v_{i+1} + L v_i v_{i+2} + B v_i)."""
    m = len(kept)
    out = []
    for hrow in configurations(m, "spin"):
        terms = []
        for v in itertools.product((-1, 1), repeat=n):
            if any(v[k] != hrow[j] for j, k in enumerate(kept)):
                continue
            lw = sum(values["K"] * v[i] * v[(i + 1) % n] + values["L"] * v[i] * v[(i + 2) % n] + values["B"] * v[i]
                     for i in range(n))
            terms.append(lw)
        out.append(-float(mpmath.log(mpmath.fsum(mpmath.exp(t) for t in terms))))
    return np.array(out)


def test_decimation_trace_condition_is_symbolically_exact():
    vr = decimation_machine(ring_with_nnn(8), kept=(0, 2, 4, 6), fields=[B] * 8)
    assert vr.trace_defect == 0
    # the rule itself: exp(T) = prod (1 + h_j v_{2j}) / 2, its h-sum expands to exactly 1
    v = sp.symbols("v_1:9", real=True)
    h = sp.symbols("h_1:5", real=True)
    total = sum(vr.rule.subs(dict(zip(h, s))) for s in itertools.product((-1, 1), repeat=4))
    assert sp.expand(total) == 1
    assert vr.rule.free_symbols <= set(v) | set(h)


def test_decimation_weights_are_read_off_the_hamiltonian():
    vr = decimation_machine(ring_couplings(8, K), kept=(0, 2, 4, 6))
    W = vr.machine.params["W_xh"].value
    # x_a = v_{2a+1} sits between h_a = v_{2a} and h_{a+1} = v_{2a+2}
    expected = sp.zeros(4, 4)
    for a in range(4):
        expected[a, a] = expected[a, (a + 1) % 4] = K
    assert W == expected
    assert not vr.machine.quadratic  # nearest neighbours only: no intra-layer couplings


@pytest.mark.parametrize("values", [{"K": 0.3, "L": 0.0, "B": 0.0}, {"K": 0.7, "L": -0.2, "B": 0.15}])
def test_coarse_hamiltonian_equals_block_rg_and_brute_force(values):
    n, kept = 8, (0, 2, 4, 6)
    vr = decimation_machine(ring_with_nnn(n), kept=kept, fields=[B] * n)
    mine = coarse_values(vr, values, 4)
    ring = ising_model(chain(n), {"K": 1, "L": 2, "B": "field"})
    ex = exact_renormalization(ring, chain_blocks(ring.lattice, 2), decimation(), values, "enumeration")
    assert np.abs(mine - ex.hamiltonian).max() < 1e-12
    assert np.abs(mine - brute_force_decimation(n, kept, values)).max() < 1e-12
    # the partition function is preserved: Delta F = 0
    assert abs(vr.delta_f(values)) < 1e-12


def test_nnn_decimation_goes_through_the_enumeration_route():
    vr = decimation_machine(ring_with_nnn(8), kept=(0, 2, 4, 6))
    assert "x" in vr.machine.quadratic
    assert any(step.rule == "explicit enumeration" for step in vr.coarse.history)


def test_trace_defect_of_inexact_rules_is_the_right_function():
    v1, v2, h, w = sp.symbols("v_1 v_2 h w", real=True)
    d = trace_defect(sp.exp(w * h * (v1 + v2)), [v1, v2], [h])
    assert d != 0
    for s1, s2 in itertools.product((-1, 1), repeat=2):
        for wv in (0.3, 1.1):
            exact = float(mpmath.log(2 * mpmath.cosh(wv * (s1 + s2))))
            assert abs(float(d.subs({v1: s1, v2: s2, w: wv})) - exact) < 1e-12
    # the same rule normalized (a smooth rule p(h|v) ∝ exp(h w (v1 + v2))) is exact
    d0 = trace_defect(sp.exp(w * h * (v1 + v2)) / (2 * sp.cosh(w * (v1 + v2))), [v1, v2], [h])
    assert d0 == 0


@pytest.mark.parametrize("tie", ["random", "first"])
def test_majority_2x2_trace_condition_and_coarse_hamiltonian(tie):
    rule = majority(tie=tie)
    assert rule_table_defect(rule, 4) < 1e-12
    c = rule_multilinear(rule, 4)
    # exp(T) = (1 + h m(x)) / 2 with m(x) beyond linear: the machine has three-spin weights
    assert max(abs(c[0b0111]), abs(c[0b1011])) > 0.1
    lat = square(4, 4)
    model = ising_model(lat, {"K": 1})
    blocks = square_blocks(lat, 2)
    values = {"K": 0.35}
    ex = exact_renormalization(model, blocks, rule, values, "enumeration")
    # the machine's fine log-weight in configurations(n) order, blocks as site lists
    lw = model.log_weight(configurations(16, "spin").astype(np.int64), values)
    mine = -machine_log_weights(lw, blocks.blocks(), rule)
    assert np.abs(mine - ex.hamiltonian).max() < 1e-12
    # Delta F = 0
    assert abs(float(np.log(np.exp(-mine).sum())) - ex.log_z) < 1e-12


def test_majority_without_tie_rule_is_refused_and_smooth_rule_is_exact():
    with pytest.raises(ValueError, match="tie"):
        rule_table_defect(majority(), 4)
    assert rule_table_defect(smooth([0.4, 0.3, 0.2, 0.1]), 4) < 1e-12


def _trapezoid(values, step):
    """Trapezoidal rule along every axis (uniform grid): spectrally accurate for Gaussian integrands."""
    out = np.asarray(values, dtype=float)
    for _ in range(out.ndim):
        out = step * (out.sum(axis=-1) - (out[..., 0] + out[..., -1]) / 2)
    return float(out)


def test_seed_dbm_read_as_a_variational_rg():
    """T(v, (h, s)) = -E(v, h, s) + H(v) with H(v) from the engine: the trace over the
    hidden layers is 1 (quadrature of the energy written out here), and the coarse H'(h)
    keeps Z (quadrature vs enumeration)."""
    seed = symrg.seed_dbm(2, 1, 1)
    rng = np.random.default_rng(3)  # |U| < 1 keeps the h precision 1 - U^2 positive
    vals = {"a": rng.normal(size=(2, 1)) * 0.5, "b": rng.normal(size=(1, 1)) * 0.5, "c": rng.normal(size=(1, 1)) * 0.5,
            "W": rng.normal(size=(2, 1)) * 0.5, "U": np.array([[0.6]])}
    H = symrg.marginalize(seed, "s", "h")
    Hp = symrg.marginalize(seed, "s", "v")
    fH, fHp = symrg.lambdify(H), symrg.lambdify(Hp)
    grid = np.linspace(-20.0, 20.0, 1601)
    step = grid[1] - grid[0]
    hh, ss = np.meshgrid(grid, grid, indexing="ij")

    def energy(v, h, s):  # -a.v - b h - c s + h^2/2 + s^2/2 - v.W h - h U s
        return (-vals["a"][:, 0] @ v - vals["b"][0, 0] * h - vals["c"][0, 0] * s + h * h / 2 + s * s / 2
                - (v @ vals["W"][:, 0]) * h - h * vals["U"][0, 0] * s)

    fE = symrg.lambdify(seed)  # the energy written out above is the seed's
    for v, x, y in [((0, 1), 0.3, -1.1), ((1, 1), -0.8, 2.0)]:
        va = np.array(v, dtype=float)
        assert abs(float(fE(v=va, h=np.array([x]), s=np.array([y]), **vals)) - energy(va, x, y)) < 1e-12
    for v in itertools.product((0, 1), repeat=2):
        va = np.array(v, dtype=float)
        hv = float(fH(v=va, **vals))
        assert abs(_trapezoid(np.exp(hv - energy(va, hh, ss)), step) - 1) < 1e-11
    log_z = float(mpmath.log(mpmath.fsum(mpmath.exp(-float(fH(v=np.array(v, dtype=float), **vals)))
                                         for v in itertools.product((0, 1), repeat=2))))
    log_z_coarse = float(mpmath.log(mpmath.quad(lambda x: mpmath.exp(-float(fHp(h=np.array([float(x)]), **vals))),
                                                [-mpmath.inf, mpmath.inf])))
    assert abs(log_z - log_z_coarse) < 1e-10


def test_bad_input():
    with pytest.raises(ModelError, match="symmetric"):
        ising_hamiltonian([[0, 1], [2, 0]])
    with pytest.raises(ModelError, match="zero diagonal"):
        ising_hamiltonian([[1, 0], [0, 0]])
    with pytest.raises(ModelError, match="kept"):
        decimation_machine(ring_couplings(4, K), kept=(0, 7))
    with pytest.raises(ModelError, match="n >= 3"):
        ring_couplings(2, K)


# ---------------------------------------------------------------------------------------
# one hidden spin per bond
# ---------------------------------------------------------------------------------------


def test_bond_weight_identity_symbolic_and_numeric():
    Kp, Kn = sp.Symbol("K", positive=True), sp.Symbol("K", negative=True)
    s, t, b = sp.symbols("s t b")
    for k in (Kp, Kn):
        w, c, sigma = bond_weight(k)
        for sv, tv in itertools.product((-1, 1), repeat=2):
            rhs = c * sum(sp.exp(w * bv * (sv + sigma * tv)) for bv in (-1, 1))
            # acosh written as its logarithm: exp(acosh x) = x + sqrt(x^2 - 1)
            assert sp.simplify(sp.expand((rhs - sp.exp(k * sv * tv)).rewrite(sp.log))) == 0
    # numerically, with the weight from its closed form 1/2 log(e^{2|K|} + sqrt(e^{4|K|} - 1))
    for kv in (0.0, 0.37, -1.3, 2.5):
        w, c, sigma = (float(x) for x in bond_weight(kv))
        a = abs(kv)
        assert abs(w - 0.5 * np.log(np.exp(2 * a) + np.sqrt(np.exp(4 * a) - 1))) < 1e-13
        for sv, tv in itertools.product((-1, 1), repeat=2):
            lhs = np.exp(kv * sv * tv)
            assert abs(c * (np.exp(w * (sv + sigma * tv)) + np.exp(-w * (sv + sigma * tv))) - lhs) < 1e-13 * lhs


def test_bond_machine_marginal_is_the_ising_hamiltonian():
    # symbolic: the engine sums the bond layer, the Walsh transform reads the couplings back
    Kp = sp.Symbol("K", positive=True)
    mg = symrg.marginalize(bond_machine(ring_couplings(4, Kp)), "b")
    v = sp.symbols("v_1:5", real=True)
    c = {k: val for k, val in symbolic_couplings(mg.energy, v, "spin", simplify=True).items() if val != 0}
    assert c == {(0, 1): -Kp, (1, 2): -Kp, (2, 3): -Kp, (0, 3): -Kp}
    # numeric: mixed signs, a field; every (v, b) configuration enumerated here
    rng = np.random.default_rng(7)
    J = np.zeros((5, 5))
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4), (1, 3)]:
        J[i, j] = J[j, i] = rng.normal()
    f = rng.normal(size=5) * 0.3
    m = bond_machine(sp.Matrix(J).applyfunc(sp.Float), [sp.Float(x) for x in f])
    assert m.layer("b").size == 6
    E = symrg.lambdify(m)
    for vrow in configurations(5, "spin").astype(float):
        total = sum(np.exp(-float(E(v=vrow, b=np.array(brow, dtype=float))))
                    for brow in itertools.product((-1, 1), repeat=6))
        exact = np.exp(0.5 * vrow @ J @ vrow + f @ vrow)
        assert abs(total / exact - 1) < 1e-12


def test_decimation_summed_spins_are_the_bond_units_of_the_coarse_chain():
    """The machine weight is K, the coarse coupling K' obeys cosh 2K = e^{2K'} (tanh K' = tanh^2 K)."""
    Kp = sp.Symbol("K", positive=True)
    vr = decimation_machine(ring_couplings(6, Kp), kept=(0, 2, 4))
    h = sp.symbols("h_1:4", real=True)
    c = symbolic_couplings(-vr.coarse.energy, h, "spin", simplify=True)
    for kv in (0.2, 0.9):
        Kc = float(c[(0, 1)].subs(Kp, kv))
        assert abs(np.tanh(Kc) - np.tanh(kv) ** 2) < 1e-14
        w, _, _ = bond_weight(sp.Float(Kc))
        assert abs(float(w) - kv) < 1e-13
    assert set(vr.machine.params["W_xh"].value) == {0, Kp}


# ---------------------------------------------------------------------------------------
# any rule by enumeration; Delta F = 0 without the trace condition
# ---------------------------------------------------------------------------------------


def _ring4_brute(Kv, rule_fn):
    """log Z, log Z' and -H'(h) of the 4-ring exp(K sum v_i v_{i+1}) under exp(T) = rule_fn(v, h)."""
    zs, zc = [], {hs: [] for hs in itertools.product((-1, 1), repeat=2)}
    for vs in itertools.product((-1, 1), repeat=4):
        bw = np.exp(Kv * sum(vs[i] * vs[(i + 1) % 4] for i in range(4)))
        zs.append(bw)
        for hs in zc:
            zc[hs].append(rule_fn(vs, hs) * bw)
    return np.log(sum(zs)), np.log(sum(sum(x) for x in zc.values())), {hs: np.log(sum(x)) for hs, x in zc.items()}


def test_variational_rg_decimation_agrees_with_the_machine_and_brute_force():
    Kp = sp.Symbol("K", positive=True)
    v = sp.symbols("v_1:5", real=True)
    h = sp.symbols("h_1:3", real=True)
    r = variational_rg(ising_hamiltonian(ring_couplings(4, Kp)), (1 + h[0] * v[0]) * (1 + h[1] * v[2]) / 4, h)
    assert r.trace_defect == 0
    assert sp.simplify(r.delta_f) == 0
    vr = decimation_machine(ring_couplings(4, Kp), kept=(0, 2))
    logz, logzc, mlog = _ring4_brute(0.6, lambda vs, hs: (vs[0] == hs[0]) * (vs[2] == hs[1]))
    assert abs(logz - logzc) < 1e-14
    for hs, val in mlog.items():
        sub = {Kp: 0.6, h[0]: hs[0], h[1]: hs[1]}
        assert abs(float(r.coarse.subs(sub)) + val) < 1e-12
        assert abs(float(vr.coarse.energy.subs(sub)) + val) < 1e-12


def test_zero_delta_f_does_not_imply_the_trace_condition():
    """exp(T) = decimation x (1 + a (v_2 v_4 - t)): Delta F = -log(1 + a(<v_2 v_4> - t)) vanishes at
    t = <v_2 v_4>, the defect does not, and H'(h) is not the decimated hamiltonian."""
    Kp, a, t = sp.Symbol("K", positive=True), sp.Symbol("a", real=True), sp.Symbol("t", real=True)
    v = sp.symbols("v_1:5", real=True)
    h = sp.symbols("h_1:3", real=True)
    rule = (1 + h[0] * v[0]) * (1 + h[1] * v[2]) / 4 * (1 + a * (v[1] * v[3] - t))
    r = variational_rg(ising_hamiltonian(ring_couplings(4, Kp)), rule, h)
    assert sp.simplify(r.trace_defect - sp.log(1 + a * (v[1] * v[3] - t))) == 0
    Kv, av = 0.45, 0.3
    # <v_2 v_4> by enumeration
    states = list(itertools.product((-1, 1), repeat=4))
    bws = [np.exp(Kv * sum(s[i] * s[(i + 1) % 4] for i in range(4))) for s in states]
    corr = sum(s[1] * s[3] * bw for s, bw in zip(states, bws)) / sum(bws)
    logz, logzc, mlog = _ring4_brute(
        Kv, lambda vs, hs: (vs[0] == hs[0]) * (vs[2] == hs[1]) * (1 + av * (vs[1] * vs[3] - corr)))
    sub = {Kp: Kv, a: av, t: corr}
    assert abs(float(r.delta_f.subs(sub)) - (logz - logzc)) < 1e-13
    assert abs(float(r.delta_f.subs(sub))) < 1e-13
    defect = [float(r.trace_defect.subs(sub).subs({v[1]: s, v[3]: s2})) for s, s2 in ((1, 1), (1, -1))]
    assert min(abs(d) for d in defect) > 0.05
    for hs, val in mlog.items():
        assert abs(float(r.coarse.subs(sub).subs({h[0]: hs[0], h[1]: hs[1]})) + val) < 1e-12
    # the coarse coupling differs from the decimated one although Z is kept
    _, _, dec = _ring4_brute(Kv, lambda vs, hs: (vs[0] == hs[0]) * (vs[2] == hs[1]))
    g = (mlog[(1, 1)] - mlog[(1, -1)]) / 2
    g0 = (dec[(1, 1)] - dec[(1, -1)]) / 2
    assert abs(g - g0) > 0.05
    # the machine's own v-marginal is not H: H - defect
    assert sp.simplify(r.visible_energy() - r.hamiltonian.energy + r.trace_defect) == 0


def test_variational_rg_bad_input():
    Kp = sp.Symbol("K", positive=True)
    v = sp.symbols("v_1:5", real=True)
    h = sp.Symbol("h_1", real=True)
    H = ising_hamiltonian(ring_couplings(4, Kp))
    with pytest.raises(ModelError, match="v_9"):
        variational_rg(H, (1 + h * sp.Symbol("v_9", real=True)) / 2, [h])
    with pytest.raises(ModelError, match="coarse spin"):
        variational_rg(H, (1 + v[0]) / 2, [h])
    with pytest.raises(BudgetError, match="MAX_SYMBOLIC_VISIBLE"):
        variational_rg(ising_hamiltonian(ring_couplings(11, Kp)), (1 + h * v[0]) / 2, [h])
    with pytest.raises(ModelError, match="one spin layer"):
        variational_rg(symrg.seed_dbm(2, 1, 1), (1 + h * v[0]) / 2, [h])
    with pytest.raises(ModelError, match="sign"):
        bond_weight(sp.Symbol("K", real=True))
    with pytest.raises(ModelError, match="nonzero coupling"):
        bond_machine(sp.zeros(3, 3))
