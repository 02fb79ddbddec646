"""Joint (mixed) cumulants of several variables, and of layers with correlated units.

Joint cumulants come from the joint moments through the logarithm of the moment
generating function in the ring of square-free multilinear polynomials: for floats a
ranked subset convolution (``O(n^2 2^n)``, vectorized), for exact values the subset
recursion of :mod:`symrg.engine.subsets` (``O(3^n)``); never by enumerating the set
partitions of the index set.  A layer's units are correlated by its prior: Gaussian
layers in closed form, discrete layers with intra-layer couplings by enumeration.

Examples
--------
>>> m = {(0,): 1, (1,): 2, (0, 1): 5}          # E[X0], E[X1], E[X0 X1]
>>> joint_cumulant(m, (0, 1))                   # covariance
3
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Hashable, Mapping, Sequence, Union

import numpy as np
import sympy as sp

from symrg.engine.subsets import joint_cumulant_from_subsets
from symrg.model.units import UnitKind, unit_kind

__all__ = [
    "subset_cumulants",
    "subset_moments",
    "joint_cumulant",
    "gaussian_layer_cumulant",
    "discrete_layer_cumulant",
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
