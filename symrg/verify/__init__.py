"""Checking claims: safe parsers for sympy syntax and LaTeX, :func:`verify`, brute-force
cross-checks of effective models, and the pytest helper.

>>> from symrg.verify import verify
>>> verify("log(cosh(2*K))/2", "log(cosh(K)**2 + sinh(K)**2)/2").status
'equal'
"""

from symrg.verify.parsing import parse_claim
from symrg.verify.verdict import Counterexample, Verdict, verify

__all__ = ["Counterexample", "Verdict", "parse_claim", "verify"]
