"""Coupling tables: the couplings among the units of one layer (docs/marginalization.md,
"Couplings inside a layer").

A :class:`CouplingTable` lists products of units of one layer with their coefficients,
``sum_k c_k prod_{i in S_k} x_i``; the energy contains it with a minus sign (the
Boltzmann weight is ``exp(+sum_k c_k prod x)``, the convention of
:class:`symrg.rg.lattice.LatticeModel`).  It is the one coupling-table type of the
package: a lattice model lists its terms as a table
(:meth:`symrg.rg.lattice.LatticeModel.coupling_table`), and
:func:`symrg.model.energy.energy_model` reads a table given as a layer's self-coupling
``couplings={("s", "s"): table}``:

* one-unit terms are fields (they belong in the layer's bias, refused there),
* two-unit terms form the symmetric matrix ``J`` (zero diagonal) with
  ``E = ... - 1/2 x^T J x``, stored as the self block ``Q = -J``,
* terms of three or more units become a :class:`~symrg.model.terms.MultispinTerm`.

Examples
--------
>>> ring = graph_couplings(4, [(0, 1), (1, 2), (2, 3), (3, 0)], "K")
>>> ring
CouplingTable(4 units: 4 two-unit terms)
>>> ring.pair_matrix()
Matrix([
[0, K, 0, K],
[K, 0, K, 0],
[0, K, 0, K],
[K, 0, K, 0]])
>>> (ring + graph_couplings(4, [(0, 1, 2, 3)], "P")).orders
(2, 4)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.errors import ModelError
from symrg.model import budgets

__all__ = ["CouplingTable", "graph_couplings"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

_ORDER_WORDS = {1: "one-unit", 2: "two-unit", 3: "three-unit", 4: "four-unit"}


def _coefficient(c: Any, what: str) -> sp.Expr:
    """A coefficient as a real sympy scalar; a string must be a plain name (never parsed)."""
    if isinstance(c, (bool, np.bool_)):
        raise ModelError(f"{what}: {c!r} is a bool, not a coefficient")
    if isinstance(c, np.generic):
        c = c.item()
    if isinstance(c, str):
        if not (_NAME.match(c) and len(c) <= 100):
            raise ModelError(f"{what}: the string {c[:60]!r} is not a plain name (it is never read as code)")
        return sp.Symbol(c, real=True)
    if isinstance(c, float):
        if not math.isfinite(c):
            raise ModelError(f"{what}: {c!r} is not a finite number")
        return sp.Float(c)
    if isinstance(c, int):
        budgets.check_int(c, what)
        return sp.Integer(c)
    if not isinstance(c, sp.Expr) or isinstance(c, MatrixExpr):
        raise ModelError(f"{what}: got {type(c).__name__}; pass a number, a name or a sympy scalar")
    if c.has(sp.nan, sp.oo, sp.zoo, -sp.oo) or c.is_extended_real is False:
        raise ModelError(f"{what}: {c} is not a finite real number")
    budgets.check_expression(c, what)
    return c


@dataclass(frozen=True)
class CouplingTable:
    """Products of the units of one layer with their coefficients.

    Parameters
    ----------
    size
        The number of units of the layer.
    entries
        Pairs ``(units, coefficient)``: ``units`` a tuple of distinct unit indices
        (0-based), ``coefficient`` a number, a plain name or a sympy scalar.  Entries
        on the same set of units are added (a periodic lattice too small for a bond
        lists the bond twice); zero coefficients are dropped.  The stored entries are
        sorted by order, then by units.

    The energy contains ``- sum_k c_k prod_{i in units_k} x_i``.

    >>> CouplingTable(3, [((1, 0), "J"), ((0, 1), "J"), ((2,), 0.5)]).entries
    (((2,), 0.500000000000000), ((0, 1), 2*J))
    """

    size: int
    entries: tuple

    def __post_init__(self) -> None:
        n = self.size
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ModelError(f"a coupling table needs a positive integer number of units, got {n!r}")
        n = int(n)
        budgets.check_layer_size(n, "coupling table")
        if isinstance(self.entries, (str, bytes, Mapping)) or not isinstance(self.entries, Iterable):
            raise ModelError("coupling table: entries must be a list of (units, coefficient) pairs")
        merged: dict[tuple, sp.Expr] = {}
        for k, item in enumerate(self.entries):
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise ModelError(f"coupling table entry {k}: expected (units, coefficient), got {str(item)[:80]!r}")
            units, c = item
            if isinstance(units, (int, np.integer)) and not isinstance(units, bool):
                units = (units,)
            if not isinstance(units, (tuple, list)) or not units:
                raise ModelError(f"coupling table entry {k}: units must be a non-empty tuple of indices, got {units!r}")
            idx = []
            for i in units:
                if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= int(i) < n:
                    raise ModelError(f"coupling table entry {k}: unit index {i!r} is not in 0..{n - 1}")
                idx.append(int(i))
            if len(set(idx)) != len(idx):
                raise ModelError(f"coupling table entry {k}: units {tuple(idx)} repeat a unit")
            key = tuple(sorted(idx))
            merged[key] = merged.get(key, sp.S.Zero) + _coefficient(c, f"coupling table entry {k} {key}")
        entries = tuple((u, c) for u, c in sorted(merged.items(), key=lambda e: (len(e[0]), e[0])) if not c.is_zero)
        object.__setattr__(self, "size", n)
        object.__setattr__(self, "entries", entries)

    # -- description ------------------------------------------------------------------
    @property
    def orders(self) -> tuple[int, ...]:
        """The numbers of units per term that occur (1: fields, 2: pairs, ...)."""
        return tuple(sorted({len(u) for u, _ in self.entries}))

    @property
    def coefficients(self) -> tuple[sp.Expr, ...]:
        return tuple(c for _, c in self.entries)

    @property
    def free_symbols(self) -> set:
        return set().union(*[c.free_symbols for c in self.coefficients]) if self.entries else set()

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        counts = [(k, sum(1 for u, _ in self.entries if len(u) == k)) for k in self.orders]
        parts = ", ".join(f"{c} {_ORDER_WORDS.get(k, f'{k}-unit')} term{'s' if c != 1 else ''}" for k, c in counts)
        return f"CouplingTable({self.size} units: {parts or 'no terms'})"

    # -- parts ------------------------------------------------------------------------
    def part(self, low: int, high: int | None = None) -> "CouplingTable":
        """The terms of ``low`` to ``high`` units (``high`` None: no upper limit)."""
        top = math.inf if high is None else high
        return CouplingTable(self.size, tuple(e for e in self.entries if low <= len(e[0]) <= top))

    def field_vector(self) -> sp.ImmutableMatrix:
        """The one-unit coefficients as a column (the field ``theta``)."""
        col = [sp.S.Zero] * self.size
        for u, c in self.entries:
            if len(u) == 1:
                col[u[0]] = c
        return sp.ImmutableMatrix(col)

    def pair_matrix(self) -> sp.ImmutableMatrix:
        """The symmetric matrix ``J`` of the two-unit terms (zero diagonal): they read ``1/2 x^T J x``."""
        budgets.check_matrix_shape(self.size, self.size, "coupling table")
        J = [[sp.S.Zero] * self.size for _ in range(self.size)]
        for u, c in self.entries:
            if len(u) == 2:
                i, j = u
                J[i][j] = J[j][i] = c
        return sp.ImmutableMatrix(J)

    @classmethod
    def from_matrix(cls, J: Any, what: str = "coupling matrix") -> "CouplingTable":
        """The pairs of a symmetric matrix with zero diagonal (``1/2 x^T J x`` as a table).

        >>> CouplingTable.from_matrix([[0, 2], [2, 0]]).entries
        (((0, 1), 2),)
        """
        m = sp.ImmutableMatrix(J)
        if m.rows != m.cols or not m.is_symmetric() or not all(m[i, i].is_zero for i in range(m.rows)):
            raise ModelError(f"{what}: expected a symmetric square matrix with zero diagonal")
        return cls(m.rows, tuple(((i, j), m[i, j]) for i in range(m.rows) for j in range(i + 1, m.cols)))

    def __add__(self, other: "CouplingTable") -> "CouplingTable":
        if not isinstance(other, CouplingTable):
            return NotImplemented
        if other.size != self.size:
            raise ModelError(f"cannot add coupling tables over {self.size} and {other.size} units")
        return CouplingTable(self.size, self.entries + other.entries)

    # -- numbers ----------------------------------------------------------------------
    def log_weight(self, configs: Any, values: Mapping[Any, Any] | None = None) -> np.ndarray:
        """``sum_k c_k prod x`` (minus the energy of the table) for each row of ``configs``.

        ``values`` maps the coefficients' symbols (or their names) to numbers.

        >>> graph_couplings(2, [(0, 1)], "K").log_weight([[1, -1], [1, 1]], {"K": 0.5})
        array([-0.5,  0.5])
        """
        x = np.atleast_2d(np.asarray(configs, dtype=float))
        if x.shape[1] != self.size:
            raise ModelError(f"configurations have {x.shape[1]} units, the table {self.size}")
        vals = {str(k): v for k, v in (values or {}).items()}
        subs = {s: sp.Float(float(vals[s.name])) for s in self.free_symbols if s.name in vals}
        out = np.zeros(x.shape[0])
        for u, c in self.entries:
            cv = sp.sympify(c.xreplace(subs))
            if cv.free_symbols:
                raise ModelError(f"log_weight: no value for {', '.join(sorted(map(str, cv.free_symbols)))}")
            out += float(cv) * np.prod(x[:, list(u)], axis=1)
        return out


def graph_couplings(size: int, edges: Sequence[Sequence[int]], coupling: Any = "J") -> CouplingTable:
    """One coupling on every edge of a graph (or hyperedge: three or more units).

    ``edges`` are tuples of unit indices (0-based); ``coupling`` a name, a number or a
    sympy scalar.  The energy contains ``- coupling * sum_edges prod x``.

    >>> graph_couplings(3, [(0, 1), (1, 2)], 1.5).pair_matrix()
    Matrix([
    [  0, 1.5,   0],
    [1.5,   0, 1.5],
    [  0, 1.5,   0]])
    """
    if isinstance(edges, (str, bytes)) or not isinstance(edges, Iterable):
        raise ModelError(f"edges must be a list of tuples of unit indices, got {type(edges).__name__}")
    c = _coefficient(coupling, "the coupling of graph_couplings")
    return CouplingTable(size, tuple((tuple(e) if isinstance(e, (tuple, list)) else e, c) for e in edges))
