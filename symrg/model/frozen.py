"""Read-only values for result objects: a hashable mapping and read-only arrays.

Results are immutable value objects: two results built from the same input compare
equal and hash alike, so they can be cached, put in sets or used as dictionary keys.
A ``dict`` field would make ``hash`` raise and a writable ``ndarray`` field would make
``==`` raise; results hold a :class:`FrozenDict` and read-only arrays instead.

>>> d = FrozenDict({"K": 1, "h": 2})
>>> d["K"], len(d), d == {"h": 2, "K": 1}
(1, 2, True)
>>> hash(d) == hash(FrozenDict({"h": 2, "K": 1}))
True
>>> d["K"] = 3
Traceback (most recent call last):
...
TypeError: 'FrozenDict' object does not support item assignment
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, TypeVar

import numpy as np

__all__ = ["FrozenDict", "freeze", "readonly_array", "arrays_equal", "array_hash"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(Mapping[K, V]):
    """An immutable, hashable mapping that keeps insertion order.

    Equality is that of mappings (order-insensitive, equal to a ``dict`` with the same
    items); the hash is computed from the items, so every value must be hashable.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._data: dict[K, V] = dict(*args, **kwargs)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:  # reads like the dict it replaces
        return repr(self._data)

    def __reduce__(self) -> tuple:  # pickling: rebuild from the items
        return (FrozenDict, (list(self._data.items()),))


def freeze(value: Any) -> Any:
    """``value`` with every ``dict`` (at any depth inside dicts) made a :class:`FrozenDict`.

    >>> d = freeze({1: {"a": 2}})
    >>> d, type(d[1]).__name__
    ({1: {'a': 2}}, 'FrozenDict')
    """
    if isinstance(value, Mapping):
        return FrozenDict((k, freeze(v)) for k, v in value.items())
    return value


def readonly_array(value: Any) -> Any:
    """A read-only copy of an array (None stays None): results never share writable arrays."""
    if value is None:
        return None
    arr = np.array(value, copy=True)
    arr.setflags(write=False)
    return arr


def arrays_equal(a: Any, b: Any) -> bool:
    """Same shape and entries (NaN equal to NaN for float arrays); None only equals None."""
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def array_hash(a: Any) -> int:
    """A hash consistent with :func:`arrays_equal` (shape and entries)."""
    if a is None:
        return hash(None)
    a = np.asarray(a)
    if a.dtype.kind not in "biufc":
        return hash((a.shape, tuple(a.ravel().tolist())))
    # 0.0 and -0.0 are equal but differ in bytes: normalise them (and NaN payloads)
    flat = np.where(np.isnan(a), np.nan, a + 0.0) if a.dtype.kind in "fc" else a
    return hash((a.shape, np.ascontiguousarray(flat, dtype=np.complex128 if a.dtype.kind == "c" else float).tobytes()))
