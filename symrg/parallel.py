"""Embarrassingly parallel work, local by default, on a Dask cluster when asked.

symrg's exact sums (enumerations over ``2^N`` configurations, docs/numerics.md) and its
parameter sweeps (flow diagrams, maps of couplings over ``K``) split into independent
pieces.  :func:`run_map` evaluates a picklable top-level function over a list of items,
in order; :func:`sweep` does the same over the points of a parameter grid and returns an
immutable :class:`SweepResult`.

* Locally (the default) the map is a plain loop in this process; Dask is not needed.
* With a ``dask.distributed`` client -- passed as ``client=`` or set for a block of code
  with :func:`use_client` -- the items become tasks on the cluster.  The results are
  gathered in input order and are the same values as the local run (the same function
  runs on the same inputs; bit for bit on one machine, to rounding on others).

On a cluster the function and the items travel to the workers the way Dask sends
them (``cloudpickle``: module-level functions by reference, lambdas and closures by
value).  They are serialized before any task is submitted, and what does not serialize
(an open file, a lock) is refused with a :class:`~symrg.errors.ParallelError` naming
it.  Workers import module-level functions by name, so their module must be importable
on the workers (symrg's own functions, or a module installed there).

Budgets: at most ``max_items`` items (default :data:`MAX_ITEMS`) and, with ``timeout=``,
a deadline in seconds; both raise :class:`~symrg.errors.BudgetError` instead of hanging.
Locally the deadline is checked between items (a running item is not interrupted); on a
cluster the pending tasks are cancelled.

Progress: ``progress=None`` (auto) draws a text bar on stderr once a run has taken more
than :data:`PROGRESS_AFTER` seconds; ``True`` draws it from the start (on a cluster,
Dask's own :func:`distributed.progress` bar); ``False`` never.

This module sits at the bottom of the package (beside :mod:`symrg.errors`), so every
layer may use it.  Install Dask with ``pip install 'symrg[distributed]'``.

Examples
--------
>>> import math
>>> run_map(math.sqrt, [1, 4, 9])
[1.0, 2.0, 3.0]
>>> res = sweep(complex, {"real": [1, 2], "imag": [0, 5]})  # complex(real=..., imag=...)
>>> res.names, res.shape
(('real', 'imag'), (2, 2))
>>> res.values.tolist()
[(1+0j), (1+5j), (2+0j), (2+5j)]
>>> res.grid()[1].tolist(), res.axis("imag").tolist()
([(2+0j), (2+5j)], [0, 5])
>>> run_map(lambda x: 2 * x, [1, 2])   # locally any callable runs
[2, 4]
"""

from __future__ import annotations

import importlib
import itertools
import math
import sys
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from symrg.errors import BudgetError, ParallelError

__all__ = [
    "run_map",
    "use_client",
    "current_client",
    "sweep",
    "SweepResult",
    "MAX_ITEMS",
    "PROGRESS_AFTER",
]

#: default largest number of items of one :func:`run_map` (points of one :func:`sweep`)
MAX_ITEMS = 100_000
#: seconds after which the automatic progress bar appears
PROGRESS_AFTER = 3.0

_client: ContextVar[Any] = ContextVar("symrg_dask_client", default=None)


# --------------------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------------------


@contextmanager
def use_client(client: Any) -> Iterator[Any]:
    """Run every :func:`run_map` / :func:`sweep` inside the block on ``client``.

    ``client`` is a ``dask.distributed.Client`` or ``None`` (local execution, for
    example to run one piece locally inside an outer block).  Blocks nest; the setting
    belongs to this thread / task only (a context variable, not a global).

    >>> with use_client(None) as c:
    ...     c is None and current_client() is None
    True
    """
    if client is not None:
        _check_client(client)
    token = _client.set(client)
    try:
        yield client
    finally:
        _client.reset(token)


def current_client() -> Any:
    """The client of the innermost :func:`use_client` block, or ``None`` (local)."""
    return _client.get()


def _distributed() -> Any:
    """The ``distributed`` package, imported only when a client is used."""
    try:
        import distributed
    except ImportError as e:
        raise ParallelError(
            "a Dask client was given but dask.distributed is not installed; install it with pip install 'symrg[distributed]'"
        ) from e
    return distributed


def _check_client(client: Any) -> None:
    distributed = _distributed()
    if not isinstance(client, distributed.Client):
        raise ParallelError(f"client must be a dask.distributed.Client (or None for local execution), got {type(client).__name__}")


def _check_callable(fn: Callable, what: str) -> None:
    if not callable(fn):
        raise ParallelError(f"{what} needs a callable, got {type(fn).__name__}")


def _check_serializable(fn: Callable, work: list, what: str) -> None:
    """Serialize ``fn`` and the first item as Dask can (cloudpickle); refuse what does not."""
    dumps = importlib.import_module("cloudpickle").dumps  # a dependency of dask.distributed
    for role, obj in (("function", fn), ("first item", work[0] if work else None)):
        try:
            dumps(obj)
        except Exception as e:  # TypeError ("cannot pickle '_thread.lock' object"), PicklingError, ...
            name = getattr(obj, "__qualname__", type(obj).__name__)
            raise ParallelError(f"{what}: the {role} {name} cannot be sent to the Dask workers ({type(e).__name__}: {e})") from e


# --------------------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------------------


class _Bar:
    """A minimal tqdm-style bar on stderr: ``desc  12/100 [###     ]  12% 3.1 s, ~23 s left``."""

    width = 30

    def __init__(self, total: int, desc: str, mode: bool | None) -> None:
        self.total, self.desc, self.mode = total, desc, mode
        self.start = time.monotonic()
        self.shown = False
        self.last = -math.inf
        self.tty = bool(getattr(sys.stderr, "isatty", lambda: False)())

    def update(self, done: int) -> None:
        if self.mode is False:
            return
        now = time.monotonic()
        elapsed = now - self.start
        if self.mode is None and elapsed < PROGRESS_AFTER and not self.shown:
            return
        # redraw at most 5 times a second on a terminal, every 10 s into a log file
        if done < self.total and now - self.last < (0.2 if self.tty else 10.0):
            return
        self.last = now
        self.shown = True
        frac = done / self.total if self.total else 1.0
        left = f", ~{elapsed * (1 - frac) / frac:.0f} s left" if 0 < frac < 1 else ""
        bar = "#" * int(self.width * frac)
        line = f"{self.desc or 'run_map'} {done}/{self.total} [{bar:<{self.width}}] {100 * frac:3.0f}% {elapsed:.1f} s{left}"
        sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
        if self.tty and done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------------------
# run_map
# --------------------------------------------------------------------------------------


def _take(items: Iterable, max_items: int, what: str) -> list:
    """``list(items)``, refusing more than ``max_items`` without consuming an endless iterator."""
    if isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1:
        raise BudgetError(f"{what}: max_items must be a positive int, got {max_items!r}")
    out = list(itertools.islice(items, max_items + 1))
    if len(out) > max_items:
        raise BudgetError(f"{what}: more than {max_items} items (budget max_items = {max_items}); split the work or raise max_items")
    return out


def _check_timeout(timeout: float | None, what: str) -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (timeout > 0 and math.isfinite(timeout)):
        raise BudgetError(f"{what}: timeout must be a positive number of seconds, got {timeout!r}")


def run_map(
    fn: Callable[[Any], Any],
    items: Iterable,
    *,
    client: Any = None,
    progress: bool | None = None,
    desc: str = "",
    timeout: float | None = None,
    max_items: int | None = None,
) -> list:
    """``[fn(x) for x in items]``, locally or on a Dask cluster; order preserved.

    Parameters
    ----------
    fn
        Any callable locally; on a cluster it must serialize with ``cloudpickle``
        (checked before submission, together with the first item).
    items
        The arguments, one call each (any iterable; at most ``max_items``).
    client
        A ``dask.distributed.Client``; default: the one of the innermost
        :func:`use_client` block, else local execution.
    progress
        ``None``: a bar on stderr once the run takes more than :data:`PROGRESS_AFTER`
        seconds; ``True``: from the start (Dask's bar on a cluster); ``False``: none.
    desc
        A label for the bar and for error messages.
    timeout
        Seconds; exceeding it raises :class:`~symrg.errors.BudgetError` (on a cluster the
        pending tasks are cancelled; locally it is checked between items).
    max_items
        Largest number of items (default :data:`MAX_ITEMS`).

    Returns
    -------
    list
        ``fn(item)`` for each item, in input order.  An exception raised by ``fn``
        propagates unchanged (on a cluster, the remaining tasks are cancelled).

    Examples
    --------
    >>> import operator, functools
    >>> run_map(functools.partial(operator.mul, 10), range(4))
    [0, 10, 20, 30]
    >>> run_map(abs, range(5), max_items=3)
    Traceback (most recent call last):
    ...
    symrg.errors.BudgetError: run_map: more than 3 items (budget max_items = 3); split the work or raise max_items
    """
    what = f"run_map {desc!r}" if desc else "run_map"
    _check_callable(fn, what)
    _check_timeout(timeout, what)
    work = _take(items, MAX_ITEMS if max_items is None else max_items, what)
    if progress not in (None, True, False):
        raise ParallelError(f"{what}: progress must be True, False or None (automatic), got {progress!r}")
    if client is None:
        client = _client.get()
    if client is None:
        return _run_local(fn, work, progress, desc, timeout, what)
    _check_client(client)
    _check_serializable(fn, work, what)
    return _run_dask(client, fn, work, progress, desc, timeout, what)


def _run_local(fn: Callable, work: list, progress: bool | None, desc: str, timeout: float | None, what: str) -> list:
    bar = _Bar(len(work), desc, progress)
    start = time.monotonic()
    out = []
    for k, x in enumerate(work):
        out.append(fn(x))
        bar.update(k + 1)
        if timeout is not None and time.monotonic() - start > timeout and k + 1 < len(work):
            raise BudgetError(f"{what}: timeout of {timeout:g} s exceeded after {k + 1} of {len(work)} items")
    return out


def _run_dask(client: Any, fn: Callable, work: list, progress: bool | None, desc: str, timeout: float | None, what: str) -> list:
    distributed = _distributed()
    if not work:
        return []
    # pure=False: no hashing of (possibly large) items, and no sharing of keys between runs
    futures = client.map(fn, work, pure=False)
    try:
        if progress is True and timeout is None:
            distributed.progress(futures, multi=False)
        else:
            bar = _Bar(len(work), desc, progress)
            done = 0
            for f in distributed.as_completed(futures, timeout=timeout):
                if f.status == "error":
                    f.result()  # re-raises the task's exception here
                done += 1
                bar.update(done)
        return list(client.gather(futures))
    except (TimeoutError, distributed.TimeoutError) as e:
        n_done = sum(f.status == "finished" for f in futures)
        raise BudgetError(f"{what}: timeout of {timeout:g} s exceeded on the cluster after {n_done} of {len(work)} tasks") from e
    finally:
        pending = [f for f in futures if f.status == "pending"]
        if pending:  # after an error, a timeout or an interrupt
            client.cancel(pending)


# --------------------------------------------------------------------------------------
# sweeps
# --------------------------------------------------------------------------------------


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _as_array(values: list) -> np.ndarray:
    """Numbers or equal-shape numeric arrays stacked into one float/complex array; otherwise an object array."""
    try:
        arr = np.asarray(values)
        if arr.dtype.kind in "biufc" and arr.shape[:1] == (len(values),):
            return arr
    except (ValueError, TypeError):  # ragged or odd objects
        pass
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


@dataclass(frozen=True)
class SweepResult:
    """The outcome of :func:`sweep`: the points of a grid and the value at each.

    Attributes
    ----------
    names : tuple of str
        The swept parameters, in grid order.
    points : ndarray, read-only, shape ``(n, len(names))``
        Point ``i`` gives ``names[j]`` the value ``points[i, j]`` (float when every
        value is a real number, else object).
    values : ndarray, read-only
        ``values[i]`` is ``fn`` at point ``i``: one float/complex array when every
        result is a number or an equal-shape numeric array (shape ``(n, ...)``),
        otherwise an object array of the results.
    shape : tuple of int or None
        The grid shape of a cartesian sweep (``len`` of each axis); ``None`` for a list of points.
    """

    names: tuple[str, ...]
    points: np.ndarray = field(repr=False)
    values: np.ndarray = field(repr=False)
    shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", _readonly(self.points))
        object.__setattr__(self, "values", _readonly(self.values))

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SweepResult):
            return NotImplemented
        return (
            self.names == other.names
            and self.shape == other.shape
            and self.points.shape == other.points.shape
            and bool(np.array_equal(self.points, other.points))
            and self.values.shape == other.values.shape
            and bool(np.array_equal(self.values, other.values))
        )

    def __hash__(self) -> int:
        return hash((self.names, self.shape, len(self)))

    def point(self, i: int) -> dict[str, Any]:
        """Point ``i`` as ``{name: value}``."""
        return {n: self.points[i, j].item() if hasattr(self.points[i, j], "item") else self.points[i, j] for j, n in enumerate(self.names)}

    def items(self) -> Iterator[tuple[dict[str, Any], Any]]:
        """``(point, value)`` pairs in sweep order."""
        for i in range(len(self)):
            yield self.point(i), self.values[i]

    def axis(self, name: str) -> np.ndarray:
        """The values of parameter ``name`` along its grid axis (cartesian sweeps), else at every point."""
        if name not in self.names:
            raise ParallelError(f"unknown sweep parameter {name!r}; the parameters are {list(self.names)}")
        j = self.names.index(name)
        col = self.points[:, j]
        if self.shape is None:
            return col
        at: list[Any] = [0] * len(self.shape)
        at[j] = slice(None)
        return col.reshape(self.shape)[tuple(at)]

    def grid(self) -> np.ndarray:
        """The values arranged on the grid: shape ``self.shape + value shape`` (cartesian sweeps only)."""
        if self.shape is None:
            raise ParallelError("grid() needs a cartesian sweep (a mapping of name -> values); this sweep was a list of points")
        return self.values.reshape(self.shape + self.values.shape[1:])


def _grid_points(grid: Any) -> tuple[tuple[str, ...], list[tuple], tuple[int, ...] | None]:
    """``(names, points, shape)`` of a mapping grid (cartesian product) or a list of points."""
    if isinstance(grid, Mapping):
        if not grid:
            raise ParallelError("sweep: the grid is empty (give a mapping name -> values, or a list of points)")
        names = tuple(grid)
        axes = []
        for n in names:
            if not isinstance(n, str) or not n.isidentifier():
                raise ParallelError(f"sweep: parameter names must be identifiers (str), got {n!r}")
            vals = grid[n]
            if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray, range)):
                raise ParallelError(f"sweep: the values of {n!r} must be a sequence or 1-D array, got {type(vals).__name__}")
            arr = list(np.asarray(vals).ravel()) if isinstance(vals, np.ndarray) else list(vals)
            if isinstance(vals, np.ndarray) and vals.ndim != 1:
                raise ParallelError(f"sweep: the values of {n!r} must be 1-D, got an array of shape {vals.shape}")
            if not arr:
                raise ParallelError(f"sweep: parameter {n!r} has no values")
            axes.append(arr)
        shape = tuple(len(a) for a in axes)
        total = math.prod(shape)
        return names, [tuple(p) for p in itertools.product(*axes)] if total else [], shape
    if isinstance(grid, (str, bytes)) or not isinstance(grid, (Sequence, np.ndarray)):
        raise ParallelError(f"sweep: the grid must be a mapping name -> values or a list of points (mappings), got {type(grid).__name__}")
    if len(grid) == 0:
        raise ParallelError("sweep: the list of points is empty")
    first = grid[0]
    if not isinstance(first, Mapping) or not first:
        raise ParallelError(f"sweep: point 0 must be a non-empty mapping name -> value, got {first!r}")
    names = tuple(first)
    points = []
    for i, p in enumerate(grid):
        if not isinstance(p, Mapping) or set(p) != set(names):
            raise ParallelError(f"sweep: point {i} must give exactly the parameters {list(names)}, got {p!r}")
        points.append(tuple(p[n] for n in names))
    return names, points, None


def _points_array(points: list[tuple], n: int) -> np.ndarray:
    """The points as an int or float array when every coordinate is a real number, else an object array."""
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for p in points for v in p):
        return np.array(points).reshape(len(points), n)
    out = np.empty((len(points), n), dtype=object)
    for i, p in enumerate(points):
        for j, v in enumerate(p):
            out[i, j] = v
    return out


class _Call:
    """``fn(**point)`` or ``fn(point)`` for one point given as a tuple (a picklable adapter)."""

    def __init__(self, fn: Callable, names: tuple[str, ...], as_mapping: bool) -> None:
        self.fn, self.names, self.as_mapping = fn, names, as_mapping

    def __call__(self, values: tuple) -> Any:
        point = dict(zip(self.names, values))
        return self.fn(point) if self.as_mapping else self.fn(**point)


def sweep(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]],
    *,
    as_mapping: bool = False,
    client: Any = None,
    progress: bool | None = None,
    desc: str = "sweep",
    timeout: float | None = None,
    max_items: int | None = None,
) -> SweepResult:
    """Evaluate ``fn`` at every point of a parameter grid (locally or on a Dask cluster).

    Parameters
    ----------
    fn
        A function (see :func:`run_map`), called as ``fn(**point)``, or as
        ``fn(point)`` with ``as_mapping=True`` -- the form of functions that take a
        mapping of values, e.g. ``functools.partial(exact_renormalization, model,
        blocks, rule)``.
    grid
        A mapping ``name -> values`` (the cartesian product, the first name varying
        slowest) or a list of points ``[{name: value, ...}, ...]`` with the same names.
    client, progress, desc, timeout, max_items
        As for :func:`run_map` (``max_items`` bounds the number of points).

    Returns
    -------
    SweepResult
        Immutable: the points, the values, and the grid shape.

    Examples
    --------
    >>> import operator
    >>> r = sweep(operator.itemgetter("b"), [{"a": 1, "b": 2.5}, {"a": 10, "b": 20.0}], as_mapping=True)
    >>> r.values.tolist(), r.point(1), r.shape is None
    ([2.5, 20.0], {'a': 10.0, 'b': 20.0}, True)
    >>> sweep(complex, {"real": [1, 2], "imag": "xy"})
    Traceback (most recent call last):
    ...
    symrg.errors.ParallelError: sweep: the values of 'imag' must be a sequence or 1-D array, got str
    """
    names, points, shape = _grid_points(grid)
    _check_callable(fn, "sweep")
    limit = MAX_ITEMS if max_items is None else max_items
    if isinstance(limit, int) and not isinstance(limit, bool) and len(points) > limit:
        raise BudgetError(f"sweep {desc!r}: {len(points)} points exceed the budget max_items = {limit}")
    values = run_map(_Call(fn, names, as_mapping), points, client=client, progress=progress, desc=desc, timeout=timeout, max_items=limit)
    return SweepResult(names, _points_array(points, len(names)), _as_array(values), shape)
