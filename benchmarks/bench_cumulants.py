"""Cumulants of unit kinds: closed-form recursions vs sympy ``series`` and repeated ``diff``.

Baselines are what a sympy user would write: the Taylor series of the CGF
``log(1 + e^{b+t})`` in ``t`` (coefficients times ``n!``), or ``diff`` of the
log-partition ``n`` times.  Both sides clear sympy's cache (and symrg its coefficient
table cache) before every run so that no run reuses a previous one.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.cache import clear_cache

from benchmarks.harness import Case, faster_than, ratio_at_least
from symrg.engine import cumulants as cm
from symrg.model import units as _units

b, t = sp.symbols("b t")
_POINT = sp.Rational(3, 10)

_LOGZ = {"bernoulli": sp.log(1 + sp.exp(b)), "spin": sp.log(2 * sp.cosh(b))}


def _symrg(kind: str, order: int):
    def run() -> tuple:
        clear_cache()
        _units._bernoulli_table.cache_clear()
        _units._spin_table.cache_clear()
        return cm.cumulants(kind, order, b)

    return run


def _symrg_natural(kind: str, order: int):
    def run() -> tuple:
        clear_cache()
        _units._bernoulli_table.cache_clear()
        _units._spin_table.cache_clear()
        return cm.cumulants(kind, order, variable="natural")

    return run


def _series(kind: str, order: int):
    def run() -> tuple:
        clear_cache()
        A = _LOGZ[kind].subs(b, b + t)
        s = sp.series(A, t, 0, order + 1).removeO()
        return tuple(s.coeff(t, n) * sp.factorial(n) for n in range(1, order + 1))

    return run


def _diff(kind: str, order: int):
    def run() -> tuple:
        clear_cache()
        A = _LOGZ[kind]
        out = []
        for _ in range(order):
            A = sp.diff(A, b)
            out.append(A)
        return tuple(out)

    return run


def _agree(a: Any, c: Any) -> bool:
    """Both lists evaluated at b = 3/10 with 30 digits."""
    if len(a) != len(c):
        return False
    for x, y in zip(a, c):
        xv, yv = sp.N(x.subs(b, _POINT), 30), sp.N(y.subs(b, _POINT), 30)
        if abs(xv - yv) > 1e-20 * max(1, abs(yv)):
            return False
    return True


def cases(smoke: bool = False) -> list[Case]:
    out = []
    order = 6 if smoke else 24
    for kind in ("bernoulli", "spin"):
        # sympy's series of log(2 cosh(b + t)) grows steeply (N=16: ~9 s, N=20: ~100 s,
        # N=24: not finished after 8 minutes): the spin baseline is abandoned after 90 s
        # and the ratio reported as a lower bound
        n_series = order
        out.append(
            Case(
                f"{kind} kappa_1..N vs series", f"N={n_series}", _symrg(kind, n_series),
                _series(kind, n_series),
                ">=100x faster than sympy series", ratio_at_least(100), repeat=5, baseline_repeat=1,
                agree=_agree,
                baseline_timeout=None if (smoke or kind == "bernoulli") else 90.0,
                note="" if (smoke or kind == "bernoulli") else "sympy series abandoned after 90 s (it needs over 8 minutes)",
            )
        )
        out.append(
            Case(
                f"{kind} kappa_1..N vs diff", f"N={order}", _symrg(kind, order), _diff(kind, order),
                ">=10x faster than repeated diff", ratio_at_least(10), repeat=5, baseline_repeat=3,
                agree=_agree,
                note="repeated diff returns unsimplified nested expressions, not polynomials in the natural variable",
            )
        )
    big = 12 if smoke else 200
    for kind in ("bernoulli", "spin"):
        out.append(
            Case(
                f"{kind} kappa_1..N", f"N={big}", _symrg(kind, big), None,
                "< 1 s total", faster_than(1.0), repeat=3,
                note="no baseline: sympy series/diff at this order would take far too long",
            )
        )
    # formerly a wall-clock assertion in tests/test_cumulants.py (< 3 s)
    out.append(
        Case(
            "bernoulli kappa_1..N, natural variable", f"N={big}", _symrg_natural("bernoulli", big), None,
            "< 3 s total", faster_than(3.0), repeat=3,
            note="cumulants in the mean sigma (polynomials with integer coefficients)",
        )
    )
    return out
