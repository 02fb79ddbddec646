"""The cumulant expansion ``log <exp(-X)> ≈ sum_{n=1}^{N} (-1)^n kappa_n(X) / n!``.

``X`` is a function of random units: independent units of given kinds (moments from the
kinds' hooks, :mod:`symrg.model.units`; non-polynomial functions of discrete units by
enumeration) or a finite joint distribution.  The moments of ``X`` are turned into its
cumulants by :func:`symrg.engine.moments.moments_to_cumulants`.

Examples
--------
>>> import sympy as sp
>>> s, K = sp.symbols("s K")
>>> cumulant_expansion(K * s, {s: "spin"}, 1).expr
-K*tanh(b_s)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from numbers import Number
from typing import Any, Mapping

import sympy as sp

from symrg.engine.cumulants import check_order
from symrg.engine.joint_cumulants import MAX_SYMBOLIC_CONFIGURATIONS
from symrg.engine.moments import moments_to_cumulants
from symrg.model.display import Displayed
from symrg.model.units import unit_kind

__all__ = ["CumulantExpansion", "cumulant_expansion"]


@dataclass(frozen=True)
class CumulantExpansion(Displayed):
    """Truncated cumulant expansion ``log <exp(-X)> ≈ sum_{n=1}^{N} (-1)^n kappa_n(X) / n!``.

    Attributes
    ----------
    X : the random quantity
    order : N
    cumulants : ``(kappa_1(X), ..., kappa_N(X))``
    substitutions : pairs ``(natural symbol, expression in the fields)`` used when the
        cumulants are given in natural variables (empty otherwise)
    """

    X: sp.Expr
    order: int
    cumulants: tuple
    substitutions: tuple = ()

    @property
    def terms(self) -> tuple:
        """``((-1)^n kappa_n / n!)`` for ``n = 1..N``."""
        return tuple((-1) ** n * k / sp.factorial(n) for n, k in enumerate(self.cumulants, start=1))

    @property
    def expr(self) -> sp.Expr:
        """The truncated series as one sympy expression."""
        return sp.Add(*self.terms)

    def text(self) -> str:
        return f"log <exp(-X)> ~ {sp.sstr(self.expr)}  (X = {sp.sstr(self.X)}, order {self.order})"

    def latex(self) -> str:
        return r"\log\langle e^{-X}\rangle \approx " + sp.latex(self.expr)


def cumulant_expansion(
    X: sp.Expr,
    distribution: Any,
    order: int,
    *,
    variable: str = "field",
) -> CumulantExpansion:
    """Cumulant expansion of ``log <exp(-X)>`` to ``order``.

    Parameters
    ----------
    X : sympy expression in the random variables
    distribution : one of
        * a mapping ``{symbol: kind}`` or ``{symbol: (kind, field)}`` of independent
          units with priors ``∝ exp(field * x)`` (default field ``b_<symbol>``); ``X``
          must be a polynomial in Gaussian units, and may be any function of discrete
          units (enumerated when not polynomial);
        * a finite joint distribution: a sequence of ``(configuration, probability)``
          with ``configuration`` a mapping ``{symbol: value}``.
    order : int
        Number of cumulants kept.
    variable : {"field", "natural"}
        For independent discrete units: express the result in the fields or in the
        natural variables (symbols ``sigma_x``, ``m_x``, ``p_x_j``).

    Examples
    --------
    >>> import sympy as sp
    >>> s, K = sp.symbols("s K")
    >>> res = cumulant_expansion(K * s, {s: "spin"}, 2, variable="natural")
    >>> res.cumulants
    (K*m_s, -K**2*m_s**2 + K**2)
    >>> res.expr
    -K**2*m_s**2/2 + K**2/2 - K*m_s
    """
    order = check_order(order)
    if variable not in ("field", "natural"):
        raise ValueError(f"variable must be 'field' or 'natural', got {variable!r}")
    X = sp.sympify(X)
    if isinstance(distribution, Mapping):
        return _expansion_independent(X, distribution, order, variable)
    pairs = list(distribution)
    mus = []
    for k in range(1, order + 1):
        mus.append(sp.Add(*[sp.sympify(p) * X.xreplace(dict(c)) ** k for c, p in pairs]))
    return CumulantExpansion(X, order, moments_to_cumulants(mus))


def _expansion_independent(X: sp.Expr, dist: Mapping, order: int, variable: str) -> CumulantExpansion:
    units = list(dist)
    specs = {}
    for u in units:
        spec = dist[u]
        if isinstance(spec, tuple) and len(spec) == 2 and not all(isinstance(v, Number) for v in spec):
            kind, fld = unit_kind(spec[0]), sp.sympify(spec[1])
        else:
            kind, fld = unit_kind(spec), sp.Symbol(f"b_{u}")
        specs[u] = (kind, fld)
    nat: dict = {}
    subs: dict = {}
    for u, (kind, fld) in specs.items():
        if not kind.is_discrete:  # continuous units: moments in the field
            continue
        nat[u] = kind.natural_symbols(str(u))
        subs.update(kind.natural_in_field(nat[u], fld))
    if X.is_polynomial(*units):
        poly = sp.Poly(X, *units)
        power = sp.Poly(1, *units)
        mus = []
        memo: dict = {}
        for _ in range(order):
            power = power * poly
            acc = []
            for monom, coeff in power.terms():
                term = coeff
                for u, a in zip(units, monom):
                    if a:
                        if (u, a) not in memo:
                            kind, fld = specs[u]
                            memo[(u, a)] = kind.moment(a, nat.get(u), fld)
                        term = term * memo[(u, a)]
                acc.append(term)
            mus.append(sp.expand(sp.Add(*acc)))
    else:
        if not all(specs[u][0].is_discrete for u in units):
            raise ValueError("X must be a polynomial in Gaussian (continuous) units for a cumulant expansion")
        count = math.prod(len(specs[u][0].values) for u in units)
        if count > MAX_SYMBOLIC_CONFIGURATIONS:
            raise ValueError(
                f"X is not polynomial, and enumerating its {len(units)} units needs {count} "
                f"configurations, above the limit of {MAX_SYMBOLIC_CONFIGURATIONS}"
            )
        per_unit = [specs[u][0].distribution(nat[u]) for u in units]
        mus = [sp.S.Zero] * order
        for combo in itertools.product(*per_unit):
            prob = sp.Mul(*[p for _, p in combo])
            xv = X.xreplace({u: v for u, (v, _) in zip(units, combo)})
            for k in range(order):
                mus[k] += prob * xv ** (k + 1)
        mus = [sp.expand(mu) for mu in mus]
    kap = moments_to_cumulants(mus)
    if variable == "field":
        kap = tuple(k.xreplace(subs) for k in kap)
        return CumulantExpansion(X, order, kap)
    return CumulantExpansion(X, order, kap, tuple(subs.items()))
