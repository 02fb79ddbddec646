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


# --------------------------------------------------------------------------------------
# LaTeX symbols of layers and parameters (issue 12, item 1)
# --------------------------------------------------------------------------------------


def test_symbols_of_units_and_entries():
    from symrg.model.naming import entry_latex, split_entry, symbol_latex

    assert split_entry("b_h1_12") == ("b_h1", (12,), False)
    assert split_entry("W_h1h2_{1,12}") == ("W_h1h2", (1, 12), True)
    assert split_entry("K") is None and split_entry("n_v") is None
    # a name with digits: its symbol numbers it, and every entry separates its indices by commas
    assert symbol_latex("h1_2") == "h^{(1)}_{2}"
    assert symbol_latex("b_h1_1") == "b^{(h^{(1)})}_{1}"
    assert symbol_latex("W_vh1_{12}") == "W^{(v,h^{(1)})}_{1,2}"
    assert symbol_latex("W_0_{21}") == "W^{(0)}_{2,1}"
    assert symbol_latex("C_2_{11}") == "C^{(2)}_{1,1}"
    assert symbol_latex("W_vh_{12}") == "W^{(v,h)}_{12}"  # no digit anywhere: sizes <= 9 stay compact
    # plain names are the printer's (sympy's) business, so rg symbols such as K_1 or alpha_0 keep theirs
    assert [symbol_latex(n) for n in ("v_1", "W_{12}", "K_1", "alpha_0", "x")] == [None] * 5
    # user symbols, braced when they carry a subscript of their own
    assert symbol_latex("h1_2", {"h1": r"\tilde h"}) == r"\tilde h_{2}"
    assert symbol_latex("b_v_3", {"b_v": r"\theta_{v}"}) == r"{\theta_{v}}_{3}"
    assert symbol_latex("W_{12}", {"W": "w^{2}"}) == "w^{2}_{1,2}"
    assert entry_latex("W", (1, 12), comma=True) == "W_{1,12}"


def test_printers_use_the_symbols_and_text_keeps_the_names():
    m = energy_model([("v", 2, "spin"), ("h1", 12)], [("v", "h1")])
    W = m.params["W_vh1"].value
    assert latex(W[0, 11]) == "W^{(v,h^{(1)})}_{1,12}" and text(W[0, 11]) == "W_vh1_{1,12}"
    unit = m.layer("h1").states[10]
    assert latex(unit) == "h^{(1)}_{11}" and text(unit) == "h1_11"
    M = sp.MatrixSymbol("W_vh1", 2, 12)
    assert latex(M[1, 3]) == "W^{(v,h^{(1)})}_{2,4}" and text(M[1, 3]) == "W_vh1_{2,4}"
    assert latex(M.T) == "{W^{(v,h^{(1)})}}^{T}" and latex(sp.Inverse(sp.MatrixSymbol("C_2", 3, 3))) == "{C^{(2)}}^{-1}"
    # a column's entries read like the names of a field's entries
    assert latex(sp.MatrixSymbol("b_h1", 3, 1)[2, 0]) == "b^{(h^{(1)})}_{3}"


@pytest.mark.parametrize("tex, why", [
    ("h\\input{secret}", "command \\input"),
    ("\\include{x}", "command \\include"),
    ("\\immediate\\write18{rm -rf /}", "command \\immediate"),
    ("\\openout1=x", "command \\openout"),
    ("\\def\\x{y}", "command \\def"),
    ("\\catcode`\\^=7", "command \\catcode"),
    ("\\csname input\\endcsname", "command \\csname"),
    ("h^^5cinput", "'^^'"),
    ("h % comment", "comment"),
    ("h#1", "macro parameter"),
    ("a & b", "alignment tab"),
    ("$h$", "math shift"),
    ("h\x00", "control character"),
    ("h\n", "control character"),
    ("h\u202e", "control character"),
    ("{h", "unbalanced"),
    ("h}{", "unbalanced"),
    ("h_", "without its argument"),
    ("h^_1", "without its argument"),
    ("", "empty"),
    ("\\", "stray backslash"),
    ("x" * 300, "limit"),
])
def test_bad_latex_symbols_are_refused_naming_the_culprit(tex, why):
    from symrg.errors import ModelError

    with pytest.raises(ModelError, match="layer 'h1'") as e:
        energy_model([("v", 2), ("h1", 2)], [("v", "h1")], latex_names={"h1": tex})
    assert why in str(e.value)
    with pytest.raises(ModelError, match="parameter 'W_vh1'"):
        energy_model([("v", 2), ("h1", 2)], [("v", "h1")], latex_names={"W_vh1": tex})


def test_latex_names_must_name_a_layer_or_a_parameter():
    from symrg.errors import ModelError

    with pytest.raises(ModelError, match=r"\['h9'\] name no layer or parameter"):
        energy_model([("v", 2), ("h1", 2)], [("v", "h1")], latex_names={"h9": "x"})
    with pytest.raises(ModelError, match="mapping"):
        energy_model([("v", 2), ("h1", 2)], [("v", "h1")], latex_names=[("h1", "x")])  # type: ignore[arg-type]


def test_good_symbols_are_kept_and_models_stay_hashable():
    from symrg.model.energy import dbm, seed_dbm

    good = {"h1": r"\mathbf{h}", "W_vh1": r"\tilde{W}_{\!1}", "b_v": r"\hat\theta\,'", "h2": r"\boldsymbol{\eta}"}
    m = dbm([2, 2, 2], names=["v", "h1", "h2"], weights=["W_vh1", "W"], latex_names=good)
    assert m.layer("h1").latex == r"\mathbf{h}" and m.params["W_vh1"].latex == r"\tilde{W}_{\!1}"
    assert m.layer("v").latex is None and m.params["W"].latex is None
    assert len({m.layer("h1"), m.layers[0], m.params["W_vh1"]}) == 3
    assert hash(m) == hash(dbm([2, 2, 2], names=["v", "h1", "h2"], weights=["W_vh1", "W"], latex_names=good))
    assert rbm(2, 1, latex_names={"W": "w"}).params["W"].latex == "w"
    assert seed_dbm(2, 2, 1, latex_names={"U": "K"}).params["U"].latex == "K"


def test_save_load_keeps_the_symbols_and_reads_files_without_them():
    import json

    from symrg.engine.marginalization import marginalize
    from symrg.output.serialize import dumps, loads

    m = energy_model([("v", 2, "spin"), ("h1", 2, "gaussian"), ("h2", 1)], [("v", "h1"), ("h1", "h2")],
                     latex_names={"h1": r"\tilde h", "W_vh1": "w"})
    eff = marginalize(m, "h1")
    for model in (m, eff):
        back = loads(dumps(model))
        assert back == model and back.latex() == model.latex()
        assert r"\tilde h" in back.original.latex() if back.original is not None else r"\tilde h" in back.latex()
    back = loads(dumps(eff))
    assert back.original.layer("h1").latex == r"\tilde h" and back.params["W_vh1"].latex == "w"
    # a file written before layers and parameters had symbols (no "latex" field) still loads
    plain = energy_model([("v", 2), ("h1", 2)], [("v", "h1")])
    doc = json.loads(dumps(plain))
    assert "latex" not in json.dumps(doc["data"])
    assert loads(json.dumps(doc)) == plain
    # a save file cannot smuggle a command into a document
    doc = json.loads(dumps(m))
    doc["data"]["layers"][1]["latex"] = r"\input{/etc/passwd}"
    from symrg.errors import SerializeError

    with pytest.raises(SerializeError, match="input"):
        loads(json.dumps(doc))


def test_named_functions_of_printed_forms_save_but_never_as_commands():
    import json

    from symrg.errors import SerializeError
    from symrg.output.serialize import dumps, loads

    b = sp.Symbol("b_1", real=True)
    e = sp.Function("kappa_2")(b) * 3 + sp.Function(r"\sigma")(b)
    assert loads(dumps(e)) == e
    for name in (r"\input", "kappa 2", "x" * 60, ""):
        doc = {"format": "symrg", "version": 1, "type": "Expr",
               "nodes": [{"t": "Symbol", "name": "x", "assumptions": {}}, {"t": "NamedFunction", "name": name, "a": [0]}], "data": 1}
        with pytest.raises(SerializeError, match="plain name"):
            loads(json.dumps(doc))
    with pytest.raises(SerializeError, match="cannot save the function"):
        dumps(sp.Function(r"\input")(b))
