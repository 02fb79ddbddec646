"""Exact polynomials in block moments and coarse spins, for the cluster expansion.

Under the block distribution ``p_0(x | h) = prod_j p_0(x_j | h_j)`` of
:mod:`symrg.rg.cluster_expansion`, a product of fine spins of one block ``B`` has the
conditional moment ``E[prod_{i in A} x_i | h_B] = alpha_A + beta_A h_B`` (a coarse spin
squares to one), and blocks are independent.  Every joint moment of a cluster of terms,
and so every joint cumulant, is therefore a polynomial in the coarse spins (square-free)
and in the block moments ``alpha_A``, ``beta_A``, with rational coefficients.  This
module is that polynomial algebra, exact (``Fraction``) and sparse:

a *moment polynomial* is a dict ``{(coarse spins, monomial): Fraction}`` where the coarse
spins are a ``frozenset`` of block coordinates (their product) and the monomial is a
sorted tuple of ``(generator, power)``, a generator being whatever key the caller's
``resolve`` gives to a block moment (equal closed forms share one key).

Examples
--------
>>> from fractions import Fraction
>>> resolve = lambda kind, mask: ("a", mask) if kind == "a" else ("b", mask)   # every moment free
>>> p = block_factor((0,), 1, resolve)                   # E[x_0 | h] = alpha_1 + beta_1 h
>>> sorted(p.items(), key=str)
[((frozenset(), ((('a', 1), 1),)), Fraction(1, 1)), ((frozenset({(0,)}), ((('b', 1), 1),)), Fraction(1, 1))]
>>> term = (((0,), 1),)                                   # x_0 of block (0,)
>>> kappa = cluster_cumulant([term, term], resolve)      # Var(x_0 | h)
>>> kappa[(frozenset(), ())]                             # 1 - alpha^2 - beta^2 - 2 alpha beta h
Fraction(1, 1)
>>> len(kappa)
4
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Hashable, Sequence

from symrg.engine.subsets import joint_cumulant_from_subsets

__all__ = ["ONE", "accumulate", "multiply", "subtract", "block_factor", "cluster_cumulant"]

MomentPolynomial = dict
#: resolve(kind, mask): the block moment alpha_mask (kind "a") or beta_mask (kind "b") as
#: 0 / a Fraction (known exactly) or a generator key (a closed form left symbolic)
Resolve = Callable[[str, int], Any]

#: the constant polynomial 1
ONE: MomentPolynomial = {(frozenset(), ()): Fraction(1)}


def _monomial_product(m1: tuple, m2: tuple) -> tuple:
    if not m1:
        return m2
    if not m2:
        return m1
    d = dict(m1)
    for g, p in m2:
        d[g] = d.get(g, 0) + p
    return tuple(sorted(d.items()))


def accumulate(out: dict, key: Hashable, value: Any) -> None:
    """``out[key] += value``, dropping the key when the sum cancels (sparse polynomials)."""
    v = out.get(key, 0) + value
    if v:
        out[key] = v
    else:
        out.pop(key, None)


def multiply(p: MomentPolynomial, q: MomentPolynomial) -> MomentPolynomial:
    """``p q``; coarse spins square to one, so spin sets combine by symmetric difference."""
    out: dict = {}
    for (s1, m1), c1 in p.items():
        for (s2, m2), c2 in q.items():
            accumulate(out, (s1 ^ s2, _monomial_product(m1, m2)), c1 * c2)
    return out


def subtract(p: MomentPolynomial, q: MomentPolynomial) -> MomentPolynomial:
    """``p - q`` (a new polynomial; the arguments are not changed)."""
    out = dict(p)
    for k, c in q.items():
        accumulate(out, k, -c)
    return out


def block_factor(block: tuple, mask: int, resolve: Resolve) -> MomentPolynomial:
    """``E[x_A | h_B] = alpha_A + beta_A h_B`` for the sites ``mask`` of ``block``.

    ``resolve(kind, mask)`` gives each moment as 0, a Fraction or a generator key, so
    that vanishing and equal block moments never enter the polynomial algebra.
    """
    if mask == 0:
        return dict(ONE)
    out: dict = {}
    for kind, hs in (("a", frozenset()), ("b", frozenset((block,)))):
        v = resolve(kind, mask)
        if isinstance(v, Fraction):
            if v:
                out[(hs, ())] = v
        else:
            out[(hs, ((v, 1),))] = Fraction(1)
    return out


def cluster_cumulant(cluster: Sequence[tuple], resolve: Resolve) -> MomentPolynomial:
    """Joint cumulant of the spin products of the ``cluster`` terms, as a moment polynomial.

    Each term is a tuple ``((block, site mask), ...)``.  The joint moment of every
    sub-cluster factorizes over blocks; within a block, spins square to one, so the
    masks of the terms combine by XOR.  The cumulant then follows from the moments by
    the subset recursion of :mod:`symrg.engine.subsets`.
    """
    n = len(cluster)
    moments = []
    for U in range(1 << n):
        masks: dict = {}
        for i in range(n):
            if U >> i & 1:
                for blk, mk in cluster[i]:
                    masks[blk] = masks.get(blk, 0) ^ mk
        mom = dict(ONE)
        for blk, mk in sorted(masks.items()):
            if mk:
                mom = multiply(mom, block_factor(blk, mk, resolve))
        moments.append(mom)
    return joint_cumulant_from_subsets(moments, multiply=multiply, subtract=subtract)
