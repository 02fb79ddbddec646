"""Gaussian mixtures: a Gaussian layer integrated after the discrete layers it touches were summed.

The reference is written here with numpy alone: the discrete layers are enumerated and,
for each configuration, every Gaussian layer that is not held fixed is integrated in
closed form (``log int exp(-1/2 x^T P x + eta^T x) dx = n/2 log 2 pi - 1/2 log det P +
1/2 eta^T P^{-1} eta``, with ``numpy.linalg.slogdet`` and ``solve``).  It shares no code
with the marginalization engine or the code generator.
"""

import itertools

import numpy as np
import pytest
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.model.energy import EnumeratedTerm, GaussianTerm, ModelError, energy_model, rbm

TOL = 1e-12
LAYERS = ("v", "h1", "h2", "h3")
VALUES = {"v": (-1.0, 1.0), "h2": (0.0, 1.0)}  # spin and Bernoulli; h1 and h3 are Gaussian


def four_layer(sizes, named_precisions=True):
    """``v`` (spin) - ``h1`` (Gaussian) - ``h2`` (Bernoulli) - ``h3`` (Gaussian), a chain."""
    lays = [(n, s, k) for n, s, k in zip(LAYERS, sizes, ("spin", "gaussian", "bernoulli", "gaussian"))]
    prec = {"h1": "P1", "h3": "P3"} if named_precisions else None
    return energy_model(lays, [("v", "h1"), ("h1", "h2"), ("h2", "h3")], precisions=prec)


def values(sizes, seed, named_precisions=True):
    rng = np.random.default_rng(seed)
    nv, n1, n2, n3 = sizes
    vals = {
        "b_v": rng.normal(0, 0.5, nv), "b_h1": rng.normal(0, 0.5, n1),
        "b_h2": rng.normal(0, 0.5, n2), "b_h3": rng.normal(0, 0.5, n3),
        "W_vh1": rng.normal(0, 0.5, (nv, n1)), "W_h1h2": rng.normal(0, 0.5, (n1, n2)),
        "W_h2h3": rng.normal(0, 0.5, (n2, n3)),
    }
    if named_precisions:
        for name, n in (("P1", n1), ("P3", n3)):
            a = rng.normal(0, 0.5, (n, n))
            vals[name] = a @ a.T + np.eye(n)
    return vals


def _lse(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def reference_log_weight(vals, sizes, fixed, named_precisions=True):
    """``-log`` of the sum / integral of ``exp(-E)`` over every layer not in ``fixed`` (numpy only)."""
    n = dict(zip(LAYERS, sizes))
    P = {g: vals[f"P{g[1]}"] if named_precisions else np.eye(n[g]) for g in ("h1", "h3")}
    b = {k: vals[f"b_{k}"] for k in LAYERS}
    W = {("v", "h1"): vals["W_vh1"], ("h1", "h2"): vals["W_h1h2"], ("h2", "h3"): vals["W_h2h3"]}
    discrete = [d for d in ("v", "h2") if d not in fixed]
    logs = []
    for cfg in itertools.product(*[itertools.product(VALUES[d], repeat=n[d]) for d in discrete]):
        x = dict(fixed)
        x.update({d: np.array(c) for d, c in zip(discrete, cfg)})
        log_w = b["v"] @ x["v"] + b["h2"] @ x["h2"]
        for g, nbrs in (("h1", ("v", "h2")), ("h3", ("h2",))):
            # eta_g = b_g + sum_M W_Mg^T x_M (the layers next to g are discrete, or fixed)
            eta = b[g] + sum((W[(m, g)].T @ x[m]) if (m, g) in W else (W[(g, m)] @ x[m]) for m in nbrs)
            if g in fixed:
                log_w += eta @ x[g] - x[g] @ P[g] @ x[g] / 2
            else:
                log_w += (n[g] * np.log(2 * np.pi) - np.linalg.slogdet(P[g])[1]
                          + eta @ np.linalg.solve(P[g], eta)) / 2
        logs.append(log_w)
    return -_lse(np.array(logs))


def _grid(sizes, remaining, rng, gaussian_points=3):
    """States of the remaining layers: every configuration of discrete ones, a few points of Gaussian ones."""
    n = dict(zip(LAYERS, sizes))
    per = []
    for lay in remaining:
        if lay in VALUES:
            per.append([np.array(c) for c in itertools.product(VALUES[lay], repeat=n[lay])])
        else:
            per.append([rng.normal(0, 1, n[lay]) for _ in range(gaussian_points)])
    return [dict(zip(remaining, combo)) for combo in itertools.product(*per)]


def _check_order(model, sizes, vals, order, rng, named_precisions=True):
    eff = marginalize(model, *order)
    remaining = [l for l in LAYERS if l not in order]
    assert list(eff.layer_names) == remaining
    f = eff.lambdify()
    points = _grid(sizes, remaining, rng)
    batch = {l: np.array([p[l] for p in points]) for l in remaining}
    got = np.atleast_1d(f(**batch, **vals))
    ref = np.array([reference_log_weight(vals, sizes, p, named_precisions) for p in points])
    assert np.allclose(got, ref, rtol=TOL, atol=TOL), (order, np.max(np.abs(got - ref)))
    return eff, got


SIZES = [(2, 2, 2, 2), (3, 2, 2, 1)]


@pytest.mark.parametrize("sizes", SIZES)
def test_every_order_of_the_hidden_layers_gives_H_of_v_and_log_Z(sizes):
    m = four_layer(sizes)
    vals = values(sizes, seed=sum(sizes))
    rng = np.random.default_rng(0)
    log_z = -reference_log_weight(vals, sizes, {})
    rules = set()
    for order in itertools.permutations(["h1", "h2", "h3"]):
        eff, H = _check_order(m, sizes, vals, order, rng)  # H(v) for every v
        rules |= {s.rule for s in eff.history}
        assert _lse(-H) == pytest.approx(log_z, rel=TOL, abs=TOL)  # log Z = log sum_v exp(-H(v))
    assert "Gaussian mixture integral" in rules


@pytest.mark.parametrize("sizes", SIZES)
def test_every_order_of_all_four_layers_gives_log_Z(sizes):
    m = four_layer(sizes)
    vals = values(sizes, seed=7 + sum(sizes))
    log_z = -reference_log_weight(vals, sizes, {})
    for order in itertools.permutations(LAYERS):
        z = marginalize(m, *order)
        assert z.layers == ()
        assert float(np.squeeze(-z.lambdify()(**vals))) == pytest.approx(log_z, rel=TOL, abs=TOL), order


@pytest.mark.parametrize("sizes", SIZES)
def test_partial_results_in_every_order(sizes):
    # one, two or three layers summed, in every order, v included: the remaining energy at
    # every configuration of the remaining discrete layers and a few Gaussian points
    m = four_layer(sizes)
    vals = values(sizes, seed=3)
    rng = np.random.default_rng(1)
    for k in (1, 2, 3):
        for order in itertools.permutations(LAYERS, k):
            _check_order(m, sizes, vals, order, rng)


def test_the_mixture_term_and_its_condition():
    sizes = (2, 2, 2, 2)
    eff = marginalize(four_layer(sizes), "v", "h2", "h1")
    # v and h2 summed in closed form, then h1 sits in both softplus / log 2cosh terms
    assert eff.history[-1].rule == "Gaussian mixture integral"
    assert "16 configurations" in eff.history[-1].detail
    (term,) = eff.terms_with("h3")
    assert isinstance(term, EnumeratedTerm) and term.layers == ("h3",)
    inner = [a for a in term.absorbed if isinstance(a, EnumeratedTerm)][0]
    gauss = [a for a in inner.absorbed if isinstance(a, GaussianTerm)][0]
    assert gauss.layer == "h1" and {m for m, _ in gauss.weights} == {"v", "h2"}
    # the precision P1 is the same for every configuration: one condition, one intermediate
    assert [c.matrix for c in eff.conditions].count(sp.MatrixSymbol("P1", 2, 2)) == 1
    assert [i.inverse_of for i in eff.intermediates] == [sp.MatrixSymbol("P1", 2, 2)]


def test_symbolic_energy_of_a_mixture_against_the_reference():
    # the printed expression (one exponent per configuration) evaluated at numbers
    sizes = (2, 1, 2, 1)
    m = four_layer(sizes, named_precisions=False)
    vals = values(sizes, seed=11, named_precisions=False)
    eff = marginalize(m, "h2", "h1", "h3")
    subs = eff.substitutions(vals)
    for v in itertools.product((-1.0, 1.0), repeat=2):
        s = dict(subs)
        s.update(dict(zip(eff.layer("v").states, v)))
        got = float(eff.energy.xreplace(s).evalf(30))
        assert got == pytest.approx(reference_log_weight(vals, sizes, {"v": np.array(v)}, False), rel=TOL)


def test_gaussian_visible_rbm_after_the_hidden_sum():
    # the case the issue quotes: h summed in closed form, then the Gaussian v
    m = rbm(3, 2, visible="gaussian", hidden="bernoulli")
    eff = marginalize(m, "h", "v")
    rng = np.random.default_rng(4)
    a, b, W = rng.normal(0, 0.5, 3), rng.normal(0, 0.5, 2), rng.normal(0, 0.5, (3, 2))
    ref = -_lse(np.array([
        (3 * np.log(2 * np.pi) + (a + W @ np.array(h)) @ (a + W @ np.array(h))) / 2 + b @ np.array(h)
        for h in itertools.product((0.0, 1.0), repeat=2)
    ]))
    assert float(np.squeeze(eff.lambdify()(a=a, b=b, W=W))) == pytest.approx(ref, rel=TOL)


def test_gaussian_term_inside_a_mixture_is_integrated_with_its_quadratic_part():
    # d (spin) couples to two Gaussian layers g and s that are also coupled to each other.
    # After d and then g, the Gaussian term of g (quadratic in s) sits inside the sum over
    # d: integrating s must take its s^T W S W^T s part into the precision.
    m = energy_model([("d", 2, "spin"), ("g", 2, "gaussian"), ("s", 2, "gaussian")],
                     [("d", "g"), ("d", "s"), ("g", "s")], precisions={"g": 2, "s": 3})
    rng = np.random.default_rng(5)
    vals = {"b_d": rng.normal(0, 0.5, 2), "b_g": rng.normal(0, 0.5, 2), "b_s": rng.normal(0, 0.5, 2),
            "W_dg": rng.normal(0, 0.5, (2, 2)), "W_ds": rng.normal(0, 0.5, (2, 2)), "W_gs": rng.normal(0, 0.5, (2, 2))}
    # reference: for each d the joint Gaussian (g, s) with precision [[2I, -W_gs], [-W_gs^T, 3I]]
    P = np.block([[2 * np.eye(2), -vals["W_gs"]], [-vals["W_gs"].T, 3 * np.eye(2)]])
    logs = []
    for d in itertools.product((-1.0, 1.0), repeat=2):
        d = np.array(d)
        eta = np.concatenate([vals["b_g"] + vals["W_dg"].T @ d, vals["b_s"] + vals["W_ds"].T @ d])
        logs.append(vals["b_d"] @ d + (4 * np.log(2 * np.pi) - np.linalg.slogdet(P)[1] + eta @ np.linalg.solve(P, eta)) / 2)
    log_z = _lse(np.array(logs))
    z = marginalize(m, "d", "g", "s")
    assert z.history[-1].rule == "Gaussian mixture integral"
    assert len(z.conditions) == 1 and len(z.intermediates) == 1  # 3I - W_gs^T W_gs / 2, one condition
    assert float(np.squeeze(-z.lambdify()(**vals))) == pytest.approx(log_z, rel=TOL)


# -- refusals give the true reason ---------------------------------------------------


def test_mixture_over_the_limit_names_the_layers_and_the_count():
    m = four_layer((6, 2, 7, 1))
    with pytest.raises(ModelError, match=r"Gaussian layer 'h1'.*summed layers 'v', 'h2': 8192 configurations.*"
                                         r"max_configurations=4096"):
        marginalize(m, "v", "h2", "h1")
    assert marginalize(m, "v", "h2", "h1", max_configurations=8192).layer_names == ("h3",)


def test_mixture_with_symbolic_sizes_is_refused_with_the_reason():
    n = sp.Symbol("n", integer=True, positive=True)
    m = rbm(n, n, visible="gaussian", hidden="bernoulli")
    with pytest.raises(ModelError, match=r"Gaussian layer 'v'.*mixture of Gaussian integrals, one per "
                                         r"configuration of 'h'.*explicit integer sizes.*symbolic size n"):
        marginalize(m, "h", "v")


def test_an_enumeration_around_nested_sums_counts_them():
    # h2 summed, h1 integrated as a mixture over h2 (16 configurations), then v (2^6) must
    # be enumerated around that mixture: 64 x 16 evaluations, above a guard of 1000
    m = four_layer((6, 2, 4, 1))
    with pytest.raises(ModelError, match=r"layer 'v'.*2\^6 = 64 configurations \(1024 with the sums nested.*"
                                         r"max_configurations=1000"):
        marginalize(m, "h2", "h1", "v", max_configurations=1000)
    assert marginalize(m, "h2", "h1", "v", max_configurations=1024).layer_names == ("h3",)
