"""Layers and structured energy models.

An :class:`EnergyModel` stores the energy ``E(x)`` (Boltzmann weight ``exp(-E)``) by
structure rather than as one expression::

    E = - sum_L theta_L^T x_L + 1/2 sum_L x_L^T Q_L x_L - sum_{L<M} x_L^T W_{LM} x_M
        - sum_terms A_term(...) + constant

* ``biases[L]``      the field ``theta_L`` (column vector),
* ``quadratic[L]``   the self block ``Q_L`` (a Gaussian layer's precision matrix; minus
  the layer's self-coupling ``J_L``: the energy contains ``- 1/2 x_L^T J_L x_L``),
* ``couplings[(L, M)]`` the block ``W_{LM}`` (``L`` before ``M`` in layer order),
* ``terms``          non-polynomial terms produced by summing layers out
  (:class:`LogPartitionTerm`, :class:`GaussianTerm`, :class:`EnumeratedTerm`), and
  products of three or more units of a layer (:class:`MultispinTerm`, plaquettes),
* ``constant``       a scalar, the log of every factor pulled out so far.

Every block is a sympy matrix expression whose leaves are named parameters
(:class:`~sympy.MatrixSymbol`).  In *explicit* mode (integer layer sizes) each leaf also
has explicit entries (``W_{12}``), used when a scalar expression is asked for; in
*abstract* mode (symbolic sizes) results stay matrix expressions such as
``(I - U U^T)^{-1}``.  Expressions are built on demand (:attr:`EnergyModel.energy`).

Examples
--------
>>> from symrg.model.energy import rbm
>>> m = rbm(2, 1)
>>> m.energy
-W_{11}*h_1*v_1 - W_{21}*h_1*v_2 - a_1*v_1 - a_2*v_2 - b_1*h_1
>>> m.layer("h").kind
Bernoulli(values=(0, 1))
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.errors import ModelError
from symrg.model import budgets, services
from symrg.model.couplings import CouplingTable, graph_couplings
from symrg.model.expressions import energy_expression
from symrg.model.exprs import scaled_identity_factor
from symrg.model.frozen import FrozenDict
from symrg.model.naming import entry_name
from symrg.model.terms import (
    Condition,
    EnumeratedTerm,
    GaussianTerm,
    Intermediate,
    Layer,
    LogPartitionTerm,
    MultispinTerm,
    Param,
    Step,
)
from symrg.model.units import UnitKind

__all__ = [
    "Layer",
    "Param",
    "Intermediate",
    "Condition",
    "LogPartitionTerm",
    "GaussianTerm",
    "EnumeratedTerm",
    "MultispinTerm",
    "CouplingTable",
    "Step",
    "EnergyModel",
    "energy_model",
    "rbm",
    "dbm",
    "seed_dbm",
    "ModelError",
]


# --------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------


#: str(model) shows at most this many characters of the energy
_STR_LIMIT = 2000


def _freeze(d: Mapping) -> Mapping:
    # read-only, hashable and picklable (a MappingProxyType is neither of the last two)
    return FrozenDict(d)


@dataclass(frozen=True, eq=False)
class EnergyModel:
    """A structured energy over named layers (see the module docstring).

    Build one with :func:`energy_model`, :func:`rbm`, :func:`dbm` or :func:`seed_dbm`,
    and integrate layers out with :func:`symrg.engine.marginalization.marginalize` (or the method
    :meth:`marginalize`).  Instances are immutable; operations return new models.
    """

    layers: tuple[Layer, ...]
    biases: Mapping[str, MatrixExpr] = field(default_factory=dict)
    quadratic: Mapping[str, MatrixExpr] = field(default_factory=dict)
    couplings: Mapping[tuple[str, str], MatrixExpr] = field(default_factory=dict)
    terms: tuple = ()
    constant: sp.Expr = sp.S.Zero
    params: Mapping[str, Param] = field(default_factory=dict)
    intermediates: tuple[Intermediate, ...] = ()
    conditions: tuple[Condition, ...] = ()
    history: tuple[Step, ...] = ()
    original: "EnergyModel | None" = None

    def __post_init__(self) -> None:
        for name in ("biases", "quadratic", "couplings", "params"):
            object.__setattr__(self, name, _freeze(getattr(self, name)))
        names = [l.name for l in self.layers]
        if len(set(names)) != len(names):
            raise ModelError(f"layer names must be distinct, got {names}")
        modes = {l.explicit for l in self.layers}
        if len(modes) > 1:
            raise ModelError("mixing explicit (int) and abstract (Symbol) layer sizes in one model is not supported")

    def __eq__(self, other: object) -> bool:
        """Structural equality, field by field (the order of blocks included)."""
        if not isinstance(other, EnergyModel):
            return NotImplemented
        if self is other:
            return True
        if (self.layers, self.terms, self.constant) != (other.layers, other.terms, other.constant):
            return False
        for f in ("biases", "quadratic", "couplings", "params"):
            if list(getattr(self, f).items()) != list(getattr(other, f).items()):
                return False
        return (self.intermediates, self.conditions, self.history, self.original) == (
            other.intermediates, other.conditions, other.history, other.original
        )

    def __hash__(self) -> int:
        # consistent with __eq__: equal models have equal layers and constants
        return hash((self.layers, self.constant))

    # -- inspection ------------------------------------------------------------------
    @property
    def explicit(self) -> bool:
        return all(l.explicit for l in self.layers)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(l.name for l in self.layers)

    def layer(self, name: str) -> Layer:
        """The layer called ``name``; a clear error lists the layers otherwise."""
        for l in self.layers:
            if l.name == name:
                return l
        raise ModelError(f"unknown layer {name!r}; this model has layers {list(self.layer_names)}")

    def index(self, name: str) -> int:
        self.layer(name)
        return self.layer_names.index(name)

    def coupling(self, a: str, b: str) -> MatrixExpr | None:
        """The block ``W_{ab}`` oriented ``n_a x n_b`` (``None`` when absent)."""
        if (a, b) in self.couplings:
            return self.couplings[(a, b)]
        if (b, a) in self.couplings:
            return self.couplings[(b, a)].T
        return None

    def neighbours(self, name: str) -> tuple[str, ...]:
        """Layers coupled to ``name`` through a quadratic block."""
        out = []
        for (a, b) in self.couplings:
            if a == name:
                out.append(b)
            elif b == name:
                out.append(a)
        return tuple(sorted(set(out), key=self.layer_names.index))

    def terms_with(self, name: str) -> tuple:
        return tuple(t for t in self.terms if name in t.layers)

    @property
    def is_polynomial(self) -> bool:
        """True when no non-polynomial term is left (Gaussian terms fold back)."""
        return all(isinstance(t, GaussianTerm) for t in self.terms)

    # -- expressions -----------------------------------------------------------------
    @property
    def energy(self) -> sp.Expr:
        """The energy as a sympy expression (built on demand).

        Explicit mode: a scalar in the unit symbols (``v_1``) and parameter entries
        (``W_{12}``), named intermediates kept as matrix symbols.  Abstract mode: a
        scalar built from 1x1 matrix forms (:class:`~symrg.model.exprs.MatScalar`).
        """
        return energy_expression(self)

    def latex(self, lhs: str | None = None) -> str:
        """LaTeX of ``lhs = energy``, with named intermediates and conditions."""
        return services.get("model_latex")(self, lhs)

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def rhs_latex(self) -> str:
        """LaTeX of the energy alone (pieces in structural order)."""
        return services.get("energy_latex")(self)

    def rhs_text(self) -> str:
        """Plain text of the energy alone (pieces in structural order)."""
        return services.get("energy_text")(self)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{l.name}: {l.size} {l.kind.name}" for l in self.layers)
        return f"EnergyModel({sizes}; {len(self.terms)} non-polynomial terms)"

    def text(self) -> str:
        """``E(v, h) = ...`` in plain text (the energy's pieces in structural order)."""
        return f"E({', '.join(self.layer_names)}) = {self.rhs_text()}"

    def __str__(self) -> str:
        text = self.text()
        if len(text) > _STR_LIMIT:  # a summary, not a dump: text() has it all
            text = text[:_STR_LIMIT] + f" ... ({len(text)} characters in all; see .text())"
        return text

    # -- operations ------------------------------------------------------------------
    def marginalize(self, *names: str, **kw) -> "EnergyModel":
        """Integrate out the named layers in the order given."""
        return services.get("marginalize")(self, *names, **kw)

    def lambdify(self, backend: str = "numpy", dps: int = 50):
        """A numeric callable of the energy (see :func:`symrg.output.numeric.lambdify`)."""
        return services.get("lambdify")(self, backend=backend, dps=dps)

    def expressions(self) -> list:
        """Every sympy object the energy is built from: blocks, constant, and the parts of its terms."""
        out = list(self.biases.values()) + list(self.quadratic.values()) + list(self.couplings.values())
        out.append(self.constant)
        for t in self.terms:
            if hasattr(t, "pieces"):  # enumerated and transfer-matrix terms list their own
                out += t.pieces()
            elif isinstance(t, MultispinTerm):
                out += list(t.coefficients)
            else:
                out += [w for _, w in t.weights] + ([t.theta] if t.theta is not None else [])
                if isinstance(t, GaussianTerm):
                    out += [t.precision, t.covariance, t.log_normalizer()]
        return out

    def substitutions(self, values: Mapping[str, object]) -> dict[sp.Symbol, float]:
        """Map the entry symbols of explicit parameters (``W_{12}``) to numbers.

        ``values`` maps parameter names to arrays (a bias may be 1-D), as for the numeric
        callable; the result feeds ``xreplace`` on explicit-mode expressions.

        >>> m = rbm(2, 1)
        >>> m.substitutions({"a": [1.0, 2.0], "b": [0.5], "W": [[3.0], [4.0]]})[m.params["W"].value[1, 0]]
        4.0
        """
        import numpy as np

        out: dict[sp.Symbol, float] = {}
        for name, val in values.items():
            p = self.params.get(name)
            if p is None or p.value is None or not p.auto:
                explicit = [k for k, q in self.params.items() if q.auto and q.value is not None]
                raise ModelError(f"{name!r} is not an explicit parameter of this model; they are {explicit}")
            arr = np.asarray(val, dtype=float).reshape(p.value.shape)
            out.update({p.value[i, j]: float(arr[i, j]) for i in range(p.value.rows) for j in range(p.value.cols)})
        return out

    def with_(self, **changes) -> "EnergyModel":
        """A copy with some fields replaced (used by the engines)."""
        return replace(self, **changes)


# --------------------------------------------------------------------------------------
# user values: numbers and sympy objects only; a string is a name or a numeric literal
# --------------------------------------------------------------------------------------

#: a string the constructors accept as a name (a parameter, or a symbol in an entry)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
#: a string the constructors accept as a number (nothing else in a string is read)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,6})?\Z")
_HOW = "pass a number, a sympy expression (sympy.Symbol('J') * 2), or a string that is a plain name or number"


def _name(spec: object, what: str) -> str:
    """``spec`` if it is a plain identifier usable as a parameter name, else ModelError."""
    s = str(spec)
    if len(s) > 100 or not _NAME.match(s):
        raise ModelError(f"{what}: the name {s[:60]!r} is not a plain identifier (letters, digits, _; starting with a letter)")
    return s


def _scalar(x: object, what: str) -> sp.Expr:
    """A user scalar as a sympy object, without evaluating any text.

    Numbers and sympy expressions are taken as they are (after the budgets of
    :mod:`symrg.model.budgets`); a string must be a plain name (a real Symbol) or a
    plain numeric literal.  NaN, infinities and complex values are refused.
    """
    import numpy as np

    if isinstance(x, (bool, np.bool_)):
        raise ModelError(f"{what}: {x!r} is a bool; {_HOW}")
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, str):
        if _NUMBER.match(x) and len(x) <= 400:
            x = sp.Integer(int(x)) if x.lstrip("+-").isdigit() else sp.Float(x)
        elif x.lower() in ("nan", "inf", "infinity", "oo", "zoo"):
            raise ModelError(f"{what}: {x!r} is not a finite number (and is not taken as a symbol name)")
        elif _NAME.match(x) and len(x) <= 100:
            x = sp.Symbol(x)
        else:
            raise ModelError(f"{what}: the string {x[:60]!r} is not read as code; {_HOW}")
    elif isinstance(x, complex):
        raise ModelError(f"{what}: the complex number {x!r} is refused (energies are real)")
    elif isinstance(x, float):
        if not math.isfinite(x):
            raise ModelError(f"{what}: {x!r} is not a finite number")
        x = sp.Float(x)
    elif isinstance(x, int):
        budgets.check_int(x, what)
        x = sp.Integer(x)
    if not isinstance(x, sp.Expr) or isinstance(x, MatrixExpr):
        raise ModelError(f"{what}: got {type(x).__name__} {str(x)[:60]!r}; {_HOW}")
    budgets.check_expression(x, what)
    if x.has(sp.nan, sp.oo, sp.zoo, -sp.oo):
        raise ModelError(f"{what}: {x} is not finite")
    if x.is_extended_real is False or (x.is_number and x.has(sp.I)):
        raise ModelError(f"{what}: {x} is not real (energies are real)")
    return x


def _matrix(spec: object, what: str) -> sp.ImmutableMatrix:
    """A user matrix (sympy Matrix, nested list / tuple, numpy array) with every entry checked by :func:`_scalar`."""
    import numpy as np

    if isinstance(spec, MatrixExpr) and not isinstance(spec, sp.MatrixBase):
        raise ModelError(f"{what}: pass an explicit sympy Matrix, a nested list or an array, not {spec}")
    if isinstance(spec, sp.MatrixBase):
        budgets.check_matrix_shape(spec.rows, spec.cols, what)
        rows = [[spec[i, j] for j in range(spec.cols)] for i in range(spec.rows)]
    elif isinstance(spec, np.ndarray) or (hasattr(spec, "shape") and hasattr(spec, "tolist")):
        arr = np.asarray(spec)
        if arr.ndim > 2:
            raise ModelError(f"{what}: an array with {arr.ndim} dimensions; pass a vector or a matrix")
        budgets.check_matrix_shape(arr.size, 1, what)
        rows = arr.tolist() if arr.ndim == 2 else [[v] for v in np.ravel(arr).tolist()]
    elif isinstance(spec, (list, tuple)):
        budgets.check_matrix_shape(len(spec), 1, what)
        if all(isinstance(r, (list, tuple)) for r in spec) and spec:
            for r in spec:
                budgets.check_matrix_shape(len(spec), len(r), what)
            rows = [list(r) for r in spec]
            if len({len(r) for r in rows}) > 1:
                raise ModelError(f"{what}: rows of different lengths {[len(r) for r in rows]}")
        elif any(isinstance(r, (list, tuple)) for r in spec):
            raise ModelError(f"{what}: mix of rows and single entries; pass a nested list of rows")
        else:
            rows = [[v] for v in spec]
    else:
        raise ModelError(f"{what}: got {type(spec).__name__}; pass a name, a nested list, an array or a sympy Matrix")
    if not rows or not rows[0]:
        raise ModelError(f"{what}: an empty matrix")
    entries = [[_scalar(v, f"{what}, entry ({i + 1}, {j + 1})") for j, v in enumerate(r)] for i, r in enumerate(rows)]
    return sp.ImmutableMatrix(entries)


# --------------------------------------------------------------------------------------
# constructors
# --------------------------------------------------------------------------------------


def _make_param(name: str, rows, cols, value=None, explicit: bool = True, vector: bool = False) -> Param:
    """A named parameter of shape rows x cols; ``value`` is user data or None (auto)."""
    sym = sp.MatrixSymbol(name, rows, cols)
    if explicit:
        budgets.check_matrix_shape(rows, cols, f"parameter {name!r}")
    if value is not None:
        mat = sp.ImmutableMatrix(value) if not isinstance(value, MatrixExpr) else value
        if isinstance(mat, MatrixExpr) and not isinstance(mat, sp.MatrixBase):
            raise ModelError(f"parameter {name!r}: pass an explicit sympy Matrix, a nested list or an array")
        if explicit and mat.shape != (rows, cols):
            raise ModelError(f"parameter {name!r} has shape {mat.shape}, expected {(rows, cols)}")
        return Param(sym, sp.ImmutableMatrix(mat), auto=False)
    if not explicit:
        return Param(sym, None, auto=True)
    if vector:
        entries = [[sp.Symbol(entry_name(name, (i,), (rows,)), real=True)] for i in range(rows)]
    else:
        entries = [[sp.Symbol(entry_name(name, (i, j), (rows, cols)), real=True) for j in range(cols)] for i in range(rows)]
    return Param(sym, sp.ImmutableMatrix(entries), auto=True)


def energy_model(
    layers: Sequence[Layer | tuple],
    couplings: Mapping[tuple[str, str], object] | Iterable[tuple[str, str]] = (),
    biases: Mapping[str, object] | None = None,
    precisions: Mapping[str, object] | None = None,
    constant: sp.Expr = 0,
    latex_names: Mapping[str, str] | None = None,
) -> EnergyModel:
    """Build an energy model from layers and the pairs of layers that are coupled.

    Parameters
    ----------
    layers
        :class:`Layer` objects or tuples ``(name, size, kind)``.
    couplings
        Pairs ``(L, M)`` (a coupling named ``W_LM``) or a mapping from pairs to a
        name (str), an explicit matrix / nested list (its entries may hold symbols),
        or ``None`` to use the default name.  The energy contains ``- x_L^T W x_M``.

        A pair ``(L, L)`` couples the units of ``L`` among themselves: the energy contains
        ``- 1/2 x_L^T J x_L`` (each pair once: ``- sum_{i<j} J_ij x_i x_j``), stored as
        the self block ``Q_L = -J`` (a Gaussian layer's is ``P - J``).  ``J`` is a name
        (a symmetric matrix of symbols ``J_{ij} = J_{ji}``, zero diagonal on a layer of
        two-valued units -- spins, bits -- where ``x_i^2`` is a field or a constant; numeric
        values must have the same form), an explicit symmetric matrix (zero diagonal on
        such a layer), or a pattern: ``(coupling, edges)`` (one
        coupling on each edge ``(i, j)``, units 0-based, or on each product of three or
        more units), a :class:`~symrg.model.couplings.CouplingTable` (see
        :func:`~symrg.model.couplings.graph_couplings`) or an object with a
        ``coupling_table()`` method (a :class:`symrg.rg.lattice.LatticeModel`).  A table's
        pairs give ``J``; its terms of three or more units (plaquettes) a
        :class:`MultispinTerm` (discrete layers only).  See docs/marginalization.md,
        "Couplings inside a layer".
    biases
        Per layer: a name, an explicit column, ``0`` for no bias, or ``None`` for the
        default name ``b_L``.  Layers not listed get the default.
    precisions
        Gaussian layers only: a name (a full symmetric parameter matrix), an explicit
        matrix, or a scalar ``p`` (``p I``).  Default: the kind's precision times I.
    constant
        A scalar added to the energy.
    latex_names
        LaTeX symbols of layers and parameters by name (``{"h1": r"\tilde h", "W_vh1": "w"}``);
        the others get the default derived from their names (``h1`` -> ``h^{(1)}``,
        docs/conventions.md, "Symbols in LaTeX").  Each is vetted by
        :func:`symrg.model.naming.check_latex`.

    Notes
    -----
    No string is evaluated.  Entries, scalars and the constant are numbers or sympy
    objects; a string is accepted only as a plain name (``"J"`` is ``Symbol("J")``, also
    for names sympy would read as objects, such as ``"E"``, ``"I"`` or ``"beta"``) or a
    plain numeric literal (``"0.5"``).  NaN, infinities and complex values are refused,
    and every expression is checked against :mod:`symrg.model.budgets` (layer and matrix
    sizes, the size of numbers an expression would evaluate to).

    Examples
    --------
    >>> m = energy_model([("v", 2, "spin"), ("h", 1, "spin")], {("v", "h"): "J"}, biases={"v": 0, "h": 0})
    >>> m.energy
    -J_{11}*h_1*v_1 - J_{21}*h_1*v_2
    >>> chain = energy_model([("s", 3, "spin")], {("s", "s"): [[0, "K", 0], ["K", 0, "K"], [0, "K", 0]]}, biases={"s": 0})
    >>> chain.energy
    -K*s_1*s_2 - K*s_2*s_3
    >>> ring = energy_model([("s", 3, "spin")], {("s", "s"): ("K", [(0, 1), (1, 2), (2, 0)])}, biases={"s": 0})
    >>> ring.energy
    -K*s_1*s_2 - K*s_1*s_3 - K*s_2*s_3
    >>> energy_model([("v", 1), ("h", 1)], [("v", "h")], constant="2*x")
    Traceback (most recent call last):
    ...
    symrg.errors.ModelError: the constant of energy_model: the string '2*x' is not read as code; pass a number, ...
    """
    lays = _latex_layers(_layers(layers), latex_names)
    names = [l.name for l in lays]
    by_name = {l.name: l for l in lays}
    if len(set(names)) != len(names):
        raise ModelError(f"layer names must be distinct, got {names}")
    explicit = all(l.explicit for l in lays)
    params: dict[str, Param] = {}

    def add_param(p: Param) -> MatrixExpr:
        if p.name in params or p.name in by_name:
            raise ModelError(f"the name {p.name!r} is used twice (layers and parameters need distinct names)")
        params[p.name] = p
        return p.symbol

    def known(name: str) -> Layer:
        if name not in by_name:
            raise ModelError(f"unknown layer {name!r}; the layers are {names}")
        return by_name[name]

    bias_spec = _mapping(biases, "biases")
    for k in bias_spec:
        known(k)
    out_biases: dict[str, MatrixExpr] = {}
    for l in lays:
        spec = bias_spec.get(l.name, None)
        if isinstance(spec, (int, sp.Integer)) and spec == 0:
            continue
        if spec is None or isinstance(spec, str):
            pname = _name(spec, f"bias of layer {l.name!r}") if spec else f"b_{l.name}"
            out_biases[l.name] = add_param(_make_param(pname, l.size, 1, explicit=explicit, vector=True))
        else:
            val = _matrix(spec, f"bias of layer {l.name!r}")
            if val.shape[1] != 1 and val.shape[0] == 1:
                val = val.T
            if val.shape != (l.size, 1):
                raise ModelError(f"bias of layer {l.name!r} has shape {val.shape}, expected ({l.size}, 1)")
            out_biases[l.name] = add_param(_make_param(f"b_{l.name}", l.size, 1, val, explicit))

    out_couplings: dict[tuple[str, str], MatrixExpr] = {}
    self_coupling: dict[str, MatrixExpr | None] = {}
    multispin: list[MultispinTerm] = []
    for (a, b), spec in _pairs(couplings):
        la, lb = known(a), known(b)
        if a == b:
            if a in self_coupling:
                raise ModelError(f"layer {a!r} is coupled to itself twice")
            self_coupling[a], term = _self_coupling(la, spec, explicit, add_param)
            multispin += [term] if term is not None else []
            continue
        key, transpose = ((a, b), False) if names.index(a) < names.index(b) else ((b, a), True)
        if key in out_couplings:
            raise ModelError(f"layers {a!r} and {b!r} are coupled twice")
        if spec is None or isinstance(spec, str):
            pname = _name(spec, f"coupling ({a!r}, {b!r})") if spec else f"W_{a}{b}"
            sym = add_param(_make_param(pname, la.size, lb.size, explicit=explicit))
        else:
            val = _matrix(spec, f"coupling ({a!r}, {b!r})")
            if explicit and val.shape != (la.size, lb.size):
                raise ModelError(
                    f"coupling between {a!r} ({la.size} units) and {b!r} ({lb.size} units) has shape "
                    f"{val.shape}, expected {(la.size, lb.size)}"
                )
            sym = add_param(_make_param(f"W_{a}{b}", la.size, lb.size, val, explicit))
        out_couplings[key] = sym.T if transpose else sym

    out_quad: dict[str, MatrixExpr] = {}
    prec_spec = _mapping(precisions, "precisions")
    for k in prec_spec:
        if not known(k).kind.is_gaussian:
            raise ModelError(f"layer {k!r} is {known(k).kind.name}; only Gaussian layers take a precision")
    for l in lays:
        if not l.kind.is_gaussian:
            continue
        spec = prec_spec.get(l.name, None)
        if spec is None:
            out_quad[l.name] = getattr(l.kind, "precision") * sp.Identity(l.size)  # a Gaussian kind's precision
        elif isinstance(spec, str) and not _NUMBER.match(spec):
            p = _make_param(_name(spec, f"precision of layer {l.name!r}"), l.size, l.size, explicit=explicit)
            if p.value is not None:  # a symmetric matrix of symbols
                n = l.size
                val = sp.ImmutableMatrix(n, n, lambda i, j: p.value[min(i, j), max(i, j)])
                p = Param(p.symbol, val, auto=True)
            out_quad[l.name] = add_param(p)
        elif isinstance(spec, (sp.MatrixBase, list, tuple)) or hasattr(spec, "shape"):
            val = _matrix(spec, f"precision of layer {l.name!r}")
            if val.shape != (l.size, l.size) or val != val.T:
                raise ModelError(f"precision of layer {l.name!r} must be a symmetric {l.size}x{l.size} matrix")
            out_quad[l.name] = add_param(_make_param(f"P_{l.name}", l.size, l.size, val, explicit))
        else:
            p = _scalar(spec, f"precision of layer {l.name!r}")
            if p.is_positive is False:
                raise ModelError(f"precision of layer {l.name!r} must be positive, got {spec}")
            out_quad[l.name] = p * sp.Identity(l.size)
    for l in lays:  # Q_L = P_L - J_L (precision minus self-coupling), in layer order
        J = self_coupling.get(l.name)
        if J is not None:
            out_quad[l.name] = -J if l.name not in out_quad else sp.MatAdd(out_quad.pop(l.name), -J)
    out_quad = {l.name: out_quad[l.name] for l in lays if l.name in out_quad}
    conds = tuple(
        Condition(q, f"precision of Gaussian layer {name!r}")
        for name, q in out_quad.items()
        if by_name[name].kind.is_gaussian  # a discrete layer's Q = -J is no precision
        and not (scaled_identity_factor(q) or sp.S.NegativeOne).is_positive  # p I with p > 0 needs no condition
    )
    return EnergyModel(
        layers=lays,
        biases=out_biases,
        quadratic=out_quad,
        couplings=out_couplings,
        constant=_scalar(constant, "the constant of energy_model"),
        params=_latex_params(params, lays, latex_names),
        conditions=conds,
        terms=tuple(multispin),
    )


def _self_coupling(lay: Layer, spec: object, explicit: bool, add_param) -> tuple[MatrixExpr | None, MultispinTerm | None]:
    """The self-coupling ``J`` of a layer (a parameter symbol) and its multi-unit term, from a user spec.

    See :func:`energy_model`: a name, an explicit symmetric matrix, or a coupling table
    (or an object with a ``coupling_table()`` method).  Errors name the layer.
    """
    name, n, kind = lay.name, lay.size, lay.kind
    what = f"self-coupling ({name!r}, {name!r}) of layer {name!r}"
    discrete = kind.is_discrete
    # two-valued units (x^2 = s x + p: spins, bits) make a diagonal entry a field or a constant
    zero_diagonal = discrete and kind.square_reduction() is not None
    make_table = getattr(spec, "coupling_table", None)
    if spec is not None and not isinstance(spec, (str, CouplingTable)) and callable(make_table):
        try:
            spec = make_table()  # a LatticeModel, or any object that lists its terms as a table
        except (ValueError, TypeError) as e:  # an infinite lattice, a wrapped term: said for this layer
            raise ModelError(f"{what}: {e}") from None
        if not isinstance(spec, CouplingTable):
            raise ModelError(f"{what}: coupling_table() returned {type(spec).__name__}, not a CouplingTable")
    if spec is None or (isinstance(spec, str) and not _NUMBER.match(spec)):
        # a symmetric matrix of symbols J_{ij} = J_{ji}; zero diagonal on a two-valued layer
        p = _make_param(_name(spec, what) if spec else f"J_{name}", n, n, explicit=explicit)
        if p.value is not None:
            val = p.value
            entries = sp.ImmutableMatrix(
                n, n, lambda i, j: sp.S.Zero if zero_diagonal and i == j else val[min(i, j), max(i, j)]
            )
            p = Param(p.symbol, entries, auto=True)
        return add_param(p), None
    if not explicit:
        raise ModelError(f"{what}: layer {name!r} has symbolic size {n}; give J as a name, or give the layer an integer size")
    if _is_edge_list(spec):  # (coupling, edges): one coupling on every edge of a graph
        assert isinstance(spec, tuple)
        try:
            spec = graph_couplings(n, spec[1], spec[0])
        except ModelError as e:
            raise ModelError(f"{what}: {e}") from None
    if isinstance(spec, CouplingTable):
        if spec.size != n:
            raise ModelError(f"{what}: the coupling table has {spec.size} units, layer {name!r} has {n}")
        if 1 in spec.orders:
            raise ModelError(
                f"{what}: the coupling table has one-unit terms (fields); give them as the bias of layer "
                f"{name!r} (symrg.rg.lattice.lattice_model does this)"
            )
        pairs, multi = spec.part(2, 2), spec.part(3)
        J = add_param(_make_param(f"J_{name}", n, n, _matrix(pairs.pair_matrix(), what), explicit)) if len(pairs) else None
        term = None
        if len(multi):
            if not discrete:
                raise ModelError(f"{what}: terms of three or more units need a discrete layer; {name!r} is {kind.name}")
            mono = tuple((u, _scalar(c, f"{what}, term on units {u}")) for u, c in multi.entries)
            term = MultispinTerm(name, kind, n, mono)
        return J, term
    val = _matrix(spec, what)
    if val.shape != (n, n):
        raise ModelError(f"{what}: J has shape {val.shape}, expected ({n}, {n}) (layer {name!r} has {n} units)")
    for i in range(n):
        for j in range(i + 1, n):
            if not sp.expand(val[i, j] - val[j, i]).is_zero:  # 0.0 counts as zero (sympy 1.13: Float(0) != 0)
                raise ModelError(
                    f"{what}: J must be symmetric; J[{i + 1},{j + 1}] = {val[i, j]} but J[{j + 1},{i + 1}] = {val[j, i]}"
                )
    if zero_diagonal:
        for i in range(n):
            if not val[i, i].is_zero:
                raise ModelError(
                    f"{what}: layer {name!r} is {kind.name} (two-valued discrete units), so J needs a zero diagonal; "
                    f"J[{i + 1},{i + 1}] = {val[i, i]} (x_i^2 is a field or a constant for such a unit: put it in the bias)"
                )
    return add_param(_make_param(f"J_{name}", n, n, val, explicit)), None


def _latex_layers(lays: tuple[Layer, ...], latex_names: Mapping[str, str] | None) -> tuple[Layer, ...]:
    """The layers with the LaTeX symbols ``latex_names`` gives them (vetted by :class:`Layer`)."""
    if latex_names is None:
        return lays
    if not isinstance(latex_names, Mapping):
        raise ModelError(f"latex_names must be a mapping from layer or parameter names to LaTeX, got {type(latex_names).__name__}")
    return tuple(replace(l, latex=latex_names[l.name]) if l.name in latex_names else l for l in lays)


def _latex_params(params: dict[str, Param], lays: Sequence[Layer], latex_names: Mapping[str, str] | None) -> dict[str, Param]:
    """The parameters with the LaTeX symbols ``latex_names`` gives them; a name that is
    neither a layer nor a parameter is refused."""
    if not latex_names:
        return params
    unknown = [k for k in latex_names if k not in params and k not in {l.name for l in lays}]
    if unknown:
        raise ModelError(f"latex_names: {unknown} name no layer or parameter; the layers are "
                         f"{[l.name for l in lays]} and the parameters {list(params)}")
    return {k: replace(p, latex=latex_names[k]) if k in latex_names else p for k, p in params.items()}


def _is_edge_list(spec: object) -> bool:
    """``(coupling, [(i, j), ...])``: a scalar then a list of index tuples (never a matrix's rows)."""
    return (
        isinstance(spec, tuple) and len(spec) == 2 and not isinstance(spec[0], (list, tuple, MatrixExpr, sp.MatrixBase))
        and isinstance(spec[1], (list, tuple)) and all(isinstance(e, (list, tuple)) for e in spec[1])
    )


def _layers(layers: object) -> tuple[Layer, ...]:
    """The layers of :func:`energy_model` (Layer objects or ``(name, size[, kind])`` tuples), checked."""
    if isinstance(layers, (str, bytes, Mapping)) or not isinstance(layers, Iterable):
        raise ModelError(f"layers must be a list of Layer objects or (name, size, kind) tuples, got {type(layers).__name__}")
    out = []
    for k, l in enumerate(layers):
        if isinstance(l, Layer):
            out.append(l)
        elif isinstance(l, (tuple, list)) and 2 <= len(l) <= 3:
            out.append(Layer(*l))
        else:
            raise ModelError(f"layer {k}: expected a Layer or a tuple (name, size[, kind]), got {str(l)[:80]!r}")
    if not out:
        raise ModelError("a model needs at least one layer")
    for l in out:
        if isinstance(l.size, int):
            budgets.check_layer_size(l.size, f"layer {l.name!r}")
    return tuple(out)


def _mapping(spec: object, what: str) -> dict:
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise ModelError(f"{what} must be a mapping from layer names, got {type(spec).__name__}")
    return dict(spec)


def _pairs(couplings: object) -> list[tuple[tuple[str, str], object]]:
    """``couplings`` as ``((a, b), spec)`` items, each pair checked to be two layer names."""
    if isinstance(couplings, Mapping):
        items = list(couplings.items())
    elif isinstance(couplings, (str, bytes)) or not isinstance(couplings, Iterable):
        raise ModelError(f"couplings must be pairs of layer names or a mapping from pairs, got {type(couplings).__name__}")
    else:
        items = [(p, None) for p in couplings]
    for pair, _ in items:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(n, str) for n in pair)):
            raise ModelError(f"a coupling must be a pair of layer names (a, b), got {str(pair)[:80]!r}")
    return [((str(a), str(b)), spec) for (a, b), spec in items]


def _layer_specs(sizes, kinds, names) -> list[Layer]:
    if len(kinds) != len(sizes) or len(names) != len(sizes):
        raise ModelError(f"got {len(sizes)} sizes, {len(kinds)} kinds and {len(names)} names; they must match")
    return [Layer(n, s, k) for n, s, k in zip(names, sizes, kinds)]


def rbm(
    n_visible: int | sp.Symbol,
    n_hidden: int | sp.Symbol,
    visible: UnitKind | str = "bernoulli",
    hidden: UnitKind | str = "bernoulli",
    names: tuple[str, str] = ("v", "h"),
    weights: str | object = "W",
    biases: tuple = ("a", "b"),
    latex_names: Mapping[str, str] | None = None,
) -> EnergyModel:
    """Restricted Boltzmann machine ``E = -a^T v - b^T h - v^T W h``.

    >>> import sympy as sp
    >>> m = rbm(sp.Symbol("n_v", integer=True, positive=True), sp.Symbol("n_h", integer=True, positive=True))
    >>> m.energy
    -a.T*v - b.T*h - v.T*W*h
    """
    lays = _layer_specs((n_visible, n_hidden), (visible, hidden), names)
    return energy_model(lays, {(names[0], names[1]): weights}, biases=dict(zip(names, biases)), latex_names=latex_names)


def dbm(
    sizes: Sequence[int | sp.Symbol],
    kinds: Sequence[UnitKind | str] | None = None,
    names: Sequence[str] | None = None,
    weights: Sequence[str | object] | None = None,
    biases: Sequence[str | object] | None = None,
    latex_names: Mapping[str, str] | None = None,
) -> EnergyModel:
    """Deep Boltzmann machine: a chain of layers, each coupled to the next.

    Defaults: Bernoulli units, layers ``x0, x1, ...``, weights ``W_0, W_1, ...``, biases
    ``b_x0, ...``.

    >>> dbm([2, 2, 1], ["bernoulli", "gaussian", "gaussian"]).layer_names
    ('x0', 'x1', 'x2')
    """
    k = len(sizes)
    kinds = list(kinds) if kinds is not None else ["bernoulli"] * k
    names = list(names) if names is not None else [f"x{i}" for i in range(k)]
    weights = list(weights) if weights is not None else [f"W_{i}" for i in range(k - 1)]
    if len(weights) != k - 1:
        raise ModelError(f"a DBM with {k} layers needs {k - 1} weight matrices, got {len(weights)}")
    lays = _layer_specs(sizes, kinds, names)
    bias_map = dict(zip(names, biases)) if biases is not None else None
    return energy_model(lays, {(names[i], names[i + 1]): weights[i] for i in range(k - 1)}, biases=bias_map,
                        latex_names=latex_names)


def seed_dbm(
    n_v: int | sp.Symbol | None = None,
    n_h: int | sp.Symbol | None = None,
    n_s: int | sp.Symbol | None = None,
    latex_names: Mapping[str, str] | None = None,
) -> EnergyModel:
    """The seed's three-layer DBM (docs/marginalization.md, "Worked example"), abstract sizes by default::

        E(v, h, s) = -a^T v - b^T h - c^T s + 1/2 h^T h + 1/2 s^T s - v^T W h - h^T U s

    ``v`` Bernoulli, ``h`` and ``s`` Gaussian with unit precision.

    >>> seed_dbm().energy
    -a.T*v - b.T*h - c.T*s + h.T*h/2 + s.T*s/2 - h.T*U*s - v.T*W*h
    """
    sizes = []
    for name, n in (("v", n_v), ("h", n_h), ("s", n_s)):
        sizes.append(sp.Symbol(f"n_{name}", integer=True, positive=True) if n is None else n)
    return dbm(sizes, ["bernoulli", "gaussian", "gaussian"], ["v", "h", "s"], ["W", "U"], ["a", "b", "c"], latex_names=latex_names)
