"""Exact renormalization of a finite lattice: every renormalized coupling, numerically.

Convention (kept throughout symrg, docs/conventions.md, "Block RG"): fine spins are ``x``,
coarse spins are ``h``; the fine model has ``p(x) ∝ exp(-K(x))``, blocks ``x_j`` carry one
coarse spin ``h_j`` each, drawn from a rule ``p(h_j | x_j)`` (:mod:`symrg.rg.coarse`), and
the renormalized hamiltonian is defined by

    exp(-K'(h)) = sum_x prod_j p(h_j | x_j) exp(-K(x))          (Z is preserved).

Couplings are always reported in the convention of the input models, as the coefficients
of the *log-weight*: ``-K'(h) = sum_S g'_S prod_{j in S} h_j`` (so a ferromagnetic
renormalized bond has ``g' > 0``, like the ``K`` of ``exp(K x x')``).

:func:`exact_renormalization` computes ``K'(h)`` for every coarse configuration by
enumeration of the fine configurations (size-guarded) or, for periodic chains, by block
transfer matrices; then every coupling (every range, every multi-spin order) by the Walsh
transform of :mod:`symrg.engine.multilinear`.  The symbolic route on the infinite lattice
is :mod:`symrg.rg.cluster_expansion`, the mutual information of a coarse spin and its
environment :mod:`symrg.rg.information`.

Examples
--------
>>> import sympy as sp
>>> from symrg.rg.lattice import chain, ising_model, chain_blocks
>>> from symrg.rg.coarse import decimation
>>> ring = ising_model(chain(8), {"K": 1})
>>> ex = exact_renormalization(ring, chain_blocks(ring.lattice, 2), decimation(), {"K": 0.3})
>>> round(ex.coupling((0, 1)), 12), round(float(sp.log(sp.cosh(0.6)) / 2), 12)
(0.085067643389, 0.085067643389)
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Sequence

import numpy as np
import sympy as sp

from symrg.engine.multilinear import configurations, couplings_by_order, exact_couplings, mask_to_subset
from symrg.errors import BudgetError, ModelError
from symrg.model.budgets import time_budget
from symrg.model.display import Displayed
from symrg.model.frozen import array_hash, arrays_equal, readonly_array
from symrg.model.numerics import logsumexp
from symrg.parallel import run_map
from symrg.rg.coarse import CoarseRule, coarse_rule
from symrg.rg.lattice import BlockPartition, Lattice, LatticeModel
from symrg.rg.strip_transfer import strip_log_z, strip_plan

__all__ = [
    "ExactRenormalization",
    "CouplingClass",
    "exact_renormalization",
    "MAX_ENUMERATION_SITES",
    "MAX_COARSE_SITES",
    "MAX_TRANSFER_BLOCK",
]

#: largest number of fine sites enumerated by the exact route (2^22 configurations)
MAX_ENUMERATION_SITES = 22
#: largest number of coarse sites (2^24 coarse configurations, the Walsh transform limit)
MAX_COARSE_SITES = 24
#: largest block size of the transfer-matrix route (matrices of 2^b x 2^b)
MAX_TRANSFER_BLOCK = 10
#: the enumeration route works in chunks of at most 2^ENUMERATION_CHUNK_SITES fine configurations
#: (the configurations of the last blocks are fixed per chunk; chunks are the tasks of symrg.parallel.run_map)
ENUMERATION_CHUNK_SITES = 14
#: largest number of couplings examined for periodic images (the largest ones first)
MAX_IMAGE_CHECKS = 4096
#: largest block (the rule's table has 2^size entries, evaluated before any route starts)
MAX_BLOCK_SITES = 16
#: methods of exact_renormalization
METHODS = ("auto", "enumeration", "transfer", "strip")


class CouplingClass(NamedTuple):
    """Coarse couplings of one geometric kind (see :meth:`ExactRenormalization.classes`).

    ``distances`` are the sorted pairwise distances (minimum image, coarse units, 9
    digits) of the coarse spins of a coupling; ``value`` the mean coupling of the class, ``members`` their number,
    ``spread`` its largest minus smallest (zero up to rounding on a translation-invariant
    lattice), ``images`` whether the class includes couplings that meet their own periodic
    image (:attr:`ExactRenormalization.periodic_images`).
    """

    order: int
    distances: tuple
    value: float
    members: int
    spread: float
    images: bool


@dataclass(frozen=True)
class ExactRenormalization(Displayed):
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
    boundary : str
        ``"torus"`` (periodic; a ring in one dimension), ``"cylinder"`` (periodic lattice
        with the terms wrapping along the second direction removed) or ``"open"``.
    periodic_images : tuple
        Block-index tuples of the couplings (above ``1e-12``) that meet their own periodic
        image: a pair whose displacement and an image of it are equally short (on a
        coarse 2x2 torus the right and the left neighbour are the same block), or a set of
        blocks that wraps around the lattice.  Such a coupling is the sum of several
        couplings of the infinite lattice; text() and latex() say so.
    """

    model: LatticeModel
    blocks: BlockPartition
    rule: CoarseRule
    values: tuple
    method: str
    hamiltonian: np.ndarray = field(repr=False)
    couplings: np.ndarray = field(repr=False)
    log_z: float
    boundary: str = "torus"
    periodic_images: tuple = ()

    def __post_init__(self) -> None:
        # read-only copies: the result is a value (== and hash below compare the arrays)
        object.__setattr__(self, "hamiltonian", readonly_array(self.hamiltonian))
        object.__setattr__(self, "couplings", readonly_array(self.couplings))

    def _key(self) -> tuple:
        return (self.model, self.blocks, self.rule, self.values, self.method, self.log_z, self.boundary, self.periodic_images)

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
        if self.periodic_images:
            lines.append("  warning: " + self.image_warning())
        return "\n".join(lines)

    def image_warning(self, limit: int = 4) -> str:
        """One sentence naming the couplings that meet their own periodic image ('' if none)."""
        if not self.periodic_images:
            return ""
        shown = ", ".join(f"g'{list(k)}" for k in self.periodic_images[:limit])
        more = f" and {len(self.periodic_images) - limit} more" if len(self.periodic_images) > limit else ""
        return (f"the coarse lattice is so small that {len(self.periodic_images)} coupling(s) meet their own periodic image "
                f"({shown}{more}); each is a sum of several couplings of the infinite lattice")

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
        if self.periodic_images:
            shown = ", ".join(rf"g'_{{{','.join(map(str, k))}}}" for k in self.periodic_images[:4])
            more = rf"\text{{ and {len(self.periodic_images) - 4} more}}" if len(self.periodic_images) > 4 else ""
            rows.append(rf"\text{{periodic images}} &: {shown}{more} \text{{ meet their own image}}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

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
        (block-centre distance over the scale factor; minimum image along periodic directions)."""
        sub = mask_to_subset(mask)
        if len(sub) < 2:
            return 0.0
        dist = _coarse_geometry(self.model, self.blocks, self.boundary).distance
        return max(float(dist[i, j]) for i, j in itertools.combinations(sub, 2))

    def classes(self, tol: float = 1e-12, max_order: int = 4) -> dict:
        """Couplings above ``tol`` of at most ``max_order`` spins, grouped by body number and shape.

        Returns ``{(order, distances, images): CouplingClass}``, sorted; ``distances`` are
        the sorted pairwise distances of the coarse spins (minimum image, coarse units,
        rounded to 9 digits) and ``images`` separates the couplings that meet their own
        periodic image (their shape on the infinite lattice is not defined).  On the square lattice with ``b x b`` blocks,
        ``(2, (1.0,), False)`` is the nearest-neighbour coupling, ``(2, (1.414213562,), False)``
        the diagonal one and ``(4, (1.0, 1.0, 1.0, 1.0, 1.414213562, 1.414213562), False)``
        the four-spin plaquette.
        """
        geo = _coarse_geometry(self.model, self.blocks, self.boundary)
        masks = np.flatnonzero(np.abs(self.couplings) > tol)
        masks = masks[(masks > 0) & (np.bitwise_count(masks.astype(np.uint64)) <= max_order)]
        flagged = set(self.periodic_images)
        groups: dict = {}
        for m in masks:
            sub = mask_to_subset(int(m))
            d = tuple(sorted(round(float(geo.distance[i, j]), 9) for i, j in itertools.combinations(sub, 2)))
            groups.setdefault((len(sub), d, sub in flagged), []).append(float(self.couplings[m]))
        out = {}
        for key in sorted(groups):
            vals = np.array(groups[key])
            out[key] = CouplingClass(key[0], key[1], float(vals.mean()), len(vals), float(vals.max() - vals.min()), key[2])
        return out

    def class_value(self, order: int, distances: Sequence[float], tol: float = 0.0) -> float:
        """Mean coupling of the shape ``(order, distances)``: of the couplings free of periodic
        images if there are any, else of those with images (0 when none is above ``tol``)."""
        key = (int(order), tuple(round(float(x), 9) for x in sorted(distances)))
        table = self.classes(tol, max_order=int(order))
        found = table.get(key + (False,), table.get(key + (True,)))
        return 0.0 if found is None else found.value

    def range_profile(self, tol: float = 1e-12) -> dict:
        """``{(order, extent): max |g'|}`` over couplings above ``tol`` (order >= 1);
        extents rounded to 9 digits.  Measures how far renormalized interactions reach."""
        out: dict = {}
        for found in np.flatnonzero(np.abs(self.couplings) > tol):
            mask = int(found)
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


@dataclass(frozen=True)
class _CoarseGeometry:
    """Blocks as points of the coarse lattice: integer superlattice coordinates, minimum images.

    ``disp[i, j]`` is the shortest periodic image of ``c_j - c_i`` (superlattice units),
    ``distance[i, j]`` its length in coarse units (the superlattice metric over the scale
    factor squared), ``ambiguous[i, j]`` whether another image is equally short.
    """

    coords: np.ndarray
    disp: np.ndarray
    distance: np.ndarray
    ambiguous: np.ndarray
    gram: np.ndarray


@functools.lru_cache(maxsize=16)
def _coarse_geometry(model: LatticeModel, blocks: BlockPartition, boundary: str) -> _CoarseGeometry:
    lat = model.lattice
    assert lat.shape is not None
    d = lat.dim
    sites = lat.sites()
    coords = np.array([blocks.locate(sites[blk[0]])[0] for blk in blocks.blocks()], dtype=np.int64).reshape(-1, d)
    S = sp.Matrix(blocks.superlattice)
    gram = np.array((S * lat.gram * S.T / blocks.scale_factor ** 2).applyfunc(sp.nsimplify).tolist(), dtype=float)
    periodic_dirs = [] if boundary == "open" else [0] if boundary == "cylinder" else list(range(d))
    periods = []
    for i in periodic_dirs:
        v = blocks._in_superlattice(tuple(lat.shape[i] if j == i else 0 for j in range(d)))
        assert v is not None  # checked by BlockPartition on periodic lattices
        periods.append(np.array(v, dtype=np.int64))
    shifts = np.array([sum((n * p for n, p in zip(ns, periods)), np.zeros(d, dtype=np.int64))
                       for ns in itertools.product(range(-3, 4), repeat=len(periods))]).reshape(-1, d)
    raw = coords[None, :, :] - coords[:, None, :]  # c_j - c_i
    cand = raw[:, :, None, :] + shifts[None, None, :, :]
    norm2 = np.einsum("ijka,ab,ijkb->ijk", cand, gram, cand)
    best = norm2.min(axis=2)
    arg = norm2.argmin(axis=2)
    ties = (np.abs(norm2 - best[:, :, None]) < 1e-9).sum(axis=2) > 1
    disp = np.take_along_axis(cand, arg[:, :, None, None], axis=2)[:, :, 0, :]
    for a in (coords, disp, best, ties, gram):
        a.setflags(write=False)
    return _CoarseGeometry(coords, disp, np.sqrt(np.maximum(best, 0.0)), ties, gram)


def _image_couplings(couplings: np.ndarray, geo: _CoarseGeometry, tol: float = 1e-12) -> tuple:
    """Subsets (above ``tol``, the largest ``MAX_IMAGE_CHECKS`` first) that meet their own periodic image.

    A pair does when its displacement and another image are equally short; a larger set
    when it has such a pair, or when placing its blocks at their shortest displacements
    from the first one changes some other pairwise distance (the set wraps around).
    """
    idx = np.flatnonzero(np.abs(couplings) > tol)
    idx = idx[np.bitwise_count(idx.astype(np.uint64)) >= 2]
    idx = idx[np.argsort(-np.abs(couplings[idx]), kind="stable")][:MAX_IMAGE_CHECKS]
    out = []
    for m in sorted(int(i) for i in idx):
        sub = list(mask_to_subset(m))
        if geo.ambiguous[np.ix_(sub, sub)].any():
            out.append(tuple(sub))
            continue
        lift = geo.disp[sub[0], sub]  # positions relative to the first block
        rel = lift[None, :, :] - lift[:, None, :]
        d2 = np.einsum("ija,ab,ijb->ij", rel, geo.gram, rel)
        if np.abs(np.sqrt(np.maximum(d2, 0.0)) - geo.distance[np.ix_(sub, sub)]).max() > 1e-9:
            out.append(tuple(sub))
    return tuple(sorted(out, key=lambda t: (len(t), t)))


def check_same_lattice(model: LatticeModel, blocks: BlockPartition) -> None:
    """Refuse blocks of another lattice than the model's."""
    if blocks.lattice != model.lattice:
        raise ValueError(f"blocks are defined on {blocks.lattice!r} but the model lives on {model.lattice!r}")


def exact_renormalization(
    model: LatticeModel,
    blocks: BlockPartition,
    rule: "CoarseRule | str",
    values: Mapping,
    method: str = "auto",
    *,
    client: object = None,
    boundary: str | None = None,
    chunks: int | None = None,
    progress: bool | None = None,
    max_work: float | None = None,
    time_limit: float | None = None,
) -> ExactRenormalization:
    """Exact ``K'(h)`` of a finite lattice and all its couplings (Walsh transform).

    Parameters
    ----------
    model : LatticeModel on a finite lattice
    blocks : BlockPartition of the same lattice
    rule : CoarseRule or rule name
    values : mapping
        Numeric value of every coupling (and of symbolic rule parameters), by symbol or name.
    method : {"auto", "enumeration", "transfer", "strip"}
        ``"transfer"`` needs a periodic chain whose interactions reach at most into the
        next block; ``"strip"`` (two-dimensional lattices, :mod:`symrg.rg.strip_transfer`)
        transfers along rows, which must be short (at most ``MAX_ROW_WIDTH`` spins);
        ``"auto"`` picks the transfer for periodic chains, the strip route in two
        dimensions (enumeration when the strip route cannot cut the lattice into rows)
        and enumeration otherwise.
    client : dask.distributed.Client, optional
        Run the chunks (enumeration: fixed last blocks; strip route: ranges of boundary-row
        configurations) on this cluster (default: the client of
        :func:`symrg.parallel.use_client`, else locally); the result is the same as the
        local run (docs/numerics.md, "Parallel sums").
    boundary : {"torus", "cylinder", "open"}, optional
        Default: ``"torus"`` on a periodic lattice, ``"open"`` on an open one.
        ``"cylinder"`` (strip route, periodic 2D lattices) removes the terms that wrap
        along the second lattice direction.
    chunks, progress, max_work
        Strip route: number of chunks, progress bar, budget of multiply-adds
        (:func:`symrg.rg.strip_transfer.strip_log_z`).
    time_limit : float, optional
        Seconds; the local computation stops with a ``BudgetError`` once they have passed.

    Raises
    ------
    ValueError
        Lattice too large to enumerate (more than ``MAX_ENUMERATION_SITES`` fine sites),
        more than ``MAX_COARSE_SITES`` blocks, an unknown method or boundary.
    BudgetError
        The strip route would exceed its size or work budget, or ``time_limit`` passed.

    Examples
    --------
    >>> from symrg.rg.lattice import chain, ising_model, chain_blocks
    >>> m = ising_model(chain(12), {"K": 1})
    >>> a = exact_renormalization(m, chain_blocks(m.lattice, 3), "majority", {"K": 0.5}, "enumeration")
    >>> b = exact_renormalization(m, chain_blocks(m.lattice, 3), "majority", {"K": 0.5}, "transfer")
    >>> bool(abs(a.couplings - b.couplings).max() < 1e-12)
    True

    A 6x6 torus with 2x2 majority blocks (a coarse 3x3 torus) by the strip route:

    >>> from symrg.rg.lattice import square, square_blocks
    >>> from symrg.rg.coarse import majority
    >>> sq = ising_model(square(6), {"K": 1})
    >>> ex = exact_renormalization(sq, square_blocks(sq.lattice, 2), majority(tie="random"), {"K": 0.3})
    >>> ex.method, ex.periodic_images[0]        # a row of 3 blocks closes around the coarse torus
    ('strip transfer matrix', (0, 1, 2, 3))
    >>> round(ex.class_value(2, [1.0]), 10), round(ex.class_value(2, [2 ** 0.5]), 10)  # nearest, diagonal
    (0.1756322561, 0.0224086897)
    """
    check_same_lattice(model, blocks)
    lat = model.lattice
    if lat.shape is None:
        raise ValueError("exact_renormalization needs a finite lattice (give the lattice a shape); use cumulant_rg for the infinite lattice")
    rule = coarse_rule(rule)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    natural = "torus" if lat.periodic else "open"
    boundary = natural if boundary is None else boundary
    if boundary not in ("torus", "cylinder", "open"):
        raise ModelError(f"unknown boundary {boundary!r}; valid boundaries: torus, cylinder, open")
    is_ring = lat.dim == 1 and lat.periodic
    names = {str(c) for c in model.couplings}
    coupling_vals = {k: v for k, v in values.items() if str(k) in names}
    rule_vals = {k: v for k, v in values.items() if str(k) not in names}
    if blocks.size > MAX_BLOCK_SITES:
        raise BudgetError(f"blocks of {blocks.size} sites: the rule's table would have 2^{blocks.size} entries, "
                          f"above the limit of {MAX_BLOCK_SITES} sites per block (MAX_BLOCK_SITES)")
    nblocks = lat.num_sites // blocks.size
    if nblocks > MAX_COARSE_SITES:
        raise ValueError(f"{nblocks} blocks give 2^{nblocks} coarse configurations, above the limit of {MAX_COARSE_SITES} coarse sites (MAX_COARSE_SITES)")
    table = rule.numeric_table(blocks.size, rule_vals)
    plan = None
    if method == "strip" or (method == "auto" and lat.dim == 2):
        try:
            plan = strip_plan(model, blocks, coupling_vals, table, boundary)
            method = "strip"
        except ModelError:
            if method == "strip" or boundary != natural or lat.num_sites > MAX_ENUMERATION_SITES:
                raise
            method = "enumeration"  # geometry the strip route cannot cut: small enough to enumerate
    elif method == "auto":
        method = "transfer" if is_ring else "enumeration"
    if method != "strip" and boundary != natural:
        raise ModelError(f"boundary {boundary!r} is available on the strip route (method='strip') only; the {method} route uses the lattice's own ({natural})")
    with time_budget(time_limit, "exact_renormalization"):
        if method == "strip":
            assert plan is not None
            logz_h = strip_log_z(plan, chunks=chunks, client=client, progress=progress, max_work=max_work)
            label = "strip transfer matrix"
        elif method == "transfer":
            if not is_ring:
                raise ValueError(f"method='transfer' needs a periodic chain, got {lat!r}")
            logz_h = _transfer_log_z(model, blocks, table, coupling_vals)
            label = "transfer matrix"
        else:
            logz_h = _enumeration_log_z(model, blocks, table, coupling_vals, client=client)
            label = "enumeration"
    if not np.all(np.isfinite(logz_h)):
        bad = int(np.flatnonzero(~np.isfinite(logz_h))[0])
        raise ValueError(f"coarse configuration {bad} has zero probability under rule {rule.name}: K'(h) is infinite there")
    log_z = logsumexp(logz_h)
    couplings = exact_couplings(logz_h, "spin")
    vals = tuple((str(k), float(v)) for k, v in values.items())
    images = _image_couplings(couplings, _coarse_geometry(model, blocks, boundary))
    return ExactRenormalization(model, blocks, rule, vals, label, -logz_h, couplings, log_z, boundary, images)


def _enumeration_log_z(model: LatticeModel, blocks: BlockPartition, table: np.ndarray, values: Mapping, client: object = None) -> np.ndarray:
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
    # chunks: the configurations of the last k blocks are fixed (chunk t), the first blocks are summed
    k = min(len(blks) - 1, max(0, -(-(n - ENUMERATION_CHUNK_SITES) // m)))
    free = len(blks) - k
    chunk = functools.partial(_enumeration_chunk, model, tuple(perm), m, free, table, dict(values))
    parts = run_map(chunk, range(1 << (k * m)), client=client, desc="exact_renormalization (enumeration)")
    tops = np.array([top for top, _ in parts])
    Zs = np.stack([z for _, z in parts])
    # chunk t weighs the coarse spins of the fixed blocks by prod_j p(h_j | x_j(t))
    P = np.stack([1.0 - table, table])  # P[hbit, block configuration]
    cfg = np.arange(1 << (k * m))
    F = np.ones((len(cfg), 1 << k))
    for i in range(k):
        ci = (cfg >> (i * m)) & ((1 << m) - 1)
        F *= P[(np.arange(1 << k) >> i) & 1][:, ci].T
    top = tops.max()
    Z = (Zs * np.exp(tops - top)[:, None]).T @ F  # Z[free-block coarse index, fixed-block coarse index]
    with np.errstate(divide="ignore"):
        return np.log(Z.T.reshape(-1)) + top


def _enumeration_chunk(
    model: LatticeModel, perm: tuple[int, ...], m: int, free: int, table: np.ndarray, values: Mapping, t: int
) -> tuple[float, np.ndarray]:
    """Chunk ``t`` of the enumeration: the last blocks fixed to configuration ``t``, the first ``free`` summed.

    Returns ``(top, Z)`` with ``Z[h] exp(top) = sum_x prod_{j < free} p(h_j | x_j) exp(-K(x))``.
    """
    n, L = len(perm), free * m
    X = np.empty((1 << L, n), dtype=np.int8)
    X[:, list(perm[:L])] = configurations(L, "spin")
    X[:, list(perm[L:])] = 2 * ((t >> np.arange(n - L)) & 1) - 1
    logw = model.log_weight(X, values)
    del X
    top = float(logw.max())
    w = np.exp(logw - top)
    P = np.stack([1.0 - table, table])  # P[hbit, block configuration]
    T = w.reshape(-1, 1 << m, 1)
    for _ in range(free):
        # contract the lowest remaining block (trailing configuration axis) with p(h|x)
        T = np.einsum("rcs,hc->rhs", T, P).reshape(T.shape[0], -1)
        rest = T.shape[0] >> m
        T = T.reshape(rest, 1 << m, -1) if rest >= 1 else T
    return top, T.reshape(-1)


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
    assert lat.shape is not None  # a finite ring: checked by exact_renormalization
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
