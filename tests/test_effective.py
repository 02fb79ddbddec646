"""Cumulant series of marginalized layers against exact couplings and brute force."""

import itertools
import math

import numpy as np
import pytest
import sympy as sp

from symrg.engine.effective import convergence_ratio, cumulant_series, effective_couplings
from symrg.engine.marginalization import marginalize
from symrg.model.energy import ModelError, dbm, rbm, seed_dbm
from symrg.verify.brute_force import brute_force_log_weight


def _values(model, rng, w_scale):
    n_v, n_h = model.layer("v").size, model.layer("h").size
    return dict(a=rng.normal(size=n_v) * 0.5, b=rng.normal(size=n_h) * 0.5, W=rng.normal(size=(n_v, n_h)) * w_scale)


def _naive_couplings(original, vals, n, values):
    """Inclusion-exclusion (Bernoulli) or Walsh sums (spins) over brute-force energies."""
    configs = np.array(list(itertools.product(values, repeat=n)), float)
    H = dict(zip(map(tuple, configs), brute_force_log_weight(original, vals, {"v": configs})))
    out = {}
    for k in range(n + 1):
        for S in itertools.combinations(range(n), k):
            if values == (0.0, 1.0):
                out[S] = sum((-1) ** (k - len(T)) * H[tuple(1.0 if i in T else 0.0 for i in range(n))]
                             for r in range(k + 1) for T in itertools.combinations(S, r))
            else:
                out[S] = sum(h * np.prod([c[i] for i in S]) for c, h in H.items()) / 2**n
    return out


@pytest.mark.parametrize(
    "hidden,visible,n_v,seed,w_scale",
    [("bernoulli", "bernoulli", 5, 0, 0.25), ("spin", "bernoulli", 4, 1, 0.25), ("bernoulli", "spin", 4, 2, 0.25), ("spin", "spin", 5, 3, 0.1)],
)
def test_series_converges_to_exact_couplings(hidden, visible, n_v, seed, w_scale):
    rng = np.random.default_rng(seed)
    model = rbm(n_v, 3, visible=visible, hidden=hidden)
    eff = marginalize(model, "h")
    vals = _values(model, rng, w_scale=w_scale)
    values = (0.0, 1.0) if visible == "bernoulli" else (-1.0, 1.0)
    naive = _naive_couplings(model, vals, n_v, values)
    exact = effective_couplings(eff, vals)
    for S, c in naive.items():
        mask = sum(1 << i for i in S)
        assert abs(exact[mask] - c) < 1e-12
    series = cumulant_series(eff, order=7)
    subs = model.substitutions(vals)
    rho = convergence_ratio(series, subs)
    assert rho < 1
    units = series.units
    errors = []
    for N in range(1, 8):
        # fields and pairs get contributions from every order; higher couplings start at order |S|
        err = max(abs(float(series.total(*[units[i] for i in S], upto=N).xreplace(subs)) - naive[S]) for S in naive if 0 < len(S) <= 2)
        errors.append(err)
    # inside the radius the truncation error falls geometrically, like rho^N (up to a
    # constant; single steps need not decrease: parity and alternating signs)
    assert rho < 0.5
    assert all(errors[k] <= 10 * errors[0] * rho**k for k in range(len(errors))), (rho, errors)
    assert errors[-1] < 1e-3 * errors[0], errors
    # constant: the empty product is -sum_j A(b_j) - sum of zeroth-order pieces
    const = float(sp.N(series.constant.xreplace(subs)))
    assert abs(const - naive[()]) < 1e-3 * max(1.0, abs(naive[()]))


def test_series_orders_are_the_cumulant_weighted_weight_products():
    eff = marginalize(rbm(3, 2), "h")
    series = cumulant_series(eff, order=4)
    v1, v2, v3 = series.units
    W = eff.params["W"].value
    b = sp.Symbol("b_1", real=True)
    sig = 1 / (1 + sp.exp(-b))
    k3 = sig - 3 * sig**2 + 2 * sig**3
    # order 3, three distinct units: multiplicity 3!/(1!1!1!) = 6, weight 1/3!
    c = series.coupling(3, v1, v2, v3)
    expected = -sum(k * W[0, j] * W[1, j] * W[2, j] for j, k in enumerate([k3, k3.subs(b, sp.Symbol("b_2", real=True))]))
    rng = np.random.default_rng(0)
    subs = {s: rng.normal() for s in c.free_symbols | expected.free_symbols}
    assert abs(float(c.xreplace(subs)) - float(expected.xreplace(subs))) < 1e-12


def test_gaussian_survivor_contributions_are_in_the_base():
    eff = marginalize(seed_dbm(2, 1, 1), "s", "h")
    series = cumulant_series(eff, order=2)
    assert series.orders[1] == {} and series.orders[2] == {}
    assert series.total(*series.units) != 0  # W C W^T pair coupling


def test_errors():
    with pytest.raises(ModelError, match="enumeration"):
        cumulant_series(marginalize(dbm([2, 2, 2]), "x0", "x1"), 2)
    with pytest.raises(ValueError, match="order must be a positive integer"):
        cumulant_series(marginalize(rbm(2, 2), "h"), 0)
    with pytest.raises(ModelError, match="explicit"):
        cumulant_series(marginalize(rbm(sp.Symbol("n", integer=True, positive=True), 2), "h"), 2)
    with pytest.raises(ModelError, match="all Bernoulli or all spins"):
        effective_couplings(marginalize(rbm(2, 2, visible="gaussian"), "h"))
    with pytest.raises(ModelError, match=r"order 5 is not in this series \(orders 1..2\)"):
        cumulant_series(marginalize(rbm(2, 2), "h"), 2).coupling(5)


def test_symbolic_exact_pair_coupling_is_four_softplus():
    eff = marginalize(rbm(2, 1), "h")
    ex = effective_couplings(eff)
    v1, v2 = eff.layer("v").states
    c = ex[(v1, v2)]
    b, w1, w2 = sp.Symbol("b_1", real=True), sp.Symbol("W_{11}", real=True), sp.Symbol("W_{21}", real=True)
    four = -(sp.log(1 + sp.exp(b + w1 + w2)) - sp.log(1 + sp.exp(b + w1)) - sp.log(1 + sp.exp(b + w2)) + sp.log(1 + sp.exp(b)))
    for vals in ({b: 0.3, w1: -0.7, w2: 1.1}, {b: -2.0, w1: 0.5, w2: 0.25}):
        assert abs(float(c.xreplace(vals)) - float(four.xreplace(vals))) < 1e-14


def test_series_of_a_three_valued_visible_layer_matches_numeric_taylor_sums():
    import mpmath

    from symrg.model.units import Discrete

    kind = Discrete((0, 1, 2))
    model = rbm(2, 2, visible=kind, hidden="bernoulli")
    eff = marginalize(model, "h")
    N = 4
    series = cumulant_series(eff, order=N)
    rng = np.random.default_rng(8)
    vals = _values(model, rng, 0.3)
    subs = model.substitutions(vals)
    units = series.units
    for x in itertools.product([0, 1, 2], repeat=2):
        poly = series.constant + sum(series.total(*S) * sp.Mul(*S) for S in series.subsets())
        got = float(sp.N(poly.xreplace(subs).xreplace(dict(zip(units, x)))))
        t = np.array(x) @ vals["W"]
        ref = -float(np.dot(vals["a"], x))
        def A(e):
            return mpmath.log(1 + mpmath.exp(e))

        for j in range(2):
            ref -= float(A(vals["b"][j])) + sum(float(mpmath.diff(A, vals["b"][j], n)) * t[j] ** n / math.factorial(n) for n in range(1, N + 1))
        assert abs(got - ref) < 1e-9
