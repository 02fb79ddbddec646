"""Migdal-Kadanoff bond-moving RG for Ising models in d dimensions (docs/recursions.md, "Migdal-Kadanoff").

One step with scale factor ``b``: move the bonds of each ``b^d`` cell onto chains
(``K -> b^(d-1) K``, and the constant per bond likewise), then decimate the chains
of ``b`` bonds with the chain decimation *derived* by :func:`symrg.rg.chain.decimate_chain`.
Nothing about the chain map is typed in here; the two steps are composed.

Examples
--------
>>> import sympy as sp
>>> from symrg.rg.migdal_kadanoff import migdal_kadanoff, critical_point
>>> m = migdal_kadanoff(2, 2)
>>> m.images
(log(cosh(4*K))/2,)
>>> fp = critical_point(2, 2)
>>> round(float(fp.values[0]), 12), round(float(fp.nu), 12)
(0.304688931718, 1.33826579039)
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from symrg.rg.chain import decimate_chain
from symrg.rg.recursion import FixedPoint, RecursionMap

__all__ = ["migdal_kadanoff", "migdal_kadanoff_tanh", "critical_point", "bond_moving"]


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, sp.Integer)) and not (
        isinstance(value, float) and value.is_integer()
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name} = {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {name} = {value!r}")
    return v


def bond_moving(d: int, b: int) -> sp.Integer:
    """The bond-moving factor ``b^(d-1)``: bonds moved onto each surviving chain bond.

    >>> bond_moving(3, 2)
    4
    """
    d = _check_int(d, "d", 1)
    b = _check_int(b, "b", 2)
    return sp.Integer(b) ** (d - 1)


def migdal_kadanoff(d: int, b: int = 2) -> RecursionMap:
    """The Migdal-Kadanoff map ``K -> K'`` (with constant ``g -> g'``) in ``d`` dimensions.

    Composition of bond moving (``K -> b^(d-1) K``, ``g -> b^(d-1) g``) with the
    derived zero-field chain decimation of scale ``b``.  The constant is per bond of
    the d-dimensional lattice (``d`` bonds per site); ``g' = b^d g + c(K)``.

    >>> migdal_kadanoff(3, 2).images
    (log(cosh(8*K))/2,)
    >>> migdal_kadanoff(2, 3).images[0]
    -log(3*exp(3*K) + exp(-9*K))/2 + log(exp(9*K) + 3*exp(-3*K))/2
    """
    d = _check_int(d, "d", 1)
    b = _check_int(b, "b", 2)
    chain = decimate_chain("spin", b, couplings=("K",)).recursion_map
    (K,) = chain.couplings
    g = chain.constant
    f = bond_moving(d, b)
    moved = {K: f * K, g: f * g}
    image = chain.images[0].subs(moved, simultaneous=True)
    assert chain.constant_image is not None  # a decimated chain carries its constant g
    gimg = sp.expand(chain.constant_image.subs(moved, simultaneous=True))
    return RecursionMap((K,), (image,), b, g, gimg, name=f"Migdal-Kadanoff d={d} b={b}")


def migdal_kadanoff_tanh(d: int, b: int = 2) -> RecursionMap:
    """The same map in ``u = tanh K`` (a rational map; ``K = oo`` is ``u = 1``).

    >>> migdal_kadanoff_tanh(2, 2).images
    (4*u**2/(u**2 + 1)**2,)
    """
    m = migdal_kadanoff(d, b)
    (K,) = m.couplings
    u = sp.Symbol("u", real=True)
    return m.change_variables([u], [sp.tanh(K)], [sp.atanh(u)])


def critical_point(d: int, b: int = 2, dps: int = 30) -> FixedPoint:
    """The nontrivial (unstable) fixed point ``K*`` with its linearization and ``nu``.

    Found by the engine's numeric fixed-point search of :func:`migdal_kadanoff` on
    ``0 <= K <= 3``; the relevant one is returned.
    """
    m = migdal_kadanoff(d, b)
    fps = m.fixed_points(bounds=[(0.0, 3.0)], symbolic=False, dps=dps)
    crit = [fp for fp in fps if fp.labels[0] == "relevant" and float(fp.values[0]) > 0]
    if len(crit) != 1:
        raise RuntimeError(f"expected one nontrivial fixed point for d = {d}, b = {b}, found {len(crit)}")
    return crit[0]
