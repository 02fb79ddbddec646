"""One random-parameter sampler for crosscheck and verify (issue 10: a false crosscheck failure)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.errors import VerifyError
from symrg.model.energy import energy_model
from symrg.verify.brute_force import crosscheck, random_parameters
from symrg.verify.sampling import random_matrix

n_v, n_h = sp.symbols("n_v n_h", integer=True, positive=True)


@pytest.mark.parametrize("seed", range(5))
def test_abstract_model_with_named_precision_crosschecks(seed):
    # was: error 0.59 (seed 0), because P was drawn non-symmetric: the effective model
    # inverts P while the brute-force reference only contracts its symmetric part
    model = energy_model([("v", n_v, "bernoulli"), ("h", n_h, "gaussian")], [("v", "h")], precisions={"h": "P"})
    report = crosscheck(marginalize(model, "h"), sizes={n_v: 3, n_h: 2}, seed=seed)
    assert report.max_abs_error < 1e-10
    assert report.passed


def test_explicit_model_with_named_precision_crosschecks():
    model = energy_model([("v", 3, "spin"), ("h", 3, "gaussian")], [("v", "h")], precisions={"h": "P"})
    report = crosscheck(marginalize(model, "h"), seed=2)
    assert report.max_abs_error < 1e-10 and report.passed


@pytest.mark.parametrize("size", [1, 2, 4])
def test_named_precisions_are_symmetric_positive_definite(size):
    model = energy_model([("v", n_v, "spin"), ("h", n_h, "gaussian")], [("v", "h")], precisions={"h": "P"})
    rng = np.random.default_rng(size)
    for _ in range(20):
        vals = random_parameters(model, rng, {n_v: 2, n_h: size})
        P = vals["P"]
        assert P.shape == (size, size)
        assert np.array_equal(P, P.T)
        assert np.linalg.eigvalsh(P).min() >= 1.0 - 1e-12  # I + A A^T
        assert vals["b_v"].shape == (2,) and vals["W_vh"].shape == (2, size)


def test_random_matrix_roles():
    rng = np.random.default_rng(0)
    W = random_matrix(rng, 400, 100, "matrix", 0.5)
    assert abs(W.std() - 0.5 / np.sqrt(400)) < 0.002
    b = random_matrix(rng, 4000, 1, "vector", 0.5)
    assert abs(b.std() - 1.0) < 0.05
    with pytest.raises(VerifyError, match="square"):
        random_matrix(rng, 2, 3, "precision", 0.5)
    with pytest.raises(VerifyError, match="valid roles: precision, vector, matrix"):
        random_matrix(rng, 2, 2, "bias", 0.5)
