"""Compact closed forms for explicit sizes (issue 12): the canonical form of the seed DBM
and the length of its LaTeX.

* canonical form of the seed DBM 12-8-6 (``v`` Bernoulli, ``h``, ``s`` Gaussian, both
  integrated out): target under 1 s (it took 148 s when the whole energy was expanded).
  No baseline: ``canonical_form(..., expand=True)`` is the expanded route, far slower.
* ``H(v).latex()`` of the seed DBM 8-6-4: target under 20,000 characters (it was
  241,309); the row times the printing and its target checks the length.
"""

from __future__ import annotations

from benchmarks.harness import Case, faster_than
from symrg.engine.canonical import canonical_form
from symrg.engine.marginalization import marginalize
from symrg.model.energy import seed_dbm


def _latex_case(sizes: tuple[int, int, int]) -> Case:
    model = marginalize(seed_dbm(*sizes), "s", "h")
    length = len(model.latex())
    return Case("H(v).latex() of the seed DBM", "-".join(map(str, sizes)), lambda: len(model.latex()), None,
                f"< 20,000 characters (measured {length:,})", lambda t, b: length < 20_000, repeat=3)


def cases(smoke: bool = False) -> list[Case]:
    sizes = (4, 3, 2) if smoke else (12, 8, 6)
    model = marginalize(seed_dbm(*sizes), "s", "h")
    return [
        Case("canonical form of the seed DBM", "-".join(map(str, sizes)), lambda: canonical_form(model), None,
             "< 1 s", faster_than(1.0), repeat=3),
        _latex_case((4, 3, 2) if smoke else (8, 6, 4)),
    ]
