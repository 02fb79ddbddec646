"""100 seeded random models agree across lambdify numpy, lambdify mpmath, the exported module,
``.energy`` (sympy, substituted) and the independent brute force (the full 1,000 run is
``python -m benchmarks.random_routes 1000``; its result is in benchmarks/RESULTS.md)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the benchmarks package lives at the repository root
    sys.path.insert(0, str(ROOT))

from benchmarks.random_routes import TOLERANCE, run  # noqa: E402


def test_one_hundred_random_models_agree_across_routes_and_with_brute_force():
    s = run(100, seed=11)
    assert not s.failures, s.failures[:3]
    assert s.models == 100 and s.states >= 100
    assert s.refused == 0  # a Gaussian inside a discrete sum is a mixture now: no order is refused at these sizes
    assert all(err <= TOLERANCE for err in s.max_error.values()), s.max_error
