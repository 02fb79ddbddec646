"""Real-space block RG: exact renormalized hamiltonians, the cumulant expansion, information.

Convention (kept throughout symrg, docs/conventions.md, "Block RG"): fine spins are ``x``, coarse spins
are ``h``; the fine model has ``p(x) ∝ exp(-K(x))``, blocks ``x_j`` carry one coarse spin
``h_j`` each, drawn from a rule ``p(h_j | x_j)`` (:mod:`symrg.rg.coarse`), and the
renormalized hamiltonian is defined by

    exp(-K'(h)) = sum_x prod_j p(h_j | x_j) exp(-K(x))          (Z is preserved).

Couplings are always reported in the convention of the input models, as the coefficients
of the *log-weight*: ``-K'(h) = sum_S g'_S prod_{j in S} h_j`` (so a ferromagnetic
renormalized bond has ``g' > 0``, like the ``K`` of ``exp(K x x')``).

Two routes:

* exact, numeric, on finite lattices (:func:`exact_renormalization`): ``K'(h)`` for every
  coarse configuration by enumeration of the fine configurations (size-guarded) or, for
  periodic chains, by block transfer matrices; then every coupling (every range, every
  multi-spin order) by the Walsh transform of :mod:`symrg.engine.multilinear`;
* the cumulant expansion (:func:`cumulant_rg`), symbolic, on the infinite lattice: split
  ``K = K_0 + K_1`` (intra-block terms in ``K_0``; inter-block terms and, by default, the
  fields in ``K_1``), then with ``V = -K_1``

      -K'(h) = sum_j [log Z_0 + log p_0(h_j)] + sum_{n>=1} kappa_n(V | h) / n!,

  which is docs/block_rg.md's ``-log Z_0 - sum_j log p_0(h_j) - sum_n (-1)^n C_n(h) / n!`` with
  ``C_n`` the cumulants of ``K_1 = -V`` under ``p_0(x | h) = prod_j p_0(x_j | h_j)``.
  Because the blocks are independent under ``p_0``, ``kappa_n`` is a sum of joint
  cumulants of connected clusters of ``n`` terms; the engine enumerates the clusters
  from the lattice geometry, computes each joint cumulant exactly in the block moments
  ``E[prod_{i in A} x_i | h] = alpha_A + beta_A h`` (polynomials with rational
  coefficients), and substitutes the block moments' closed forms at the end.
  The *counting* decides which clusters are kept: plain cumulant order ``n`` (every
  product of couplings up to ``n`` terms), or weights per coupling (the
  Niemeijer-van Leeuwen counting: ``{K: 1, h: 1, L: 2, M: 2}`` at order 2).

The mutual information ``I(H:E)`` between a coarse spin and its environment for chain rules
is computed exactly by :func:`mutual_information_chain`.

Examples
--------
>>> import sympy as sp
>>> from symrg.rg.lattice import chain, ising_model, chain_blocks
>>> from symrg.rg.coarse import decimation
>>> model = ising_model(chain(), {"K": 1})
>>> res = cumulant_rg(model, chain_blocks(model.lattice, 2), decimation(), 1)
>>> K = model.couplings[0]
>>> res.images[K]
K*tanh(K)
>>> ring = ising_model(chain(8), {"K": 1})
>>> ex = exact_renormalization(ring, chain_blocks(ring.lattice, 2), decimation(), {"K": 0.3})
>>> round(ex.coupling((0, 1)), 12), round(float(sp.log(sp.cosh(0.6)) / 2), 12)
(0.085067643389, 0.085067643389)
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from symrg.rg.coarse import CoarseRule, coarse_rule
from symrg.rg.lattice import BlockPartition, Interaction, Lattice, LatticeModel
from symrg.engine.multilinear import configurations, couplings_by_order, exact_couplings, mask_to_subset
from symrg.model.frozen import array_hash, arrays_equal, freeze, readonly_array
from symrg.rg.recursion import RecursionMap

__all__ = [
    "ExactRenormalization",
    "exact_renormalization",
    "CumulantRG",
    "cumulant_rg",
    "mutual_information_chain",
    "MAX_ENUMERATION_SITES",
    "MAX_COARSE_SITES",
    "MAX_TRANSFER_BLOCK",
    "MAX_CLUSTERS",
]

#: largest number of fine sites enumerated by the exact route (2^22 configurations)
MAX_ENUMERATION_SITES = 22
#: largest number of coarse sites (2^24 coarse configurations, the Walsh transform limit)
MAX_COARSE_SITES = 24
#: largest block size of the transfer-matrix route (matrices of 2^b x 2^b)
MAX_TRANSFER_BLOCK = 10
#: largest number of clusters the cumulant expansion will enumerate
MAX_CLUSTERS = 200_000


# ----------------------------------------------------------------------------------
# exact route
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExactRenormalization:
    """The exact renormalized hamiltonian of a finite lattice and all its couplings.

    Attributes
    ----------
    model, blocks, rule
        The input.
    values : tuple
        ``(coupling name, value)`` pairs used.
    method : str
        ``"enumeration"`` or ``"transfer matrix"``.
    hamiltonian : ndarray (read-only)
        ``K'(h)`` for every coarse configuration (bit ``j`` of the index is ``h_j``,
        ``h_j = 2 bit - 1``; block ``j`` is ``blocks.blocks()[j]``).
    couplings : ndarray (read-only)
        Walsh coefficients of the log-weight ``-K'(h)``, indexed by block-subset bitmask
        (entry 0: the constant).
    log_z : float
        ``log sum_h exp(-K'(h))``, the fine partition function.
    """

    model: LatticeModel
    blocks: BlockPartition
    rule: CoarseRule
    values: tuple
    method: str
    hamiltonian: np.ndarray = field(repr=False)
    couplings: np.ndarray = field(repr=False)
    log_z: float

    def __post_init__(self) -> None:
        # read-only copies: the result is a value (== and hash below compare the arrays)
        object.__setattr__(self, "hamiltonian", readonly_array(self.hamiltonian))
        object.__setattr__(self, "couplings", readonly_array(self.couplings))

    def _key(self) -> tuple:
        return (self.model, self.blocks, self.rule, self.values, self.method, self.log_z)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExactRenormalization):
            return NotImplemented
        return (
            self._key() == other._key()
            and arrays_equal(self.hamiltonian, other.hamiltonian)
            and arrays_equal(self.couplings, other.couplings)
        )

    def __hash__(self) -> int:
        return hash((self._key(), array_hash(self.couplings)))

    def text(self, tol: float = 1e-12, limit: int = 8) -> str:
        """Summary: the method, log Z and the largest couplings of each order."""
        lines = [f"exact renormalization ({self.method}) of {len(self.hamiltonian)} coarse configurations "
                 f"on {self.num_blocks} blocks; log Z = {self.log_z:.12g}"]
        for order, rows in self.table(tol).items():
            if order == 0:
                continue
            top = sorted(rows.items(), key=lambda kv: (-round(abs(kv[1]), 12), kv[0]))[:limit]
            more = f" (+{len(rows) - len(top)} more)" if len(rows) > len(top) else ""
            lines.append(f"  order {order}: " + ", ".join(f"g'{list(k)} = {v:.6g}" for k, v in top) + more)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def latex(self, tol: float = 1e-12, limit: int = 8) -> str:
        """The largest couplings of each order as ``g'_{S} = value``, one row per order."""
        rows = []
        for order, table in self.table(tol).items():
            if order == 0:
                continue
            top = sorted(table.items(), key=lambda kv: (-round(abs(kv[1]), 12), kv[0]))[:limit]
            rows.append(rf"\text{{order {order}}} &: " + ", ".join(
                rf"g'_{{{','.join(map(str, k))}}} = {sp.latex(sp.Float(v, 6))}" for k, v in top))
        rows.append(rf"\log Z &= {sp.latex(sp.Float(self.log_z, 12))}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"

    @property
    def num_blocks(self) -> int:
        return int(self.couplings.shape[0]).bit_length() - 1

    def coupling(self, blocks: Sequence[int]) -> float:
        """The coupling ``g'_S`` of the product of the coarse spins of ``blocks``."""
        mask = 0
        for j in blocks:
            if not 0 <= int(j) < self.num_blocks:
                raise ValueError(f"block index {j} out of range 0..{self.num_blocks - 1}")
            mask |= 1 << int(j)
        return float(self.couplings[mask])

    def table(self, tol: float = 1e-12) -> dict:
        """``{order: {blocks: g'}}`` for couplings above ``tol`` (see ``couplings_by_order``)."""
        return couplings_by_order(self.couplings, tol=tol)

    def block_centres(self) -> np.ndarray:
        """Cartesian centres of the blocks (unwrapped around each block's first site)."""
        lat = self.model.lattice
        pos = lat.positions()
        out = []
        for blk in self.blocks.blocks():
            p0 = pos[blk[0]]
            rel = [_min_image(pos[i] - p0, lat) for i in blk]
            out.append(p0 + np.mean(rel, axis=0))
        return np.array(out)

    def extent(self, mask: int) -> float:
        """Largest distance between two blocks of the subset ``mask``, in coarse units
        (block-centre distance over the scale factor; minimum image when periodic)."""
        sub = mask_to_subset(mask)
        if len(sub) < 2:
            return 0.0
        c = self.block_centres()
        b = float(self.blocks.scale_factor)
        lat = self.model.lattice
        return max(float(np.linalg.norm(_min_image(c[i] - c[j], lat))) / b for i, j in itertools.combinations(sub, 2))

    def range_profile(self, tol: float = 1e-12) -> dict:
        """``{(order, extent): max |g'|}`` over couplings above ``tol`` (order >= 1);
        extents rounded to 9 digits.  Measures how far renormalized interactions reach."""
        out: dict = {}
        for mask in np.flatnonzero(np.abs(self.couplings) > tol):
            mask = int(mask)
            if mask == 0:
                continue
            key = (len(mask_to_subset(mask)), round(self.extent(mask), 9))
            out[key] = max(out.get(key, 0.0), abs(float(self.couplings[mask])))
        return dict(sorted(out.items()))


def _min_image(v: np.ndarray, lat: Lattice) -> np.ndarray:
    """Shortest periodic image of a displacement ``v`` (cartesian)."""
    if not lat.periodic or lat.shape is None:
        return v
    B = np.array([[float(c) for c in a] for a in lat.basis])
    periods = [L * B[i] for i, L in enumerate(lat.shape)]
    best = v
    for shifts in itertools.product((-1, 0, 1), repeat=len(periods)):
        w = v + sum(s * p for s, p in zip(shifts, periods))
        if np.linalg.norm(w) < np.linalg.norm(best) - 1e-12:
            best = w
    return best


def _check_same_lattice(model: LatticeModel, blocks: BlockPartition) -> None:
    if blocks.lattice != model.lattice:
        raise ValueError(f"blocks are defined on {blocks.lattice!r} but the model lives on {model.lattice!r}")


def exact_renormalization(
    model: LatticeModel,
    blocks: BlockPartition,
    rule: "CoarseRule | str",
    values: Mapping,
    method: str = "auto",
) -> ExactRenormalization:
    """Exact ``K'(h)`` of a finite lattice and all its couplings (Walsh transform).

    Parameters
    ----------
    model : LatticeModel on a finite lattice
    blocks : BlockPartition of the same lattice
    rule : CoarseRule or rule name
    values : mapping
        Numeric value of every coupling (and of symbolic rule parameters), by symbol or name.
    method : {"auto", "enumeration", "transfer"}
        ``"transfer"`` needs a periodic chain whose interactions reach at most into the
        next block; ``"auto"`` picks it for periodic chains, enumeration otherwise.

    Raises
    ------
    ValueError
        Lattice too large to enumerate (more than ``MAX_ENUMERATION_SITES`` fine sites),
        more than ``MAX_COARSE_SITES`` blocks, or unknown method.

    Examples
    --------
    >>> from symrg.rg.lattice import chain, ising_model, chain_blocks
    >>> m = ising_model(chain(12), {"K": 1})
    >>> a = exact_renormalization(m, chain_blocks(m.lattice, 3), "majority", {"K": 0.5}, "enumeration")
    >>> b = exact_renormalization(m, chain_blocks(m.lattice, 3), "majority", {"K": 0.5}, "transfer")
    >>> bool(abs(a.couplings - b.couplings).max() < 1e-12)
    True
    """
    _check_same_lattice(model, blocks)
    lat = model.lattice
    if lat.shape is None:
        raise ValueError("exact_renormalization needs a finite lattice (give the lattice a shape); use cumulant_rg for the infinite lattice")
    rule = coarse_rule(rule)
    methods = ("auto", "enumeration", "transfer")
    if method not in methods:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(methods)}")
    is_ring = lat.dim == 1 and lat.periodic
    if method == "auto":
        method = "transfer" if is_ring else "enumeration"
    names = {str(c) for c in model.couplings}
    coupling_vals = {k: v for k, v in values.items() if str(k) in names}
    rule_vals = {k: v for k, v in values.items() if str(k) not in names}
    table = rule.numeric_table(blocks.size, rule_vals)
    nblocks = lat.num_sites // blocks.size
    if nblocks > MAX_COARSE_SITES:
        raise ValueError(f"{nblocks} blocks give 2^{nblocks} coarse configurations, above the limit of {MAX_COARSE_SITES} coarse sites (MAX_COARSE_SITES)")
    if method == "transfer":
        if not is_ring:
            raise ValueError(f"method='transfer' needs a periodic chain, got {lat!r}")
        logz_h = _transfer_log_z(model, blocks, table, coupling_vals)
        label = "transfer matrix"
    else:
        logz_h = _enumeration_log_z(model, blocks, table, coupling_vals)
        label = "enumeration"
    if not np.all(np.isfinite(logz_h)):
        bad = int(np.flatnonzero(~np.isfinite(logz_h))[0])
        raise ValueError(f"coarse configuration {bad} has zero probability under rule {rule.name}: K'(h) is infinite there")
    m = logz_h.max()
    log_z = float(m + np.log(np.exp(logz_h - m).sum()))
    couplings = exact_couplings(logz_h, "spin")
    vals = tuple((str(k), float(v)) for k, v in values.items())
    return ExactRenormalization(model, blocks, rule, vals, label, -logz_h, couplings, log_z)


def _enumeration_log_z(model: LatticeModel, blocks: BlockPartition, table: np.ndarray, values: Mapping) -> np.ndarray:
    lat = model.lattice
    n = lat.num_sites
    if n > MAX_ENUMERATION_SITES:
        raise ValueError(
            f"lattice too large to enumerate: {n} fine sites need 2^{n} configurations, above the limit of "
            f"{MAX_ENUMERATION_SITES} sites (MAX_ENUMERATION_SITES); use the transfer-matrix route (periodic chains) "
            "or cumulant_rg"
        )
    blks = blocks.blocks()
    m = blocks.size
    perm = [i for blk in blks for i in blk]  # block-major order: block j holds bits j*m .. j*m+m-1
    C = configurations(n, "spin")
    X = np.empty_like(C)
    X[:, perm] = C
    logw = model.log_weight(X, values)
    del X, C
    top = logw.max()
    w = np.exp(logw - top)
    P = np.stack([1.0 - table, table])  # P[hbit, block configuration]
    T = w.reshape(-1, 1 << m, 1)
    for _ in range(len(blks)):
        # contract the lowest remaining block (trailing configuration axis) with p(h|x)
        T = np.einsum("rcs,hc->rhs", T, P).reshape(T.shape[0], -1)
        rest = T.shape[0] >> m
        T = T.reshape(rest, 1 << m, -1) if rest >= 1 else T
    Z = T.reshape(-1)
    with np.errstate(divide="ignore"):
        return np.log(Z) + top


def _block_terms_chain(model: LatticeModel, b: int, values: Mapping) -> list[tuple[float, tuple[int, ...]]]:
    """Terms assigned to block 0 of a chain (leftmost site in 0..b-1), sites within 0..2b-1."""
    from symrg.rg.lattice import _coupling_values

    vals = _coupling_values(model.couplings, values)
    out = []
    for a, it in enumerate(model.interactions):
        for p in it.patterns:
            offs = sorted(o[0] for o in p)
            for s in range(b):
                sites = tuple(s + o - offs[0] for o in offs)
                if sites[-1] >= 2 * b:
                    raise ValueError(
                        f"interaction {it.label} reaches {sites[-1] - sites[0]} sites, beyond the next block "
                        f"(block size {b}); the transfer-matrix route needs blocks at least as long as the range"
                    )
                out.append((vals[a], sites))
    return out


def _transfer_log_z(model: LatticeModel, blocks: BlockPartition, table: np.ndarray, values: Mapping) -> np.ndarray:
    lat = model.lattice
    b = blocks.size
    if b > MAX_TRANSFER_BLOCK:
        raise ValueError(f"block size b={b} is above the transfer-matrix limit of {MAX_TRANSFER_BLOCK} sites (MAX_TRANSFER_BLOCK)")
    if blocks.motif != tuple((i,) for i in range(b)):
        raise ValueError("the transfer-matrix route needs blocks of consecutive sites (chain_blocks)")
    nb = lat.shape[0] // b
    terms = _block_terms_chain(model, b, values)
    D = 1 << b
    # spins of two consecutive blocks: block state c (bits 0..b-1), next block state c'
    cc = configurations(2 * b, "spin").astype(np.float64)  # row = c + D c'
    logw = np.zeros(D * D)
    for g, sites in terms:
        logw += g * np.prod(cc[:, list(sites)], axis=1)
    W = np.exp(logw.reshape(D, D).T)  # W[c, c'] (row index c + D c' reshaped as [c', c])
    Mm = (1.0 - table)[:, None] * W
    Mp = table[:, None] * W

    def products(count: int) -> tuple[np.ndarray, np.ndarray]:
        P = np.eye(D)[None]
        scale = np.zeros(1)
        for _ in range(count):
            P = np.concatenate([P @ Mm, P @ Mp])  # new bit is the highest: h = -1 first
            scale = np.concatenate([scale, scale])
            top = P.reshape(P.shape[0], -1).max(axis=1)
            top[top == 0] = 1.0
            P /= top[:, None, None]
            scale += np.log(top)
        return P, scale

    n1 = nb // 2
    A, sa = products(n1)
    B, sb = products(nb - n1)
    # tr(A_a B_b) = sum_ij A_a[i, j] B_b[j, i]
    Z = A.reshape(A.shape[0], -1) @ B.transpose(0, 2, 1).reshape(B.shape[0], -1).T  # Z[a, b]
    with np.errstate(divide="ignore"):
        logz = np.log(Z) + sa[:, None] + sb[None, :]
    return logz.T.reshape(-1)  # index a + 2^n1 b


# ----------------------------------------------------------------------------------
# exact polynomial arithmetic for the cumulant expansion
# ----------------------------------------------------------------------------------
# A "walsh polynomial" is a dict {(frozenset of blocks, monomial): Fraction}, where the
# monomial is a sorted tuple of (generator, power) over block-moment generators
# ("a", A) = alpha_A and ("b", A) = beta_A.

def _mono_mul(m1: tuple, m2: tuple) -> tuple:
    if not m1:
        return m2
    if not m2:
        return m1
    d = dict(m1)
    for g, p in m2:
        d[g] = d.get(g, 0) + p
    return tuple(sorted(d.items()))


def _wmul(p: dict, q: dict) -> dict:
    out: dict = {}
    for (s1, m1), c1 in p.items():
        for (s2, m2), c2 in q.items():
            _accumulate(out, (s1 ^ s2, _mono_mul(m1, m2)), c1 * c2)
    return out


def _accumulate(out: dict, key, value) -> None:
    """``out[key] += value``, dropping the key when the sum cancels (sparse polynomials)."""
    v = out.get(key, 0) + value
    if v:
        out[key] = v
    else:
        out.pop(key, None)


def _wadd(p: dict, q: dict, sign: int = 1) -> dict:
    out = dict(p)
    for k, c in q.items():
        _accumulate(out, k, sign * c)
    return out


_ONE = {(frozenset(), ()): Fraction(1)}


def _block_factor(block: tuple, mask: int, resolve: Any) -> dict:
    """``E[x_A | h_B] = alpha_A + beta_A h_B`` as a walsh polynomial.

    ``resolve(kind, mask)`` gives each moment as 0, a Fraction or a generator key, so
    that vanishing and equal block moments never enter the polynomial algebra.
    """
    if mask == 0:
        return dict(_ONE)
    out: dict = {}
    for kind, hs in (("a", frozenset()), ("b", frozenset((block,)))):
        v = resolve(kind, mask)
        if isinstance(v, Fraction):
            if v:
                out[(hs, ())] = v
        else:
            out[(hs, ((v, 1),))] = Fraction(1)
    return out


def _joint_cumulant_walsh(cluster: Sequence[tuple], resolve: Any) -> dict:
    """Joint cumulant of the products of spins of ``cluster`` terms, as a walsh polynomial.

    Each term is a tuple ``((block, mask), ...)``.  Moments factorize over blocks under
    ``p_0(x | h)``; spins square to one, so masks combine by XOR.
    """
    n = len(cluster)
    moments = []
    for U in range(1 << n):
        masks: dict = {}
        for i in range(n):
            if U >> i & 1:
                for blk, mk in cluster[i]:
                    masks[blk] = masks.get(blk, 0) ^ mk
        mom = dict(_ONE)
        for blk, mk in sorted(masks.items()):
            if mk:
                mom = _wmul(mom, _block_factor(blk, mk, resolve))
        moments.append(mom)
    kap: list = [None] * (1 << n)
    for S in range(1, 1 << n):
        low = S & -S
        rest = S ^ low
        acc = moments[S]
        r = rest
        while True:
            if r != rest:
                acc = _wadd(acc, _wmul(kap[low | r], moments[rest ^ r]), -1)
            if r == 0:
                break
            r = (r - 1) & rest
        kap[S] = acc
    return kap[(1 << n) - 1]


# ----------------------------------------------------------------------------------
# cumulant route
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CumulantRG:
    """Result of :func:`cumulant_rg`.

    Attributes
    ----------
    model, blocks, rule, order
        The input.
    counting : tuple
        ``(coupling, weight)`` pairs: a cluster of terms is kept when the weights of its
        couplings add up to at most ``order`` (all weights 1: plain cumulant order).
    perturb_fields : bool
        Whether single-site fields are in the perturbation ``K_1`` (else in ``K_0``).
    block_moments : tuple
        ``(symbol, closed form)`` of the block moments ``alpha_A``, ``beta_A``
        (``E[prod_{i in A} x_i | h] = alpha_A + beta_A h``) left in ``raw``; moments that
        vanish identically are already set to zero, equal ones merged.
    raw : Mapping
        ``{coupling: image}`` in the couplings and the block-moment symbols (read-only).
    images : Mapping
        ``{coupling: image}`` with the block moments substituted (read-only).
    coefficients : Mapping
        ``{target blocks: coefficient of prod h_j in -K'(h)}`` in block-moment symbols,
        for every target computed (block coordinates in superlattice units).
    constant : Expr
        Constant per block of ``-K'(h)`` (block-moment symbols).
    num_clusters : int
        Connected clusters (multisets of terms containing block 0) enumerated.
    """

    model: LatticeModel
    blocks: BlockPartition
    rule: CoarseRule
    order: int
    counting: tuple
    perturb_fields: bool
    block_moments: tuple
    raw: Mapping
    images: Mapping
    coefficients: Mapping
    constant: sp.Expr
    num_clusters: int

    def __post_init__(self) -> None:
        for name in ("raw", "images", "coefficients"):
            object.__setattr__(self, name, freeze(getattr(self, name)))

    @property
    def couplings(self) -> tuple:
        return tuple(self.images)

    def text(self) -> str:
        """Summary: the counting and every coupling's image."""
        head = (f"cumulant RG at order {self.order} ({self.num_clusters} clusters, "
                f"b = {self.blocks.scale_factor}, {self.rule.name} rule):")
        return "\n".join([head] + [f"  {c}' = {sp.sstr(e)}" for c, e in self.images.items()])

    def __str__(self) -> str:
        return self.text()

    def latex(self) -> str:
        rows = [rf"{sp.latex(sp.Symbol(str(c) + chr(39)))} &= {sp.latex(e)}" for c, e in self.images.items()]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"

    @property
    def substitutions(self) -> dict:
        return dict(self.block_moments)

    def coefficient(self, target: Sequence[Sequence[int]], substitute: bool = True) -> sp.Expr:
        """Coefficient of ``prod_{j in target} h_j`` in ``-K'(h)`` (a computed target)."""
        key = _canonical_target(target)
        if key not in self.coefficients:
            raise KeyError(f"target {key} was not computed; pass it in cumulant_rg(..., targets=[...])")
        e = self.coefficients[key]
        return e.xreplace(self.substitutions) if substitute else e

    @property
    def recursion_map(self) -> RecursionMap:
        """The recursion map ``g -> g'`` of all couplings, scale factor ``b = size^(1/d)``.

        A property, as on :class:`~symrg.rg.chain.ChainDecimation`; for a subset of the
        couplings or the images in block-moment symbols use :meth:`projected_map`.
        """
        return self.projected_map()

    def projected_map(self, couplings: Sequence[Any] | None = None, substitute: bool = True, name: str | None = None) -> RecursionMap:
        """The recursion map of the ``couplings`` selected (the others are set to zero).

        ``substitute=False`` keeps the block moments as symbols (the ``raw`` images).
        """
        keep = self.couplings if couplings is None else tuple(self._sym(c) for c in couplings)
        drop = {c: 0 for c in self.couplings if c not in keep}
        src = self.images if substitute else self.raw
        images = tuple(sp.sympify(src[c]).xreplace(drop) if drop else src[c] for c in keep)
        return RecursionMap(keep, images, self.blocks.scale_factor, name=name or f"cumulant RG order {self.order}")

    def _sym(self, c: Any) -> sp.Symbol:
        for s in self.couplings:
            if s == c or str(s) == str(c):
                return s
        raise KeyError(f"unknown coupling {c!s}; valid names: {', '.join(map(str, self.couplings))}")


def _canonical_target(target: Sequence[Sequence[int]]) -> tuple:
    """Translate a set of block coordinates so that its smallest block is at the origin."""
    blocks = sorted(tuple(int(c) for c in t) for t in target)
    if not blocks:
        return ()
    o = blocks[0]
    return tuple(sorted(tuple(c - d for c, d in zip(t, o)) for t in blocks))


def _coarse_targets(model: LatticeModel, blocks: BlockPartition, projection: Mapping | None) -> dict:
    """``{coupling: [targets]}``: the coarse block sets each coupling is projected onto."""
    lat = model.lattice
    coarse = blocks.coarse_lattice()
    out: dict = {}
    for it in model.interactions:
        spec = None if projection is None else projection.get(it.coupling, projection.get(str(it.coupling)))
        if projection is not None and spec is None:
            continue
        if spec is None:
            if it.order == 1:
                spec = "field"
            elif it.order == 2:
                p = it.patterns[0]
                d2 = lat.distance2(tuple(b - a for a, b in zip(p[0], p[1])))
                shell = next((k for k in range(1, 13) if lat.shell_distance2(k) == d2), None)
                if shell is None:
                    raise ValueError(f"interaction {it.label}: no neighbour shell found; give a projection")
                spec = shell
            else:
                spec = it.patterns
        if spec == "field":
            targets = [((0,) * lat.dim,)]
        elif isinstance(spec, (int, np.integer)):
            zero = (0,) * lat.dim
            vs = coarse.shell_vectors(int(spec))
            targets = [(zero, tuple(v)) for v in vs]
        elif isinstance(spec, Interaction):
            targets = list(spec.patterns)
        else:
            targets = list(spec)
        out[it.coupling] = [_canonical_target(t) for t in targets]
    return out


def _random_point(symbols: Sequence[sp.Symbol], rng: random.Random) -> dict:
    return {s: sp.Rational(rng.randint(-700, 700), 1000) for s in symbols}


def _numeric_equal(e1: sp.Expr, e2: sp.Expr, symbols: Sequence[sp.Symbol], seed: int = 3) -> bool:
    """Equality of two closed forms at random rational points (40 digits)."""
    rng = random.Random(seed)
    for _ in range(3):
        pt = _random_point(symbols, rng)
        d = sp.N((e1 - e2).xreplace(pt), 40)
        if not d.is_number or abs(complex(d)) > 1e-30:
            return False
    return True


def cumulant_rg(
    model: LatticeModel,
    blocks: BlockPartition,
    rule: "CoarseRule | str",
    order: int,
    *,
    counting: "Mapping | str | None" = None,
    projection: Mapping | None = None,
    targets: Sequence[Sequence[Sequence[int]]] = (),
    perturb_fields: bool = True,
) -> CumulantRG:
    """Cumulant expansion of the renormalized hamiltonian on the infinite lattice.

    Parameters
    ----------
    model : LatticeModel on an infinite lattice (``shape=None``)
    blocks : BlockPartition of the same lattice
    rule : CoarseRule or rule name
    order : int >= 1
        Truncation order.
    counting : None, "cumulant" or mapping
        None/"cumulant": keep every cluster of at most ``order`` terms (every product of
        couplings in the first ``order`` cumulants).  A mapping ``{coupling: weight}``
        (positive integers, default 1) keeps the clusters whose weights sum to at most
        ``order``; ``{K: 1, h: 1, L: 2, M: 2}`` at order 2 is the Niemeijer-van Leeuwen
        counting in which further-neighbour couplings count as ``O(K^2)``.
    projection : mapping, optional
        ``{coupling: coarse spec}`` with spec a coarse shell number, ``"field"``, a coarse
        :class:`Interaction` or a list of block-coordinate tuples.  Default: the same kind
        on the coarse lattice (shell k -> coarse shell k, field -> field, other patterns
        unchanged).  The image is the average of the coefficients over the spec's
        patterns (the orthogonal projection onto the isotropic coupling).
    targets : sequence of block-coordinate sets
        Further coarse couplings to compute (found in ``coefficients``).
    perturb_fields : bool
        Put single-site fields in the perturbation (docs/block_rg.md, Niemeijer-van Leeuwen; default) or in
        the block hamiltonian ``K_0``.

    Raises
    ------
    ValueError
        Finite lattice, bad order or counting, or more than ``MAX_CLUSTERS`` clusters.

    Examples
    --------
    >>> import sympy as sp
    >>> from symrg.rg.lattice import triangular, ising_model, triangular_blocks
    >>> model = ising_model(triangular(), {"K": 1, "h": "field"})
    >>> res = cumulant_rg(model, triangular_blocks(model.lattice), "majority", 1)
    >>> K, h = model.couplings
    >>> res.raw[K], res.raw[h]
    (2*K*beta_0**2, 3*beta_0*h)
    >>> res.block_moments
    ((beta_0, (exp(4*K) + 1)/(exp(4*K) + 3)),)
    """
    _check_same_lattice(model, blocks)
    if model.lattice.shape is not None:
        raise ValueError("cumulant_rg works on the infinite lattice (shape=None); use exact_renormalization for finite lattices")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    order = int(order)
    rule = coarse_rule(rule)
    weights = _weights(model, counting)
    m = blocks.size
    zero = (0,) * model.lattice.dim

    # -- split the terms touching block 0 into K_0 (intra) and V (inter) --------------
    intra: list = []  # (interaction position, mask)
    inter0: list = []  # (interaction position, ((block, mask), ...))
    for a, it in enumerate(model.interactions):
        for t in blocks.terms_touching(it, zero):
            bm: dict = {}
            for s in t:
                c, k = blocks.locate(s)
                bm[c] = bm.get(c, 0) | (1 << k)
            if len(bm) == 1 and (it.order > 1 or not perturb_fields):
                intra.append((a, bm[zero]))
            else:
                inter0.append((a, tuple(sorted(bm.items()))))

    # -- block distribution: closed forms of the block moments ------------------------
    table = rule.table(m)
    confs = [tuple(2 * ((k >> i) & 1) - 1 for i in range(m)) for k in range(1 << m)]
    syms = model.couplings

    def xprod(c: tuple, mask: int) -> int:
        out = 1
        for i in range(m):
            if mask >> i & 1:
                out *= c[i]
        return out

    w0 = [sp.exp(sp.Add(*[syms[a] * xprod(c, mk) for a, mk in intra])) for c in confs]
    den = {hv: sp.Add(*[w * (p if hv > 0 else 1 - p) for w, p in zip(w0, table)]) for hv in (1, -1)}
    for hv in (1, -1):
        if den[hv] == 0:
            raise ValueError(f"rule {rule.name} never gives h = {hv:+d} on blocks of {m} sites; K'(h) is infinite there")
    mom_cache: dict = {}

    def moment(mask: int) -> tuple[sp.Expr, sp.Expr]:
        if mask not in mom_cache:
            mu = {}
            for hv in (1, -1):
                num = sp.Add(*[w * (p if hv > 0 else 1 - p) * xprod(c, mask) for w, p, c in zip(w0, table, confs)])
                mu[hv] = num / den[hv]
            mom_cache[mask] = (_tidy((mu[1] + mu[-1]) / 2), _tidy((mu[1] - mu[-1]) / 2))
        return mom_cache[mask]

    # -- translated term lists ---------------------------------------------------------
    def shifted(B: tuple) -> list:
        return [(a, tuple(sorted((tuple(x + y for x, y in zip(blk, B)), mk) for blk, mk in bm))) for a, bm in inter0]

    touching: dict = {}

    def terms_at(B: tuple) -> list:
        if B not in touching:
            touching[B] = shifted(B)
        return touching[B]

    # -- connected clusters containing block 0 -----------------------------------------
    def weight(term: tuple) -> int:
        return weights[term[0]]

    level = {(t,) for t in terms_at(zero) if weight(t) <= order}
    clusters = set(level)
    size = 1
    while level:
        size += 1
        nxt = set()
        for cl in level:
            wsum = sum(weight(t) for t in cl)
            support = {blk for t in cl for blk, _ in t[1]}
            for B in support:
                for t in terms_at(B):
                    if wsum + weight(t) <= order:
                        nxt.add(tuple(sorted(cl + (t,))))
            if len(clusters) + len(nxt) > MAX_CLUSTERS:
                raise ValueError(f"the cumulant expansion at order {order} needs more than {MAX_CLUSTERS} clusters (MAX_CLUSTERS)")
        level = nxt - clusters
        clusters |= level

    # -- block moments: zeros, exact numbers and equal closed forms resolved once -------
    free_syms = sorted(set(syms) | set(rule.symbols), key=str)
    gen_closed: dict = {}  # generator key -> closed form
    resolved: dict = {}

    def resolve(kind: str, mask: int) -> Any:
        key = (kind, mask)
        if key not in resolved:
            e = moment(mask)[0 if kind == "a" else 1]
            if e == 0 or _numeric_equal(e, sp.S.Zero, free_syms):
                resolved[key] = Fraction(0)
            elif e.is_Rational:
                resolved[key] = Fraction(int(e.p), int(e.q))
            else:
                twin = next((g for g, c in gen_closed.items() if _numeric_equal(e, c, free_syms)), None)
                if twin is None:
                    gen_closed[key] = e
                    twin = key
                resolved[key] = twin
        return resolved[key]

    kappa_cache: dict = {}

    def cumulant_of(cl: tuple) -> dict:
        # clusters related by a translation share their cumulant up to relabelled blocks
        blocks_ = sorted({blk for t in cl for blk, _ in t[1]})
        o = blocks_[0]
        canon = tuple(sorted((a, tuple((tuple(x - y for x, y in zip(blk, o)), mk) for blk, mk in bm)) for a, bm in cl))
        if canon not in kappa_cache:
            kappa_cache[canon] = _joint_cumulant_walsh([t[1] for t in canon], resolve)
        kap0 = kappa_cache[canon]
        if not any(o):
            return kap0
        return {(frozenset(tuple(x + y for x, y in zip(blk, o)) for blk in hs), mono): c for (hs, mono), c in kap0.items()}

    # -- targets ---------------------------------------------------------------------
    per_coupling = _coarse_targets(model, blocks, projection)
    all_targets = {t for ts in per_coupling.values() for t in ts} | {_canonical_target(t) for t in targets}
    for t in all_targets:
        if t and zero not in t:  # pragma: no cover - canonical targets contain the origin
            raise AssertionError(t)
    acc: dict = {t: {} for t in all_targets}  # target -> {(coupling monomial, moment monomial): Fraction}
    const_acc: dict = {}
    for cl in clusters:
        kap = cumulant_of(cl)
        if not kap:
            continue
        mult = 1
        for t, grp in itertools.groupby(cl):
            mult *= math.factorial(len(list(grp)))
        gmono = tuple(sorted(t[0] for t in cl))
        support = frozenset(blk for t in cl for blk, _ in t[1])
        for (hs, mono), c in kap.items():
            if not hs:
                key = (gmono, mono)
                const_acc[key] = const_acc.get(key, 0) + c / mult / len(support)
            elif zero in hs:
                tkey = tuple(sorted(hs))
                if tkey in acc:
                    key = (gmono, mono)
                    acc[tkey][key] = acc[tkey].get(key, 0) + c / mult

    # -- back to sympy -------------------------------------------------------------------
    gen_syms: dict = {}

    def gsym(gen: tuple) -> sp.Symbol:
        if gen not in gen_syms:
            # equal moments share one symbol, named after the smallest of their masks
            same = [k for k, v in resolved.items() if v == gen]
            kind, mk = min(same, key=lambda k: (k[0], bin(k[1]).count("1"), k[1]))
            label = "".join(str(i) for i in range(m) if mk >> i & 1)
            gen_syms[gen] = sp.Symbol(("alpha_" if kind == "a" else "beta_") + label, real=True)
        return gen_syms[gen]

    def to_expr(d: dict) -> sp.Expr:
        terms = []
        for (gmono, mono), c in d.items():
            e = sp.Rational(c.numerator, c.denominator)
            for a in gmono:
                e *= syms[a]
            for gen, p in mono:
                e *= gsym(gen) ** p
            terms.append(e)
        return sp.Add(*terms)

    coeffs = {t: to_expr(acc[t]) for t in acc}
    const_expr = to_expr(const_acc)
    # per-block terms log Z_0 + log p_0(h): constant and field
    lp, lm = sp.log(den[1]), sp.log(den[-1])
    field_key = (zero,)
    block_field = sp.simplify((lp - lm) / 2)
    if field_key in coeffs:
        coeffs[field_key] = coeffs[field_key] + block_field
    const_expr = const_expr + (lp + lm) / 2

    # -- closed forms of the block moments that remain ------------------------------------
    used = {g for e in list(coeffs.values()) + [const_expr] for g in e.free_symbols}
    kept = sorted((gen_syms[k] for k in gen_closed if k in gen_syms and gen_syms[k] in used), key=str)
    closed = {gen_syms[k]: c for k, c in gen_closed.items() if k in gen_syms}
    coeffs = {t: sp.expand(e) for t, e in coeffs.items()}
    moments = tuple((s, closed[s]) for s in kept)
    sub = dict(moments)
    raw = {}
    for c, ts in per_coupling.items():
        raw[c] = sp.factor_terms(sp.expand(sp.Add(*[coeffs[t] for t in ts]) / len(ts)))
    images = {c: e.xreplace(sub) for c, e in raw.items()}
    return CumulantRG(
        model=model,
        blocks=blocks,
        rule=rule,
        order=order,
        counting=tuple((syms[a], weights[a]) for a in range(len(syms))),
        perturb_fields=perturb_fields,
        block_moments=moments,
        raw=raw,
        images=images,
        coefficients=coeffs,
        constant=const_expr,
        num_clusters=len(clusters),
    )


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Shortest of a block moment and its simplification (presentation; value unchanged)."""
    e = sp.together(expr)
    cands = [e]
    if sp.count_ops(e) < 150:
        cands.append(sp.simplify(e))
    return min(cands, key=lambda c: (sp.count_ops(c), len(str(c))))


def _weights(model: LatticeModel, counting: Any) -> list[int]:
    if counting is None or counting == "cumulant":
        return [1] * len(model.couplings)
    if isinstance(counting, str) or not isinstance(counting, Mapping):
        raise ValueError(f"counting must be None, 'cumulant' or a mapping {{coupling: weight}}, got {counting!r}")
    names = {str(c): i for i, c in enumerate(model.couplings)}
    out = [1] * len(model.couplings)
    for k, v in counting.items():
        if str(k) not in names:
            raise ValueError(f"counting: unknown coupling {k!s}; valid names: {', '.join(names)}")
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"counting: the weight of {k} must be a positive integer, got {v!r}")
        out[names[str(k)]] = int(v)
    return out


# ----------------------------------------------------------------------------------
# mutual information
# ----------------------------------------------------------------------------------
def mutual_information_chain(
    K: float,
    rule: "CoarseRule | str",
    b: int,
    buffer: int = 0,
    h: float = 0.0,
    values: Mapping | None = None,
    dps: int = 30,
) -> float:
    """Exact ``I(H:E)`` of a coarse spin and its environment in the infinite Ising chain.

    The chain has weight ``exp(sum_i [K x_i x_{i+1} + h x_i])``; the coarse spin ``H`` of a
    block of ``b`` sites is drawn from ``rule``; the environment ``E`` is every spin
    farther than ``buffer`` sites from the block (Lenggenhager et al.).  Because the
    chain is Markov, ``I(H:E) = I(H : e_L, e_R)`` with ``e_L``, ``e_R`` the environment spins
    nearest to the block; their joint law with the block follows from the transfer
    matrix ``T = [exp(K s s' + h (s + s')/2)]`` and its Perron eigenvector ``v``:
    ``p(x_1..x_n) = v(x_1) prod T(x_i, x_{i+1}) v(x_n) / lambda^(n-1)``.

    Returns the mutual information in nats (computed with ``dps`` digits).

    Examples
    --------
    >>> round(mutual_information_chain(0.0, "decimation", 2), 12)     # no correlations
    0.0
    >>> 0 < mutual_information_chain(0.5, "decimation", 2) < mutual_information_chain(1.0, "decimation", 2)
    True
    """
    rule = coarse_rule(rule)
    if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
        raise ValueError(f"b must be a positive integer, got {b!r}")
    if isinstance(buffer, bool) or not isinstance(buffer, (int, np.integer)) or buffer < 0:
        raise ValueError(f"buffer must be a non-negative integer, got {buffer!r}")
    n = b + 2 * buffer + 2
    if n > MAX_ENUMERATION_SITES:
        raise ValueError(f"block plus buffers ({n} sites) above the limit of {MAX_ENUMERATION_SITES} sites (MAX_ENUMERATION_SITES)")
    table = rule.numeric_table(b, values)
    with mpmath.workdps(dps):
        Km, hm = mpmath.mpf(K), mpmath.mpf(h)
        T = mpmath.matrix([[mpmath.exp(Km * s * t + hm * (s + t) / 2) for t in (-1, 1)] for s in (-1, 1)])
        E, ER = mpmath.eighe(T)
        i = 0 if E[0] > E[1] else 1
        lam = E[i]
        v = [abs(ER[0, i]), abs(ER[1, i])]
        v = [x / mpmath.sqrt(v[0] ** 2 + v[1] ** 2) for x in v]
        joint = {}
        for k in range(1 << n):
            x = [2 * ((k >> j) & 1) - 1 for j in range(n)]
            p = v[(x[0] + 1) // 2] * v[(x[-1] + 1) // 2] / lam ** (n - 1)
            for j in range(n - 1):
                p *= T[(x[j] + 1) // 2, (x[j + 1] + 1) // 2]
            blk = x[1 + buffer : 1 + buffer + b]
            c = sum(((s + 1) // 2) << j for j, s in enumerate(blk))
            pp = mpmath.mpf(table[c])
            for hv, ph in ((1, pp), (-1, 1 - pp)):
                key = (hv, x[0], x[-1])
                joint[key] = joint.get(key, 0) + p * ph
        ph_ = {hv: sum(v_ for (a, _, _), v_ in joint.items() if a == hv) for hv in (1, -1)}
        pe = {}
        for (hv, el, er), val in joint.items():
            pe[(el, er)] = pe.get((el, er), 0) + val
        mi = mpmath.mpf(0)
        for (hv, el, er), val in joint.items():
            if val > 0:
                mi += val * mpmath.log(val / (ph_[hv] * pe[(el, er)]))
        return max(float(mi), 0.0)  # I >= 0; rounding can leave -1e-40
