"""Results are immutable value objects: == and hash work, str is a summary, LaTeX exists.

Each result type is built twice from the same input (two independent computations):
the two compare equal, hash alike and collapse in a set; a different input gives an
unequal result; mappings and arrays inside cannot be written; ``str`` is a readable
summary (not the dataclass repr) and ``_repr_latex_`` is a math-mode string.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import sympy as sp

from symrg.engine.canonical import canonical_form
from symrg.engine.cumulant_expansion import cumulant_expansion
from symrg.engine.effective import cumulant_series
from symrg.engine.marginalization import marginalize
from symrg.engine.trained import from_arrays
from symrg.model.energy import rbm, seed_dbm
from symrg.model.frozen import FrozenDict
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.chain import decimate_chain
from symrg.rg.cluster_expansion import cumulant_rg
from symrg.rg.coarse import decimation
from symrg.rg.lattice import chain, chain_blocks, ising_model
from symrg.rg.recursion import free_energy_from_flow
from symrg.verify.brute_force import crosscheck


def _chain_map():
    return decimate_chain("spin", 2).recursion_map


def _trained(w=1.0):
    return from_arrays(np.array([[w, -2.0]]), [0.5], [0.0, 0.1])


def _exact(K=0.3):
    ring = ising_model(chain(8), {"K": 1})
    return exact_renormalization(ring, chain_blocks(ring.lattice, 2), decimation(), {"K": K})


def _cumulant_rg(order=2):
    model = ising_model(chain(), {"K": 1})
    return cumulant_rg(model, chain_blocks(model.lattice, 2), decimation(), order)


def _x():
    return sp.Symbol("x")


# (name, build(), build a different result) -- each build runs the computation afresh
CASES = {
    "ChainDecimation": (lambda: decimate_chain("spin", 2), lambda: decimate_chain("spin", 3)),
    "DroppedTerm": (lambda: decimate_chain("spin", 2, project_onto=("K",)).dropped[0],
                    lambda: decimate_chain("spin", 3, project_onto=("K",)).dropped[0]),
    "RecursionMap": (_chain_map, lambda: decimate_chain("spin", 3).recursion_map),
    "FixedPoint": (lambda: _chain_map().fixed_points(seeds=[(0.3, 0.0)])[0],
                   lambda: decimate_chain("spin", 2, couplings=("K",)).recursion_map.change_variables(
                       ["u"], [sp.tanh(sp.Symbol("K", real=True))], [sp.atanh(sp.Symbol("u"))]).fixed_points()[0]),
    "Flow": (lambda: _chain_map().iterate([0.3, 0.1], 3), lambda: _chain_map().iterate([0.3, 0.2], 3)),
    "Flow (mpmath)": (lambda: _chain_map().iterate([0.3, 0.1], 3, backend="mpmath"),
                      lambda: _chain_map().iterate([0.3, 0.1], 4, backend="mpmath")),
    "FlowFreeEnergy": (lambda: free_energy_from_flow(_chain_map(), {"K": 0.5, "h": 0.1}),
                       lambda: free_energy_from_flow(_chain_map(), {"K": 0.4, "h": 0.1})),
    "ExactRenormalization": (_exact, lambda: _exact(0.4)),
    "CumulantRG": (_cumulant_rg, lambda: _cumulant_rg(1)),
    "CanonicalForm": (lambda: canonical_form(marginalize(seed_dbm(2, 1, 1), "s", "h")),
                      lambda: canonical_form(marginalize(seed_dbm(3, 1, 1), "s", "h"))),
    "CumulantSeries": (lambda: cumulant_series(marginalize(rbm(2, 2), "h"), 2),
                       lambda: cumulant_series(marginalize(rbm(2, 2), "h"), 3)),
    "CumulantExpansion": (lambda: cumulant_expansion(sp.Symbol("K") * _x(), {_x(): "spin"}, 3, variable="natural"),
                          lambda: cumulant_expansion(sp.Symbol("K") * _x(), {_x(): "spin"}, 2, variable="natural")),
    "CrossCheck": (lambda: crosscheck(marginalize(seed_dbm(2, 2, 1), "s", "h"), seed=1),
                   lambda: crosscheck(marginalize(seed_dbm(2, 2, 1), "s", "h"), seed=2)),
    "TrainedRBM": (_trained, lambda: _trained(3.0)),
    "EnergyModel": (lambda: marginalize(seed_dbm(2, 2, 1), "s", "h"),
                    lambda: marginalize(seed_dbm(3, 2, 1), "s", "h")),
    "NumericEnergy": (lambda: marginalize(seed_dbm(2, 2, 1), "s", "h").lambdify(),
                      lambda: marginalize(seed_dbm(2, 2, 1), "s", "h").lambdify("mpmath")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_are_hashable_values(name):
    build, other = CASES[name]
    a, b, c = build(), build(), other()
    assert a is not b
    assert a == b and not (a != b)
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != c
    assert len({a, b, c}) == 2


# a coarse-graining rule holds its probability function (a closure) and a numeric energy
# its compiled code: those results do not pickle; every other one does
UNPICKLABLE = {"CumulantRG", "ExactRenormalization", "NumericEnergy"}


@pytest.mark.parametrize("name", sorted(set(CASES) - UNPICKLABLE))
def test_results_pickle_to_equal_values(name):
    # read-only mappings must not block pickling (multiprocessing, caches)
    a = CASES[name][0]()
    assert pickle.loads(pickle.dumps(a)) == a


@pytest.mark.parametrize("name", sorted(CASES))
def test_results_have_a_readable_str_and_latex(name):
    a = CASES[name][0]()
    s = str(a)
    assert s and s != repr(a)
    assert not s.startswith(type(a).__name__ + "(")  # a summary, not the dataclass repr
    tex = a._repr_latex_()
    assert tex.startswith("$") and tex.endswith("$") and len(tex) > 2
    assert tex.count("{") == tex.count("}")
    # one spelling across result types: text() is the plain summary, latex() the formula
    assert a.text() in s  # str() may add a heading; the test results are small, nothing is shortened
    body = a.latex()
    assert isinstance(body, str) and body and body.count("{") == body.count("}")


def test_mappings_inside_results_are_read_only():
    dec = decimate_chain("spin", 2)
    K = dec.couplings[0]
    with pytest.raises(TypeError):
        dec.images[K] = 0  # type: ignore[index]
    res = _cumulant_rg()
    for m in (res.raw, res.images, res.coefficients):
        assert isinstance(m, FrozenDict)
    cf = canonical_form(marginalize(seed_dbm(2, 1, 1), "s", "h"))
    with pytest.raises(TypeError):
        cf.couplings[()] = 1  # type: ignore[index]
    series = cumulant_series(marginalize(rbm(2, 2), "h"), 2)
    assert isinstance(series.orders[1], FrozenDict)


def test_arrays_inside_results_are_read_only_copies():
    W = np.array([[1.0, -2.0]])
    t = from_arrays(W, [0.5], [0.0, 0.1])
    W[0, 0] = 99.0  # the caller's array is not shared
    assert t.values["W"][0, 0] == 1.0
    with pytest.raises(ValueError):
        t.values["W"][0, 0] = 5.0
    fl = _chain_map().iterate([0.3, 0.1], 2)
    with pytest.raises(ValueError):
        fl.points[0, 0] = 1.0
    ex = _exact()
    with pytest.raises(ValueError):
        ex.couplings[0] = 1.0


def test_fixed_point_original_is_a_read_only_mapping():
    K, u = sp.symbols("K u")
    from symrg.rg.recursion import RecursionMap

    mu = RecursionMap((K,), (sp.log(sp.cosh(2 * K)) / 2,), 2).change_variables([u], [sp.tanh(K)], [sp.atanh(u)])
    origs = [fp.original for fp in mu.fixed_points()]
    assert origs == [{K: 0}, {K: sp.oo}]
    assert len({hash(o) for o in origs}) == 2


def test_recursion_map_is_one_property_on_both_decimation_results():
    dec = decimate_chain("spin", 2, couplings=("K",))
    res = _cumulant_rg(2)
    from symrg.rg.recursion import RecursionMap

    assert isinstance(dec.recursion_map, RecursionMap)
    assert isinstance(res.recursion_map, RecursionMap)
    # the projected map with options has its own name; the default equals the property
    assert res.projected_map() == res.recursion_map
    K = res.couplings[0]
    assert res.recursion_map.images == (res.images[K],)
    # both describe the b = 2 decimation of the spin chain: K' = log cosh 2K / 2 exactly,
    # the order-2 cumulant image K tanh K agrees to O(K^3) at small K
    Kv = 1e-3
    exact = dec.recursion_map(Kv)[0]
    approx = res.recursion_map(Kv)[0]
    assert abs(float(exact) - float(approx)) < 1e-8
