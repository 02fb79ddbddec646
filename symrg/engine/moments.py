"""Moments and cumulants of one variable, converted both ways (exact or float).

``kappa_n = mu_n - sum_{k=1}^{n-1} binom(n-1, k-1) kappa_k mu_{n-k}`` and its inverse
(docs/cumulants.md, moments and cumulants); joint moments of several variables are in
:mod:`symrg.engine.joint_cumulants`.

Examples
--------
>>> import sympy as sp
>>> mu1, mu2 = sp.symbols("mu1 mu2")
>>> moments_to_cumulants([mu1, mu2])
(mu1, -mu1**2 + mu2)
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import sympy as sp

__all__ = ["moments_to_cumulants", "cumulants_to_moments"]


def _is_symbolic(values: Sequence[Any]) -> bool:
    return any(isinstance(v, sp.Basic) for v in values)


def moments_to_cumulants(moments: Sequence[Any], *, expand: bool = True) -> tuple:
    """Cumulants ``kappa_1..kappa_n`` from raw moments ``mu_1..mu_n`` (``mu_0 = 1``).

    ``kappa_n = mu_n - sum_{k=1}^{n-1} binom(n-1, k-1) kappa_k mu_{n-k}`` (docs/cumulants.md, moments and cumulants).
    Works for sympy expressions (expanded when ``expand``), exact numbers and floats.

    Examples
    --------
    >>> moments_to_cumulants([0, 1, 0, 3])       # standard normal
    (0, 1, 0, 0)
    """
    mu = list(moments)
    sym = expand and _is_symbolic(mu)
    kap: list = []
    for n in range(1, len(mu) + 1):
        acc = mu[n - 1]
        for k in range(1, n):
            acc = acc - math.comb(n - 1, k - 1) * kap[k - 1] * mu[n - k - 1]
        kap.append(sp.expand(acc) if sym else acc)
    return tuple(kap)


def cumulants_to_moments(cumulants: Sequence[Any], *, expand: bool = True) -> tuple:
    """Raw moments ``mu_1..mu_n`` from cumulants ``kappa_1..kappa_n``.

    ``mu_n = sum_{k=1}^{n} binom(n-1, k-1) kappa_k mu_{n-k}`` with ``mu_0 = 1``.

    Examples
    --------
    >>> import sympy as sp
    >>> k1, k2 = sp.symbols("kappa1 kappa2")
    >>> cumulants_to_moments([k1, k2, 0])
    (kappa1, kappa1**2 + kappa2, kappa1**3 + 3*kappa1*kappa2)
    """
    kap = list(cumulants)
    sym = expand and _is_symbolic(kap)
    mu: list = [1]
    for n in range(1, len(kap) + 1):
        acc = kap[n - 1]
        for k in range(1, n):
            acc = acc + math.comb(n - 1, k - 1) * kap[k - 1] * mu[n - k]
        mu.append(sp.expand(acc) if sym else acc)
    return tuple(mu[1:])
