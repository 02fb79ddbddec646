"""Expressions and LaTeX of energy models.

The energy of a model is assembled piece by piece in structural order (fields,
self-energies, couplings, non-polynomial terms, constant), so the printed formula reads
like a hand-written one: ``-a^T v - 1/2 (b + U c + W^T v)^T C (b + U c + W^T v) ...``.
A printer subclass (never a global setting) prints ``I`` for the identity and
``\\det`` for determinants.

Examples
--------
>>> from symrg.model.energy import seed_dbm
>>> from symrg.engine.marginalization import marginalize
>>> print(marginalize(seed_dbm(), "s", "h").latex())
H\\left(v\\right) = - a^{T} v - \\frac{\\left(b + U c + W^{T} v\\right)^{T} C \\left(b + U c + W^{T} v\\right)}{2}
  - \\frac{c^{T} c}{2} - \\frac{n_{h} + n_{s}}{2} \\log{\\left(2 \\pi \\right)}
  + \\frac{\\log{\\left(\\det\\left(I - U U^{T}\\right) \\right)}}{2}, \\quad \\text{where } C = \\left(I - U U^{T}\\right)^{-1},
  \\quad \\text{valid when } I - U U^{T} \\succ 0
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from symrg.model.expressions import energy_pieces
from symrg.model.naming import entry_subscript

__all__ = ["latex", "text", "model_latex", "energy_latex", "energy_text"]


def _ordered_sum(printer, expr, paren) -> str:
    """A matrix sum in the order the derivation built it (b + U c + W^T v), negative terms last."""
    terms = sorted(expr.args, key=lambda t: bool(isinstance(t, sp.MatMul) and t.as_coeff_mmul()[0].is_negative))
    out = ""
    for t in terms:
        s = printer._print(t)
        if isinstance(t, sp.MatAdd):
            s = paren(s)
        if not out:
            out = s
        elif s.startswith("-"):
            out += " - " + s[1:].lstrip()
        else:
            out += " + " + s
    return out


def _entry_index(expr) -> str:
    """1-based indices of a matrix entry, as in the parameters' names (``C_{12}``, ``C_{1,12}``)."""
    return entry_subscript((expr.i, expr.j), expr.parent.shape)


class _Latex(LatexPrinter):
    def _print_MatrixElement(self, expr):
        if isinstance(expr.parent, sp.MatrixSymbol):
            return f"{self._print(expr.parent)}_{{{_entry_index(expr)}}}"
        return super()._print_MatrixElement(expr)

    def _print_MatAdd(self, expr):
        return _ordered_sum(self, expr, lambda s: r"\left(" + s + r"\right)")

    def _print_Identity(self, expr):
        return "I"

    def _print(self, expr, **kwargs):
        # Euler's number upright (sympy's E prints itself as a bare e, which reads back
        # as a name in symrg.verify.latex_reader)
        if expr is sp.E:
            return r"\mathrm{e}"
        return super()._print(expr, **kwargs)

    def _print_Determinant(self, expr):
        return r"\det\left(" + self._print(expr.arg) + r"\right)"

    def _print_Inverse(self, expr):
        arg = expr.arg
        s = self._print(arg)
        if not isinstance(arg, sp.MatrixSymbol):
            s = r"\left(" + s + r"\right)"
        return s + "^{-1}"


class _Str(StrPrinter):
    def _print_MatrixElement(self, expr):
        if isinstance(expr.parent, sp.MatrixSymbol):
            return f"{expr.parent.name}_{{{_entry_index(expr)}}}"
        return super()._print_MatrixElement(expr)

    def _print_MatAdd(self, expr):
        return _ordered_sum(self, expr, lambda s: "(" + s + ")")

    def _print_Determinant(self, expr):
        return f"det({self._print(expr.arg)})"


def latex(expr, **settings) -> str:
    """LaTeX of a sympy object with symrg's conventions (``I``, ``\\det``)."""
    if hasattr(expr, "latex") and not isinstance(expr, sp.Basic):
        return expr.latex()
    return _Latex(settings).doprint(expr)


def text(expr) -> str:
    """Plain-text form of a sympy object."""
    return _Str().doprint(expr)


# --------------------------------------------------------------------------------------
# LaTeX of models
# --------------------------------------------------------------------------------------


def _join(pieces: list[sp.Expr], show=None) -> str:
    show = show or latex
    out = ""
    for p in pieces:
        if p == 0:
            continue
        s = show(p)
        if out and not s.startswith("-"):
            out += " + " + s
        elif out:
            out += " - " + s[1:].lstrip()
        else:
            out = s
    return out or "0"


#: an explicit model prints its scalar entries only below this many expanded terms
#: (:func:`printed_terms`); above, it prints the blocks with the named intermediates
#: defined once, so that the seed DBM 8-6-4 prints in a few hundred characters
#: instead of 241,309
SCALAR_PRINT_LIMIT = 400


def printed_terms(model) -> int:
    """Estimated number of monomials the scalar entries of ``model``'s energy would print.

    The expansion cost of the blocks, plus, per integrated Gaussian layer of size ``n``
    whose argument ``eta`` has ``k`` addends per entry, the ``n^2 k^2`` monomials of
    ``eta^T C eta``.
    """
    from symrg.model.expressions import expansion_cost, model_expansion_cost
    from symrg.model.terms import GaussianTerm

    if not model.explicit:
        return 0
    total = model_expansion_cost(model)
    for t in model.terms:
        if isinstance(t, GaussianTerm):
            theta = 0 if t.theta is None else expansion_cost(t.theta) // max(int(t.size), 1)
            k = theta + sum(int(w.shape[0]) for _, w in t.weights)
            total += int(t.size) ** 2 * k**2
    return total


def model_latex(model, lhs: str | None = None) -> str:
    """``lhs = energy`` in LaTeX, then the named intermediates and the conditions."""
    if lhs is None:
        lhs = "H\\left(" + ", ".join(latex(sp.Symbol(n)) for n in model.layer_names) + "\\right)"
    pieces = energy_pieces(model, scalar=model.explicit and printed_terms(model) <= SCALAR_PRINT_LIMIT)
    body = f"{lhs} = {_join(pieces)}"
    extra = [f"{latex(i.symbol)} = {latex(i.definition)}" for i in model.intermediates]
    if extra:
        body += r", \quad \text{where } " + r", \; ".join(extra)
    if model.conditions:
        body += r", \quad \text{valid when } " + r", \; ".join(c.latex() for c in model.conditions)
    return body


def energy_latex(model) -> str:
    """LaTeX of the energy alone, its pieces in structural order."""
    return _join(energy_pieces(model))


def energy_text(model) -> str:
    """Plain text of the energy alone, its pieces in structural order."""
    return _join(energy_pieces(model), text)
