"""Unit kinds: everything symrg knows about one kind of unit lives on its class.

A unit kind is one small class (the pattern of :mod:`sympy.stats`, where a distribution
is one class).  Engines, printers, exporters and the loader ask the kind through the
hooks below instead of testing its type, so a new kind is a subclass and nothing else:

================================  ==========================================================
hook                              meaning (generic fallback in brackets)
================================  ==========================================================
``log_partition(eta)``            ``A(eta) = log sum_x exp(eta x)`` as a sympy expression
``log_partition_numpy(eta)``      the same, numerically stable, elementwise on arrays
                                  [log-sum-exp over the support]
``log_partition_mpmath(eta)``     the same in mpmath [log-sum-exp over the support]
``log_partition_complex(eta)``    the same for complex numpy input, ``log_partition_mpc`` for one
                                  complex mpmath number (sampling in ``verify``)
``reduce_powers(expr, units)``    powers of a unit reduced on its support [modulo the
                                  vanishing polynomial ``prod_k (x - x_k)``]
``square_reduction()``            ``(s, p)`` with ``x**2 = s x + p`` on a two-valued support
``multilinear_basis``             ``"mobius"`` (values 0, 1), ``"walsh"`` (values -1, 1), else None
``cumulant_polynomials(n, nat)``  ``kappa_1 .. kappa_n`` in the natural variables [from the
                                  moments ``sum_k x_k^j p_k`` of a finite support]
``field_cumulants(n, b)``         ``kappa_1 .. kappa_n`` as functions of the field ``b``
                                  [natural variables substituted; else derivatives of ``A``]
``cumulant_coefficients(n)``      integer coefficient list (Bernoulli and Spin only)
``moment(k, nat, b)``             ``E[x^k]`` in the natural variables
``distribution(nat)``             ``((x_k, P(x_k)), ...)`` in the natural variables
``convergence_radius(theta)``     radius of the Taylor series of ``A(theta + t)`` in ``t``
                                  [distance from ``theta`` to the nearest complex zero of
                                  ``sum_k exp(eta x_k)``; None when unknown]
``contains(values)``              elementwise test that numbers lie in the support
``latex_name()``                  the support in LaTeX; ``log_partition_latex(entry)`` the
                                  printed ``A(entry)``; ``partition_label`` its short name
``registry_name``                 the name under which save files record the kind
================================  ==========================================================

Constructors never evaluate text: a string is accepted only as a plain identifier (a
symbol name) or a numeric literal (``"3"``, ``"-0.25"``, ``"1/2"``).

The supports and log-partition functions are tabulated in docs/conventions.md; the
cumulants and radii of convergence are derived in docs/cumulants.md.  A new finite kind is
a frozen dataclass deriving from :class:`Discrete` that sets its ``values`` (and, if it
likes, a closed-form ``log_partition``); tests/test_custom_unit_kind.py runs one through
the whole pipeline.

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
>>> Discrete((-1, 0, 1)).convergence_radius(sp.Symbol("theta", real=True))
sqrt(theta**2 + 4*pi**2/9)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from numbers import Number
from typing import Any, ClassVar

import mpmath
import numpy as np
import sympy as sp

from symrg.errors import ModelError
from symrg.model import services
from symrg.model.numerics import logsumexp, logsumexp_mp

__all__ = [
    "Bernoulli",
    "Discrete",
    "Gaussian",
    "Spin",
    "UnitKind",
    "kind_class",
    "kind_for_label",
    "registered_kinds",
    "unit_kind",
]

#: largest support of a Discrete kind (enumeration costs grow as size**units)
MAX_DISCRETE_VALUES = 64
#: largest degree of the partition polynomial whose roots give a convergence radius
MAX_RADIUS_DEGREE = 200

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_INT = re.compile(r"[+-]?\d{1,60}\Z")
_FRACTION = re.compile(r"[+-]?\d{1,60}/\d{1,60}\Z")
_DECIMAL = re.compile(r"[+-]?(\d{1,60}\.?\d{0,60}|\.\d{1,60})([eE][+-]?\d{1,3})?\Z")


def _scalar(x: Any, what: str, *, allow_symbol: bool) -> sp.Expr:
    """A sympy number (or symbol) from ``x`` without ever evaluating text.

    Accepts Python and numpy numbers, sympy expressions, and strings that are a plain
    identifier (a symbol name, when ``allow_symbol``) or a numeric literal.
    """
    if isinstance(x, bool):
        raise ModelError(f"{what}: got the bool {x!r}; pass a number")
    if isinstance(x, sp.Basic):
        if not isinstance(x, sp.Expr):
            raise ModelError(f"{what}: got {type(x).__name__} {x!r}; pass a number or a sympy expression")
        return x
    if isinstance(x, str):
        s = x.strip()
        if _INT.match(s) or _FRACTION.match(s):
            return sp.Rational(s)
        if _DECIMAL.match(s):
            return sp.Float(s)
        if allow_symbol and _IDENT.match(s):
            return sp.Symbol(s)
        expect = "a number, a sympy expression, a numeric literal such as '0.5' or '1/2'"
        expect += ", or a plain symbol name such as 'q'" if allow_symbol else ""
        raise ModelError(f"{what}: the string {x!r} is not accepted (strings are never evaluated); pass {expect}")
    if isinstance(x, (complex, np.complexfloating)):
        raise ModelError(f"{what}: got the complex number {x!r}; pass a real number")
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            raise ModelError(f"{what}: got {x!r}; pass a finite number")
        return sp.Float(float(x))
    if isinstance(x, (int, np.integer)):
        return sp.Integer(int(x))
    if isinstance(x, Number):  # Fraction, Decimal
        return sp.nsimplify(x, rational=True)
    raise ModelError(f"{what}: cannot use {type(x).__name__} {x!r}; pass a number or a sympy expression")


# --------------------------------------------------------------------------------------
# integer cumulant tables of the binary kinds
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _bernoulli_table(order: int) -> tuple[tuple[int, ...], ...]:
    # kappa_n = sum_k a_k sigma^k;  sigma(1-sigma) d/dsigma maps a_k -> k a_k - (k-1) a_{k-1}
    rows: list[tuple[int, ...]] = [(0, 1)]
    for _ in range(1, order):
        a = rows[-1]
        b = [0] * (len(a) + 1)
        for k in range(1, len(b)):
            b[k] = (k * a[k] if k < len(a) else 0) - (k - 1) * a[k - 1]
        rows.append(tuple(b))
    return tuple(rows[:order])


@lru_cache(maxsize=8)
def _spin_table(order: int) -> tuple[tuple[int, ...], ...]:
    # kappa_n = sum_j a_j m^j;  (1 - m^2) d/dm maps a -> (j+1) a_{j+1} - (j-1) a_{j-1}
    rows: list[tuple[int, ...]] = [(0, 1)]
    for _ in range(1, order):
        a = rows[-1]
        d = len(a)
        b = [0] * (d + 1)
        for j in range(d + 1):
            up = (j + 1) * a[j + 1] if j + 1 < d else 0
            down = (j - 1) * a[j - 1] if 1 <= j <= d else 0
            b[j] = up - down
        while len(b) > 1 and b[-1] == 0:
            b.pop()
        rows.append(tuple(b))
    return tuple(rows[:order])


try:  # canonical argument order of Add; private in sympy, so fall back gracefully
    from sympy.core.basic import _args_sortkey
except ImportError:  # pragma: no cover - depends on the sympy version
    _args_sortkey = None


def _poly_expr(coeffs: Sequence[int], powers: Sequence[sp.Expr]) -> sp.Expr:
    """``sum_k coeffs[k] * powers[k]`` built without re-canonicalizing every term.

    ``powers[k]`` must be ``base**k`` in canonical form.  Building the terms directly
    and sorting them like ``Add`` does is ~10x faster than ``Poly.as_expr`` for the
    thousands of terms of high-order cumulants, and gives the identical expression.
    """
    terms = []
    for k, c in enumerate(coeffs):
        if not c:
            continue
        c = sp.Integer(c) if isinstance(c, int) else sp.sympify(c)
        if k == 0:
            terms.append(c)
        elif c == 1:
            terms.append(powers[k])
        elif powers[k].is_Mul or not c.is_Integer or _args_sortkey is None:
            terms.append(c * powers[k])
        else:
            terms.append(sp.Mul._from_args((c, powers[k])))
    if not terms:
        return sp.S.Zero
    if len(terms) == 1:
        return terms[0]
    if _args_sortkey is None:  # pragma: no cover
        return sp.Add(*terms)
    terms.sort(key=_args_sortkey)
    return sp.Add._from_args(terms)


def _powers(base: sp.Expr, degree: int) -> list[sp.Expr]:
    return [sp.S.One, base] + [sp.Pow(base, sp.Integer(k)) for k in range(2, degree + 1)]


# --------------------------------------------------------------------------------------
# the base class and its registry
# --------------------------------------------------------------------------------------
_REGISTRY: dict[str, type] = {}
_LABELS: dict[str, type] = {}



_ETA = sp.Symbol("eta")


@lru_cache(maxsize=64)
def _compiled_log_partition(kind: "UnitKind", backend: str) -> Any:
    """The kind's closed-form ``A(eta)`` compiled by the one numeric code generator
    (the ``compile_scalars`` service, installed by the package root)."""
    return services.get("compile_scalars")((_ETA,), [kind.log_partition(_ETA)], backend, checked=False)

class UnitKind:
    """Base class of unit kinds; subclasses are frozen dataclasses.

    A subclass gives at least :meth:`log_partition`; every other hook has a generic
    fallback (see the module docstring).  Defining a subclass registers it under its
    ``registry_name`` (default: the class name), which is what save files record.

    Examples
    --------
    >>> from dataclasses import dataclass, field
    >>> @dataclass(frozen=True)
    ... class Clock3(Discrete):
    ...     values: tuple = (0, 1, 2)
    ...     name: str = field(default="Clock3", compare=False, repr=False)
    >>> k = Clock3()
    >>> k.cumulant_polynomials(1, k.natural_symbols())
    (p_1 + 2*p_2,)
    >>> k.convergence_radius(sp.Symbol("theta", real=True))
    sqrt(theta**2 + 4*pi**2/9)
    >>> kind_class("Clock3") is Clock3
    True
    """

    #: short name used in messages and printing
    name: str = "unit"
    #: name recorded by save files; every subclass is registered under it
    registry_name: ClassVar[str] = "UnitKind"
    #: short name of ``A`` in matrix-notation formulas (``sum_j softplus(eta_j)``)
    partition_label: ClassVar[str] = "A"
    #: the only continuous kind the engines integrate (a Gaussian integral)
    is_gaussian: ClassVar[bool] = False
    #: the finite support, on discrete kinds only (check ``is_discrete`` first)
    values: tuple

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "registry_name" not in cls.__dict__:
            cls.registry_name = cls.__name__
        old = _REGISTRY.get(cls.registry_name)
        if old is not None and (old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ModelError(
                f"unit kind name {cls.registry_name!r} is already taken by {old.__module__}.{old.__qualname__}; "
                f"set a different registry_name on {cls.__qualname__}"
            )
        _REGISTRY[cls.registry_name] = cls
        if "partition_label" in cls.__dict__:
            _LABELS[cls.partition_label] = cls

    # -- what kind of unit ------------------------------------------------------------
    @property
    def is_discrete(self) -> bool:
        """True for a finite support (summed over); False for a continuous unit."""
        return False

    @property
    def size(self) -> int:
        """Number of values of a finite support."""
        raise ModelError(f"the unit kind {type(self).__name__} has no finite support")

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        """``A(eta) = log sum_x exp(eta x)`` (an integral for continuous kinds)."""
        raise ModelError(f"the unit kind {type(self).__name__} defines no log-partition function")

    def log_partition_numpy(self, eta: Any) -> np.ndarray:
        """``A(eta)`` elementwise on a float array (generic: the compiled closed form)."""
        return np.asarray(_compiled_log_partition(self, "numpy")(np.asarray(eta, dtype=float))[0], dtype=float)

    def log_partition_mpmath(self, eta: Any) -> Any:
        """``A(eta)`` for one mpmath number (generic: the compiled closed form)."""
        return _compiled_log_partition(self, "mpmath")(eta)[0]

    def log_partition_complex(self, eta: Any) -> np.ndarray:
        """``A(eta)`` elementwise on a complex array (no stabilization; used for sampling)."""
        return np.asarray(_compiled_log_partition(self, "complex")(np.asarray(eta, dtype=complex))[0], dtype=complex)

    def log_partition_mpc(self, eta: Any) -> Any:
        """``A(eta)`` for one complex mpmath number (no stabilization; used for sampling)."""
        return _compiled_log_partition(self, "mpc")(mpmath.mpc(eta))[0]

    def log_partition_latex(self, entry: str) -> str:
        """LaTeX of ``A(entry)`` for matrix-notation formulas."""
        return rf"A\left({entry}\right)"

    def log_partition_description(self) -> str:
        """How each unit's contribution reads in a derivation step."""
        return r"$\log \sum_x e^{\eta x}$"

    def latex_name(self) -> str:
        """The support in LaTeX."""
        return self.name

    def contains(self, values: Any) -> np.ndarray:
        """Elementwise: is each number a possible value of the unit?"""
        a = np.asarray(values)
        if a.dtype.kind == "c":
            return np.zeros(a.shape, dtype=bool)
        return np.isfinite(a.astype(float))

    # -- algebra on the support -------------------------------------------------------
    def reduce_powers(self, expr: sp.Expr, units: Iterable[sp.Symbol]) -> sp.Expr:
        """Powers of the unit symbols reduced on the support (continuous: unchanged)."""
        return sp.expand(sp.sympify(expr))

    def square_reduction(self) -> tuple[sp.Expr, sp.Expr] | None:
        """``(s, p)`` with ``x**2 = s x + p`` on the support, or None (not two-valued)."""
        return None

    @property
    def multilinear_basis(self) -> str | None:
        """``"mobius"`` for values (0, 1), ``"walsh"`` for (-1, 1), else None."""
        return None

    # -- cumulants ----------------------------------------------------------------------
    def natural_symbols(self, tag: str | None = None) -> Any:
        """Default symbols of the natural variables (``tag`` names the unit)."""
        raise ModelError(f"the unit kind {type(self).__name__} has no natural variables; use variable='field'")

    def natural_in_field(self, natural: Any, field_: sp.Expr) -> dict:
        """``{natural symbol: its value as a function of the field}``."""
        raise ModelError(f"the unit kind {type(self).__name__} has no natural variables; use variable='field'")

    def cumulant_polynomials(self, order: int, natural: Any) -> tuple[sp.Expr, ...]:
        """``kappa_1 .. kappa_order`` in the natural variables ``natural``."""
        raise ModelError(f"the unit kind {type(self).__name__} has no natural variables; use variable='field'")

    def field_cumulants(self, order: int, field_: sp.Expr) -> tuple[sp.Expr, ...]:
        """``kappa_1 .. kappa_order`` as functions of the field: ``d^n A / db^n`` (generic)."""
        b = sp.Dummy("b")
        out, d = [], self.log_partition(b)
        for _ in range(order):
            d = sp.diff(d, b)
            out.append(d.subs(b, field_))
        return tuple(out)

    def cumulant_coefficients(self, n: int) -> tuple[int, ...]:
        """Integer coefficients of ``kappa_n`` in one natural variable (binary kinds only)."""
        raise ModelError(
            f"integer cumulant coefficients exist for Bernoulli and Spin kinds, not {self!r}; "
            "use cumulants() for other kinds"
        )

    def moment(self, power: int, natural: Any, field_: sp.Expr) -> sp.Expr:
        """``E[x^power]`` in the natural variables (generic: from the field cumulants)."""
        if power == 0:
            return sp.S.One
        return _moment_from_cumulants(self.field_cumulants(power, field_))

    def distribution(self, natural: Any) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
        """``((x_k, P(x_k)), ...)`` in the natural variables (finite supports only)."""
        raise ModelError(f"the unit kind {type(self).__name__} has no finite support to enumerate")

    def convergence_radius(self, theta: sp.Expr) -> sp.Expr | None:
        """Radius of convergence of ``A(theta + t)`` in ``t``; ``sp.oo`` if entire, None if unknown."""
        return None

    # -- saving -------------------------------------------------------------------------
    def arguments(self) -> dict[str, Any]:
        """The constructor arguments that differ from the class defaults (what a save file stores)."""
        out = {}
        for f in fields(self):  # type: ignore[arg-type]
            if not f.init or not f.compare:
                continue
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = value
        return out


def _polished_roots(exponents: Sequence[int]) -> np.ndarray:
    """Roots of ``sum_k w**e_k``: companion-matrix eigenvalues, then vectorized Newton steps.

    ``O(degree^3)`` for the eigenvalues; the polynomial has at most
    ``MAX_DISCRETE_VALUES`` terms, so each Newton step is cheap.  Degree 200
    (``MAX_RADIUS_DEGREE``) takes about 0.05 s on an idle core; sympy's ``nroots`` at
    30 digits takes minutes at degree 400.
    """
    exps = np.array(sorted(set(exponents)), dtype=float)
    coeffs = np.zeros(int(exps[-1]) + 1)
    coeffs[exps.astype(int)] = 1.0
    z = np.roots(coeffs[::-1]).astype(complex)
    with np.errstate(all="ignore"):
        for _ in range(8):
            zk = z[:, None] ** exps[None, :]
            p = zk.sum(axis=1)
            dp = (exps[None, :] * zk / z[:, None]).sum(axis=1)
            step = np.where(dp != 0, p / dp, 0)
            z = np.where(np.isfinite(step), z - step, z)
    return z


def _nearest_envelope(pairs: dict[float, float]) -> list[tuple[float, float]]:
    """The zeros ``a + i b`` that are nearest to some real ``theta``, ordered along ``theta``.

    ``|theta - a - i b|^2 = theta^2 + (a^2 + b^2 - 2 a theta)``: only the lines
    ``a^2 + b^2 - 2 a theta`` on the lower envelope matter (a convex-hull sweep).
    """
    lines = sorted(((-2 * a, a * a + b * b, a, b) for a, b in pairs.items()), reverse=True)
    hull: list[tuple[float, float, float, float]] = []
    for ln in lines:  # slopes decreasing: sweep theta from -inf to +inf
        if hull and abs(hull[-1][0] - ln[0]) < 1e-15:
            if ln[1] >= hull[-1][1]:
                continue
            hull.pop()
        while len(hull) >= 2:
            (m1, c1, _, _), (m2, c2, _, _) = hull[-2], hull[-1]
            # hull[-1] is useless when the new line passes below it where it meets hull[-2]
            if (ln[1] - c1) * (m1 - m2) <= (c2 - c1) * (m1 - ln[0]):
                hull.pop()
            else:
                break
        hull.append(ln)
    return [(a, b) for _, _, a, b in hull]


def _moment_from_cumulants(kap: Sequence[sp.Expr]) -> sp.Expr:
    """The last raw moment ``mu_n`` from ``kappa_1 .. kappa_n`` (``mu_0 = 1``), expanded."""
    mu: list = [sp.S.One]
    for n in range(1, len(kap) + 1):
        acc = kap[n - 1]
        for k in range(1, n):
            acc = acc + math.comb(n - 1, k - 1) * kap[k - 1] * mu[n - k]
        mu.append(sp.expand(acc))
    return mu[-1]


# --------------------------------------------------------------------------------------
# finite supports
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Discrete(UnitKind):
    """A unit taking finitely many values ``values`` (distinct, real, at least two).

    The log-partition function is ``log sum_k exp(eta * x_k)`` and powers of a unit
    reduce modulo the polynomial ``prod_k (x - x_k)``, which vanishes on the support.
    Values are numbers, sympy numbers or numeric strings (``"1/2"``); Python floats are
    converted to the nearest simple rational.

    Examples
    --------
    >>> Discrete(("1/2", 3)).values
    (1/2, 3)
    >>> Discrete(("__import__('os')", 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symrg.errors.ModelError: Discrete value 1: the string "__import__('os')" is not accepted (strings are never evaluated); ...
    """

    values: tuple = (0, 1)
    name: str = field(default="discrete", compare=False, repr=False)

    def __post_init__(self) -> None:
        raw = self.values
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
            raise ModelError(f"Discrete values must be a sequence of numbers, got {raw!r}")
        raw = tuple(raw)
        if len(raw) > MAX_DISCRETE_VALUES:
            raise ModelError(f"a Discrete unit takes at most {MAX_DISCRETE_VALUES} values, got {len(raw)}")
        vals = []
        for i, v in enumerate(raw, start=1):
            e = _scalar(v, f"Discrete value {i}", allow_symbol=False)
            if isinstance(v, (float, np.floating)) or (isinstance(v, str) and isinstance(e, sp.Float)):
                e = sp.nsimplify(e)
            vals.append(e)
        if len(vals) < 2:
            raise ModelError(f"Discrete unit needs at least two values, got {self.values!r}")
        if len(set(vals)) != len(vals):
            raise ModelError(f"Discrete unit values must be distinct, got {self.values!r}")
        if not all(v.is_number and v.is_real and v.is_finite for v in vals):
            raise ModelError(f"Discrete unit values must be real numbers (not symbols), got {self.values!r}")
        object.__setattr__(self, "values", tuple(vals))

    @property
    def is_discrete(self) -> bool:
        return True

    @property
    def size(self) -> int:
        return len(self.values)

    def _floats(self) -> np.ndarray:
        return np.array([float(v) for v in self.values])

    # -- closed forms -----------------------------------------------------------------
    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        return sp.log(sp.Add(*[sp.exp(eta * v) for v in self.values]))

    def log_partition_numpy(self, eta: Any) -> np.ndarray:
        return logsumexp(np.multiply.outer(np.asarray(eta, dtype=float), self._floats()), axis=-1)

    def log_partition_mpmath(self, eta: Any) -> Any:
        vals = [mpmath.mpf(v.p) / v.q if v.is_Rational else mpmath.mpf(str(sp.N(v, mpmath.mp.dps + 10))) for v in self.values]
        return logsumexp_mp(eta * v for v in vals)

    def log_partition_complex(self, eta: Any) -> np.ndarray:
        return logsumexp(np.multiply.outer(np.asarray(eta, dtype=complex), self._floats()), axis=-1)

    def log_partition_mpc(self, eta: Any) -> Any:
        z = mpmath.mpc(eta)
        return logsumexp_mp(z * mpmath.mpf(sp.Float(v, mpmath.mp.dps + 10)) for v in self.values)

    def log_partition_description(self) -> str:
        return r"$\log \sum_k e^{\eta x_k}$"

    def latex_name(self) -> str:
        return r"\{" + ", ".join(sp.latex(v) for v in self.values) + r"\}"

    def contains(self, values: Any) -> np.ndarray:
        a = np.asarray(values)
        if a.dtype.kind == "c":
            return np.zeros(a.shape, dtype=bool)
        a = a.astype(float)
        vals = self._floats()
        # exact for rational supports; a relative 1e-12 for irrational values like sqrt(2)
        close = np.isclose(a[..., None], vals, rtol=1e-12, atol=0.0) | (a[..., None] == vals)
        return close.any(axis=-1)

    # -- algebra of the support ---------------------------------------------------------
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
        rules = {u: self.vanishing_polynomial(u) for u in units}
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

    def square_reduction(self) -> tuple[sp.Expr, sp.Expr] | None:
        if self.size != 2:
            return None
        a, b = self.values
        return (a + b, -a * b)

    @property
    def multilinear_basis(self) -> str | None:
        if self.values == (0, 1):
            return "mobius"
        if self.values == (-1, 1):
            return "walsh"
        return None

    # -- cumulants ----------------------------------------------------------------------
    def natural_symbols(self, tag: str | None = None) -> Any:
        """The probabilities ``p_j`` (``p_<tag>_j``) of the values."""
        pre = "p_" if tag is None else f"p_{tag}_"
        return tuple(sp.Symbol(f"{pre}{j}") for j in range(self.size))

    def _check_natural(self, natural: Any) -> tuple:
        ps = tuple(natural)
        if len(ps) != self.size:
            raise ModelError(f"need {self.size} probability symbols, got {len(ps)}")
        return ps

    def natural_in_field(self, natural: Any, field_: sp.Expr) -> dict:
        ps = self._check_natural(natural)
        weights = [sp.exp(field_ * v) for v in self.values]
        Z = sp.Add(*weights)
        return {q: w / Z for q, w in zip(ps, weights)}

    def cumulant_polynomials(self, order: int, natural: Any) -> tuple[sp.Expr, ...]:
        """From the moments ``mu_k = sum_j x_j^k p_j`` (valid where the ``p_j`` sum to 1)."""
        ps = self._check_natural(natural)
        if order == 0:
            return ()
        domain = sp.polys.constructor.construct_domain(list(self.values), extension=True)[0]
        R, *pgens = sp.polys.rings.ring(list(ps), domain)
        vals = [domain.convert(v) for v in self.values]
        mus = [R.add(*[g * v**k for g, v in zip(pgens, vals)]) for k in range(1, order + 1)]
        kap: list = []
        for n in range(1, order + 1):
            acc = mus[n - 1]
            for k in range(1, n):
                acc = acc - math.comb(n - 1, k - 1) * kap[k - 1] * mus[n - k - 1]
            kap.append(acc)
        return tuple(R.to_sympy(q) if hasattr(R, "to_sympy") else q.as_expr() for q in kap)

    def field_cumulants(self, order: int, field_: sp.Expr) -> tuple[sp.Expr, ...]:
        ps = self.natural_symbols()
        sub = self.natural_in_field(ps, field_)
        return tuple(q.xreplace(sub) for q in self.cumulant_polynomials(order, ps))

    def moment(self, power: int, natural: Any, field_: sp.Expr) -> sp.Expr:
        if power == 0:
            return sp.S.One
        return sp.Add(*[v**power * q for v, q in self.distribution(natural)])

    def distribution(self, natural: Any) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
        return tuple(zip(self.values, self._check_natural(natural)))

    def convergence_radius(self, theta: sp.Expr) -> sp.Expr | None:
        """Distance from ``theta`` to the nearest complex zero of ``Z(eta) = sum_k e^{eta x_k}``.

        For rational values with common denominator ``d``, ``Z = e^{eta x_min} P(w)`` with
        ``w = e^{eta/d}`` and ``P`` a polynomial; a root ``w_r`` gives zeros
        ``eta = d (log|w_r| + i (arg w_r + 2 pi k))``, the nearest at distance
        ``sqrt((theta - d log|w_r|)^2 + (d arg w_r)^2)`` from a real ``theta``.  The roots
        are computed numerically (companion-matrix eigenvalues polished by Newton steps,
        about 15 digits); only the zeros nearest to some real ``theta`` are kept (a lower
        envelope, so the result is one ``sqrt`` or a short ``Min``).  A zero at a rational
        multiple of ``pi i`` is written exactly, others with 15 digits.  Irrational values,
        or a polynomial of degree above ``MAX_RADIUS_DEGREE``, give None (unknown: no
        convergence condition is recorded).  See docs/cumulants.md, "Radius of convergence".
        """
        if not all(v.is_Rational for v in self.values):
            return None
        d = math.lcm(*[int(v.q) for v in self.values])
        lo = min(self.values)
        degree = int((max(self.values) - lo) * d)
        if degree > MAX_RADIUS_DEGREE:
            return None
        pairs: dict[float, float] = {}  # real part a -> smallest |imaginary part| b
        for z in _polished_roots([int((v - lo) * d) for v in self.values]):
            a, b = d * math.log(abs(z)), d * abs(math.atan2(z.imag, z.real))
            a = 0.0 if abs(a) < 1e-12 else round(a, 13)
            pairs[a] = min(b, pairs.get(a, math.inf))
        cands = []
        for a, b in _nearest_envelope(pairs):
            frac = sp.nsimplify(b / math.pi, rational=True, tolerance=1e-13)
            # a zero at a simple rational multiple of pi i (on the imaginary axis) is kept exact
            exact_b = frac.q <= 10 * d * degree and abs(float(frac) * math.pi - b) < 1e-12
            a_e = sp.S.Zero if a == 0 else sp.Float(a, 15)
            b_e = frac * sp.pi if exact_b else sp.Float(b, 15)
            cands.append(sp.sqrt(sp.expand((theta - a_e) ** 2) + b_e**2))
        return cands[0] if len(cands) == 1 else sp.Min(*cands)

    def arguments(self) -> dict[str, Any]:
        default = getattr(type(self), "values", None)  # the dataclass default of the class
        return {} if isinstance(default, tuple) and self.values == default else {"values": self.values}


@dataclass(frozen=True)
class Bernoulli(Discrete):
    """Bernoulli unit with values {0, 1}; ``A(eta) = log(1 + e^eta)`` (softplus)."""

    values: tuple = (0, 1)
    name: str = field(default="Bernoulli", compare=False, repr=False)
    partition_label: ClassVar[str] = "softplus"

    def __post_init__(self) -> None:
        if tuple(self.values) != (0, 1):
            raise ModelError("Bernoulli units take the values (0, 1); use Discrete(values) otherwise")
        super().__post_init__()

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        return sp.log(1 + sp.exp(eta))

    def log_partition_numpy(self, eta: Any) -> np.ndarray:
        return np.logaddexp(0.0, eta)

    def log_partition_mpmath(self, eta: Any) -> Any:
        eta = mpmath.mpf(eta)
        if eta > 0:
            return eta + mpmath.log1p(mpmath.exp(-eta))
        return mpmath.log1p(mpmath.exp(eta))

    def log_partition_complex(self, eta: Any) -> np.ndarray:
        return np.log(1 + np.exp(np.asarray(eta, dtype=complex)))

    def log_partition_mpc(self, eta: Any) -> Any:
        return mpmath.log(1 + mpmath.exp(mpmath.mpc(eta)))

    def log_partition_latex(self, entry: str) -> str:
        return rf"\log\left(1 + e^{{{entry}}}\right)"

    def log_partition_description(self) -> str:
        return r"$\log(1 + e^\eta)$ (softplus)"

    def natural_symbols(self, tag: str | None = None) -> Any:
        """``sigma = 1 / (1 + e^{-b})`` (``sigma_<tag>``), the mean."""
        return sp.Symbol("sigma" if tag is None else f"sigma_{tag}")

    def natural_in_field(self, natural: Any, field_: sp.Expr) -> dict:
        return {natural: 1 / (1 + sp.exp(-field_))}

    def cumulant_coefficients(self, n: int) -> tuple[int, ...]:
        return _bernoulli_table(n)[n - 1]

    def cumulant_polynomials(self, order: int, natural: Any) -> tuple[sp.Expr, ...]:
        """From ``kappa_{n+1} = sigma (1 - sigma) d kappa_n / d sigma``."""
        if order == 0:
            return ()
        powers = _powers(natural, order + 1)
        return tuple(_poly_expr(row, powers) for row in _bernoulli_table(order))

    def field_cumulants(self, order: int, field_: sp.Expr) -> tuple[sp.Expr, ...]:
        if order == 0:
            return ()
        # sigma^k = (1 + e^{-b})^{-k}; built directly, no substitution pass
        den = 1 + sp.exp(-field_)
        powers = [sp.S.One] + [sp.Pow(den, sp.Integer(-k)) for k in range(1, order + 2)]
        return tuple(_poly_expr(row, powers) for row in _bernoulli_table(order))

    def moment(self, power: int, natural: Any, field_: sp.Expr) -> sp.Expr:
        return sp.S.One if power == 0 else natural

    def distribution(self, natural: Any) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
        return ((sp.S.Zero, 1 - natural), (sp.S.One, natural))

    def convergence_radius(self, theta: sp.Expr) -> sp.Expr | None:
        """Zeros of ``1 + e^eta`` at ``i pi (2k + 1)``."""
        return sp.sqrt(theta**2 + sp.pi**2)


@dataclass(frozen=True)
class Spin(Discrete):
    """Ising spin with values {-1, +1}; ``A(eta) = log(2 cosh eta)``."""

    values: tuple = (-1, 1)
    name: str = field(default="Spin", compare=False, repr=False)
    partition_label: ClassVar[str] = "logcosh"

    def __post_init__(self) -> None:
        if tuple(self.values) != (-1, 1):
            raise ModelError("Spin units take the values (-1, 1); use Discrete(values) otherwise")
        super().__post_init__()

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        return sp.log(2 * sp.cosh(eta))

    def log_partition_numpy(self, eta: Any) -> np.ndarray:
        a = np.abs(eta)
        # log(2 cosh x) = |x| + log(1 + exp(-2|x|)), finite for any |x|
        return a + np.log1p(np.exp(-2.0 * a))

    def log_partition_mpmath(self, eta: Any) -> Any:
        a = abs(mpmath.mpf(eta))
        return a + mpmath.log1p(mpmath.exp(-2 * a))

    def log_partition_complex(self, eta: Any) -> np.ndarray:
        return np.log(2 * np.cosh(np.asarray(eta, dtype=complex)))

    def log_partition_mpc(self, eta: Any) -> Any:
        return mpmath.log(2 * mpmath.cosh(mpmath.mpc(eta)))

    def log_partition_latex(self, entry: str) -> str:
        return rf"\log\left(2 \cosh {entry}\right)"

    def log_partition_description(self) -> str:
        return r"$\log(2 \cosh \eta)$"

    def natural_symbols(self, tag: str | None = None) -> Any:
        """``m = tanh b`` (``m_<tag>``), the mean."""
        return sp.Symbol("m" if tag is None else f"m_{tag}")

    def natural_in_field(self, natural: Any, field_: sp.Expr) -> dict:
        return {natural: sp.tanh(field_)}

    def cumulant_coefficients(self, n: int) -> tuple[int, ...]:
        return _spin_table(n)[n - 1]

    def cumulant_polynomials(self, order: int, natural: Any) -> tuple[sp.Expr, ...]:
        """From ``kappa_{n+1} = (1 - m^2) d kappa_n / dm``."""
        if order == 0:
            return ()
        powers = _powers(natural, order + 1)
        return tuple(_poly_expr(row, powers) for row in _spin_table(order))

    def field_cumulants(self, order: int, field_: sp.Expr) -> tuple[sp.Expr, ...]:
        if order == 0:
            return ()
        powers = _powers(sp.tanh(field_), order + 1)
        return tuple(_poly_expr(row, powers) for row in _spin_table(order))

    def moment(self, power: int, natural: Any, field_: sp.Expr) -> sp.Expr:
        return natural if power % 2 else sp.S.One

    def distribution(self, natural: Any) -> tuple[tuple[sp.Expr, sp.Expr], ...]:
        return ((-sp.S.One, (1 - natural) / 2), (sp.S.One, (1 + natural) / 2))

    def convergence_radius(self, theta: sp.Expr) -> sp.Expr | None:
        """Zeros of ``cosh eta`` at ``i pi (k + 1/2)``."""
        return sp.sqrt(theta**2 + sp.pi**2 / 4)


# --------------------------------------------------------------------------------------
# continuous units
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gaussian(UnitKind):
    """Real-valued unit with self-energy ``+1/2 x^T P x``.

    ``precision`` is the default precision of each unit (a positive number, a sympy
    expression, or a plain symbol name such as ``"q"``; other strings are refused);
    a layer may carry a full precision matrix instead (see :class:`symrg.model.Layer`).
    For one unit of precision ``p``: ``A(eta) = eta^2 / (2 p) + 1/2 log(2 pi / p)``.

    Examples
    --------
    >>> Gaussian("q").precision
    q
    >>> Gaussian("__import__('os').system('true')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symrg.errors.ModelError: Gaussian precision: the string "__import__('os').system('true')" is not accepted ...
    """

    precision: sp.Expr = sp.S.One
    name: str = field(default="Gaussian", compare=False, repr=False)
    is_gaussian: ClassVar[bool] = True

    def __post_init__(self) -> None:
        p = _scalar(self.precision, "Gaussian precision", allow_symbol=True)
        if p.is_positive is False or p.is_real is False or p.is_finite is False or p.has(sp.nan, sp.zoo):
            raise ModelError(f"Gaussian precision must be positive, got {self.precision!r}")
        object.__setattr__(self, "precision", p)

    def log_partition(self, eta: sp.Expr) -> sp.Expr:
        p = self.precision
        return eta**2 / (2 * p) + sp.log(2 * sp.pi / p) / 2

    def latex_name(self) -> str:
        return r"\mathbb{R}"

    def natural_symbols(self, tag: str | None = None) -> Any:
        """Mean and standard deviation ``(mu, sigma)``."""
        return (sp.Symbol("mu"), sp.Symbol("sigma")) if tag is None else (sp.Symbol(f"mu_{tag}"), sp.Symbol(f"sigma_{tag}"))

    def natural_in_field(self, natural: Any, field_: sp.Expr) -> dict:
        mu, sd = natural
        return {mu: field_ / self.precision, sd: 1 / sp.sqrt(self.precision)}

    def cumulant_polynomials(self, order: int, natural: Any) -> tuple[sp.Expr, ...]:
        mu, sd = natural
        return ((mu, sd**2) + (sp.S.Zero,) * max(0, order - 2))[:order]

    def field_cumulants(self, order: int, field_: sp.Expr) -> tuple[sp.Expr, ...]:
        p = self.precision
        return ((field_ / p, 1 / p) + (sp.S.Zero,) * max(0, order - 2))[:order]

    def convergence_radius(self, theta: sp.Expr) -> sp.Expr | None:
        """``A`` is a quadratic polynomial: the series is exact (entire)."""
        return sp.oo

    def arguments(self) -> dict[str, Any]:
        return {"precision": self.precision}


# --------------------------------------------------------------------------------------
# lookup
# --------------------------------------------------------------------------------------
_ALIASES = {"bernoulli": "Bernoulli", "spin": "Spin", "ising": "Spin", "gaussian": "Gaussian"}


def registered_kinds() -> dict[str, type]:
    """The registered unit-kind classes by registry name (built-in and user-defined)."""
    return dict(_REGISTRY)


def kind_class(name: str) -> type:
    """The unit-kind class registered under ``name`` (a lookup, never an evaluation).

    >>> kind_class("Spin").__name__
    'Spin'
    """
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None or cls is UnitKind:
        raise ModelError(f"unknown unit kind {name!r}; registered kinds: {', '.join(sorted(_REGISTRY))}")
    return cls


def kind_for_label(label: str) -> UnitKind | None:
    """A default instance of the kind whose ``partition_label`` is ``label``, or None.

    >>> kind_for_label("logcosh")
    Spin(values=(-1, 1))
    """
    cls = _LABELS.get(label)
    if cls is None:
        return None
    try:
        return cls()
    except (TypeError, ModelError):
        return None


def unit_kind(kind: UnitKind | str | Sequence) -> UnitKind:
    """Coerce ``kind`` to a :class:`UnitKind`.

    Accepts an instance, a name (``"bernoulli"``, ``"spin"``, ``"gaussian"``, or the
    registry name of any kind constructible without arguments) or a sequence of values
    (a :class:`Discrete` kind).

    >>> unit_kind("spin")
    Spin(values=(-1, 1))
    >>> unit_kind([0, 1, 2]).values
    (0, 1, 2)
    """
    if isinstance(kind, UnitKind):
        return kind
    if isinstance(kind, str):
        cls = _REGISTRY.get(_ALIASES.get(kind.lower(), kind))
        if cls is not None and cls is not UnitKind:
            try:
                return cls()
            except TypeError:
                pass
        names = sorted(set(_ALIASES) | {n for n in _REGISTRY if n not in ("UnitKind", "Discrete")})
        raise ModelError(
            f"unknown unit kind {kind!r}; valid names: {', '.join(names)}, "
            "or a sequence of values for a Discrete kind"
        )
    if isinstance(kind, (list, tuple)):
        return Discrete(tuple(kind))
    raise ModelError(f"cannot make a unit kind from {kind!r}")
