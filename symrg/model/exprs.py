"""Small sympy building blocks shared by the engine and the printers.

* :class:`MatScalar` views a 1x1 matrix expression (``a^T v``) as a scalar, so that
  abstract-mode energies can mix matrix forms with ordinary scalars.
* :class:`SumLogPartition` is ``sum_j A(eta_j)`` over the entries of a vector
  expression, the abstract-mode form of a summed-out discrete layer.
* :func:`is_zero_matrix` tells structurally zero blocks apart.

Examples
--------
>>> import sympy as sp
>>> n = sp.Symbol("n")
>>> a, v = sp.MatrixSymbol("a", n, 1), sp.MatrixSymbol("v", n, 1)
>>> MatScalar(a.T * v)  # prints as the matrix expression it wraps
a.T*v
>>> type(MatScalar(a.T * v)).__name__
'MatScalar'
>>> MatScalar(sp.Matrix([[3]]))
3
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.model.units import kind_for_label

__all__ = ["MatScalar", "SumLogPartition", "is_zero_matrix", "explicit_entries", "scaled_identity_factor"]


class MatScalar(sp.Function):
    """A 1x1 matrix expression used as a scalar (prints as the matrix expression)."""

    nargs = 1
    is_real = True

    @classmethod
    def eval(cls, m):  # noqa: D102 - sympy hook
        if isinstance(m, sp.MatrixBase):
            if m.shape != (1, 1):
                raise ValueError(f"MatScalar needs a 1x1 matrix, got shape {m.shape}")
            return m[0, 0]
        if isinstance(m, MatrixExpr) and m.shape != (1, 1):
            raise ValueError(f"MatScalar needs a 1x1 matrix expression, got shape {m.shape}")
        return None

    def doit(self, **hints):
        arg = self.args[0].doit(**hints) if hints.get("deep", True) else self.args[0]
        try:
            explicit = arg.as_explicit() if isinstance(arg, MatrixExpr) else arg
        except (ValueError, TypeError):
            return MatScalar(arg)
        return MatScalar(explicit)

    def _latex(self, printer, exp=None):
        s = printer._print(self.args[0])
        if exp is not None:
            return rf"\left({s}\right)^{{{exp}}}"
        return s

    def _sympystr(self, printer):
        return printer._print(self.args[0])


class SumLogPartition(sp.Function):
    """``sum_j A(eta_j)`` for the entries ``eta_j`` of a column-vector expression.

    Arguments: the vector expression and a :class:`sympy.Symbol` naming the kind (its
    ``partition_label``: ``softplus``, ``logcosh``, ``A``, or a user kind's label), which
    selects the printed form.
    """

    nargs = 2
    is_real = True

    def _latex(self, printer, exp=None):
        vec, kind = self.args
        inner = printer._print(vec)
        if not isinstance(vec, (sp.MatrixSymbol,)):
            inner = rf"\left({inner}\right)"
        entry = rf"{inner}_{{j}}"
        n = printer._print(vec.shape[0])
        known = kind_for_label(str(kind))  # the kind registered under this label prints its own A
        body = known.log_partition_latex(entry) if known is not None else rf"A\left({entry}\right)"
        s = rf"\sum_{{j=1}}^{{{n}}} {body}"
        return rf"\left({s}\right)^{{{exp}}}" if exp is not None else s

    def _sympystr(self, printer):
        vec, kind = self.args
        return f"sum_j {kind}(({printer._print(vec)})_j)"


def is_zero_matrix(m) -> bool:
    """True when ``m`` is structurally zero (``None``, ZeroMatrix, or all-zero explicit)."""
    if m is None:
        return True
    if isinstance(m, sp.ZeroMatrix):
        return True
    if isinstance(m, sp.MatrixBase):
        return all(e == 0 for e in m)
    return False


def explicit_entries(m) -> sp.ImmutableMatrix:
    """The explicit entries of a matrix or matrix expression of integer shape."""
    if isinstance(m, sp.MatrixBase):
        return sp.ImmutableMatrix(m)
    return sp.ImmutableMatrix(m.as_explicit())


def scaled_identity_factor(q) -> sp.Expr | None:
    """``p`` when ``q`` is structurally ``p * I``, else ``None``.

    >>> import sympy as sp
    >>> scaled_identity_factor(3 * sp.Identity(2))
    3
    """
    if isinstance(q, sp.Identity):
        return sp.S.One
    if (
        isinstance(q, sp.MatMul)
        and len(q.args) == 2
        and isinstance(q.args[1], sp.Identity)
        and not isinstance(q.args[0], MatrixExpr)
    ):
        return q.args[0]
    return None
