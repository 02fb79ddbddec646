"""Diagnosis of a mismatch: each kind of difference is named, with its value, and how it was established."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symrg.verify.diagnosis import KINDS, Diagnosis, diagnose, sympy_points

K, h, g = sp.symbols("K h g", real=True)
cp, cm, ch = sp.cosh(2 * K + h), sp.cosh(2 * K - h), sp.cosh(h)
# the b = 2 decimation of the Ising chain as the engine writes it (logs split)
KP = sp.log(cp) / 4 + sp.log(cm) / 4 - sp.log(ch) / 2
HP = h + sp.log(cp) / 2 - sp.log(cm) / 2
GP = 2 * g + sp.log(ch) / 2 + sp.log(cm) / 4 + sp.log(cp) / 4 + sp.log(2)

CASES = [
    # (claim as a person would get it wrong, derived, kind, value)
    (sp.log(cp * cm / ch**2) / 2, KP, "factor", sp.Integer(2)),
    (sp.log(cp * cm / ch**2) / 8, KP, "factor", sp.Rational(1, 2)),
    (sp.log(cp * cm / ch**2) / 4 + sp.log(2), KP, "offset", sp.log(2)),
    (GP - sp.log(2), GP, "offset", -sp.log(2)),
    (-sp.log(cp * cm / ch**2) / 4, KP, "sign", -1),
    (sp.log(cp * cm) / 4, KP, "missing term", -sp.log(ch) / 2),
    (HP + sp.tanh(K), HP, "extra term", sp.tanh(K)),
    (h - sp.log(cp / cm) / 2, HP, "term sign", sp.log(cp / cm) / 2),
    (sp.log(cp * cm / ch) / 4, KP, "term coefficient", -sp.log(ch) / 2),
    (sp.sqrt(h**2) + K, h + K, "domain", h),
    (sp.Abs(K) * sp.tanh(h), K * sp.tanh(h), "domain", K),
]


@pytest.mark.parametrize("claim,derived,kind,value", CASES, ids=[c[2] + str(i) for i, c in enumerate(CASES)])
def test_each_kind_is_named_with_its_value(claim, derived, kind, value):
    d = diagnose(claim, derived)
    assert isinstance(d, Diagnosis) and d.kind == kind, d
    assert d.kind in KINDS
    if isinstance(value, sp.Symbol):
        assert d.value.name == value.name
    else:
        assert sp.simplify(sp.expand_log(d.value - value, force=True)) == 0, d.value
    assert d.established == "symbolic" and d.points >= 3
    assert d.text().startswith(d.text().split(":")[0]) and "proved symbolically" in str(d)


def test_the_named_relation_really_holds_at_independent_points():
    # recompute claim - derived at fresh points with mpmath-backed sympy evaluation, not the diagnosis' own points
    for claim, derived, kind, _ in CASES:
        d = diagnose(claim, derived)
        pts = sympy_points([claim, derived], n=6, seed=123)
        for _, (c, dv) in pts:
            c, dv = complex(c), complex(dv)
            if kind == "factor":
                assert abs(c - complex(d.value) * dv) < 1e-12
            elif kind == "offset":
                assert abs(c - dv - complex(d.value)) < 1e-12
            elif kind == "sign":
                assert abs(c + dv) < 1e-12


def test_transposed_explicit_matrix_and_one_wrong_entry():
    a, b = sp.symbols("a b", real=True)
    T = sp.ImmutableMatrix([[sp.exp(K + h), sp.exp(-K + h)], [sp.exp(-K - h), sp.exp(K - h)]])
    d = diagnose(T.T, T)
    assert (d.kind, d.established) == ("transpose", "symbolic")
    wrong = sp.ImmutableMatrix([[sp.exp(K + h), sp.exp(-K + h)], [2 * sp.exp(-K - h), sp.exp(K - h)]])
    d = diagnose(wrong, T)
    assert d.kind == "term" and d.value == (2, 1) and "2 times" in d.detail
    assert diagnose(-T, T).kind == "sign"
    assert diagnose(sp.ImmutableMatrix([[a, b], [b, a]]) * 3, sp.ImmutableMatrix([[a, b], [b, a]])).value == 3


def test_numeric_only_findings_say_so():
    # the claim agrees with the derived result only for h > 0, in a form sympy does not simplify
    claim, derived = sp.acosh(sp.cosh(h)) * sp.exp(K), h * sp.exp(K)
    d = diagnose(claim, derived)
    assert d.kind == "domain" and d.value.name == "h"
    assert "where h > 0" in d.detail


def test_an_evaluator_from_the_caller_is_used_for_matrix_expressions():
    W = sp.MatrixSymbol("W", 2, 2)
    v = sp.MatrixSymbol("v", 2, 1)
    rng = np.random.default_rng(0)

    def evaluate(exprs):
        out = []
        for _ in range(6):
            Wv, vv = rng.normal(size=(2, 2)), rng.normal(size=(2, 1))
            env = {W: sp.ImmutableMatrix(Wv), v: sp.ImmutableMatrix(vv)}
            vals = [np.array(sp.ImmutableMatrix(e.xreplace(env).doit()).evalf(), dtype=complex) for e in exprs]
            out.append(({"W": Wv, "v": vv}, vals))
        return out

    d = diagnose(W * v, W.T * v, evaluate=evaluate)
    assert d.kind == "transposed symbol" and d.value == W and d.established == "numeric"
    assert diagnose(3 * W.T * v, W.T * v, evaluate=evaluate).value == 3


def test_no_diagnosis_when_the_difference_is_not_simple():
    assert diagnose(sp.tanh(K) ** 3, sp.tanh(K) ** 2) is None
