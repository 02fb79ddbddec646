"""The names of parameter entries: one rule for the model, the printers and the parsers.

Entries are 1-based (docs/conventions.md, "Names of entries"):

* an entry of a vector (a field) is ``a_3``;
* an entry of a matrix is ``W_{12}`` (row 1, column 2); when either dimension of the
  matrix is 10 or more, every entry of that matrix separates its indices by a comma,
  ``W_{1,12}`` and ``W_{1,2}``, so that ``W_{112}`` is never ambiguous.

The model creates its entry symbols with :func:`entry_name`, the printers render an
abstract matrix element with :func:`entry_subscript`, and :mod:`symrg.verify` maps the
names back to positions with :func:`entry_names` and reads a written subscript with
:func:`subscript_indices`; being one rule, they cannot drift apart.

Examples
--------
>>> entry_name("W", (0, 1), (2, 3)), entry_name("W", (0, 11), (2, 12)), entry_name("a", (2,), (5,))
('W_{12}', 'W_{1,12}', 'a_3')
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import sympy as sp

__all__ = ["WIDE_DIMENSION", "entry_subscript", "entry_name", "entry_names", "latex_name", "subscript_indices"]

#: from this dimension on, matrix entries separate their indices by a comma
WIDE_DIMENSION = 10


def _is_wide(shape: Sequence[Any]) -> bool:
    # symbolic dimensions (abstract mode) are not known to be wide
    return any(isinstance(d, (int, sp.Integer)) and int(d) >= WIDE_DIMENSION for d in shape)


def entry_subscript(index: Sequence[int], shape: Sequence[Any]) -> str:
    """The 1-based subscript of the entry at the 0-based ``index`` of a ``shape`` array.

    Parameters
    ----------
    index : one or two 0-based indices (ints, sympy Integers or symbols)
    shape : the dimensions of the matrix (ints, sympy Integers or symbols)

    Examples
    --------
    >>> entry_subscript((0, 1), (2, 3)), entry_subscript((9, 0), (10, 2)), entry_subscript((4,), (6,))
    ('12', '10,1', '5')
    """
    sep = "," if len(index) > 1 and _is_wide(shape) else ""
    return sep.join(str(i + 1) for i in index)  # a symbolic index i prints as i + 1


def entry_name(base: str, index: Sequence[int], shape: Sequence[Any]) -> str:
    """The name of an entry: ``base_{subscript}``, braces only for two indices.

    Examples
    --------
    >>> entry_name("b_v", (0,), (3,)), entry_name("J", (2, 0), (3, 1))
    ('b_v_1', 'J_{31}')
    """
    sub = entry_subscript(index, shape)
    return f"{base}_{{{sub}}}" if len(index) > 1 else f"{base}_{sub}"


def entry_names(base: str, rows: int, cols: int) -> dict[str, tuple[int, int]]:
    """``{entry name: (row, column)}`` (0-based positions) of an explicit ``rows x cols``
    matrix.  A column (``cols == 1``) is named both ways, as the vector it is when it is
    a field (``a_2``) and as the one-column matrix it is when it is a coupling to a
    one-unit layer (``W_{21}``): the shape alone does not tell which.

    Examples
    --------
    >>> entry_names("W", 1, 2)
    {'W_{11}': (0, 0), 'W_{12}': (0, 1)}
    >>> sorted(entry_names("a", 2, 1).items())
    [('a_1', (0, 0)), ('a_2', (1, 0)), ('a_{11}', (0, 0)), ('a_{21}', (1, 0))]
    """
    out = {}
    for i in range(rows):
        for j in range(cols):
            out[entry_name(base, (i, j), (rows, cols))] = (i, j)
            if cols == 1:
                out[entry_name(base, (i,), (rows,))] = (i, j)
    return out


def subscript_indices(subscript: str) -> tuple[int, ...]:
    """The 1-based indices written in a subscript (the inverse of :func:`entry_subscript`).

    Digits without a comma are one index each (``"12"`` is row 1, column 2); with commas
    the indices are the comma-separated numbers.

    Examples
    --------
    >>> subscript_indices("12"), subscript_indices("1,12"), subscript_indices("3")
    ((1, 2), (1, 12), (3,))
    """
    if "," in subscript:
        return tuple(int(p) for p in subscript.split(","))
    return tuple(int(ch) for ch in subscript)


def _numbered(name: str) -> str | None:
    """``h1`` -> ``h^{(1)}``, ``x10`` -> ``x^{(10)}``; None unless letters then digits."""
    head = name.rstrip("0123456789")
    if head and head != name and head.isalpha():
        return f"{head}^{{({name[len(head):]})}}"
    return None


def latex_name(name: str, layers: Sequence[str] = (), symbols: Mapping[str, str] | None = None) -> str:
    r"""The default LaTeX symbol of a layer or parameter name, without ambiguity.

    * a name of letters then digits is numbered by a parenthesized superscript:
      ``h1`` -> ``h^{(1)}`` (so its entries ``h^{(1)}_{2}`` never read as ``h_{12}``);
    * ``B_rest`` where ``rest`` is one layer name or two concatenated layer names (the
      default names of biases ``b_h1`` and couplings ``W_vh1``) puts the layers in a
      superscript: ``b^{(h^{(1)})}``, ``W^{(v,h^{(1)})}``; layers not listed in
      ``layers`` are read as one letter and its number each (``W_vh1`` -> ``v``, ``h1``);
      ``symbols`` gives layers symbols of the user's (``{"h1": r"\mathbf{h}"}``);
    * a single letter stays itself; any other name is upright (``\mathrm{name}``,
      underscores escaped).

    Examples
    --------
    >>> latex_name("h1"), latex_name("W_vh1", ["v", "h1"]), latex_name("b_h1", ["v", "h1"])
    ('h^{(1)}', 'W^{(v,h^{(1)})}', 'b^{(h^{(1)})}')
    >>> latex_name("W"), latex_name("W_h1h2"), latex_name("my_rate")
    ('W', 'W^{(h^{(1)},h^{(2)})}', '\\mathrm{my\\_rate}')
    """
    numbered = _numbered(name)
    if numbered is not None:
        return numbered
    if len(name) == 1 or (name.isalpha() and len(name) <= 2 and name in layers):
        return name
    head, sep, rest = name.partition("_")
    if sep and head.isalpha():
        def sym(layer: str) -> str:
            return (symbols or {}).get(layer) or _numbered(layer) or layer
        if rest in layers:
            return f"{head}^{{({sym(rest)})}}"
        for a in layers:
            if rest.startswith(a) and rest[len(a):] in layers:
                return f"{head}^{{({sym(a)},{sym(rest[len(a):])})}}"
        if rest.isdigit():
            return f"{head}_{{{rest}}}"
        # layers no longer in the model (summed out): one-letter names, each with its number
        tokens = re.findall(r"[A-Za-z][0-9]*", rest)
        if 1 <= len(tokens) <= 2 and "".join(tokens) == rest:
            return f"{head}^{{({','.join(sym(t) for t in tokens)})}}"
    if name.isalpha() and len(name) <= 2:
        return name
    return r"\mathrm{" + name.replace("_", r"\_") + "}"
