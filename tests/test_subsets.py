"""The subset recursion (engine/subsets.py) against the set-partition formula of joint cumulants."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
import sympy as sp

from symrg.engine.subsets import joint_cumulant_from_subsets


def _partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in _partitions(rest):
        for k in range(len(p)):
            yield p[:k] + [[first] + p[k]] + p[k + 1 :]
        yield [[first]] + p


def _by_partitions(mu, n):
    """kappa = sum_pi (|pi| - 1)! (-1)^(|pi| - 1) prod_{B in pi} mu(B)."""
    total = Fraction(0)
    for p in _partitions(list(range(n))):
        term = Fraction((-1) ** (len(p) - 1) * math.factorial(len(p) - 1))
        for block in p:
            term *= mu[sum(1 << i for i in block)]
        total += term
    return total


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_against_set_partitions(n):
    rng = random.Random(n)
    mu = [Fraction(1)] + [Fraction(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range((1 << n) - 1)]
    assert joint_cumulant_from_subsets(mu) == _by_partitions(mu, n)


def test_custom_ring_and_normalize():
    m = sp.symbols("m0:8")
    calls = []

    def expand(e):
        calls.append(e)
        return sp.expand(e)

    k3 = joint_cumulant_from_subsets(m, multiply=lambda a, b: a * b, subtract=lambda a, b: a - b, normalize=expand)
    assert len(calls) == 7  # every non-empty subset once
    assert k3 == sp.expand(m[7] - m[1] * m[6] - m[2] * m[5] - m[4] * m[3] + 2 * m[1] * m[2] * m[4])


@pytest.mark.parametrize("length", [0, 1, 3, 6])
def test_bad_length(length):
    with pytest.raises(ValueError, match="2\\*\\*n"):
        joint_cumulant_from_subsets([1] * length)
