"""Kadanoff's variational RG as a Boltzmann machine (Mehta and Schwab, arXiv:1410.3831).

A rule ``T(v, h)`` maps a fine hamiltonian ``H(v)`` to the coarse one by

    exp(-H'(h)) = sum_v exp(T(v, h) - H(v)),

which preserves the partition function for every ``H`` exactly when the *trace condition*
``sum_h exp(T(v, h)) = 1`` holds for every ``v`` (``exp(T)`` is a conditional probability
``p(h | v)``).  The Boltzmann machine with energy ``E(v, h) = -T(v, h) + H(v)`` then has the
marginals ``H(v)`` and ``H'(h)``.  ``Delta F = 0`` alone does not imply the trace condition
(the authors' comment, arXiv:1609.03541), so the condition itself is checked here, as a
function of ``v`` (docs/conventions.md, "Block RG", for the sign conventions).

* :func:`ising_hamiltonian` -- ``H(v) = -1/2 v^T J v - f^T v`` over a spin layer, the
  couplings stored in the layer's self block;
* :func:`trace_defect` -- ``log sum_h exp(T(v, h))`` reduced on the spin support (zero iff
  the rule is exact);
* :func:`decimation_machine` -- decimation ``p(h | v) = prod_j (1 + h_j v_{k_j}) / 2`` as a
  Boltzmann machine whose weights are read off the hamiltonian, and its coarse hamiltonian
  from the marginalization engine;
* :func:`bond_weight`, :func:`bond_machine` -- any Ising hamiltonian as a Boltzmann machine
  with one hidden spin per bond, ``exp(K s s') = c sum_b exp(w b (s + sigma s'))`` with
  ``cosh 2w = exp(2|K|)``; decimation of the chain is this construction read backwards (the
  summed spins are the bond units of the coarse chain, ``w = K``, ``cosh 2K = exp(2K')``);
* :func:`variational_rg` -- any rule ``exp(T(v, h))`` given as an expression: the trace
  defect, ``H'(h)`` and ``Delta F = -log <sum_h exp(T)>_H`` by enumeration of ``v``, which shows
  that ``Delta F = 0`` is one scalar condition where the trace condition is one per ``v``;
* :func:`rule_table_defect`, :func:`machine_log_weights` -- any block rule of
  :mod:`symrg.rg.coarse` (majority with ties, smooth rules) written as the multilinear
  ``exp(T)``, numerically.

Examples
--------
>>> import sympy as sp
>>> K = sp.Symbol("K", positive=True)
>>> vr = decimation_machine(ring_couplings(4, K), kept=(0, 2))
>>> vr.trace_defect
0
>>> vr.machine.energy
-K*h_1*x_1 - K*h_1*x_2 - K*h_2*x_1 - K*h_2*x_2
>>> vr.coarse.energy
-2*log(2*cosh(K*h_1 + K*h_2))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.engine.multilinear import configurations, exact_couplings, mask_to_subset
from symrg.errors import BudgetError, ModelError
from symrg.model import services
from symrg.model.energy import EnergyModel, energy_model
from symrg.model.numerics import logsumexp
from symrg.rg.coarse import CoarseRule, coarse_rule

__all__ = [
    "VariationalRG",
    "RuleRG",
    "bond_weight",
    "bond_machine",
    "variational_rg",
    "ring_couplings",
    "ising_hamiltonian",
    "trace_defect",
    "decimation_machine",
    "rule_multilinear",
    "rule_table_defect",
    "machine_log_weights",
    "enumerate_log_z",
]

#: largest number of hidden units whose configurations :func:`trace_defect` sums symbolically
MAX_SYMBOLIC_HIDDEN = 10
#: largest number of fine spins :func:`variational_rg` enumerates symbolically
MAX_SYMBOLIC_VISIBLE = 10


def ring_couplings(n: int, K: sp.Expr) -> sp.ImmutableMatrix:
    """Nearest-neighbour coupling matrix ``J`` of a periodic ring of ``n >= 3`` spins (``J_{i,i+1} = K``).

    >>> ring_couplings(3, 1)
    Matrix([
    [0, 1, 1],
    [1, 0, 1],
    [1, 1, 0]])
    """
    if not isinstance(n, int) or n < 3:
        raise ModelError(f"a ring needs an integer number of sites n >= 3, got {n!r}")
    J = sp.zeros(n, n)
    for i in range(n):
        J[i, (i + 1) % n] = J[(i + 1) % n, i] = sp.sympify(K)
    return sp.ImmutableMatrix(J)


def _symmetric(J: object, what: str) -> sp.ImmutableMatrix:
    M = sp.ImmutableMatrix(J)
    if M.rows != M.cols or M != M.T:
        raise ModelError(f"{what} must be a symmetric square matrix, got shape {M.shape}")
    return M


def ising_hamiltonian(J: object, fields: object = None, name: str = "v") -> EnergyModel:
    """``H(v) = -1/2 v^T J v - f^T v`` over a spin layer ``name`` (``J`` symmetric, zero diagonal).

    The couplings sit in the layer's self block (``quadratic = -J``), which the
    marginalization engine sums by enumeration.

    >>> ising_hamiltonian([[0, 2], [2, 0]], [1, 0]).energy
    -2*v_1*v_2 - v_1
    """
    Jm = _symmetric(J, "the coupling matrix J")
    if any(Jm[i, i] != 0 for i in range(Jm.rows)):
        raise ModelError("the coupling matrix J of ising_hamiltonian must have a zero diagonal (v_i^2 = 1 is a constant)")
    n = Jm.rows
    bias: object = 0 if fields is None else sp.ImmutableMatrix(fields).reshape(n, 1)
    model = energy_model([(name, n, "spin")], (), biases={name: bias})
    return model.with_(quadratic={name: -Jm})


def _reduce_spins(expr: sp.Expr, units: Sequence[sp.Symbol]) -> sp.Expr:
    """``expr`` expanded with ``x^k -> x^(k mod 2)`` for each spin ``x`` (``x^2 = 1``)."""
    unit_set = set(units)
    out = sp.expand(expr)
    return out.replace(
        lambda e: e.is_Pow and e.base in unit_set and e.exp.is_Integer and e.exp >= 2,
        lambda e: e.base ** (int(e.exp) % 2),
    )


def trace_defect(weight: sp.Expr, visible: Sequence[sp.Symbol], hidden: Sequence[sp.Symbol]) -> sp.Expr:
    """``log sum_h exp(T(v, h))`` for ``exp(T) = weight``, as a function of the visible spins.

    Zero (identically in ``v`` and every parameter) exactly when the rule satisfies the
    trace condition.  ``weight`` is given as ``exp(T)`` (a conditional probability when
    exact) so that rules with hard constraints, such as decimation ``(1 + h v) / 2``,
    need no ``log 0``.  Visible and hidden units are spins (``±1``); the sum over ``h``
    is done configuration by configuration, the result reduced with ``v_i^2 = 1``.

    >>> v, h = sp.symbols("v h")
    >>> trace_defect((1 + h * v) / 2, [v], [h])
    0
    >>> w = sp.Symbol("w")
    >>> trace_defect(sp.exp(w * h * v), [v], [h])
    log(2*cosh(w))
    """
    hidden = list(hidden)
    if len(hidden) > MAX_SYMBOLIC_HIDDEN:
        raise ModelError(f"trace_defect sums 2^{len(hidden)} hidden configurations; the limit is {MAX_SYMBOLIC_HIDDEN} units")
    total = sp.S.Zero
    for signs in itertools.product((-1, 1), repeat=len(hidden)):
        total += sp.sympify(weight).subs(dict(zip(hidden, signs)), simultaneous=True)
    total = _reduce_spins(total, visible)
    # a function of spins is multilinear: even functions such as cosh(w v) reduce to cosh(w)
    total = sp.simplify(total.rewrite(sp.exp))
    for v in visible:
        if total.has(v):
            plus, minus = total.subs(v, 1), total.subs(v, -1)
            even, odd = sp.simplify((plus + minus) / 2), sp.simplify((plus - minus) / 2)
            total = even + odd * v
    return sp.simplify(sp.log(sp.simplify(total.rewrite(sp.cosh))))


@dataclass(frozen=True)
class VariationalRG:
    """A variational RG step read as a Boltzmann machine.

    Attributes
    ----------
    hamiltonian : EnergyModel
        The fine ``H(v)`` (spin layer ``v``).
    rule : sympy expression
        ``exp(T(v, h))`` in the unit symbols of ``hamiltonian`` and the coarse spins.
    trace_defect : sympy expression
        ``log sum_h exp(T)`` as a function of ``v``; ``0`` when the rule is exact.
    machine : EnergyModel
        ``E = -T + H`` on the support of ``exp(T)``: layers ``x`` (the fine spins the rule
        sums out) and ``h`` (the coarse spins), weights read off ``H``.
    coarse : EnergyModel
        ``H'(h)``, the machine with ``x`` marginalized by the engine.
    """

    hamiltonian: EnergyModel
    rule: sp.Expr
    trace_defect: sp.Expr
    machine: EnergyModel
    coarse: EnergyModel

    def delta_f(self, values: Mapping[str, float]) -> float:
        """``F' - F = -(log Z' - log Z)`` by enumeration of both layers (``values``: the coupling values by name)."""
        return -(enumerate_log_z(self.coarse, "h", values) - enumerate_log_z(self.hamiltonian, "v", values))


def enumerate_log_z(model: EnergyModel, layer: str, values: Mapping[str, float]) -> float:
    """``log sum exp(-E)`` over every configuration of the single spin layer ``layer`` of ``model``."""
    if model.layer_names != (layer,):
        raise ModelError(f"enumerate_log_z needs a model over the one layer {layer!r}, got layers {model.layer_names}")
    n = int(model.layer(layer).size)
    states = configurations(n, "spin").astype(float)
    subs = {sp.Symbol(k, positive=True): float(v) for k, v in values.items()}
    subs.update({sp.Symbol(k): float(v) for k, v in values.items()})
    subs.update({sp.Symbol(k, real=True): float(v) for k, v in values.items()})
    energy = model.energy.subs(subs)
    units = [sp.Symbol(f"{layer}_{i + 1}", real=True) for i in range(n)]
    # compiled by the one numeric code generator (stable log cosh / softplus / log-sum-exp)
    f = services.get("compile_scalars")(tuple(units), [energy], "mpmath", checked=False)
    e = np.array([float(f(*row)[0]) for row in states])
    return float(logsumexp(-e))


def decimation_machine(J: object, kept: Sequence[int], fields: object = None) -> VariationalRG:
    """Decimation of the spin hamiltonian ``-1/2 v^T J v - f^T v`` as a Boltzmann machine.

    The rule keeps the fine spins at positions ``kept`` (0-based): ``exp(T(v, h)) =
    prod_j (1 + h_j v_{k_j}) / 2``, the spin form of ``prod_j delta(h_j, v_{k_j})``; its
    trace defect is computed by :func:`trace_defect`.  On the support of ``exp(T)`` the
    machine energy ``-T + H`` is ``H`` with ``v_{k_j} -> h_j``: the machine is read off
    that substitution (the coefficient of ``x_i h_j`` is the weight, those of ``x_i x_k`` and
    ``h_j h_l`` the self blocks, the linear ones the fields), and the coarse hamiltonian is
    the engine's marginal over the summed spins ``x``.

    >>> K = sp.Symbol("K", positive=True)
    >>> vr = decimation_machine(ring_couplings(6, K), kept=(0, 2, 4))
    >>> vr.machine.params["W_xh"].value
    Matrix([
    [K, K, 0],
    [0, K, K],
    [K, 0, K]])
    """
    H = ising_hamiltonian(J, fields)
    n = int(H.layer("v").size)
    kept = [int(k) for k in kept]
    if len(set(kept)) != len(kept) or not all(0 <= k < n for k in kept) or not kept:
        raise ModelError(f"kept must list distinct sites in 0..{n - 1}, got {kept}")
    summed = [i for i in range(n) if i not in kept]
    if not summed:
        raise ModelError("decimation must sum out at least one fine spin")
    v = [sp.Symbol(f"v_{i + 1}", real=True) for i in range(n)]
    x = [sp.Symbol(f"x_{i + 1}", real=True) for i in range(len(summed))]
    h = [sp.Symbol(f"h_{j + 1}", real=True) for j in range(len(kept))]
    rule = sp.Mul(*[(1 + h[j] * v[k]) / 2 for j, k in enumerate(kept)])
    defect = trace_defect(rule, v, h)
    # on the support v_{k_j} = h_j: E(x, h) = H(v)
    rename = {v[k]: h[j] for j, k in enumerate(kept)}
    rename.update({v[i]: x[a] for a, i in enumerate(summed)})
    E = _reduce_spins(H.energy.subs(rename, simultaneous=True), x + h)
    poly = sp.Poly(E, *(x + h))
    if poly.total_degree() > 2:
        raise ModelError("the decimated hamiltonian has terms beyond pairs; it is not a Boltzmann machine of pair weights")

    def coeff(*units: sp.Symbol) -> sp.Expr:
        powers = [0] * len(x + h)
        for u in units:
            powers[(x + h).index(u)] += 1
        return poly.coeff_monomial(tuple(powers))

    # E = -x^T W h - b^T x + 1/2 x^T Q x + ...: the weight is minus a coefficient, the self block
    # (symmetric, zero diagonal) the coefficient itself
    W = sp.ImmutableMatrix(len(x), len(h), lambda a, j: -coeff(x[a], h[j]))
    Qx = sp.ImmutableMatrix(len(x), len(x), lambda a, b: 0 if a == b else coeff(x[min(a, b)], x[max(a, b)]))
    Qh = sp.ImmutableMatrix(len(h), len(h), lambda a, b: 0 if a == b else coeff(h[min(a, b)], h[max(a, b)]))
    bx = sp.ImmutableMatrix(len(x), 1, lambda a, _: -coeff(x[a]))
    bh = sp.ImmutableMatrix(len(h), 1, lambda j, _: -coeff(h[j]))
    const = coeff()
    machine = energy_model(
        [("x", len(x), "spin"), ("h", len(h), "spin")],
        {("x", "h"): W},
        biases={"x": bx if any(bx) else 0, "h": bh if any(bh) else 0},
        constant=const,
    )
    quad = {name: q for name, q in (("x", Qx), ("h", Qh)) if any(q)}
    if quad:
        machine = machine.with_(quadratic=quad)
    coarse = marginalize(machine, "x")
    return VariationalRG(H, rule, defect, machine, coarse)


# ---------------------------------------------------------------------------------------
# one hidden spin per bond
# ---------------------------------------------------------------------------------------


def bond_weight(K: object) -> tuple[sp.Expr, sp.Expr, int]:
    """``(w, c, sigma)`` with ``exp(K s s') = c sum_{b = ±1} exp(w b (s + sigma s'))`` for spins ``s, s'``.

    At ``s' = sigma s`` the sum is ``2 cosh 2w`` and the left side ``exp(|K|)``; at
    ``s' = -sigma s`` it is ``2`` and the left side ``exp(-|K|)``.  Hence ``sigma = sign K``,
    ``cosh 2w = exp(2|K|)`` and ``c = exp(-|K|) / 2``.  The sign of ``K`` must be known
    (a number, or a symbol declared positive / negative).

    >>> K = sp.Symbol("K", positive=True)
    >>> bond_weight(K)
    (acosh(exp(2*K))/2, exp(-K)/2, 1)
    >>> bond_weight(-1)
    (acosh(exp(2))/2, exp(-1)/2, -1)
    """
    k: sp.Expr = sp.sympify(K)
    if not k.is_real:
        raise ModelError(f"a bond coupling must be real, got {k!r}")
    if k.is_nonnegative:
        sigma, a = 1, k
    elif k.is_nonpositive:
        sigma, a = -1, -k
    else:
        raise ModelError(f"the sign of the bond coupling {k} must be known (declare the symbol positive or negative)")
    return sp.acosh(sp.exp(2 * a)) / 2, sp.exp(-a) / 2, sigma


def bond_machine(J: object, fields: object = None) -> EnergyModel:
    """The Ising hamiltonian ``-1/2 v^T J v - f^T v`` as a Boltzmann machine with one hidden spin per bond.

    Each nonzero ``J_ij`` (``i < j``) gets a hidden spin ``b`` coupled to ``v_i`` with weight
    ``w`` and to ``v_j`` with ``sigma w`` (:func:`bond_weight`); the constant collects
    ``-log c`` of every bond.  Summing the hidden layer ``b`` returns the hamiltonian exactly:
    the machine is bipartite (no ``v``-``v`` couplings) where the hamiltonian is not.

    >>> K = sp.Symbol("K", positive=True)
    >>> m = bond_machine(ring_couplings(3, K))
    >>> m.params["W_vb"].value
    Matrix([
    [acosh(exp(2*K))/2, acosh(exp(2*K))/2,                 0],
    [acosh(exp(2*K))/2,                 0, acosh(exp(2*K))/2],
    [                0, acosh(exp(2*K))/2, acosh(exp(2*K))/2]])
    >>> m.constant
    3*K + 3*log(2)
    """
    Jm = _symmetric(J, "the coupling matrix J")
    n = Jm.rows
    bonds = [(i, j) for i in range(n) for j in range(i + 1, n) if Jm[i, j].is_zero is not True]
    if not bonds:
        raise ModelError("bond_machine needs at least one nonzero coupling J_ij")
    W = sp.zeros(n, len(bonds))
    const = sp.S.Zero
    for k, (i, j) in enumerate(bonds):
        w, c, sigma = bond_weight(Jm[i, j])
        W[i, k], W[j, k] = w, sigma * w
        const -= sp.log(c)
    bias: object = 0 if fields is None else sp.ImmutableMatrix(fields).reshape(n, 1)
    return energy_model(
        [("v", n, "spin"), ("b", len(bonds), "spin")],
        {("v", "b"): sp.ImmutableMatrix(W)},
        biases={"v": bias, "b": 0},
        constant=sp.expand_log(sp.expand(const), force=True),
    )


# ---------------------------------------------------------------------------------------
# any rule exp(T(v, h)), by symbolic enumeration of v
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRG:
    """A variational RG step for a rule given as an expression (:func:`variational_rg`).

    Attributes
    ----------
    hamiltonian : EnergyModel
        The fine ``H(v)`` (spin layer ``v``).
    rule : sympy expression
        ``exp(T(v, h))``.
    visible, hidden : tuples of symbols
        The fine spins ``v_i`` and the coarse spins ``h_j``.
    trace_defect : sympy expression
        ``log sum_h exp(T)`` as a function of ``v`` (:func:`trace_defect`); ``0`` when exact.
    energy : sympy expression
        The machine energy ``E(v, h) = H(v) - T(v, h)`` (``T = log`` of the rule).
    coarse : sympy expression
        ``H'(h) = -log sum_v exp(T(v, h) - H(v))``.
    delta_f : sympy expression
        ``F' - F = -log(Z' / Z) = -log <sum_h exp(T)>_H``, the average over ``exp(-H) / Z``.
    """

    hamiltonian: EnergyModel
    rule: sp.Expr
    visible: tuple
    hidden: tuple
    trace_defect: sp.Expr
    energy: sp.Expr
    coarse: sp.Expr
    delta_f: sp.Expr

    def visible_energy(self) -> sp.Expr:
        """``-log sum_h exp(-E(v, h)) = H(v) - trace_defect(v)``: the machine's own marginal on ``v``."""
        return self.hamiltonian.energy - self.trace_defect


def variational_rg(hamiltonian: EnergyModel, rule: object, hidden: Sequence[sp.Symbol]) -> RuleRG:
    """The variational RG step of ``hamiltonian`` (one spin layer ``v``) under the rule ``exp(T) = rule``.

    ``rule`` is an expression in the fine spins ``v_1, ..., v_n`` of ``hamiltonian`` and
    the coarse spins ``hidden`` (all ``±1``), given as ``exp(T)`` so that hard rules need no
    ``log 0``.  Every sum is an explicit enumeration (at most ``MAX_SYMBOLIC_VISIBLE`` fine
    spins, ``MAX_SYMBOLIC_HIDDEN`` coarse ones); nothing is simplified beyond the trace
    defect, so ``coarse`` and ``delta_f`` keep every term.

    ``delta_f = -log <exp(trace_defect)>_H`` vanishes whenever the defect does, but not
    only then: it is one condition on the rule, the trace condition one for each ``v``
    (Mehta and Schwab's comment, arXiv:1609.03541).

    >>> K = sp.Symbol("K", positive=True)
    >>> v1, v2, h = sp.symbols("v_1 v_2 h", real=True)
    >>> r = variational_rg(ising_hamiltonian([[0, K], [K, 0]]), (1 + h * v1) / 2, [h])
    >>> r.trace_defect, sp.simplify(r.coarse), sp.simplify(r.delta_f)
    (0, -log(2*cosh(K)), 0)
    """
    if hamiltonian.layer_names != ("v",) or tuple(getattr(hamiltonian.layer("v").kind, "values", ())) != (-1, 1):
        raise ModelError(f"variational_rg needs a hamiltonian over the one spin layer 'v', got layers {hamiltonian.layer_names}")
    n = int(hamiltonian.layer("v").size)
    if n > MAX_SYMBOLIC_VISIBLE:
        raise BudgetError(f"variational_rg enumerates 2^{n} fine configurations; the limit is {MAX_SYMBOLIC_VISIBLE} spins (MAX_SYMBOLIC_VISIBLE)")
    hidden = tuple(hidden)
    if len(hidden) > MAX_SYMBOLIC_HIDDEN:
        raise BudgetError(f"variational_rg sums 2^{len(hidden)} coarse configurations; the limit is {MAX_SYMBOLIC_HIDDEN} (MAX_SYMBOLIC_HIDDEN)")
    if not hidden or not all(isinstance(s, sp.Symbol) for s in hidden) or len(set(hidden)) != len(hidden):
        raise ModelError(f"hidden must list distinct coarse spin symbols, got {hidden}")
    visible = tuple(sp.Symbol(f"v_{i + 1}", real=True) for i in range(n))
    if set(hidden) & set(visible):
        raise ModelError(f"the coarse spins {hidden} must not reuse the names of the fine spins v_1..v_{n}")
    weight = sp.sympify(rule)
    # parameters shared with the hamiltonian (a coupling in the rule) are allowed; stray fine spins are not
    unknown = {s for s in weight.free_symbols if s.name.startswith("v_") and s not in visible}
    if unknown:
        raise ModelError(f"the rule uses {sorted(map(str, unknown))}, which are not fine spins of the hamiltonian (v_1..v_{n}, real)")
    if not weight.has(*hidden):
        raise ModelError("the rule does not depend on any coarse spin")
    defect = trace_defect(weight, visible, hidden)
    H = hamiltonian.energy
    boltzmann = [sp.exp(-H.xreplace(dict(zip(visible, vs)))) for vs in itertools.product((-1, 1), repeat=n)]
    coarse_sum = sp.S.Zero
    total = sp.S.Zero
    for vs, bw in zip(itertools.product((-1, 1), repeat=n), boltzmann):
        w_v = weight.xreplace(dict(zip(visible, vs)))
        coarse_sum += w_v * bw
        total += sum(w_v.xreplace(dict(zip(hidden, hs))) for hs in itertools.product((-1, 1), repeat=len(hidden))) * bw
    z = sp.Add(*boltzmann)
    return RuleRG(hamiltonian, weight, visible, hidden, defect, H - sp.log(weight), -sp.log(coarse_sum), -sp.log(total / z))


# ---------------------------------------------------------------------------------------
# block rules of symrg.rg.coarse as exp(T) in multilinear form (numeric)
# ---------------------------------------------------------------------------------------


def rule_multilinear(rule: "CoarseRule | str", block_size: int, values: Mapping | None = None) -> np.ndarray:
    """Walsh coefficients ``c_S`` of ``m(x) = E[h | x] = sum_S c_S prod_{i in S} x_i`` for one block.

    Then ``exp(T(x, h)) = p(h | x) = (1 + h m(x)) / 2`` exactly (``h = ±1``): the rule as a
    multilinear machine energy ``T = log((1 + h m(x)) / 2)``.  Index ``S`` as a bitmask.

    >>> from symrg.rg.coarse import majority
    >>> [round(float(c), 12) for c in rule_multilinear(majority(tie="random"), 3)]
    [0.0, 0.5, 0.5, 0.0, 0.5, 0.0, 0.0, -0.5]
    """
    table = np.asarray(coarse_rule(rule).numeric_table(block_size, dict(values or {})), dtype=float)
    return exact_couplings(2.0 * table - 1.0, "spin")


def _multilinear_eval(coeffs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sum_S c_S prod_{i in S} x_i`` for each row of ``x``."""
    out = np.zeros(x.shape[0])
    for mask, c in enumerate(coeffs):
        if c != 0:
            sub = mask_to_subset(mask)
            out += c * (np.prod(x[:, sub], axis=1) if sub else 1.0)
    return out


def rule_table_defect(rule: "CoarseRule | str", block_size: int, values: Mapping | None = None) -> float:
    """``max_x |sum_h exp(T(x, h)) - 1|`` for the multilinear ``exp(T)`` of :func:`rule_multilinear`.

    Also checks ``exp(T) >= 0``: a negative weight raises :class:`~symrg.errors.ModelError`.

    >>> from symrg.rg.coarse import majority
    >>> rule_table_defect(majority(tie="first"), 4) < 1e-12
    True
    """
    c = rule_multilinear(rule, block_size, values)
    x = configurations(block_size, "spin").astype(float)
    m = _multilinear_eval(c, x)
    p_plus, p_minus = (1 + m) / 2, (1 - m) / 2
    if min(p_plus.min(), p_minus.min()) < -1e-12:
        raise ModelError(f"rule {coarse_rule(rule).name}: exp(T) is negative for some block configuration")
    return float(np.abs(p_plus + p_minus - 1).max())


def machine_log_weights(
    log_weight_fine: np.ndarray,
    blocks: Sequence[Sequence[int]],
    rule: "CoarseRule | str",
    values: Mapping | None = None,
) -> np.ndarray:
    """``-H'(h) = log sum_v exp(T(v, h) - H(v))`` by enumeration of the machine.

    Parameters
    ----------
    log_weight_fine : array of ``2^n`` values ``-H(v)``, row ``k`` of ``configurations(n, "spin")``
    blocks : the fine sites of each coarse spin (every block the same size)
    rule : block rule; ``exp(T) = prod_j (1 + h_j m(v_{B_j})) / 2`` with ``m`` from :func:`rule_multilinear`

    Returns
    -------
    array of ``2^(number of blocks)`` values ``-H'(h)``, bit ``j`` of the index is ``h_j``.
    """
    blocks = [list(b) for b in blocks]
    sizes = {len(b) for b in blocks}
    if len(sizes) != 1:
        raise ModelError(f"every block must have the same size, got sizes {sorted(sizes)}")
    b = sizes.pop()
    lw = np.asarray(log_weight_fine, dtype=float)
    n = int(lw.size).bit_length() - 1
    if lw.size != 1 << n:
        raise ModelError(f"log_weight_fine must have 2^n entries, got {lw.size}")
    c = rule_multilinear(rule, b, values)
    v = configurations(n, "spin").astype(float)
    m = np.stack([_multilinear_eval(c, v[:, blk]) for blk in blocks], axis=1)  # (2^n, blocks)
    hs = configurations(len(blocks), "spin").astype(float)
    out = np.empty(hs.shape[0])
    top = lw.max()
    for k, hrow in enumerate(hs):
        w = np.prod((1 + hrow[None, :] * m) / 2, axis=1)
        with np.errstate(divide="ignore"):
            out[k] = np.log(np.dot(w, np.exp(lw - top))) + top
    return out
