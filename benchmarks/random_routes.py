"""Random models through every numeric route: lambdify (numpy, mpmath), exported module, ``.energy``.

Each seeded random model (mixed unit kinds, a random connected graph, a random
marginalization order; the generator of ``tests/test_random_models.py``) is evaluated at
random survivor states by

* ``lambdify`` numpy and ``lambdify`` mpmath (50 digits),
* the exported standalone module (``export_energy``, executed),
* ``.energy`` -- the sympy expression, every symbol and matrix substituted, evaluated by
  ``sympy.N`` at 30 digits (intermediates inverted by sympy, not by the generated code),

and compared with the independent brute force of
:func:`symrg.verify.brute_force.brute_force_log_weight` (enumeration of the removed
discrete units, one joint Gaussian integral).  One model in five gets fields scaled by
200, so stable forms are exercised.  ``tests/test_random_routes.py`` runs 100 models;
``python -m benchmarks.random_routes 1000`` runs the full 1,000 and prints the summary
recorded in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.errors import ConditionError, ModelError
from symrg.model.energy import Layer, energy_model
from symrg.model.units import Bernoulli, Discrete, Gaussian, Spin
from symrg.output.export import export_energy
from symrg.verify.brute_force import brute_force_log_weight, random_parameters

KINDS = [Bernoulli(), Spin(), Gaussian(), Gaussian(2), Discrete((0, 1, 2)), Discrete((-1, 0, 1))]
#: relative tolerance (to max(1, |reference|)) of every route against brute force
TOLERANCE = 1e-9


@dataclass
class Summary:
    models: int = 0
    refused: int = 0
    redrawn: int = 0
    states: int = 0
    max_error: dict = field(default_factory=lambda: {"numpy": 0.0, "mpmath": 0.0, "export": 0.0, "energy": 0.0})
    failures: list = field(default_factory=list)
    seconds: float = 0.0

    def text(self) -> str:
        errs = ", ".join(f"{k} {v:.2e}" for k, v in self.max_error.items())
        return (f"{self.models} models ({self.refused} marginalizations refused as documented, {self.redrawn} parameter "
                f"redraws), {self.states} states; max relative error against brute force: {errs}; "
                f"{len(self.failures)} failures; {self.seconds:.1f} s")


def random_model(rng: np.random.Generator):
    n_layers = int(rng.integers(2, 5))
    layers = []
    for i in range(n_layers):
        kind = KINDS[int(rng.integers(len(KINDS)))]
        size = int(rng.integers(1, 4 if kind.is_discrete and kind.size == 2 else 3))
        layers.append(Layer(f"x{i}", size, kind))
    edges = set()
    for i in range(1, n_layers):
        edges.add((f"x{int(rng.integers(i))}", f"x{i}"))
    for i in range(n_layers):
        for j in range(i + 1, n_layers):
            if rng.random() < 0.25:
                edges.add((f"x{i}", f"x{j}"))
    biases = {l.name: (0 if rng.random() < 0.2 else None) for l in layers}
    return energy_model(layers, sorted(edges), biases=biases)


def _states(model, rng, n: int) -> dict:
    out = {}
    for lay in model.layers:
        if lay.kind.is_discrete:
            vals = np.array([float(v) for v in lay.kind.values])
            out[lay.name] = rng.choice(vals, size=(n, lay.size))
        else:
            out[lay.name] = rng.normal(size=(n, lay.size))
    return out


def _sympy_energy(model, vals: dict, states: dict, k: int) -> float:
    """``model.energy`` with every symbol substituted, evaluated by sympy at 30 digits."""
    subs: dict = {}
    for p in model.params.values():
        if p.auto and p.name in vals:
            arr = np.asarray(vals[p.name], dtype=float).reshape(p.symbol.shape)
            mat = sp.ImmutableMatrix(arr.tolist()).applyfunc(sp.Float)
            subs[p.symbol] = mat
            if p.value is not None:
                for i in range(p.value.rows):
                    for j in range(p.value.cols):
                        subs[p.value[i, j]] = mat[i, j]
    for lay in model.layers:
        for j, s in enumerate(lay.states):
            subs[s] = sp.Float(float(states[lay.name][k, j]))
    def explicit(e):
        e = sp.sympify(e).xreplace(subs)
        e = e.replace(lambda a: isinstance(a, (sp.Identity, sp.ZeroMatrix)),
                      lambda a: sp.ImmutableMatrix(sp.eye(int(a.rows)) if isinstance(a, sp.Identity)
                                                   else sp.zeros(int(a.rows), int(a.cols))))
        return e.doit()

    for inter in model.intermediates:  # inverted by sympy from the definition
        subs[inter.symbol] = sp.ImmutableMatrix(explicit(inter.inverse_of)).inv()
    return float(sp.N(explicit(model.energy), 30))


def check_model(rng: np.random.Generator, summary: Summary, n_states: int = 4, energy_states: int = 2) -> None:
    model = random_model(rng)
    names = list(model.layer_names)
    order = list(rng.permutation(names)[: int(rng.integers(1, len(names)))])
    try:
        eff = marginalize(model, *order)
    except ModelError as e:
        if "max_configurations" not in str(e):  # the size guard of an enumeration or a Gaussian mixture
            summary.failures.append((order, f"unexpected refusal: {e}"))
        summary.refused += 1
        return
    f_np, f_mp = eff.lambdify(), eff.lambdify("mpmath", dps=50)
    ns: dict = {}
    exec(compile(export_energy(eff), "<random export>", "exec"), ns)  # noqa: S102 - our own generated module
    big = rng.random() < 0.2
    scale = 0.5
    for _ in range(40):
        vals = random_parameters(model, rng, scale=scale)
        if big:
            vals = {k: (200 * v if k.startswith("b_") else v) for k, v in vals.items()}
        states = _states(eff, rng, n_states)
        args = {**states, **{a: vals[a] for a in f_np.arguments if a in vals}}
        try:
            got_np = np.atleast_1d(f_np(**args))
            break
        except ConditionError:
            summary.redrawn += 1
            scale *= 0.8
    else:
        summary.failures.append((order, "no valid parameters"))
        return
    ref = brute_force_log_weight(model, vals, states)
    got_mp = np.array([float(x) for x in np.atleast_1d(f_mp(**args))])
    got_ex = np.atleast_1d(ns["energy"](**args))
    got_en = np.array([_sympy_energy(eff, vals, states, k) for k in range(energy_states)])
    denom = np.maximum(1.0, np.abs(ref))
    for route, got in (("numpy", got_np), ("mpmath", got_mp), ("export", got_ex), ("energy", got_en)):
        err = float(np.max(np.abs(got - ref[: len(got)]) / denom[: len(got)]))
        if not np.isfinite(err) or err > TOLERANCE:
            summary.failures.append((order, f"{route}: error {err:.3g} ({eff!r})"))
        summary.max_error[route] = max(summary.max_error[route], err if np.isfinite(err) else np.inf)
    summary.models += 1
    summary.states += len(ref)


def run(n_models: int, seed: int = 2026) -> Summary:
    """Check ``n_models`` marginalizable random models (refusals are counted, not checked)."""
    rng = np.random.default_rng(seed)
    summary = Summary()
    t0 = time.perf_counter()
    with mpmath.workdps(50):
        while summary.models < n_models:
            check_model(rng, summary)
    summary.seconds = time.perf_counter() - t0
    return summary


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 1000
    s = run(n)
    print(s.text())
    for order, what in s.failures[:10]:
        print("  FAILED", order, what)
    return 1 if s.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
