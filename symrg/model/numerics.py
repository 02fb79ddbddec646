"""Stable numeric building blocks shared by every layer (numpy and mpmath).

They live in the lowest layer (:mod:`symrg.model`) so that unit kinds, engines, RG
routes and checkers all use the same implementation.  ``log sum exp`` is computed with
the largest term factored out, ``m + log sum exp(a - m)``, so that it neither overflows
(``a = 1000``) nor underflows to ``log 0`` (``a = -1000``).

Examples
--------
>>> logsumexp([1000.0, 1000.0]), logsumexp([-1000.0, -1000.0])     # 1000 + log 2, -1000 + log 2
(1000.6931471805599, -999.3068528194401)
>>> print(logsumexp_mp([mpmath.mpf(-10000), mpmath.mpf(-10000)]))
-9999.30685281944
"""

from __future__ import annotations

from typing import Any, Iterable

import mpmath
import numpy as np

__all__ = ["logsumexp", "logsumexp_mp"]


def logsumexp(a: Any, axis: int | None = None) -> Any:
    """``log sum exp(a)`` over ``axis`` (all entries when None), without overflow.

    Entries ``-inf`` (zero weights) are allowed; an all ``-inf`` reduction gives ``-inf``.
    Complex entries are shifted by the largest real part, which leaves the principal
    branch of the logarithm unchanged.

    Parameters
    ----------
    a : array_like of floats or complex numbers
    axis : int or None

    Returns
    -------
    A float (complex) when ``axis`` is None, else an array with ``axis`` removed.

    Examples
    --------
    >>> logsumexp(np.array([[0.0, -np.inf], [800.0, 800.0]]), axis=1)
    array([  0.        , 800.69314718])
    >>> logsumexp([-np.inf, -np.inf])
    -inf
    >>> logsumexp([800 + 1j, 800 - 1j])             # 800 + log(2 cos 1)
    (800.077520710174+0j)
    """
    arr = np.asarray(a)
    if arr.dtype.kind != "c":
        arr = arr.astype(float)
    top = np.max(arr.real, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # all -inf: exp(-inf - 0) = 0, log 0 = -inf
    with np.errstate(divide="ignore"):
        out = top + np.log(np.sum(np.exp(arr - top), axis=axis, keepdims=True))
    if axis is None:
        return out.reshape(()).item()
    return np.squeeze(out, axis=axis)[()]  # [()]: a numpy scalar, not a 0-d array


def logsumexp_mp(terms: Iterable[Any]) -> Any:
    """``log sum exp(t)`` of mpmath numbers (real or complex, shifted by the largest real
    part) at the working precision (``mpmath.fsum``).

    Examples
    --------
    >>> with mpmath.workdps(30):
    ...     print(logsumexp_mp([mpmath.mpf(0), mpmath.mpf(0)]))
    0.693147180559945309417232121458
    """
    ts = list(terms)
    top = max(mpmath.re(t) for t in ts)
    if top == -mpmath.inf:
        return top
    return top + mpmath.log(mpmath.fsum(mpmath.exp(t - top) for t in ts))
