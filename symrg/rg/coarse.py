"""Coarse-graining rules: conditionals ``p(h_j | x_j)`` of a coarse spin given its block.

symrg's convention (docs/conventions.md, "Block RG"): fine spins are ``x``, coarse spins are ``h``, both
Ising (``±1``).  A rule gives, for every configuration of a block of ``n`` fine spins,
the probability ``p(h = +1 | x)``; ``p(h = -1 | x) = 1 - p(h = +1 | x)``.  Block
configurations are indexed in the bit order of :mod:`symrg.engine.multilinear` (configuration
``k`` has ``x_i = 2 (bit i of k) - 1``).

Rules offered (:data:`RULES`): ``"decimation"`` (keep one site), ``"majority"`` (sign of
the block sum; even blocks need an explicit ``tie`` rule), ``"smooth"`` (the family
``p(h | x) = (1 + h tanh(Lambda . x)) / 2`` of Lenggenhager et al., symbolic or numeric
``Lambda``) and ``"custom"`` (any callable).

Examples
--------
>>> from symrg.rg.coarse import coarse_rule
>>> coarse_rule("majority").table(3)
(0, 0, 0, 1, 0, 1, 1, 1)
>>> coarse_rule("decimation").table(2)
(0, 1, 0, 1)
>>> import sympy as sp
>>> coarse_rule("smooth", Lambda=sp.Symbol("Lambda")).table(1)
(1/2 - tanh(Lambda)/2, tanh(Lambda)/2 + 1/2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy as sp

__all__ = ["CoarseRule", "coarse_rule", "decimation", "majority", "smooth", "custom", "RULES", "TIE_RULES"]

#: tie rules of the majority rule on even blocks
TIE_RULES = ("random", "first")


def _block_configs(n: int) -> list[tuple[int, ...]]:
    return [tuple(2 * ((k >> i) & 1) - 1 for i in range(n)) for k in range(1 << n)]


@dataclass(frozen=True)
class CoarseRule:
    """A coarse-graining rule ``p(h = +1 | x)`` for blocks of any admissible size.

    Use the constructors :func:`decimation`, :func:`majority`, :func:`smooth`,
    :func:`custom` or :func:`coarse_rule`.

    Attributes
    ----------
    name : str
    params : tuple
        ``(name, value)`` pairs describing the rule (for printing and equality).
    """

    name: str
    params: tuple
    _prob: Callable = field(repr=False, compare=False)

    def table(self, n: int) -> tuple:
        """``p(h = +1 | x)`` for the ``2^n`` configurations of a block of ``n`` spins.

        Entries are exact sympy numbers or expressions.

        Raises
        ------
        ValueError
            When the rule does not apply to blocks of ``n`` sites.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"block size must be a positive integer, got {n!r}")
        return tuple(sp.sympify(self._prob(x)) for x in _block_configs(int(n)))

    def numeric_table(self, n: int, values: dict | None = None) -> np.ndarray:
        """:meth:`table` as floats, with rule parameters substituted from ``values``.

        Raises
        ------
        ValueError
            When a parameter is left symbolic or a probability is outside [0, 1].
        """
        tab = self.table(n)
        rep = {sp.Symbol(str(k)) if isinstance(k, str) else k: v for k, v in (values or {}).items()}
        out = []
        for p in tab:
            q = p.subs(rep) if rep else p
            if q.free_symbols:
                names = ", ".join(sorted(map(str, q.free_symbols)))
                raise ValueError(f"rule {self.name}: parameter(s) {names} need numeric values (pass values={{...}})")
            out.append(float(q))
        arr = np.array(out)
        if np.any(arr < -1e-15) or np.any(arr > 1 + 1e-15):
            raise ValueError(f"rule {self.name}: probabilities must lie in [0, 1], got {arr}")
        return np.clip(arr, 0.0, 1.0)

    @property
    def symbols(self) -> tuple:
        """Free symbols of the rule's parameters."""
        out: set = set()
        for _, v in self.params:
            if isinstance(v, sp.Basic):
                out |= v.free_symbols
            elif isinstance(v, tuple):
                for c in v:
                    if isinstance(c, sp.Basic):
                        out |= c.free_symbols
        return tuple(sorted(out, key=str))

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"CoarseRule({self.name}{', ' + ps if ps else ''})"


def decimation(site: int = 0) -> CoarseRule:
    """Keep the spin at motif position ``site``: ``h = x_site``.

    >>> decimation(1).table(2)
    (0, 0, 1, 1)
    """
    if isinstance(site, bool) or not isinstance(site, (int, np.integer)) or site < 0:
        raise ValueError(f"site must be a non-negative integer, got {site!r}")

    def prob(x: tuple) -> Any:
        if site >= len(x):
            raise ValueError(f"decimation site={site} is outside a block of {len(x)} sites")
        return sp.Integer(1) if x[site] > 0 else sp.Integer(0)

    return CoarseRule("decimation", (("site", int(site)),), prob)


def majority(tie: str | Callable | None = None) -> CoarseRule:
    """The sign of the block sum.

    Parameters
    ----------
    tie : {"random", "first"}, callable or None
        What to do when an even block sums to zero: ``"random"`` (h = ±1 with
        probability 1/2), ``"first"`` (h = the first spin of the block) or a callable
        ``tie(x) -> p(h = +1 | x)``.  Required for even blocks; odd blocks never tie.

    >>> majority(tie="first").table(2)      # configuration 1 is (x_0, x_1) = (+1, -1)
    (0, 1, 0, 1)
    >>> majority().table(2)
    Traceback (most recent call last):
    ...
    ValueError: majority rule on blocks of 2 sites can tie: give a tie rule, tie='random', tie='first' or a callable
    """
    if tie is not None and not callable(tie) and tie not in TIE_RULES:
        raise ValueError(f"unknown tie rule {tie!r}; valid tie rules: {', '.join(TIE_RULES)} or a callable")

    def prob(x: tuple) -> Any:
        s = sum(x)
        if s > 0:
            return sp.Integer(1)
        if s < 0:
            return sp.Integer(0)
        if tie is None:
            raise ValueError(
                f"majority rule on blocks of {len(x)} sites can tie: give a tie rule, "
                f"{', '.join('tie=' + repr(t) for t in TIE_RULES)} or a callable"
            )
        if tie == "random":
            return sp.Rational(1, 2)
        if tie == "first":
            return sp.Integer(1) if x[0] > 0 else sp.Integer(0)
        assert callable(tie)  # the only other value the check above lets through
        return sp.sympify(tie(x))

    return CoarseRule("majority", (("tie", tie if isinstance(tie, str) or tie is None else getattr(tie, "__name__", "callable")),), prob)


def smooth(Lambda: Any) -> CoarseRule:
    """``p(h | x) = (1 + h tanh(Lambda . x)) / 2`` (Lenggenhager et al.).

    ``Lambda`` is a sequence with one weight per block site, or a single number/symbol
    used for every site.  Entries may be sympy symbols.

    >>> smooth([1, 0]).table(2)[1]
    tanh(1)/2 + 1/2
    """
    if isinstance(Lambda, (list, tuple, np.ndarray)):
        lam: Any = tuple(sp.sympify(v) for v in Lambda)
    else:
        lam = sp.sympify(Lambda)

    def prob(x: tuple) -> Any:
        if isinstance(lam, tuple):
            if len(lam) != len(x):
                raise ValueError(f"Lambda has {len(lam)} weights but the block has {len(x)} sites")
            arg = sp.Add(*[w * xi for w, xi in zip(lam, x)])
        else:
            arg = lam * sum(x)
        return (1 + sp.tanh(arg)) / 2

    return CoarseRule("smooth", (("Lambda", lam),), prob)


def custom(prob: Callable[[tuple], Any], name: str = "custom") -> CoarseRule:
    """A user rule: ``prob(x) -> p(h = +1 | x)`` for a tuple ``x`` of ±1 spins.

    >>> custom(lambda x: (1 + x[-1]) / 2).table(2)
    (0, 0, 1, 1)
    """
    if not callable(prob):
        raise TypeError(f"prob must be a callable x -> p(h=+1|x), got {prob!r}")

    def wrapped(x: tuple) -> Any:
        p = prob(x)
        # floats become exact rationals so that the symbolic route stays exact
        return sp.nsimplify(p) if isinstance(p, float) else p

    return CoarseRule(name, (), wrapped)


#: rule constructors by name
RULES: dict[str, Callable[..., CoarseRule]] = {
    "decimation": decimation,
    "majority": majority,
    "smooth": smooth,
    "custom": custom,
}


def coarse_rule(rule: "str | CoarseRule", **params: Any) -> CoarseRule:
    """A rule by name (see :data:`RULES`) with its parameters, or a rule passed through.

    >>> coarse_rule("majority", tie="random").table(2)
    (0, 1/2, 1/2, 1)
    >>> coarse_rule("median")
    Traceback (most recent call last):
    ...
    ValueError: unknown coarse-graining rule 'median'; valid rules: decimation, majority, smooth, custom
    """
    if isinstance(rule, CoarseRule):
        if params:
            raise ValueError("parameters are given to a rule constructor, not to an existing CoarseRule")
        return rule
    if not isinstance(rule, str) or rule not in RULES:
        raise ValueError(f"unknown coarse-graining rule {rule!r}; valid rules: {', '.join(RULES)}")
    try:
        return RULES[rule](**params)
    except TypeError as exc:
        raise TypeError(f"rule {rule!r}: {exc}") from None
