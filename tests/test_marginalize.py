"""The marginalization engine against brute force (enumeration + joint Gaussian integrals)."""

import itertools

import numpy as np
import pytest
import sympy as sp

from symrg.engine.marginalization import fold_all, marginalize
from symrg.model.energy import EnumeratedTerm, GaussianTerm, LogPartitionTerm, ModelError, dbm, energy_model, rbm, seed_dbm
from symrg.output.numeric import ConditionError
from symrg.verify.brute_force import brute_force_log_weight, crosscheck, random_parameters

TOL = 1e-10


def _check(model, seed=0, **kw):
    report = crosscheck(model, seed=seed, **kw)
    assert report.max_rel_error < TOL, report.text()
    assert report.passed, report.text()
    return report


@pytest.mark.parametrize("seed", range(3))
def test_seed_dbm_explicit(seed):
    m = seed_dbm(3, 2, 3)
    r = _check(marginalize(m, "s", "h"), seed=seed)
    assert r.log_z_error is not None and r.log_z_error < TOL
    assert r.correlator_error is not None and r.correlator_error < TOL
    _check(marginalize(m, "s"), seed=seed)


def test_gaussian_bernoulli_rbm_both_ways():
    m = rbm(3, 2, visible="gaussian", hidden="bernoulli")
    h_summed = marginalize(m, "h")
    assert isinstance(h_summed.terms[0], LogPartitionTerm)
    _check(h_summed, seed=1)
    v_integrated = marginalize(m, "v")
    assert isinstance(v_integrated.terms[0], GaussianTerm)
    _check(v_integrated, seed=2)


def test_bernoulli_rbm_closed_form_and_formula():
    m = marginalize(rbm(3, 2), "h")
    _check(m, seed=3)
    v1, v2, v3 = m.layer("v").states
    # H(v) = -a^T v - sum_j log(1 + exp(b_j + (W^T v)_j))
    W = m.params["W"].value
    a, b = m.params["a"].value, m.params["b"].value
    expected = -(a.T * m.layer("v").states)[0] - sum(
        sp.log(1 + sp.exp(b[j] + sum(W[i, j] * [v1, v2, v3][i] for i in range(3)))) for j in range(2)
    )
    assert sp.simplify(m.energy - expected) == 0


def test_spin_rbm():
    m = rbm(3, 3, visible="spin", hidden="spin")
    _check(marginalize(m, "h"), seed=4)
    _check(marginalize(m, "v"), seed=5)


def test_three_layer_bernoulli_dbm_middle_layer_by_enumeration():
    m = dbm([2, 3, 2])
    # x0 summed in closed form puts x1 inside a softplus: x1 must be enumerated
    eff = marginalize(m, "x0", "x1")
    assert isinstance(eff.terms[-1], EnumeratedTerm)
    assert eff.history[-1].rule == "explicit enumeration"
    _check(eff, seed=6)
    # the middle layer alone is linearly coupled: closed form
    mid = marginalize(m, "x1")
    assert isinstance(mid.terms[0], LogPartitionTerm)
    _check(mid, seed=7)


def test_gaussian_layer_coupled_to_two_layers_creates_a_coupling():
    m = energy_model([("v", 2, "bernoulli"), ("g", 3, "gaussian"), ("s", 2, "spin")], [("v", "g"), ("g", "s")])
    eff = fold_all(marginalize(m, "g"))
    assert ("v", "s") in eff.couplings
    _check(marginalize(m, "g"), seed=8)
    # the new coupling is W_vg S W_sg^T with S = I: check it numerically
    vals = random_parameters(m, np.random.default_rng(0))
    from symrg.output.numeric import lambdify

    blocks = lambdify(eff).parameters(**vals)
    assert np.allclose(blocks["W_vs"], vals["W_vg"] @ vals["W_gs"], atol=1e-14)


def test_discrete_layer_with_intra_layer_couplings_is_enumerated():
    m = energy_model([("v", 2, "spin"), ("g", 2, "gaussian"), ("h", 2, (0, 1, 2))], [("v", "g"), ("g", "h")])
    eff = marginalize(m, "g", "h")  # h gets intra-layer couplings from g: enumeration
    assert isinstance(eff.terms[-1], EnumeratedTerm)
    _check(eff, seed=9)


def test_any_order_gives_the_same_effective_energy():
    m = energy_model(
        [("v", 2, "bernoulli"), ("h", 2, "gaussian"), ("s", 2, "gaussian"), ("t", 2, "spin")],
        [("v", "h"), ("h", "s"), ("v", "t")],
    )
    rng = np.random.default_rng(11)
    vals = random_parameters(m, rng, scale=0.3)
    states = np.array(list(itertools.product([0.0, 1.0], repeat=2)))
    results = []
    for order in itertools.permutations(["h", "s", "t"]):
        # h after t: the Gaussian h sits inside the softplus of t, a mixture of Gaussians
        eff = marginalize(m, *order)
        results.append((order, eff.lambdify()(v=states, **vals)))
    assert len(results) == 6
    ref = brute_force_log_weight(m, vals, {"v": states})
    for order, r in results:
        assert np.allclose(r, ref, rtol=1e-11, atol=1e-11), order


def test_any_order_with_enumeration_gives_the_same_energy():
    m = dbm([2, 2, 2, 2], kinds=["spin", "bernoulli", "spin", (0, 1, 2)])
    vals = random_parameters(m, np.random.default_rng(5))
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=2)))
    ref = brute_force_log_weight(m, vals, {"x0": states})
    rules = set()
    for order in itertools.permutations(["x1", "x2", "x3"]):
        eff = marginalize(m, *order)
        rules |= {s.rule for s in eff.history}
        assert np.allclose(eff.lambdify()(x0=states, **vals), ref, rtol=1e-11, atol=1e-11), order
    assert rules == {"closed-form sum", "explicit enumeration"}


def test_partition_function_preserved_when_everything_is_summed():
    m = seed_dbm(2, 2, 2)
    vals = random_parameters(m, np.random.default_rng(3), scale=0.4)
    z = marginalize(m, "s", "h", "v")
    assert z.layers == ()
    log_z = -z.lambdify()(**vals)
    ref = -brute_force_log_weight(m, vals, {})[0]
    assert float(np.squeeze(log_z)) == pytest.approx(ref, rel=1e-12)


# -- errors --------------------------------------------------------------------------


def test_unknown_layer_is_named():
    with pytest.raises(ModelError, match=r"unknown layer 'x'.*\['v', 'h', 's'\]"):
        marginalize(seed_dbm(), "x")


def test_gaussian_inside_a_nonpolynomial_term_is_a_mixture():
    # a Gaussian layer inside the softplus left by summing h: one Gaussian integral per configuration of h
    m = rbm(2, 2, visible="gaussian", hidden="bernoulli")
    z = marginalize(m, "h", "v")
    assert z.history[-1].rule == "Gaussian mixture integral"
    vals = random_parameters(m, np.random.default_rng(2), scale=0.5)
    assert float(np.squeeze(z.lambdify()(**vals))) == pytest.approx(brute_force_log_weight(m, vals, {})[0], rel=1e-12)
    n = sp.Symbol("n", integer=True, positive=True)
    with pytest.raises(ModelError, match=r"Gaussian layer 'v'.*mixture of Gaussian integrals.*symbolic size n"):
        marginalize(rbm(n, n, visible="gaussian", hidden="bernoulli"), "h", "v")


def test_enumeration_over_the_limit_is_refused():
    m = dbm([3, 13, 2])
    with pytest.raises(ModelError, match=r"2\^13 = 8192 configurations.*max_configurations=4096"):
        marginalize(m, "x0", "x1")


def test_abstract_enumeration_is_refused():
    m = dbm([sp.Symbol("n", integer=True, positive=True)] * 3)
    with pytest.raises(ModelError, match="explicit integer size"):
        marginalize(m, "x0", "x1")


def test_shape_errors_name_the_layers():
    with pytest.raises(ModelError, match=r"coupling between 'v' \(2 units\) and 'h' \(3 units\) has shape \(3, 2\)"):
        energy_model([("v", 2), ("h", 3)], {("v", "h"): sp.zeros(3, 2)})
    with pytest.raises(ModelError, match="bias of layer 'v'"):
        energy_model([("v", 2), ("h", 3)], [("v", "h")], biases={"v": [1, 2, 3]})
    with pytest.raises(ModelError, match="only Gaussian layers take a precision"):
        energy_model([("v", 2), ("h", 3)], [("v", "h")], precisions={"v": 2})


def test_non_positive_definite_precision_at_call_time():
    eff = marginalize(seed_dbm(2, 2, 2), "s", "h")
    f = eff.lambdify()
    vals = dict(a=np.zeros(2), b=np.zeros(2), c=np.zeros(2), W=np.eye(2), U=2 * np.eye(2))
    with pytest.raises(ConditionError, match=r"I - U\*U.T .*not positive definite"):
        f(v=np.zeros(2), **vals)


def test_user_matrices_and_numbers():
    x = sp.Symbol("x", real=True)
    m = energy_model([("v", 2, "spin"), ("h", 1, "spin")], {("v", "h"): [[x], [2 * x]]}, biases={"v": 0, "h": [sp.Rational(1, 2)]})
    eff = marginalize(m, "h")
    f = eff.lambdify()
    assert f.arguments == ("v", "x")
    for s in itertools.product([-1.0, 1.0], repeat=2):
        expected = -np.log(2 * np.cosh(0.5 + 0.3 * s[0] + 0.6 * s[1]))
        assert f(v=np.array(s), x=0.3) == pytest.approx(expected, rel=1e-14)


# -- transfer matrices: self couplings along a chain or a ring ----------------------------


def _ring_model(n, couplings, kind="spin", ring=True, other=2):
    """A layer ``s`` of ``n`` units with self couplings on a ring (or open chain), coupled to a layer ``h``."""
    J = np.zeros((n, n))
    for i in range(n if ring else n - 1):
        J[i, (i + 1) % n] = J[(i + 1) % n, i] = couplings[i]
    m = energy_model([("s", n, kind), ("h", other, "spin")], [("s", "h")])
    return m.with_(quadratic={"s": sp.ImmutableMatrix(-J)}), J


def _brute_h(J, vals, values, n, other=2):
    """-log sum_s exp(-E(s, h)) for every h, every s enumerated (numpy only)."""
    S = np.array(list(itertools.product(values, repeat=n)), dtype=float)
    Hs = np.array(list(itertools.product([-1.0, 1.0], repeat=other)))
    out = []
    for h in Hs:
        e = -(S @ vals["b_s"]) - h @ vals["b_h"] - 0.5 * np.einsum("ci,ij,cj->c", S, J, S) - S @ vals["W_sh"] @ h
        m = np.max(-e)
        out.append(-(m + np.log(np.exp(-e - m).sum())))
    return Hs, np.array(out)


@pytest.mark.parametrize("kind, values, ring", [("spin", (-1.0, 1.0), True), ("bernoulli", (0.0, 1.0), False),
                                                ((-1, 0, 1), (-1.0, 0.0, 1.0), True)])
def test_transfer_matrix_against_enumeration_and_brute_force(kind, values, ring):
    n = 10 if len(values) == 2 else 7
    rng = np.random.default_rng(n)
    m, J = _ring_model(n, rng.normal(0, 0.8, n), kind, ring)
    vals = {"b_s": rng.normal(0, 0.5, n), "b_h": rng.normal(0, 0.5, 2), "W_sh": rng.normal(0, 0.5, (n, 2))}
    tm = marginalize(m, "s")
    assert tm.history[-1].rule == "transfer matrix"
    (term,) = tm.terms
    assert term.ring == ring and sorted(term.order) == list(range(n))
    en = marginalize(m, "s", transfer_matrix=False)
    assert en.history[-1].rule == "explicit enumeration"
    Hs, ref = _brute_h(J, vals, values, n)
    got = tm.lambdify()(h=Hs, **vals)
    assert np.allclose(got, ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(en.lambdify()(h=Hs, **vals), got, rtol=1e-12, atol=1e-12)
    mp = tm.lambdify("mpmath")(h=Hs[1], **vals)
    assert float(mp) == pytest.approx(ref[1], rel=1e-14)
    # log Z kept through a second sum: h enters the trace, so it is enumerated around it
    z = marginalize(m, "s", "h")
    assert float(np.squeeze(z.lambdify()(**vals))) == pytest.approx(-np.log(np.exp(-ref).sum()), rel=1e-12)


def test_transfer_matrix_expression_is_the_trace_and_evaluates_to_the_sum():
    n = 6
    rng = np.random.default_rng(2)
    m, J = _ring_model(n, rng.normal(0, 0.8, n))
    vals = {"b_s": rng.normal(0, 0.5, n), "b_h": rng.normal(0, 0.5, 2), "W_sh": rng.normal(0, 0.5, (n, 2))}
    tm = marginalize(m, "s", transfer_matrix=True)  # 64 configurations: forced
    e = tm.energy
    assert e.has(sp.Trace) and not e.has(sp.Sum)
    Hs, ref = _brute_h(J, vals, (-1.0, 1.0), n)
    subs = tm.substitutions(vals)
    for h, r in zip(Hs, ref):
        s = dict(subs)
        s.update(dict(zip(tm.layer("h").states, h)))
        assert float(e.xreplace(s).doit().evalf(30)) == pytest.approx(r, rel=1e-12)
    assert r"\operatorname{tr}" in tm.latex()


def _mp_ring_reference(J, theta, K_closed=None):
    """log tr prod_i T_i with mpmath at 40 digits (independent of the code generator)."""
    import mpmath

    with mpmath.workdps(40):
        n = len(theta)
        prod = mpmath.eye(2)
        for i in range(n):
            j = (i + 1) % n
            T = mpmath.matrix([[mpmath.exp(theta[i] * a + J[i, j] * a * b) for b in (-1, 1)] for a in (-1, 1)])
            prod = prod * T
        return float(mpmath.log(prod[0, 0] + prod[1, 1]))


def test_forty_spin_ring_coupled_to_two_units():
    n = 40
    rng = np.random.default_rng(40)
    m, J = _ring_model(n, rng.normal(0.3, 0.6, n))
    with pytest.raises(ModelError, match=r"2\^40"):
        marginalize(m, "s", transfer_matrix=False)
    tm = marginalize(m, "s")
    assert tm.history[-1].rule == "transfer matrix" and tm.terms[0].ring
    vals = {"b_s": rng.normal(0, 0.5, n), "b_h": rng.normal(0, 0.5, 2), "W_sh": rng.normal(0, 0.3, (n, 2))}
    Hs = np.array(list(itertools.product([-1.0, 1.0], repeat=2)))
    got = tm.lambdify()(h=Hs, **vals)
    for h, g in zip(Hs, got):
        ref = -vals["b_h"] @ h - _mp_ring_reference(J, vals["b_s"] + vals["W_sh"] @ h)
        assert g == pytest.approx(ref, rel=1e-12, abs=1e-12)


def test_homogeneous_ring_matches_the_eigenvalue_formula():
    # Z = (2 cosh K)^n + (2 sinh K)^n on a ring without field (published closed form)
    K = sp.Symbol("K", positive=True)
    n = 40
    J = sp.zeros(n, n)
    for i in range(n):
        J[i, (i + 1) % n] = J[(i + 1) % n, i] = K
    m = energy_model([("s", n, "spin")], (), biases={"s": 0}).with_(quadratic={"s": sp.ImmutableMatrix(-J)})
    z = marginalize(m, "s")
    for k in (0.1, 0.44, 2.0):
        ref = n * np.log(2 * np.cosh(k)) + np.log1p(np.tanh(k) ** n)
        assert float(-z.lambdify()(K=k)) == pytest.approx(ref, rel=1e-13)
        # the symbolic energy, -log tr of 40 unevaluated matrices, evaluates numerically as it is
        assert float(-z.energy.xreplace({K: sp.Float(k, 30)})) == pytest.approx(ref, rel=1e-13)


def test_chain_and_ring_detection():
    rng = np.random.default_rng(9)
    n = 8
    # two open chains side by side (0-1-2-3 and 4-5-6-7), units scrambled: still a chain
    perm = rng.permutation(n)
    J = np.zeros((n, n))
    for a, b in [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7)]:
        J[perm[a], perm[b]] = J[perm[b], perm[a]] = rng.normal()
    m = energy_model([("s", n, "spin"), ("h", 2, "spin")], [("s", "h")]).with_(quadratic={"s": sp.ImmutableMatrix(-J)})
    tm = marginalize(m, "s")
    assert tm.history[-1].rule == "transfer matrix" and not tm.terms[0].ring
    vals = {"b_s": rng.normal(0, 0.5, n), "b_h": rng.normal(0, 0.5, 2), "W_sh": rng.normal(0, 0.5, (n, 2))}
    Hs, ref = _brute_h(J, vals, (-1.0, 1.0), n)
    assert np.allclose(tm.lambdify()(h=Hs, **vals), ref, rtol=1e-12, atol=1e-12)
    # a chord (ring plus one extra bond) or two separate rings: enumeration
    chord = np.zeros((n, n))
    for i in range(n):
        chord[i, (i + 1) % n] = chord[(i + 1) % n, i] = 1.0
    chord[0, 4] = chord[4, 0] = 1.0
    two = np.zeros((n, n))
    for r in (range(4), range(4, 8)):
        r = list(r)
        for a, b in zip(r, r[1:] + r[:1]):
            two[a, b] = two[b, a] = 1.0
    for Q in (chord, two):
        mm = m.with_(quadratic={"s": sp.ImmutableMatrix(-Q)})
        assert marginalize(mm, "s", transfer_matrix=True).history[-1].rule == "explicit enumeration"
    # a small ring stays an enumerated sum unless asked
    small, _ = _ring_model(4, [1.0] * 4)
    assert marginalize(small, "s").history[-1].rule == "explicit enumeration"
    assert marginalize(small, "s", transfer_matrix=True).history[-1].rule == "transfer matrix"


def test_transfer_matrix_term_saves_and_a_gaussian_coupled_to_it_is_a_mixture():
    from symrg.output.serialize import dumps, loads

    n = 6
    rng = np.random.default_rng(6)
    J = np.zeros((n, n))
    for i in range(n):
        J[i, (i + 1) % n] = J[(i + 1) % n, i] = rng.normal(0, 0.8)
    m = energy_model([("s", n, "spin"), ("g", 2, "gaussian")], [("s", "g")])
    m = m.with_(quadratic={**m.quadratic, "s": sp.ImmutableMatrix(-J)})
    tm = marginalize(m, "s", transfer_matrix=True)
    assert loads(dumps(tm)) == tm
    z = marginalize(m, "s", "g", transfer_matrix=True)
    assert z.history[-1].rule == "Gaussian mixture integral"
    vals = {"b_s": rng.normal(0, 0.5, n), "b_g": rng.normal(0, 0.5, 2), "W_sg": rng.normal(0, 0.5, (n, 2))}
    S = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    eta = vals["b_g"] + S @ vals["W_sg"]
    logs = S @ vals["b_s"] + 0.5 * np.einsum("ci,ij,cj->c", S, J, S) + np.log(2 * np.pi) + 0.5 * (eta**2).sum(axis=1)
    ref = -(logs.max() + np.log(np.exp(logs - logs.max()).sum()))
    assert float(np.squeeze(z.lambdify()(**vals))) == pytest.approx(ref, rel=1e-12)


def test_self_couplings_from_energy_model_use_the_transfer_matrix():
    # an open chain written with energy_model's self coupling: Z = 2 (2 cosh K)^(n-1) without field
    K = sp.Symbol("K")
    n = 30
    m = energy_model([("s", n, "spin")], {("s", "s"): (K, [(i, i + 1) for i in range(n - 1)])}, biases={"s": 0})
    z = marginalize(m, "s")
    assert z.history[-1].rule == "transfer matrix" and not z.terms[0].ring
    for k in (-0.7, 0.2, 1.5):
        ref = np.log(2.0) + (n - 1) * np.log(2 * np.cosh(k))
        assert float(-z.lambdify()(K=k)) == pytest.approx(ref, rel=1e-13)


def test_a_transfer_matrix_term_has_no_cumulant_series():
    from symrg.engine.effective import cumulant_series

    m, _ = _ring_model(8, [0.5] * 8)
    with pytest.raises(ModelError, match="transfer matrix"):
        cumulant_series(marginalize(m, "s"), 2)


def test_a_large_coupled_layer_is_refused_by_the_enumeration_guard(monkeypatch):
    # too large to read its block entry by entry; the refusal gives the enumeration's count.
    # The entry limit is lowered so that a 60-spin layer is "too large" (a 500-spin layer
    # took 10 s just to build its 250,000 named entries).
    import symrg.model.expressions as expressions

    monkeypatch.setattr(expressions, "MAX_EXPLICIT_ENTRIES", 1000)
    m = energy_model([("s", 60, "spin")], {("s", "s"): None}, biases={"s": 0})
    with pytest.raises(ModelError, match=r"layer 's'.*coupled to each other.*2\^60 = about 10\^18 configurations"):
        marginalize(m, "s")
