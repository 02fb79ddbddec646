"""Recursion maps of couplings and their flow analysis (docs/recursions.md, "Linearization and exponents").

A :class:`RecursionMap` holds a map ``g -> g'(g)`` of couplings with a scale factor
``b`` (a number, or a symbol when the map is known for general ``b``), optionally
carrying a constant (free-energy) term ``g0 -> g0'`` that is transported along the
flow but never enters the fixed-point analysis.  From it one gets iterates (numpy or
mpmath), fixed points (symbolic where sympy can solve the equations, numeric root
finding otherwise), the linearization with RG eigenvalues ``y = log(lambda) / log(b)``
and ``nu = 1 / y_t``, the continuous beta function when ``b`` is symbolic, and changes of
variables (``u = tanh K`` brings ``K = oo`` to ``u = 1``).

Examples
--------
>>> import sympy as sp
>>> from symrg.rg.recursion import RecursionMap
>>> u = sp.Symbol("u")
>>> b = sp.Symbol("b", positive=True)
>>> rmap = RecursionMap((u,), (u**b,), b)
>>> rmap.beta_function()
(u*log(u),)
>>> fps = rmap.subs({b: 2}).fixed_points()
>>> [(fp.values, fp.labels) for fp in fps]
[((0,), ('irrelevant',)), ((1,), ('relevant',))]
>>> fps[1].nu
1
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from symrg.model import services
from symrg.model.display import Displayed
from symrg.model.frozen import array_hash, arrays_equal, freeze, readonly_array

__all__ = [
    "RecursionMap",
    "FixedPoint",
    "Flow",
    "FlowFreeEnergy",
    "free_energy_from_flow",
    "solve_with_timeout",
]

#: |y| below this counts as marginal
MARGINAL_TOL = 1e-10


# ----------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FixedPoint(Displayed):
    """A fixed point of a recursion map with its linearization.

    All numbers are sympy objects: exact when the fixed point was found symbolically,
    ``sympy.Float`` of the working precision otherwise.

    Attributes
    ----------
    couplings : tuple of Symbol
        The couplings of the map (the order of ``values``).
    values : tuple of Expr
        Coordinates of the fixed point.
    exact : bool
        True when ``values`` came from a symbolic solution.
    jacobian : sympy.ImmutableMatrix
        ``T_ab = d g'_a / d g_b`` at the fixed point.
    eigenvalues, eigenvectors
        Eigenvalues ``lambda_i`` of ``T`` (largest first) and right eigenvectors.
    rg_eigenvalues : tuple of Expr
        ``y_i = log|lambda_i| / log b`` (``-oo`` for ``lambda = 0``).
    labels : tuple of str
        ``"relevant"`` (y > 0), ``"irrelevant"`` (y < 0) or ``"marginal"``.
    original : dict or None
        The fixed point in the original couplings when the map was obtained by
        :meth:`RecursionMap.change_variables` (may contain ``oo``).
    """

    couplings: tuple
    values: tuple
    exact: bool
    jacobian: sp.ImmutableMatrix
    eigenvalues: tuple
    eigenvectors: tuple
    rg_eigenvalues: tuple
    labels: tuple
    b: sp.Expr
    original: Mapping | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "original", None if self.original is None else freeze(self.original))

    @property
    def nu(self) -> sp.Expr | None:
        """``1 / y`` for the largest RG eigenvalue when it is relevant, else None.

        With a field among the couplings the largest eigenvalue may be ``y_h``; use
        :meth:`nu_along` with the thermal coupling then.
        """
        if not self.rg_eigenvalues:
            return None
        y = self.rg_eigenvalues[0]
        if self.labels[0] != "relevant":
            return None
        return sp.simplify(1 / y) if self.exact else sp.Float(1 / y, _prec(y))

    def direction(self, coupling: str | sp.Symbol) -> int:
        """Index of the eigen-direction that lies most along ``coupling``.

        At a spin-flip symmetric fixed point the thermal (even) and magnetic (odd)
        directions do not mix, so ``direction("K")`` picks the thermal eigenvalue even
        when the magnetic one is larger.
        """
        names = [str(c) for c in self.couplings]
        if str(coupling) not in names:
            raise ValueError(f"unknown coupling {coupling!r}; the couplings are {names}")
        k = names.index(str(coupling))

        def weight(v) -> float:
            comps = [abs(complex(sp.N(x))) for x in v]
            norm = sum(c * c for c in comps) ** 0.5
            return comps[k] / norm if norm else 0.0

        return max(range(len(self.eigenvectors)), key=lambda i: weight(self.eigenvectors[i]))

    def y(self, coupling: str | sp.Symbol) -> sp.Expr:
        """The RG eigenvalue of the direction along ``coupling`` (see :meth:`direction`)."""
        return self.rg_eigenvalues[self.direction(coupling)]

    def nu_along(self, coupling: str | sp.Symbol) -> sp.Expr:
        """``1 / y`` of the direction along ``coupling`` (``nu = 1 / y_t`` with the thermal coupling)."""
        y = self.y(coupling)
        return sp.simplify(1 / y) if self.exact else sp.Float(1 / y, _prec(y))

    @property
    def stable(self) -> bool:
        """True when no direction is relevant (an attractive fixed point)."""
        return "relevant" not in self.labels

    def as_dict(self) -> dict:
        """``{coupling: value}``."""
        return dict(zip(self.couplings, self.values))

    def text(self) -> str:
        vals = ", ".join(f"{c} = {v}" for c, v in zip(self.couplings, self.values))
        ys = ", ".join(f"{y} ({lab})" for y, lab in zip(self.rg_eigenvalues, self.labels))
        return f"fixed point ({vals}); y: {ys}"

    def __repr__(self) -> str:
        return f"FixedPoint({self.text()})"

    def latex(self) -> str:
        vals = ", ".join(f"{sp.latex(c)}^* = {sp.latex(v)}" for c, v in zip(self.couplings, self.values))
        ys = ", ".join(rf"{sp.latex(y)}\ (\text{{{lab}}})" for y, lab in zip(self.rg_eigenvalues, self.labels))
        return rf"{vals};\quad y = {ys}"


@dataclass(frozen=True)
class Flow(Displayed):
    """Iterates of a recursion map.

    ``points[k]`` are the couplings after ``k`` steps (``points[0]`` the start);
    ``constants[k]`` the constant term after ``k`` steps (None when the map carries
    no constant).  Arrays hold floats for the numpy back-end and mpmath numbers
    (``dtype=object``) for the mpmath back-end.
    """

    couplings: tuple
    points: np.ndarray
    constants: np.ndarray | None

    def __post_init__(self) -> None:
        # read-only copies: a result never shares a writable array with its caller
        object.__setattr__(self, "points", readonly_array(self.points))
        object.__setattr__(self, "constants", readonly_array(self.constants))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Flow):
            return NotImplemented
        return (
            self.couplings == other.couplings
            and arrays_equal(self.points, other.points)
            and arrays_equal(self.constants, other.constants)
        )

    def __hash__(self) -> int:
        return hash((self.couplings, array_hash(self.points), array_hash(self.constants)))

    @property
    def steps(self) -> int:
        """Number of steps taken (``len(points) - 1``)."""
        return len(self.points) - 1

    def text(self) -> str:
        names = ", ".join(map(str, self.couplings))
        first = ", ".join(f"{float(x):.6g}" for x in self.points[0])
        last = ", ".join(f"{float(x):.6g}" for x in self.points[-1])
        return f"flow of ({names}) over {self.steps} steps: ({first}) -> ({last})"

    def latex(self) -> str:
        names = ", ".join(sp.latex(c) for c in self.couplings)
        first = ", ".join(sp.latex(sp.Float(float(x), 6)) for x in self.points[0])
        last = ", ".join(sp.latex(sp.Float(float(x), 6)) for x in self.points[-1])
        return rf"({names}):\ ({first}) \xrightarrow{{{self.steps}\ \text{{steps}}}} ({last})"


@dataclass(frozen=True)
class FlowFreeEnergy(Displayed):
    """Free energy per bond from summing the constants along the flow.

    ``log_z_per_bond = lim (1/N_bonds) log Z = sum_k c_k / s^(k+1)`` where ``c_k`` is
    the constant generated at step ``k`` (the constant image at ``g0 = 0``) and
    ``s = d g0' / d g0`` the number of old bonds per new bond.
    ``free_energy = -log_z_per_bond`` (reduced, ``beta F / N_bonds``).
    """

    log_z_per_bond: mpmath.mpf
    steps: int
    tail: mpmath.mpf

    @property
    def free_energy(self) -> mpmath.mpf:
        return -self.log_z_per_bond

    def text(self) -> str:
        return (f"log Z per bond = {mpmath.nstr(self.log_z_per_bond, 15)} "
                f"(free energy {mpmath.nstr(self.free_energy, 15)}; {self.steps} steps, tail {mpmath.nstr(self.tail, 3)})")

    def latex(self) -> str:
        return rf"\frac{{1}}{{N_b}} \log Z = {mpmath.nstr(self.log_z_per_bond, 15)}"


# ----------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------
def _prec(x: Any) -> int:
    return max(15, int(getattr(x, "_prec", 53) * 0.30103))


def _is_number(x: sp.Expr) -> bool:
    return isinstance(x, sp.Expr) and x.is_number


def _validate_b(b: Any) -> sp.Expr:
    b = sp.sympify(b)
    if b.is_number:
        if b.is_real is False or not (b > 1):
            raise ValueError(f"scale factor b must be a real number > 1, got b = {b}")
    elif not isinstance(b, sp.Symbol):
        raise ValueError(f"scale factor b must be a number > 1 or a Symbol, got b = {b}")
    return b


def _solve_worker(conn, eqs, syms) -> None:  # pragma: no cover - runs in a child process
    try:
        conn.send(("ok", sp.solve(list(eqs), list(syms), dict=True)))
    except Exception as exc:  # noqa: BLE001 - report any failure to the parent
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


def solve_with_timeout(eqs: Sequence[sp.Expr], syms: Sequence[sp.Symbol], timeout: float | None = 10.0) -> list[dict] | None:
    """``sympy.solve(eqs, syms, dict=True)`` that gives up after ``timeout`` seconds.

    sympy cannot be interrupted from inside, so the solve runs in a child process
    which is terminated on timeout.  Returns None when sympy fails or times out;
    ``timeout=None`` solves in this process without a guard.

    >>> x = sp.Symbol("x")
    >>> solve_with_timeout([x**2 - 2*x], [x])
    [{x: 0}, {x: 2}]
    """
    if timeout is None:
        try:
            return sp.solve(list(eqs), list(syms), dict=True)
        except Exception:  # noqa: BLE001 - sympy raises many kinds on unsolvable input
            return None
    methods = multiprocessing.get_all_start_methods()
    ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")  # a concrete context
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_solve_worker, args=(child, tuple(eqs), tuple(syms)), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            status, payload = parent.recv()
            return payload if status == "ok" else None
        return None
    except EOFError:
        return None
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        parent.close()


def _simplify_candidates(expr: sp.Expr) -> sp.Expr:
    """Simplest of a few rewritings of ``expr`` (hyperbolic -> exp -> rational)."""
    cands = [expr]
    try:
        e1 = sp.powsimp(sp.expand(expr.rewrite(sp.exp), deep=True, mul=False, power_exp=True, log=False), force=True)
        e1 = sp.powsimp(sp.together(e1), force=True)
        cands.append(e1)
        if sp.count_ops(e1) < 400:
            e2 = sp.simplify(e1)
            cands.append(e2)
            cands.append(sp.factor(e2))
            cands.append(sp.simplify(sp.powsimp(sp.powdenest(e2, force=True), force=True)))
    except Exception:  # noqa: BLE001 - simplification is best effort; the input is kept
        pass
    return min(cands, key=_cost)


def _cost(expr: sp.Expr) -> tuple:
    """Simplicity ranking: fewer transcendental functions first, then fewer operations."""
    return (len(expr.atoms(sp.Function)), sp.count_ops(expr), len(str(expr)))


def _as_symbol(x: Any) -> sp.Symbol:
    if isinstance(x, sp.Symbol):
        return x
    if isinstance(x, str):
        return sp.Symbol(x)
    raise TypeError(f"expected a sympy Symbol or a name, got {x!r}")


# ----------------------------------------------------------------------------------
# the map
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecursionMap(Displayed):
    """An RG recursion map ``couplings -> images`` with scale factor ``b``.

    Parameters
    ----------
    couplings : sequence of Symbol
        The flowing couplings ``g_a``.
    images : sequence of Expr
        ``g'_a`` as expressions in the couplings (and parameters, and ``b``).
    b : number > 1 or Symbol
        Length scale factor of one step.
    constant : Symbol, optional
        The constant (free energy) per bond ``g0``; carried, never analysed.
    constant_image : Expr, optional
        ``g0'``; must be affine in ``g0`` with a number-valued slope (old bonds per
        new bond).
    name : str
        Label used in printing.
    origin : tuple, optional
        ``(original_couplings, expressions)``: the original couplings in terms of
        these ones, set by :meth:`change_variables`.

    Examples
    --------
    >>> K = sp.Symbol("K")
    >>> m = RecursionMap((K,), (sp.log(sp.cosh(2*K))/2,), 2)
    >>> m(0.5)
    (mpf('0.216890415241513...'),)
    >>> m.jacobian()
    Matrix([[sinh(2*K)/cosh(2*K)]])
    """

    couplings: tuple
    images: tuple
    b: Any
    constant: sp.Symbol | None = None
    constant_image: sp.Expr | None = None
    name: str = "R"
    origin: tuple | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        couplings = tuple(_as_symbol(c) for c in self.couplings)
        images = tuple(sp.sympify(e) for e in self.images)
        if len(couplings) == 0:
            raise ValueError("couplings: a recursion map needs at least one coupling")
        if len(set(couplings)) != len(couplings):
            raise ValueError(f"couplings must be distinct symbols, got {couplings}")
        if len(images) != len(couplings):
            raise ValueError(
                f"images: expected one image per coupling ({len(couplings)}: "
                f"{', '.join(map(str, couplings))}), got {len(images)}"
            )
        b = _validate_b(self.b)
        object.__setattr__(self, "couplings", couplings)
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "b", b)
        if (self.constant is None) != (self.constant_image is None):
            raise ValueError("constant and constant_image must be given together")
        if self.constant is not None:
            g0 = _as_symbol(self.constant)
            if g0 in couplings:
                raise ValueError(f"constant {g0} must not also be a coupling")
            gimg = sp.sympify(self.constant_image)
            if any(e.has(g0) for e in images):
                raise ValueError(f"images must not depend on the constant {g0}")
            slope = sp.diff(gimg, g0)
            if slope.free_symbols - ({b} if isinstance(b, sp.Symbol) else set()) or sp.diff(slope, g0) != 0:
                raise ValueError(f"constant_image must be affine in {g0} with a constant slope, got slope {slope}")
            object.__setattr__(self, "constant", g0)
            object.__setattr__(self, "constant_image", gimg)

    # -- description --------------------------------------------------------------
    @property
    def dimension(self) -> int:
        """Number of flowing couplings."""
        return len(self.couplings)

    @property
    def parameters(self) -> tuple:
        """Free symbols other than the couplings, the constant and a symbolic ``b``."""
        syms: set = set()
        for e in self.images:
            syms |= e.free_symbols
        if self.constant_image is not None:
            syms |= self.constant_image.free_symbols
        syms -= set(self.couplings)
        syms -= {self.constant, self.b}
        return tuple(sorted(syms, key=str))

    @property
    def volume_factor(self) -> sp.Expr | None:
        """``d g0' / d g0``: old bonds per new bond (``b`` for a chain), or None."""
        if self.constant is None:
            return None
        return sp.diff(self.constant_image, self.constant)

    @property
    def generated_constant(self) -> sp.Expr | None:
        """The constant generated in one step, ``g0'`` at ``g0 = 0``."""
        if self.constant is None or self.constant_image is None:  # set together (__post_init__)
            return None
        return self.constant_image.subs(self.constant, 0)

    def equations(self) -> list[tuple[sp.Expr, sp.Expr]]:
        """``[(g'_a, image_a), ...]`` with primed symbols, constant last."""
        out = [(sp.Symbol(f"{c}'"), e) for c, e in zip(self.couplings, self.images)]
        if self.constant is not None:
            out.append((sp.Symbol(f"{self.constant}'"), self.constant_image))
        return out

    def text(self) -> str:
        return "\n".join(f"{lhs} = {sp.sstr(rhs)}" for lhs, rhs in self.equations()) + f"\n(b = {self.b})"

    def latex(self) -> str:
        rows = [f"{sp.latex(lhs)} &= {sp.latex(rhs)}" for lhs, rhs in self.equations()]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    # -- coercion of user input -----------------------------------------------------
    def _symbol_named(self, key: Any, allowed: Sequence[sp.Symbol], what: str) -> sp.Symbol:
        if isinstance(key, sp.Symbol) and key in allowed:
            return key
        for s in allowed:
            if str(s) == str(key):
                return s
        raise KeyError(f"unknown {what} name {str(key)!r}; valid names: {', '.join(map(str, allowed)) or '(none)'}")

    def point(self, values: Any) -> tuple:
        """Coerce ``values`` (sequence in coupling order, or mapping by name) to a tuple.

        >>> K, h = sp.symbols("K h")
        >>> RecursionMap((K, h), (K, h), 2).point({"h": 1, "K": 2})
        (2, 1)
        """
        if isinstance(values, Mapping):
            out: dict = {}
            for k, v in values.items():
                out[self._symbol_named(k, self.couplings, "coupling")] = v
            missing = [c for c in self.couplings if c not in out]
            if missing:
                raise ValueError(f"values: missing coupling(s) {', '.join(map(str, missing))}")
            return tuple(out[c] for c in self.couplings)
        if np.ndim(values) == 0:
            values = (values,)
        values = tuple(values)
        if len(values) != self.dimension:
            raise ValueError(
                f"values: expected {self.dimension} coupling value(s) "
                f"({', '.join(map(str, self.couplings))}), got {len(values)}"
            )
        return values

    # -- transformations --------------------------------------------------------------
    def subs(self, mapping: Mapping) -> "RecursionMap":
        """Substitute parameters or a symbolic ``b`` (keys: symbols or names).

        >>> u, b = sp.symbols("u b", positive=True)
        >>> RecursionMap((u,), (u**b,), b).subs({"b": 3}).images
        (u**3,)
        """
        allowed = list(self.parameters) + ([self.b] if isinstance(self.b, sp.Symbol) else [])
        rep = {}
        for k, v in mapping.items():
            if (isinstance(k, sp.Symbol) and k in self.couplings) or str(k) in map(str, self.couplings):
                raise KeyError(f"cannot substitute the coupling {k}; only parameters ({', '.join(map(str, allowed)) or 'none'})")
            rep[self._symbol_named(k, allowed, "parameter")] = sp.sympify(v)
        images = tuple(e.subs(rep) for e in self.images)
        gimg = None if self.constant_image is None else self.constant_image.subs(rep)
        b = self.b.subs(rep) if isinstance(self.b, sp.Expr) else self.b
        origin = None
        if self.origin is not None:
            origin = (self.origin[0], tuple(e.subs(rep) for e in self.origin[1]))
        return RecursionMap(self.couplings, images, b, self.constant, gimg, self.name, origin)

    def change_variables(self, new: Sequence[Any], forward: Sequence[sp.Expr], inverse: Sequence[sp.Expr]) -> "RecursionMap":
        """The same map in new couplings ``new = forward(old)``, ``old = inverse(new)``.

        The new images ``forward(images(inverse(new)))`` are simplified (best effort).
        Fixed points of the result report their position in the old couplings too,
        which is how fixed points at infinity are found: ``u = tanh K`` maps
        ``K = oo`` to ``u = 1``.

        >>> K, u = sp.symbols("K u")
        >>> m = RecursionMap((K,), (sp.log(sp.cosh(2*K))/2,), 2)
        >>> mu = m.change_variables([u], [sp.tanh(K)], [sp.atanh(u)])
        >>> mu.images
        (u**2,)
        >>> [fp.original for fp in mu.fixed_points()]
        [{K: 0}, {K: oo}]
        """
        new = tuple(_as_symbol(s) for s in new)
        forward = tuple(sp.sympify(e) for e in forward)
        inverse = tuple(sp.sympify(e) for e in inverse)
        n = self.dimension
        for nm, seq in (("new", new), ("forward", forward), ("inverse", inverse)):
            if len(seq) != n:
                raise ValueError(f"{nm}: expected {n} entries (one per coupling {', '.join(map(str, self.couplings))}), got {len(seq)}")
        # simplify with positive stand-ins (the usual domain of tanh-like variables)
        pos = tuple(sp.Dummy(str(s), positive=True) for s in new)
        inv_pos = {old: e.subs(dict(zip(new, pos))) for old, e in zip(self.couplings, inverse)}
        inv_log = {k: v.rewrite(sp.log) for k, v in inv_pos.items()}
        back = dict(zip(pos, new))
        images = []
        for fwd in forward:
            composed = fwd.subs(dict(zip(self.couplings, self.images)), simultaneous=True)
            plain = composed.subs(inv_pos, simultaneous=True)
            cands = [_simplify_candidates(plain), _simplify_candidates(composed.rewrite(sp.exp).subs(inv_log, simultaneous=True))]
            best = min(cands, key=_cost)
            images.append(best.subs(back))
        gimg = None
        if self.constant is not None and self.constant_image is not None:  # set together
            gpos = _simplify_candidates(self.constant_image.subs(inv_pos, simultaneous=True))
            gimg = gpos.subs(back)
        base = self.origin[0] if self.origin is not None else self.couplings
        if self.origin is not None:
            through = tuple(e.subs(dict(zip(self.couplings, inverse)), simultaneous=True) for e in self.origin[1])
        else:
            through = inverse
        return RecursionMap(new, tuple(images), self.b, self.constant, gimg, self.name, (base, through))

    # -- numerics -----------------------------------------------------------------------
    def _require_numeric(self, what: str) -> None:
        if isinstance(self.b, sp.Symbol) and any(e.has(self.b) for e in self.images):
            raise ValueError(f"{what} needs a numeric scale factor: substitute b first, e.g. rmap.subs({{'{self.b}': 2}})")
        if self.parameters:
            raise ValueError(
                f"{what} needs numeric parameters: substitute {', '.join(map(str, self.parameters))} first with rmap.subs(...)"
            )

    def numeric(self, backend: str = "numpy") -> Callable:
        """A callable ``f(*couplings) -> tuple of images`` (``"numpy"`` or ``"mpmath"``).

        >>> K = sp.Symbol("K")
        >>> f = RecursionMap((K,), (2*K,), 2).numeric("numpy")
        >>> f(1.5)
        (3.0,)
        """
        if backend not in ("numpy", "mpmath"):
            raise ValueError(f"unknown backend {backend!r}; valid backends: numpy, mpmath")
        self._require_numeric("numeric evaluation")
        # the one numeric code generator (symrg.output.codegen): stable log cosh, checked inputs
        fn = services.get("compile_scalars")(self.couplings, list(self.images), backend)

        def call(*values: Any) -> tuple:
            vals = self.point(values)
            return tuple(fn(*vals))

        call.__doc__ = f"Images ({', '.join(map(str, self.couplings))}) -> ({', '.join(str(c) + chr(39) for c in self.couplings)})."
        return call

    def __call__(self, *values: Any) -> tuple:
        """Evaluate the images with mpmath at the current working precision."""
        return self.numeric("mpmath")(*[mpmath.mpf(v) if isinstance(v, (int, float)) else v for v in values])

    def iterate(self, start: Any, steps: int, backend: str = "numpy", constant: Any = 0) -> Flow:
        """Iterate the map ``steps`` times from ``start`` (constant starts at ``constant``).

        >>> K = sp.Symbol("K")
        >>> fl = RecursionMap((K,), (K**2,), 2).iterate([0.5], 3)
        >>> fl.points[:, 0]
        array([0.5       , 0.25      , 0.0625    , 0.00390625])
        """
        if not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
        self._require_numeric("iteration")
        compile_scalars = services.get("compile_scalars")
        fimg = compile_scalars(self.couplings, list(self.images), backend, checked=False)

        def f(*values: Any) -> tuple:
            return fimg(*values)

        conv = float if backend == "numpy" else mpmath.mpf
        pt = tuple(conv(v) for v in self.point(start))
        gfun = None
        if self.constant is not None:
            gc = compile_scalars(self.couplings + (self.constant,), [self.constant_image], backend, checked=False)

            def gfun(*values: Any) -> Any:
                return gc(*values)[0]
        pts = [pt]
        consts = [conv(constant)] if gfun is not None else None
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(int(steps)):
                if gfun is not None:
                    consts.append(conv(gfun(*pt, consts[-1])))
                pt = tuple(conv(v) for v in f(*pt))
                pts.append(pt)
        dtype = float if backend == "numpy" else object
        return Flow(self.couplings, np.array(pts, dtype=dtype), None if consts is None else np.array(consts, dtype=dtype))

    # -- linearization --------------------------------------------------------------
    def jacobian(self) -> sp.Matrix:
        """Symbolic ``T_ab = d g'_a / d g_b``."""
        return sp.Matrix(self.dimension, self.dimension, lambda a, c: sp.diff(self.images[a], self.couplings[c]))

    def linearize(self, point: Any, dps: int = 30) -> FixedPoint:
        """Linearize at ``point`` (a fixed point, exact or numeric): eigenvalues, y, labels."""
        vals = tuple(sp.sympify(v) for v in self.point(point))
        exact = all(v.is_number and not v.has(sp.Float) for v in vals)
        J = self.jacobian()
        rep = dict(zip(self.couplings, vals))
        Jp = None
        if exact:
            Jp = J.subs(rep)
            if Jp.has(sp.nan, sp.zoo, sp.oo, -sp.oo) and self.dimension == 1:
                Jp = sp.Matrix([[sp.limit(J[0, 0], self.couplings[0], vals[0])]])
            Jp = Jp.applyfunc(sp.simplify)
            if Jp.has(sp.nan, sp.zoo):
                exact = False
        if exact and Jp is not None and not Jp.free_symbols - ({self.b} if isinstance(self.b, sp.Symbol) else set()):
            try:
                if self.dimension == 1:
                    eig = [(Jp[0, 0], (sp.Integer(1),))]
                else:
                    eig = []
                    for lam, mult, vecs in Jp.eigenvects():
                        for v in vecs:
                            eig.append((sp.simplify(lam), tuple(sp.simplify(x) for x in v)))
                    if len(eig) != self.dimension:
                        raise ValueError("defective")
                ys = []
                for lam, _ in eig:
                    ys.append(-sp.oo if lam == 0 else sp.simplify(sp.log(sp.Abs(lam)) / sp.log(self.b)))
                order = sorted(range(len(eig)), key=lambda i: -float(sp.N(ys[i])) if ys[i] != -sp.oo else np.inf)
                return self._fixed_point(vals, True, sp.ImmutableMatrix(Jp), [eig[i][0] for i in order],
                                         [eig[i][1] for i in order], [ys[i] for i in order])
            except Exception:  # noqa: BLE001 - fall back to the numeric linearization
                pass
        self._require_numeric("numeric linearization")
        with mpmath.workdps(dps):
            if Jp is not None and not Jp.free_symbols:
                Jm = mpmath.matrix([[mpmath.mpf(sp.N(Jp[a, c], dps)) for c in range(self.dimension)] for a in range(self.dimension)])
            else:
                d = self.dimension
                jf = services.get("compile_scalars")(self.couplings, list(J), "mpmath", checked=False)
                mp_vals = [mpmath.mpf(sp.N(v, dps)) if v.is_number and v.is_finite else v for v in vals]
                flat = jf(*mp_vals)
                Jm = mpmath.matrix([[flat[a * d + c] for c in range(d)] for a in range(d)])
            E, ER = mpmath.eig(Jm)
            logb = mpmath.log(mpmath.mpf(sp.N(self.b, dps)))
            items = []
            for i in range(self.dimension):
                lam = E[i]
                lam = mpmath.re(lam) if abs(mpmath.im(lam)) <= mpmath.mpf(10) ** (-dps + 5) * (1 + abs(lam)) else lam
                vec = [ER[a, i] for a in range(self.dimension)]
                norm = max(abs(x) for x in vec)
                vec = [x / norm for x in vec]
                y = -mpmath.inf if abs(lam) <= mpmath.mpf(10) ** (-dps + 5) else mpmath.log(abs(lam)) / logb
                items.append((lam, vec, y))
            items.sort(key=lambda t: -t[2])
            F = lambda x: sp.Float(x, dps) if not isinstance(x, mpmath.mpc) else sp.Float(mpmath.re(x), dps) + sp.I * sp.Float(mpmath.im(x), dps)  # noqa: E731
            lams = [F(t[0]) for t in items]
            vecs = [tuple(F(mpmath.re(x)) if abs(mpmath.im(x)) < mpmath.mpf(10) ** (-dps + 5) else F(x) for x in t[1]) for t in items]
            ys = [-sp.oo if t[2] == -mpmath.inf else sp.Float(t[2], dps) for t in items]
            Jsym = sp.ImmutableMatrix(self.dimension, self.dimension, lambda a, c: sp.Float(Jm[a, c], dps))
            fvals = tuple(v if (v.is_number and v.is_finite is False) else (v if exact else sp.Float(sp.N(v, dps), dps)) for v in vals)
        return self._fixed_point(fvals, exact, Jsym, lams, vecs, ys)

    def _fixed_point(self, vals, exact, J, lams, vecs, ys) -> FixedPoint:
        labels = []
        for y in ys:
            if y == -sp.oo:
                labels.append("irrelevant")
                continue
            yv = complex(sp.N(y))
            labels.append("relevant" if yv.real > MARGINAL_TOL else "irrelevant" if yv.real < -MARGINAL_TOL else "marginal")
        original = None
        if self.origin is not None:
            rep = dict(zip(self.couplings, vals))
            original = {}
            for s, e in zip(self.origin[0], self.origin[1]):
                v = e.subs(rep)
                if v.has(sp.nan) or v.has(sp.zoo):
                    v = e
                    for c, x in rep.items():
                        v = sp.limit(v, c, x, "-") if v.has(c) else v
                original[s] = sp.simplify(v) if exact else v
        return FixedPoint(self.couplings, tuple(vals), exact, J, tuple(lams), tuple(vecs), tuple(ys), tuple(labels), self.b, original)

    # -- fixed points ---------------------------------------------------------------
    def fixed_points(
        self,
        seeds: Sequence[Any] | None = None,
        bounds: Sequence[tuple[float, float]] | None = None,
        symbolic: bool = True,
        timeout: float | None = 10.0,
        dps: int = 30,
    ) -> tuple[FixedPoint, ...]:
        """Fixed points ``R(g*) = g*`` with their linearization, sorted by position.

        Strategy: when the fixed-point equations contain no transcendental function
        (e.g. after ``u = tanh K``), ``sympy.solve`` runs in a child process with a
        ``timeout``; independently, ``mpmath.findroot`` starts from ``seeds`` (default:
        a grid inside ``bounds``, which default to ``[-2, 2]`` per coupling, and for
        one coupling a sign-change scan).  Numeric roots that coincide with exact
        ones are replaced by the exact ones.

        Parameters
        ----------
        seeds : sequence of points, optional
        bounds : sequence of (lo, hi) per coupling, optional
        symbolic : bool
            Try ``sympy.solve`` first.
        timeout : float or None
            Seconds allowed to ``sympy.solve``.
        dps : int
            Decimal digits of the numeric search.
        """
        n = self.dimension
        if bounds is None:
            bounds = [(-2.0, 2.0)] * n
        if len(bounds) != n:
            raise ValueError(f"bounds: expected {n} (lo, hi) pairs, got {len(bounds)}")
        eqs = [sp.together(e - c) for c, e in zip(self.couplings, self.images)]
        found: list[tuple] = []
        exact_found: list[tuple] = []
        if symbolic and not any(e.atoms(sp.Function) or e.has(sp.exp(sp.Wild("w"))) for e in eqs):
            sols = solve_with_timeout([sp.numer(e) for e in eqs], self.couplings, timeout)
            for s in sols or []:
                if not all(c in s for c in self.couplings):
                    continue
                pt = tuple(sp.simplify(s[c]) for c in self.couplings)
                if any(p.free_symbols - self._free_ok() for p in pt):
                    continue
                try:
                    num = [complex(sp.N(p, 30)) for p in pt]
                except TypeError:
                    continue
                if any(abs(z.imag) > 1e-20 for z in num):
                    continue
                # exact roots can be spurious where the denominator vanishes
                if any(sp.denom(sp.together(e - c)).subs(dict(zip(self.couplings, pt))) == 0 for c, e in zip(self.couplings, self.images)):
                    continue
                exact_found.append(pt)
        numeric_ok = not self.parameters and not (isinstance(self.b, sp.Symbol) and any(e.has(self.b) for e in self.images))
        if numeric_ok:
            found = self._numeric_roots(seeds, bounds, dps)
        merged: list[tuple] = list(exact_found)
        for pt in found:
            if not any(all(abs(complex(sp.N(a)) - float(x)) < 1e-8 * (1 + abs(float(x))) for a, x in zip(q, pt)) for q in merged):
                merged.append(tuple(sp.Float(x, dps) for x in pt))
        merged.sort(key=lambda p: tuple(float(sp.N(x)) for x in p))
        return tuple(self.linearize(p, dps=dps) for p in merged)

    def _free_ok(self) -> set:
        return {self.b} if isinstance(self.b, sp.Symbol) else set()

    def _numeric_roots(self, seeds, bounds, dps) -> list[tuple]:
        n = self.dimension
        out: list[tuple] = []
        with mpmath.workdps(dps):
            fn = services.get("compile_scalars")(
                self.couplings, [e - c for c, e in zip(self.couplings, self.images)], "mpmath", checked=False
            )

            def F(*x):
                return fn(*x) if n > 1 else fn(*x)[0]

            def add(pt) -> None:
                pt = tuple(mpmath.mpf(mpmath.re(x)) for x in pt)
                if not all(lo - 1e-9 <= float(x) <= hi + 1e-9 for x, (lo, hi) in zip(pt, bounds)):
                    return
                try:
                    res = fn(*pt)
                except (ValueError, ZeroDivisionError, OverflowError):
                    return
                if max(abs(r) for r in res) > mpmath.mpf(10) ** (-dps // 2):
                    return
                for q in out:
                    if all(abs(a - c) < mpmath.mpf(10) ** (-dps // 3) * (1 + abs(c)) for a, c in zip(pt, q)):
                        return
                out.append(pt)

            starts: list = []
            if seeds is not None:
                starts = [self.point(s) for s in seeds]
            elif n <= 3:
                grids = [np.linspace(lo, hi, 9 if n > 1 else 5) for lo, hi in bounds]
                starts = [tuple(p) for p in np.array(np.meshgrid(*grids, indexing="ij")).reshape(n, -1).T]
            if n == 1 and seeds is None:
                # bracket every sign change on a fine grid, then refine
                lo, hi = bounds[0]
                xs = [mpmath.mpf(lo) + (mpmath.mpf(hi) - lo) * k / 400 for k in range(401)]
                fs = []
                for x in xs:
                    try:
                        fs.append(F(x))
                    except (ValueError, ZeroDivisionError, OverflowError):
                        fs.append(None)
                for k in range(400):
                    a, c = fs[k], fs[k + 1]
                    if a is None or c is None or mpmath.im(a) != 0 or mpmath.im(c) != 0:
                        continue
                    if a == 0:
                        add((xs[k],))
                    elif a * c < 0:
                        try:
                            add((mpmath.findroot(F, (xs[k], xs[k + 1]), solver="anderson"),))
                        except (ValueError, ZeroDivisionError):
                            pass
                if fs[-1] == 0:
                    add((xs[-1],))
            for s in starts:
                try:
                    x0 = [mpmath.mpf(float(v)) for v in s]
                    r = mpmath.findroot(F if n == 1 else (lambda *x: fn(*x)), x0[0] if n == 1 else x0)
                    add((r,) if n == 1 else tuple(r))
                except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                    continue
        return out

    # -- continuous flow ------------------------------------------------------------
    def beta_function(self) -> tuple:
        """``dg/dl`` from ``b = e^{dl}`` to first order: ``d g'/d b`` at ``b = 1``.

        Requires a symbolic ``b``.  The result is simplified (best effort).
        """
        if not isinstance(self.b, sp.Symbol):
            raise ValueError(f"beta_function needs the map for general b (a Symbol), this map has b = {self.b}")
        l = sp.Symbol("l")  # noqa: E741 - the RG 'time'
        out = []
        for e in self.images:
            # b = exp(l); d/dl at l = 0 equals d/db at b = 1
            d = sp.diff(e.subs(self.b, sp.exp(l)), l).subs(l, 0)
            out.append(_simplify_candidates(sp.simplify(d)))
        return tuple(out)


# ----------------------------------------------------------------------------------
# free energy
# ----------------------------------------------------------------------------------
def free_energy_from_flow(rmap: RecursionMap, start: Any, dps: int = 30, max_steps: int = 400) -> FlowFreeEnergy:
    """Sum the constants generated along the flow: ``log Z / N_bonds``.

    With ``g0' = s g0 + c(g)`` per new bond and ``N' = N / s`` bonds, the constant
    after ``k`` steps is ``g0_k = sum_{j<k} s^(k-1-j) c_j``, and
    ``log Z / N = lim g0_k / s^k = sum_j c_j / s^(j+1)``.  The sum stops when a term is
    below ``10^-dps`` of the total; the remainder is closed by the geometric tail
    ``c_k / (s^k (s - 1))`` (exact when the flow has reached a fixed point).

    >>> K, g = sp.symbols("K g")
    >>> # a chain of free spins: each of the 2 old bonds per new bond gives log 2
    >>> m = RecursionMap((K,), (K,), 2, g, 2*g + sp.log(2))
    >>> mpmath.nstr(free_energy_from_flow(m, [0]).log_z_per_bond, 25)
    '0.6931471805599453094172321'
    """
    if rmap.constant is None:
        raise ValueError("rmap: the map carries no constant term (constant=None), so it has no free energy")
    s = rmap.volume_factor
    assert s is not None  # the map carries a constant
    if isinstance(rmap.b, sp.Symbol) and s.has(rmap.b):
        raise ValueError("free_energy_from_flow needs a numeric scale factor: substitute b first")
    rmap._require_numeric("free_energy_from_flow")
    with mpmath.workdps(dps + 10):
        smp = mpmath.mpf(sp.N(s, dps + 10))
        if not smp > 1:
            raise ValueError(f"volume factor d g0'/d g0 must exceed 1, got {s}")
        f = rmap.numeric("mpmath")
        cfun1 = services.get("compile_scalars")(rmap.couplings, [rmap.generated_constant], "mpmath", checked=False)

        def cfun(*values: Any) -> Any:
            return cfun1(*values)[0]

        pt = tuple(mpmath.mpf(v) for v in rmap.point(start))
        total = mpmath.mpf(0)
        weight = 1 / smp
        eps = mpmath.mpf(10) ** (-dps - 5)
        for k in range(max_steps):
            term = cfun(*pt) * weight
            total += term
            pt = tuple(mpmath.mpf(v) for v in f(*pt))
            weight /= smp
            if abs(term) <= eps * (1 + abs(total)):
                break
        else:
            raise RuntimeError(f"free energy sum did not converge in max_steps = {max_steps} steps")
        tail = cfun(*pt) * weight * smp / (smp - 1)
        total += tail
    with mpmath.workdps(dps):
        return FlowFreeEnergy(+total, k + 1, +tail)
