"""A ring layer summed by a transfer matrix instead of configuration by configuration.

A spin layer whose self couplings form a ring, coupled to a layer of 2 spins, is summed
by :func:`symrg.engine.marginalization.marginalize` as ``-log tr prod_k T_k``
(:class:`~symrg.model.TransferMatrixTerm`, docs/marginalization.md, "Transfer matrices
for chains and rings"): ``n`` products of 2x2 matrices per state instead of ``2^n``
configurations.  Targets: at 16 spins the compiled ``H(h)`` on the 4 states of the small
layer is at least 10x faster than a numpy enumeration of the ``2^16`` ring configurations;
at 40 spins (``2^40`` configurations, out of reach of any enumeration) marginalize,
lambdify and the call together take under a second.  The values are checked against
enumeration and an independent mpmath product in ``tests/test_marginalize.py``.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from benchmarks.harness import Case, faster_than, ratio_at_least
from symrg.engine.marginalization import marginalize
from symrg.model.energy import energy_model


def _ring(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    J = np.zeros((n, n))
    for i in range(n):
        J[i, (i + 1) % n] = J[(i + 1) % n, i] = rng.normal(0.3, 0.6)
    model = energy_model([("s", n, "spin"), ("h", 2, "spin")], [("s", "h")])
    model = model.with_(quadratic={"s": sp.ImmutableMatrix(-J)})
    vals = {"b_s": rng.normal(0, 0.5, n), "b_h": rng.normal(0, 0.5, 2), "W_sh": rng.normal(0, 0.3, (n, 2))}
    return model, J, vals


H_STATES = np.array(list(itertools.product([-1.0, 1.0], repeat=2)))


def _enumerate(J: np.ndarray, vals: dict) -> np.ndarray:
    """-log sum_s exp(-E(s, h)) for the 4 states h, every ring configuration s in one array."""
    n = J.shape[0]
    S = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    pair = 0.5 * np.einsum("ci,ij,cj->c", S, J, S) + S @ vals["b_s"]
    out = []
    for h in H_STATES:
        z = pair + S @ (vals["W_sh"] @ h)
        m = z.max()
        out.append(-vals["b_h"] @ h - (m + np.log(np.exp(z - m).sum())))
    return np.array(out)


def _compare(n: int) -> Case:
    model, J, vals = _ring(n)
    f = marginalize(model, "s").lambdify()
    return Case(
        "ring layer, transfer matrix vs enumeration", f"{n} spins + 2, 4 states",
        lambda: f(h=H_STATES, **vals), lambda: _enumerate(J, vals),
        ">=10x faster (compiled call)", ratio_at_least(10.0), repeat=5, baseline_repeat=3,
        note="baseline: numpy enumeration of the 2^n ring configurations, vectorized",
    )


def _large(n: int) -> Case:
    model, _, vals = _ring(n, seed=1)

    def run():
        return marginalize(model, "s").lambdify()(h=H_STATES, **vals)

    return Case("ring layer, transfer matrix", f"{n} spins + 2", run, None,
                "< 1 s (marginalize, lambdify, call)", faster_than(1.0), repeat=3)


def cases(smoke: bool = False) -> list[Case]:
    if smoke:
        return [_compare(8), _large(10)]
    return [_compare(16), _large(40)]
