"""Trained weights: scikit-learn's BernoulliRBM on its bundled digits, and plain arrays."""

import itertools

import numpy as np
import pytest

from symrg.engine.trained import from_arrays, from_sklearn
from symrg.model.energy import ModelError


@pytest.fixture(scope="module")
def fitted():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.neural_network import BernoulliRBM

    X = (load_digits().data > 7).astype(float)
    est = BernoulliRBM(n_components=16, learning_rate=0.05, n_iter=5, random_state=0).fit(X)
    return est, X


def test_free_energy_equals_sklearn_on_real_samples(fitted):
    est, X = fitted
    t = from_sklearn(est)
    assert t.values["W"].shape == (64, 16)
    ours = t.free_energy(X[:300])
    theirs = est._free_energy(X[:300])
    assert np.max(np.abs(ours - theirs) / np.maximum(1, np.abs(theirs))) < 1e-10


def test_exact_second_and_third_order_couplings_agree_with_the_fast_transform(fitted):
    est, _ = fitted
    t = from_sklearn(est)
    block = [3, 10, 19, 20, 27, 28, 35, 36, 43, 44, 51, 60]
    fast = t.block_couplings(block)
    checked = 0
    for k in (2, 3):
        for S in itertools.combinations(range(len(block)), k):
            mask = sum(1 << i for i in S)
            exact = t.coupling([block[i] for i in S])
            assert abs(exact - fast[mask]) < 1e-10 * max(1.0, abs(exact))
            checked += 1
    assert checked == 66 + 220
    # the pair coupling is the four-softplus closed form summed over hidden units
    W, b = t.values["W"], t.values["b"]
    i, j = block[0], block[1]
    def sp_(x):
        return np.logaddexp(0, x)

    four = -np.sum(sp_(b + W[i] + W[j]) - sp_(b + W[i]) - sp_(b + W[j]) + sp_(b))
    assert abs(t.coupling([i, j]) - four) < 1e-12


def test_conventions_of_plain_arrays():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 2))
    a, b = rng.normal(size=3), rng.normal(size=2)
    base = from_arrays(W, a, b)
    v = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    ref = -v @ a - np.logaddexp(0, v @ W + b).sum(1)
    assert np.allclose(base.free_energy(v), ref, rtol=1e-14)
    assert np.allclose(from_arrays(W.T, a, b, orientation="hidden_visible").free_energy(v), ref, rtol=1e-14)
    assert np.allclose(from_arrays(-W, -a, -b, energy="plus").free_energy(v), ref, rtol=1e-14)
    spins = from_arrays(W, a, b, units="spin")
    s = 2 * v - 1
    ref_s = -s @ a - np.log(2 * np.cosh(s @ W + b)).sum(1)
    assert np.allclose(spins.free_energy(s), ref_s, rtol=1e-14)


def test_bad_conventions_are_named():
    W = np.zeros((3, 2))
    with pytest.raises(ValueError, match="unknown orientation 'rows'; valid choices: visible_hidden, hidden_visible"):
        from_arrays(W, np.zeros(3), np.zeros(2), orientation="rows")
    with pytest.raises(ValueError, match=r"weights of shape \(2, 3\).*check the orientation"):
        from_arrays(W, np.zeros(3), np.zeros(2), orientation="hidden_visible")
    with pytest.raises(ValueError, match="pass a fitted BernoulliRBM"):
        from_sklearn(object())
    with pytest.raises(ModelError, match="distinct unit indices"):
        from_arrays(W, np.zeros(3), np.zeros(2)).coupling([0, 0])
