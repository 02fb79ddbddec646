"""Cumulants of one unit of any kind, to any order, in closed form.

The cumulants of a unit with prior ``q(x) ∝ exp(b x)`` over its support are the
derivatives of its log-partition function, ``kappa_n = A^{(n)}(b)``.  Each unit kind
carries its own closed form (the hooks ``cumulant_polynomials`` and ``field_cumulants``
of :mod:`symrg.model.units`); no series expansion is involved:

* Bernoulli: polynomials in ``sigma = 1/(1 + e^{-b})`` from the recursion
  ``kappa_{n+1} = sigma (1 - sigma) d kappa_n / d sigma`` on integer coefficient lists;
* Spin: polynomials in ``m = tanh b`` from ``kappa_{n+1} = (1 - m^2) d kappa_n / dm``;
* Gaussian (precision ``p``): ``kappa_1 = b / p``, ``kappa_2 = 1 / p``, higher ones vanish;
* any finite ``Discrete(values)`` kind (the generic fallback, also for user-defined
  subclasses): polynomials in the probabilities ``p_j`` of its values from its moments
  ``mu_k = sum_j x_j^k p_j``, with ``p_j = e^{b x_j} / Z``;
* any other kind: derivatives of its log-partition function.

The rest of the cumulant machinery: :mod:`symrg.engine.moments` (moments <-> cumulants of
one variable), :mod:`symrg.engine.joint_cumulants` (mixed cumulants of several variables,
layers with correlated units) and :mod:`symrg.engine.cumulant_expansion`
(``log <exp(-X)>`` as a cumulant series).

Examples
--------
>>> from symrg.engine.cumulants import cumulants
>>> cumulants("bernoulli", 3, variable="natural")
(sigma, -sigma**2 + sigma, 2*sigma**3 - 3*sigma**2 + sigma)
>>> cumulants("spin", 2)
(tanh(b), 1 - tanh(b)**2)
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np
import sympy as sp

from symrg.model.units import UnitKind, unit_kind

__all__ = ["cumulant_coefficients", "cumulants", "cumulant", "cgf", "cgf_series"]

KindLike = Union[UnitKind, str, Sequence]


def check_order(order: int, name: str = "order") -> int:
    """``order`` as an int, refusing bools, non-integers and negative numbers."""
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {order!r}")
    if order < 0:
        raise ValueError(f"{name} must be non-negative, got {order}")
    return int(order)


def cumulant_coefficients(kind: KindLike, n: int) -> tuple[int, ...]:
    """Integer coefficients of ``kappa_n`` as a polynomial in the natural variable.

    For Bernoulli units the variable is ``sigma = 1/(1 + e^{-b})``, for spins
    ``m = tanh b``; coefficient ``k`` of the tuple multiplies the ``k``-th power.

    Parameters
    ----------
    kind : Bernoulli or Spin (instance or name)
    n : int
        Order of the cumulant, ``n >= 1``.

    Examples
    --------
    >>> cumulant_coefficients("bernoulli", 4)      # sigma - 7 sigma^2 + 12 sigma^3 - 6 sigma^4
    (0, 1, -7, 12, -6)
    >>> cumulant_coefficients("spin", 4)           # -2 + 8 m^2 - 6 m^4
    (-2, 0, 8, 0, -6)
    """
    kind = unit_kind(kind)
    n = check_order(n, "n")
    if n < 1:
        raise ValueError(f"cumulant order n must be at least 1, got {n}")
    return kind.cumulant_coefficients(n)


def cumulants(
    kind: KindLike,
    order: int,
    field: sp.Expr | None = None,
    *,
    variable: str = "field",
    natural: Any = None,
) -> tuple[sp.Expr, ...]:
    """Cumulants ``kappa_1 .. kappa_order`` of one unit with prior ``∝ exp(b x)``.

    ``kappa_n = d^n A / db^n`` with ``A`` the log-partition function of the kind, in
    closed form (see the module docstring for the method of each kind).

    Parameters
    ----------
    kind : UnitKind, name or sequence of values
    order : int
        Number of cumulants returned (``0`` gives an empty tuple).
    field : sympy expression, optional
        The field ``b`` of the prior (default ``Symbol("b")``).  For a Gaussian kind of
        precision ``p`` the prior is ``∝ exp(b x - p x^2 / 2)``.
    variable : {"field", "natural"}
        ``"field"``: expressions in ``field``.  ``"natural"``: polynomials in the natural
        variable -- ``sigma`` (Bernoulli), ``m`` (spin), mean and standard deviation
        ``(mu, sigma)`` (Gaussian, ``kappa_2 = sigma**2``), or the probabilities
        ``(p_0, p_1, ...)`` of the values of a Discrete kind (valid where they sum to 1).
    natural : Symbol or tuple of Symbols, optional
        Symbols to use for the natural variable(s) instead of the defaults above.

    Returns
    -------
    tuple of sympy expressions, ``kappa_1`` first.

    Examples
    --------
    >>> import sympy as sp
    >>> from symrg.model.units import Gaussian
    >>> cumulants("bernoulli", 2)
    (1/(1 + exp(-b)), 1/(1 + exp(-b)) - 1/(1 + exp(-b))**2)
    >>> cumulants("spin", 4, variable="natural")[3]
    -6*m**4 + 8*m**2 - 2
    >>> p = sp.Symbol("p", positive=True)
    >>> cumulants(Gaussian(p), 3)
    (b/p, 1/p, 0)
    >>> cumulants([0, 1, 2], 2, variable="natural")
    (p_1 + 2*p_2, -p_1**2 - 4*p_1*p_2 + p_1 - 4*p_2**2 + 4*p_2)
    """
    kind = unit_kind(kind)
    order = check_order(order)
    if variable not in ("field", "natural"):
        raise ValueError(f"variable must be 'field' or 'natural', got {variable!r}")
    b = sp.Symbol("b") if field is None else sp.sympify(field)
    if order == 0:
        return ()
    if variable == "natural":
        nat = kind.natural_symbols() if natural is None else natural
        return tuple(kind.cumulant_polynomials(order, nat))
    return tuple(kind.field_cumulants(order, b))


def cumulant(
    kind: KindLike,
    n: int,
    field: sp.Expr | None = None,
    *,
    variable: str = "field",
    natural: Any = None,
) -> sp.Expr:
    """The single cumulant ``kappa_n`` (``n >= 1``); see :func:`cumulants`.

    Examples
    --------
    >>> cumulant("bernoulli", 3, variable="natural")
    2*sigma**3 - 3*sigma**2 + sigma
    """
    n = check_order(n, "n")
    if n < 1:
        raise ValueError(f"cumulant order n must be at least 1, got {n}")
    return cumulants(kind, n, field, variable=variable, natural=natural)[n - 1]


def cgf(kind: KindLike, t: sp.Expr, field: sp.Expr | None = None) -> sp.Expr:
    """Cumulant generating function ``K(t) = A(b + t) - A(b)`` of one unit.

    Examples
    --------
    >>> import sympy as sp
    >>> t = sp.Symbol("t")
    >>> cgf("spin", t)
    -log(2*cosh(b)) + log(2*cosh(b + t))
    >>> from symrg.model.units import Gaussian
    >>> cgf(Gaussian(2), t)
    b*t/2 + t**2/4
    """
    kind = unit_kind(kind)
    b = sp.Symbol("b") if field is None else sp.sympify(field)
    t = sp.sympify(t)
    out = kind.log_partition(b + t) - kind.log_partition(b)
    if kind.is_gaussian:
        out = sp.expand(out)  # the quadratic form: constants cancel
    return out


def cgf_series(
    kind: KindLike,
    t: sp.Expr,
    order: int,
    field: sp.Expr | None = None,
    *,
    variable: str = "field",
    natural: Any = None,
) -> sp.Expr:
    """Taylor polynomial ``sum_{n=1}^{order} kappa_n t^n / n!`` of the CGF.

    Examples
    --------
    >>> import sympy as sp
    >>> t = sp.Symbol("t")
    >>> cgf_series("spin", t, 3, variable="natural")
    m*t + t**3*(2*m**3 - 2*m)/6 + t**2*(1 - m**2)/2
    """
    t = sp.sympify(t)
    ks = cumulants(kind, order, field, variable=variable, natural=natural)
    return sp.Add(*[k * t**n / sp.factorial(n) for n, k in enumerate(ks, start=1)])
