"""Exact multi-body couplings of functions of binary units (docs/cumulants.md, Möbius and Walsh).

Every function ``H`` of ``n`` binary units has a unique multilinear form

* Bernoulli units ``v_i ∈ {0, 1}``: ``H(v) = sum_S c_S prod_{i in S} v_i`` with the Möbius
  inversion ``c_S = sum_{T ⊆ S} (-1)^{|S|-|T|} H(1_T)``;
* spins ``s_i ∈ {-1, +1}``: ``H(s) = sum_S J_S prod_{i in S} s_i`` with the Walsh-Hadamard
  transform ``J_S = 2^{-n} sum_s H(s) prod_{i in S} s_i``.

Bit order (used by every function here): configuration index ``k`` has unit ``i`` equal
to ``values[(k >> i) & 1]``, i.e. ``v_i = bit i of k`` for Bernoulli units and
``s_i = 2 (bit i of k) - 1`` for spins (bit 0 is ``-1``, the order of ``Spin().values``).
A subset ``S`` of units is the bitmask with bit ``i`` set for ``i in S``; coupling arrays
are indexed by that mask.

The numeric transforms are in-place butterflies, ``O(n 2^n)``, vectorized over the
array viewed with shape ``(2^{n-1-i}, 2, 2^i)`` for unit ``i``.

Examples
--------
>>> import numpy as np
>>> from symrg.engine.multilinear import exact_couplings, couplings_by_order
>>> H = np.array([0.0, 1.0, 2.0, 5.0])      # H(v) = v0 + 2 v1 + 2 v0 v1
>>> exact_couplings(H, "bernoulli")
array([0., 1., 2., 2.])
>>> couplings_by_order(exact_couplings(H, "bernoulli"))
{0: {(): 0.0}, 1: {(0,): 1.0, (1,): 2.0}, 2: {(0, 1): 2.0}}
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np
import sympy as sp

from symrg.model.units import UnitKind, unit_kind

__all__ = [
    "MAX_TRANSFORM_UNITS",
    "MAX_SYMBOLIC_UNITS",
    "configurations",
    "mobius_transform",
    "zeta_transform",
    "walsh_transform",
    "inverse_walsh_transform",
    "exact_couplings",
    "energy_from_couplings",
    "mask_to_subset",
    "subset_to_mask",
    "couplings_by_order",
    "symbolic_couplings",
]

#: largest number of units accepted by the numeric transforms (2**24 doubles = 128 MiB)
MAX_TRANSFORM_UNITS = 24
#: largest number of units accepted by :func:`symbolic_couplings`
MAX_SYMBOLIC_UNITS = 10

KindLike = Union[UnitKind, str]


def _check_units(n: int, limit: int = MAX_TRANSFORM_UNITS) -> int:
    if n < 0:
        raise ValueError(f"number of units must be non-negative, got n={n}")
    if n > limit:
        raise ValueError(f"n={n} units is above the limit of {limit} units for this transform")
    return n


def _n_from_length(length: int, limit: int = MAX_TRANSFORM_UNITS) -> int:
    n = int(length).bit_length() - 1
    if length < 1 or (1 << n) != length:
        raise ValueError(
            f"expected one value per configuration, an array of length 2**n; got length {length}"
        )
    return _check_units(n, limit)


def _binary_kind(kind: KindLike) -> UnitKind:
    kind = unit_kind(kind)
    if kind.multilinear_basis is None:
        raise ValueError(
            f"multilinear couplings are defined here for Bernoulli or Spin units, got {kind!r}"
        )
    return kind


def configurations(n: int, kind: KindLike = "bernoulli", dtype: Any = np.int8) -> np.ndarray:
    """All ``2^n`` configurations as an array of shape ``(2^n, n)`` in the module's bit order.

    Row ``k`` holds ``values[(k >> i) & 1]`` in column ``i``.  The default ``int8`` dtype
    keeps ``n = 22`` at 92 MB; cast before arithmetic that could overflow.

    Examples
    --------
    >>> configurations(2)
    array([[0, 0],
           [1, 0],
           [0, 1],
           [1, 1]], dtype=int8)
    >>> configurations(2, "spin")[:, 0]
    array([-1,  1, -1,  1], dtype=int8)
    """
    kind = _binary_kind(kind)
    n = _check_units(int(n))
    nbytes = max(1, (n + 7) // 8)
    k = np.arange(1 << n, dtype="<u8").view(np.uint8).reshape(-1, 8)[:, :nbytes]
    bits = np.unpackbits(k, axis=1, bitorder="little")[:, :n]
    if kind.multilinear_basis == "walsh":
        out = bits.astype(dtype)
        out *= 2
        out -= 1
        return out
    return bits.astype(dtype, copy=False)


def _prepare(values: Any, inplace: bool) -> tuple[np.ndarray, int]:
    a = np.asarray(values)
    if a.dtype.kind not in "fcO":
        a = a.astype(np.float64)
    elif not inplace:
        a = a.copy()
    elif not (isinstance(values, np.ndarray) and a is values):
        raise ValueError("inplace=True needs a numpy array of float, complex or object dtype")
    if a.ndim != 1:
        raise ValueError(f"expected a one-dimensional array of 2**n values, got shape {a.shape}")
    return a, _n_from_length(a.shape[0])


def mobius_transform(values: Any, *, inplace: bool = False) -> np.ndarray:
    """Möbius transform ``c[S] = sum_{T ⊆ S} (-1)^{|S|-|T|} values[T]``.

    Examples
    --------
    >>> mobius_transform([3.0, 4.0, 5.0, 7.0])
    array([3., 1., 2., 1.])
    """
    a, n = _prepare(values, inplace)
    size = a.shape[0]
    for i in range(n):
        v = a.reshape(size >> (i + 1), 2, 1 << i)
        v[:, 1, :] -= v[:, 0, :]
    return a


def zeta_transform(values: Any, *, inplace: bool = False) -> np.ndarray:
    """Zeta transform ``H[S] = sum_{T ⊆ S} values[T]`` (inverse of :func:`mobius_transform`).

    Examples
    --------
    >>> zeta_transform([3.0, 1.0, 2.0, 1.0])
    array([3., 4., 5., 7.])
    """
    a, n = _prepare(values, inplace)
    size = a.shape[0]
    for i in range(n):
        v = a.reshape(size >> (i + 1), 2, 1 << i)
        v[:, 1, :] += v[:, 0, :]
    return a


def walsh_transform(values: Any, *, inplace: bool = False) -> np.ndarray:
    """Walsh-Hadamard coefficients ``J[S] = 2^{-n} sum_s values[s] prod_{i in S} s_i``.

    Examples
    --------
    >>> walsh_transform([-1.0, 1.0, 1.0, -1.0])   # H = -s0 s1
    array([ 0.,  0.,  0., -1.])
    """
    a, n = _prepare(values, inplace)
    size = a.shape[0]
    for i in range(n):
        v = a.reshape(size >> (i + 1), 2, 1 << i)
        a0, a1 = v[:, 0, :], v[:, 1, :]
        if a.dtype == object:
            a0c = a0.copy()
            v[:, 0, :] = a0c + a1
            v[:, 1, :] = a1 - a0c
        else:  # no temporaries: a1 <- a1 - a0, a0 <- 2 a0 + a1 = a0 + a1
            a1 -= a0
            a0 *= 2
            a0 += a1
    if a.dtype == object:
        a *= sp.Rational(1, size)
    else:
        a *= 1.0 / size
    return a


def inverse_walsh_transform(values: Any, *, inplace: bool = False) -> np.ndarray:
    """Energy on every spin configuration from Walsh coefficients, ``H(s) = sum_S J_S prod s_i``.

    Examples
    --------
    >>> inverse_walsh_transform([0.0, 0.0, 0.0, -1.0])
    array([-1.,  1.,  1., -1.])
    """
    a, n = _prepare(values, inplace)
    size = a.shape[0]
    for i in range(n):
        v = a.reshape(size >> (i + 1), 2, 1 << i)
        c0, c1 = v[:, 0, :], v[:, 1, :]
        if a.dtype == object:
            c0c = c0.copy()
            v[:, 0, :] = c0c - c1
            v[:, 1, :] = c0c + c1
        else:  # c0 <- c0 - c1 (s_i = -1), c1 <- 2 c1 + c0' = c0 + c1 (s_i = +1)
            c0 -= c1
            c1 *= 2
            c1 += c0
    return a


def exact_couplings(
    energy: Any,
    kind: KindLike = "bernoulli",
    n: int | None = None,
) -> np.ndarray:
    """Exact multilinear couplings of an energy of ``n`` binary units.

    Parameters
    ----------
    energy : array of length ``2^n`` or callable
        ``H`` on every configuration in the module's bit order, or a vectorized callable
        ``H(states)`` taking the ``(2^n, n)`` array of :func:`configurations`.
    kind : "bernoulli" or "spin"
        Bernoulli: Möbius inversion.  Spin: Walsh-Hadamard transform.
    n : int, optional
        Number of units; required when ``energy`` is a callable.

    Returns
    -------
    Array of couplings indexed by subset bitmask (entry 0 is the constant).

    Examples
    --------
    >>> import numpy as np
    >>> exact_couplings(lambda s: -0.5 * s[:, 0] * s[:, 1] + 0.25 * s[:, 1], "spin", n=2)
    array([ 0.  ,  0.  ,  0.25, -0.5 ])
    """
    kind = _binary_kind(kind)
    if callable(energy):
        if n is None:
            raise ValueError("n (the number of units) is required when energy is a callable")
        states = configurations(_check_units(int(n)), kind)
        values = np.asarray(energy(states), dtype=np.float64)
        if values.shape != (1 << n,):
            raise ValueError(f"energy(states) must return shape ({1 << n},), got {values.shape}")
        inplace = True
    else:
        values = np.asarray(energy)
        inplace = False
        if n is not None and values.shape[-1] != (1 << int(n)):
            raise ValueError(f"energy has {values.shape[-1]} values, expected 2**{n} = {1 << int(n)}")
    if kind.multilinear_basis == "walsh":
        return walsh_transform(values, inplace=inplace)
    return mobius_transform(values, inplace=inplace)


def energy_from_couplings(couplings: Any, kind: KindLike = "bernoulli") -> np.ndarray:
    """Inverse of :func:`exact_couplings`: the energy on every configuration.

    Examples
    --------
    >>> energy_from_couplings([0.0, 1.0, 2.0, 2.0])
    array([0., 1., 2., 5.])
    """
    kind = _binary_kind(kind)
    if kind.multilinear_basis == "walsh":
        return inverse_walsh_transform(couplings)
    return zeta_transform(couplings)


def mask_to_subset(mask: int) -> tuple[int, ...]:
    """Indices of the set bits of ``mask``, ascending.

    >>> mask_to_subset(0b1011)
    (0, 1, 3)
    """
    mask = int(mask)
    if mask < 0:
        raise ValueError(f"a subset mask is non-negative, got {mask}")
    out = []
    i = 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return tuple(out)


def subset_to_mask(subset: Sequence[int]) -> int:
    """Bitmask of a collection of distinct unit indices.

    >>> subset_to_mask((0, 1, 3))
    11
    """
    mask = 0
    for i in subset:
        i = int(i)
        if i < 0:
            raise ValueError(f"unit indices are non-negative, got {i}")
        if mask >> i & 1:
            raise ValueError(f"unit index {i} repeated in {tuple(subset)!r}")
        mask |= 1 << i
    return mask


def couplings_by_order(couplings: Any, *, tol: float = 0.0) -> dict[int, dict[tuple[int, ...], Any]]:
    """Table of couplings by order: ``{k: {(i_1, ..., i_k): c}}`` (0: constant, 1: fields, ...).

    Entries with ``|c| <= tol`` are left out (the constant is always kept).

    Examples
    --------
    >>> couplings_by_order([1.0, 0.0, 0.5, 0.0], tol=1e-12)
    {0: {(): 1.0}, 1: {(1,): 0.5}}
    """
    c = np.asarray(couplings)
    n = _n_from_length(c.shape[0])
    table: dict[int, dict[tuple[int, ...], Any]] = {0: {(): c[0].item() if c.dtype != object else c[0]}}
    keep: Any  # indices of the nonzero couplings: a list (object arrays) or an index array
    if c.dtype == object:
        keep = [k for k in range(1, 1 << n) if c[k] != 0]
    else:
        keep = np.flatnonzero(np.abs(c) > tol)
        keep = keep[keep > 0]
    for k in keep:
        sub = mask_to_subset(int(k))
        table.setdefault(len(sub), {})[sub] = c[k].item() if c.dtype != object else c[k]
    return dict(sorted(table.items()))


def symbolic_couplings(
    H: sp.Expr,
    units: Sequence[sp.Symbol],
    kind: KindLike = "bernoulli",
    *,
    simplify: bool = False,
) -> dict[tuple[int, ...], sp.Expr]:
    """Exact coupling of every subset of ``units`` in the energy ``H``, as sympy expressions.

    Bernoulli: ``c_S = sum_{T ⊆ S} (-1)^{|S|-|T|} H(1_T)``; spins:
    ``J_S = 2^{-n} sum_s H(s) prod_{i in S} s_i``.  Keys are tuples of unit positions in
    ``units``; every subset is present (zero couplings included).

    Examples
    --------
    >>> import sympy as sp
    >>> v1, v2, b, w1, w2 = sp.symbols("v1 v2 b w1 w2")
    >>> H = -sp.log(1 + sp.exp(b + w1 * v1 + w2 * v2))     # one hidden Bernoulli unit summed out
    >>> symbolic_couplings(H, [v1, v2])[(0, 1)]
    -log(exp(b) + 1) + log(exp(b + w1) + 1) + log(exp(b + w2) + 1) - log(exp(b + w1 + w2) + 1)
    >>> s1, s2, K = sp.symbols("s1 s2 K")
    >>> symbolic_couplings(-K * s1 * s2 + s1, [s1, s2], "spin")
    {(): 0, (0,): 1, (1,): 0, (0, 1): -K}
    """
    kind = _binary_kind(kind)
    units = list(units)
    n = _check_units(len(units), MAX_SYMBOLIC_UNITS)
    H = sp.sympify(H)
    vals = kind.values
    a = np.empty(1 << n, dtype=object)
    for k in range(1 << n):
        a[k] = H.xreplace({u: vals[(k >> i) & 1] for i, u in enumerate(units)})
    c = walsh_transform(a, inplace=True) if kind.multilinear_basis == "walsh" else mobius_transform(a, inplace=True)
    out = {}
    for k in range(1 << n):
        e = sp.sympify(c[k])
        out[mask_to_subset(k)] = sp.simplify(e) if simplify else e
    return dict(sorted(out.items(), key=lambda kv: (len(kv[0]), kv[0])))
