"""Cumulants: of unit kinds to any order, moment/cumulant conversions, joint cumulants.

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

Joint (mixed) cumulants of several variables come from their joint moments through the
logarithm of the moment generating function in the ring of square-free multilinear
polynomials (a ranked subset convolution, ``O(n^2 2^n)``), never by enumerating the
set partitions of the index set.

Examples
--------
>>> import sympy as sp
>>> from symrg.engine.cumulants import cumulants, moments_to_cumulants, joint_cumulant
>>> cumulants("bernoulli", 3, variable="natural")
(sigma, -sigma**2 + sigma, 2*sigma**3 - 3*sigma**2 + sigma)
>>> cumulants("spin", 2)
(tanh(b), 1 - tanh(b)**2)
>>> mu1, mu2 = sp.symbols("mu1 mu2")
>>> moments_to_cumulants([mu1, mu2])
(mu1, -mu1**2 + mu2)
>>> m = {(0,): 1, (1,): 2, (0, 1): 5}          # E[X0], E[X1], E[X0 X1]
>>> joint_cumulant(m, (0, 1))                   # covariance
3
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Number
from typing import Any, Callable, Hashable, Mapping, Sequence, Union

import numpy as np
import sympy as sp

from symrg.model.units import UnitKind, unit_kind
from symrg.engine.subsets import joint_cumulant_from_subsets

__all__ = [
    "cumulant_coefficients",
    "cumulants",
    "cumulant",
    "cgf",
    "cgf_series",
    "moments_to_cumulants",
    "cumulants_to_moments",
    "subset_cumulants",
    "subset_moments",
    "joint_cumulant",
    "gaussian_layer_cumulant",
    "discrete_layer_cumulant",
    "CumulantExpansion",
    "cumulant_expansion",
    "MAX_SUBSET_VARIABLES",
    "MAX_LAYER_CONFIGURATIONS",
]

#: largest number of distinct variables accepted by :func:`subset_cumulants`
MAX_SUBSET_VARIABLES = 20
#: default enumeration limit of :func:`discrete_layer_cumulant` (numeric evaluation)
MAX_LAYER_CONFIGURATIONS = 2**16
#: enumeration limit when a discrete layer has symbolic parameters
MAX_SYMBOLIC_CONFIGURATIONS = 2**10

KindLike = Union[UnitKind, str, Sequence]
Moments = Union[Mapping[tuple, Any], Callable[[tuple], Any]]


# ----------------------------------------------------------------------------------------
# univariate cumulants of unit kinds
# ----------------------------------------------------------------------------------------
def _check_order(order: int, name: str = "order") -> int:
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
    n = _check_order(n, "n")
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
    order = _check_order(order)
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
    n = _check_order(n, "n")
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


# ----------------------------------------------------------------------------------------
# univariate moments <-> cumulants
# ----------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------
# joint cumulants: log / exp of the MGF in the square-free multilinear ring
# ----------------------------------------------------------------------------------------
def _num_vars(length: int, what: str) -> int:
    n = int(length).bit_length() - 1
    if length < 1 or (1 << n) != length:
        raise ValueError(f"{what} must have length 2**n (one entry per subset), got {length}")
    if n > MAX_SUBSET_VARIABLES:
        raise ValueError(
            f"{what} describes n={n} variables; the limit is {MAX_SUBSET_VARIABLES} "
            f"(2**{MAX_SUBSET_VARIABLES} subsets)"
        )
    return n


def _popcounts(n: int) -> np.ndarray:
    pc = np.zeros(1 << n, dtype=np.intp)
    for i in range(n):
        pc[1 << i : 1 << (i + 1)] = pc[: 1 << i] + 1
    return pc


def _ranked(values: np.ndarray, n: int) -> np.ndarray:
    """Ranked zeta transform ``out[r, T] = sum_{S ⊆ T, |S| = r} values[S]``."""
    size = 1 << n
    out = np.zeros((n + 1, size), dtype=values.dtype)
    out[_popcounts(n), np.arange(size)] = values
    for i in range(n):
        v = out.reshape(n + 1, size >> (i + 1), 2, 1 << i)
        v[:, :, 1, :] += v[:, :, 0, :]
    return out


def _unrank(series: np.ndarray, n: int) -> np.ndarray:
    """Möbius transform every rank layer and keep rank ``|S|`` at each subset ``S``."""
    size = 1 << n
    for i in range(n):
        v = series.reshape(n + 1, size >> (i + 1), 2, 1 << i)
        v[:, :, 1, :] -= v[:, :, 0, :]
    return series[_popcounts(n), np.arange(size)]


def subset_cumulants(moments: Any) -> np.ndarray:
    """Joint cumulants of every subset of ``n`` variables from their joint moments.

    ``moments[S] = E[prod_{i in S} X_i]`` indexed by bitmask ``S`` (variable ``i`` is
    bit ``i``), ``moments[0] = 1``.  Returns ``kappa[S]`` (``kappa[0] = 0``), computed
    as the logarithm of the moment generating function under subset convolution:
    a ranked zeta transform, a power-series logarithm in the rank variable at every
    subset, and a Möbius transform -- ``O(n^2 2^n)`` operations, vectorized.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([1.0, 1.0, 2.0, 5.0])   # E[X0]=1, E[X1]=2, E[X0 X1]=5
    >>> subset_cumulants(m)
    array([0., 1., 2., 3.])
    """
    m = np.array(moments, dtype=np.result_type(np.asarray(moments).dtype, np.float64))
    n = _num_vars(m.shape[-1], "moments")
    if not np.isclose(m[0], 1.0):
        raise ValueError(f"moments[0] (the empty moment) must be 1, got {m[0]!r}")
    F = _ranked(m, n)
    L = np.zeros_like(F)
    # L = log F as a power series in the rank variable: r L_r = r F_r - sum k L_k F_{r-k}
    for r in range(1, n + 1):
        acc = r * F[r]
        for k in range(1, r):
            acc = acc - k * L[k] * F[r - k]
        L[r] = acc / r
    out = _unrank(L, n)
    out[0] = 0
    return out


def subset_moments(cumulants: Any) -> np.ndarray:
    """Inverse of :func:`subset_cumulants`: joint moments of every subset from cumulants.

    Examples
    --------
    >>> import numpy as np
    >>> subset_moments(np.array([0.0, 1.0, 2.0, 3.0]))
    array([1., 1., 2., 5.])
    """
    k = np.array(cumulants, dtype=np.result_type(np.asarray(cumulants).dtype, np.float64))
    n = _num_vars(k.shape[-1], "cumulants")
    k[0] = 0
    K = _ranked(k, n)
    E = np.zeros_like(K)
    E[0] = 1
    # E = exp K:  r E_r = sum_{k=1}^{r} k K_k E_{r-k}
    for r in range(1, n + 1):
        acc = np.zeros_like(E[0])
        for j in range(1, r + 1):
            acc = acc + j * K[j] * E[r - j]
        E[r] = acc / r
    return _unrank(E, n)


def _subset_recursion(m: Sequence[Any], expand: bool) -> Any:
    """Cumulant of the full set by ``kappa(S) = mu(S) - sum_{T ∋ min S, T ⊊ S} kappa(T) mu(S \\ T)``.

    Exact arithmetic (sympy, ``Fraction``, ints), ``O(3^n)``; the recursion itself is
    :func:`symrg.engine.subsets.joint_cumulant_from_subsets`.
    """

    def canonical(acc: Any) -> Any:
        return sp.expand(acc) if isinstance(acc, sp.Basic) else acc

    return joint_cumulant_from_subsets(m, normalize=canonical if expand else None)


def _sort_labels(labels: Sequence[Hashable]) -> tuple:
    try:
        return tuple(sorted(labels))
    except TypeError:
        return tuple(sorted(labels, key=sp.default_sort_key))


def joint_cumulant(moments: Moments, indices: Sequence[Hashable], *, expand: bool = True) -> Any:
    """Joint cumulant ``kappa(X_{i_1}, ..., X_{i_r})`` from joint moments.

    Parameters
    ----------
    moments : mapping or callable
        ``E[prod_{i in key} X_i]`` keyed by the *sorted* tuple of variable labels of a
        sub-multiset (repeats allowed, e.g. ``(0, 0, 1)`` for ``E[X0^2 X1]``), or a
        callable taking such a tuple.  The empty moment is 1 and never looked up.
    indices : sequence of variable labels
        The arguments of the cumulant; repeated labels give e.g. ``kappa(X0, X0, X1)``.
    expand : bool
        Expand symbolic intermediate results (keeps polynomial results canonical).

    Returns
    -------
    A float for floating-point moments (fast ``O(r^2 2^r)`` transform), otherwise an
    exact number or sympy expression (``O(3^r)`` subset recursion).  No enumeration of
    set partitions is involved.

    Examples
    --------
    >>> import sympy as sp
    >>> mu = lambda key: sp.Symbol("m_" + "".join(map(str, key)))
    >>> joint_cumulant(mu, (0, 1, 2))
    2*m_0*m_1*m_2 - m_0*m_12 - m_01*m_2 + m_012 - m_02*m_1
    >>> joint_cumulant({(0,): 0.5, (0, 0): 0.5}, (0, 0))   # variance of a fair coin
    0.25
    """
    labels = list(indices)
    r = len(labels)
    if r == 0:
        raise ValueError("a joint cumulant needs at least one variable")
    if r > MAX_SUBSET_VARIABLES:
        raise ValueError(f"joint cumulant of order {r} exceeds the limit {MAX_SUBSET_VARIABLES}")
    lookup = moments if callable(moments) else moments.__getitem__
    cache: dict[tuple, Any] = {(): 1}
    m: list = []
    for S in range(1 << r):
        key = _sort_labels([labels[i] for i in range(r) if S >> i & 1])
        if key not in cache:
            cache[key] = lookup(key)
        m.append(cache[key])
    vals = m[1:]
    numeric = any(isinstance(v, (float, complex, np.floating, np.complexfloating)) for v in vals)
    numeric = numeric and not any(isinstance(v, sp.Basic) for v in vals)
    if numeric:
        return subset_cumulants(np.array(m))[-1].item()
    return _subset_recursion(m, expand)


# ----------------------------------------------------------------------------------------
# layer priors with correlated units
# ----------------------------------------------------------------------------------------
def gaussian_layer_cumulant(indices: Sequence[int], precision: Any, field: Any) -> Any:
    """Joint cumulant of a Gaussian layer with prior ``∝ exp(theta^T x - x^T P x / 2)``.

    Order 1 is the mean ``(P^{-1} theta)_i``, order 2 the covariance ``(P^{-1})_{ij}``,
    every higher order vanishes.  ``precision`` and ``field`` may be numpy arrays
    (float result) or sympy matrices (exact result).

    Examples
    --------
    >>> import sympy as sp
    >>> P = sp.Matrix([[2, 1], [1, 2]])
    >>> theta = sp.Matrix([1, 0])
    >>> gaussian_layer_cumulant((0,), P, theta), gaussian_layer_cumulant((0, 1), P, theta)
    (2/3, -1/3)
    >>> gaussian_layer_cumulant((0, 1, 1), P, theta)
    0
    """
    idx = tuple(int(i) for i in indices)
    if not idx:
        raise ValueError("a joint cumulant needs at least one variable")
    symbolic = isinstance(precision, (sp.MatrixBase, sp.Basic)) or isinstance(field, (sp.MatrixBase, sp.Basic))
    if symbolic:
        P = sp.Matrix(precision)
        theta = sp.Matrix(field)
        if len(idx) == 1:
            return sp.simplify(P.LUsolve(theta)[idx[0]])
        if len(idx) == 2:
            return sp.simplify(P.inv()[idx[0], idx[1]])
        return sp.S.Zero
    P = np.asarray(precision, dtype=float)
    theta = np.asarray(field, dtype=float)
    if len(idx) == 1:
        return float(np.linalg.solve(P, theta)[idx[0]])
    if len(idx) == 2:
        e = np.zeros(P.shape[0])
        e[idx[1]] = 1.0
        return float(np.linalg.solve(P, e)[idx[0]])
    return 0.0


def _layer_size_guard(kind: UnitKind, n: int, limit: int) -> int:
    count = len(kind.values) ** n
    if count > limit:
        raise ValueError(
            f"enumerating a layer of {n} units with {len(kind.values)} values each needs "
            f"{count} configurations, above the limit of {limit} configurations"
        )
    return count


def discrete_layer_cumulant(
    kind: KindLike,
    indices: Sequence[int],
    field: Any,
    couplings: Any = None,
    *,
    max_configurations: int = MAX_LAYER_CONFIGURATIONS,
) -> Any:
    """Joint cumulant of a discrete layer with intra-layer couplings, by enumeration.

    The prior is ``q(x) ∝ exp(theta^T x + x^T J x / 2)`` over ``support^n`` (the diagonal
    of ``J`` contributes ``J_ii x_i^2 / 2``).  Numeric ``field``/``couplings`` (arrays)
    give a float; sympy ones give an exact expression (at most
    ``MAX_SYMBOLIC_CONFIGURATIONS`` configurations).

    Raises
    ------
    ValueError
        When the layer has more than ``max_configurations`` configurations.

    Examples
    --------
    >>> import numpy as np
    >>> J = np.array([[0.0, 0.7], [0.7, 0.0]])
    >>> round(discrete_layer_cumulant("spin", (0, 1), np.zeros(2), J), 12)  # tanh(0.7)
    0.604367777117
    """
    kind = unit_kind(kind)
    if not kind.is_discrete:
        raise ValueError(f"discrete_layer_cumulant needs a discrete unit kind, got {kind!r}")
    idx = tuple(int(i) for i in indices)
    if not idx:
        raise ValueError("a joint cumulant needs at least one variable")
    symbolic = isinstance(field, (sp.MatrixBase, sp.Basic)) or isinstance(couplings, (sp.MatrixBase, sp.Basic))
    if symbolic:
        theta = sp.Matrix(field)
        n = theta.shape[0]
        _layer_size_guard(kind, n, min(max_configurations, MAX_SYMBOLIC_CONFIGURATIONS))
        J = sp.zeros(n, n) if couplings is None else sp.Matrix(couplings)
        import itertools

        configs = [sp.Matrix(c) for c in itertools.product(kind.values, repeat=n)]
        weights = [sp.exp((theta.T * c)[0] + (c.T * J * c)[0] / 2) for c in configs]
        Z = sp.Add(*weights)

        def moment(key: tuple) -> sp.Expr:
            return sp.Add(*[w * sp.Mul(*[c[i] for i in key]) for w, c in zip(weights, configs)]) / Z

        return joint_cumulant(moment, idx, expand=False)
    theta = np.asarray(field, dtype=float).ravel()
    n = theta.shape[0]
    count = _layer_size_guard(kind, n, max_configurations)
    if any(i < 0 or i >= n for i in idx):
        raise ValueError(f"indices {idx} out of range for a layer of {n} units")
    J = np.zeros((n, n)) if couplings is None else np.asarray(couplings, dtype=float)
    vals = np.array([float(v) for v in kind.values])
    k = len(vals)
    # configuration c has unit i equal to values[digit i of c in base k]
    digits = (np.arange(count)[:, None] // k ** np.arange(n)) % k
    X = vals[digits]
    logw = X @ theta + 0.5 * np.einsum("ci,ij,cj->c", X, J, X)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    r = len(idx)
    m = np.zeros(1 << r)
    chunk = max(1, (1 << 22) >> r)
    for start in range(0, count, chunk):
        cols = X[start : start + chunk][:, idx]
        prods = np.ones((1, cols.shape[0]))
        for j in range(r):  # block j doubles the table: masks with bit j set
            prods = np.concatenate([prods, prods * cols[:, j]], axis=0)
        m += prods @ w[start : start + chunk]
    return float(subset_cumulants(m)[-1])


# ----------------------------------------------------------------------------------------
# cumulant expansion of log <exp(-X)>
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CumulantExpansion:
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

    def __str__(self) -> str:
        return f"log <exp(-X)> ~ {sp.sstr(self.expr)}  (X = {sp.sstr(self.X)}, order {self.order})"

    def _repr_latex_(self) -> str:
        return "$" + r"\log\langle e^{-X}\rangle \approx " + sp.latex(self.expr) + "$"


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
    order = _check_order(order)
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
        import itertools

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
