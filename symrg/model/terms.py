"""The parts an energy model is made of: layers, parameters, named intermediates,
conditions, and the non-polynomial terms that summing layers out leaves behind.

Each term builds its own expression (:meth:`LogPartitionTerm.argument`,
:meth:`GaussianTerm.log_normalizer`; an :class:`EnumeratedTerm` is expanded by
:func:`symrg.model.expressions.enumerated_exponents`); the printers
only render them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.errors import ModelError
from symrg.model import budgets, services
from symrg.model.exprs import scaled_identity_factor
from symrg.model.naming import check_latex
from symrg.model.units import Bernoulli, UnitKind, unit_kind

__all__ = [
    "Layer",
    "Param",
    "Intermediate",
    "Condition",
    "LogPartitionTerm",
    "GaussianTerm",
    "EnumeratedTerm",
    "MultispinTerm",
    "TransferMatrixTerm",
    "Step",
    "Term",
]


# --------------------------------------------------------------------------------------
# parts of a model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """A layer: ``size`` units of one ``kind``.

    ``size`` is an ``int`` (explicit mode) or a positive integer :class:`~sympy.Symbol`
    (abstract mode).

    >>> Layer("v", 3).states
    Matrix([
    [v_1],
    [v_2],
    [v_3]])
    """

    name: str
    size: int | sp.Symbol
    kind: UnitKind = field(default_factory=Bernoulli)
    #: the layer's LaTeX symbol (None: derived from the name, ``h1`` -> ``h^{(1)}``)
    latex: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ModelError(f"layer name must be an identifier, got {self.name!r}")
        if self.latex is not None:
            check_latex(self.latex, f"layer {self.name!r}")
        object.__setattr__(self, "kind", unit_kind(self.kind))
        size = self.size
        if isinstance(size, bool) or not isinstance(size, (int, sp.Symbol, sp.Integer)):
            raise ModelError(f"layer {self.name!r}: size must be an int or a sympy Symbol, got {size!r}")
        if isinstance(size, (int, sp.Integer)):
            if int(size) < 1:
                raise ModelError(f"layer {self.name!r}: size must be at least 1, got {size}")
            budgets.check_layer_size(int(size), f"layer {self.name!r}")  # a layer of 10**50 units is refused here
            object.__setattr__(self, "size", int(size))
        elif size.is_positive is False or size.is_integer is False:
            raise ModelError(f"layer {self.name!r}: symbolic size {size} must be a positive integer symbol")

    @property
    def explicit(self) -> bool:
        return isinstance(self.size, int)

    @property
    def symbol(self) -> sp.MatrixSymbol:
        """The layer's state as a column :class:`~sympy.MatrixSymbol` (both modes)."""
        return sp.MatrixSymbol(self.name, self.size, 1)

    @property
    def states(self) -> sp.ImmutableMatrix:
        """Explicit mode: the column of unit symbols ``x_1 ... x_n``."""
        if not self.explicit:
            raise ModelError(f"layer {self.name!r} has symbolic size {self.size}; it has no explicit unit symbols")
        real = not self.kind.is_discrete or all(v.is_real for v in self.kind.values)
        return sp.ImmutableMatrix([sp.Symbol(f"{self.name}_{i + 1}", real=real) for i in range(self.size)])


@dataclass(frozen=True)
class Param:
    """A named matrix parameter (coupling, bias or precision block).

    ``symbol`` appears in the structured blocks; ``value`` (explicit mode) holds its
    entries.  ``auto`` marks entries created by symrg (``W_{12}``): numerically such a
    parameter is passed as one array under its name.  Otherwise the numeric callable
    takes the free scalar symbols of ``value``.  ``latex`` is its LaTeX symbol (None:
    derived from the name, ``W_vh1`` -> ``W^{(v,h^{(1)})}``).
    """

    symbol: sp.MatrixSymbol
    value: sp.ImmutableMatrix | None = None
    auto: bool = True
    latex: str | None = None

    def __post_init__(self) -> None:
        if self.latex is not None:
            check_latex(self.latex, f"parameter {self.symbol.name!r}")

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class Intermediate:
    """A named intermediate ``symbol := definition`` (e.g. ``C := (I - U U^T)^{-1}``).

    ``inverse_of`` is the matrix whose inverse ``symbol`` is (the numeric back-end
    inverts it after checking it is positive definite).
    """

    symbol: sp.MatrixSymbol
    inverse_of: MatrixExpr

    @property
    def definition(self) -> MatrixExpr:
        return sp.Inverse(self.inverse_of)


@dataclass(frozen=True)
class Condition:
    """A condition under which a result exists: ``matrix`` is positive definite."""

    matrix: MatrixExpr
    reason: str

    def latex(self) -> str:
        return services.get("latex")(self.matrix) + r" \succ 0"

    def text(self) -> str:
        return services.get("text")(self.matrix) + " positive definite"


@dataclass(frozen=True)
class LogPartitionTerm:
    """``- sum_j A(theta_j + sum_M (W_{ML}^T x_M)_j)``: a summed-out discrete layer.

    ``weights`` maps each remaining layer ``M`` to ``W_{ML}`` (shape ``n_M x n_L``).
    """

    layer: str
    kind: UnitKind  # a discrete kind (any UnitKind with a finite support)
    size: int | sp.Symbol
    theta: MatrixExpr | None
    weights: tuple  # ((M, W_ML), ...)

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.weights)

    def argument(self) -> MatrixExpr:
        """The vector ``eta = theta + sum_M W_{ML}^T x_M`` (column, length n_L)."""
        parts = [] if self.theta is None else list(self.theta.args if isinstance(self.theta, sp.MatAdd) else [self.theta])
        parts += [w.T * sp.MatrixSymbol(m, w.shape[0], 1) for m, w in self.weights]
        if not parts:
            return sp.ZeroMatrix(self.size, 1)
        return sp.MatAdd(*parts, evaluate=False) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class GaussianTerm:
    """``- 1/2 eta^T S eta - 1/2 log det(2 pi S)``: an integrated Gaussian layer.

    ``eta = theta + sum_M W_{ML}^T x_M``; ``S = precision^{-1}`` is ``covariance`` (a
    named intermediate symbol, or the explicit inverse of a scalar multiple of I).
    """

    layer: str
    size: int | sp.Symbol
    theta: MatrixExpr | None
    weights: tuple  # ((M, W_ML), ...)
    precision: MatrixExpr
    covariance: MatrixExpr

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.weights)

    argument = LogPartitionTerm.argument

    def log_normalizer(self) -> sp.Expr:
        """``-1/2 log det(2 pi S)``, written with the precision: ``-n/2 log 2pi + 1/2 log det Q``."""
        p = scaled_identity_factor(self.precision)
        logdet = self.size * sp.log(p) / 2 if p is not None else sp.log(sp.Determinant(self.precision)) / 2
        return -self.size * sp.log(2 * sp.pi) / 2 + logdet


@dataclass(frozen=True)
class EnumeratedTerm:
    """``- log sum_c exp(-e(c))``: a discrete layer summed configuration by configuration.

    Explicit mode only.  Stored *structurally*, so its size does not grow with the number
    of configurations: the summed layer ``layer`` has ``size`` units of ``kind``, its
    configurations ``c`` are all of ``kind.values ** size`` (:meth:`configurations`, in
    ``itertools.product`` order), and the energy of a configuration given the remaining
    layers ``layers`` is

    ``e(c) = - theta^T c + 1/2 c^T Q c - sum_M x_M^T W_ML c + sum_t E_t(x, x_layer = c)``

    with ``theta`` the layer's field, ``quadratic`` its self block ``Q``, ``weights`` the
    couplings ``((M, W_ML), ...)`` (``W_ML`` is ``n_M x n_L``) and ``absorbed`` the
    non-polynomial terms the layer entered.  The numeric code evaluates this with arrays
    (cost proportional to the number of configurations);
    :func:`symrg.model.expressions.enumerated_exponents` expands it into one sympy
    exponent ``-e(c)`` per configuration (for printing; slow for many configurations).
    """

    layer: str
    layers: tuple[str, ...]
    kind: UnitKind  # a discrete kind
    size: int
    theta: MatrixExpr | None
    quadratic: MatrixExpr | None
    weights: tuple  # ((M, W_ML), ...)
    absorbed: tuple  # the terms the layer entered

    @property
    def count(self) -> int:
        """The number of configurations, ``len(kind.values) ** size``."""
        return len(self.kind.values) ** self.size

    def configurations(self) -> list[tuple]:
        """Every configuration of the layer (``itertools.product`` order: last unit fastest)."""
        return list(itertools.product(self.kind.values, repeat=self.size))

    def pieces(self) -> list:
        """The sympy objects the term is built from (blocks and the absorbed terms' pieces)."""
        out = [e for e in (self.theta, self.quadratic) if e is not None] + [w for _, w in self.weights]
        for t in self.absorbed:
            if isinstance(t, EnumeratedTerm):
                out += t.pieces()
            elif isinstance(t, MultispinTerm):
                out += list(t.coefficients)
            elif isinstance(t, TransferMatrixTerm):
                out += t.pieces()
            else:
                out += [w for _, w in t.weights] + ([t.theta] if t.theta is not None else [])
                if isinstance(t, GaussianTerm):
                    out += [t.precision, t.covariance, t.log_normalizer()]
        return out


@dataclass(frozen=True)
class MultispinTerm:
    """``- sum_k c_k prod_{i in S_k} x_i``: products of three or more units of one discrete layer.

    Explicit mode only; built by :func:`symrg.model.energy.energy_model` from the terms of
    three or more units of a :class:`~symrg.model.couplings.CouplingTable` (plaquettes,
    triangles).  ``monomials`` holds ``(units, coefficient)`` pairs, units 0-based.  The
    term is polynomial but not quadratic: the engine sums its layer configuration by
    configuration (it is absorbed into an :class:`EnumeratedTerm`).

    >>> t = MultispinTerm("s", Bernoulli(), 4, (((0, 1, 2, 3), sp.Symbol("P")),))
    >>> t.layers, t.coefficients
    (('s',), (P,))
    """

    layer: str
    kind: UnitKind  # a discrete kind
    size: int
    monomials: tuple  # ((units, coefficient), ...)

    def __post_init__(self) -> None:
        if not getattr(self.kind, "is_discrete", False):
            raise ModelError(f"layer {self.layer!r}: multi-unit couplings need a discrete layer, got {self.kind.name}")
        for units, _ in self.monomials:
            if len(set(units)) != len(units) or not all(0 <= i < self.size for i in units):
                raise ModelError(f"layer {self.layer!r}: the multi-unit term {units} needs distinct units in 0..{self.size - 1}")

    @property
    def layers(self) -> tuple[str, ...]:
        """The layer whose units it multiplies (the term depends on it)."""
        return (self.layer,)

    @property
    def coefficients(self) -> tuple:
        return tuple(c for _, c in self.monomials)


@dataclass(frozen=True)
class TransferMatrixTerm:
    """``- log tr prod_k T_k``: a discrete layer whose self couplings form a chain or a ring.

    Explicit mode only.  The layer's units are visited in ``order`` (a permutation
    ``p_0 .. p_{n-1}`` of ``0 .. size-1``); with ``eta = theta + sum_M W_ML^T x_M`` and
    ``Q`` the self block ``quadratic`` (nonzero off the diagonal only between ``p_k`` and
    ``p_{k+1}``, and between ``p_{n-1}`` and ``p_0`` on a ring), the transfer matrix of
    unit ``p_k`` is, for values ``a, b`` of the kind,

    ``T_k[a, b] = exp(eta_{p_k} a - 1/2 Q_{p_k p_k} a^2 - Q_{p_k p_{k+1}} a b)``

    with no bond after the last unit of a chain.  ``tr prod_k T_k`` is the sum over the
    ``len(kind.values) ** size`` configurations ``c`` of ``exp(-e(c))``, ``e`` as in
    :class:`EnumeratedTerm` (without absorbed terms), at a cost of ``size`` products of
    small matrices (docs/marginalization.md, "Transfer matrices for chains and rings").

    >>> t = TransferMatrixTerm("s", unit_kind("spin"), 3, None, sp.MatrixSymbol("Q", 3, 3), (), (0, 1, 2), True)
    >>> t.bonds(), t.layers
    (((0, 1), (1, 2), (2, 0)), ())
    """

    layer: str
    kind: UnitKind  # a discrete kind
    size: int
    theta: MatrixExpr | None
    quadratic: MatrixExpr
    weights: tuple  # ((M, W_ML), ...)
    order: tuple  # the units along the chain or ring (0-based)
    ring: bool

    def __post_init__(self) -> None:
        if sorted(self.order) != list(range(self.size)):
            raise ModelError(f"layer {self.layer!r}: the order {self.order} is not a permutation of its {self.size} units")
        if self.ring and self.size < 3:
            raise ModelError(f"layer {self.layer!r}: a ring needs at least 3 units, got {self.size}")

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.weights)

    argument = LogPartitionTerm.argument

    def bonds(self) -> tuple[tuple[int, int], ...]:
        """The coupled pairs ``(p_k, p_{k+1})`` along the order (the closing pair on a ring)."""
        o = tuple(int(i) for i in self.order)
        last = len(o) if self.ring else len(o) - 1
        return tuple((o[k], o[(k + 1) % len(o)]) for k in range(last))

    def pieces(self) -> list:
        """The sympy objects the term is built from."""
        return [e for e in (self.theta, self.quadratic) if e is not None] + [w for _, w in self.weights]


Term = LogPartitionTerm | GaussianTerm | EnumeratedTerm | MultispinTerm | TransferMatrixTerm


@dataclass(frozen=True)
class Step:
    """One marginalization step, recorded for derivation documents."""

    layer: str
    rule: str
    detail: str = ""
    cumulant_reading: str = ""
