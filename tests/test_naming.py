"""One entry-naming rule (issue 10): the model's symbols, the printers and verify agree."""

from __future__ import annotations

import pytest
import sympy as sp

from symrg.model.energy import energy_model, rbm
from symrg.model.naming import entry_name, entry_names
from symrg.output.printing import latex, text
from symrg.verify.verdict import _entry_names


@pytest.mark.parametrize("n_v, n_h", [(2, 3), (3, 12), (11, 1)])
def test_model_symbols_follow_the_rule(n_v, n_h):
    m = rbm(n_v, n_h)
    W = m.params["W"].value
    for i in range(n_v):
        for j in range(n_h):
            # written out independently of naming.py
            idx = f"{i + 1},{j + 1}" if max(n_v, n_h) >= 10 else f"{i + 1}{j + 1}"
            assert str(W[i, j]) == f"W_{{{idx}}}" == entry_name("W", (i, j), (n_v, n_h))


def test_printers_render_abstract_entries_with_the_same_names():
    for rows, cols in [(2, 3), (2, 12), (10, 2)]:
        M = sp.MatrixSymbol("W", rows, cols)
        for i, j in [(0, 1), (1, 0), (rows - 1, cols - 1)]:
            name = entry_name("W", (i, j), (rows, cols))
            assert text(M[i, j]) == name
            assert latex(M[i, j]) == name
    n = sp.Symbol("n", integer=True, positive=True)
    assert text(sp.MatrixSymbol("W", n, 12)[0, 11]) == "W_{1,12}"
    assert text(sp.MatrixSymbol("W", n, n)[0, 1]) == "W_{12}"  # symbolic sizes are not wide


def test_verify_maps_every_model_entry_name():
    # a coupling to a one-unit layer is a one-column matrix: W_{21}, not W_2
    m = energy_model([("v", 3, "spin"), ("h", 1, "spin")], {("v", "h"): "W"}, biases={"v": "a", "h": 0})
    for p in m.params.values():
        rows, cols = p.value.shape
        names = _entry_names(p.symbol, rows, cols)
        for i in range(rows):
            for j in range(cols):
                assert names[str(p.value[i, j])] == (i, j)
    assert entry_names("W", 10, 2)["W_{10,2}"] == (9, 1)


@pytest.mark.parametrize("shape", [(2, 3), (3, 12), (12, 1)])
def test_parsers_read_every_entry_name_back(shape):
    from symrg.model.naming import subscript_indices
    from symrg.verify.parsing import Namespace

    rows, cols = shape
    M = sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(entry_name("W", (i, j), shape), real=True))
    ns = Namespace.from_expressions([M])
    for i in range(rows):
        for j in range(cols):
            name = str(M[i, j])
            assert subscript_indices(name[len("W_{"):-1]) == (i + 1, j + 1)
            assert ns.entry("W", (i + 1, j + 1)) == M[i, j]
