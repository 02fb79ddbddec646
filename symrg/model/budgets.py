"""Size and time budgets: how large an expression, a number or a layer symrg accepts.

Everything that enters symrg from outside (a model description, a saved file, a claim)
can describe work far larger than its own text: ``10**(10**8)`` is eleven characters,
and a save file whose nodes double 80 times is 2.4 KB.  :func:`check_expression` walks
a sympy object *as a graph* (each distinct node once, never the expanded tree) and
raises :class:`~symrg.errors.BudgetError` naming the limit before any of that work is
done.  The limits are the fields of :class:`Budgets`; read them with :func:`current`,
change them for a block of code with :func:`limits`, or for the whole process with
:func:`set_defaults`.

=====================  ==========  ========================================================
budget                 default     what it bounds
=====================  ==========  ========================================================
``max_nodes``          1_000_000   distinct nodes of one expression (or one saved file)
``max_tree_size``      1_000_000   nodes of the *expanded* tree (what ``str()`` would visit;
                                   sympy prints about 3,000 nested nodes a second)
``max_depth``          200         nesting depth of an expression
``max_int_bits``       200_000     bits of an integer, numerator or denominator (~60,000 digits)
``max_number_bits``    200_000     estimated bits of a number a node would *evaluate* to
                                   (``b**e``: ``|e| * bits(b)``, also when ``|b| < 1`` and
                                   ``e < 0``; ``factorial(n)``: ``n log2 n``; products add)
``max_exponent``       1_000_000   ``|e|`` of an integer power of a symbolic base
``max_float_prec``     20_000      binary precision of a Float (~6,000 digits)
``max_function_args``  64          arguments of one function or logic node (``Max``, ``And``)
``max_layer_size``     10_000      units of one explicit layer; an integer dimension of a matrix symbol
``max_matrix_entries`` 1_000_000   entries of one explicit matrix
=====================  ==========  ========================================================

Time: :func:`time_budget` sets a deadline for a block of code, and long loops call
:func:`check_time`, which raises :class:`~symrg.errors.BudgetError` once it has passed
(no signals: it works in any thread).

Examples
--------
>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> check_expression(sp.exp(x) + 1, what="the constant")
>>> try:
...     check_expression(sp.Pow(10, 10**8, evaluate=False), what="the constant")
... except BudgetError as e:
...     print(e)
the constant: the power 10**100000000 would have about 332192809 bits (budget max_number_bits = 200000)
>>> with limits(max_depth=3):
...     check_expression(sp.sin(sp.cos(sp.tan(x))), what="a claim")
Traceback (most recent call last):
...
symrg.errors.BudgetError: a claim: nesting depth 4 exceeds the budget max_depth = 3
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from typing import Any, Iterator

import sympy as sp

from symrg.errors import BudgetError

__all__ = [
    "Budgets",
    "BudgetError",
    "current",
    "limits",
    "set_defaults",
    "check_expression",
    "Meter",
    "check_layer_size",
    "check_matrix_shape",
    "check_int",
    "time_budget",
    "check_time",
]


@dataclass(frozen=True)
class Budgets:
    """The limits :func:`check_expression` and the constructors enforce (see the module table)."""

    max_nodes: int = 1_000_000
    max_tree_size: int = 1_000_000
    max_depth: int = 200
    max_int_bits: int = 200_000
    max_number_bits: int = 200_000
    max_exponent: int = 1_000_000
    max_float_prec: int = 20_000
    max_function_args: int = 64
    max_layer_size: int = 10_000
    max_matrix_entries: int = 1_000_000


_DEFAULTS = Budgets()
_override: ContextVar[Budgets | None] = ContextVar("symrg_budgets", default=None)
_deadline: ContextVar[tuple[float, str] | None] = ContextVar("symrg_deadline", default=None)


def current() -> Budgets:
    """The budgets in force here (those of the innermost :func:`limits` block, else the defaults).

    >>> current().max_depth
    200
    """
    b = _override.get()
    return _DEFAULTS if b is None else b


def _validated(base: Budgets, changes: dict[str, Any]) -> Budgets:
    known = {f.name for f in fields(Budgets)}
    for k, v in changes.items():
        if k not in known:
            raise BudgetError(f"unknown budget {k!r}; the budgets are {sorted(known)}")
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise BudgetError(f"budget {k} must be a positive int, got {v!r}")
    return replace(base, **changes)


@contextmanager
def limits(**changes: int) -> Iterator[Budgets]:
    """Change some budgets inside a ``with`` block (this thread / task only).

    >>> with limits(max_layer_size=10**6) as b:
    ...     b.max_layer_size
    1000000
    >>> current().max_layer_size
    10000
    """
    token = _override.set(_validated(current(), changes))
    try:
        yield current()
    finally:
        _override.reset(token)


def set_defaults(**changes: int) -> Budgets:
    """Change the process-wide defaults (every thread); returns the new defaults.

    ``set_defaults(**dataclasses.asdict(Budgets()))`` restores the shipped values.
    """
    global _DEFAULTS
    _DEFAULTS = _validated(_DEFAULTS, changes)
    return _DEFAULTS


# --------------------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------------------


@contextmanager
def time_budget(seconds: float | None, what: str = "the computation") -> Iterator[None]:
    """Give the code inside the block ``seconds`` of wall-clock time (``None``: no limit).

    Nested blocks keep the earlier deadline.  Work that checks :func:`check_time`
    raises :class:`~symrg.errors.BudgetError` once the deadline has passed.

    >>> with time_budget(60):
    ...     check_time()
    """
    if seconds is None:
        yield
        return
    if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0 and math.isfinite(seconds)):
        raise BudgetError(f"a time budget must be a positive number of seconds, got {seconds!r}")
    end = time.monotonic() + float(seconds)
    outer = _deadline.get()
    token = _deadline.set((end, f"{what} ({seconds:g} s)") if outer is None or end < outer[0] else outer)
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time() -> None:
    """Raise :class:`~symrg.errors.BudgetError` when the innermost :func:`time_budget` has run out."""
    d = _deadline.get()
    if d is not None and time.monotonic() > d[0]:
        raise BudgetError(f"time budget exceeded: {d[1]}")


# --------------------------------------------------------------------------------------
# sizes
# --------------------------------------------------------------------------------------


def check_int(n: int, what: str = "a number") -> int:
    """``n`` itself, after checking its bit length against ``max_int_bits``."""
    b = current()
    if abs(int(n)).bit_length() > b.max_int_bits:
        raise BudgetError(f"{what}: an integer of {abs(int(n)).bit_length()} bits exceeds the budget max_int_bits = {b.max_int_bits}")
    return n


def check_layer_size(size: int, what: str = "a layer") -> int:
    """``size`` itself, after checking it against ``max_layer_size``.

    >>> check_layer_size(10**50, "layer 'v'")
    Traceback (most recent call last):
    ...
    symrg.errors.BudgetError: layer 'v': size 100000000000000000000000000000000000000000000000000 exceeds the budget max_layer_size = 10000
    """
    b = current()
    if int(size) > b.max_layer_size:
        raise BudgetError(f"{what}: size {int(size)} exceeds the budget max_layer_size = {b.max_layer_size}")
    return size


def check_matrix_shape(rows: int, cols: int, what: str = "a matrix") -> None:
    """Refuse an explicit matrix with more than ``max_matrix_entries`` entries."""
    b = current()
    if int(rows) * int(cols) > b.max_matrix_entries:
        raise BudgetError(f"{what}: {rows}x{cols} entries exceed the budget max_matrix_entries = {b.max_matrix_entries}")


#: nodes whose construction or printing does work per pair of arguments (Max sorts and compares them)
_FUNCTION_LIKE = (
    sp.core.function.Application,
    sp.functions.elementary.miscellaneous.MinMaxBase,
    sp.logic.boolalg.BooleanFunction,
)
#: matrix expressions whose integer dimensions are read from their arguments
_SIZED = (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix)


def _number_bits(e: Any, args: list[float | None]) -> float | None:
    """Estimated bits of the exact number node ``e`` evaluates to (None: not a growing number).

    ``args`` are the estimates of ``e.args`` (None where an argument is not such a number).
    """
    if isinstance(e, sp.Integer):
        return math.log2(abs(e.p)) if e.p else 0.0
    if isinstance(e, sp.Rational):
        return math.log2(abs(e.p)) + math.log2(e.q)
    if isinstance(e, sp.Pow):
        ex = e.args[1]
        bb, be = args
        if bb is None or be is None:
            return None
        if bb == 0:
            return 0.0  # 0, 1 and -1 to any power stay small
        if isinstance(ex, sp.Rational):
            try:
                return bb * abs(float(ex))
            except OverflowError:  # an exponent beyond 1e308
                return math.inf
        # an unevaluated numeric exponent (a tower such as 10**(10**4000)): |e| <= 2**bits(e)
        return bb * 2.0**be if be < 1000 else math.inf
    if isinstance(e, sp.Mul) and args and all(a is not None for a in args):
        return float(sum(args))  # type: ignore[arg-type]
    if isinstance(e, sp.Add) and args and all(a is not None for a in args):
        return float(max(args) + len(args))  # type: ignore[type-var,operator]
    if isinstance(e, (sp.factorial, sp.gamma, sp.binomial)) and args[0] is not None:
        # the argument n is at most 2**bits(n); n! has about n log2 n bits, binomial(n, k) at most n
        n = (abs(float(e.args[0])) if isinstance(e.args[0], sp.Rational) else 2.0 ** args[0]) if args[0] < 1000 else math.inf
        if isinstance(e, sp.binomial):
            k = e.args[1]
            return min(n, abs(float(k)) * math.log2(max(n, 2.0))) if isinstance(k, sp.Rational) and k.q == 1 and abs(k.p) < 2**60 else n
        return n * math.log2(n) if n > 2 else 1.0
    return None


def _leaf_check(e: Any, b: Budgets, what: str) -> None:
    if isinstance(e, sp.Integer):
        if abs(e.p).bit_length() > b.max_int_bits:
            raise BudgetError(f"{what}: an integer of {abs(e.p).bit_length()} bits exceeds the budget max_int_bits = {b.max_int_bits}")
    elif isinstance(e, sp.Rational):
        nb = max(abs(e.p).bit_length(), e.q.bit_length())
        if nb > b.max_int_bits:
            raise BudgetError(f"{what}: a rational of {nb} bits exceeds the budget max_int_bits = {b.max_int_bits}")
    elif isinstance(e, sp.Float):
        if e._prec > b.max_float_prec:
            raise BudgetError(f"{what}: a Float of precision {e._prec} bits exceeds the budget max_float_prec = {b.max_float_prec}")
        man, ex = e._mpf_[1], e._mpf_[2]
        if abs(int(ex)).bit_length() > b.max_int_bits or int(man).bit_length() > b.max_int_bits:
            raise BudgetError(f"{what}: a Float with a {int(man).bit_length()}-bit mantissa / exponent {ex} exceeds max_int_bits = {b.max_int_bits}")


def _short(e: Any) -> str:
    """A bounded description of ``e`` for messages (never prints a huge tree)."""
    if isinstance(e, sp.Pow) and all(isinstance(a, sp.Rational) for a in e.args) and all(
        abs(a.p).bit_length() < 64 and a.q.bit_length() < 64 for a in e.args
    ):
        return f"{e.args[0]}**{e.args[1]}"
    return type(e).__name__


def _children(e: Any) -> tuple:
    if isinstance(e, sp.MatrixBase) and not isinstance(e, sp.Basic):
        return tuple(e)
    if isinstance(e, sp.Basic):
        return e.args
    return ()


class Meter:
    """Incremental budget checks over a graph of sympy nodes, children before parents.

    :func:`check_expression` feeds it an expression's nodes; the loader
    (:mod:`symrg.output.serialize`) feeds it each node of a saved table as soon as it is
    built, keyed by the node's index, so a hostile file is refused before the next node
    is read.  ``add(key, node, child_keys)`` raises :class:`~symrg.errors.BudgetError`
    when the node breaks a budget.

    >>> import sympy as sp
    >>> m = Meter("a table")
    >>> m.add(0, sp.Integer(10), [])
    >>> m.add(1, sp.Integer(10**8), [])
    >>> m.add(2, sp.Pow(10, 10**8, evaluate=False), [0, 1])
    Traceback (most recent call last):
    ...
    symrg.errors.BudgetError: a table: the power 10**100000000 would have about 332192809 bits (budget max_number_bits = 200000)
    """

    def __init__(self, what: str = "an expression") -> None:
        self.what = what
        self.budgets = current()
        self.count = 0
        self.size: dict[Any, int] = {}
        self.depth: dict[Any, int] = {}
        self.bits: dict[Any, float] = {}

    def arity(self, e_type: type, n_args: int) -> None:
        """Refuse a function-like node with too many arguments (call before building it)."""
        b = self.budgets
        if issubclass(e_type, _FUNCTION_LIKE) and n_args > b.max_function_args:
            raise BudgetError(f"{self.what}: {e_type.__name__} has {n_args} arguments (budget max_function_args = {b.max_function_args})")

    def add(self, key: Any, e: Any, kids: list) -> None:
        """Account for node ``e`` whose arguments were added under the keys ``kids``."""
        b, what = self.budgets, self.what
        self.count += 1
        if self.count > b.max_nodes:
            raise BudgetError(f"{what}: more than {b.max_nodes} distinct nodes (budget max_nodes)")
        self.arity(type(e), len(kids))
        if not kids:
            _leaf_check(e, b, what)
        if isinstance(e, sp.MatrixBase):
            check_matrix_shape(e.rows, e.cols, what)
        cap = b.max_tree_size + 1
        size = min(cap, 1 + sum(self.size[k] for k in kids))
        depth = 1 + max((self.depth[k] for k in kids), default=0)
        self.size[key], self.depth[key] = size, depth
        if depth > b.max_depth:
            raise BudgetError(f"{what}: nesting depth {depth} exceeds the budget max_depth = {b.max_depth}")
        if size >= cap:
            raise BudgetError(f"{what}: the expanded expression has more than {b.max_tree_size} nodes (budget max_tree_size)")
        if not isinstance(e, sp.Basic):
            return
        nb = _number_bits(e, [self.bits.get(k) for k in kids])
        if nb is not None:
            if nb > b.max_number_bits:
                shown = "more than 2**1000" if not math.isfinite(nb) else str(int(nb)) if nb < 1e15 else f"{nb:.3g}"
                raise BudgetError(
                    f"{what}: the {'power ' if isinstance(e, sp.Pow) else ''}{_short(e)} would have about "
                    f"{shown} bits (budget max_number_bits = {b.max_number_bits})"
                )
            self.bits[key] = nb
        if isinstance(e, (sp.Pow, sp.MatPow)) and len(e.args) == 2 and isinstance(e.args[1], sp.Integer):
            if abs(e.args[1].p) > b.max_exponent:
                raise BudgetError(f"{what}: the exponent {e.args[1]} exceeds the budget max_exponent = {b.max_exponent}")
        if isinstance(e, _SIZED):
            for d in e.args[-2:] if isinstance(e, sp.MatrixSymbol) else e.args:
                if isinstance(d, sp.Integer) and d > b.max_layer_size:
                    raise BudgetError(f"{what}: the {type(e).__name__} dimension {d} exceeds the budget max_layer_size = {b.max_layer_size}")


def check_expression(expr: Any, what: str = "an expression") -> None:
    """Refuse ``expr`` (a sympy object, matrix, or list / tuple of them) if it exceeds a budget.

    The walk visits each distinct node object once (an explicit stack, no recursion),
    so it costs time proportional to the stored graph even when the expanded tree is
    astronomically large.  Raises :class:`~symrg.errors.BudgetError` naming ``what``,
    the limit and the offending size; returns None when everything is within budget.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> e = x
    >>> for _ in range(80):
    ...     e = sp.Add(e, e, evaluate=False)
    >>> check_expression(e, "a loaded file")
    Traceback (most recent call last):
    ...
    symrg.errors.BudgetError: a loaded file: the expanded expression has more than 1000000 nodes (budget max_tree_size)
    >>> check_expression(sp.Max(*sp.symbols("y:300"), evaluate=False), "a claim")
    Traceback (most recent call last):
    ...
    symrg.errors.BudgetError: a claim: Max has 300 arguments (budget max_function_args = 64)
    """
    if isinstance(expr, (list, tuple)) and not isinstance(expr, sp.Basic):
        for x in expr:
            check_expression(x, what)
        return
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        expr = sp.sympify(expr)  # a Python number: sympify of a number evaluates nothing
    if not isinstance(expr, (sp.Basic, sp.MatrixBase)):
        return
    meter = Meter(what)
    keep: list = []  # holds the visited objects so their ids stay valid during the walk
    stack: list[tuple[Any, bool]] = [(expr, False)]
    entered: set[int] = set()
    while stack:
        e, done = stack.pop()
        k = id(e)
        if done:
            meter.add(k, e, [id(a) for a in _children(e)])
            continue
        if k in entered:
            continue
        entered.add(k)
        keep.append(e)
        kids = _children(e)
        meter.arity(type(e), len(kids))
        if isinstance(e, sp.MatrixBase):
            check_matrix_shape(e.rows, e.cols, what)
        stack.append((e, True))
        stack.extend((a, False) for a in kids if id(a) not in entered)
