"""Canonical (multilinear) form of the energy of discrete units.

Every function of binary units has a unique multilinear form.  For a polynomial
energy (Gaussian terms folded) the canonical form follows by reducing powers on each
unit's support (``v**2 = v`` for Bernoulli, ``s**2 = 1`` for spins) and collecting
monomials.  The result lists the couplings by order: fields, pair couplings, ...

Examples
--------
>>> from symrg.model.energy import seed_dbm
>>> from symrg.engine.marginalization import marginalize
>>> cf = canonical_form(marginalize(seed_dbm(2, 1, 1), "s", "h"))
>>> sorted(cf.by_order(2))
[(v_1, v_2)]
>>> cf.coupling("v_1", "v_2")
-C_{11}*W_{11}*W_{21}
>>> cf.raw(cf.coupling("v_1", "v_2"))
-W_{11}*W_{21}*C[0, 0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from symrg.engine.marginalization import fold_all
from symrg.model import services
from symrg.model.display import Displayed
from symrg.model.energy import EnergyModel, ModelError, MultispinTerm
from symrg.model.expressions import explicit_block
from symrg.model.exprs import MatScalar
from symrg.model.frozen import freeze
from symrg.model.naming import check_latex, entry_name, model_symbols

__all__ = ["canonical_form", "CanonicalForm", "collect_monomials", "intermediate_entries", "reduce_on_support"]


@dataclass(frozen=True)
class CanonicalForm(Displayed):
    """``E = constant + sum_S couplings[S] * prod_{i in S} x_i`` (multilinear for binary units).

    ``couplings`` maps tuples of unit symbols (in layer order) to coefficients; the
    ``constant`` is the coefficient of the empty product.  Note the sign: these are
    coefficients of the *energy*; the usual couplings ``J_S`` are their negatives.

    ``entries`` maps the scalar symbols of the named intermediates' entries (``C_{12}``)
    to the entries they stand for (``C[0, 1]``); :meth:`raw` substitutes them.
    ``symbols`` are the LaTeX symbols of the model's layers and parameters
    (:func:`symrg.model.naming.model_symbols`), used by :meth:`latex`.
    """

    variables: tuple[sp.Symbol, ...]
    couplings: Mapping[tuple, sp.Expr]
    constant: sp.Expr
    entries: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    symbols: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "couplings", freeze(self.couplings))
        object.__setattr__(self, "entries", freeze(self.entries))
        # symbols end up in documents: vetted here too (a saved result is read back through __init__)
        object.__setattr__(self, "symbols", freeze({str(k): check_latex(v, f"{k!r}") for k, v in self.symbols.items()}))

    def raw(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with the intermediates' entry symbols replaced by matrix entries ``C[k, l]``."""
        return sp.sympify(expr).xreplace(dict(self.entries))

    def text(self) -> str:
        """One line per coefficient, by order: ``order  product  coefficient``."""
        text = services.get("text")  # 1-based entries and det(...), as every printed form
        lines = [f"canonical form in {len(self.variables)} units, constant {text(self.constant)}:"]
        lines += [f"  {k}  {text(prod)}  {text(c)}" for k, prod, c in self.table()]
        return "\n".join(lines)

    def by_order(self, k: int) -> dict[tuple, sp.Expr]:
        """The coefficients of the products of ``k`` units."""
        return {s: c for s, c in self.couplings.items() if len(s) == k}

    @property
    def max_order(self) -> int:
        return max((len(s) for s in self.couplings), default=0)

    def coupling(self, *units: str | sp.Symbol) -> sp.Expr:
        """The coefficient of the product of ``units`` (zero when absent)."""
        names = [str(u) for u in units]
        order = {str(v): i for i, v in enumerate(self.variables)}
        unknown = [n for n in names if n not in order]
        if unknown:
            raise ModelError(f"unknown units {unknown}; the units are {[str(v) for v in self.variables]}")
        key = tuple(sorted((self.variables[order[n]] for n in names), key=lambda s: order[str(s)]))
        return self.couplings.get(key, sp.S.Zero)

    def expression(self) -> sp.Expr:
        return self.constant + sp.Add(*[c * sp.Mul(*s) for s, c in self.couplings.items()])

    def table(self) -> list[tuple[int, sp.Expr, sp.Expr]]:
        """Rows ``(order, product of units, coefficient)`` sorted by order."""
        rows = sorted(self.couplings.items(), key=lambda kv: (len(kv[0]), [self.variables.index(v) for v in kv[0]]))
        return [(len(s), sp.Mul(*s), c) for s, c in rows]

    def latex(self) -> str:
        latex = services.get("latex")
        names = dict(self.symbols)
        rows = [rf"{k} & {' '.join(latex(v, names=names) for v in s)} & {latex(c, names=names)} \\" for s, c in self.couplings.items() for k in [len(s)]]
        return "\\begin{array}{rll}\n\\text{order} & \\text{units} & \\text{coefficient} \\\\\n" + "\n".join(rows) + "\n\\end{array}"


def reduce_on_support(expr: sp.Expr, model: EnergyModel) -> sp.Expr:
    """Reduce powers of every discrete layer's units on its support (``v^2 = v``, ``s^2 = 1``)."""
    for lay in model.layers:
        if lay.kind.is_discrete:
            expr = lay.kind.reduce_powers(expr, list(lay.states))
    return expr


def collect_monomials(expr: sp.Expr, model: EnergyModel, units: list[sp.Symbol]) -> tuple[dict, sp.Expr]:
    """Reduce ``expr`` on the supports and collect it by monomial in ``units``.

    Returns ``({tuple of units: coefficient}, constant)``; a unit repeats in a key when a
    power survives the reduction (continuous or many-valued units).
    """
    poly = sp.Poly(reduce_on_support(sp.expand(expr), model), *units)
    out: dict[tuple, sp.Expr] = {}
    const = sp.S.Zero
    for monom, coeff in poly.terms():
        key = tuple(u for u, k in zip(units, monom) for _ in range(k))
        if key:
            out[key] = out.get(key, 0) + coeff
        else:
            const += coeff
    return out, const


def intermediate_entries(model: EnergyModel) -> dict[sp.Expr, sp.Symbol]:
    """``{C[k, l]: C_{kl}}``: each entry of a named intermediate as a scalar symbol.

    The names are 1-based like the parameters' entries (:func:`symrg.model.naming.entry_name`).
    A symmetric intermediate (its explicit definition equals its transpose, as every
    covariance ``C = (I - U U^T)^{-1}`` does) has one symbol per unordered pair, ``C_{kl}``
    with ``k <= l``, so that ``C_{12}`` and ``C_{21}`` merge.

    Examples
    --------
    >>> from symrg.model.energy import seed_dbm
    >>> from symrg.engine.marginalization import marginalize
    >>> subs = intermediate_entries(marginalize(seed_dbm(2, 2, 1), "s", "h"))
    >>> C = sp.MatrixSymbol("C", 2, 2)
    >>> subs[C[0, 1]], subs[C[1, 0]]
    (C_{12}, C_{12})
    """
    out: dict[sp.Expr, sp.Symbol] = {}
    for inter in model.intermediates:
        sym = inter.symbol
        rows, cols = (int(d) for d in sym.shape)
        # structurally symmetric (I - U U^T), else checked entry by entry
        symmetric = rows == cols and (_symmetric(inter.inverse_of, set(_symmetric_intermediates(model, out)))
                                      or _explicit_symmetric(model, inter.inverse_of, out))
        for i in range(rows):
            for j in range(cols):
                k, l = (min(i, j), max(i, j)) if symmetric else (i, j)
                out[sym[i, j]] = sp.Symbol(entry_name(sym.name, (k, l), (rows, cols)), real=True)
    return out


def _explicit_symmetric(model: EnergyModel, expr, subs: Mapping) -> bool:
    m = _explicit(model, expr, subs, _ring(model, subs))
    return all(sp.expand(m[i, j] - m[j, i]) == 0 for i in range(m.rows) for j in range(i + 1, m.cols))


def _poly_matrix(model: EnergyModel, expr, subs: Mapping, ring, memo: dict | None = None) -> list[list]:
    """The explicit entries of a block as ring elements, by plain matrix arithmetic.

    sympy's ``as_explicit`` builds and evaluates a ``Sum`` per entry of a product, and
    ``expand`` on the products is slow too (minutes for the seed DBM 12-8-6); sparse
    polynomial arithmetic takes a fraction of a second.  Raises ``ValueError`` for a form
    or an entry it does not handle (the caller falls back to sympy).
    """
    if isinstance(expr, sp.MatrixBase):
        return [[ring.from_expr(expr[i, j]) for j in range(expr.cols)] for i in range(expr.rows)]
    if isinstance(expr, sp.MatrixSymbol):
        param = model.params.get(expr.name)
        if param is not None and param.value is not None:
            return _poly_matrix(model, param.value, subs, ring)
        if expr[0, 0] not in subs:
            raise ValueError(f"no entries for {expr.name}")
        rows, cols = (int(d) for d in expr.shape)
        return [[ring.from_expr(subs[expr[i, j]]) for j in range(cols)] for i in range(rows)]
    if isinstance(expr, sp.Transpose):
        m = _poly_matrix(model, expr.arg, subs, ring)
        return [list(r) for r in zip(*m)]
    if isinstance(expr, sp.Identity):
        n = int(expr.shape[0])
        return [[ring.one if i == j else ring.zero for j in range(n)] for i in range(n)]
    if isinstance(expr, sp.ZeroMatrix):
        return [[ring.zero] * int(expr.shape[1]) for _ in range(int(expr.shape[0]))]
    if memo is not None and expr in memo:  # W C appears in the field and in the pair block
        return memo[expr]
    if isinstance(expr, sp.MatAdd):
        parts = [_poly_matrix(model, a, subs, ring, memo) for a in expr.args]
        add = sp.Add if isinstance(ring, _SympyRing) else (lambda *xs: sum(xs, ring.zero))
        return [[add(*[p[i][j] for p in parts]) for j in range(len(parts[0][0]))] for i in range(len(parts[0]))]
    if isinstance(expr, sp.MatMul):
        coeff, mats = expr.as_coeff_matrices()
        c = ring.from_expr(coeff)
        start = 1
        if memo is not None:  # the longest product of leading factors already written out
            start = next((k for k in range(len(mats), 1, -1) if sp.MatMul(*mats[:k]) in memo), 1)
        out = memo[sp.MatMul(*mats[:start])] if start > 1 and memo is not None else _poly_matrix(model, mats[0], subs, ring, memo)
        for k, m in enumerate(mats[start:], start=start + 1):
            right = _poly_matrix(model, m, subs, ring, memo)
            columns = list(zip(*right))
            if isinstance(ring, _SympyRing):  # one flatten per entry, not one per product
                out = [[sp.Add(*[x * y for x, y in zip(r, col)]) for col in columns] for r in out]
            else:
                out = [[sum((x * y for x, y in zip(r, col)), ring.zero) for col in columns] for r in out]
            if memo is not None and k < len(mats):
                memo[sp.MatMul(*mats[:k])] = out
        out = out if coeff == 1 else [[c * x for x in r] for r in out]
        if memo is not None:
            memo[expr] = out
        return out
    raise ValueError(f"cannot write out {type(expr).__name__}")


def _explicit(model: EnergyModel, expr, subs: Mapping, ring=None) -> sp.ImmutableMatrix:
    """The explicit entries of a block (parameters by their entries, intermediates by
    their entry symbols): fast polynomial arithmetic in ``ring`` when given and possible,
    else :func:`symrg.model.expressions.explicit_block`."""
    if ring is not None:
        try:
            m = _poly_matrix(model, expr, subs, ring)
            return sp.ImmutableMatrix([[x.as_expr() for x in r] for r in m])
        except (ValueError, TypeError, sp.CoercionFailed):
            pass
    return sp.ImmutableMatrix(explicit_block(model, expr).xreplace(dict(subs)).applyfunc(sp.expand))


def _ring(model: EnergyModel, subs: Mapping):
    """A polynomial ring over QQ in every scalar symbol of the parameters and intermediates."""
    gens: set = set(subs.values())
    for p in model.params.values():
        if p.value is not None:
            gens |= p.value.free_symbols
    if not gens:
        return None
    return sp.ring(sorted(gens, key=str), sp.QQ)[0]


def _symmetric_intermediates(model: EnergyModel, subs: Mapping) -> set:
    """The intermediates whose entry symbols were merged by symmetry (C_{12} = C_{21})."""
    out = set()
    for inter in model.intermediates:
        sym = inter.symbol
        n = int(sym.shape[0])
        if n == int(sym.shape[1]) and (n == 1 or subs.get(sym[0, 1]) == subs.get(sym[1, 0])):
            out.add(sym)
    return out


def _upper(block, q) -> list[list]:
    """The entries ``i <= j`` of a symmetric block (the others are not needed): a product
    ``coeff * L R`` multiplies out only the upper triangle of ``L R``."""
    if not isinstance(q, sp.MatMul):
        return block(q)
    coeff, mats = q.as_coeff_matrices()
    if len(mats) < 2:
        return block(q)
    left = block(sp.MatMul(*mats[:-1]) if len(mats) > 2 else mats[0])
    cols = list(zip(*block(mats[-1])))
    n = len(left)
    out: list[list] = [[sp.S.Zero] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            out[i][j] = coeff * sp.Add(*[x * y for x, y in zip(left[i], cols[j])])
    return out


class _SympyRing:
    """The few ring operations :func:`_poly_matrix` needs, on plain sympy expressions."""

    zero, one = sp.S.Zero, sp.S.One

    @staticmethod
    def from_expr(e: sp.Expr) -> sp.Expr:
        return sp.sympify(e)


def _to_expr(x) -> sp.Expr:
    return x.as_expr() if hasattr(x, "ring") else sp.sympify(x)


def _symmetric(q, symmetric: set) -> bool:
    """Whether the block ``q`` is structurally symmetric (``q^T == q`` once the symmetric
    intermediates ``C^T`` are read as ``C``), e.g. ``-W C W^T``."""
    qt = sp.Transpose(q).doit()
    # doit() on both sides: a block built with evaluate=False compares unequal to its own copy
    return qt.xreplace({sp.Transpose(c): c for c in symmetric}).doit() == q.doit()


def _coefficients(flat: EnergyModel, units: list, subs: Mapping, ring) -> tuple[dict, sp.Expr]:
    """``({units: coefficient}, constant)`` of a folded polynomial energy, block by block."""
    position = {u: i for i, u in enumerate(units)}
    acc: dict[tuple, object] = {}
    symmetric = _symmetric_intermediates(flat, subs)

    def add(key: tuple, coeff) -> None:
        key = tuple(sorted(key, key=position.__getitem__))
        acc[key] = acc.get(key, ring.zero) + coeff

    memo: dict = {}

    def block(expr) -> list[list]:
        try:
            return _poly_matrix(flat, expr, subs, ring, memo)
        except ValueError:
            if not isinstance(ring, _SympyRing):
                raise
            m = explicit_block(flat, expr).xreplace(dict(subs))
            return [[m[i, j] for j in range(m.cols)] for i in range(m.rows)]

    for lay in flat.layers:
        x = list(lay.states)
        bias = flat.biases.get(lay.name)
        if bias is not None:
            for u, f in zip(x, block(bias)):
                add((u,), -f[0])
        q = flat.quadratic.get(lay.name)
        if q is not None:
            # a symmetric block (W C W^T with C symmetric) contributes m_ij, not (m_ij + m_ji)/2
            sym = isinstance(ring, _SympyRing) and _symmetric(q, symmetric)
            m = _upper(block, q) if sym else block(q)
            half = ring.from_expr(sp.Rational(1, 2))
            # u**2 on the support (v^2 = v, s^2 = 1), reduced once per layer; continuous units keep it
            t = sp.Dummy("t")
            square = lay.kind.reduce_powers(t**2, [t]) if lay.kind.is_discrete else t**2
            squares = [sp.Poly(square, t).terms()] * len(x)
            for i, u in enumerate(x):
                for j in range(i + 1, len(x)):
                    add((u, x[j]), m[i][j] if sym else (m[i][j] + m[j][i]) * half)
                for monom, c in squares[i]:
                    add((u,) * monom[0], m[i][i] * ring.from_expr(c / 2))
    for (a, b), w in flat.couplings.items():
        m = block(w)
        xa, xb = flat.layer(a).states, flat.layer(b).states
        for i, u in enumerate(xa):
            for j, t in enumerate(xb):
                add((u, t), -m[i][j])
    for term in flat.terms:  # products of three or more units (plaquettes): - c prod x
        xs = flat.layer(term.layer).states
        for idx, c in term.monomials:
            add(tuple(xs[i] for i in idx), -ring.from_expr(c))
    # the constant: its 1x1 matrix forms and traces written out
    const = flat.constant.replace(
        lambda e: isinstance(e, sp.Trace), lambda e: sp.Add(*[_to_expr(r[k]) for k, r in enumerate(block(e.arg))])
    )
    const = const.replace(lambda e: isinstance(e, MatScalar), lambda e: _to_expr(block(e.args[0])[0][0]))
    constant = const + _to_expr(acc.pop((), ring.zero))
    couplings = {k: c for k, c in ((k, _to_expr(c)) for k, c in acc.items()) if c != 0}
    return couplings, constant


def canonical_form(model: EnergyModel, expand: bool = False) -> CanonicalForm:
    """The canonical multilinear form of a polynomial energy over discrete layers.

    Gaussian terms are folded first.  Continuous layers, if any, keep their powers.
    The coefficients are built block by block from the structured energy (fields,
    self-energies, couplings, constant), never by expanding the whole energy, and the
    entries of named intermediates stay scalar symbols ``C_{kl}``
    (:func:`intermediate_entries`; ``cf.entries`` maps them back to ``C[k-1, l-1]``).

    By default a coefficient keeps the nesting of the matrix products it comes from
    (``W_{21} (C_{11} W_{11} + C_{12} W_{12}) + ...``, the index form
    ``sum_kl W_ik C_kl W_jl`` entry by entry), so its size grows like the products, not
    like their expansion.  ``expand=True`` expands every coefficient into monomials of the
    raw entries (same return type; slow for large layers).

    Examples
    --------
    >>> from symrg.model.energy import seed_dbm
    >>> from symrg.engine.marginalization import marginalize
    >>> m = marginalize(seed_dbm(2, 2, 1), "s", "h")
    >>> canonical_form(m).coupling("v_1", "v_2")
    -W_{21}*(C_{11}*W_{11} + C_{12}*W_{12}) - W_{22}*(C_{12}*W_{11} + C_{22}*W_{12})
    >>> canonical_form(m, expand=True).coupling("v_1", "v_2")
    -C_{11}*W_{11}*W_{21} - C_{12}*W_{11}*W_{22} - C_{12}*W_{12}*W_{21} - C_{22}*W_{12}*W_{22}

    Raises
    ------
    ModelError
        Abstract sizes, or a non-polynomial term (softplus, log cosh...): its exact
        multi-body couplings come from the Möbius / Walsh transforms instead
        (:mod:`symrg.engine.multilinear`).
    """
    if not model.explicit:
        raise ModelError("the canonical form needs explicit (integer) layer sizes")
    flat = fold_all(model)
    if any(not isinstance(t, MultispinTerm) for t in flat.terms):  # multi-unit products are polynomial
        kinds = ", ".join(sorted({type(t).__name__ for t in flat.terms if not isinstance(t, MultispinTerm)}))
        raise ModelError(
            f"the energy has non-polynomial terms ({kinds}); its exact multi-body couplings come from "
            "symrg.engine.multilinear (Möbius / Walsh transforms), not from power reduction"
        )
    subs = intermediate_entries(flat)
    units = [u for lay in flat.layers for u in lay.states]
    ring = _ring(flat, subs) if expand else None
    try:
        couplings, constant = _coefficients(flat, units, subs, ring if ring is not None else _SympyRing())
    except (ValueError, TypeError, sp.CoercionFailed):
        # entries that are not polynomials over QQ (sqrt(2), exp(K), ...): sympy arithmetic
        couplings, constant = _coefficients(flat, units, subs, _SympyRing())
    if expand:
        couplings = {k: c for k, c in ((k, sp.expand(c)) for k, c in couplings.items()) if c != 0}
        constant = sp.expand(constant)
    entries: dict[sp.Symbol, sp.Expr] = {}
    for element, sym in subs.items():
        entries.setdefault(sym, element)  # C_{12} stands for C[0, 1] (and, merged, C[1, 0])
    return CanonicalForm(tuple(units), couplings, constant, entries, model_symbols(model))
