"""Mutual information of a linear coarse-graining of a Gaussian field, in closed form.

A Gaussian field ``x`` has density ``∝ exp(-1/2 x^T A x)`` with a positive-definite
precision matrix ``A`` (for the massive free field ``A = -Δ + m^2``, with ``Δ`` the
nearest-neighbour graph Laplacian of a chain or a 2D lattice, periodic or open).  A block
``V`` of sites is surrounded by a buffer ``B``; the environment ``E`` is everything else.
A linear rule draws ``k`` coarse variables ``H = Λ V + ξ`` with ``ξ`` independent Gaussian
noise of variance ``σ²`` per coarse variable.  Everything is Gaussian, so
(docs/block_rg.md, "Gaussian fields")

    I(X:Y) = 1/2 log det Σ_X det Σ_Y / det Σ_XY = 1/2 log det Σ_X / det Σ_{X|Y},

and both covariances of the block are Schur complements of the precision, with ``R`` every
site outside ``V``:

    Σ_V = (A_VV - A_VR A_RR^{-1} A_RV)^{-1},     Σ_{V|E} = (A_VV - A_VB A_BB^{-1} A_BV)^{-1}

(given ``E``, only the buffer is integrated out).  Since ``ξ`` is independent of ``V`` and ``E``,
``Σ_H = Λ Σ_V Λ^T + σ² I`` and ``Σ_{H|E} = Λ Σ_{V|E} Λ^T + σ² I``, which gives ``I(H:E)``; the
encoding loss is ``I(V:E) - I(H:E) = I(V:E | H) >= 0``.  Entries may be symbolic (sympy, up
to :data:`MAX_SYMBOLIC_SITES` sites: the route is then determinants and cofactors), otherwise
the route is numpy.

**The optimal linear filter.**  For ``k = 1`` and ``σ² = 0``,
``I(H:E) = 1/2 log (Λ Σ_V Λ^T) / (Λ Σ_{V|E} Λ^T)`` is half the log of a Rayleigh quotient, maximal
at the top eigenvector of the generalized eigenproblem ``Σ_V u = μ Σ_{V|E} u`` (the first
canonical variate of ``V`` against ``E``: ``μ = 1 / (1 - ρ²)`` with ``ρ`` the canonical
correlation).  With noise the information depends on the scale of ``Λ``; the convention
here is **orthonormal rows** (``|Λ| = 1`` for one coarse variable).  Then ``σ² I = σ² Λ Λ^T`` and

    I(H:E) = 1/2 log det Λ (Σ_V + σ² I) Λ^T / det Λ (Σ_{V|E} + σ² I) Λ^T,

a ratio that depends only on the row space of ``Λ``; its maximum over ``k``-dimensional
row spaces is ``1/2 sum_{i<=k} log μ_i`` with ``μ_1 >= μ_2 >= ...`` the generalized eigenvalues of
the pencil ``(Σ_V + σ² I, Σ_{V|E} + σ² I)``, reached by the span of the top ``k`` eigenvectors
(:func:`optimal_linear_filter`, solved by Cholesky and ``numpy.linalg.eigh``).

Examples
--------
>>> import sympy as sp
>>> m = sp.Symbol("m", positive=True)
>>> field = chain_field(3, m, periodic=False)          # sites 0 - 1 - 2
>>> info = gaussian_information(field, [0], environment=[2])
>>> info.block_information                             # I(x_0 : x_2) through the middle site
log((m**4 + 3*m**2 + 1)**2/(m**2*(m**2 + 1)*(m**2 + 2)*(m**2 + 3)))/2
>>> round(info.evaluate({m: 1}).block_information, 12)          # 1/2 log(25/24)
0.02041099726
>>> best = optimal_linear_filter(chain_field(8, 0.5), [0, 1], buffer=1)
>>> best.weights.round(6).tolist()                     # the block average is optimal here
[[0.707107, 0.707107]]
>>> bool(abs(best.information - gaussian_information(chain_field(8, 0.5), [0, 1], linear_rule(best.weights), buffer=1).information) < 1e-12)
True
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

from symrg.errors import BudgetError, ConditionError, ModelError
from symrg.model.display import Displayed
from symrg.model.frozen import array_hash, arrays_equal, readonly_array
from symrg.rg.lattice import Lattice, chain, square

__all__ = [
    "MAX_SYMBOLIC_SITES",
    "MAX_SITES",
    "GaussianField",
    "LinearRule",
    "GaussianInformation",
    "OptimalFilter",
    "gaussian_field",
    "free_field",
    "chain_field",
    "square_field",
    "linear_rule",
    "gaussian_information",
    "optimal_linear_filter",
    "generalized_eigh",
]

#: largest field handled by the symbolic route (determinants of polynomial matrices)
MAX_SYMBOLIC_SITES = 10
#: largest field handled by the numeric route (dense numpy linear algebra)
MAX_SITES = 4096


# ======================================================================================
# the field
# ======================================================================================


@dataclass(frozen=True)
class GaussianField(Displayed):
    """A Gaussian field of density ``∝ exp(-1/2 x^T A x)``.

    Attributes
    ----------
    precision : ndarray (read-only, float) or sympy ImmutableMatrix
        ``A``: a float array when every entry is a number, a sympy matrix when some entry
        is symbolic (then at most :data:`MAX_SYMBOLIC_SITES` sites).
    lattice : Lattice or None
        The finite lattice the sites belong to (site ``i`` is ``lattice.sites()[i]``), if any.
    label : str
        What the field is, for display.
    """

    precision: Any = dataclasses.field(repr=False)
    lattice: Lattice | None = None
    label: str = "Gaussian field"

    def __post_init__(self) -> None:
        if isinstance(self.precision, np.ndarray):
            object.__setattr__(self, "precision", readonly_array(self.precision))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GaussianField):
            return NotImplemented
        if self.is_symbolic != other.is_symbolic or (self.lattice, self.label) != (other.lattice, other.label):
            return False
        if self.is_symbolic:
            return bool(self.precision == other.precision)
        return arrays_equal(self.precision, other.precision)

    def __hash__(self) -> int:
        key = hash(self.precision) if self.is_symbolic else array_hash(self.precision)
        return hash((key, self.lattice, self.label))

    @property
    def size(self) -> int:
        """Number of sites."""
        return int(self.precision.shape[0])

    @property
    def is_symbolic(self) -> bool:
        return not isinstance(self.precision, np.ndarray)

    @property
    def symbols(self) -> tuple:
        """The free symbols of the precision, sorted by name."""
        if not self.is_symbolic:
            return ()
        return tuple(sorted(self.precision.free_symbols, key=lambda s: s.name))

    def text(self) -> str:
        kind = f"symbolic in {', '.join(s.name for s in self.symbols)}" if self.is_symbolic else "numeric"
        return f"{self.label}: {self.size} sites, precision matrix {kind}"

    def latex(self) -> str:
        A = self.precision if self.is_symbolic else sp.Matrix(self.precision.tolist())
        if self.size > 8:
            return rf"A \in \mathbb{{R}}^{{{self.size} \times {self.size}}}"
        return "A = " + sp.latex(A)

    def site_index(self, site: Any) -> int:
        """The index of ``site``: an index ``0 .. size - 1``, or a coordinate tuple of the lattice."""
        if isinstance(site, (bool, np.bool_)):
            raise ModelError(f"site {site!r} is not a site index or a lattice coordinate")
        if isinstance(site, (int, np.integer)):
            i = int(site)
            if not 0 <= i < self.size:
                raise ModelError(f"site {i} is not in the field: its sites are 0 .. {self.size - 1}")
            return i
        if isinstance(site, (tuple, list)):
            if self.lattice is None:
                raise ModelError(f"site {tuple(site)!r} is a coordinate, but this field has no lattice: give site indices")
            coord = tuple(site)
            shape = self.lattice.shape or ()
            if len(coord) != len(shape) or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in coord):
                raise ModelError(f"site {coord!r} is not a coordinate of {self.lattice!r} ({len(shape)} integers)")
            if not all(0 <= c < L for c, L in zip(coord, shape)):
                ranges = ", ".join(f"0..{L - 1}" for L in shape)
                raise ModelError(f"site {coord!r} is not in {self.lattice!r} (coordinates {ranges})")
            idx = self.lattice.index(coord)
            assert idx is not None  # in range: always a site
            return idx
        raise ModelError(f"site {site!r} is not a site index or a lattice coordinate")

    def numeric_precision(self, values: Mapping | None = None) -> np.ndarray:
        """``A`` as a float array, with ``values`` for its symbols; refused unless positive definite."""
        if not self.is_symbolic:
            return np.array(self.precision, dtype=float)
        subs = _substitutions(self.symbols, values, "the precision matrix")
        A = _float_matrix(self.precision.xreplace(subs), "the precision matrix")
        _cholesky(A, "the precision matrix A", ConditionError)
        return A

    def neighbours(self) -> tuple:
        """For each site, the sites it interacts with (``A_ij != 0``, ``j != i``)."""
        A = self.precision
        n = self.size
        if self.is_symbolic:
            return tuple(tuple(j for j in range(n) if j != i and A[i, j] != 0) for i in range(n))
        return tuple(tuple(int(j) for j in np.flatnonzero(A[i]) if j != i) for i in range(n))


def _float_matrix(M: Any, what: str) -> np.ndarray:
    try:
        return np.array([[float(M[i, j]) for j in range(M.cols)] for i in range(M.rows)], dtype=float)
    except TypeError as e:
        raise ModelError(f"{what} is still symbolic after substitution ({sorted(map(str, M.free_symbols))}): give values") from e


def _cholesky(A: np.ndarray, what: str, error: type = ModelError) -> np.ndarray:
    """The Cholesky factor of ``A``; a clear error naming ``what`` when ``A`` is not positive definite."""
    if A.size and not np.all(np.isfinite(A)):
        raise error(f"{what} has entries that are not finite numbers")
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        L = None
    # a pivot at rounding level is a zero mode (the massless periodic field), not a tiny mass
    if L is None or (A.size and float(np.min(np.diag(L))) ** 2 <= 1e-13 * float(np.max(np.abs(np.diag(A))))):
        lam = float(np.linalg.eigvalsh((A + A.T) / 2).min())
        raise error(f"{what} is not positive definite (smallest eigenvalue {lam:.6g})")
    return L


def _substitutions(symbols: Sequence[sp.Symbol], values: Mapping | None, what: str) -> dict:
    """``{symbol: number}`` for every symbol of ``symbols``, from ``values`` keyed by symbol or by
    name (a key naming none of them is left for the other parts of the computation)."""
    by_name = {s.name: s for s in symbols}
    out: dict = {}
    for k, v in dict(values or {}).items():
        name = k.name if isinstance(k, sp.Symbol) else k if isinstance(k, str) else None
        if name not in by_name:
            continue
        if isinstance(v, sp.Basic):
            out[by_name[name]] = v
            continue
        try:
            out[by_name[name]] = sp.Float(float(v))
        except (TypeError, ValueError) as e:
            raise ModelError(f"{what}: the value of {name} must be a number, got {v!r}") from e
    missing = [s.name for s in symbols if s not in out]
    if missing:
        raise ModelError(f"{what}: no value for {', '.join(missing)}")
    return out


def gaussian_field(precision: Any, lattice: Lattice | None = None, label: str = "Gaussian field") -> GaussianField:
    """A Gaussian field of precision matrix ``precision`` (numbers or sympy expressions).

    The matrix must be square and symmetric, and positive definite: checked by Cholesky
    for numbers; for symbolic entries a matrix that sympy proves indefinite is refused and
    the rest is checked when values are given.

    >>> gaussian_field([[2, -1], [-1, 2]]).size
    2
    >>> gaussian_field([[1, 2], [2, 1]])
    Traceback (most recent call last):
    ...
    symrg.errors.ModelError: the precision matrix is not positive definite (smallest eigenvalue -1)
    """
    if isinstance(precision, np.ndarray) and precision.dtype.kind in "biuf":
        return _numeric_field(precision.astype(float), lattice, label)
    try:
        M = sp.ImmutableMatrix(precision)
    except (TypeError, ValueError, sp.SympifyError) as e:
        raise ModelError(f"the precision matrix must be a square matrix of numbers or sympy expressions: {e}") from e
    if M.rows != M.cols or M.rows == 0:
        raise ModelError(f"the precision matrix must be square and non-empty, got shape {M.shape}")
    if lattice is not None and (lattice.shape is None or lattice.num_sites != M.rows):
        raise ModelError(f"the precision matrix has {M.rows} rows but {lattice!r} has "
                         f"{'no finite number of' if lattice.shape is None else lattice.num_sites} sites")
    symbolic = bool(M.free_symbols)
    if symbolic:
        if M.rows > MAX_SYMBOLIC_SITES:
            raise BudgetError(f"a symbolic precision matrix of {M.rows} sites is above MAX_SYMBOLIC_SITES = "
                              f"{MAX_SYMBOLIC_SITES}; give numeric entries for larger fields")
        if any(sp.simplify(M[i, j] - M[j, i]) != 0 for i in range(M.rows) for j in range(i)):
            raise ModelError("the precision matrix must be symmetric")
        if M.is_positive_definite is False:
            raise ModelError("the precision matrix is not positive definite for any value of its symbols")
        return GaussianField(M, lattice, label)
    return _numeric_field(_float_matrix(M, "the precision matrix"), lattice, label)


def _numeric_field(A: np.ndarray, lattice: Lattice | None, label: str) -> GaussianField:
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ModelError(f"the precision matrix must be square and non-empty, got shape {A.shape}")
    if A.shape[0] > MAX_SITES:
        raise BudgetError(f"a field of {A.shape[0]} sites is above MAX_SITES = {MAX_SITES}")
    if lattice is not None and (lattice.shape is None or lattice.num_sites != A.shape[0]):
        raise ModelError(f"the precision matrix has {A.shape[0]} rows but {lattice!r} does not have as many sites")
    if not np.all(np.isfinite(A)):
        raise ModelError("the precision matrix has entries that are not finite numbers")
    if not np.allclose(A, A.T, rtol=0, atol=1e-12 * max(1.0, float(np.abs(A).max()))):
        raise ModelError("the precision matrix must be symmetric")
    A = (A + A.T) / 2
    _cholesky(A, "the precision matrix")
    return GaussianField(A, lattice, label)


def free_field(lattice: Lattice, mass: Any) -> GaussianField:
    """The massive free field ``A = -Δ + m^2 I`` on a finite lattice.

    ``Δ`` is the graph Laplacian of the nearest-neighbour bonds (first shell), each bond
    counted once per lattice vector joining its sites (on a periodic chain of two sites
    the two bonds join the same pair).  ``mass`` is ``m`` (a number or a sympy expression);
    a periodic lattice needs ``m != 0``.

    >>> free_field(chain(4, periodic=False), 1).precision.tolist()
    [[2.0, -1.0, 0.0, 0.0], [-1.0, 3.0, -1.0, 0.0], [0.0, -1.0, 3.0, -1.0], [0.0, 0.0, -1.0, 2.0]]
    """
    if not isinstance(lattice, Lattice) or lattice.shape is None:
        raise ModelError(f"free_field needs a finite Lattice (chain(n), square(lx, ly), ...), got {lattice!r}")
    n = lattice.num_sites
    if n > MAX_SITES:
        raise BudgetError(f"a field of {n} sites is above MAX_SITES = {MAX_SITES}")
    m = sp.sympify(mass)
    if m.is_real is False or (m.is_number and not m.is_real):
        raise ModelError(f"the mass must be real, got {mass!r}")
    lap = np.zeros((n, n))
    for i, site in enumerate(lattice.sites()):
        for d in lattice.shell_vectors(1):
            for sign in (1, -1):
                j = lattice.index(tuple(c + sign * e for c, e in zip(site, d)))
                if j is not None:
                    lap[i, i] += 1
                    lap[i, j] -= 1
    label = f"massive free field on {lattice!r}, m = {m if m.free_symbols else format(float(m), 'g')}"
    if m.free_symbols:
        return gaussian_field(sp.ImmutableMatrix(lap.astype(int).tolist()) + m**2 * sp.eye(n), lattice, label)
    return gaussian_field(lap + float(m) ** 2 * np.eye(n), lattice, label)


def chain_field(n: int, mass: Any, periodic: bool = True) -> GaussianField:
    """The massive free field on a chain of ``n`` sites (a ring when ``periodic``).

    >>> chain_field(3, 1).precision.tolist()
    [[3.0, -1.0, -1.0], [-1.0, 3.0, -1.0], [-1.0, -1.0, 3.0]]
    """
    return free_field(chain(n, periodic), mass)


def square_field(lx: int, mass: Any, ly: int | None = None, periodic: bool = True) -> GaussianField:
    """The massive free field on an ``lx x ly`` square lattice (``ly`` defaults to ``lx``).

    >>> square_field(3, 1).precision[0, :4].tolist()
    [5.0, -1.0, -1.0, -1.0]
    """
    return free_field(square(lx, ly, periodic), mass)


# ======================================================================================
# the rule
# ======================================================================================


@dataclass(frozen=True)
class LinearRule(Displayed):
    """``H = Λ V + ξ``: ``k`` coarse variables, ``ξ`` independent Gaussian noise of variance ``σ²`` each.

    Attributes
    ----------
    weights : sympy ImmutableMatrix
        ``Λ``, one row per coarse variable, one column per block site (in the block's order).
    noise : sympy expression
        ``σ² >= 0``.
    """

    weights: sp.ImmutableMatrix
    noise: sp.Expr

    @property
    def num_coarse(self) -> int:
        return int(self.weights.rows)

    @property
    def is_symbolic(self) -> bool:
        return bool(self.weights.free_symbols or sp.sympify(self.noise).free_symbols)

    def text(self) -> str:
        rows = "; ".join(", ".join(sp.sstr(w) for w in self.weights.row(i)) for i in range(self.weights.rows))
        return f"H = Λ V + ξ with Λ = [{rows}], σ² = {sp.sstr(self.noise)}"

    def latex(self) -> str:
        return rf"H = \Lambda V + \xi,\quad \Lambda = {sp.latex(self.weights)},\quad \sigma^{{2}} = {sp.latex(self.noise)}"


def linear_rule(weights: Any, noise: Any = 0) -> LinearRule:
    """The linear rule ``H = Λ V + ξ`` with ``Λ = weights`` (a row, or one row per coarse variable).

    >>> linear_rule([1, 1], noise=0.1).weights.shape
    (1, 2)
    >>> linear_rule([[1, 0], [0, 1]]).num_coarse
    2
    """
    try:
        arr = np.asarray(weights, dtype=object)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.size == 0:
            raise ModelError(f"the weights Λ must be a non-empty row or matrix, got shape {arr.shape}")
        W = sp.ImmutableMatrix([[sp.sympify(x) for x in row] for row in arr.tolist()])
    except (TypeError, ValueError, sp.SympifyError) as e:
        if isinstance(e, ModelError):
            raise
        raise ModelError(f"the weights Λ must be numbers or sympy expressions: {e}") from e
    s2 = sp.sympify(noise)
    if not isinstance(s2, sp.Expr) or (s2.is_number and not (s2.is_real and s2 >= 0)) or s2.is_negative:
        raise ModelError(f"the noise variance σ² must be a non-negative number or expression, got {noise!r}")
    if any(x.is_number and (not x.is_real or not math.isfinite(float(x))) for x in W):
        raise ModelError("the weights Λ must be finite real numbers or sympy expressions")
    if s2.is_number and not math.isfinite(float(s2)):
        raise ModelError(f"the noise variance σ² must be finite, got {noise!r}")
    return LinearRule(W, s2)


# ======================================================================================
# block, buffer, environment
# ======================================================================================


def _regions(fld: GaussianField, block: Sequence, buffer: int, environment: Sequence | None) -> tuple:
    """``(V, B, E)``: index tuples of the block (in the given order), the buffer and the environment."""
    if not isinstance(fld, GaussianField):
        raise ModelError(f"expected a GaussianField (gaussian_field, chain_field, square_field), got {type(fld).__name__}")
    if isinstance(block, (str, bytes)) or not isinstance(block, Sequence) or len(block) == 0:
        raise ModelError(f"the block must be a non-empty list of sites, got {block!r}")
    V = tuple(fld.site_index(s) for s in block)
    if len(set(V)) != len(V):
        raise ModelError(f"the block {list(block)!r} names a site twice")
    if environment is not None:
        if isinstance(environment, (str, bytes)) or not isinstance(environment, Sequence):
            raise ModelError(f"the environment must be a list of sites, got {environment!r}")
        E = tuple(sorted({fld.site_index(s) for s in environment}))
        if set(E) & set(V):
            raise ModelError(f"the environment shares the sites {sorted(set(E) & set(V))} with the block")
    else:
        if isinstance(buffer, bool) or not isinstance(buffer, (int, np.integer)) or buffer < 0:
            raise ModelError(f"the buffer width must be a non-negative integer, got {buffer!r}")
        # graph distance from the block in the interaction graph of the precision (A_ij != 0)
        dist = {i: 0 for i in V}
        queue = deque(V)
        nbrs = fld.neighbours()
        while queue:
            i = queue.popleft()
            if dist[i] > buffer:
                continue
            for j in nbrs[i]:
                if j not in dist:
                    dist[j] = dist[i] + 1
                    queue.append(j)
        E = tuple(i for i in range(fld.size) if dist.get(i, buffer + 1) > buffer)
    taken = set(V) | set(E)
    B = tuple(i for i in range(fld.size) if i not in taken)
    return V, B, E


def _rule_for(rule: Any, n_block: int) -> LinearRule | None:
    if rule is None:
        return None
    if not isinstance(rule, LinearRule):
        rule = linear_rule(rule)
    if rule.weights.cols != n_block:
        raise ModelError(f"the rule has {rule.weights.cols} weights per coarse variable but the block has {n_block} sites")
    return rule


# ======================================================================================
# the results
# ======================================================================================


def _show(x: Any) -> str:
    return f"{x:.12g}" if isinstance(x, float) else sp.sstr(x)


def _tex(x: Any) -> str:
    return sp.latex(sp.Float(x, 12)) if isinstance(x, float) else sp.latex(x)


@dataclass(frozen=True)
class GaussianInformation(Displayed):
    """``I(V:E)`` and, for a rule, ``I(H:E)`` and the loss ``I(V:E | H)``, in nats.

    Attributes
    ----------
    field : GaussianField
    block, buffer, environment : tuple of int
        Site indices of ``V`` (in the rule's column order), ``B`` and ``E``.
    rule : LinearRule or None
    block_information : float or sympy expression
        ``I(V:E)``.
    information : float or sympy expression or None
        ``I(H:E)`` (None without a rule).
    """

    field: GaussianField
    block: tuple
    buffer: tuple
    environment: tuple
    rule: LinearRule | None
    block_information: Any
    information: Any

    @property
    def is_symbolic(self) -> bool:
        return not isinstance(self.block_information, float)

    @property
    def loss(self) -> Any:
        """``I(V:E) - I(H:E) = I(V:E | H)``, what the rule forgets about the environment."""
        if self.information is None:
            raise ModelError("no rule was given: only I(V:E) is known")
        if self.is_symbolic:
            return sp.simplify(sp.logcombine(self.block_information - self.information, force=True))
        return self.block_information - self.information

    def evaluate(self, values: Mapping) -> GaussianInformation:
        """The numbers at ``values`` (keyed by symbol or name) of a symbolic result."""
        if not self.is_symbolic:
            return self
        syms = set(self.field.symbols) | (set(self.rule.weights.free_symbols) | set(sp.sympify(self.rule.noise).free_symbols)
                                          if self.rule is not None else set())
        subs = _substitutions(sorted(syms, key=lambda s: s.name), values, "evaluate")

        def num(e: Any) -> float | None:
            return None if e is None else float(sp.N(sp.sympify(e).xreplace(subs), 30))

        return GaussianInformation(self.field, self.block, self.buffer, self.environment, self.rule,
                                   num(self.block_information), num(self.information))

    def text(self) -> str:
        head = (f"{self.field.label}: block {list(self.block)}, buffer of {len(self.buffer)} sites, "
                f"environment of {len(self.environment)} sites")
        lines = [head, f"  I(V:E) = {_show(self.block_information)}"]
        if self.rule is not None:
            lines += [f"  rule: {self.rule.text()}", f"  I(H:E) = {_show(self.information)}",
                      f"  I(V:E|H) = {_show(self.loss)}"]
        return "\n".join(lines)

    def latex(self) -> str:
        rows = [rf"I(V{{:}}E) &= {_tex(self.block_information)}"]
        if self.rule is not None:
            rows += [rf"I(H{{:}}E) &= {_tex(self.information)}", rf"I(V{{:}}E \mid H) &= {_tex(self.loss)}"]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


@dataclass(frozen=True)
class OptimalFilter(Displayed):
    """The linear rule of ``k`` coarse variables with the largest ``I(H:E)`` (orthonormal rows of ``Λ``).

    Attributes
    ----------
    field : GaussianField
    block, buffer, environment : tuple of int
    noise : float
        ``σ²``.
    weights : ndarray (read-only), shape ``(k, |V|)``
        ``Λ``: orthonormal rows spanning the top ``k`` generalized eigenvectors (for ``k = 1``
        the unit eigenvector, sign fixed so that its largest component is positive).
    eigenvalues : ndarray (read-only)
        Every generalized eigenvalue ``μ_1 >= μ_2 >= ...`` of ``(Σ_V + σ² I, Σ_{V|E} + σ² I)``.
    information : float
        ``I(H:E) = 1/2 sum_{i<=k} log μ_i`` at the optimum.
    block_information : float
        ``I(V:E)``.
    """

    field: GaussianField
    block: tuple
    buffer: tuple
    environment: tuple
    noise: float
    weights: np.ndarray = dataclasses.field(repr=False)
    eigenvalues: np.ndarray = dataclasses.field(repr=False)
    information: float
    block_information: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", readonly_array(self.weights))
        object.__setattr__(self, "eigenvalues", readonly_array(self.eigenvalues))

    def _key(self) -> tuple:
        return (self.field, self.block, self.buffer, self.environment, self.noise, self.information, self.block_information)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OptimalFilter):
            return NotImplemented
        return (self._key() == other._key() and arrays_equal(self.weights, other.weights)
                and arrays_equal(self.eigenvalues, other.eigenvalues))

    def __hash__(self) -> int:
        return hash((self._key(), array_hash(self.weights)))

    @property
    def rule(self) -> LinearRule:
        """The optimal rule as a :class:`LinearRule` (to feed :func:`gaussian_information`)."""
        return linear_rule(self.weights, self.noise)

    @property
    def loss(self) -> float:
        return self.block_information - self.information

    def text(self) -> str:
        rows = "; ".join(", ".join(f"{w:.6g}" for w in row) for row in self.weights)
        return (f"optimal linear filter for block {list(self.block)} of {self.field.label} (σ² = {self.noise:g}):\n"
                f"  Λ = [{rows}]\n  I(H:E) = {self.information:.12g} of I(V:E) = {self.block_information:.12g}\n"
                f"  generalized eigenvalues μ = {', '.join(f'{m:.6g}' for m in self.eigenvalues)}")

    def latex(self) -> str:
        W = sp.Matrix([[sp.Float(w, 6) for w in row] for row in self.weights])
        return (rf"\Lambda^{{*}} = {sp.latex(W)},\quad I(H{{:}}E) = {_tex(self.information)},"
                rf"\quad I(V{{:}}E) = {_tex(self.block_information)}")


# ======================================================================================
# the computations
# ======================================================================================


def _numeric_parts(fld: GaussianField, rule: LinearRule | None, values: Mapping | None) -> tuple:
    A = fld.numeric_precision(values)
    if rule is None:
        return A, None, 0.0
    syms = sorted(rule.weights.free_symbols | sp.sympify(rule.noise).free_symbols, key=lambda s: s.name)
    subs = _substitutions(syms, values, "the rule") if syms else {}
    W = _float_matrix(rule.weights.xreplace(subs), "the weights Λ")
    s2 = float(sp.sympify(rule.noise).xreplace(subs))
    if s2 < 0 or not math.isfinite(s2):
        raise ConditionError(f"the noise variance σ² = {s2} must be a non-negative number")
    return A, W, s2


def _block_covariances(A: np.ndarray, V: tuple, B: tuple) -> tuple:
    """``(Σ_V, Σ_{V|E}, S_V, T_V)``: the block's covariances and the Schur complements of the
    precision they invert, ``S_V = A/A_RR`` (``R``: every site outside ``V``) and ``T_V = A_{V∪B}/A_BB``
    (docs/block_rg.md, "Gaussian fields")."""
    V_, B_ = list(V), list(B)
    in_block = set(V)
    R_ = [i for i in range(A.shape[0]) if i not in in_block]

    def schur(rest: list) -> np.ndarray:
        S = A[np.ix_(V_, V_)]
        if rest:
            C = A[np.ix_(rest, V_)]
            L = _cholesky(A[np.ix_(rest, rest)], "a principal block of A")
            Y = np.linalg.solve(L, C)
            S = S - Y.T @ Y
        return (S + S.T) / 2

    S_V, T_V = schur(R_), schur(B_)
    inv = [np.linalg.inv(_sym(M)) for M in (S_V, T_V)]
    return _sym(inv[0]), _sym(inv[1]), S_V, T_V


def _sym(M: np.ndarray) -> np.ndarray:
    return (M + M.T) / 2


def _logdet(M: np.ndarray, what: str) -> float:
    if M.size == 0:
        return 0.0
    L = _cholesky(M, what, ConditionError)
    return 2.0 * float(np.sum(np.log(np.diag(L))))


def _numeric_information(A: np.ndarray, V: tuple, B: tuple, E: tuple, W: np.ndarray | None, s2: float) -> tuple:
    Sig_V, Sig_VE, S_V, T_V = _block_covariances(A, V, B)
    I_VE = 0.5 * (_logdet(T_V, "the conditional precision of V") - _logdet(S_V, "the marginal precision of V"))
    if W is None:
        return I_VE, None
    k = W.shape[0]
    what = "the covariance of H (Λ Σ_V Λ^T + σ² I): Λ has dependent rows and σ² = 0; add noise or independent rows"
    Sig_H = _sym(W @ Sig_V @ W.T) + s2 * np.eye(k)
    Sig_HE = _sym(W @ Sig_VE @ W.T) + s2 * np.eye(k)
    I_HE = 0.5 * (_logdet(Sig_H, what) - _logdet(Sig_HE, what.replace("Σ_V", "Σ_{V|E}")))
    return I_VE, I_HE


def _det(M: sp.Matrix) -> sp.Expr:
    """``det M`` as an expanded polynomial, over sympy's polynomial domains (fast where
    ``Matrix.det`` on expressions is not)."""
    if M.rows == 0:
        return sp.Integer(1)
    dm = DomainMatrix.from_Matrix(M)
    return sp.expand(dm.domain.to_sympy(dm.det()))


def _cofactor_block(M: sp.Matrix, idx: list) -> sp.Matrix:
    """``det(M) (M^{-1})[idx, idx]``: the cofactors of the symmetric ``M`` on ``idx``."""
    out = sp.zeros(len(idx), len(idx))
    for a, i in enumerate(idx):
        for b in range(a, len(idx)):
            j = idx[b]
            out[a, b] = out[b, a] = (-1) ** (i + j) * _det(M.minor_submatrix(j, i))
    return out


def _ratio(num: sp.Expr, den: sp.Expr) -> sp.Expr:
    return sp.factor(sp.cancel(sp.together(num / den)))


def _symbolic_information(fld: GaussianField, V: tuple, B: tuple, rule: LinearRule | None) -> tuple:
    A = sp.Matrix(fld.precision) if fld.is_symbolic else sp.Matrix(fld.precision.tolist())
    if A.rows > MAX_SYMBOLIC_SITES:
        raise BudgetError(f"the symbolic route handles at most MAX_SYMBOLIC_SITES = {MAX_SYMBOLIC_SITES} sites, "
                          f"the field has {A.rows}; give values for the symbols")
    n = A.rows
    R = [i for i in range(n) if i not in set(V)]
    VB = list(V) + list(B)
    A_VB = A.extract(VB, VB)
    det_A, det_R, det_VB, det_B = _det(A), _det(A.extract(R, R)), _det(A_VB), _det(A.extract(list(B), list(B)))
    # Jacobi: det (A^{-1})_VV = det A_RR / det A, and the same inside A_{V∪B}
    I_VE = sp.log(_ratio(det_R * det_VB, det_A * det_B)) / 2
    if rule is None:
        return I_VE, None
    # Σ_H = (W C_V W^T + σ² det A) / det A with C_V the cofactors: a matrix of polynomials
    W = sp.Matrix(rule.weights)
    k = W.rows
    P_V = (W * _cofactor_block(A, list(V)) * W.T + rule.noise * det_A * sp.eye(k)).applyfunc(sp.expand)
    P_E = (W * _cofactor_block(A_VB, list(range(len(V)))) * W.T + rule.noise * det_VB * sp.eye(k)).applyfunc(sp.expand)
    num, den = _det(P_V), _det(P_E)
    if num == 0 or den == 0:
        raise ConditionError("the covariance of H is singular: Λ has dependent rows and σ² = 0; add noise or independent rows")
    return I_VE, sp.log(_ratio(num * det_VB**k, den * det_A**k)) / 2


def gaussian_information(
    field: GaussianField,
    block: Sequence,
    rule: Any = None,
    buffer: int = 0,
    environment: Sequence | None = None,
    values: Mapping | None = None,
) -> GaussianInformation:
    """``I(V:E)`` of a block and its environment and, for a linear rule, ``I(H:E)``, exactly.

    Parameters
    ----------
    field : GaussianField
        From :func:`gaussian_field`, :func:`chain_field`, :func:`square_field` or :func:`free_field`.
    block : list of sites
        The block ``V``: site indices, or lattice coordinates (tuples) for a lattice field.
        The order of the sites is the order of the rule's columns.
    rule : LinearRule, or weights for :func:`linear_rule`, or None
        ``H = Λ V + ξ``; None computes ``I(V:E)`` only.
    buffer : int
        Width of the buffer: every site within ``buffer`` steps of the block in the
        interaction graph of the precision (``A_ij != 0``) is left out; ``E`` is the rest.
    environment : list of sites, optional
        ``E`` itself (then every site in neither ``V`` nor ``E`` is the buffer).
    values : mapping, optional
        Numbers for the symbols (keyed by symbol or name); the result is then numeric.

    Returns
    -------
    GaussianInformation
        Symbolic (sympy, ``1/2 log`` of a rational function) when a symbol is left,
        else floats in nats.

    Examples
    --------
    >>> f = chain_field(16, 0.3)
    >>> r = gaussian_information(f, [0, 1], [1, 1], buffer=2)
    >>> bool(r.block_information >= r.information > 0)
    True
    >>> gaussian_information(f, [0, 1], [1, 1, 1])
    Traceback (most recent call last):
    ...
    symrg.errors.ModelError: the rule has 3 weights per coarse variable but the block has 2 sites
    """
    V, B, E = _regions(field, block, buffer, environment)
    rule_ = _rule_for(rule, len(V))
    symbolic = values is None and (field.is_symbolic or (rule_ is not None and rule_.is_symbolic))
    if symbolic:
        I_VE, I_HE = _symbolic_information(field, V, B, rule_)
    else:
        A, W, s2 = _numeric_parts(field, rule_, values)
        I_VE, I_HE = _numeric_information(A, V, B, E, W, s2)
    return GaussianInformation(field, V, B, E, rule_, I_VE, I_HE)


def generalized_eigh(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of ``a u = μ b u`` for symmetric ``a`` and
    positive-definite ``b``, by Cholesky ``b = L L^T`` and ``numpy.linalg.eigh`` of ``L^{-1} a L^{-T}``.

    The eigenvectors (columns) are ``b``-orthonormal: ``U^T b U = I``.

    >>> w, U = generalized_eigh([[2, 0], [0, 3]], [[1, 0], [0, 2]])
    >>> w.round(12).tolist()
    [2.0, 1.5]
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape != b.shape:
        raise ModelError(f"generalized_eigh needs two square matrices of one shape, got {a.shape} and {b.shape}")
    L = _cholesky(_sym(b), "the right-hand matrix b")
    Y = np.linalg.solve(L, _sym(a))
    C = _sym(np.linalg.solve(L, Y.T))  # L^{-1} a L^{-T}
    w, Z = np.linalg.eigh(C)
    U = np.linalg.solve(L.T, Z)
    return w[::-1].copy(), U[:, ::-1].copy()


def optimal_linear_filter(
    field: GaussianField,
    block: Sequence,
    buffer: int = 0,
    environment: Sequence | None = None,
    noise: float = 0.0,
    num_coarse: int = 1,
    values: Mapping | None = None,
) -> OptimalFilter:
    """The linear rule ``H = Λ V + ξ`` maximizing ``I(H:E)`` over ``Λ`` with orthonormal rows.

    ``I(H:E) = 1/2 log det Λ(Σ_V + σ² I)Λ^T / det Λ(Σ_{V|E} + σ² I)Λ^T`` (module docstring), so the
    optimum spans the top ``num_coarse`` eigenvectors of ``(Σ_V + σ² I) u = μ (Σ_{V|E} + σ² I) u`` and
    ``I(H:E) = 1/2 sum_{i <= k} log μ_i``.  At ``σ² = 0`` the scale of ``Λ`` is irrelevant and
    ``num_coarse = |V|`` keeps all of ``I(V:E)``.  The result is numeric (give ``values`` for a
    symbolic field).

    >>> best = optimal_linear_filter(square_field(6, 0.4), [(0, 0), (1, 0), (0, 1), (1, 1)], buffer=1, noise=0.1)
    >>> best.weights.round(6).tolist()                  # the 2 x 2 block average
    [[0.5, 0.5, 0.5, 0.5]]
    """
    V, B, E = _regions(field, block, buffer, environment)
    if isinstance(num_coarse, bool) or not isinstance(num_coarse, (int, np.integer)) or not 1 <= num_coarse <= len(V):
        raise ModelError(f"num_coarse must be an integer from 1 to the block size {len(V)}, got {num_coarse!r}")
    try:
        s2 = float(noise)
    except (TypeError, ValueError) as e:
        raise ModelError(f"the noise variance σ² must be a number, got {noise!r}") from e
    if not (s2 >= 0 and math.isfinite(s2)):
        raise ModelError(f"the noise variance σ² must be a non-negative finite number, got {noise!r}")
    A = field.numeric_precision(values)
    Sig_V, Sig_VE, S_V, T_V = _block_covariances(A, V, B)
    I_VE = 0.5 * (_logdet(T_V, "the conditional precision of V") - _logdet(S_V, "the marginal precision of V"))
    I = np.eye(len(V))
    mu, U = generalized_eigh(Sig_V + s2 * I, Sig_VE + s2 * I)
    top = U[:, :num_coarse]
    Q, _ = np.linalg.qr(top)  # orthonormal rows spanning the top eigenvectors
    W = Q.T
    if num_coarse == 1:
        W = W * np.sign(W[0, int(np.argmax(np.abs(W[0])))])
    info = 0.5 * float(np.sum(np.log(mu[:num_coarse])))
    return OptimalFilter(field, V, B, E, s2, W, mu, info, I_VE)
