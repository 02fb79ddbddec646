import itertools

import mpmath
import numpy as np
import pytest

from symrg.engine.marginalization import marginalize
from symrg.model.energy import rbm, seed_dbm
from symrg.output.numeric import lambdify
from symrg.verify.brute_force import brute_force_log_weight, random_parameters


def _seed_values(rng, n_v, n_h, n_s):
    return dict(
        a=rng.normal(size=n_v), b=rng.normal(size=n_h), c=rng.normal(size=n_s),
        W=rng.normal(size=(n_v, n_h)) * 0.4, U=rng.normal(size=(n_h, n_s)) * 0.3,
    )


def test_mpmath_agrees_with_numpy_and_carries_50_digits():
    eff = marginalize(seed_dbm(3, 2, 2), "s", "h")
    rng = np.random.default_rng(0)
    vals = _seed_values(rng, 3, 2, 2)
    v = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    fn = eff.lambdify()
    fm = eff.lambdify(backend="mpmath", dps=50)
    x_np = fn(v=v, **vals)
    x_mp = fm(v=v, **vals)
    assert all(isinstance(x, mpmath.mpf) for x in x_mp)
    assert np.allclose([float(x) for x in x_mp], x_np, rtol=1e-12, atol=1e-12)
    # at 50 digits: the same value at 70 digits agrees to ~1e-48
    f70 = eff.lambdify(backend="mpmath", dps=70)
    with mpmath.workdps(70):
        x70 = f70(v=v[:2], **vals)
        assert all(abs(a - b) < mpmath.mpf(10) ** -45 for a, b in zip(x_mp[:2], x70))


def test_mpmath_enumerated_and_softplus_terms():
    from symrg.model.energy import dbm

    eff = marginalize(dbm([2, 2, 2], kinds=["spin", "bernoulli", "spin"]), "x2", "x1")
    vals = random_parameters(eff.original, np.random.default_rng(1))
    s = np.array([[1.0, -1.0], [-1.0, -1.0]])
    a = eff.lambdify()(x0=s, **vals)
    b = eff.lambdify(backend="mpmath")(x0=s, **vals)
    assert np.allclose([float(x) for x in b], a, rtol=1e-13)


@pytest.mark.parametrize("field", [1000.0, -1000.0])
@pytest.mark.parametrize("hidden", ["bernoulli", "spin"])
def test_huge_fields_stay_finite_and_correct(field, hidden):
    eff = marginalize(rbm(2, 3, hidden=hidden), "h")
    W = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
    vals = dict(a=np.array([0.1, -0.2]), b=np.full(3, field), W=W)
    v = np.array(list(itertools.product([0.0, 1.0], repeat=2)))
    eta = field + v @ W
    if hidden == "bernoulli":
        a_exact = np.where(eta > 0, eta + np.log1p(np.exp(-np.abs(eta))), np.log1p(np.exp(-np.abs(eta))))
    else:
        a_exact = np.abs(eta)  # log(2 cosh x) = |x| + log1p(exp(-2|x|)), and exp(-2|x|) < 1e-800
    expected = -(v @ vals["a"]) - a_exact.sum(axis=1)
    for backend in ("numpy", "mpmath"):
        got = np.array([float(x) for x in np.atleast_1d(eff.lambdify(backend=backend)(v=v, **vals))])
        assert np.all(np.isfinite(got))
        assert np.allclose(got, expected, rtol=1e-15, atol=0)


def test_argument_order_is_documented_and_checked(H_explicit):
    f = H_explicit.lambdify()
    assert f.arguments == ("v", "a", "b", "c", "W", "U")
    assert "Arguments, in order: v, a, b, c, W, U" in f.__doc__
    with pytest.raises(TypeError, match=r"missing \['U'\]"):
        f(v=np.zeros(2), a=np.zeros(2), b=np.zeros(2), c=np.zeros(2), W=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"parameter 'W' rows: expected size 2, got 3"):
        f(v=np.zeros(2), a=np.zeros(2), b=np.zeros(2), c=np.zeros(2), W=np.zeros((3, 2)), U=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unknown backend 'torch'; valid back-ends: numpy, mpmath"):
        lambdify(seed_dbm(), backend="torch")


def test_abstract_and_explicit_modes_agree_numerically(H_abstract):
    rng = np.random.default_rng(7)
    vals = _seed_values(rng, 4, 3, 2)
    v = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    ab = H_abstract.lambdify()(v=v, **vals)
    ex = marginalize(seed_dbm(4, 3, 2), "s", "h").lambdify()(v=v, **vals)
    ref = brute_force_log_weight(seed_dbm(4, 3, 2), vals, {"v": v})
    assert np.allclose(ab, ex, rtol=1e-13) and np.allclose(ab, ref, rtol=1e-12)
    with pytest.raises(ValueError, match="size n_h is 3 elsewhere, got 4"):
        H_abstract.lambdify()(v=v, **{**vals, "U": np.zeros((4, 2))})


def test_vectorized_batch_equals_one_by_one():
    eff = marginalize(rbm(4, 3, hidden="spin"), "h")
    vals = random_parameters(eff.original, np.random.default_rng(2))
    v = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    f = eff.lambdify()
    batch = f(v=v, **vals)
    single = [f(v=x, **vals) for x in v]
    assert batch.shape == (16,) and isinstance(single[0], float)
    assert np.array_equal(batch, np.array(single))
