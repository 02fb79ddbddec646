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
-W_{11}*W_{21}*C[0, 0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sympy as sp

from symrg.engine.marginalization import fold_all
from symrg.model.frozen import freeze
from symrg.model.energy import EnergyModel, ModelError
from symrg.model import services

__all__ = ["canonical_form", "CanonicalForm", "collect_monomials", "reduce_on_support"]


@dataclass(frozen=True)
class CanonicalForm:
    """``E = constant + sum_S couplings[S] * prod_{i in S} x_i`` (multilinear for binary units).

    ``couplings`` maps tuples of unit symbols (in layer order) to coefficients; the
    ``constant`` is the coefficient of the empty product.  Note the sign: these are
    coefficients of the *energy*; the usual couplings ``J_S`` are their negatives.
    """

    variables: tuple[sp.Symbol, ...]
    couplings: Mapping[tuple, sp.Expr]
    constant: sp.Expr

    def __post_init__(self) -> None:
        object.__setattr__(self, "couplings", freeze(self.couplings))

    def text(self) -> str:
        """One line per coefficient, by order: ``order  product  coefficient``."""
        lines = [f"canonical form in {len(self.variables)} units, constant {sp.sstr(self.constant)}:"]
        lines += [f"  {k}  {sp.sstr(prod)}  {sp.sstr(c)}" for k, prod, c in self.table()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

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
        rows = [rf"{k} & {' '.join(services.get('latex')(v) for v in s)} & {services.get('latex')(c)} \\" for s, c in self.couplings.items() for k in [len(s)]]
        return "\\begin{array}{rll}\n\\text{order} & \\text{units} & \\text{coefficient} \\\\\n" + "\n".join(rows) + "\n\\end{array}"

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"


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


def canonical_form(model: EnergyModel) -> CanonicalForm:
    """The canonical multilinear form of a polynomial energy over discrete layers.

    Gaussian terms are folded first.  Continuous layers, if any, keep their powers.

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
    if flat.terms:
        kinds = ", ".join(sorted({type(t).__name__ for t in flat.terms}))
        raise ModelError(
            f"the energy has non-polynomial terms ({kinds}); its exact multi-body couplings come from "
            "symrg.engine.multilinear (Möbius / Walsh transforms), not from power reduction"
        )
    units = [u for lay in flat.layers for u in lay.states]
    couplings, constant = collect_monomials(flat.energy, flat, units)
    return CanonicalForm(tuple(units), couplings, constant)
