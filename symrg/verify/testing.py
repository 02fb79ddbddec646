"""A pytest helper for keeping hand derivations under test.

>>> import sympy as sp
>>> K = sp.Symbol("K")
>>> assert_equivalent("log(cosh(2*K))/2", sp.log(sp.cosh(2*K))/2).method
'symbolic'
>>> assert_equivalent("log(cosh(2*K))", sp.log(sp.cosh(2*K))/2)
Traceback (most recent call last):
...
AssertionError: the claim is not equal to the derived result
...
"""

from __future__ import annotations

from typing import Any

from symrg.verify.verdict import Verdict, verify

__all__ = ["assert_equivalent"]


def assert_equivalent(claim: Any, derived: Any, *, allow_undecided: bool = False, require_proof: bool = False,
                      **kwargs: Any) -> Verdict:
    """Assert that ``claim`` equals ``derived`` (see :func:`symrg.verify.verify`).

    Passes on ``"equal"`` (a symbolic proof) and on ``"consistent"`` (agreement at
    every random point, in double precision and at 50 digits, without a proof) unless
    ``require_proof``.  Raises ``AssertionError`` with a readable message -- the claim,
    the derived result, how the comparison went and, when they differ, the
    counterexample (the parameter values and both sides' values).  An undecided
    comparison fails too, unless ``allow_undecided``.  Returns the
    :class:`~symrg.verify.Verdict`.

    Use it in a test of your own notes::

        def test_my_eq_17():
            H = symrg.marginalize(symrg.seed_dbm(), "s", "h")
            assert_equivalent(r"-a^{T} v - \\frac{1}{2} ...", H)
    """
    __tracebackhide__ = True  # pytest shows the failing assertion, not this frame
    verdict = verify(claim, derived, **kwargs)
    if (verdict.equal or (verdict.status == "consistent" and not require_proof)
            or (allow_undecided and verdict.status == "undecided")):
        return verdict
    head = {
        "not equal": "the claim is not equal to the derived result",
        "undecided": "could not decide whether the claim equals the derived result",
        "consistent": "the claim agrees numerically with the derived result, but there is no symbolic proof",
    }[verdict.status]
    lines = [
        head,
        f"  claim:   {_short(verdict.claim)}",
        f"  derived: {_short(verdict.derived)}",
        f"  {verdict.text()}",
    ]
    raise AssertionError("\n".join(lines))


def _short(x: Any, limit: int = 300) -> str:
    s = str(x)
    return s if len(s) <= limit else s[: limit - 3] + "..."
