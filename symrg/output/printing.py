"""Expressions and LaTeX of energy models.

The energy of a model is assembled piece by piece in structural order (fields,
self-energies, couplings, non-polynomial terms, constant), so the printed formula reads
like a hand-written one: ``-a^T v - 1/2 (b + U c + W^T v)^T C (b + U c + W^T v) ...``.
A printer subclass (never a global setting) prints ``I`` for the identity and
``\\det`` for determinants, and every layer and parameter as its LaTeX symbol
(:func:`model_symbols`: the user's, or derived from the name, ``h1`` -> ``h^{(1)}``,
``W_vh1`` -> ``W^{(v,h^{(1)})}``; docs/conventions.md, "Symbols in LaTeX").  Text forms
write the names themselves (``h1_2``, ``W_vh1_{12}``), which the parsers read back.

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

from typing import Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from symrg.model.expressions import energy_pieces
from symrg.model.naming import _top_level, entry_latex, entry_subscript, latex_name, model_symbols, symbol_latex

__all__ = ["latex", "text", "model_latex", "energy_latex", "energy_text", "index_latex", "couplings_latex", "printed_terms",
           "model_symbols"]


def _signed_join(parts: list[str]) -> str:
    """Join printed terms with `` + ``, turning a leading minus into `` - ``."""
    out = ""
    for s in parts:
        if not out:
            out = s
        elif s.startswith("-"):
            out += " - " + s[1:].lstrip()
        else:
            out += " + " + s
    return out


def _ordered_sum(printer, expr, paren) -> str:
    """A matrix sum in the order the derivation built it (b + U c + W^T v), negative terms last."""
    terms = sorted(expr.args, key=lambda t: bool(isinstance(t, sp.MatMul) and t.as_coeff_mmul()[0].is_negative))
    return _signed_join([paren(printer._print(t)) if isinstance(t, sp.MatAdd) else printer._print(t) for t in terms])


def _entry_index(expr) -> str:
    """1-based indices of a matrix entry, as in the parameters' names (``C_{12}``, ``C_{1,12}``)."""
    return entry_subscript((expr.i, expr.j), expr.parent.shape)


def _braced_for_superscript(s: str) -> str:
    """``s`` ready for a superscript: braced when it already carries one (``{W^{(v,h)}}^{T}``)."""
    depth = 0
    for k, ch in enumerate(s):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and ch == "^" and (k == 0 or s[k - 1] != "\\"):
            return "{" + s + "}"
    return s


class _Latex(LatexPrinter):
    """symrg's LaTeX: the setting ``names`` maps layer and parameter names to their
    symbols (:func:`model_symbols`); units and entries print with them
    (:func:`symrg.model.naming.symbol_latex`)."""

    _default_settings = {**LatexPrinter._default_settings, "names": None}

    def _print_Symbol(self, expr, style="plain"):
        tex = symbol_latex(expr.name, self._settings["names"])
        return tex if tex is not None else super()._print_Symbol(expr, style)

    def _print_MatrixSymbol(self, expr):
        names = self._settings["names"] or {}
        if expr.name in names:
            return names[expr.name]
        if not expr.name.isalpha():  # h1, W_vh1, C_2: their default symbols
            return latex_name(expr.name)
        return super()._print_MatrixSymbol(expr)

    def _print_MatrixElement(self, expr):
        if not isinstance(expr.parent, sp.MatrixSymbol):
            return super()._print_MatrixElement(expr)
        name, (rows, cols) = expr.parent.name, expr.parent.shape
        # 1-based like the entry names: a column's entries read a_3, a matrix's W_{12} (W_{1,12} when wide)
        indices = (expr.i + 1,) if cols == 1 else (expr.i + 1, expr.j + 1)
        comma = len(indices) > 1 and ("," in entry_subscript((expr.i, expr.j), (rows, cols))
                                      or not all(isinstance(i, sp.Integer) for i in indices))
        return entry_latex(self._print(expr.parent), [self._print(i) for i in indices], comma or any(ch.isdigit() for ch in name))

    def _print_Transpose(self, expr):
        if isinstance(expr.arg, sp.MatrixSymbol):
            return _braced_for_superscript(self._print(expr.arg)) + "^{T}"
        return super()._print_Transpose(expr)

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
        return (_braced_for_superscript(s) if isinstance(arg, sp.MatrixSymbol) else s) + "^{-1}"


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
    r"""LaTeX of a sympy object with symrg's conventions (``I``, ``\det``, symbols of
    layers and parameters; ``names=model_symbols(model)`` gives a model's own).

    >>> latex(sp.Symbol("b_h1_2") * sp.Symbol("h1_2")), latex(sp.MatrixSymbol("W_vh1", 3, 2).T)
    ('b^{(h^{(1)})}_{2} h^{(1)}_{2}', '{W^{(v,h^{(1)})}}^{T}')
    """
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
    return _signed_join([show(p) for p in pieces if p != 0]) or "0"


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


def _reduce_powers(model, piece: sp.Expr) -> sp.Expr:
    """A scalar piece with the powers of discrete units reduced on their support
    (``v^2 = v``, ``s^2 = 1``), when it is a polynomial in them (printing only)."""
    if not model.explicit:
        return piece
    for lay in model.layers:
        if not lay.kind.is_discrete:
            continue
        units = [u for u in lay.states if piece.has(u)]
        if units and any(piece.has(u**k) for u in units for k in range(2, 4)) and piece.is_polynomial(*units):
            piece = lay.kind.reduce_powers(piece, units)
    return piece


def model_latex(model, lhs: str | None = None) -> str:
    """``lhs = energy`` in LaTeX, then the named intermediates and the conditions."""
    names = model_symbols(model)
    if lhs is None:
        lhs = "H\\left(" + ", ".join(names[n] for n in model.layer_names) + "\\right)"
    pieces = [_reduce_powers(model, p) for p in
              energy_pieces(model, scalar=model.explicit and printed_terms(model) <= SCALAR_PRINT_LIMIT)]
    show = _names_latex(names)
    body = f"{lhs} = {_join(pieces, show)}"
    extra = [f"{show(i.symbol)} = {show(i.definition)}" for i in model.intermediates]
    if extra:
        body += r", \quad \text{where } " + r", \; ".join(extra)
    if model.conditions:
        body += r", \quad \text{valid when } " + r", \; ".join(show(c.matrix) + r" \succ 0" for c in model.conditions)
    return body


def _names_latex(names: Mapping[str, str]):
    """:func:`latex` with the symbols ``names``."""
    def show(expr, **settings) -> str:
        return latex(expr, names=names, **settings)
    return show


def energy_latex(model) -> str:
    """LaTeX of the energy alone, its pieces in structural order (powers of discrete units reduced)."""
    return _join([_reduce_powers(model, p) for p in energy_pieces(model)], _names_latex(model_symbols(model)))


def energy_text(model) -> str:
    """Plain text of the energy alone, its pieces in structural order (powers of discrete
    units reduced, ``v_1**2 = v_1``), units and entries by their names."""
    return _join([_reduce_powers(model, p) for p in energy_pieces(model)], text)


# --------------------------------------------------------------------------------------
# index notation
# --------------------------------------------------------------------------------------

_FRESH = "klmnpqrstuv"


def _sum_prefix(indices: list[tuple[str, object]]) -> str:
    """``\\sum_{k,l=1}^{6}`` for summed indices, grouping neighbours with one range."""
    out = ""
    group: list[str] = []
    for k, (name, size) in enumerate(indices):
        group.append(name)
        if k + 1 == len(indices) or indices[k + 1][1] != size:
            out += rf"\sum_{{{','.join(group)}=1}}^{{{latex(size)}}} "
            group = []
    return out


def index_latex(expr, row: str | None = "i", col: str | None = None, _fresh: list[str] | None = None,
                names: Mapping[str, str] | None = None) -> str:
    """LaTeX of the entry ``(row, col)`` of a matrix expression in index notation.

    A product sums over its inner indices (``W C W^T`` at ``(i, j)`` is
    ``\\sum_{k,l=1}^{n} W_{ik} C_{kl} W_{jl}``); a dimension 1 carries no index.  Named
    intermediates stay one symbol (``C_{kl}``), so the size of the result does not grow
    with the layer sizes.  ``names`` maps matrix names to their LaTeX symbols.

    Examples
    --------
    >>> W, C = sp.MatrixSymbol("W", 8, 6), sp.MatrixSymbol("C", 6, 6)
    >>> index_latex(W * C * W.T, "i", "j")
    '\\\\sum_{k,l=1}^{6} W_{ik} C_{kl} W_{jl}'
    """
    fresh = _fresh if _fresh is not None else [c for c in _FRESH if c not in (row, col)]
    rows, cols = expr.shape
    row = row if rows != 1 else None
    col = col if cols != 1 else None
    if isinstance(expr, sp.MatrixSymbol):
        sub = "".join(i for i in (row, col) if i is not None)
        base = names[expr.name] if names and expr.name in names else latex(expr)
        if sub and _top_level(base, "_"):  # a symbol with a subscript of its own: {h_{a}}_{i}
            base = "{" + base + "}"
        return base + (f"_{{{sub}}}" if sub else "")
    if isinstance(expr, sp.Transpose):
        return index_latex(expr.arg, col, row, fresh, names)
    if isinstance(expr, sp.Identity):
        return rf"\delta_{{{row}{col}}}"
    if isinstance(expr, sp.MatAdd):
        # single symbols first, then products, negative terms last (b + U c, as written by hand)
        args = sorted(expr.args, key=lambda t: (isinstance(t, sp.MatMul) and t.as_coeff_mmul()[0].is_negative,
                                                 isinstance(t, sp.MatMul)))
        return _signed_join([index_latex(a, row, col, fresh, names) for a in args])
    if isinstance(expr, sp.MatMul):
        coeff, mats = expr.as_coeff_matrices()
        chain: list[str | None] = [row]
        summed: list[tuple[str, object]] = []
        for m in mats[:-1]:
            size = m.shape[1]
            if size == 1:
                chain.append(None)
            else:
                name = fresh.pop(0)
                chain.append(name)
                summed.append((name, size))
        chain.append(col)
        factors = []
        for m, (a, b) in zip(mats, zip(chain, chain[1:])):
            s = index_latex(m, a, b, fresh, names)
            factors.append(r"\left(" + s + r"\right)" if isinstance(m, sp.MatAdd) else s)
        body = _sum_prefix(summed) + " ".join(factors)
        if coeff == 1:
            return body
        if coeff == -1:
            return "- " + body
        return latex(coeff) + " " + body
    return latex(expr, names=names)


def couplings_latex(model, latex_names: Mapping[str, str] | None = None) -> str:
    r"""The fields and pair couplings of a polynomial energy in index notation, over the
    named intermediates, each intermediate defined once.

    The energy (Gaussian terms folded) is written ``E_0 - sum_i h_i x_i - sum_{i<j}
    J_ij x_i x_j`` per layer (superscripts name the layers when there are several; the
    fields are ``theta`` when a layer's name starts with ``h``);
    squares of two-valued units are reduced on their support (``v^2 = v`` moves
    ``-Q_ii / 2`` into the field, ``s^2 = 1`` into ``E_0``, which is not shown).

    Layers and parameters print as their symbols (:func:`model_symbols`: the model's
    own, else derived from their names, ``h1`` -> ``h^{(1)}``, ``W_vh1`` ->
    ``W^{(v,h^{(1)})}``); ``latex_names`` overrides any of them here
    (``{"h2": r"\mathbf{h}", "W_h1h2": "K"}``).

    Examples
    --------
    >>> from symrg.model.energy import seed_dbm
    >>> from symrg.engine.marginalization import marginalize
    >>> tex = couplings_latex(marginalize(seed_dbm(8, 6, 4), "s", "h"))
    >>> print(tex.replace(r", \quad ", ",\n"))
    H\left(v\right) = E_{0} - \sum_{i=1}^{8} h_{i} v_{i} - \sum_{1 \le i < j \le 8} J_{ij} v_{i} v_{j},
    h_{i} = a_{i} + \sum_{k,l=1}^{6} W_{ik} C_{kl} \left(b_{l} + \sum_{m=1}^{4} U_{lm} c_{m}\right) + \frac{1}{2} \sum_{k,l=1}^{6} W_{ik} C_{kl} W_{il},
    J_{ij} = \sum_{k,l=1}^{6} W_{ik} C_{kl} W_{jl},
    C = \left(I - U U^{T}\right)^{-1}
    """
    from symrg.engine.marginalization import fold_all

    flat = fold_all(model)
    if flat.terms:
        from symrg.errors import ModelError

        raise ModelError("couplings_latex needs a polynomial energy (Gaussian layers only integrated out)")
    every = list(model.layer_names) + [lay.name for lay in flat.layers]
    names = model_symbols(flat, latex_names)
    names.update(model_symbols(model, latex_names))
    several = len(flat.layers) > 1
    h = r"\theta" if any(n.startswith("h") for n in every) else "h"  # fields never read as a layer h
    energy: list[str] = ["E_{0}"]
    defs: list[str] = []
    for lay in flat.layers:
        x = names[lay.name]
        tag = f"^{{({x})}}" if several else ""
        n = latex(lay.size)
        bias, q = flat.biases.get(lay.name), flat.quadratic.get(lay.name)
        field = [index_latex(bias, "i", None, names=names)] if bias is not None else []
        reduction = lay.kind.square_reduction() if lay.kind.is_discrete else None
        if q is not None and reduction is not None and reduction[0] != 0:
            # x^2 = s x + p: the energy's Q_ii x_i^2 / 2 gives s Q_ii / 2 to -h_i
            field.append(index_latex(sp.MatMul(-sp.sympify(reduction[0]) / 2, q).doit(), "i", "i", names=names))
        if field:
            energy.append(rf"\sum_{{i=1}}^{{{n}}} {h}{tag}_{{i}} {x}_{{i}}")
            defs.append(rf"{h}{tag}_{{i}} = " + _signed_join(field))
        if q is not None and lay.size != 1:  # one unit has no pairs
            energy.append(rf"\sum_{{1 \le i < j \le {n}}} J{tag}_{{ij}} {x}_{{i}} {x}_{{j}}")
            defs.append(rf"J{tag}_{{ij}} = " + index_latex(-q, "i", "j", names=names))
    for (a, b), w in flat.couplings.items():
        xa, xb = names[a], names[b]
        na, nb = latex(flat.layer(a).size), latex(flat.layer(b).size)
        energy.append(rf"\sum_{{i=1}}^{{{na}}} \sum_{{j=1}}^{{{nb}}} J^{{({xa},{xb})}}_{{ij}} {xa}_{{i}} {xb}_{{j}}")
        defs.append(rf"J^{{({xa},{xb})}}_{{ij}} = " + index_latex(w, "i", "j", names=names))
    lhs = "H\\left(" + ", ".join(names[n] for n in flat.layer_names) + "\\right)"
    defs += [f"{names[i.symbol.name]} = {latex(i.definition, names=names)}" for i in flat.intermediates]
    return f"{lhs} = " + " - ".join(energy) + "".join(r", \quad " + d for d in defs)
