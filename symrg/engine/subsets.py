"""The subset recursion from joint moments to the joint cumulant, for any exact algebra.

For variables ``X_0 .. X_{n-1}`` with joint moments ``mu(S) = E[prod_{i in S} X_i]``
(a subset ``S`` is the bitmask with bit ``i`` set for ``i in S``, ``mu(0) = 1``), the joint
cumulants satisfy

    kappa(S) = mu(S) - sum_{T ∋ min S, T ⊊ S} kappa(T) mu(S \\ T),

the moment-cumulant relation with the block that holds the smallest element of ``S``
singled out.  Every subset of every subset is visited once: ``O(3^n)`` products.  The
recursion only multiplies and subtracts, so it runs unchanged over sympy expressions,
``Fraction`` or ``int`` values and over the sparse polynomials of
:mod:`symrg.rg.moment_polynomials`; callers pass their own product and difference.
Floating-point moments have the faster ranked transform
:func:`symrg.engine.joint_cumulants.subset_cumulants` (``O(n^2 2^n)``); the Möbius, zeta and
Walsh transforms over subsets are in :mod:`symrg.engine.multilinear`.

Examples
--------
>>> from fractions import Fraction
>>> half = Fraction(1, 2)
>>> joint_cumulant_from_subsets([1, half, half, half])   # kappa(X, X) of a fair 0/1 coin
Fraction(1, 4)
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Sequence, TypeVar

__all__ = ["joint_cumulant_from_subsets"]

T = TypeVar("T")


def joint_cumulant_from_subsets(
    moments: Sequence[T],
    *,
    multiply: Callable[[T, T], T] = operator.mul,
    subtract: Callable[[T, T], T] = operator.sub,
    normalize: Callable[[T], T] | None = None,
) -> T:
    """Joint cumulant of all ``n`` variables from the moments of every subset.

    Parameters
    ----------
    moments : sequence of length ``2**n``, ``n >= 1``
        ``moments[S]`` is the joint moment of the variables in the bitmask ``S``;
        ``moments[0]`` (the empty moment, 1) is never read.
    multiply, subtract : callables
        The ring operations (default ``*`` and ``-``).
    normalize : callable, optional
        Applied to every intermediate cumulant (e.g. ``sympy.expand``, to keep symbolic
        intermediate results canonical and small).

    Returns
    -------
    ``kappa`` of the full set (bitmask ``2**n - 1``).

    Raises
    ------
    ValueError
        If the length of ``moments`` is not a power of two of at least 2.

    Examples
    --------
    >>> import sympy as sp
    >>> m = sp.symbols("m0:8")
    >>> joint_cumulant_from_subsets(m[:4])                       # covariance
    -m1*m2 + m3
    >>> k3 = joint_cumulant_from_subsets(m, normalize=sp.expand)
    >>> k3 == sp.expand(m[7] - m[1]*m[6] - m[2]*m[5] - m[4]*m[3] + 2*m[1]*m[2]*m[4])
    True
    """
    size = len(moments)
    if size < 2 or size & (size - 1):
        raise ValueError(f"moments must have length 2**n with n >= 1 (one entry per subset), got {size}")
    kappa: list[Any] = [None] * size
    for S in range(1, size):
        low = S & -S  # the smallest element of S is in every T of the sum
        rest = S ^ low
        acc = moments[S]
        r = rest
        while r:  # proper submasks r of rest, decreasing; T = low | r
            r = (r - 1) & rest
            acc = subtract(acc, multiply(kappa[low | r], moments[rest ^ r]))
        kappa[S] = normalize(acc) if normalize is not None else acc
    return kappa[size - 1]
