"""Information carried by a coarse spin: mutual informations of a coarse-graining, exactly.

A block ``V`` of ``L_V`` fine spins is surrounded by a buffer ``B`` of width ``L_B``; the
environment ``E`` is every spin beyond the buffer.  A rule ``p(h | v)`` draws the coarse
variable ``H`` from the block (docs/block_rg.md, "Mutual information of a coarse-graining").
This module computes, exactly,

* ``I(V:E)``, the information the block has about its environment;
* ``I(H:E)``, what the coarse variable keeps of it (the quantity the real-space
  mutual-information RG of Lenggenhager et al. maximizes);
* ``I(V:E | H)``, the encoding loss, computed directly from the joint law of
  ``(V, E, H)``; because ``H`` depends on ``E`` only through ``V``, the chain rule gives
  ``I(V:E | H) = I(V:E) - I(H:E) >= 0`` (tests check the identity, they do not assume it).

Routes:

* :func:`coarse_graining_information` -- Ising chains ``exp(sum K x_i x_{i+1} + h x_i)``
  of any coupling and field: the infinite chain (Perron eigenvector of the transfer
  matrix), finite open chains and rings of any length ``N`` (powers of the transfer
  matrix), with mpmath at ``dps`` digits.  The chain is Markov, so ``E`` enters only
  through the two spins ``e_L``, ``e_R`` next to the buffer.
* :func:`information_symbolic` -- the infinite chain in zero field as closed-form sympy
  expressions in ``K`` (the law of a path factorizes into ``(1 + t^d s s') / 2``,
  ``t = tanh K``).
* :func:`lattice_information` -- any finite lattice model of :mod:`symrg.rg.lattice`
  (small 2D patches) by exact enumeration, behind a size guard.
* :func:`joint_information` and :func:`information_gradient` -- the engine on a joint
  table ``P(v, e)`` and a conditional table ``p(h | v)``; the gradient of ``I(H:E)``
  with respect to the table drives :mod:`symrg.rg.optimal_rule`.

Rules are the rules of :mod:`symrg.rg.coarse` (decimation, majority with tie rules, the
smooth / RBM rule ``p(h | x) ∝ exp(h Lambda . x)``, custom), given by name or object, or a
conditional table: an array of shape ``(2^L_V, n_h)`` whose row ``k`` is ``p(h | v)``
for the block configuration ``k`` (``v_i = 2 (bit i of k) - 1``) and whose columns are
the ``n_h`` values of ``H`` (for Ising ``H``: column 0 is ``h = -1``, column 1 ``h = +1``).

Examples
--------
>>> info = coarse_graining_information(1.0, "decimation", block=2, buffer=1)
>>> round(info.I_VE, 6), round(info.I_HE, 6), round(info.I_VE_given_H, 6)
(0.325221, 0.247033, 0.078188)
>>> round(mutual_information_chain(1.0, "decimation", 2, buffer=1), 6)
0.247033
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from symrg.engine.multilinear import configurations
from symrg.errors import BudgetError, ModelError
from symrg.model.display import Displayed
from symrg.rg.coarse import CoarseRule, coarse_rule
from symrg.rg.lattice import LatticeModel

__all__ = [
    "CoarseGrainingInformation",
    "SymbolicInformation",
    "coarse_graining_information",
    "information_symbolic",
    "lattice_information",
    "conditional_table",
    "chain_joint",
    "joint_information",
    "information_gradient",
    "mutual_information_chain",
    "MAX_INFO_BLOCK",
    "MAX_SYMBOLIC_BLOCK",
    "MAX_INFO_SITES",
    "UNITS",
]

#: largest block of the chain routes (the joint table has 2^L_V rows)
MAX_INFO_BLOCK = 12
#: largest block of the closed form (a few seconds per site beyond 4)
MAX_SYMBOLIC_BLOCK = 6
#: largest finite lattice enumerated by :func:`lattice_information` (2^20 configurations)
MAX_INFO_SITES = 20
#: units of the results: nats (natural logarithm) or bits
UNITS = ("nats", "bits")


# ----------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoarseGrainingInformation(Displayed):
    """Mutual informations of one coarse-graining (an immutable value).

    Attributes
    ----------
    I_VE : float
        ``I(V:E)``, block and environment.
    I_HE : float
        ``I(H:E)``, coarse variable and environment.
    I_VE_given_H : float
        ``I(V:E | H)``, the encoding loss, computed from the joint law of ``(V, E, H)``
        (equal to ``I_VE - I_HE`` because ``H`` depends on ``E`` only through ``V``).
    unit : {"nats", "bits"}
    system : str
        Where it was computed (chain, lattice, sizes, couplings).
    rule : str
        The rule's description.
    block, buffer : int
        ``L_V`` and ``L_B``.
    """

    I_VE: float
    I_HE: float
    I_VE_given_H: float
    unit: str
    system: str
    rule: str
    block: int
    buffer: int

    @property
    def loss(self) -> float:
        """``I(V:E | H)`` (alias)."""
        return self.I_VE_given_H

    @property
    def ratio(self) -> float:
        """``I(H:E) / I(V:E)`` (1 for a lossless rule; nan when ``I(V:E) = 0``)."""
        return self.I_HE / self.I_VE if self.I_VE > 0 else math.nan

    def to(self, unit: str) -> "CoarseGrainingInformation":
        """The same informations in ``unit`` (``"nats"`` or ``"bits"``)."""
        factor = _unit_factor(self.unit, unit)
        return replace(self, I_VE=self.I_VE * factor, I_HE=self.I_HE * factor,
                       I_VE_given_H=self.I_VE_given_H * factor, unit=unit)

    def text(self) -> str:
        return (f"I(V:E) = {self.I_VE:.12g}, I(H:E) = {self.I_HE:.12g}, I(V:E|H) = {self.I_VE_given_H:.12g} {self.unit} "
                f"({self.rule}, L_V = {self.block}, L_B = {self.buffer}; {self.system})")

    def latex(self) -> str:
        unit = rf"\ \text{{{self.unit}}}"
        rows = [rf"I(V:E) &= {sp.latex(sp.Float(self.I_VE, 12))}{unit}",
                rf"I(H:E) &= {sp.latex(sp.Float(self.I_HE, 12))}{unit}",
                rf"I(V:E \mid H) &= {sp.latex(sp.Float(self.I_VE_given_H, 12))}{unit}"]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


@dataclass(frozen=True)
class SymbolicInformation(Displayed):
    """Closed-form mutual informations on the infinite chain in zero field (nats).

    Attributes
    ----------
    K : sympy.Symbol
        The coupling the expressions depend on (through ``tanh K``).
    I_VE, I_HE, I_VE_given_H : sympy.Expr
        ``I(V:E)``, ``I(H:E)`` and ``I(V:E | H)`` (each computed from its own joint law).
    rule : str
    block, buffer : int
    """

    K: sp.Symbol
    I_VE: sp.Expr
    I_HE: sp.Expr
    I_VE_given_H: sp.Expr
    rule: str
    block: int
    buffer: int

    def evaluate(self, K: Any, values: Mapping | None = None, dps: int = 30, unit: str = "nats") -> CoarseGrainingInformation:
        """The numbers at a coupling ``K`` (and values of other symbols of the rule)."""
        rep = {self.K: sp.sympify(K)}
        rep.update({sp.Symbol(str(k)) if isinstance(k, str) else k: sp.sympify(v) for k, v in (values or {}).items()})
        out = []
        for e in (self.I_VE, self.I_HE, self.I_VE_given_H):
            val = sp.sympify(e).xreplace(rep).evalf(dps)
            if val.free_symbols:
                names = ", ".join(sorted(map(str, val.free_symbols)))
                raise ModelError(f"information_symbolic: give values for {names}")
            out.append(float(val) * _unit_factor("nats", unit))
        return CoarseGrainingInformation(out[0], out[1], out[2], unit, f"infinite chain, K = {K}, h = 0 (closed form)",
                                         self.rule, self.block, self.buffer)

    def text(self) -> str:
        return (f"I(V:E) = {self.I_VE}\nI(H:E) = {self.I_HE}\nI(V:E|H) = {self.I_VE_given_H}\n"
                f"({self.rule}, L_V = {self.block}, L_B = {self.buffer}; infinite chain, zero field; nats)")

    def latex(self) -> str:
        rows = [rf"I(V:E) &= {sp.latex(self.I_VE)}", rf"I(H:E) &= {sp.latex(self.I_HE)}",
                rf"I(V:E \mid H) &= {sp.latex(self.I_VE_given_H)}"]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _unit_factor(frm: str, to: str) -> float:
    for u in (frm, to):
        if u not in UNITS:
            raise ModelError(f"unknown unit {u!r}; valid units: {', '.join(UNITS)}")
    if frm == to:
        return 1.0
    return 1.0 / math.log(2) if to == "bits" else math.log(2)


# ----------------------------------------------------------------------------------
# rules as conditional tables
# ----------------------------------------------------------------------------------
def _int_arg(x: Any, name: str, minimum: int) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise ModelError(f"{name} must be a {kind} integer, got {x!r}")
    return int(x)


def _rule_label(rule: Any) -> str:
    if isinstance(rule, CoarseRule):
        return repr(rule)
    if isinstance(rule, str):
        return rule
    return "conditional table"


def conditional_table(rule: Any, block: int, values: Mapping | None = None) -> np.ndarray:
    """The rule as a validated table ``Q[k, j] = p(h_j | v_k)`` of shape ``(2^block, n_h)``.

    Parameters
    ----------
    rule : str, CoarseRule or array-like
        A rule of :mod:`symrg.rg.coarse` (columns ``h = -1, +1``) or a table of floats.
    block : int
        ``L_V``, the number of block sites.
    values : mapping, optional
        Values of symbolic rule parameters (``Lambda``).

    Raises
    ------
    ModelError
        A table of the wrong shape, with negative or non-finite entries, or with a row
        that does not sum to 1 (within 1e-12).

    Examples
    --------
    >>> conditional_table("majority", 1)
    array([[1., 0.],
           [0., 1.]])
    >>> conditional_table([[0.5, 0.5], [1.0, 0.5]], 1)
    Traceback (most recent call last):
    ...
    symrg.errors.ModelError: conditional table p(h|v): row 1 (block configuration 1) sums to 1.5, not 1
    """
    block = _int_arg(block, "block", 1)
    if isinstance(rule, (str, CoarseRule)):
        try:
            p = coarse_rule(rule).numeric_table(block, None if values is None else dict(values))
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        return np.stack([1.0 - p, p], axis=1)
    if values:
        raise ModelError("values apply to symbolic rule parameters; a conditional table is already numeric")
    try:
        Q = np.array(rule, dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"conditional table p(h|v): expected a rule name, a CoarseRule or a 2D array of numbers, got {type(rule).__name__}") from None
    rows = 1 << block
    if Q.ndim != 2 or Q.shape[0] != rows or Q.shape[1] < 1:
        raise ModelError(f"conditional table p(h|v): expected shape ({rows}, n_h) for a block of {block} sites "
                         f"(one row per block configuration, one column per value of h), got shape {Q.shape}")
    if not np.all(np.isfinite(Q)):
        raise ModelError("conditional table p(h|v): entries must be finite")
    if np.any(Q < 0):
        k, j = (int(i) for i in np.argwhere(Q < 0)[0])
        raise ModelError(f"conditional table p(h|v): entry ({k}, {j}) is negative ({float(Q[k, j])!r}); probabilities are >= 0")
    sums = Q.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-12)
    if bad.size:
        k = int(bad[0])
        raise ModelError(f"conditional table p(h|v): row {k} (block configuration {k}) sums to {float(sums[k])!r}, not 1")
    return Q


# ----------------------------------------------------------------------------------
# the engine: informations of a joint table
# ----------------------------------------------------------------------------------
def _xlogratio(p: np.ndarray, q: np.ndarray) -> float:
    """``sum p log(p / q)`` over ``p > 0``."""
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


def joint_information(joint: np.ndarray, table: np.ndarray) -> tuple[float, float, float]:
    """``(I(V:E), I(H:E), I(V:E|H))`` in nats from ``P[v, e]`` and ``Q[v, h] = p(h | v)``.

    ``P`` is normalized here.  Each information is ``sum p log(p / (p p))`` over its own
    joint law (``I(V:E|H)`` over ``p(v, e, h) = P(v, e) Q(v, h)``), never a difference.

    Examples
    --------
    >>> P = np.array([[0.4, 0.1], [0.1, 0.4]])          # two correlated bits
    >>> I_VE, I_HE, loss = joint_information(P, np.eye(2))
    >>> I_VE == I_HE, loss
    (True, 0.0)
    """
    P = np.asarray(joint, dtype=float)
    Q = np.asarray(table, dtype=float)
    if P.ndim != 2 or Q.ndim != 2 or Q.shape[0] != P.shape[0]:
        raise ModelError(f"joint_information: P[v, e] and Q[v, h] must share their first axis, got {P.shape} and {Q.shape}")
    P = P / P.sum()
    pv, pe = P.sum(axis=1), P.sum(axis=0)
    I_VE = _xlogratio(P, np.outer(pv, pe))
    PH = Q.T @ P                                     # p(h, e)
    ph = PH.sum(axis=1)
    I_HE = _xlogratio(PH, np.outer(ph, pe))
    # p(v, e, h) log [p(v, e, h) p(h) / (p(v, h) p(e, h))]
    J = P[:, :, None] * Q[:, None, :]
    pvh = pv[:, None] * Q
    ref = pvh[:, None, :] * PH.T[None, :, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = ref / ph[None, None, :]
    loss = _xlogratio(J, ref)
    return max(I_VE, 0.0), max(I_HE, 0.0), max(loss, 0.0)


def information_gradient(joint: np.ndarray, table: np.ndarray) -> tuple[float, np.ndarray]:
    """``I(H:E)`` and its gradient with respect to the table entries ``Q[v, h]``.

    With ``p(h, e) = sum_v P(v, e) Q(v, h)`` and ``p(e)`` independent of ``Q``,

        dI(H:E) / dQ(v, h) = sum_e P(v, e) log[ p(h, e) / (p(h) p(e)) ]

    (the ``+1`` of ``d(p log p)`` cancels between ``p(h, e)`` and ``p(h)``).  Derivatives
    along tables that stay normalized follow by the chain rule (:mod:`symrg.rg.optimal_rule`).

    Examples
    --------
    >>> P = np.array([[0.4, 0.1], [0.1, 0.4]])
    >>> I, G = information_gradient(P, np.full((2, 2), 0.5))
    >>> round(I, 15), G.shape
    (0.0, (2, 2))
    """
    P = np.asarray(joint, dtype=float)
    P = P / P.sum()
    Q = np.asarray(table, dtype=float)
    pe = P.sum(axis=0)
    PH = Q.T @ P
    ph = PH.sum(axis=1)
    R = np.outer(ph, pe)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.where(PH > 0, np.log(PH / R), 0.0)   # L[h, e]
    I = float(np.sum(PH * L))
    return max(I, 0.0), P @ L.T


def _mp_information(P: list, Q: list) -> tuple[Any, Any, Any]:
    """:func:`joint_information` in mpmath (``P``, ``Q`` nested lists of mpf)."""
    nv, ne, nh = len(P), len(P[0]), len(Q[0])
    Z = mpmath.fsum(P[v][e] for v in range(nv) for e in range(ne))
    P = [[P[v][e] / Z for e in range(ne)] for v in range(nv)]
    pv = [mpmath.fsum(row) for row in P]
    pe = [mpmath.fsum(P[v][e] for v in range(nv)) for e in range(ne)]
    PH = [[mpmath.fsum(P[v][e] * Q[v][j] for v in range(nv)) for e in range(ne)] for j in range(nh)]
    ph = [mpmath.fsum(row) for row in PH]

    def term(p: Any, q: Any) -> Any:
        return p * mpmath.log(p / q) if p > 0 else mpmath.mpf(0)

    I_VE = mpmath.fsum(term(P[v][e], pv[v] * pe[e]) for v in range(nv) for e in range(ne))
    I_HE = mpmath.fsum(term(PH[j][e], ph[j] * pe[e]) for j in range(nh) for e in range(ne))
    loss = mpmath.fsum(term(P[v][e] * Q[v][j], pv[v] * Q[v][j] * PH[j][e] / ph[j])
                       for v in range(nv) for e in range(ne) for j in range(nh) if ph[j] > 0)
    return I_VE, I_HE, loss


# ----------------------------------------------------------------------------------
# chains
# ----------------------------------------------------------------------------------
def _chain_geometry(block: int, buffer: int, N: int | None, periodic: bool, position: int | None) -> tuple:
    """(start, has left environment, has right environment, ring gap) of the block."""
    if N is None:
        return 0, True, True, None
    N = _int_arg(N, "N", 1)
    if periodic:
        if N < 3:
            raise ModelError(f"a ring needs N >= 3 sites, got N = {N}")
        gap = N - block - 2 * buffer - 1          # bonds from e_R around to e_L
        if gap < 0:
            raise ModelError(f"no environment: a ring of N = {N} sites is covered by the block ({block}) and its buffers (2 x {buffer})")
        return 0, True, True, gap
    start = (N - block) // 2 if position is None else _int_arg(position, "position", 0)
    if start + block > N:
        raise ModelError(f"the block (sites {start}..{start + block - 1}) does not fit in an open chain of N = {N} sites")
    left = start - buffer - 1 >= 0
    right = start + block + buffer <= N - 1
    if not (left or right):
        raise ModelError(f"no environment: the open chain of N = {N} sites is covered by the block at {start} and its buffers of {buffer}")
    return start, left, right, None


def _chain_joint_mp(K: Any, h: Any, block: int, buffer: int, N: int | None, periodic: bool, position: int | None) -> list:
    """``P[v][e]`` (mpmath, unnormalized) of the block and the environment spins next to the buffers."""
    start, left, right, gap = _chain_geometry(block, buffer, N, periodic, position)
    Km, hm = mpmath.mpf(K), mpmath.mpf(h)
    T = mpmath.matrix([[mpmath.exp(Km * s * t + hm * (s + t) / 2) for t in (-1, 1)] for s in (-1, 1)])
    A = T ** (buffer + 1)                             # e_L -> v_1 and v_L -> e_R
    if N is None:
        E, ER = mpmath.eighe(T)
        i = 0 if E[0] > E[1] else 1
        phi = [abs(ER[0, i]), abs(ER[1, i])]
        lvec = rvec = mpmath.matrix(phi)              # eigenvector: normalization drops out
    elif not periodic:
        u = mpmath.matrix([mpmath.exp(-hm / 2), mpmath.exp(hm / 2)])
        if left:
            lvec = (T ** (start - buffer - 1)).T * u
        else:
            lvec = (T ** start).T * u                 # weight of v_1 from the open end
        c = start + block + buffer                    # site of e_R
        rvec = T ** (N - 1 - c) * u if right else T ** (N - start - block) * u
    # block weights: prod_i T(v_i, v_{i+1})
    rows = []
    for k in range(1 << block):
        v = [2 * ((k >> i) & 1) - 1 for i in range(block)]
        w = mpmath.exp(Km * sum(v[i] * v[i + 1] for i in range(block - 1)) + hm * (sum(v) - (v[0] + v[-1]) / 2))
        a, b = (v[0] + 1) // 2, (v[-1] + 1) // 2
        if periodic and N is not None:
            if gap == 0:                              # one environment site: e_L = e_R
                rows.append([A[e, a] * w * A[b, e] for e in (0, 1)])
            else:
                G = T ** gap
                rows.append([A[el, a] * w * A[b, er] * G[er, el] for er in (0, 1) for el in (0, 1)])
            continue
        lw = [lvec[el] * A[el, a] for el in (0, 1)] if left else [lvec[a]]
        rw = [A[b, er] * rvec[er] for er in (0, 1)] if right else [rvec[b]]
        rows.append([x * w * y for y in rw for x in lw])   # e = e_L + 2 e_R
    return rows


def chain_joint(K: float, block: int, buffer: int = 0, h: float = 0.0, N: int | None = None,
                periodic: bool = False, position: int | None = None, dps: int = 30) -> np.ndarray:
    """Normalized ``P[v, e]`` of a block and the environment spins that screen the rest.

    Columns: ``e = e_L + 2 e_R`` (bits, ``-1 -> 0``); one column pair when the block has
    environment on one side only (open chains) or the ring's environment is one site.

    Examples
    --------
    >>> P = chain_joint(0.0, 2, 1)
    >>> P.shape, float(P.sum()), float(P.max())
    ((4, 4), 1.0, 0.0625)
    """
    block = _int_arg(block, "block", 1)
    buffer = _int_arg(buffer, "buffer", 0)
    if block > MAX_INFO_BLOCK:
        raise BudgetError(f"block of {block} sites above the limit of {MAX_INFO_BLOCK} sites (MAX_INFO_BLOCK)")
    with mpmath.workdps(dps):
        rows = _chain_joint_mp(K, h, block, buffer, N, periodic, position)
        Z = mpmath.fsum(x for r in rows for x in r)
        return np.array([[float(x / Z) for x in r] for r in rows])


def _system_label(K: Any, h: Any, N: int | None, periodic: bool) -> str:
    where = "infinite chain" if N is None else (f"ring of N = {N}" if periodic else f"open chain of N = {N}")
    return f"{where}, K = {K}, h = {h}"


def coarse_graining_information(
    K: float,
    rule: Any,
    block: int = 2,
    buffer: int = 0,
    h: float = 0.0,
    N: int | None = None,
    periodic: bool = False,
    position: int | None = None,
    values: Mapping | None = None,
    dps: int = 30,
    unit: str = "nats",
) -> CoarseGrainingInformation:
    """``I(V:E)``, ``I(H:E)`` and ``I(V:E|H)`` of a coarse-graining on an Ising chain, exactly.

    The chain has weight ``exp(sum_i [K x_i x_{i+1} + h x_i])``.  With ``T(s, s') =
    exp(K s s' + h (s + s') / 2)`` the law of the block ``v`` and of the environment spins
    ``e_L``, ``e_R`` next to the buffers is

        P(e_L, v, e_R) ∝ l(e_L) T^(L_B+1)(e_L, v_1) prod_i T(v_i, v_{i+1}) T^(L_B+1)(v_L, e_R) r(e_R)

    with ``l = r`` the Perron eigenvector (infinite chain), ``l = (T^a)^T u``, ``r = T^c u``
    with ``u(s) = exp(h s / 2)`` (open chain of ``N`` sites: ``a``, ``c`` sites to the ends) or
    ``P ∝ ... T^g(e_R, e_L)`` around a ring.  The chain is Markov, so ``I(X:E) = I(X : e_L, e_R)``
    for ``X = V, H``.

    Parameters
    ----------
    K, h : float
        Coupling and field.
    rule : str, CoarseRule or array-like
        See :func:`conditional_table`.
    block, buffer : int
        ``L_V >= 1`` and ``L_B >= 0``.
    N : int or None
        Number of sites of a finite chain; None for the infinite chain.
    periodic : bool
        A ring of ``N`` sites (position irrelevant) instead of an open chain.
    position : int, optional
        First site of the block in an open chain (default: centred).  Near an end the
        buffer is cut by the end and the environment lies on one side only.
    values : mapping, optional
        Values of symbolic rule parameters.
    dps : int
        mpmath digits of the computation.
    unit : {"nats", "bits"}

    Raises
    ------
    ModelError
        Bad sizes, no environment, or an invalid rule/table.
    BudgetError
        ``block > MAX_INFO_BLOCK``.

    Examples
    --------
    >>> r = coarse_graining_information(0.5, "majority", block=3, N=40, periodic=True)
    >>> r.I_VE >= r.I_HE >= 0, abs(r.I_VE - r.I_HE - r.I_VE_given_H) < 1e-15
    (True, True)
    >>> round(coarse_graining_information(0.5, "decimation", unit="bits").I_HE, 8)
    0.1861733
    """
    block = _int_arg(block, "block", 1)
    buffer = _int_arg(buffer, "buffer", 0)
    if block > MAX_INFO_BLOCK:
        raise BudgetError(f"block of {block} sites above the limit of {MAX_INFO_BLOCK} sites (MAX_INFO_BLOCK)")
    factor = _unit_factor("nats", unit)
    Q = conditional_table(rule, block, values)
    with mpmath.workdps(dps):
        P = _chain_joint_mp(K, h, block, buffer, N, periodic, position)
        Qm = [[mpmath.mpf(float(x)) for x in row] for row in Q]
        I_VE, I_HE, loss = _mp_information(P, Qm)
        vals = [max(float(x), 0.0) * factor for x in (I_VE, I_HE, loss)]   # rounding can leave -1e-40
    return CoarseGrainingInformation(vals[0], vals[1], vals[2], unit, _system_label(K, h, N, periodic),
                                     _rule_label(rule), block, buffer)


def mutual_information_chain(
    K: float,
    rule: "CoarseRule | str",
    b: int,
    buffer: int = 0,
    h: float = 0.0,
    values: Mapping | None = None,
    dps: int = 30,
) -> float:
    """Exact ``I(H:E)`` (nats) of a coarse spin and its environment in the infinite Ising chain.

    The chain has weight ``exp(sum_i [K x_i x_{i+1} + h x_i])``; the coarse spin ``H`` of a
    block of ``b`` sites is drawn from ``rule``; the environment ``E`` is every spin
    farther than ``buffer`` sites from the block (Lenggenhager et al.).  Shorthand for
    ``coarse_graining_information(K, rule, b, buffer, h).I_HE``, which also gives ``I(V:E)``
    and the encoding loss.

    Examples
    --------
    >>> round(mutual_information_chain(0.0, "decimation", 2), 12)     # no correlations
    0.0
    >>> 0 < mutual_information_chain(0.5, "decimation", 2) < mutual_information_chain(1.0, "decimation", 2)
    True
    """
    return coarse_graining_information(K, rule, b, buffer, h, values=values, dps=dps).I_HE


# ----------------------------------------------------------------------------------
# closed form: the infinite chain in zero field
# ----------------------------------------------------------------------------------
def information_symbolic(rule: Any, block: int = 2, buffer: int = 0, K: sp.Symbol | None = None) -> SymbolicInformation:
    """``I(V:E)``, ``I(H:E)``, ``I(V:E|H)`` of the infinite chain in zero field, in closed form.

    In zero field the law of a path of spins at distances ``d_i`` factorizes,
    ``P = 2^-n prod_i (1 + t^(d_i) s_i s_{i+1})`` with ``t = tanh K``, so every joint law
    is a polynomial in ``t`` and each information a finite sum ``sum p log(p / (p p))``.
    The rule's table must be exact (a :mod:`symrg.rg.coarse` rule, possibly with symbolic
    parameters, or a table of exact sympy numbers).

    Examples
    --------
    >>> K = sp.Symbol("K", positive=True)
    >>> s = information_symbolic("decimation", 1, 0, K)
    >>> sp.simplify(s.I_VE - s.I_HE), s.I_VE_given_H
    (0, 0)
    >>> round(float(s.I_HE.subs(K, 0.5)), 12) == round(coarse_graining_information(0.5, "decimation", 1).I_HE, 12)
    True
    """
    block = _int_arg(block, "block", 1)
    buffer = _int_arg(buffer, "buffer", 0)
    if block > MAX_SYMBOLIC_BLOCK:
        raise BudgetError(f"information_symbolic: a block of {block} sites gives 2^{block + 2} symbolic terms; "
                          f"the limit is {MAX_SYMBOLIC_BLOCK} sites (MAX_SYMBOLIC_BLOCK)")
    K = sp.Symbol("K", positive=True) if K is None else K
    if isinstance(rule, (str, CoarseRule)):
        try:
            p = coarse_rule(rule).table(block)
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        Q = [[1 - x, x] for x in p]
    else:
        Q = [list(r) for r in rule]
        if len(Q) != 1 << block or any(len(r) != len(Q[0]) for r in Q):
            raise ModelError(f"information_symbolic: the table needs {1 << block} rows of equal length")
        if any(not isinstance(x, (sp.Basic, int)) or isinstance(x, bool) for r in Q for x in r):
            raise ModelError("information_symbolic: table entries must be sympy numbers/expressions or ints (exact)")
        Q = [[sp.sympify(x) for x in r] for r in Q]
        for k, r in enumerate(Q):
            if sp.simplify(sp.Add(*r) - 1) != 0:
                raise ModelError(f"conditional table p(h|v): row {k} does not sum to 1")
    t = sp.tanh(K)
    d = t ** (buffer + 1)
    P: dict = {}
    for k in range(1 << block):
        v = [2 * ((k >> i) & 1) - 1 for i in range(block)]
        inner = sp.Mul(*[(1 + t * v[i] * v[i + 1]) for i in range(block - 1)])
        for e in range(4):
            el, er = 2 * (e & 1) - 1, 2 * (e >> 1) - 1
            P[k, e] = sp.factor(inner * (1 + d * el * v[0]) * (1 + d * v[-1] * er) / 2 ** (block + 2))
    nv, nh = 1 << block, len(Q[0])
    pv = {k: sp.factor(sp.Add(*[P[k, e] for e in range(4)])) for k in range(nv)}
    pe = {e: sp.factor(sp.Add(*[P[k, e] for k in range(nv)])) for e in range(4)}
    PH = {(j, e): sp.factor(sp.Add(*[P[k, e] * Q[k][j] for k in range(nv)])) for j in range(nh) for e in range(4)}
    ph = {j: sp.factor(sp.Add(*[PH[j, e] for e in range(4)])) for j in range(nh)}

    def term(p: sp.Expr, q: sp.Expr) -> sp.Expr:
        return sp.Integer(0) if p == 0 else p * sp.log(sp.factor(sp.cancel(p / q)))

    I_VE = sp.Add(*[term(P[k, e], pv[k] * pe[e]) for k in range(nv) for e in range(4)])
    I_HE = sp.Add(*[term(PH[j, e], ph[j] * pe[e]) for j in range(nh) for e in range(4)])
    loss = sp.Add(*[term(P[k, e] * Q[k][j], pv[k] * Q[k][j] * PH[j, e] / ph[j])
                    for k in range(nv) for e in range(4) for j in range(nh) if Q[k][j] != 0])
    return SymbolicInformation(K, I_VE, I_HE, loss, _rule_label(rule), block, buffer)


# ----------------------------------------------------------------------------------
# finite lattices by enumeration
# ----------------------------------------------------------------------------------
def _cell_distance(a: Sequence[int], b: Sequence[int], shape: Sequence[int], periodic: bool) -> int:
    """Largest coordinate difference (minimum image when periodic)."""
    out = 0
    for x, y, L in zip(a, b, shape):
        d = abs(x - y)
        if periodic:
            d = min(d, L - d)
        out = max(out, d)
    return out


def lattice_information(
    model: LatticeModel,
    values: Mapping,
    block_sites: Sequence[int],
    rule: Any,
    buffer: int = 0,
    rule_values: Mapping | None = None,
    unit: str = "nats",
) -> CoarseGrainingInformation:
    """``I(V:E)``, ``I(H:E)``, ``I(V:E|H)`` on a finite lattice by exact enumeration.

    The buffer holds every site within ``buffer`` cells of a block site in every lattice
    coordinate (a square shell of width ``L_B`` on the square lattice; minimum image when
    periodic); the environment is every other site.  All ``2^N`` configurations are
    enumerated (``N <= MAX_INFO_SITES``), so this serves small 2D patches and as an
    independent check of the chain routes.

    Parameters
    ----------
    model : LatticeModel on a finite lattice
    values : mapping
        Value of every coupling of the model.
    block_sites : sequence of int
        Site indices of the block, in the order of the rule's block positions.
    rule : str, CoarseRule or array-like
        See :func:`conditional_table`.
    buffer : int
    rule_values : mapping, optional
        Values of symbolic rule parameters.
    unit : {"nats", "bits"}

    Raises
    ------
    BudgetError
        More than ``MAX_INFO_SITES`` sites.
    ModelError
        Bad sites, no environment, or an invalid rule/table.

    Examples
    --------
    >>> from symrg.rg.lattice import square, ising_model
    >>> m = ising_model(square(4, 4, periodic=False), {"K": 1})
    >>> r = lattice_information(m, {"K": 0.3}, [5, 6, 9, 10], coarse_rule("majority", tie="random"))
    >>> r.I_VE > r.I_HE > 0
    True
    """
    lat = model.lattice
    if lat.shape is None:
        raise ModelError("lattice_information needs a finite lattice (give the lattice a shape)")
    n = lat.num_sites
    if n > MAX_INFO_SITES:
        raise BudgetError(f"lattice of {n} sites: 2^{n} configurations, above the limit of {MAX_INFO_SITES} sites (MAX_INFO_SITES)")
    buffer = _int_arg(buffer, "buffer", 0)
    blk = [_int_arg(s, "block site", 0) for s in block_sites]
    if not blk or len(set(blk)) != len(blk) or max(blk) >= n:
        raise ModelError(f"block_sites must be distinct site indices in 0..{n - 1}, got {list(block_sites)!r}")
    if len(blk) > MAX_INFO_BLOCK:
        raise BudgetError(f"block of {len(blk)} sites above the limit of {MAX_INFO_BLOCK} sites (MAX_INFO_BLOCK)")
    factor = _unit_factor("nats", unit)
    Q = conditional_table(rule, len(blk), rule_values)
    coords = lat.sites()
    buf = [i for i in range(n) if i not in blk and min(_cell_distance(coords[i], coords[j], lat.shape, lat.periodic) for j in blk) <= buffer]
    env = [i for i in range(n) if i not in blk and i not in buf]
    if not env:
        raise ModelError(f"no environment: the block and its buffer of {buffer} cover all {n} sites")
    try:
        X = configurations(n, "spin")
        logw = model.log_weight(X, values)
    except ValueError as exc:
        raise ModelError(str(exc)) from None
    w = np.exp(logw - logw.max())
    bits = (X > 0).astype(np.int64)
    vidx = bits[:, blk] @ (1 << np.arange(len(blk)))
    eidx = bits[:, env] @ (1 << np.arange(len(env)))
    P = np.zeros((1 << len(blk), 1 << len(env)))
    np.add.at(P, (vidx, eidx), w)
    I_VE, I_HE, loss = joint_information(P, Q)
    label = f"{lat!r}, {len(env)} environment sites, " + ", ".join(f"{k} = {v}" for k, v in values.items())
    return CoarseGrainingInformation(I_VE * factor, I_HE * factor, loss * factor, unit, label, _rule_label(rule), len(blk), buffer)

