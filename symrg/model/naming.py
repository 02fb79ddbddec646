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

Names are what text forms print (``b_h1_1``, ``W_vh1_{12}``, ``h1_2``: unambiguous, and
what the parsers read back); LaTeX forms print *symbols* (docs/conventions.md, "Symbols
in LaTeX"): every layer and parameter has one, the user's (:func:`check_latex` vets it)
or the default :func:`latex_name` derives from its name (``h1`` -> ``h^{(1)}``), and
:func:`symbol_latex` writes a unit or an entry with it (``h^{(1)}_{2}``,
``W^{(v,h^{(1)})}_{1,2}``).

Examples
--------
>>> entry_name("W", (0, 1), (2, 3)), entry_name("W", (0, 11), (2, 12)), entry_name("a", (2,), (5,))
('W_{12}', 'W_{1,12}', 'a_3')
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Mapping, Sequence

import sympy as sp

from symrg.errors import ModelError

__all__ = [
    "WIDE_DIMENSION",
    "check_latex",
    "entry_latex",
    "entry_subscript",
    "entry_name",
    "entry_names",
    "latex_name",
    "model_symbols",
    "split_entry",
    "subscript_indices",
    "symbol_latex",
]

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


#: Greek letters written as their commands (``alpha`` -> ``\\alpha``), as sympy does
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi",
    "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}


def _letters(head: str) -> str:
    """A name of letters: a Greek letter's command, else the letters themselves."""
    return "\\" + head if head in _GREEK else head


def _numbered(name: str) -> str | None:
    """``h1`` -> ``h^{(1)}``, ``x10`` -> ``x^{(10)}``; None unless letters then digits."""
    head = name.rstrip("0123456789")
    if head and head != name and head.isalpha():
        return f"{_letters(head)}^{{({name[len(head):]})}}"
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
    * ``B_digits`` numbers ``B`` like a layer: ``W_0`` -> ``W^{(0)}``, ``C_2`` -> ``C^{(2)}``
      (a subscript would run into the indices of its entries);
    * a single letter stays itself, a Greek letter's name is its command (``alpha`` ->
      ``\alpha``); any other name is upright (``\mathrm{name}``, underscores escaped).

    Examples
    --------
    >>> latex_name("h1"), latex_name("W_vh1", ["v", "h1"]), latex_name("b_h1", ["v", "h1"])
    ('h^{(1)}', 'W^{(v,h^{(1)})}', 'b^{(h^{(1)})}')
    >>> latex_name("W"), latex_name("W_h1h2"), latex_name("my_rate"), latex_name("W_0"), latex_name("beta")
    ('W', 'W^{(h^{(1)},h^{(2)})}', '\\mathrm{my\\_rate}', 'W^{(0)}', '\\beta')
    """
    numbered = _numbered(name)
    if numbered is not None:
        return numbered
    if name in _GREEK:
        return _letters(name)
    if len(name) == 1 or (name.isalpha() and len(name) <= 2 and name in layers):
        return name
    head, sep, rest = name.partition("_")
    if sep and head.isalpha():
        def sym(layer: str) -> str:
            return (symbols or {}).get(layer) or _numbered(layer) or (layer if len(layer) <= 2 else latex_name(layer))
        top = _letters(head)
        if rest in layers:
            return f"{top}^{{({sym(rest)})}}"
        for a in layers:
            if rest.startswith(a) and rest[len(a):] in layers:
                return f"{top}^{{({sym(a)},{sym(rest[len(a):])})}}"
        if rest.isdigit():
            return f"{top}^{{({rest})}}"
        # layers no longer in the model (summed out): one-letter names, each with its number
        tokens = re.findall(r"[A-Za-z][0-9]*", rest)
        if 1 <= len(tokens) <= 2 and "".join(tokens) == rest:
            return f"{top}^{{({','.join(sym(t) for t in tokens)})}}"
    if name.isalpha() and len(name) <= 2:
        return name
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


# --------------------------------------------------------------------------------------
# symbols of units and entries; the user's LaTeX, vetted
# --------------------------------------------------------------------------------------

#: a unit (``h1_2``) or an entry (``a_3``, ``W_vh1_{12}``, ``W_{1,12}``): base, then its 1-based subscript
_ENTRY = re.compile(r"([A-Za-z][A-Za-z0-9_]*?)_(?:\{([0-9]+(?:,[0-9]+)*)\}|([0-9]+))\Z")


def split_entry(name: str) -> tuple[str, tuple[int, ...], bool] | None:
    """``(base, 1-based indices, written with commas)`` of a unit or entry name, else None.

    Examples
    --------
    >>> split_entry("h1_2"), split_entry("W_vh1_{12}"), split_entry("W_{1,12}"), split_entry("W_vh1")
    (('h1', (2,), False), ('W_vh1', (1, 2), False), ('W', (1, 12), True), None)
    """
    m = _ENTRY.match(name)
    if m is None:
        return None
    if m.group(3) is not None:
        return m.group(1), (int(m.group(3)),), False
    return m.group(1), subscript_indices(m.group(2)), "," in m.group(2)


def _top_level(tex: str, chars: str) -> bool:
    """True when one of ``chars`` occurs in ``tex`` outside every brace group."""
    depth, k = 0, 0
    while k < len(tex):
        ch = tex[k]
        if ch == "\\":
            k += 2
            continue
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and ch in chars:
            return True
        k += 1
    return False


def entry_latex(symbol: str, indices: Sequence[Any], comma: bool = False) -> str:
    """The LaTeX of an entry of a matrix (or a unit of a layer) whose symbol is ``symbol``.

    The indices are separated by commas when ``comma`` is set or ``symbol`` carries a
    digit (``W^{(v,h^{(1)})}_{1,2}``, never ``_{12}`` next to a ``1``); a symbol with a
    subscript of its own is braced, so the entry's subscript does not double it.

    Examples
    --------
    >>> entry_latex("W", (1, 2)), entry_latex("W^{(v,h^{(1)})}", (1, 2)), entry_latex("h_{a}", (3,))
    ('W_{12}', 'W^{(v,h^{(1)})}_{1,2}', '{h_{a}}_{3}')
    """
    sep = "," if comma or any(ch.isdigit() for ch in symbol) else ""
    head = "{" + symbol + "}" if _top_level(symbol, "_") else symbol
    return f"{head}_{{{sep.join(str(i) for i in indices)}}}"


def symbol_latex(name: str, symbols: Mapping[str, str] | None = None) -> str | None:
    r"""The LaTeX of the scalar symbol ``name`` (a unit or a parameter entry), or None when
    the printer's default is right.

    ``symbols`` maps layer and parameter names to their LaTeX symbols (the model's, see
    :func:`symrg.output.printing.model_symbols`); a name in it prints as its symbol, and a
    unit or entry of it (:func:`split_entry`) as :func:`entry_latex`.  Without a symbol,
    a base that carries digits or underscores gets the default :func:`latex_name` (so
    ``b_h1_1`` prints ``b^{(h^{(1)})}_{1}``, never ``b_{h1 1}``); plain names (``v_1``,
    ``W_{12}``, ``alpha_0``) are left to the printer.

    Examples
    --------
    >>> symbol_latex("h1_2"), symbol_latex("W_vh1_{12}"), symbol_latex("b_v_3"), symbol_latex("v_1")
    ('h^{(1)}_{2}', 'W^{(v,h^{(1)})}_{1,2}', 'b^{(v)}_{3}', None)
    >>> symbol_latex("h1_2", {"h1": r"\tilde h"}), symbol_latex("W_{1,12}", {"W": "w"})
    ('\\tilde h_{2}', 'w_{1,12}')
    """
    symbols = symbols or {}
    if name in symbols:
        return symbols[name]
    parts = split_entry(name)
    if parts is None:
        return None
    base, indices, comma = parts
    if base in symbols:
        sym = symbols[base]
    elif not base.isalpha():
        sym = latex_name(base)
    else:
        return None
    return entry_latex(sym, indices, comma or any(ch.isdigit() for ch in base))


#: commands a symbol may use: Greek letters, accents, math fonts and a few signs (all
#: defined by the preamble of symrg's documents: amsmath, amssymb)
LATEX_COMMANDS = frozenset(
    _GREEK
    | {"varpi", "varrho", "varsigma", "digamma", "varkappa", "ell", "hbar", "imath", "jmath", "aleph", "wp",
       "partial", "nabla", "infty", "prime", "star", "ast", "dagger", "ddagger", "circ", "bullet", "cdot",
       "hat", "tilde", "bar", "vec", "dot", "ddot", "breve", "check", "acute", "grave", "mathring",
       "widehat", "widetilde", "overline", "underline", "overrightarrow",
       "mathbf", "mathrm", "mathit", "mathsf", "mathtt", "mathcal", "mathbb", "mathfrak", "boldsymbol",
       "text", "textrm", "textit", "textbf", "textsf", "operatorname"}
)
#: control symbols a symbol may use (thin spaces, a literal brace or bar)
_CONTROL_SYMBOLS = frozenset(",;:! {}|")
#: characters that change how the surrounding document is read: a comment, a macro
#: parameter, an alignment tab, a math shift, ``^^`` character codes
_REFUSED = {"%": "a comment character", "#": "a macro parameter", "&": "an alignment tab", "$": "a math shift"}
#: the longest symbol accepted
MAX_LATEX_CHARS = 200


def check_latex(tex: object, what: str) -> str:
    r"""``tex`` if it is safe to print as the LaTeX symbol of ``what``, else :class:`ModelError`.

    A symbol is text that ends up in documents, so it must be one piece of math: no
    control characters, balanced braces, no ``%``, ``#``, ``&``, ``$`` or ``^^``, no
    dangling ``_``/``^``, and only the commands in :data:`LATEX_COMMANDS` (Greek
    letters, accents, math fonts): ``\input``, ``\write``, ``\def``, ``\catcode`` and
    every other command are refused.

    Examples
    --------
    >>> check_latex(r"\tilde{h}", "layer 'h1'")
    '\\tilde{h}'
    >>> check_latex(r"h\input{x}", "layer 'h1'")
    Traceback (most recent call last):
    ...
    symrg.errors.ModelError: the LaTeX symbol of layer 'h1' uses the command \input; ...
    """
    if not isinstance(tex, str):
        raise ModelError(f"the LaTeX symbol of {what} must be a string, got {type(tex).__name__}")
    shown = tex[:60]
    if not tex.strip():
        raise ModelError(f"the LaTeX symbol of {what} is empty")
    if len(tex) > MAX_LATEX_CHARS:
        raise ModelError(f"the LaTeX symbol of {what} has {len(tex)} characters; the limit is {MAX_LATEX_CHARS}")
    for ch in tex:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch != " ":
            raise ModelError(f"the LaTeX symbol of {what} contains the control character {ch!r}: {shown!r}")
        if ch in _REFUSED:
            raise ModelError(f"the LaTeX symbol of {what} contains {ch!r} ({_REFUSED[ch]}): {shown!r}")
    if "^^" in tex:
        raise ModelError(f"the LaTeX symbol of {what} contains '^^' (a character code): {shown!r}")
    depth, k = 0, 0
    while k < len(tex):
        ch = tex[k]
        if ch == "\\":
            m = re.match(r"[A-Za-z]+", tex[k + 1:])
            if m is not None:
                if m.group(0) not in LATEX_COMMANDS:
                    raise ModelError(
                        f"the LaTeX symbol of {what} uses the command \\{m.group(0)}; a symbol may use Greek "
                        "letters, accents (\\tilde, \\hat, ...) and math fonts (\\mathbf, \\mathrm, ...) only"
                    )
                k += 1 + len(m.group(0))
                continue
            if k + 1 >= len(tex) or tex[k + 1] not in _CONTROL_SYMBOLS:
                raise ModelError(f"the LaTeX symbol of {what} contains a stray backslash: {shown!r}")
            k += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                break
        k += 1
    if depth != 0:
        raise ModelError(f"the LaTeX symbol of {what} has unbalanced braces: {shown!r}")
    if re.search(r"[_^]\s*\Z", tex) or re.search(r"[_^]\s*[_^]", tex):
        raise ModelError(f"the LaTeX symbol of {what} has a '_' or '^' without its argument: {shown!r}")
    return tex


def model_symbols(model: Any, latex_names: Mapping[str, str] | None = None) -> dict[str, str]:
    r"""The LaTeX symbol of every layer, parameter and named intermediate of ``model``
    (those of the layers summed out included), by name.

    A symbol is the one the layer or parameter carries (``energy_model(...,
    latex_names=...)``), else :func:`symrg.model.naming.latex_name` of its name;
    ``latex_names`` overrides any of them here (vetted like the model's own).

    >>> from symrg.model.energy import dbm
    >>> m = dbm([2, 2, 2], names=["v", "h1", "h2"], weights=["W_vh1", "W"], latex_names={"h2": r"\tilde h"})
    >>> sorted(model_symbols(m).items())  # doctest: +NORMALIZE_WHITESPACE
    [('W', 'W'), ('W_vh1', 'W^{(v,h^{(1)})}'), ('b_h1', 'b^{(h^{(1)})}'), ('b_h2', 'b^{(\\tilde h)}'),
     ('b_v', 'b^{(v)}'), ('h1', 'h^{(1)}'), ('h2', '\\tilde h'), ('v', 'v')]
    """
    layers: dict = {}
    params: dict = {}
    inter: list[str] = []
    m = model
    while m is not None:  # the originals hold the layers summed out (and their symbols)
        for lay in m.layers:
            layers.setdefault(lay.name, lay)
        for k, p in m.params.items():
            params.setdefault(k, p)
        inter += [i.symbol.name for i in m.intermediates]
        m = m.original
    user = {k: check_latex(v, f"{k!r}") for k, v in (latex_names or {}).items()}
    every = list(layers)
    out = {n: user.get(n) or lay.latex or latex_name(n, every) for n, lay in layers.items()}
    for k, p in params.items():
        out[k] = user.get(k) or p.latex or latex_name(k, every, out)
    for n in inter:
        out.setdefault(n, user.get(n) or latex_name(n, every, out))
    out.update({k: v for k, v in user.items() if k not in out})
    return out
