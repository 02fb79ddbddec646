"""Lattices, interactions and block partitions for real-space RG (docs/block_rg.md).

A :class:`Lattice` is a Bravais lattice given by exact primitive vectors (chain, square,
triangular), either infinite (``shape=None``, used by the cumulant expansion) or a finite
``L_0 x L_1 x ...`` patch with open or periodic boundaries (used by exact enumeration and
transfer matrices).  Sites carry integer coordinates ``n`` (position ``sum_i n_i a_i``);
on a finite lattice site ``n`` has index ``n_0 + L_0 n_1 + ...``.

Geometry is computed, never tabulated: neighbour shells come from exact squared
distances ``n^T G n`` with ``G`` the Gram matrix of the primitive vectors, and a
:class:`BlockPartition` (a motif of sites translated by an integer superlattice) finds
which fine sites and which fine bonds belong to which blocks.

Interactions are translation-invariant: an :class:`Interaction` is a coupling symbol with
one or more *patterns* (tuples of integer site offsets), and the model's weight is
``exp(sum over translated patterns of coupling * prod of spins)``; a
:class:`LatticeModel` is a lattice with a tuple of interactions.

On a finite lattice the terms form a :class:`~symrg.model.couplings.CouplingTable`
(:meth:`LatticeModel.coupling_table`), the package's one coupling-table type, and
:func:`lattice_model` turns them into an :class:`~symrg.model.energy.EnergyModel`
(fields as the bias, pairs as the self-coupling ``J``, plaquettes and triangles as a
:class:`~symrg.model.terms.MultispinTerm`) that the marginalization engine sums.

Examples
--------
>>> from symrg.rg.lattice import triangular, ising_model, triangular_blocks
>>> lat = triangular()
>>> [lat.shell_distance2(k) for k in (1, 2, 3)]         # squared distances 1, 3, 4
[1, 3, 4]
>>> model = ising_model(lat, {"K": 1, "h": "field"})
>>> blocks = triangular_blocks(lat)
>>> blocks.size, blocks.scale_factor
(3, sqrt(3))
>>> sorted(len(v) for v in blocks.connections(model.interaction("K"), 1).values())
[2, 2, 2, 2, 2, 2]
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from symrg.errors import ModelError
from symrg.model.couplings import CouplingTable
from symrg.model.energy import EnergyModel, energy_model
from symrg.model.units import UnitKind

__all__ = [
    "Lattice",
    "Interaction",
    "LatticeModel",
    "BlockPartition",
    "chain",
    "square",
    "triangular",
    "pair_interaction",
    "field_interaction",
    "multispin_interaction",
    "ising_model",
    "lattice_model",
    "CouplingTable",
    "chain_blocks",
    "square_blocks",
    "triangular_blocks",
    "MULTISPIN_KINDS",
]

Coord = tuple  # integer coordinates of a site (or of a block in superlattice units)


# ----------------------------------------------------------------------------------
# lattices
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lattice:
    """A Bravais lattice, infinite or a finite open/periodic patch.

    Parameters
    ----------
    name : str
        ``"chain"``, ``"square"``, ``"triangular"`` or any label.
    basis : tuple of tuples
        Exact primitive vectors (sympy numbers), one per dimension.
    shape : tuple of int or None
        Number of cells along each primitive vector; None for the infinite lattice.
    periodic : bool
        Periodic boundaries of a finite lattice (ignored when infinite).
    """

    name: str
    basis: tuple
    shape: tuple | None = None
    periodic: bool = True

    def __post_init__(self) -> None:
        basis = tuple(tuple(sp.nsimplify(c) for c in v) for v in self.basis)
        d = len(basis)
        if d == 0 or any(len(v) != d for v in basis):
            raise ValueError(f"basis: expected d vectors of length d, got {self.basis!r}")
        if sp.Matrix(basis).det() == 0:
            raise ValueError(f"basis vectors are linearly dependent: {self.basis!r}")
        object.__setattr__(self, "basis", basis)
        if self.shape is not None:
            shape = tuple(int(L) for L in self.shape)
            if len(shape) != d or any(L < 1 for L in shape):
                raise ValueError(f"shape: expected {d} positive lengths, got {self.shape!r}")
            object.__setattr__(self, "shape", shape)

    # -- description ------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.basis)

    @property
    def finite(self) -> bool:
        return self.shape is not None

    @property
    def gram(self) -> sp.ImmutableMatrix:
        """``G_ij = a_i . a_j`` (exact)."""
        B = sp.Matrix(self.basis)
        return sp.ImmutableMatrix((B * B.T).applyfunc(sp.nsimplify))

    @property
    def num_sites(self) -> int:
        if self.shape is None:
            raise ValueError(f"the infinite {self.name} lattice has no finite number of sites; give a shape")
        return int(np.prod(self.shape))

    def __repr__(self) -> str:
        size = "infinite" if self.shape is None else "x".join(map(str, self.shape)) + (" periodic" if self.periodic else " open")
        return f"Lattice({self.name}, {size})"

    # -- geometry ---------------------------------------------------------------
    def distance2(self, vector: Sequence[int]) -> sp.Rational:
        """Exact squared length of the lattice vector with integer coordinates ``vector``."""
        v = sp.Matrix(list(vector))
        return sp.nsimplify((v.T * self.gram * v)[0, 0])

    def _shells(self, k: int) -> list:
        # the k-th shell lies within distance k (the vectors j a_0, j <= k, give k distances),
        # and every lattice here has |n| >= c max|n_i| with c >= sqrt(3)/2, so a box of
        # radius 2k + 1 holds every vector of the first k shells
        R = 2 * k + 1
        G = np.array(self.gram.tolist(), dtype=object)
        by_d2: dict = {}
        for n in itertools.product(range(-R, R + 1), repeat=self.dim):
            if not any(n):
                continue
            d2 = sp.nsimplify(sum(G[i, j] * n[i] * n[j] for i in range(self.dim) for j in range(self.dim)))
            by_d2.setdefault(d2, []).append(n)
        return [by_d2[d2] for d2 in sorted(by_d2)[:k]]

    def shell_distance2(self, k: int) -> sp.Rational:
        """Squared distance of the ``k``-th neighbour shell (``k = 1``: nearest)."""
        k = _positive_int(k, "shell")
        return self.distance2(self._shells(k)[k - 1][0])

    def shell_vectors(self, k: int) -> tuple:
        """One vector of each ``±d`` pair of the ``k``-th neighbour shell (first nonzero > 0)."""
        k = _positive_int(k, "shell")
        vecs = self._shells(k)[k - 1]
        half = [v for v in vecs if next(c for c in v if c != 0) > 0]
        return tuple(sorted(half, reverse=True))

    # -- finite lattices ----------------------------------------------------------
    def sites(self) -> tuple:
        """Integer coordinates of every site, in site-index order."""
        if self.shape is None:
            raise ValueError(f"the infinite {self.name} lattice has no site list; give a shape")
        return tuple(tuple(reversed(c)) for c in itertools.product(*[range(L) for L in reversed(self.shape)]))

    def index(self, coord: Sequence[int]) -> int | None:
        """Site index of ``coord`` (wrapped when periodic; None outside an open lattice)."""
        if self.shape is None:
            raise ValueError("site indices exist on finite lattices only")
        idx, stride = 0, 1
        for c, L in zip(coord, self.shape):
            if self.periodic:
                c %= L
            elif not 0 <= c < L:
                return None
            idx += c * stride
            stride *= L
        return idx

    def positions(self) -> np.ndarray:
        """Cartesian positions (floats) of the sites, shape ``(num_sites, dim)``."""
        B = np.array([[float(c) for c in v] for v in self.basis])
        return np.array(self.sites(), dtype=float) @ B


def _positive_int(k: Any, name: str) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name} must be a positive integer, got {k!r}")
    return int(k)


def _shape(n: Any, name: str) -> int | None:
    return None if n is None else _positive_int(n, name)


def chain(n: int | None = None, periodic: bool = True) -> Lattice:
    """A chain of ``n`` sites (None: infinite), periodic (a ring) or open.

    >>> chain(8), chain(8, periodic=False), chain()
    (Lattice(chain, 8 periodic), Lattice(chain, 8 open), Lattice(chain, infinite))
    """
    n = _shape(n, "n")
    return Lattice("chain", ((1,),), None if n is None else (n,), periodic)


def square(lx: int | None = None, ly: int | None = None, periodic: bool = True) -> Lattice:
    """The square lattice, ``lx x ly`` (``ly`` defaults to ``lx``; None: infinite).

    >>> square(4).num_sites
    16
    """
    lx = _shape(lx, "lx")
    ly = lx if ly is None else _shape(ly, "ly")
    return Lattice("square", ((1, 0), (0, 1)), None if lx is None else (lx, ly), periodic)


def triangular(lx: int | None = None, ly: int | None = None, periodic: bool = True) -> Lattice:
    """The triangular lattice with primitive vectors ``(1, 0)`` and ``(1/2, sqrt(3)/2)``.

    >>> triangular(3).shell_vectors(1)
    ((1, 0), (1, -1), (0, 1))
    """
    lx = _shape(lx, "lx")
    ly = lx if ly is None else _shape(ly, "ly")
    basis = ((1, 0), (sp.Rational(1, 2), sp.sqrt(3) / 2))
    return Lattice("triangular", basis, None if lx is None else (lx, ly), periodic)


# ----------------------------------------------------------------------------------
# interactions and models
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Interaction:
    """A translation-invariant interaction ``coupling * sum_translations prod_{i in pattern} x_i``.

    ``patterns`` is a tuple of patterns, each a tuple of distinct integer site offsets;
    every translate of every pattern is one term.  ``label`` describes it in output.
    """

    coupling: sp.Symbol
    patterns: tuple
    label: str = ""

    def __post_init__(self) -> None:
        c = sp.Symbol(self.coupling, real=True) if isinstance(self.coupling, str) else self.coupling
        if not isinstance(c, sp.Symbol):
            raise TypeError(f"coupling must be a sympy Symbol or a name, got {self.coupling!r}")
        pats = tuple(tuple(tuple(int(x) for x in s) for s in p) for p in self.patterns)
        if not pats:
            raise ValueError(f"interaction {c}: needs at least one pattern")
        for p in pats:
            if not p or len(set(p)) != len(p):
                raise ValueError(f"interaction {c}: a pattern needs distinct sites, got {p}")
        object.__setattr__(self, "coupling", c)
        object.__setattr__(self, "patterns", pats)
        if not self.label:
            object.__setattr__(self, "label", str(c))

    @property
    def order(self) -> int:
        """Number of spins per term (1: a field)."""
        return len(self.patterns[0])


def pair_interaction(lattice: Lattice, shell: int, coupling: Any) -> Interaction:
    """Pairs at the ``shell``-th neighbour distance (1 nearest, 2 next-nearest, ...).

    >>> pair_interaction(square(), 2, "L").patterns
    (((0, 0), (1, 1)), ((0, 0), (1, -1)))
    """
    zero = (0,) * lattice.dim
    pats = tuple((zero, tuple(v)) for v in lattice.shell_vectors(shell))
    return Interaction(coupling, pats, f"{coupling} (shell {shell}, |d|^2 = {lattice.shell_distance2(shell)})")


def field_interaction(lattice: Lattice, coupling: Any) -> Interaction:
    """A uniform field ``coupling * sum_i x_i``."""
    return Interaction(coupling, (((0,) * lattice.dim,),), f"{coupling} (field)")


#: multi-spin terms offered by name: elementary polygons of each lattice
MULTISPIN_KINDS = {
    "triangles": ("triangular", (((0, 0), (1, 0), (0, 1)), ((1, 0), (0, 1), (1, 1)))),
    "plaquettes": ("square", (((0, 0), (1, 0), (0, 1), (1, 1)),)),
}


def multispin_interaction(lattice: Lattice, kind: str, coupling: Any) -> Interaction:
    """A multi-spin interaction by name (``"triangles"``: up and down triangles of the
    triangular lattice; ``"plaquettes"``: squares of the square lattice).

    >>> multispin_interaction(triangular(), "triangles", "T").order
    3
    """
    if kind not in MULTISPIN_KINDS:
        raise ValueError(f"unknown multi-spin kind {kind!r}; valid kinds: {', '.join(MULTISPIN_KINDS)}")
    lat_name, pats = MULTISPIN_KINDS[kind]
    if lattice.name != lat_name:
        raise ValueError(f"multi-spin kind {kind!r} needs a {lat_name} lattice, got {lattice.name}")
    return Interaction(coupling, pats, f"{coupling} ({kind})")


@dataclass(frozen=True)
class LatticeModel:
    """Ising spins on ``lattice`` with weight ``exp(sum_interactions coupling * sum_terms prod x)``.

    The reduced hamiltonian is ``K(x) = -(that exponent)``.
    """

    lattice: Lattice
    interactions: tuple

    def __post_init__(self) -> None:
        inters = tuple(self.interactions)
        syms = [i.coupling for i in inters]
        if len(set(syms)) != len(syms):
            raise ValueError(f"interactions: each coupling symbol may appear once, got {syms}")
        for it in inters:
            if any(len(s) != self.lattice.dim for p in it.patterns for s in p):
                raise ValueError(f"interaction {it.coupling}: site offsets must have {self.lattice.dim} coordinates")
        object.__setattr__(self, "interactions", inters)

    @property
    def couplings(self) -> tuple:
        return tuple(i.coupling for i in self.interactions)

    def interaction(self, name: Any) -> Interaction:
        """The interaction of a coupling (symbol or name)."""
        for it in self.interactions:
            if it.coupling == name or str(it.coupling) == str(name):
                return it
        raise KeyError(f"unknown coupling {name!s}; valid names: {', '.join(map(str, self.couplings))}")

    def terms(self) -> tuple:
        """Every term on a finite lattice: ``(interaction position, site indices)``.

        Periodic lattices wrap; open lattices drop terms that leave the lattice.

        Raises
        ------
        ValueError
            When a wrapped term meets itself (the periodic lattice is too small).
        """
        lat = self.lattice
        out = []
        for a, it in enumerate(self.interactions):
            for site in lat.sites():
                for p in it.patterns:
                    idx = [lat.index(tuple(s + o for s, o in zip(site, off))) for off in p]
                    if any(i is None for i in idx):
                        continue
                    if len(set(idx)) != len(idx):
                        raise ValueError(
                            f"lattice shape {lat.shape} is too small for interaction {it.label}: "
                            f"a term wraps onto itself"
                        )
                    out.append((a, tuple(idx)))
        return tuple(out)

    def coupling_table(self) -> CouplingTable:
        """Every term on the finite lattice as a :class:`~symrg.model.couplings.CouplingTable`.

        The coefficient of a set of sites is the sum of the couplings of the terms on
        it (:meth:`terms` lists a bond twice when a small periodic lattice wraps it onto
        the same pair, and the table adds them), so ``table.log_weight`` equals
        :meth:`log_weight`.

        >>> ising_model(chain(3), {"K": 1, "h": "field"}).coupling_table()
        CouplingTable(3 units: 3 one-unit terms, 3 two-unit terms)
        """
        if self.lattice.shape is None:
            raise ModelError(f"the infinite {self.lattice.name} lattice has no finite coupling table; give it a shape")
        return CouplingTable(self.lattice.num_sites, tuple((idx, self.interactions[a].coupling) for a, idx in self.terms()))

    def log_weight(self, configs: np.ndarray, values: Mapping) -> np.ndarray:
        """``-K(x)`` for every row of ``configs`` (shape ``(n_configs, num_sites)``, entries ±1)."""
        vals = _coupling_values(self.couplings, values)
        out = np.zeros(configs.shape[0])
        for a, idx in self.terms():
            if vals[a] == 0.0:
                continue
            prod = configs[:, idx[0]].astype(np.float64)
            for i in idx[1:]:
                prod = prod * configs[:, i]
            out += vals[a] * prod
        return out


def _coupling_values(couplings: Sequence[sp.Symbol], values: Mapping) -> list[float]:
    out = []
    names = {str(k): v for k, v in values.items()}
    unknown = set(names) - {str(c) for c in couplings}
    if unknown:
        raise ValueError(f"values: unknown coupling(s) {', '.join(sorted(unknown))}; valid names: {', '.join(map(str, couplings))}")
    for c in couplings:
        if str(c) not in names:
            raise ValueError(f"values: missing a value for coupling {c}")
        out.append(float(names[str(c)]))
    return out


def ising_model(lattice: Lattice, couplings: Mapping[Any, Any]) -> LatticeModel:
    """A model from ``{coupling: spec}``; spec is a shell number (pairs), ``"field"``,
    a multi-spin kind (``"triangles"``, ``"plaquettes"``) or a tuple of patterns.

    >>> m = ising_model(chain(), {"K": 1, "L": 2, "h": "field"})
    >>> [it.patterns for it in m.interactions]
    [(((0,), (1,)),), (((0,), (2,)),), (((0,),),)]
    """
    inters = []
    for name, spec in couplings.items():
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            inters.append(pair_interaction(lattice, int(spec), name))
        elif spec == "field":
            inters.append(field_interaction(lattice, name))
        elif isinstance(spec, str):
            if spec not in MULTISPIN_KINDS:
                raise ValueError(
                    f"unknown interaction spec {spec!r} for {name}; valid: a shell number, 'field', "
                    + ", ".join(repr(k) for k in MULTISPIN_KINDS) + ", or a tuple of patterns"
                )
            inters.append(multispin_interaction(lattice, spec, name))
        else:
            inters.append(Interaction(name, tuple(spec)))
    return LatticeModel(lattice, tuple(inters))


def lattice_model(
    lattice: "Lattice | LatticeModel",
    couplings: Mapping[Any, Any] | None = None,
    name: str = "s",
    kind: UnitKind | str = "spin",
) -> EnergyModel:
    """A lattice hamiltonian on a finite lattice as an :class:`~symrg.model.energy.EnergyModel`.

    The one constructor from lattice terms to energy models: ``lattice`` is a finite
    :class:`Lattice` with ``couplings`` as for :func:`ising_model` (a shell number,
    ``"field"``, ``"plaquettes"``, ``"triangles"`` or a tuple of patterns), or a
    :class:`LatticeModel` (then ``couplings`` is None).  The model has one layer
    ``name`` of ``kind`` units (spins by default) and the energy ``-(sum of the terms)``:
    fields go to the bias, pairs to the self-coupling ``J`` (``-1/2 x^T J x``), terms of
    three or more sites to a :class:`~symrg.model.terms.MultispinTerm`.  Its Boltzmann
    weight is :meth:`LatticeModel.log_weight` for spins.

    >>> m = lattice_model(chain(3, periodic=False), {"K": 1, "h": "field"})
    >>> m.energy
    -K*s_1*s_2 - K*s_2*s_3 - h*s_1 - h*s_2 - h*s_3
    >>> lattice_model(square(2), {"K": 1, "P": "plaquettes"}).terms[0].monomials
    (((0, 1, 2, 3), 4*P),)
    """
    if isinstance(lattice, LatticeModel):
        if couplings is not None:
            raise ModelError("lattice_model: pass a LatticeModel alone, or a Lattice with couplings")
        lm = lattice
    elif isinstance(lattice, Lattice):
        if couplings is None:
            raise ModelError("lattice_model: a Lattice needs couplings, e.g. {'K': 1, 'h': 'field'}")
        lm = ising_model(lattice, couplings)
    else:
        raise ModelError(f"lattice_model: expected a Lattice or a LatticeModel, got {type(lattice).__name__}")
    table = lm.coupling_table()
    fields, rest = table.part(1, 1), table.part(2)
    bias: object = fields.field_vector() if len(fields) else 0
    self_coupling = {(name, name): rest} if len(rest) else {}
    return energy_model([(name, table.size, kind)], self_coupling, biases={name: bias})


# ----------------------------------------------------------------------------------
# blocks
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockPartition:
    """Blocks: a motif of sites translated by an integer superlattice.

    Parameters
    ----------
    lattice : Lattice
    motif : tuple of integer site offsets
        The sites of block 0, in the order their spins are indexed inside a block.
    superlattice : tuple of integer vectors
        Block translations (rows), in lattice coordinates; ``|det|`` must equal the
        motif size and the motif must hold one site of each coset (a tiling).
    name : str
    """

    lattice: Lattice
    motif: tuple
    superlattice: tuple
    name: str = "blocks"
    # the inverse superlattice matrix, derived in __post_init__ (not part of the value)
    _minv: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        d = self.lattice.dim
        motif = tuple(tuple(int(c) for c in s) for s in self.motif)
        sup = tuple(tuple(int(c) for c in v) for v in self.superlattice)
        if len(sup) != d or any(len(v) != d for v in sup) or any(len(s) != d for s in motif):
            raise ValueError(f"blocks: motif sites and superlattice vectors need {d} coordinates")
        M = sp.Matrix(sup)
        det = abs(M.det())
        if det != len(motif) or len(set(motif)) != len(motif):
            raise ValueError(f"blocks: the superlattice (|det| = {det}) must hold as many sites as the motif ({len(motif)} distinct)")
        object.__setattr__(self, "motif", motif)
        object.__setattr__(self, "superlattice", sup)
        object.__setattr__(self, "_minv", M.inv())
        # every coset of the superlattice must be hit exactly once
        for i, j in itertools.combinations(range(len(motif)), 2):
            if self._in_superlattice(tuple(a - b for a, b in zip(motif[i], motif[j]))) is not None:
                raise ValueError(f"blocks: motif sites {motif[i]} and {motif[j]} are translates of each other; the blocks do not tile the lattice")
        lat = self.lattice
        if lat.shape is not None and lat.periodic:
            for i, L in enumerate(lat.shape):
                period = tuple(L if j == i else 0 for j in range(d))
                if self._in_superlattice(period) is None:
                    if lat.name == "chain":
                        raise ValueError(f"block size b={len(motif)} does not divide the chain length n={L}")
                    raise ValueError(f"lattice shape {lat.shape} is not compatible with the blocks {self.name} (period {period} is not a block translation)")
        if lat.shape is not None:
            self._finite_blocks()  # validates coverage of open lattices

    def _in_superlattice(self, v: Sequence[int]) -> tuple | None:
        m = sp.Matrix([list(v)]) * self._minv
        if all(x.is_integer for x in m):
            return tuple(int(x) for x in m)
        return None

    # -- description -------------------------------------------------------------
    @property
    def size(self) -> int:
        """Sites per block."""
        return len(self.motif)

    @property
    def scale_factor(self) -> sp.Expr:
        """Length rescaling ``b = size^(1/d)``."""
        return sp.nsimplify(sp.Integer(self.size) ** sp.Rational(1, self.lattice.dim))

    def locate(self, site: Sequence[int]) -> tuple:
        """``(block coordinate, motif position)`` of a fine site (integer coordinates)."""
        for k, m in enumerate(self.motif):
            c = self._in_superlattice(tuple(s - o for s, o in zip(site, m)))
            if c is not None:
                return c, k
        raise AssertionError("unreachable: the motif tiles the lattice")  # pragma: no cover

    def site(self, block: Sequence[int], k: int) -> tuple:
        """Integer coordinates of motif site ``k`` of the block at ``block``."""
        shift = [sum(block[i] * self.superlattice[i][j] for i in range(len(block))) for j in range(self.lattice.dim)]
        return tuple(o + s for o, s in zip(self.motif[k], shift))

    def coarse_lattice(self) -> Lattice:
        """The infinite lattice of blocks (primitive vectors: the superlattice, exact)."""
        B = sp.Matrix(self.superlattice) * sp.Matrix(self.lattice.basis)
        return Lattice(f"coarse {self.lattice.name}", tuple(tuple(sp.nsimplify(sp.radsimp(c)) for c in B.row(i)) for i in range(B.rows)))

    def coarse_shell(self, k: int) -> tuple:
        """Block displacements (superlattice coordinates, one per ±) of the ``k``-th coarse shell."""
        return self.coarse_lattice().shell_vectors(k)

    # -- finite lattices -----------------------------------------------------------
    def _finite_blocks(self) -> tuple:
        lat = self.lattice
        groups: dict = {}
        for idx, site in enumerate(lat.sites()):
            c, k = self.locate(site)
            members = [lat.index(self.site(c, j)) for j in range(self.size)]
            if any(m is None for m in members):
                raise ValueError(f"blocks {self.name}: the open lattice {lat.shape} is not covered by whole blocks (site {site})")
            groups.setdefault(tuple(members), None)
        blocks = sorted(groups, key=min)
        seen = [i for b in blocks for i in b]
        if len(seen) != len(set(seen)) or len(seen) != lat.num_sites:
            raise ValueError(f"lattice shape {lat.shape} is not compatible with the blocks {self.name}")
        return tuple(blocks)

    def blocks(self) -> tuple:
        """Site indices of every block of a finite lattice (motif order), by smallest site."""
        if self.lattice.shape is None:
            raise ValueError("blocks() lists the blocks of a finite lattice; give the lattice a shape")
        return self._finite_blocks()

    # -- which bonds join which blocks ----------------------------------------------
    def terms_touching(self, interaction: Interaction, block: Sequence[int] | None = None) -> tuple:
        """Terms of ``interaction`` (infinite lattice) with a site in ``block``.

        Each term is the sorted tuple of its site coordinates.
        """
        block = (0,) * self.lattice.dim if block is None else tuple(block)
        out = set()
        for k in range(self.size):
            s = self.site(block, k)
            for p in interaction.patterns:
                for anchor in p:
                    shift = tuple(a - b for a, b in zip(s, anchor))
                    out.add(tuple(sorted(tuple(o + t for o, t in zip(off, shift)) for off in p)))
        return tuple(sorted(out))

    def connections(self, interaction: Interaction, coarse_shell: int | None = None) -> dict:
        """Terms of a pair ``interaction`` joining block 0 to other blocks, by block displacement.

        Returns ``{D: ((site in block 0, site in block D), ...)}`` with ``D`` in superlattice
        coordinates; ``coarse_shell`` keeps only displacements in that coarse shell (both
        signs).
        """
        if interaction.order != 2:
            raise ValueError(f"connections: {interaction.label} is not a pair interaction")
        out: dict = {}
        zero = (0,) * self.lattice.dim
        for t in self.terms_touching(interaction, zero):
            (ca, _), (cb, _) = self.locate(t[0]), self.locate(t[1])
            if ca == cb:
                continue
            a, b = (t[0], t[1]) if ca == zero else (t[1], t[0])
            D = cb if ca == zero else ca
            out.setdefault(D, []).append((a, b))
        if coarse_shell is not None:
            shell = set(self.coarse_shell(coarse_shell))
            shell |= {tuple(-c for c in v) for v in shell}
            out = {D: v for D, v in out.items() if D in shell}
        return {D: tuple(sorted(v)) for D, v in sorted(out.items())}


def chain_blocks(lattice: Lattice, b: int) -> BlockPartition:
    """Blocks of ``b`` consecutive sites of a chain.

    >>> chain_blocks(chain(6), 2).blocks()
    ((0, 1), (2, 3), (4, 5))
    >>> chain_blocks(chain(16), 3)
    Traceback (most recent call last):
    ...
    ValueError: block size b=3 does not divide the chain length n=16
    """
    if lattice.dim != 1:
        raise ValueError(f"chain_blocks needs a one-dimensional lattice, got {lattice!r}")
    b = _positive_int(b, "b")
    if lattice.shape is not None and not lattice.periodic and lattice.shape[0] % b:
        raise ValueError(f"block size b={b} does not divide the chain length n={lattice.shape[0]}")
    return BlockPartition(lattice, tuple((i,) for i in range(b)), ((b,),), f"chain blocks b={b}")


def square_blocks(lattice: Lattice, b: int) -> BlockPartition:
    """``b x b`` blocks of the square lattice.

    >>> square_blocks(square(4), 2).blocks()[:2]
    ((0, 1, 4, 5), (2, 3, 6, 7))
    """
    if lattice.name != "square":
        raise ValueError(f"square_blocks needs a square lattice, got {lattice!r}")
    b = _positive_int(b, "b")
    if lattice.shape is not None and any(L % b for L in lattice.shape):
        raise ValueError(f"block size b={b} does not divide the lattice shape {lattice.shape}")
    motif = tuple((i, j) for j in range(b) for i in range(b))
    return BlockPartition(lattice, motif, ((b, 0), (0, b)), f"square {b}x{b} blocks")


def triangular_blocks(lattice: Lattice) -> BlockPartition:
    """Up-triangles of 3 sites on the ``sqrt3 x sqrt3`` superlattice (Niemeijer-van Leeuwen).

    Superlattice vectors ``a_0 + a_1`` and ``-a_0 + 2 a_1`` (length ``sqrt 3``).

    >>> triangular_blocks(triangular(3)).blocks()
    ((0, 1, 3), (8, 6, 2), (4, 5, 7))
    """
    if lattice.name != "triangular":
        raise ValueError(f"triangular_blocks needs a triangular lattice, got {lattice!r}")
    if lattice.shape is not None and any(L % 3 for L in lattice.shape):
        raise ValueError(f"the sqrt3 x sqrt3 blocks need lattice lengths divisible by 3, got {lattice.shape}")
    return BlockPartition(lattice, ((0, 0), (1, 0), (0, 1)), ((1, 1), (-1, 2)), "triangles (sqrt3 x sqrt3)")
