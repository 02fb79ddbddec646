"""Expressions of energy models: each block and term builds its own sympy expression.

The energy of a model is assembled piece by piece in structural order (fields,
self-energies, couplings, non-polynomial terms, constant), so the formula reads like a
hand-written one: ``-a^T v - 1/2 (b + U c + W^T v)^T C (b + U c + W^T v) ...``.  The
printers in :mod:`symrg.output.printing` only render these pieces.

Explicit models can be expanded into scalar entries; every expansion is guarded by an
estimated term count (:data:`MAX_EXPLICIT_ENTRIES`) so that a large model fails fast
instead of hanging.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.errors import ModelError
from symrg.model.exprs import MatScalar, SumLogPartition, explicit_entries, scaled_identity_factor
from symrg.model.terms import EnumeratedTerm, GaussianTerm, Layer, LogPartitionTerm, MultispinTerm, TransferMatrixTerm

__all__ = [
    "MAX_EXPLICIT_ENTRIES",
    "LATEX_SCALAR_LIMIT",
    "energy_pieces",
    "energy_expression",
    "explicit_block",
    "explicit_scalar",
    "expansion_cost",
    "model_expansion_cost",
    "term_expression",
    "enumerated_exponents",
    "multispin_expression",
    "transfer_trace",
]

#: refuse to expand a block or quadratic form into more scalar terms than this
MAX_EXPLICIT_ENTRIES = 200_000


def _text(expr) -> str:
    return sp.sstr(expr)


# --------------------------------------------------------------------------------------
# explicit blocks
# --------------------------------------------------------------------------------------


def explicit_block(model, expr):
    """The explicit entries of a block: parameters replaced by their entries.

    Named intermediates stay symbolic (their entries print 1-based, ``C_{12}`` for ``C[0, 1]``).
    Raises when the block is too large to expand (see ``MAX_EXPLICIT_ENTRIES``).
    """
    cost = expansion_cost(expr)
    if cost > MAX_EXPLICIT_ENTRIES:
        rows, cols = expr.shape
        raise ModelError(
            f"refusing to expand the {rows}x{cols} block {_text(expr)} into scalar entries: about {cost} terms "
            f"(limit {MAX_EXPLICIT_ENTRIES}); use the structured blocks, the matrix-notation LaTeX or the "
            "numeric callable instead"
        )
    subs = {p.symbol: p.value for p in model.params.values() if p.value is not None}
    if subs and expr.has(DiagonalOf):
        # the diagonal of an explicit matrix, written out first (sympy's DiagonalOf of an
        # explicit matrix fails on its int shape: 'int' object has no attribute 'is_Integer')
        expr = expr.replace(lambda e: isinstance(e, DiagonalOf), lambda e: _explicit_diagonal(e, subs))
    out = expr.xreplace(subs) if subs else expr
    if isinstance(out, sp.MatrixBase):
        return sp.ImmutableMatrix(out)
    out = out.doit() if not any(isinstance(a, sp.MatrixSymbol) for a in out.atoms(sp.MatrixSymbol)) else out
    return explicit_entries(out)


def _explicit_diagonal(e: DiagonalOf, subs: dict):
    inner = e.arg.xreplace(subs)
    if isinstance(inner, sp.MatrixBase):
        m = inner
    elif inner.atoms(sp.MatrixSymbol):  # named intermediates stay as entries C[i, j]
        m = explicit_entries(inner)
    else:
        m = inner.doit()
        m = m if isinstance(m, sp.MatrixBase) else m.as_explicit()
    return sp.ImmutableMatrix([m[i, i] for i in range(m.rows)])


def expansion_cost(expr) -> int:
    """Rough number of scalar terms the explicit entries of a block expression would hold.

    A product ``A_{r x k} B_{k x c}`` costs ``r c k``; sums add.  Used to refuse
    expansions that would hang instead of failing fast.
    """
    def dim(d) -> int:
        try:
            return int(d)
        except TypeError:
            return 1 << 30  # a symbolic size never expands
    if isinstance(expr, sp.MatAdd):
        return sum(expansion_cost(a) for a in expr.args)
    if isinstance(expr, sp.MatMul):
        mats = [a for a in expr.args if isinstance(a, MatrixExpr)]
        inner = 1
        for m in mats[:-1]:
            inner *= dim(m.shape[1])
        return dim(expr.shape[0]) * dim(expr.shape[1]) * inner + sum(expansion_cost(m) for m in mats)
    if isinstance(expr, (sp.Transpose, sp.Inverse)) or type(expr).__name__ == "DiagonalOf":
        return expansion_cost(expr.args[0])
    if isinstance(expr, MatrixExpr) or isinstance(expr, sp.MatrixBase):
        return dim(expr.shape[0]) * dim(expr.shape[1])
    return 1


def model_expansion_cost(model) -> int:
    """:func:`expansion_cost` summed over every block and term of ``model``."""
    return sum(expansion_cost(b) for b in model.expressions())


#: ``latex()`` of an explicit model shows scalar entries below this many terms, matrices above
LATEX_SCALAR_LIMIT = 2000


def _state(model, name):
    return model.layer(name).states


def _transpose(m):
    """Transpose that keeps a sum together: ``(b + U c)^T`` rather than ``b^T + c^T U^T``."""
    return sp.Transpose(m) if isinstance(m, sp.MatAdd) else m.T


def _half_form(x, q) -> sp.Expr:
    """``1/2 x^T q x`` with a leading minus sign pulled out of ``q``."""
    coeff, mats = q.as_coeff_mmul() if isinstance(q, sp.MatMul) else (sp.S.One, q)
    if coeff.is_negative:
        inner = mats.args if isinstance(mats, sp.MatMul) else (mats,)  # -J prints x^T J x, not x^T (J) x
        return coeff * MatScalar(sp.MatMul(x.T, *inner, x)) / 2
    return MatScalar(sp.MatMul(x.T, q, x)) / 2


def _bilinear(x, m, y) -> sp.Expr:
    """``x^T m y`` expanded, refused when the expansion would be too large."""
    def size(e: sp.Expr) -> int:
        return len(sp.Add.make_args(e))

    cost = sum(map(size, x)) * sum(map(size, y)) * max(map(size, m), default=1)
    if cost > MAX_EXPLICIT_ENTRIES:
        raise ModelError(
            f"refusing to expand a {m.rows}x{m.cols} quadratic form into about {cost} scalar terms "
            f"(limit {MAX_EXPLICIT_ENTRIES}); use the matrix-notation LaTeX or the numeric callable instead"
        )
    return sp.expand((x.T * m * y)[0, 0])


# --------------------------------------------------------------------------------------
# energy pieces
# --------------------------------------------------------------------------------------


def _term_kind_symbol(kind) -> sp.Symbol:
    # the kind's short name of A (softplus, logcosh, or A): selects the printed form
    return sp.Symbol(kind.partition_label)


def energy_pieces(model, scalar: bool | None = None) -> list[sp.Expr]:
    """The energy as an ordered list of scalar sympy pieces (their sum is the energy).

    ``scalar=True`` (explicit models only) expands blocks into their entries;
    ``False`` keeps matrix notation; ``None`` expands small explicit models only.
    """
    pieces: list[sp.Expr] = []
    if scalar is None:
        scalar = model.explicit and model_expansion_cost(model) <= LATEX_SCALAR_LIMIT
    explicit = scalar and model.explicit
    for lay in model.layers:
        th = model.biases.get(lay.name)
        if th is not None:
            if explicit:
                pieces.append(-sp.expand((explicit_block(model, th).T * lay.states)[0, 0]))
            else:
                pieces.append(-MatScalar(sp.MatMul(_transpose(th), lay.symbol)))
    for lay in model.layers:
        q = model.quadratic.get(lay.name)
        if q is None:
            continue
        if explicit:
            x = lay.states
            pieces.append(_bilinear(x, explicit_block(model, q), x) / 2)
        else:
            p = scaled_identity_factor(q)
            x = lay.symbol
            pieces.append(p * MatScalar(x.T * x) / 2 if p is not None else _half_form(x, q))
    for (a, b), w in model.couplings.items():
        la, lb = model.layer(a), model.layer(b)
        if explicit:
            pieces.append(-_bilinear(la.states, explicit_block(model, w), lb.states))
        else:
            pieces.append(-MatScalar(la.symbol.T * w * lb.symbol))
    const = explicit_scalar(model, model.constant) if explicit else model.constant
    for t in model.terms:
        if isinstance(t, GaussianTerm):
            # its log-normalizer joins the constant so that log(2 pi) terms collect
            pieces.append(_gaussian_quadratic(model, t, explicit))
            const += t.log_normalizer()
        else:
            pieces.append(term_expression(model, t, explicit))
    return pieces + _constant_pieces(const)


def _constant_pieces(const: sp.Expr) -> list[sp.Expr]:
    """The constant split into ordered addends: matrix forms, then log(2 pi), then the rest."""
    args = sp.Add.make_args(const)
    two_pi = sp.log(2 * sp.pi)
    log2pi = [a for a in args if a.has(two_pi)]
    rest = [a for a in args if not a.has(two_pi) and a != 0]
    if log2pi:
        coeff = sp.factor(sp.Add(*[a.coeff(two_pi) for a in log2pi]))
        if coeff.could_extract_minus_sign():  # print - (n_h + n_s)/2 log(2 pi)
            neg = sp.factor(-coeff)  # no "- 1 log(2 pi)"
            rest.append(sp.Mul(-1, two_pi if neg == 1 else sp.Mul(neg, two_pi, evaluate=False), evaluate=False))
        elif coeff != 0:
            rest.append(sp.Mul(coeff, two_pi, evaluate=False))

    def key(e):
        if e.has(MatScalar):
            return 0
        if e.has(two_pi):
            return 1
        return 2

    return sorted((a for a in rest if a != 0), key=key)


def explicit_scalar(model, expr: sp.Expr) -> sp.Expr:
    """Replace 1x1 matrix forms in a scalar by their explicit entries."""
    expr = expr.replace(lambda e: isinstance(e, sp.Trace), lambda e: explicit_block(model, e.arg).trace())
    return expr.replace(
        lambda e: isinstance(e, MatScalar), lambda e: sp.expand(explicit_block(model, e.args[0])[0, 0])
    )


def term_expression(model, t, scalar: bool | None = None) -> sp.Expr:
    """The energy contribution of one non-polynomial term (explicit scalar or matrix form)."""
    scalar = model.explicit if scalar is None else scalar
    if isinstance(t, LogPartitionTerm):
        if scalar:
            return -sp.Add(*[t.kind.log_partition(e) for e in _explicit_argument(model, t)])
        return -SumLogPartition(t.argument(), _term_kind_symbol(t.kind))
    if isinstance(t, GaussianTerm):
        return _gaussian_quadratic(model, t, scalar) + t.log_normalizer()
    if isinstance(t, EnumeratedTerm):
        return -sp.log(sp.Add(*[sp.exp(e) for e in enumerated_exponents(model, t)]))
    if isinstance(t, MultispinTerm):
        return multispin_expression(model, t)
    if isinstance(t, TransferMatrixTerm):
        return -sp.log(transfer_trace(model, t))
    raise TypeError(f"unknown term {t!r}")  # pragma: no cover


def enumerated_exponents(model, t: EnumeratedTerm) -> tuple[sp.Expr, ...]:
    """The exponents ``-e(c)`` of an :class:`EnumeratedTerm`, one sympy expression per configuration.

    Expanding costs far more than the numeric code (which evaluates the structure with
    arrays); it is for printing and for symbolic checks of small layers.
    """
    import dataclasses

    from symrg.model.terms import Layer

    lay = Layer(t.layer, t.size, t.kind)
    if t.layer not in model.layer_names:  # the summed layer's unit symbols, for the absorbed terms
        model = dataclasses.replace(model, layers=tuple(model.layers) + (lay,))
    x = lay.states
    part = sp.S.Zero
    if t.theta is not None:
        part -= (explicit_block(model, t.theta).T * x)[0, 0]
    if t.quadratic is not None:
        part += (x.T * explicit_block(model, t.quadratic) * x)[0, 0] / 2
    for m, w in t.weights:
        part -= (model.layer(m).states.T * explicit_block(model, w) * x)[0, 0]
    for a in t.absorbed:
        part += term_expression(model, a, True)
    return tuple(
        sp.expand(-part.xreplace(dict(zip(x, cfg))), power_exp=False, log=False) for cfg in t.configurations()
    )


def multispin_expression(model, t: MultispinTerm) -> sp.Expr:
    """``- sum_k c_k prod x`` of a :class:`MultispinTerm`, products grouped by coefficient.

    Always scalar (the term exists in explicit mode only); refused above
    ``MAX_EXPLICIT_ENTRIES`` products.
    """
    if len(t.monomials) > MAX_EXPLICIT_ENTRIES:
        raise ModelError(
            f"refusing to expand the {len(t.monomials)} multi-unit products of layer {t.layer!r} "
            f"(limit {MAX_EXPLICIT_ENTRIES}); use the numeric callable instead"
        )
    x = model.layer(t.layer).states if t.layer in model.layer_names else Layer(t.layer, t.size, t.kind).states
    groups: dict = {}
    for units, c in t.monomials:
        groups.setdefault(c, []).append(sp.Mul(*[x[i] for i in units]))
    return -sp.Add(*[c * sp.Add(*prods) for c, prods in groups.items()])


class TraceOfProduct(sp.Trace):
    """``tr(A_1 A_2 ... A_n)`` of explicit matrices, the product left unevaluated.

    Numeric evaluation (``evalf``, ``float``, ``sympy.N``) multiplies the matrices after
    evaluating each one, so it stays linear in ``n``; multiplying out symbolic matrices
    (``.doit()``) is left to the caller.

    >>> a = sp.Symbol("a")
    >>> t = TraceOfProduct(sp.MatMul(*[sp.ImmutableMatrix([[sp.exp(a), 1], [1, sp.exp(-a)]])] * 2, evaluate=False))
    >>> float(t.xreplace({a: sp.Rational(1, 2)})) == float(2 * sp.cosh(1) + 2)
    True
    """

    def _eval_evalf(self, prec):
        if self.free_symbols:
            return None  # a partial numeric form would expand the product
        from mpmath.libmp import prec_to_dps

        dps = prec_to_dps(prec) + 5
        mats = self.arg.args if isinstance(self.arg, sp.MatMul) else (self.arg,)
        out = sp.ImmutableMatrix(sp.eye(self.arg.rows))
        for m in mats:
            out = (out * sp.ImmutableMatrix(m).evalf(dps)).evalf(dps)
        return out.trace().evalf(prec_to_dps(prec))


def transfer_trace(model, t: TransferMatrixTerm) -> sp.Expr:
    """``tr(T_0 T_1 ... T_{n-1})`` of a :class:`TransferMatrixTerm`, the product left unevaluated.

    Each ``T_k`` is an explicit ``k x k`` matrix (``k`` values per unit) of exponentials;
    ``.doit()`` multiplies them out (symbolically this grows with the number of units;
    the numeric code multiplies numbers).
    """
    eta = _explicit_argument(model, t)
    q = explicit_block(model, t.quadratic)
    vals = [sp.sympify(v) for v in t.kind.values]
    bond = {i: (q[i, j] + q[j, i]) / 2 for i, j in t.bonds()}
    mats = [
        sp.ImmutableMatrix([[sp.exp(eta[i] * a - q[i, i] * a**2 / 2 - bond.get(i, 0) * a * b) for b in vals] for a in vals])
        for i in (int(i) for i in t.order)
    ]
    return TraceOfProduct(sp.MatMul(*mats, evaluate=False) if len(mats) > 1 else mats[0])


def _explicit_argument(model, t) -> list[sp.Expr]:
    eta = sp.zeros(t.size, 1) if t.theta is None else sp.Matrix(explicit_block(model, t.theta))
    for m, w in t.weights:
        eta += explicit_block(model, w).T * model.layer(m).states
    return [sp.expand(e) for e in eta]


def _gaussian_quadratic(model, t, scalar: bool) -> sp.Expr:
    """``-1/2 eta^T S eta`` of a Gaussian term."""
    if scalar:
        eta = sp.Matrix(_explicit_argument(model, t))
        return -_bilinear(eta, explicit_block(model, t.covariance), eta) / 2
    eta = t.argument()
    p = scaled_identity_factor(t.covariance)
    if p is not None:
        return -p * MatScalar(sp.MatMul(_transpose(eta), eta)) / 2
    return -MatScalar(sp.MatMul(_transpose(eta), t.covariance, eta)) / 2


def energy_expression(model) -> sp.Expr:
    """The energy as one sympy expression (a sum of :func:`energy_pieces`).

    Explicit models are expanded into scalar entries (refused above
    ``MAX_EXPLICIT_ENTRIES`` terms); abstract ones stay in matrix form.
    """
    return sp.Add(*energy_pieces(model, scalar=model.explicit))
