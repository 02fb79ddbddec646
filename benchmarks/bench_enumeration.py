"""Layers summed configuration by configuration: cost proportional to the configurations.

An :class:`~symrg.model.EnumeratedTerm` is stored structurally (field, self block,
couplings, the terms the layer entered; the configurations are implied by the unit kind
and size), so marginalizing does no per-configuration algebra, and the generated numeric
code (:mod:`symrg.output.codegen`) evaluates all configurations with arrays.  Before,
81 configurations took 10 s to marginalize, 25 s to lambdify and exported a 1.9 MB
module.  Target: at the guard's limit of 4,096 configurations, marginalize, lambdify
(build and one call on 100 states) and export each take under a second.  No baseline
(the values are checked against brute force in ``tests/test_codegen.py``).
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Case, faster_than
from symrg.engine.marginalization import marginalize
from symrg.model.energy import dbm
from symrg.output.export import export_energy
from symrg.verify.brute_force import random_parameters


def _model(n: int, kind):
    # the middle layer enters the log-partition term left by summing x0, so it is enumerated
    return dbm([3, n, 2], ["spin", kind, "spin"])


def _cases_for(n: int, kind, label: str) -> list[Case]:
    model = _model(n, kind)
    eff = marginalize(model, "x0", "x1")
    count = eff.terms[-1].count
    rng = np.random.default_rng(0)
    vals = random_parameters(model, rng)
    x2 = rng.choice([-1.0, 1.0], size=(100, 2))
    args = {a: vals[a] for a in eff.lambdify().arguments if a in vals}

    def lambdify_and_call():
        return eff.lambdify()(x2=x2, **args)

    size = f"{label}, {count} configurations"
    return [
        Case("enumerated layer: marginalize", size, lambda: marginalize(model, "x0", "x1"), None,
             "< 1 s", faster_than(1.0), repeat=3),
        Case("enumerated layer: lambdify + call", size, lambdify_and_call, None,
             "< 1 s (build and 100 states)", faster_than(1.0), repeat=3),
        Case("enumerated layer: export", size, lambda: len(export_energy(eff)), None,
             "< 1 s", faster_than(1.0), repeat=3),
    ]


def cases(smoke: bool = False) -> list[Case]:
    if smoke:
        return _cases_for(4, "spin", "4 spins")
    return _cases_for(12, "spin", "12 spins") + _cases_for(6, [0, 1, 2, 3], "6 four-state units")
