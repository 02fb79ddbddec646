"""Exact block RG of two-dimensional lattices by transfer matrices along rows (docs/block_rg.md).

For every coarse configuration ``h`` this module computes, exactly,

    log Z(h) = log sum_x prod_j p(h_j | x_j) exp(-K(x))

on a finite lattice (torus, cylinder or open patch) whose rows are short enough for a
transfer matrix over one row (``2^W x 2^W`` with ``W`` spins per row).  It is the route
:func:`symrg.rg.block_exact.exact_renormalization` takes on two-dimensional lattices; the
coarse couplings follow from ``log Z(h)`` by the Walsh transform there.

How (docs/block_rg.md, "Strip transfer matrices"):

1. Rows are the lines of constant coordinate along the *transfer axis*.  Every term of
   the hamiltonian and every block is a *factor* touching a range of consecutive rows.
   The state of the transfer is one row; a cut after row ``r`` is allowed when no factor
   reaches both below and above ``r``.  Consecutive allowed cuts delimit *units* (one row
   for 2x2 blocks and for the Niemeijer-van Leeuwen triangles; a block row of ``b - 1``
   rows plus one for ``b x b`` blocks).
2. For each unit, the product of its factors is built on all configurations of its rows
   (in the log domain) for every configuration of the coarse spins of the blocks it
   completes, and the inner rows are summed: matrices ``M_u(h_u)[s_in, s_out]``, each
   with a log scale.  Units without blocks are multiplied into the next one.
3. The coarse spins stay an explicit index: the product over the first half of the units
   is formed for every coarse configuration of that half (forward from the boundary
   row), the product over the second half backward, and the two are joined over the
   middle row.  On a torus the trace runs over the boundary row: each range of boundary
   configurations is an independent *chunk* (:func:`strip_chunk`, a top-level function
   run through :func:`symrg.parallel.run_map`, locally or on a Dask cluster).
4. Every vector is scaled to a maximum of one per coarse configuration and boundary
   state, with its log scale kept aside, so large couplings neither overflow nor
   underflow; chunks are added with ``logaddexp``.

Boundaries: ``"torus"`` (periodic both ways), ``"cylinder"`` (a periodic lattice with the
terms that wrap along the second lattice direction removed; transfer along that
direction) and ``"open"`` (an open lattice).

Examples
--------
>>> from symrg.rg.lattice import square, ising_model, square_blocks
>>> from symrg.rg.coarse import majority
>>> m = ising_model(square(4), {"K": 1})
>>> blocks = square_blocks(m.lattice, 2)
>>> plan = strip_plan(m, blocks, {"K": 0.3}, majority(tie="random").numeric_table(4))
>>> plan.width, plan.num_blocks, [u.rows for u in plan.units]
(4, 4, [1, 1, 1, 1])
>>> logz = strip_log_z(plan)
>>> logz.shape
(16,)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from symrg.errors import BudgetError, ModelError
from symrg.model.budgets import check_time
from symrg.parallel import current_client, run_map
from symrg.rg.lattice import BlockPartition, LatticeModel, _coupling_values

__all__ = [
    "BOUNDARIES",
    "MAX_ROW_WIDTH",
    "MAX_UNIT_ENTRIES",
    "MAX_STRIP_WORK",
    "CHUNK_ENTRIES",
    "StripUnit",
    "StripPlan",
    "strip_plan",
    "strip_log_z",
    "strip_chunk",
]

#: boundary conditions of the strip route
BOUNDARIES = ("torus", "cylinder", "open")
#: longest row (transfer matrices of 2^12 x 2^12)
MAX_ROW_WIDTH = 12
#: largest tensor of one unit: its rows' configurations times its coarse configurations (2^24 doubles, 128 MiB)
MAX_UNIT_ENTRIES = 1 << 24
#: default budget of multiply-adds of one strip computation (about a minute on two cores)
MAX_STRIP_WORK = 3e11
#: doubles per array of one chunk (the forward and backward products of a range of boundary rows)
CHUNK_ENTRIES = 1 << 22


@dataclass(frozen=True)
class StripUnit:
    """One step of the transfer: ``rows`` new rows after the state row.

    Bit ``q * width + c`` of a unit configuration is the spin in column ``c`` of the unit's
    row ``q`` (``q = 0``: the incoming state row; ``q = rows``: the outgoing one).

    Attributes
    ----------
    rows : int
    terms : tuple
        ``(value, bits)`` for each term of the log-weight assigned to this unit.
    blocks : tuple
        Indices (in ``BlockPartition.blocks()`` order) of the blocks completed here.
    block_bits : tuple
        The bits of each of those blocks' sites, in motif order.
    """

    rows: int
    terms: tuple
    blocks: tuple
    block_bits: tuple


@dataclass(frozen=True)
class StripPlan:
    """Everything a chunk needs (plain numbers and tuples: it pickles and hashes).

    Attributes
    ----------
    width : int
        Spins per row ``W`` (transfer matrices of ``2^W x 2^W``).
    boundary : str
        ``"torus"``, ``"cylinder"`` or ``"open"``.
    axis : int
        The lattice direction the transfer runs along.
    units : tuple of StripUnit
        In transfer order, starting after an allowed cut.
    table : tuple of float
        ``p(h = +1 | block configuration)`` of the rule.
    num_blocks : int
        Coarse sites.
    """

    width: int
    boundary: str
    axis: int
    units: tuple
    table: tuple
    num_blocks: int

    @property
    def periodic(self) -> bool:
        """Whether the transfer closes with a trace (torus)."""
        return self.boundary == "torus"

    def block_order(self) -> tuple:
        """Block index of each bit of the internal coarse index, lowest bit first.

        The forward half puts each unit's coarse spins below the earlier ones, the
        backward half likewise in reverse: from the lowest bit, the units of the second
        half in order, then those of the first half from last to first.
        """
        units = _fused_units(self)
        split = _split(units)
        return tuple(j for u in units[split:] for j in u.blocks) + tuple(j for u in reversed(units[:split]) for j in u.blocks)

    def work(self) -> float:
        """Estimated multiply-adds: unit tensors, forward and backward products, the join."""
        D = 1 << self.width
        units = _fused_units(self)
        build = float(sum((1 << len(u.blocks)) << ((u.rows + 1) * self.width) for u in self.units))
        split = _split(units)
        Hs = [1 << len(u.blocks) for u in units]
        fwd = bwd = 0.0
        H = 1.0
        for G in Hs[:split]:
            H *= G
            fwd += H
        Ha = H
        H = 1.0
        for G in reversed(Hs[split:]):
            H *= G
            bwd += H
        Hb = H
        rows = D if self.periodic else 1  # boundary states traced over
        return build + rows * D * D * (fwd + bwd) + Ha * Hb * D * rows + Ha * Hb * rows * 20  # 20: log/exp of the join


@dataclass(frozen=True)
class _Fused:
    """A unit after the blockless units were multiplied into it: its matrices, not yet built."""

    members: tuple  # indices of the StripUnits multiplied, in order
    blocks: tuple


# ----------------------------------------------------------------------------------
# the plan: factors, rows, cuts, units
# ----------------------------------------------------------------------------------
def strip_plan(
    model: LatticeModel,
    blocks: BlockPartition,
    values: Mapping,
    table: "Sequence[float] | np.ndarray",
    boundary: str | None = None,
    axis: int | None = None,
) -> StripPlan:
    """The transfer plan of ``model`` with ``blocks`` (see the module docstring).

    Parameters
    ----------
    model : LatticeModel on a finite two-dimensional lattice
    blocks : BlockPartition of the same lattice
    values : mapping
        Numeric value of every coupling of the model (by symbol or name).
    table : sequence of float
        ``p(h = +1 | x)`` for the ``2^m`` configurations of a block of ``m`` sites.
    boundary : {"torus", "cylinder", "open"} or None
        None: ``"torus"`` on a periodic lattice, ``"open"`` on an open one.  ``"cylinder"``
        (periodic lattices only) drops the terms that wrap along the second direction.
    axis : {0, 1} or None
        Transfer direction; None picks the one with the shorter rows (a cylinder always
        transfers along its open direction, axis 1).

    Raises
    ------
    ModelError
        Not a finite 2D lattice, an unknown boundary, a block or term that wraps across an
        open boundary, or factors that leave no row where the transfer can be cut.
    BudgetError
        Rows longer than ``MAX_ROW_WIDTH`` spins or a unit tensor above ``MAX_UNIT_ENTRIES``.
    """
    lat = model.lattice
    if lat.shape is None or lat.dim != 2:
        raise ModelError(f"the strip transfer needs a finite two-dimensional lattice, got {lat!r}")
    if blocks.lattice != lat:
        raise ModelError(f"blocks are defined on {blocks.lattice!r} but the model lives on {lat!r}")
    if boundary is None:
        boundary = "torus" if lat.periodic else "open"
    if boundary not in BOUNDARIES:
        raise ModelError(f"unknown boundary {boundary!r}; valid boundaries: {', '.join(BOUNDARIES)}")
    if (boundary == "open") == lat.periodic:
        want = "an open" if boundary == "open" else "a periodic"
        raise ModelError(f"boundary {boundary!r} needs {want} lattice, got {lat!r}")
    if boundary == "cylinder":
        if axis not in (None, 1):
            raise ModelError("a cylinder is open along axis 1 and the transfer runs along it: axis must be 1 (or None)")
        axis = 1
    tab = tuple(float(p) for p in table)
    if len(tab) != 1 << blocks.size:
        raise ModelError(f"the rule table has {len(tab)} entries, a block of {blocks.size} sites needs {1 << blocks.size}")
    if axis is None:
        shape = lat.shape
        order = sorted((0, 1), key=lambda t: (shape[1 - t], -t))  # shorter rows first; ties: transfer along axis 1
        errors = []
        for t in order:
            try:
                return _plan_along(model, blocks, values, tab, boundary, t)
            except ModelError as e:  # the other direction may still cut
                errors.append(str(e))
        raise ModelError("; ".join(errors))
    if axis not in (0, 1):
        raise ModelError(f"axis must be 0 or 1, got {axis!r}")
    return _plan_along(model, blocks, values, tab, boundary, int(axis))


def _plan_along(model: LatticeModel, blocks: BlockPartition, values: Mapping, table: tuple, boundary: str, t: int) -> StripPlan:
    lat = model.lattice
    assert lat.shape is not None
    u = 1 - t
    R, W = lat.shape[t], lat.shape[u]
    if W > MAX_ROW_WIDTH:
        raise BudgetError(
            f"lattice {lat.shape[0]}x{lat.shape[1]}: rows of {W} spins need transfer matrices of 2^{W} x 2^{W}, "
            f"above the limit of {MAX_ROW_WIDTH} spins per row (MAX_ROW_WIDTH)"
        )
    wrap_t = boundary == "torus"
    wrap_u = boundary != "open"
    # factors: (hi row, ((row offset <= 0, column), ...)) ; terms carry their value, blocks their index
    terms: list[tuple[float, int, int, tuple]] = []
    vals = _coupling_values(model.couplings, values)
    for a, it in enumerate(model.interactions):
        if vals[a] == 0.0:
            continue
        for site in lat.sites():
            for p in it.patterns:
                pts = [tuple(s + o for s, o in zip(site, off)) for off in p]
                if not wrap_t and any(not 0 <= q[t] < R for q in pts):
                    continue  # leaves an open end
                if not wrap_u and any(not 0 <= q[u] < W for q in pts):
                    continue
                idx = [lat.index(q) for q in pts]
                if len(set(idx)) != len(idx):
                    raise ModelError(f"lattice shape {lat.shape} is too small for interaction {it.label}: a term wraps onto itself")
                terms.append((vals[a], *_factor(pts, t, u, W)))
    facs: list[tuple[int, int, tuple]] = []  # blocks: (hi, span, cells)
    sites = lat.sites()
    m0 = blocks.motif[0]
    for blk in blocks.blocks():
        # unwrapped sites: the first site plus the motif offsets (blocks.site(c, k) without solving for c)
        pts = [tuple(a + o - z for a, o, z in zip(sites[blk[0]], off, m0)) for off in blocks.motif]
        if not wrap_t and any(not 0 <= q[t] < R for q in pts):
            raise ModelError(f"block {blk} wraps across the open ends of the {boundary}; use a torus or blocks that fit")
        facs.append(_factor(pts, t, u, W))
    spans = [f[1] for f in facs] + [f[2] for f in terms]
    his = [f[0] for f in facs] + [f[1] for f in terms]
    if spans and max(spans) > R:
        raise ModelError(f"a block or term spans {max(spans) + 1} rows along axis {t}, more than the lattice's {R}")
    # allowed cuts (the state row r): no factor reaches strictly below and strictly above r
    forbidden = set()
    for hi, span in zip(his, spans):
        for r in range(hi - span + 1, hi):
            forbidden.add(r % R if wrap_t else r)
    cuts = [r for r in range(R) if r not in forbidden]
    if not cuts:
        raise ModelError(
            f"no row along axis {t} where the transfer can be cut: blocks or terms overlap every row boundary "
            f"(the strip route needs terms between adjacent rows and blocks that stack in rows)"
        )
    if wrap_t:
        starts = cuts  # cyclic: unit k adds rows cuts[k]+1 .. cuts[k+1] (mod R)
        ends = cuts[1:] + [cuts[0] + R]
    else:
        starts = [-1] + [r for r in cuts if r < R - 1]
        ends = starts[1:] + [R - 1]
        if R - 1 not in cuts:  # pragma: no cover - nothing reaches past the last row of an open lattice
            raise AssertionError("the last row of an open lattice is always a cut")
    units = []
    for k, (c0, c1) in enumerate(zip(starts, ends)):
        def unit_row(hi: int, c0: int = c0, c1: int = c1) -> int | None:
            q = (hi - c0 - 1) % R + 1 if wrap_t else hi - c0
            return q if 1 <= q <= c1 - c0 else None

        uterms = []
        for g, hi, span, cells in terms:
            q = unit_row(hi)
            if q is not None:
                uterms.append((g, _bits(cells, q, W, span)))
        ublocks, ubits = [], []
        for j, (hi, span, cells) in enumerate(facs):
            q = unit_row(hi)
            if q is not None:
                ublocks.append(j)
                ubits.append(_bits(cells, q, W, span))
        rows = c1 - c0
        entries = (1 << len(ublocks)) << ((rows + 1) * W)
        if entries > MAX_UNIT_ENTRIES:
            raise BudgetError(
                f"lattice {lat.shape[0]}x{lat.shape[1]}: one transfer step spans {rows + 1} rows of {W} spins and "
                f"{len(ublocks)} coarse spins, 2^{((rows + 1) * W) + len(ublocks)} entries, above MAX_UNIT_ENTRIES = 2^24"
            )
        units.append(StripUnit(rows, tuple(uterms), tuple(ublocks), tuple(ubits)))
    return StripPlan(W, boundary, t, tuple(units), table, len(facs))


def _factor(pts: Sequence[tuple], t: int, u: int, W: int) -> tuple[int, int, tuple]:
    """``(hi row, span, ((row offset from hi, column), ...))`` of unwrapped points."""
    hi = max(q[t] for q in pts)
    lo = min(q[t] for q in pts)
    return hi, hi - lo, tuple((q[t] - hi, q[u] % W) for q in pts)


def _bits(cells: tuple, q: int, W: int, span: int) -> tuple:
    if q - span < 0:  # pragma: no cover - excluded by the choice of cuts
        raise AssertionError("a factor reaches below the state row of its unit")
    return tuple((q + dr) * W + col for dr, col in cells)


# ----------------------------------------------------------------------------------
# unit matrices
# ----------------------------------------------------------------------------------
def _fused_units(plan: StripPlan) -> tuple:
    """Blockless units multiplied into the next unit with blocks (the last one, at an open end).

    On a torus the sequence is rotated to start after the last unit with blocks, so that
    nothing is left over.
    """
    idx = list(range(len(plan.units)))
    has = [bool(plan.units[i].blocks) for i in idx]
    if plan.periodic:
        last = max(i for i in idx if has[i])
        idx = idx[last + 1:] + idx[: last + 1]
    out: list[_Fused] = []
    pending: list[int] = []
    for i in idx:
        pending.append(i)
        if has[i]:
            out.append(_Fused(tuple(pending), plan.units[i].blocks))
            pending = []
    if pending:  # open ends only: trailing blockless units join the last unit with blocks
        out[-1] = _Fused(out[-1].members + tuple(pending), out[-1].blocks)
    return tuple(out)


def _split(units: Sequence[_Fused]) -> int:
    """Number of fused units in the forward half (balances the coarse spins of the halves)."""
    n = [len(u.blocks) for u in units]
    total = sum(n)
    best, arg = math.inf, 1 if len(n) > 1 else len(n)
    acc = 0
    for k in range(1, len(n)):
        acc += n[k - 1]
        cost = 2.0 ** acc + 2.0 ** (total - acc)
        if cost < best:
            best, arg = cost, k
    return arg


def _unit_matrix(plan: StripPlan, unit: StripUnit) -> tuple[np.ndarray, np.ndarray]:
    """``M[g, s_in, s_out]`` (inner rows summed) and its log scale per coarse configuration ``g``."""
    W = plan.width
    n = (unit.rows + 1) * W
    k = np.arange(1 << n, dtype=np.int64)
    logw = np.zeros(1 << n)
    for g, bits in unit.terms:
        parity = np.zeros(1 << n, dtype=np.int64)
        for b in bits:
            parity ^= k >> b
        # prod of spins 2 bit - 1: (-1)^(number of zero bits)
        sign = 1 - 2 * ((parity + len(bits)) & 1)
        logw += g * sign.astype(np.float64)
    table = np.asarray(plan.table)
    with np.errstate(divide="ignore"):
        logp = np.stack([np.log1p(-table), np.log(table)])  # [h bit, block configuration]
    logf = logw[None, :]
    for bits in unit.block_bits:
        conf = np.zeros(1 << n, dtype=np.int64)
        for i, b in enumerate(bits):
            conf |= ((k >> b) & 1) << i
        # the new coarse spin is the highest bit of g
        logf = np.concatenate([logf + logp[0][conf][None, :], logf + logp[1][conf][None, :]])
    del k
    G = logf.shape[0]
    top = logf.max(axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    f = np.exp(logf - top[:, None])
    D = 1 << W
    M = f.reshape(G, D, -1, D).sum(axis=2).transpose(0, 2, 1)  # [g, s_out, inner, s_in] -> [g, s_in, s_out]
    return np.ascontiguousarray(M), top


@functools.lru_cache(maxsize=2)
def _matrices(plan: StripPlan) -> tuple:
    """``((M, log scale), ...)`` of the fused units (cached: every chunk of a run shares them)."""
    out = []
    for fu in _fused_units(plan):
        M: np.ndarray | None = None
        scale: np.ndarray | None = None
        for i in fu.members:
            check_time()
            Mi, si = _unit_matrix(plan, plan.units[i])
            if M is None or scale is None:
                M, scale = Mi, si
            else:
                # g of the product: the blocks of the (only) unit with blocks among the members
                D = Mi.shape[1]
                if M.shape[0] == 1:  # one BLAS call: (D, D) @ (D, G D)
                    prod = (M[0] @ Mi.transpose(1, 0, 2).reshape(D, -1)).reshape(D, -1, D).transpose(1, 0, 2)
                else:  # (G D, D) @ (D, D)
                    prod = (M.reshape(-1, D) @ Mi[0]).reshape(-1, D, D)
                s = (scale[:, None] + si[None, :]).reshape(-1)
                M, scale = _normalized(prod, s)
        assert M is not None and scale is not None
        M.setflags(write=False)
        out.append((M, scale))
    return tuple(out)


def _normalized(M: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = M.reshape(M.shape[0], -1).max(axis=1)
    top = np.where(top > 0, top, 1.0)
    return M / top[:, None, None], scale + np.log(top)


# ----------------------------------------------------------------------------------
# chunks
# ----------------------------------------------------------------------------------
def strip_chunk(item: tuple) -> np.ndarray:
    """``log`` of the contribution of boundary states ``start .. stop - 1`` to ``Z(h)``.

    ``item = (plan, start, stop)``; on a torus the boundary state is the configuration of
    the row the trace runs over, on open ends the chunk is the whole sum (``(plan, 0, 1)``).
    Returns one value per coarse configuration, in the plan's internal order
    (:meth:`StripPlan.block_order`).  A top-level function, so it runs on a Dask worker.
    """
    plan, start, stop = item
    mats = _matrices(plan)
    split = _split(_fused_units(plan))
    D = 1 << plan.width
    c = stop - start
    states = np.arange(c)
    # forward: A[i, a, j] = (product over the first half)[start + i, j], scaled per (i, a);
    # each unit's coarse spins become the low bits of a (one BLAS call per unit)
    A = np.zeros((c, 1, D))
    A[states, 0, start + states] = 1.0
    sa = np.zeros((c, 1))
    for M, s in mats[:split]:
        check_time()
        H, G = A.shape[1], M.shape[0]
        A = (A.reshape(c * H, D) @ M.transpose(1, 0, 2).reshape(D, G * D)).reshape(c, H * G, D)
        sa = (sa[:, :, None] + s[None, None, :]).reshape(c, H * G)
        A, sa = _rescale(A, sa)
    # backward: B[i, b, j] = (product over the second half)[j, start + i] (open ends: summed over the last row)
    if plan.periodic:
        B = np.zeros((c, 1, D))
        B[states, 0, start + states] = 1.0
    else:
        B = np.ones((c, 1, D))
    sb = np.zeros((c, 1))
    for M, s in reversed(mats[split:]):
        check_time()
        H, G = B.shape[1], M.shape[0]
        B = (B.reshape(c * H, D) @ M.transpose(2, 0, 1).reshape(D, G * D)).reshape(c, H * G, D)
        sb = (sb[:, :, None] + s[None, None, :]).reshape(c, H * G)
        B, sb = _rescale(B, sb)
    # join over the middle row: one BLAS call with one scale per coarse configuration of
    # each half; if that loses the range (a normalized sum below 1e-250), per boundary state
    Ha, Hb = A.shape[1], B.shape[1]
    ta, tb = sa.max(axis=0), sb.max(axis=0)
    A2 = (A * np.exp(sa - ta)[:, :, None]).transpose(1, 0, 2).reshape(Ha, c * D)
    B2 = (B * np.exp(sb - tb)[:, :, None]).transpose(1, 0, 2).reshape(Hb, c * D)
    Z = A2 @ B2.T
    del A2, B2
    if Z.min() > 1e-250:
        return (np.log(Z) + ta[:, None] + tb[None, :]).reshape(-1)  # internal index a * Hb + b
    out = np.full((Ha, Hb), -np.inf)
    with np.errstate(divide="ignore"):
        for i in range(c):
            check_time()
            L = np.log(A[i] @ B[i].T) + sa[i, :, None] + sb[i, None, :]
            np.logaddexp(out, L, out=out)
    return out.reshape(-1)  # internal index a * Hb + b


def _rescale(X: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = X.max(axis=2)
    top = np.where(top > 0, top, 1.0)
    X /= top[:, :, None]
    return X, s + np.log(top)


def _chunk_ranges(plan: StripPlan, chunks: int | None, parallel: bool) -> list[tuple[int, int]]:
    if not plan.periodic:
        return [(0, 1)]
    D = 1 << plan.width
    units = _fused_units(plan)
    split = _split(units)
    Ha = 1 << sum(len(u.blocks) for u in units[:split])
    Hb = 1 << sum(len(u.blocks) for u in units[split:])
    if chunks is None:
        size = max(1, min(D, CHUNK_ENTRIES // (max(Ha, Hb) * D)))
        chunks = -(-D // size)
        if parallel:
            chunks = max(chunks, min(D, 16))
    elif isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ModelError(f"chunks must be a positive integer, got {chunks!r}")
    chunks = min(int(chunks), D)
    edges = [round(k * D / chunks) for k in range(chunks + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def strip_log_z(
    plan: StripPlan,
    *,
    chunks: int | None = None,
    client: Any = None,
    progress: bool | None = None,
    max_work: float | None = None,
) -> np.ndarray:
    """``log Z(h)`` for every coarse configuration (bit ``j`` of the index is block ``j``).

    Parameters
    ----------
    plan : StripPlan
        From :func:`strip_plan`.
    chunks : int, optional
        Number of ranges of boundary configurations (torus); default: from the memory of a
        chunk (``CHUNK_ENTRIES``), at least 16 when a client is in use.
    client : dask.distributed.Client, optional
        Run the chunks on a cluster (:func:`symrg.parallel.run_map`; default: the client of
        :func:`symrg.parallel.use_client`, else locally).
    progress : bool or None
        Progress bar (see :func:`symrg.parallel.run_map`).
    max_work : float, optional
        Budget of multiply-adds (default ``MAX_STRIP_WORK``).

    Raises
    ------
    BudgetError
        When :meth:`StripPlan.work` is above the budget (before any work is done).
    """
    budget = MAX_STRIP_WORK if max_work is None else float(max_work)
    work = plan.work()
    if work > budget:
        raise BudgetError(
            f"the strip transfer with rows of {plan.width} spins and {plan.num_blocks} coarse spins needs about "
            f"{work:.2g} multiply-adds, above the budget of {budget:.2g} (MAX_STRIP_WORK; pass max_work= to raise it)"
        )
    parallel = client is not None or current_client() is not None
    items = [(plan, a, b) for a, b in _chunk_ranges(plan, chunks, parallel)]
    parts = run_map(strip_chunk, items, client=client, progress=progress, desc="strip transfer")
    total = parts[0]
    for p in parts[1:]:
        total = np.logaddexp(total, p)
    # internal bit p is block order[p]: transpose the bits into block order
    order = plan.block_order()
    n = plan.num_blocks
    pos = {j: p for p, j in enumerate(order)}
    perm = [n - 1 - pos[n - 1 - q] for q in range(n)]
    return np.ascontiguousarray(total.reshape((2,) * n).transpose(perm).reshape(-1)) if n > 1 else total
