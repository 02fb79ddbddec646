"""The public surface: no function hides a module, a small ``__all__``, one error base,
and named intermediates that never reuse a name of the model (issue 10, "Why")."""

from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil
import sys

import numpy as np
import pytest
import sympy as sp

import symrg
import symrg.errors
from symrg.model.energy import energy_model


def _submodules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(symrg.__path__, "symrg.") if not m.name.endswith("__main__")]


def test_no_function_hides_a_module():
    # ``import symrg.a.b as m`` binds getattr(symrg.a, "b"): it must be the module itself
    names = _submodules()
    assert len(names) > 20
    for name in names:
        module = importlib.import_module(name)
        parent, _, child = name.rpartition(".")
        assert getattr(sys.modules[parent], child) is module, f"{parent}.{child} is not the module {name}"
    import symrg.engine.marginalization as m

    assert inspect.ismodule(m) and callable(m.marginalize)


def test_top_level_api_is_small_and_complete():
    assert len(symrg.__all__) <= 30
    assert len(set(symrg.__all__)) == len(symrg.__all__)
    for name in symrg.__all__:
        assert hasattr(symrg, name), name
    assert isinstance(symrg.__version__, str) and symrg.__version__


def test_every_error_class_derives_from_symrg_error():
    found = set()
    for name in _submodules():
        module = importlib.import_module(name)
        for obj in vars(module).values():
            # private classes (``_Timeout``) are internal signals caught inside symrg
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__.startswith("symrg")
                    and not obj.__name__.startswith("_")):
                found.add(obj)
    assert symrg.errors.ModelError in found
    assert {e for e in found if not issubclass(e, symrg.SymrgError)} == set()
    for name in symrg.errors.__all__:
        assert issubclass(getattr(symrg.errors, name), symrg.SymrgError)


# --------------------------------------------------------------------------------------
# named intermediates never reuse a name of the model
# --------------------------------------------------------------------------------------
def _names(expr) -> set[str]:
    return {str(a.name) for a in expr.atoms(sp.Symbol, sp.MatrixSymbol)}


def _quadrature_free_energy(v, C, P, b_v, b_h) -> float:
    """``-log int exp(-E(v, h)) dh`` on a 2-d grid (trapezoid; the integrand is Gaussian,
    so the grid sum converges geometrically), with ``E = -b_v.v - b_h.h - v.W h + h.P h / 2``
    and ``W = [[C, 0], [0, 2C]]``."""
    W = np.array([[C, 0.0], [0.0, 2 * C]])
    t = b_h + W.T @ v
    centre = np.linalg.solve(P, t)
    x = np.linspace(-9.0, 9.0, 361)
    h1, h2 = np.meshgrid(x + centre[0], x + centre[1], indexing="ij")
    expo = t[0] * h1 + t[1] * h2 - 0.5 * (P[0, 0] * h1**2 + 2 * P[0, 1] * h1 * h2 + P[1, 1] * h2**2)
    shift = expo.max()
    integral = np.exp(expo - shift).sum() * (x[1] - x[0]) ** 2
    return -(b_v @ v) - shift - np.log(integral)


def test_intermediate_never_reuses_a_user_symbol():
    C = sp.Symbol("C")
    model = energy_model([("v", 2, "bernoulli"), ("h", 2, "gaussian")], {("v", "h"): [[C, 0], [0, 2 * C]]},
                         precisions={"h": "P"})
    H = symrg.marginalize(model, "h")
    (inter,) = H.intermediates
    # the user's C is still in the energy, and the intermediate has another name
    assert inter.symbol.name != "C"
    assert "C" in _names(H.energy)
    assert inter.symbol.name in _names(H.energy) or any(n.startswith(inter.symbol.name + "_") for n in _names(H.energy))
    f = H.lambdify()
    assert "C" in f.arguments and inter.symbol.name not in f.arguments
    rng = np.random.default_rng(3)
    for _ in range(3):
        a = rng.normal(size=(2, 2))
        P = np.eye(2) * 1.5 + a @ a.T / 2
        b_v, b_h, Cv = rng.normal(size=2), rng.normal(size=2), float(rng.normal())
        for v in itertools.product((0.0, 1.0), repeat=2):
            v = np.array(v)
            got = float(f(v=v, b_v=b_v, b_h=b_h, P=P, C=Cv))
            ref = _quadrature_free_energy(v, Cv, P, b_v, b_h)
            assert abs(got - ref) < 1e-10 * max(1.0, abs(ref))


@pytest.mark.parametrize("taken", ["C", "C_{11}", "C_1"])
def test_intermediate_avoids_entry_names_of_user_symbols(taken):
    # a user symbol spelled like an entry of the intermediate (C_{11}) also blocks the name
    X = sp.Symbol(taken)
    model = energy_model([("v", 1, "spin"), ("h", 2, "gaussian")], {("v", "h"): [[X, 1]]}, precisions={"h": "P"})
    H = symrg.marginalize(model, "h")
    (inter,) = H.intermediates
    name = inter.symbol.name
    assert name != taken and not taken.startswith(name + "_")
    assert taken in _names(H.energy)


def test_default_intermediate_is_still_c():
    H = symrg.marginalize(symrg.seed_dbm(), "s", "h")
    assert [i.symbol.name for i in H.intermediates] == ["C"]
