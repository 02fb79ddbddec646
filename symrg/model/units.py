"""Unit kinds: the support of a unit and its log-partition function.

A unit kind knows the values one unit can take, its log-partition function
``A(eta) = log sum_x exp(eta x)`` in closed form (MATH.md section 1), a numerically
stable numpy and mpmath form of the same function, and the reduction rule for
powers of a unit (``v**2 = v`` for Bernoulli, ``s**2 = 1`` for spins).

Examples
--------
>>> import sympy as sp
>>> from symrg.model.units import Bernoulli, Spin, Discrete
>>> eta = sp.Symbol("eta")
>>> Bernoulli().log_partition(eta)
log(exp(eta) + 1)
>>> Spin().log_partition(eta)
log(2*cosh(eta))
>>> x = sp.Symbol("x")
>>> Bernoulli().reduce_powers(x**3 + 2*x**2, [x])
3*x
>>> Spin().reduce_powers(x**3 + 2*x**2, [x])
x + 2
>>> Discrete((0, 1, 2)).log_partition(eta)
log(exp(2*eta) + exp(eta) + 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import mpmath
import numpy as np
import sympy as sp

__all__ = ["UnitKind", "Discrete", "Bernoulli", "Spin", "Gaussian", "unit_kind"]


class UnitKind:
    """Base class of unit kinds. Subclasses are frozen dataclasses."""

    #: short name used in messages and printing
    name: str = "unit"

    @property
    def is_discrete(self) -> bool:
        return isinstance(self, Discrete)

    def log_partition(self, eta: sp.Expr) -> sp.Expr:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} has no log-partition function")

    def latex_name(self) -> str:
        return self.name


@dataclass(frozen=True)
class Discrete(UnitKind):
    """A unit taking finitely many values ``values`` (distinct, real, at least two).

    The log-partition function is ``log sum_k exp(eta * x_k)`` and powers of a unit
    reduce modulo the polynomial ``prod_k (x - x_k)``, which vanishes on the support.
    """

    values: tuple = (0, 1)
    name: str = field(default="discrete", compare=False, repr=False)

    def __post_init__(self) -> None:
        vals = tuple(sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v) for v in self.values)
        if len(vals) < 2:
            raise ValueError(f"Discrete unit needs at least two values, got {self.values!r}")
        if len(set(vals)) != len(vals):
            raise ValueError(f"Discrete unit values must be distinct, got {self.values!r}")
        if not all(v.is_real for v in vals):
            raise ValueError(f"Discrete unit values must be real numbers, got {self.values!r}")
        object.__setattr__(self, "values", vals)

    # -- closed forms ---------------------------------------------------------------
    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        return sp.log(sp.Add(*[sp.exp(eta * v) for v in self.values]))

    def log_partition_numpy(self, eta: np.ndarray) -> np.ndarray:
        vals = np.array([float(v) for v in self.values])
        z = np.multiply.outer(np.asarray(eta, dtype=float), vals)
        m = z.max(axis=-1)
        return m + np.log(np.exp(z - m[..., None]).sum(axis=-1))

    def log_partition_mpmath(self, eta):
        vals = [mpmath.mpf(sp.Rational(v).p) / sp.Rational(v).q if v.is_Rational else mpmath.mpf(str(sp.N(v, 60))) for v in self.values]
        terms = [eta * v for v in vals]
        m = max(terms)
        return m + mpmath.log(mpmath.fsum(mpmath.exp(t - m) for t in terms))

    # -- algebra of the support -----------------------------------------------------
    def vanishing_polynomial(self, x: sp.Symbol) -> sp.Poly:
        """The monic polynomial ``prod_k (x - x_k)`` that is zero on the support."""
        return sp.Poly(sp.Mul(*[x - v for v in self.values]), x)

    def reduce_powers(self, expr: sp.Expr, units: Iterable[sp.Symbol]) -> sp.Expr:
        """Reduce every power of the unit symbols ``units`` in ``expr`` on the support.

        Only polynomial dependence is reduced; the result is expanded in ``units``.
        """
        expr = sp.expand(sp.sympify(expr))
        units = [u for u in units if expr.has(u)]
        if not units:
            return expr
        rules = {}
        for u in units:
            rules[u] = self.vanishing_polynomial(u)
        poly = sp.Poly(expr, *units)
        out = sp.S.Zero
        cache: dict = {}
        for monom, coeff in poly.terms():
            term = coeff
            for u, k in zip(units, monom):
                if k == 0:
                    continue
                key = (u, k)
                if key not in cache:
                    cache[key] = sp.rem(sp.Poly(u**k, u), rules[u]).as_expr()
                term = term * cache[key]
            out += term
        return sp.expand(out)

    @property
    def size(self) -> int:
        return len(self.values)

    def latex_name(self) -> str:
        return r"\{" + ", ".join(sp.latex(v) for v in self.values) + r"\}"


@dataclass(frozen=True)
class Bernoulli(Discrete):
    """Bernoulli unit with values {0, 1}; ``A(eta) = log(1 + e^eta)`` (softplus)."""

    values: tuple = (0, 1)
    name: str = field(default="Bernoulli", compare=False, repr=False)

    def __post_init__(self) -> None:
        if tuple(self.values) != (0, 1):
            raise ValueError("Bernoulli units take the values (0, 1); use Discrete(values) otherwise")
        super().__post_init__()

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        return sp.log(1 + sp.exp(eta))

    def log_partition_numpy(self, eta: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, eta)

    def log_partition_mpmath(self, eta):
        eta = mpmath.mpf(eta)
        if eta > 0:
            return eta + mpmath.log1p(mpmath.exp(-eta))
        return mpmath.log1p(mpmath.exp(eta))


@dataclass(frozen=True)
class Spin(Discrete):
    """Ising spin with values {-1, +1}; ``A(eta) = log(2 cosh eta)``."""

    values: tuple = (-1, 1)
    name: str = field(default="Spin", compare=False, repr=False)

    def __post_init__(self) -> None:
        if tuple(self.values) != (-1, 1):
            raise ValueError("Spin units take the values (-1, 1); use Discrete(values) otherwise")
        super().__post_init__()

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        return sp.log(2 * sp.cosh(eta))

    def log_partition_numpy(self, eta: np.ndarray) -> np.ndarray:
        a = np.abs(eta)
        # log(2 cosh x) = |x| + log(1 + exp(-2|x|)), finite for any |x|
        return a + np.log1p(np.exp(-2.0 * a))

    def log_partition_mpmath(self, eta):
        a = abs(mpmath.mpf(eta))
        return a + mpmath.log1p(mpmath.exp(-2 * a))


@dataclass(frozen=True)
class Gaussian(UnitKind):
    """Real-valued unit with self-energy ``+1/2 x^T P x``.

    ``precision`` is the default precision of each unit (a positive number or symbol);
    a layer may carry a full precision matrix instead (see :class:`symrg.model.Layer`).
    For one unit of precision ``p``: ``A(eta) = eta^2 / (2 p) + 1/2 log(2 pi / p)``.
    """

    precision: sp.Expr = sp.S.One
    name: str = field(default="Gaussian", compare=False, repr=False)

    def __post_init__(self) -> None:
        p = sp.sympify(self.precision)
        if p.is_positive is False:
            raise ValueError(f"Gaussian precision must be positive, got {self.precision!r}")
        object.__setattr__(self, "precision", p)

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        p = self.precision
        return eta**2 / (2 * p) + sp.log(2 * sp.pi / p) / 2

    def latex_name(self) -> str:
        return r"\mathbb{R}"


_KINDS = {"bernoulli": Bernoulli, "spin": Spin, "ising": Spin, "gaussian": Gaussian}


def unit_kind(kind: "UnitKind | str | Sequence") -> UnitKind:
    """Coerce ``kind`` to a :class:`UnitKind`.

    Accepts an instance, a name (``"bernoulli"``, ``"spin"``, ``"gaussian"``) or a
    sequence of values (a :class:`Discrete` kind).

    >>> unit_kind("spin")
    Spin(values=(-1, 1))
    >>> unit_kind([0, 1, 2]).values
    (0, 1, 2)
    """
    if isinstance(kind, UnitKind):
        return kind
    if isinstance(kind, str):
        try:
            return _KINDS[kind.lower()]()
        except KeyError:
            raise ValueError(
                f"unknown unit kind {kind!r}; valid names: {', '.join(sorted(_KINDS))}, "
                "or a sequence of values for a Discrete kind"
            ) from None
    if isinstance(kind, (list, tuple)):
        return Discrete(tuple(kind))
    raise TypeError(f"cannot make a unit kind from {kind!r}")
