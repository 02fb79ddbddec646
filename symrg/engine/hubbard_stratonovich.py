"""Hubbard-Stratonovich layers: an Ising model as the spin marginal of a Gaussian-spin machine.

For a symmetric coupling matrix ``J`` (zero diagonal) and a shift ``c`` making
``M = J + c I`` positive definite (for spins ``s_i^2 = 1`` the shift only adds ``c n / 2``)::

    exp(1/2 s^T J s) = exp(-c n / 2) [(2 pi)^n det M]^(-1/2) ∫ dphi exp(-1/2 phi^T M^{-1} phi + phi^T s).

So the Ising model ``H(s) = -1/2 s^T J s - f^T s`` is the ``s``-marginal of the machine

    E(phi, s) = 1/2 phi^T M^{-1} phi - phi^T s - f^T s + 1/2 log det(2 pi M) + c n / 2

(a Gaussian layer ``phi`` of precision ``M^{-1}``, unit weights to the spins), constant
included so that the partition function is the Ising one.  Summing the spins instead gives
the field theory ``E(phi) = 1/2 phi^T M^{-1} phi - sum_i log 2cosh(phi_i + f_i) + const``,
whose local potential expands in the spin cumulants (docs/marginalization.md)::

    -log 2cosh(phi + f) = -log 2cosh f - sum_n kappa_n(f) phi^n / n!.

Examples
--------
>>> import sympy as sp
>>> coefficients = potential_coefficients(6)
>>> coefficients[4], coefficients[6]
(1/12, -1/45)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from symrg.engine.cumulants import check_order, cumulants
from symrg.engine.marginalization import marginalize
from symrg.errors import ModelError
from symrg.model.energy import EnergyModel, energy_model

__all__ = ["HubbardStratonovich", "hubbard_stratonovich", "explicit_energy", "potential_coefficients"]


@dataclass(frozen=True)
class HubbardStratonovich:
    """The Ising model, its Gaussian-spin machine and the shift used.

    Attributes
    ----------
    ising : EnergyModel
        ``H(s) = -1/2 s^T J s - f^T s`` (spin layer ``s``, couplings in its self block).
    machine : EnergyModel
        ``E(phi, s)``: Gaussian layer ``phi`` (precision ``(J + c I)^{-1}``) and spin layer ``s``.
    shift : sympy expression
        ``c``.
    """

    ising: EnergyModel
    machine: EnergyModel
    shift: sp.Expr

    def spin_marginal(self) -> EnergyModel:
        """The machine with ``phi`` integrated out by the engine (equals :attr:`ising` on ``s_i = ±1``)."""
        return marginalize(self.machine, "phi")

    def field_theory(self) -> EnergyModel:
        """The machine with the spins summed out by the engine: ``E(phi)`` with its log 2cosh potential."""
        return marginalize(self.machine, "s")


def _default_shift(J: sp.ImmutableMatrix) -> sp.Expr:
    """``1 - lambda_min(J)`` rounded up to an integer, for a numeric ``J``."""
    if J.free_symbols:
        raise ModelError("a symbolic coupling matrix J needs an explicit shift c making J + c I positive definite")
    lam = float(np.linalg.eigvalsh(np.array(J.tolist(), dtype=float)).min())
    return sp.Integer(int(np.ceil(1.0 - lam)))


def hubbard_stratonovich(J: object, fields: object = None, shift: object = None) -> HubbardStratonovich:
    """The Gaussian-spin machine whose spin marginal is the Ising model of couplings ``J``.

    Parameters
    ----------
    J : symmetric matrix with zero diagonal (numbers or sympy expressions)
    fields : column of fields ``f`` (default: none)
    shift : ``c`` with ``J + c I`` positive definite; default for a numeric ``J`` is
        ``ceil(1 - lambda_min(J))``.  A numeric ``J + c I`` that is not positive definite is
        refused; a symbolic one is recorded as a condition of the machine.

    >>> hs = hubbard_stratonovich([[0, 1], [1, 0]])
    >>> hs.shift
    2
    >>> explicit_energy(hs.spin_marginal(), spins=("s",))
    -s_1*s_2
    """
    Jm = sp.ImmutableMatrix(J)
    if Jm.rows != Jm.cols or Jm != Jm.T:
        raise ModelError(f"the coupling matrix J must be symmetric and square, got shape {Jm.shape}")
    if any(Jm[i, i] != 0 for i in range(Jm.rows)):
        raise ModelError("the coupling matrix J must have a zero diagonal (for spins s_i^2 = 1 it is a constant)")
    n = Jm.rows
    c = _default_shift(Jm) if shift is None else sp.sympify(shift)
    M = sp.ImmutableMatrix(Jm + c * sp.eye(n))
    if not M.free_symbols and not M.is_positive_definite:
        raise ModelError(f"J + c I with c = {c} is not positive definite; give a larger shift")
    bias: object = 0 if fields is None else sp.ImmutableMatrix(fields).reshape(n, 1)
    ising = energy_model([("s", n, "spin")], (), biases={"s": bias}).with_(quadratic={"s": -Jm})
    precision = sp.ImmutableMatrix(sp.simplify(M.inv()))
    # the constant that makes the phi integral reproduce exp(-H(s)) exactly (Z preserved)
    const = sp.log(sp.factor(M.det())) / 2 + n * sp.log(2 * sp.pi) / 2 + c * n / 2
    machine = energy_model(
        [("phi", n, "gaussian"), ("s", n, "spin")],
        {("phi", "s"): sp.eye(n)},
        biases={"phi": 0, "s": bias},
        precisions={"phi": precision},
        constant=const,
    )
    return HubbardStratonovich(ising, machine, c)


def explicit_energy(model: EnergyModel, spins: tuple[str, ...] = ()) -> sp.Expr:
    """The energy of an explicit model with every parameter and intermediate replaced by its matrix.

    The spins of the layers ``spins`` are reduced with ``s^2 = 1``; the result is simplified.

    >>> m = energy_model([("x", 1, "gaussian")], (), biases={"x": [[2]]}, precisions={"x": [[4]]})
    >>> explicit_energy(marginalize(m, "x"))
    -log(pi)/2 - 1/2 + log(2)/2
    """
    subs: dict = {}
    for p in model.params.values():
        if p.value is not None:
            subs[p.symbol] = p.value
    for it in model.intermediates:
        subs[it.symbol] = sp.ImmutableMatrix(sp.ImmutableMatrix(it.inverse_of.subs(subs).doit()).inv())
    e = model.energy.subs(subs).doit()
    e = sp.expand(e)
    units = [sp.Symbol(f"{name}_{i + 1}", real=True) for name in spins for i in range(int(model.layer(name).size))]
    unit_set = set(units)
    e = e.replace(lambda x: x.is_Pow and x.base in unit_set and x.exp.is_Integer and x.exp >= 2,
                  lambda x: x.base ** (int(x.exp) % 2))
    return sp.simplify(sp.expand_log(sp.expand(e), force=True))


def potential_coefficients(order: int, field: sp.Expr = sp.S.Zero) -> dict[int, sp.Expr]:
    """Coefficients ``u_n`` of ``-log 2cosh(phi + f) = sum_n u_n phi^n`` for ``n = 0 .. order``.

    ``u_0 = -log 2cosh f`` and ``u_n = -kappa_n(f) / n!`` from the spin cumulants of
    :func:`symrg.engine.cumulants.cumulants` (prior ``∝ exp(f s)``).  At ``f = 0``:
    ``u_2 = -1/2``, ``u_4 = 1/12``, ``u_6 = -1/45``; the quartic coupling of the field
    theory ``E(phi)`` is ``u_4 = +1/12`` per site.

    >>> f = sp.Symbol("f")
    >>> potential_coefficients(2, f)[2]
    -1/(2*cosh(f)**2)
    """
    order = check_order(order)
    f = sp.sympify(field)
    kappas = cumulants("spin", order, f) if order else ()
    out = {0: -sp.log(2 * sp.cosh(f))}
    for n, k in enumerate(kappas, start=1):
        out[n] = sp.simplify(-k / sp.factorial(n))
    return out
