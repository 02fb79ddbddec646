"""Save/load round-trips every result type exactly, and refuses hostile files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.examples import seed_derivation
from symrg.model.energy import dbm, energy_model, rbm, seed_dbm
from symrg.model.units import Gaussian
from symrg.output.serialize import SerializeError, dumps, load, loads, models_equal, save
from symrg.rg.chain import decimate_chain
from symrg.rg.migdal_kadanoff import migdal_kadanoff

J = sp.Symbol("J", real=True)
beta = sp.Symbol("beta", positive=True)


def _models():
    return {
        "seed abstract": seed_dbm(),
        "seed H(v,h) with a Gaussian term": marginalize(seed_dbm(), "s"),
        "seed H(v)": marginalize(seed_dbm(), "s", "h"),
        "seed explicit H(v)": marginalize(seed_dbm(3, 2, 2), "s", "h"),
        "rbm spin": marginalize(rbm(3, 2, hidden="spin"), "h"),
        "rbm discrete": marginalize(rbm(2, 2, hidden=[0, 1, 2]), "h"),
        "enumerated": marginalize(dbm([2, 2, 2], ["spin", "spin", "spin"]), "x1", "x0"),
        "precision parameter": marginalize(
            energy_model([("v", 2, "bernoulli"), ("h", 2, "gaussian")], [("v", "h")], precisions={"h": "P"}), "h"),
        "symbolic entries": marginalize(
            energy_model([("v", 2, "spin"), ("h", 1, "spin")], {("v", "h"): [[J], [beta * J]]}, biases={"v": 0, "h": 0}), "h"),
        "Gaussian kind with symbolic precision": energy_model(
            [("v", 2, "spin"), ("h", 2, Gaussian(beta))], [("v", "h")], constant=sp.Float("0.1", 40)),
    }


@pytest.mark.parametrize("name", list(_models()))
def test_models_round_trip_exactly(name, tmp_path):
    m = _models()[name]
    back = load(save(m, tmp_path / "m.json"))
    assert models_equal(back, m) and back == m and back is not m
    assert back.energy == m.energy
    assert back.latex() == m.latex()
    assert dumps(back) == dumps(m)  # a second round trip changes nothing
    assert back.lambdify().arguments == m.lambdify().arguments


def test_loaded_model_keeps_working():
    H_vh = loads(dumps(marginalize(seed_dbm(3, 2, 2), "s")))
    H_v = marginalize(H_vh, "h")  # resume the derivation
    assert models_equal(H_v, marginalize(seed_dbm(3, 2, 2), "s", "h"))
    assert H_v == marginalize(seed_dbm(3, 2, 2), "s", "h")


def test_models_equal_sees_differences():
    a = marginalize(seed_dbm(), "s", "h")
    assert not models_equal(a, marginalize(seed_dbm(), "s"))
    assert not models_equal(a, a.with_(constant=a.constant + 1))
    assert a != a.with_(constant=a.constant + 1)
    assert not models_equal(a, a.with_(original=None))
    assert not models_equal(a, "not a model")


def _maps():
    b = sp.Symbol("b", positive=True)
    K, u = sp.symbols("K u")
    general = decimate_chain("spin", b, couplings=("K",)).recursion_map
    return {
        "chain b=2 with constant": decimate_chain("spin", 2).recursion_map,
        "chain general b": general,
        "changed variables (origin)": general.change_variables([u], [sp.tanh(K)], [sp.atanh(u)]),
        "Migdal-Kadanoff d=3": migdal_kadanoff(3, 2),
    }


@pytest.mark.parametrize("name", list(_maps()))
def test_recursion_maps_round_trip_exactly(name):
    m = _maps()[name]
    back = loads(dumps(m))
    assert back == m
    assert back.origin == m.origin and back.constant == m.constant and back.name == m.name
    assert back.latex() == m.latex()


def test_expressions_round_trip_exactly():
    doc = seed_derivation(n_v=3, n_h=2, n_s=2)
    x = sp.Symbol("x", positive=True, integer=True)
    exprs = list(doc.results.values()) + [
        sp.Float("3.14159265358979323846264338327950288", 50),
        sp.Rational(-7, 3) * sp.pi + sp.E + sp.I,
        sp.Integer(10) ** 80 + 1,
        sp.ImmutableMatrix([[1, x], [sp.Rational(1, 2), sp.log(x)]]),
        sp.Piecewise((x, x > 2), (x**2, True)),
        sp.Add(x, x, evaluate=False),  # unevaluated structure is kept
        sp.oo, -sp.oo, sp.zoo,
    ]
    for e in exprs:
        back = loads(dumps(e))
        assert back == e and type(back) is type(e), e
        assert sp.srepr(back) == sp.srepr(e)
    pi50 = exprs[len(doc.results)]
    assert loads(dumps(pi50))._prec == pi50._prec
    # mutable matrices come back immutable (results are immutable), with equal entries
    assert loads(dumps(sp.Matrix([[1, x]]))) == sp.ImmutableMatrix([[1, x]])


@pytest.mark.parametrize(
    "nodes,data,message",
    [
        ([{"t": "eval", "a": []}], 0, "class 'eval' is not allowed"),
        ([{"t": "Function"}], 0, "class 'Function' is not allowed"),
        ([{"t": "Symbol", "name": "x", "assumptions": {"__class__": True}}], 0, "unknown assumption"),
        ([{"t": "Add", "a": [0]}], 0, "earlier nodes"),
        ([{"t": "Integer", "v": "1" * 200_000}], 0, "bad integer"),
        ([{"t": "Integer", "v": "__import__('os')"}], 0, "bad integer"),
        ([{"t": "Str", "v": 3}], 0, "bad Str"),
        ([], 5, "out of range"),
        ([{"t": "Symbol", "name": "x"}, {"t": "Determinant", "a": [0]}], 1, "cannot rebuild"),
    ],
)
def test_hostile_files_are_refused(nodes, data, message):
    text = json.dumps({"format": "symrg", "version": 1, "type": "Expr", "nodes": nodes, "data": data})
    with pytest.raises(SerializeError, match=message):
        loads(text)


def test_bad_headers():
    with pytest.raises(SerializeError, match="not JSON"):
        loads("Add(Symbol('x'))")
    with pytest.raises(SerializeError, match="header"):
        loads(json.dumps({"nodes": []}))
    with pytest.raises(SerializeError, match="version 99"):
        loads(json.dumps({"format": "symrg", "version": 99}))
    with pytest.raises(SerializeError, match="cannot save a NoneType"):
        dumps(None)
    with pytest.raises(SerializeError, match="dummy"):
        dumps(sp.Dummy("d") + 1)


# --------------------------------------------------------------------------------------
# every result type saves and loads to an equal value (issue 10 item 6)
# --------------------------------------------------------------------------------------


def _result_cases() -> dict:

    from symrg.engine.canonical import canonical_form
    from symrg.engine.cumulant_expansion import cumulant_expansion
    from symrg.engine.effective import cumulant_series
    from symrg.engine.trained import from_arrays
    from symrg.model.energy import rbm, seed_dbm
    from symrg.rg.block_exact import exact_renormalization
    from symrg.rg.chain import decimate_chain
    from symrg.rg.cluster_expansion import cumulant_rg
    from symrg.rg.coarse import decimation, majority
    from symrg.rg.lattice import chain, chain_blocks, ising_model
    from symrg.rg.recursion import free_energy_from_flow

    x = sp.Symbol("x")
    rmap = decimate_chain("spin", 2).recursion_map
    ring = ising_model(chain(8), {"K": 1})
    line = ising_model(chain(), {"K": 1})
    return {
        "ChainDecimation": lambda: decimate_chain("spin", 2),
        "ChainDecimation (projected, dropped terms)": lambda: decimate_chain("spin", 3, project_onto=("K",)),
        "FixedPoint": lambda: rmap.fixed_points(seeds=[(0.3, 0.0)])[0],
        "Flow": lambda: rmap.iterate([0.3, 0.1], 3),
        "Flow (mpmath)": lambda: rmap.iterate([0.3, 0.1], 3, backend="mpmath"),
        "FlowFreeEnergy": lambda: free_energy_from_flow(rmap, {"K": 0.5, "h": 0.1}),
        "ExactRenormalization": lambda: exact_renormalization(ring, chain_blocks(ring.lattice, 2), decimation(), {"K": 0.3}),
        "CumulantRG": lambda: cumulant_rg(line, chain_blocks(line.lattice, 2), decimation(), 2),
        "CumulantRG (majority rule)": lambda: cumulant_rg(ising_model(chain(), {"K": 1}), chain_blocks(chain(), 3), majority(), 1),
        "CanonicalForm": lambda: canonical_form(marginalize(seed_dbm(2, 1, 1), "s", "h")),
        "CumulantSeries": lambda: cumulant_series(marginalize(rbm(2, 2), "h"), 2),
        "CumulantExpansion": lambda: cumulant_expansion(sp.Symbol("K") * x, {x: "spin"}, 3, variable="natural"),
        "TrainedRBM": lambda: from_arrays(np.array([[1.0, -2.0]]), [0.5], [0.0, 0.1]),
    }


RESULT_CASES = _result_cases()


@pytest.mark.parametrize("name", list(RESULT_CASES))
def test_every_result_type_round_trips(name):
    obj = RESULT_CASES[name]()
    text = dumps(obj)
    back = loads(text)
    assert type(back) is type(obj)
    assert back == obj
    assert dumps(back) == text  # a fixed point: nothing was re-simplified on the way


def test_a_loaded_chain_decimation_still_computes():
    from symrg.rg.chain import decimate_chain, transfer_matrix_log_z

    c = loads(dumps(decimate_chain("spin", 2)))
    f = c.recursion_map.numeric("numpy")
    K1, h1 = f(0.4, 0.1)[:2]
    # independent: the decimated chain's images from the naive formula
    import math

    lc = lambda z: math.log(math.cosh(z))  # noqa: E731
    assert abs(K1 - (-lc(0.1) / 2 + lc(0.8 - 0.1) / 4 + lc(0.8 + 0.1) / 4)) < 1e-12
    assert abs(h1 - (0.1 - lc(0.8 - 0.1) / 2 + lc(0.8 + 0.1) / 2)) < 1e-12
    assert transfer_matrix_log_z is not None


def test_results_that_hold_python_functions_are_refused():
    from symrg.rg.cluster_expansion import cumulant_rg
    from symrg.rg.coarse import custom
    from symrg.rg.lattice import chain, chain_blocks, ising_model

    model = ising_model(chain(), {"K": 1})
    res = cumulant_rg(model, chain_blocks(model.lattice, 2), custom(lambda x: sp.Integer(1) if x[0] > 0 else sp.Integer(0)), 1)
    with pytest.raises(SerializeError, match="Python function"):
        dumps(res)


def test_tampered_results_are_refused():
    from symrg.rg.chain import decimate_chain

    d = json.loads(dumps(decimate_chain("spin", 2)))
    bad = json.loads(json.dumps(d))
    bad["data"]["obj"] = "Popen"
    with pytest.raises(SerializeError, match="unknown result class"):
        loads(json.dumps(bad))
    bad = json.loads(json.dumps(d))
    bad["data"]["fields"]["__class__"] = {"v": "x"}
    with pytest.raises(SerializeError, match="unknown fields"):
        loads(json.dumps(bad))
    bad = json.loads(json.dumps(d))
    bad["data"]["fields"]["b"] = {"f": "nan"}
    with pytest.raises(SerializeError):
        loads(json.dumps(bad))
