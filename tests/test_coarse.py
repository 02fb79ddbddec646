"""Coarse-graining rules: tables against their definitions, and error messages."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import sympy as sp

from symrg.rg.coarse import RULES, coarse_rule, custom, decimation, majority, smooth


def _configs(n):
    return [tuple(2 * ((k >> i) & 1) - 1 for i in range(n)) for k in range(1 << n)]


@pytest.mark.parametrize("n", [1, 3, 5])
def test_majority_odd(n):
    tab = majority().table(n)
    for x, p in zip(_configs(n), tab):
        assert p == (1 if sum(x) > 0 else 0)


def test_majority_even_tie_rules():
    for x, p in zip(_configs(4), majority(tie="random").table(4)):
        assert p == (1 if sum(x) > 0 else 0 if sum(x) < 0 else sp.Rational(1, 2))
    for x, p in zip(_configs(4), majority(tie="first").table(4)):
        assert p == (1 if sum(x) > 0 else 0 if sum(x) < 0 else (1 if x[0] > 0 else 0))
    for x, p in zip(_configs(2), majority(tie=lambda x: sp.Rational(1, 3)).table(2)):
        assert p == (1 if sum(x) > 0 else 0 if sum(x) < 0 else sp.Rational(1, 3))
    with pytest.raises(ValueError, match="majority rule on blocks of 4 sites can tie: give a tie rule"):
        majority().table(4)
    with pytest.raises(ValueError, match="unknown tie rule 'coin'; valid tie rules: random, first"):
        majority(tie="coin")


def test_decimation_and_smooth_tables():
    for x, p in zip(_configs(3), decimation(2).table(3)):
        assert p == (1 if x[2] > 0 else 0)
    with pytest.raises(ValueError, match="site=3 is outside a block of 3 sites"):
        decimation(3).table(3)
    lam = [0.3, -0.2, 0.5]
    for x, p in zip(_configs(3), smooth(lam).numeric_table(3)):
        assert abs(p - (1 + math.tanh(sum(l * xi for l, xi in zip(lam, x)))) / 2) < 1e-15
    L = sp.Symbol("Lambda")
    tab = smooth(L).table(2)
    assert tab[3] == (1 + sp.tanh(2 * L)) / 2 and tab[1] == sp.Rational(1, 2)
    assert smooth(L).symbols == (L,)
    assert np.allclose(smooth(L).numeric_table(2, {"Lambda": 0.4}), [(1 - math.tanh(0.8)) / 2, 0.5, 0.5, (1 + math.tanh(0.8)) / 2])
    with pytest.raises(ValueError, match="parameter\\(s\\) Lambda need numeric values"):
        smooth(L).numeric_table(2)
    with pytest.raises(ValueError, match="Lambda has 2 weights but the block has 3 sites"):
        smooth([1, 2]).table(3)


def test_smooth_limits_reach_decimation():
    # a large weight on one site is decimation
    tab = smooth([60, 0]).numeric_table(2)
    assert np.allclose(tab, decimation(0).numeric_table(2), atol=1e-15)


def test_custom_and_registry():
    r = custom(lambda x: 0.25 + 0.5 * (x[0] > 0))
    assert r.table(1) == (sp.Rational(1, 4), sp.Rational(3, 4))
    with pytest.raises(ValueError, match="probabilities must lie in \\[0, 1\\]"):
        custom(lambda x: 2).numeric_table(1)
    with pytest.raises(ValueError, match="unknown coarse-graining rule 'mode'; valid rules: decimation, majority, smooth, custom"):
        coarse_rule("mode")
    assert set(RULES) == {"decimation", "majority", "smooth", "custom"}
    assert coarse_rule("majority", tie="random") == majority(tie="random")
    with pytest.raises(TypeError, match="rule 'smooth'"):
        coarse_rule("smooth", lam=1)


@pytest.mark.parametrize("rule", [decimation(1), majority(tie="random"), smooth([0.2, 0.7, -0.1, 0.4])])
def test_probabilities_valid(rule):
    n = 4 if rule.name != "decimation" else 3
    tab = rule.numeric_table(n)
    assert np.all((tab >= 0) & (tab <= 1))
    # conditional probabilities of h = -1 and +1 add to one by construction; symmetric rules
    # satisfy p(+|x) = p(-|-x)
    if rule.name != "decimation":
        for k in range(1 << n):
            assert abs(tab[k] - (1 - tab[(1 << n) - 1 - k])) < 1e-15


def test_block_size_validation():
    with pytest.raises(ValueError, match="block size must be a positive integer"):
        majority().table(0)
    assert list(itertools.islice(majority().table(1), 2)) == [0, 1]
