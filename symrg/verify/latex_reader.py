r"""Read formulas the way papers write them: LaTeX (and hand-typed sympy syntax) into sympy.

:func:`read_latex` reads one claim written in the notation of papers and notes --
function powers (``\cosh^2 h``, ``\ln^2 x``), ``\frac14``, ``\tfrac``, ``\sqrt[3]{x}``,
``\left( \right)`` and ``\bigl( \bigr)``, implicit products (``2\cosh 2K``), primes
(``K'``, ``K^{\prime}``), a left-hand side that names the result (``K' = ...``), the
``equation``/``align``/``$...$``/``\[...\]`` wrappers, trailing punctuation, ``\,``
spacing, Unicode minus and Greek letters -- into the same sympy objects as the sympy
syntax parser of :mod:`symrg.verify.parsing`, through the same whitelisted building
blocks (names resolve in a :class:`~symrg.verify.parsing.Namespace`, functions come from a
fixed table, numbers are bounded).  Nothing is ever executed: the text is only
tokenized, by a regular expression, and read by a recursive-descent parser; every
command outside the table is refused, and commands that would read or write files or
define macros (``\input``, ``\include``, ``\def``, ``\csname``, ``\catcode``,
``\write``, ``\immediate`` ...) are refused by name.  Every error names the position
and draws a caret under it.

Reading rules (the unsurprising reading of a physicist's notation):

* an unbracketed function argument is the product that follows, up to the next
  function, operator, comma or ``=``: ``\cosh 2K h = \cosh(2Kh)``, ``2\cosh 2K \sinh 2K
  = 2\cosh(2K)\sinh(2K)``, ``\log 2\pi = \log(2\pi)``; where that is ambiguous
  (``\ln\cosh 2K \cosh h``, ``\cosh x/2``) the reader asks for brackets;
* ``\cosh^2 h = (\cosh h)^2``; ``\tanh^{-1} x`` (and ``\sinh^{-1}``, ``\cosh^{-1}``) is
  the inverse function; ``\log_2 x = \log x / \log 2``;
* ``e`` is Euler's number only as ``e^{...}`` or ``\mathrm{e}``; a bare ``e`` is a
  name.  ``1e-3`` is refused (write ``10^{-3}``).  ``\Gamma(x)`` is refused (no Gamma
  function) unless ``\Gamma`` is a known name;
* ``K' = ...``: a left side that is a name (letters, sub/superscripts, primes, an
  argument list as in ``H(v)`` or ``H(v, h^{(1)})``) names the result; the claim is the
  right side.  Chains ``a = b = c`` and ``align`` rows are read by :func:`read_equations`;
* a model's own symbols read as its layers, parameters and entries, as
  ``model.latex()`` and ``couplings_latex`` print them (docs/conventions.md, "Symbols in
  LaTeX"): ``h^{(1)}_{2}`` is ``h1_2``, ``W^{(v,h^{(1)})}_{1,2}`` (or ``_{12}``) is
  ``W_vh1_{12}``, and with ``latex_names={"h1": r"\tilde h"}`` ``\tilde h_{2}`` is
  ``h1_2``.  The symbols come from the model (:func:`symbol_table` of
  :func:`symrg.model.naming.model_symbols`), never from guessing; two names that print
  the same symbol make it a :class:`ClaimError`;
* ``\sum_{k=1}^{n}``, ``\sum_{k,l=1}^{n}`` and ``\sum_{1 \le i < j \le n}`` with whole-number
  bounds sum the product that follows over their indices (``W_{ik}`` with ``k`` bound);
  free indices (``i`` in ``h_{i} = ...``) take the values of the namespace's ``indices``.

Why not a library (measured with sympy 1.14 and lark 1.3.1, the Lark-based
``sympy.parsing.latex.parse_latex(..., backend="lark")``): it returns ambiguous parse
trees for every hyperbolic function (``\tanh K`` -> ``_ambig[tan(K*h), tanh(K)]``,
nine readings of ``h + \frac12\ln\frac{\cosh(2K+h)}{\cosh(2K-h)}``), rejects
function powers (``\cosh^2 h``, ``\ln^2 x``), ``\operatorname``, ``\bigl(``,
``\Big[``, ``K^{\prime}``, trailing punctuation, Unicode minus and Greek letters, reads
``1e-3`` as ``e - 3``, knows no matrices or namespaces, and takes 0.1-1.3 s per claim.
pylatexenc would only replace the twelve-line tokenizer below.  So the reading is
our own, on the whitelisted constructors of :mod:`symrg.verify.parsing`.

Examples
--------
>>> read_latex(r"K' = \frac14 \ln\frac{\cosh(2K+h)\cosh(2K-h)}{\cosh^2 h},")
log(cosh(2*K - h)*cosh(2*K + h)/cosh(h)**2)/4
>>> read_latex(r"2\cosh 2K \sinh 2K")
2*sinh(2*K)*cosh(2*K)
>>> read_latex(r"\begin{equation} h' = h + \tfrac{1}{2}\ln\frac{\cosh(2K+h)}{\cosh(2K-h)} . \end{equation}")
h + log(cosh(2*K + h)/cosh(2*K - h))/2
>>> read_latex(r"\input{/etc/passwd}")
Traceback (most recent call last):
...
symrg.errors.ClaimError: \input is refused: a claim may not read or write files or define macros (position 0):
  \input{/etc/passwd}
  ^
"""

from __future__ import annotations

import ast
import itertools
import keyword
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from symrg.errors import ClaimError
from symrg.verify.parsing import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_DIGITS,
    Namespace,
    _add,
    _div,
    _finish,
    _is_matrix,
    _mul,
    _namespace,
    _neg,
    _pow,
    _precheck,
    _scalar,
    _scalar_fn,
    _transpose,
)

__all__ = [
    "HOSTILE_COMMANDS",
    "LatexEquation",
    "caret",
    "claim_error",
    "name_key",
    "normalize_sympy_syntax",
    "read_equations",
    "read_latex",
    "symbol_table",
    "sympy_syntax_tree",
]

#: commands refused by name: they read or write files, run programs or define macros
HOSTILE_COMMANDS = frozenset({
    "input", "include", "includeonly", "InputIfFileExists", "IfFileExists", "openin", "openout", "read",
    "readline", "write", "immediate", "newwrite", "newread", "closeout", "closein", "special", "directlua",
    "luaexec", "ShellEscape", "def", "edef", "gdef", "xdef", "let", "futurelet", "newcommand",
    "renewcommand", "providecommand", "DeclareRobustCommand", "newenvironment", "renewenvironment",
    "csname", "endcsname", "expandafter", "catcode", "lccode", "uccode", "makeatletter", "makeatother",
    "usepackage", "RequirePackage", "documentclass", "jobname", "verbatiminput", "lstinputlisting",
    "includegraphics", "loop", "repeat", "afterassignment", "aftergroup", "scantokens", "endinput",
    "everypar", "everymath", "everydisplay", "output", "shipout", "pdfshellescape", "write18",
})

#: the functions of the notation, mapped to whitelisted sympy constructors
_FUNCTIONS: Mapping[str, Callable] = {
    "log": FUNCTIONS["log"], "ln": FUNCTIONS["log"], "exp": FUNCTIONS["exp"],
    "sin": FUNCTIONS["sin"], "cos": FUNCTIONS["cos"], "tan": FUNCTIONS["tan"],
    "sinh": FUNCTIONS["sinh"], "cosh": FUNCTIONS["cosh"], "tanh": FUNCTIONS["tanh"],
    "coth": _scalar_fn(sp.coth), "sech": FUNCTIONS["sech"], "csch": _scalar_fn(sp.csch),
    "arcsinh": FUNCTIONS["asinh"], "arccosh": FUNCTIONS["acosh"], "arctanh": FUNCTIONS["atanh"],
    "arsinh": FUNCTIONS["asinh"], "arcosh": FUNCTIONS["acosh"], "artanh": FUNCTIONS["atanh"],
    "asinh": FUNCTIONS["asinh"], "acosh": FUNCTIONS["acosh"], "atanh": FUNCTIONS["atanh"],
    "det": FUNCTIONS["det"], "tr": FUNCTIONS["trace"], "Tr": FUNCTIONS["trace"], "sqrt": FUNCTIONS["sqrt"],
}
#: f^{-1} is the inverse function for these (the reciprocal needs brackets: (\cosh x)^{-1})
_INVERSE = {"sinh": "arsinh", "cosh": "arcosh", "tanh": "artanh", "arsinh": "sinh", "arcosh": "cosh", "artanh": "tanh"}
#: functions written as commands (\ln); the others only as \operatorname{...} or \mathrm{...}
_COMMAND_FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "sinh", "cosh", "tanh", "coth", "det", "arcsinh",
                      "arccosh", "arctanh", "sech", "csch"}

_GREEK = [
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi",
    "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Phi",
    "Psi", "Omega",
]
_UNICODE_GREEK = dict(zip(
    "αβγδεϵζηθϑικλμνξρϱσςτυφϕχψωΓΔΘΛΞΣΥΦΨΩ",
    [
        "alpha", "beta", "gamma", "delta", "varepsilon", "epsilon", "zeta", "eta", "theta", "vartheta",
        "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "varrho", "sigma", "varsigma", "tau", "upsilon",
        "varphi", "phi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma",
        "Upsilon", "Phi", "Psi", "Omega",
    ],
))
_UNICODE_OPS = {"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u2219": "*"}
_SPACING = {"quad", "qquad", "displaystyle", "textstyle", "scriptstyle", "enspace", "thinspace", "medspace",
            "thickspace", "negthinspace", "nolimits", "limits", "mathstrut"}
_SIZES = {"big", "Big", "bigg", "Bigg", "bigl", "Bigl", "biggl", "Biggl", "bigr", "Bigr", "biggr", "Biggr",
          "bigm", "Bigm", "left", "right", "middle"}
#: token texts of a bar whose side the source gives (\\left| or \\lvert opens, \\right| or \\rvert closes)
_LBAR, _RBAR = "\\lvert", "\\rvert"
_RELATIONS = {"approx", "simeq", "sim", "cong", "neq", "ne", "leq", "le", "geq", "ge", "propto", "to", "mapsto",
              "rightarrow", "Rightarrow", "longrightarrow", "ll", "gg", "lesssim", "gtrsim", "in"}
_EQUALS = {"equiv", "coloneqq", "eqqcolon", "triangleq", "stackrel"}
_MATRIX_ENVS = {"pmatrix": False, "bmatrix": False, "Bmatrix": False, "matrix": False, "smallmatrix": False,
                "vmatrix": True}
_WRAPPER_ENVS = r"(?:equation|align|alignat|flalign|gather|multline|eqnarray|displaymath|math|aligned|split|gathered)\*?"
_MAX_MATRIX = 30

# text-level clean-up that keeps every position (matches are blanked, not cut out)
_BLANK = re.compile(
    r"(?<!\\)%[^\n]*"                                   # comments
    r"|\\(?:label|tag\*?|eqref)\{[^{}\\]*\}"            # labels and tags
    r"|\\(?:nonumber|notag)\b"
    r"|\\(?:begin|end)\{" + _WRAPPER_ENVS + r"\}(?:\{\d+\})?"
)
_OUTER = re.compile(r"^(\s*)(\$\$|\$|\\\[|\\\()(.*?)(\$\$|\$|\\\]|\\\))([\s,.;]*)$", re.DOTALL)
_TOKEN = re.compile(
    r"(?P<row>\\\\)|(?P<cmd>\\[A-Za-z]+)|(?P<ctl>\\[^A-Za-z])|(?P<num>\d+(?:\.\d+)?|\.\d+)"
    r"|(?P<letter>[A-Za-z])|(?P<ws>[ \t\n\r\f\v]+|~)|(?P<other>.)",
    re.DOTALL,
)
_SYMBOLS = set("+-*/^_(){}[],'=|&.;:!<>")
#: the most summands the sums of one claim may expand to
MAX_SUM_TERMS = 20_000


# --------------------------------------------------------------------------------------
# errors with a caret
# --------------------------------------------------------------------------------------


def caret(text: str, pos: int, width: int = 76) -> str:
    """The line of ``text`` holding ``pos`` with a caret under that character.

    >>> print(caret("a + * b", 4))
      a + * b
          ^
    """
    pos = max(0, min(pos, len(text)))
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start:end if end >= 0 else len(text)].replace("\t", " ")
    col = pos - start
    if len(line) > width:
        lo = max(0, min(col - width // 2, len(line) - width))
        line = ("..." if lo else "") + line[lo:lo + width] + ("..." if lo + width < len(line) else "")
        col = col - lo + (3 if lo else 0)
    return f"  {line.rstrip()}\n  {' ' * col}^"


def claim_error(message: str, text: str, pos: int) -> ClaimError:
    """A :class:`ClaimError` naming ``pos`` in ``text`` with a caret line.

    The error carries ``position`` (0-based character index) and ``source``.
    """
    err = ClaimError(f"{message} (position {pos}):\n{caret(text, pos)}")
    err.position = pos  # type: ignore[attr-defined]
    err.source = text  # type: ignore[attr-defined]
    return err


# --------------------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # cmd, num, letter, sym, row
    text: str
    pos: int
    end: int


def _blank(text: str) -> str:
    """Blank comments, labels, tags and the wrapper environments, keeping positions."""
    text = _BLANK.sub(lambda m: " " * len(m.group(0)), text)
    m = _OUTER.match(text)
    if m:
        pairs = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}
        if pairs[m.group(2)] == m.group(4):
            a, b = m.start(2), m.end(2)
            c, d = m.start(4), m.end(4)
            text = text[:a] + " " * (b - a) + text[b:c] + " " * (d - c) + text[d:]
    return text


_HOSTILE = re.compile(r"\\(" + "|".join(sorted(HOSTILE_COMMANDS, key=len, reverse=True)) + r")(?![A-Za-z])")


def _tokenize(source: str) -> list[_Tok]:
    bad = _HOSTILE.search(source)  # also inside comments and labels: refused wherever it is
    if bad:
        raise claim_error(f"\\{bad.group(1)} is refused: a claim may not read or write files or define macros",
                          source, bad.start())
    text = _blank(source)
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind, s, pos = m.lastgroup, m.group(0), m.start()
        if kind == "ws":
            continue
        if kind == "cmd":
            name = s[1:]
            if name in HOSTILE_COMMANDS:
                raise claim_error(f"\\{name} is refused: a claim may not read or write files or define macros", source, pos)
            if name in _SPACING:
                continue
            out.append(_Tok("cmd", name, pos, m.end()))
        elif kind == "ctl":
            c = s[1]
            if c in ",;:! \n\t\r":
                continue
            if c in "{}":
                out.append(_Tok("sym", "\\" + c, pos, m.end()))
            elif c == "_":  # only inside a model's symbol (\mathrm{my\_rate}); anywhere else unexpected
                out.append(_Tok("sym", "\\_", pos, m.end()))
            else:
                raise claim_error(f"{s!r} is not allowed here", source, pos)
        elif kind == "row":
            out.append(_Tok("row", s, pos, m.end()))
        elif kind in ("num", "letter"):
            out.append(_Tok(kind, s, pos, m.end()))
        elif s in _SYMBOLS:
            out.append(_Tok("sym", s, pos, m.end()))
        elif s in _UNICODE_OPS:
            t = _UNICODE_OPS[s]
            out.append(_Tok("sym", t, pos, m.end()) if t == "-" else _Tok("cmd", "cdot", pos, m.end()))
        elif s in _UNICODE_GREEK:
            out.append(_Tok("cmd", _UNICODE_GREEK[s], pos, m.end()))
        elif s == "\u03c0":
            out.append(_Tok("cmd", "pi", pos, m.end()))
        elif s in "\u2032\u2033\u2034":
            out.extend(_Tok("sym", "'", pos, m.end()) for _ in range("\u2032\u2033\u2034".index(s) + 1))
        elif s in "\u00b2\u00b3":
            out.append(_Tok("sym", "^", pos, pos))
            out.append(_Tok("num", "2" if s == "\u00b2" else "3", pos, m.end()))
        else:
            raise claim_error(f"character {s!r} is not allowed in a LaTeX claim", source, pos)
    return _delimiters(out, source)


#: size commands that open / close a pair: a bar after them is an explicit \\lvert / \\rvert
_OPENING_SIZES = {"left", "bigl", "Bigl", "biggl", "Biggl"}
_CLOSING_SIZES = {"right", "bigr", "Bigr", "biggr", "Biggr"}
_BARS = {"|": "|", "vert": "|", "lvert": _LBAR, "rvert": _RBAR}


def _delimiters(toks: list[_Tok], source: str) -> list[_Tok]:
    """Drop the size commands (\\left, \\bigl, ...) before delimiters.

    Bars keep their side where the source gives it: ``\\left|``, ``\\bigl|`` and ``\\lvert``
    become an opening bar, ``\\right|``, ``\\bigr|`` and ``\\rvert`` a closing one, so nested
    absolute values pair as written; a bare ``|`` or ``\\vert`` stays ambiguous.
    """
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        bar = None if nxt is None else _BARS.get(nxt.text) if nxt.kind == "cmd" or nxt.text == "|" else None
        if t.kind == "cmd" and t.text in _SIZES and bar is not None and nxt is not None:
            if t.text in _OPENING_SIZES:
                bar = _LBAR
            elif t.text in _CLOSING_SIZES:
                bar = _RBAR
            out.append(_Tok("sym", bar, t.pos, nxt.end))
            i += 2
            continue
        if t.kind == "cmd" and t.text in ("lvert", "rvert", "vert"):
            out.append(_Tok("sym", _BARS[t.text], t.pos, t.end))
        elif t.kind == "cmd" and t.text in ("lbrace", "rbrace"):
            out.append(_Tok("sym", "\\{" if t.text == "lbrace" else "\\}", t.pos, t.end))
        elif t.kind == "cmd" and t.text in ("lbrack", "rbrack"):
            out.append(_Tok("sym", "[" if t.text == "lbrack" else "]", t.pos, t.end))
        elif t.kind == "cmd" and t.text in _SIZES:
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            ok = nxt is not None and (
                (nxt.kind == "sym" and nxt.text in ("(", ")", "[", "]", "\\{", "\\}", "|"))
                or (nxt.kind == "cmd" and nxt.text in ("lvert", "rvert", "vert", "lbrace", "rbrace", "lbrack", "rbrack"))
            )
            if not ok:
                what = "end of input" if nxt is None else repr(nxt.text)
                if nxt is not None and nxt.text == ".":
                    raise claim_error(f"\\{t.text}. (an invisible delimiter) is not supported", source, nxt.pos)
                raise claim_error(f"\\{t.text} must be followed by a delimiter such as ( [ \\{{ |, found {what}",
                                  source, nxt.pos if nxt is not None else t.end)
        else:
            out.append(t)
        i += 1
    return out


# --------------------------------------------------------------------------------------
# names of results
# --------------------------------------------------------------------------------------

_KEY_DROP = re.compile(r"\\(?:left|right|mathrm|operatorname|mathit|mathbf|boldsymbol|bm|mathsf|rm|big|Big|bigl|bigr|Bigl|Bigr)\b|\\[,;:! ]|\s+|[{}]")


def name_key(name: str) -> str:
    r"""A canonical spelling of a result name, for matching a note's left sides to results.

    >>> name_key(r"K^{\prime}") == name_key("K'") == name_key("K′")
    True
    >>> name_key(r"H(\mathbf{v})"), name_key(r"\beta(u)")
    ('H(v)', 'beta(u)')
    """
    s = name.replace("\u2032", "'").replace("\u2033", "''")
    s = re.sub(r"\^\{?((?:\\prime\s*)+)\}?", lambda m: "'" * m.group(1).count("prime"), s)
    s = re.sub(r"\^\{?\s*\\(?:top|intercal)\s*\}?|\^\{?\s*\\math(?:sf|rm)\{T\}\s*\}?", "^T", s)
    s = _KEY_DROP.sub("", s)
    for ch, g in _UNICODE_GREEK.items():
        s = s.replace(ch, g)
    return s.replace("\\", "")


# --------------------------------------------------------------------------------------
# the reader
# --------------------------------------------------------------------------------------

_CLOSE = {"(": ")", "[": "]", "{": "}", "\\{": "\\}"}


#: the tokens of a model's LaTeX symbol (braces dropped), the names printing it, the symbol
_SymbolRow = tuple[tuple[tuple[str, str], ...], frozenset, str]


def symbol_table(symbols: Mapping[str, Any]) -> list[_SymbolRow]:
    r"""The lookup table of a model's LaTeX symbols, longest first.

    ``symbols`` maps each LaTeX symbol to the names of the layers and parameters that print
    it (:attr:`symrg.verify.parsing.Namespace.latex_symbols`, built from
    :func:`symrg.model.naming.model_symbols`: the user's ``latex_names`` or the default
    :func:`symrg.model.naming.latex_name`).  A symbol is compared token by token with
    its braces dropped (``	ilde{h}`` is ``	ilde h``); two names printing the same tokens
    share one row, which the reader refuses as ambiguous.  A one-letter symbol that is
    its own name (``v``, ``eta`` for ``beta``) is left to the ordinary reading of names.

    >>> [(k, sorted(n)) for k, n, _ in symbol_table({"h^{(1)}": {"h1"}, r"\tilde{h}": {"h2"}, "v": {"v"}})]
    [((('letter', 'h'), ('sym', '^'), ('sym', '('), ('num', '1'), ('sym', ')')), ['h1']), ((('cmd', 'tilde'), ('letter', 'h')), ['h2'])]
    """
    rows: dict[tuple, set] = {}
    tex_of: dict[tuple, str] = {}
    for tex, names in symbols.items():
        try:
            toks = _tokenize(tex)
        except ClaimError:  # a symbol the reader cannot tokenize cannot be written in a claim either
            continue
        key = tuple((t.kind, t.text) for t in toks if not (t.kind == "sym" and t.text in ("{", "}")))
        if key:
            rows.setdefault(key, set()).update(names)
            tex_of.setdefault(key, tex)
    out = [(k, frozenset(n), tex_of[k]) for k, n in rows.items()
           if not (len(k) == 1 and k[0][0] in ("letter", "cmd") and n == {k[0][1]})]
    return sorted(out, key=lambda r: (-len(r[0]), r[2]))


class _Reader:
    """Recursive descent over the tokens of one side of an equation."""

    def __init__(self, toks: Sequence[_Tok], ns: Namespace, source: str, end: int) -> None:
        self.toks = list(toks)
        self.i = 0
        self.ns = ns
        self.src = source
        self.end = end
        self.depth = 0
        self.bars = 0  # open |...| groups
        self.symbols = symbol_table(getattr(ns, "latex_symbols", None) or {})
        # index letters and their values: the namespace's free indices, then the sums' own
        self.bound: dict[str, int] = {str(k): int(v) for k, v in (getattr(ns, "indices", None) or {}).items()}
        self.terms = 0  # summands read so far (bounded by MAX_SUM_TERMS)

    # -- helpers ------------------------------------------------------------------------
    def peek(self, k: int = 0) -> _Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at(self, kind: str, text: str | None = None, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.kind == kind and (text is None or t.text == text)

    def take(self) -> _Tok:
        t = self.peek()
        if t is None:
            raise self.error("unexpected end of the formula", None)
        self.i += 1
        return t

    def error(self, msg: str, tok: _Tok | None) -> ClaimError:
        return claim_error(msg, self.src, tok.pos if tok is not None else self.end)

    def expect(self, kind: str, text: str, what: str) -> _Tok:
        t = self.peek()
        if t is None or t.kind != kind or t.text != text:
            found = "the end of the formula" if t is None else repr(t.text)
            raise self.error(f"expected {what}, found {found}", t)
        return self.take()

    def guard(self, tok: _Tok | None, fn: Callable, *args: Any) -> Any:
        """Run a building step; its errors get the position of ``tok``."""
        try:
            return fn(*args)
        except ClaimError as e:
            if getattr(e, "position", None) is not None:
                raise
            raise self.error(str(e), tok) from None
        except (TypeError, ValueError, sp.ShapeError, ZeroDivisionError) as e:
            raise self.error(f"not a valid expression: {e}", tok) from None

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the formula nests deeper than {MAX_DEPTH} levels", self.peek())

    # -- grammar --------------------------------------------------------------------------
    def read(self) -> Any:
        if not self.toks:
            raise self.error("empty formula", None)
        value = self.expr()
        t = self.peek()
        if t is not None:
            if t.text == _RBAR:
                raise self.error("a closing bar (\\right| or \\rvert) without its opening \\left| or \\lvert", t)
            raise self.error(f"unexpected {t.text!r}", t)
        return value

    def expr(self) -> Any:
        self.enter()
        t = self.peek()
        if self.at("sym", "-"):
            self.take()
            value = self.guard(t, _neg, self.term())
        else:
            if self.at("sym", "+"):
                self.take()
            value = self.term()
        while self.at("sym", "+") or self.at("sym", "-"):
            op = self.take()
            rhs = self.term()
            value = self.guard(op, _add, value, rhs if op.text == "+" else _neg(rhs))
        self.depth -= 1
        return value

    def starts_factor(self, bare: bool = False) -> bool:
        """Can the next token begin a factor of an implicit product?

        ``bare``: inside an unbracketed function argument (stops at functions and fractions).
        """
        t = self.peek()
        if t is None:
            return False
        if t.kind in ("num", "letter"):
            return True
        if t.kind == "sym":
            if t.text == "|":
                return self.bars == 0 and not bare
            if t.text == _LBAR:
                return not bare
            return t.text in ("(", "[", "{", "\\{")
        if t.kind != "cmd":
            return False
        if bare and (t.text in _COMMAND_FUNCTIONS or t.text in ("frac", "tfrac", "dfrac", "cfrac", "operatorname", "sqrt")):
            return False
        return t.text not in ("cdot", "times", "end") and t.text not in _RELATIONS and t.text not in _EQUALS

    def term(self) -> Any:
        value = self.signed()
        while True:
            t = self.peek()
            if t is None:
                return value
            if (t.kind == "cmd" and t.text in ("cdot", "times")) or (t.kind == "sym" and t.text == "*"):
                self.take()
                value = self.guard(t, _mul, value, self.signed())
            elif t.kind == "sym" and t.text == "/":
                self.take()
                value = self.guard(t, _div, value, self.signed())
            elif self.starts_factor():
                value = self.guard(t, _mul, value, self.postfix())
            else:
                return value

    def signed(self) -> Any:
        t = self.peek()
        if self.at("sym", "-"):
            self.take()
            return self.guard(t, _neg, self.signed())
        if self.at("sym", "+"):
            self.take()
            return self.signed()
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while True:
            t = self.peek()
            if t is not None and t.kind == "sym" and t.text == "^":
                self.take()
                value = self.superscript(value, t)
            elif t is not None and t.kind == "sym" and t.text == "'":
                raise self.error("a prime belongs to a name (K'); it cannot follow this expression", t)
            elif t is not None and t.kind == "sym" and t.text == "!":
                raise self.error("factorials are not supported", t)
            else:
                return value

    # -- scripts ----------------------------------------------------------------------------
    def _is_transpose_script(self) -> int:
        """Number of tokens of a transpose superscript (T, {T}, \\top, {\\mathsf{T}} ...) or 0."""
        texts = []
        for k in range(6):
            t = self.peek(k)
            texts.append(None if t is None else (t.kind, t.text))
        single = [("letter", "T"), ("cmd", "top"), ("cmd", "intercal"), ("cmd", "mathsf"), ("cmd", "mathrm")]
        if texts[0] in (("letter", "T"), ("cmd", "top"), ("cmd", "intercal")):
            return 1
        if texts[0] == ("sym", "{") and texts[1] in single[:3] and texts[2] == ("sym", "}"):
            return 3
        if texts[0] in (("cmd", "mathsf"), ("cmd", "mathrm")) and texts[1] == ("sym", "{") and texts[2] == ("letter", "T") and texts[3] == ("sym", "}"):
            return 4
        if (texts[0] == ("sym", "{") and texts[1] in (("cmd", "mathsf"), ("cmd", "mathrm")) and texts[2] == ("sym", "{")
                and texts[3] == ("letter", "T") and texts[4] == ("sym", "}") and texts[5] == ("sym", "}")):
            return 6
        return 0

    def script_value(self, what: str) -> Any:
        """The argument of ^ or _ : a braced group or one token (TeX reads one character)."""
        t = self.peek()
        if t is None:
            raise self.error(f"missing {what}", None)
        if t.kind == "sym" and t.text == "{":
            return self.group()
        if t.kind == "num":
            if len(t.text) > 1:
                raise self.error(f"write the {what} in braces, e.g. ^{{{t.text}}} (TeX reads one digit after ^)", t)
            self.take()
            return sp.Integer(t.text)
        if t.kind == "letter":
            self.take()
            return self.resolve(t.text, t)
        if t.kind == "cmd" and (t.text in _GREEK or t.text == "pi"):
            self.take()
            return self.greek(t)
        raise self.error(f"write the {what} in braces, e.g. ^{{...}}", t)

    def superscript(self, base: Any, hat: _Tok) -> Any:
        t = self.peek()
        n = self._is_transpose_script()
        if n and (_is_matrix(base) or "T" not in self.ns.names or (t is not None and t.kind == "cmd")):
            self.i += n
            return _transpose(base)
        if t is not None and t.kind == "cmd" and t.text == "prime":
            raise self.error("a prime belongs to a name (K^{\\prime}); it cannot follow this expression", t)
        exponent = self.script_value("exponent")
        return self.guard(hat, _pow, base, exponent)

    def group(self) -> Any:
        open_ = self.take()
        closer = _CLOSE[open_.text]
        value = self.expr()
        t = self.peek()
        if t is None or t.kind != "sym" or t.text != closer:
            found = "the end of the formula" if t is None else repr(t.text)
            raise self.error(f"expected {closer!r} to close the {open_.text!r} at position {open_.pos}, found {found}", t)
        self.take()
        return value

    def tex_argument(self, cmd: _Tok) -> Any:
        """One TeX argument: {...}, a single digit (\\frac14), a letter or a command."""
        t = self.peek()
        if t is None:
            raise self.error(f"\\{cmd.text} needs an argument", None)
        if t.kind == "sym" and t.text == "{":
            return self.group()
        if t.kind == "num":
            if len(t.text) > 1:  # \frac14: TeX takes one digit per argument
                rest = _Tok("num", t.text[1:], t.pos + 1, t.end)
                self.toks[self.i] = _Tok("num", t.text[0], t.pos, t.pos + 1)
                self.toks.insert(self.i + 1, rest)
            return self.number(self.take())
        if t.kind == "letter":
            self.take()
            return self.resolve(t.text, t)
        if t.kind == "cmd" and (t.text in _GREEK or t.text == "pi"):
            self.take()
            return self.greek(t)
        raise self.error(f"write the argument of \\{cmd.text} in braces", t)

    # -- atoms ------------------------------------------------------------------------------
    def number(self, t: _Tok) -> Any:
        if len(t.text) > MAX_DIGITS:
            raise self.error(f"number with more than {MAX_DIGITS} digits", t)
        nxt, after = self.peek(), self.peek(1)
        if (nxt is not None and nxt.kind == "letter" and nxt.text in "eE" and nxt.pos == t.end and after is not None
                and (after.kind == "num" or (after.kind == "sym" and after.text in "+-")) and after.pos == nxt.end):
            raise self.error(f"scientific notation {t.text}{nxt.text}... is not LaTeX (it would read as a product with e); "
                             f"write a power of ten, e.g. {t.text}\\times 10^{{-3}}", nxt)
        return sp.Rational(t.text) if "." in t.text else sp.Integer(t.text)

    def resolve(self, name: str, tok: _Tok) -> Any:
        if name == "e" and "e" not in self.ns.names:
            # a bare e is a name; Euler's number is e^{...}, \mathrm{e} or \exp
            if self.ns.strict:
                raise self.error("unknown name 'e' (write \\mathrm{e} or e^{...} for Euler's number)", tok)
            sym = sp.Symbol("e", real=True)
            self.ns.names["e"] = sym
            return sym
        return self.guard(tok, self.ns.resolve, name)

    def greek(self, t: _Tok) -> Any:
        if t.text == "pi":
            return self.ns.names.get("pi", sp.pi)
        return self.name(t.text, t)

    def primes(self) -> str:
        """Primes after a name: ', '', ^{\\prime}, ^\\prime, ^{\\prime\\prime}."""
        out = ""
        while True:
            if self.at("sym", "'"):
                self.take()
                out += "'"
            elif self.at("sym", "^") and self.at("cmd", "prime", 1):
                self.i += 2
                out += "'"
            elif self.at("sym", "^") and self.at("sym", "{", 1) and self.at("cmd", "prime", 2):
                k = 2
                n = 0
                while self.at("cmd", "prime", k):
                    k += 1
                    n += 1
                if not self.at("sym", "}", k):
                    return out
                self.i += k + 1
                out += "'" * n
            else:
                return out

    def subscript(self) -> tuple[str, str]:
        """The subscript text: (as written for names, plain) -- ``{ij}`` / ``ij``."""
        t = self.peek()
        if t is None:
            raise self.error("missing subscript", None)
        if t.kind == "sym" and t.text == "{":
            self.take()
            parts = []
            while not self.at("sym", "}"):
                u = self.take()
                if u.kind in ("num", "letter") or (u.kind == "sym" and u.text in ",=") or u.kind == "cmd" and u.text in _GREEK:
                    parts.append(u.text)
                else:
                    raise self.error("a subscript may hold letters, digits and commas only", u)
            self.take()
            if not parts:
                raise self.error("empty subscript", t)
            plain = "".join(parts)
            return "{" + plain + "}", plain
        self.take()
        if t.kind == "num":
            if len(t.text) > 1:
                raise self.error(f"write the subscript in braces, e.g. _{{{t.text}}} (TeX reads one digit after _)", t)
            return t.text, t.text
        if t.kind == "letter" or (t.kind == "cmd" and t.text in _GREEK):
            return t.text, t.text
        raise self.error("bad subscript", t)

    def name(self, base: str, tok: _Tok) -> Any:
        primes = self.primes()
        sub = plain = ""
        if self.at("sym", "_"):
            self.take()
            sub, plain = self.subscript()
            primes += self.primes()
        if not sub:
            return self.resolve(base + primes, tok)
        if primes:
            return self.resolve(f"{base}_{sub if len(plain) > 1 else plain}{primes}", tok)
        ns = self.ns
        for c in (f"{base}_{sub}", f"{base}_{plain}"):
            if c in ns.names:
                return ns.names[c]
        bound = self.bound_indices(plain, tok)
        if bound is not None:  # W_{ik} inside \sum_{k=1}^{n}
            if (base, bound) in ns.entries:
                return ns.entries[(base, bound)]
            return self.guard(tok, ns.entry, base, bound)
        if "," in plain and all(p.isdigit() for p in plain.split(",")):
            return self.guard(tok, ns.entry, base, tuple(int(p) for p in plain.split(",")))
        if sub.startswith("{") and plain.isdigit() and (base, tuple(int(ch) for ch in plain)) in ns.entries:
            return ns.entries[(base, tuple(int(ch) for ch in plain))]
        if plain.isdigit() and (base, (int(plain),)) in ns.entries:
            return ns.entries[(base, (int(plain),))]
        obj = ns.names.get(base)
        if plain.isdigit() and isinstance(obj, sp.MatrixSymbol) and obj.shape[1].is_Integer:
            # an entry of an explicit matrix without its own symbol (a named intermediate: C_{12})
            per_digit = obj.shape[1] != 1 and len(plain) > 1
            return self.guard(tok, ns.entry, base, tuple(int(ch) for ch in plain) if per_digit else (int(plain),))
        wide = sub.startswith("{") and ("," in plain or (plain.isdigit() and len(plain) > 1) or len(plain) > 1)
        return self.resolve(f"{base}_{sub}" if wide else f"{base}_{plain}", tok)

    def word(self, cmd: _Tok) -> str:
        """The braced word after \\operatorname, \\mathrm, \\mathbf ..."""
        if not self.at("sym", "{"):
            t = self.peek()
            if t is not None and t.kind in ("letter", "num"):
                self.take()
                return t.text
            raise self.error(f"\\{cmd.text} needs a braced word", t)
        self.take()
        word = ""
        while self.at("letter") or self.at("num"):
            word += self.take().text
        self.expect("sym", "}", f"'}}' after \\{cmd.text}{{{word}")
        if not word:
            raise self.error(f"empty \\{cmd.text}{{}}", cmd)
        return word

    # -- the model's own symbols -------------------------------------------------------------
    def _match(self, key: tuple, start: int) -> int | None:
        """The index after the symbol ``key`` written at ``start`` (braces skipped), or None."""
        k, depth, n = start, 0, 0
        while n < len(key):
            if k >= len(self.toks):
                return None
            t = self.toks[k]
            if t.kind == "sym" and t.text == "{":
                depth += 1
            elif t.kind == "sym" and t.text == "}":
                if depth == 0:
                    return None
                depth -= 1
            elif (t.kind, t.text) != key[n]:
                return None
            else:
                n += 1
            k += 1
        while depth and k < len(self.toks) and self.toks[k].kind == "sym" and self.toks[k].text == "}":
            depth -= 1
            k += 1
        return k if depth == 0 else None

    def model_symbol(self) -> Any:
        """A layer, parameter or entry written with the model's LaTeX symbol, or None.

        ``h^{(1)}_{2}`` is the unit ``h1_2``, ``W^{(v,h^{(1)})}_{1,2}`` the entry
        ``W_vh1_{12}``, ``\tilde h_{2}`` the unit ``h1_2`` when ``h1`` prints as
        ``\tilde h``; the longest symbol written here wins.
        """
        start = self.i
        for key, names, tex in self.symbols:
            end = self._match(key, start)
            if end is not None:
                break
        else:
            return None
        tok = self.toks[start]
        if len(names) > 1:
            raise self.error(f"the symbol {tex} is ambiguous: the model prints {' and '.join(sorted(names))} "
                             "with it (give them different latex_names)", tok)
        name = next(iter(names))
        self.i = end
        if not self.at("sym", "_"):
            return self.guard(tok, self.ns.resolve, name)
        self.take()
        sub_tok = self.peek()
        _, plain = self.subscript()
        parts = plain.split(",")
        bound = self.bound_indices(plain, sub_tok)
        if bound is None and not all(p.isdigit() for p in parts):
            raise self.error(f"an entry of {tex} ({name}) is written with numbers, e.g. {tex}_{{1}}, or with the "
                             f"indices of a sum; found the subscript {plain!r}", sub_tok)
        obj = self.ns.names.get(name)
        shape = obj.shape if isinstance(obj, sp.MatrixSymbol) else None
        if bound is not None:
            options = [bound]
        elif len(parts) > 1:
            options = [tuple(int(p) for p in parts)]
        elif shape is not None and shape[1] == 1:
            options = [(int(plain),)]  # a layer or a field: one index, as printed (h^{(1)}_{12})
        elif shape is not None:
            options = [tuple(int(ch) for ch in plain)]  # a matrix printed without commas: one digit each
        else:
            options = [(int(plain),)] + ([tuple(int(ch) for ch in plain)] if len(plain) > 1 else [])
        found = {o: self.ns.entries[(name, o)] for o in options if (name, o) in self.ns.entries}
        if len(set(found.values())) > 1:
            raise self.error(f"{tex}_{{{plain}}} is ambiguous: write the indices with commas", sub_tok)
        if found:
            return next(iter(found.values()))
        return self.guard(sub_tok, self.ns.entry, name, options[-1])

    # -- sums over indices -------------------------------------------------------------------
    def bound_indices(self, plain: str, tok: _Tok | None) -> tuple[int, ...] | None:
        """The numeric indices of a subscript written with index letters (``ik``, ``i,2``), or
        None when it holds no letter bound by a sum or by the namespace's ``indices``."""
        parts = plain.split(",") if "," in plain else list(plain)
        if not any(p in self.bound for p in parts):
            return None
        out = []
        for p in parts:
            if p.isdigit():
                out.append(int(p))
            elif p in self.bound:
                out.append(self.bound[p])
            else:
                raise self.error(f"the index {p!r} of the subscript {plain!r} is not bound by a sum (or given "
                                 "as a free index)", tok)
        return tuple(out)

    def bound_number(self, what: str) -> int:
        """A numeric bound of a sum: a number, or one in braces."""
        t = self.peek()
        braced = t is not None and t.kind == "sym" and t.text == "{"
        if braced:
            self.take()
            t = self.peek()
        if t is None or t.kind != "num" or "." in t.text or len(t.text) > 6:
            raise self.error(f"the {what} of a sum must be a whole number (sums over symbolic ranges are not "
                             "read)", t)
        self.take()
        if braced:
            self.expect("sym", "}", f"'}}' after the {what} of the sum")
        return int(t.text)

    def summation(self, cmd: _Tok) -> Any:
        r"""``\sum_{k=1}^{n}``, ``\sum_{k,l=1}^{n}`` or ``\sum_{1 \le i < j \le n}`` of the
        product that follows (as :meth:`term` reads it), with numeric bounds: the summand is
        read once for every value of its indices."""
        self.expect("sym", "_", "the range of the sum, \\sum_{k=1}^{n}")
        self.expect("sym", "{", "'{' after \\sum_")
        letters: list[str] = []
        pairs = self.at("num")
        if pairs:  # 1 \le i < j \le n
            lo = self.bound_number("lower bound")
            for step in ("le", "letter", "<", "letter", "le"):
                t = self.peek()
                if step == "letter" and t is not None and t.kind == "letter":
                    letters.append(self.take().text)
                elif step == "<" and t is not None and t.kind == "sym" and t.text == "<":
                    self.take()
                elif step == "le" and t is not None and t.kind == "cmd" and t.text in ("le", "leq"):
                    self.take()
                else:
                    raise self.error("expected \\sum_{1 \\le i < j \\le n}", t)
            hi = self.bound_number("upper bound")
            self.expect("sym", "}", "'}' closing the range of the sum")
            n = max(0, hi - lo + 1)
            count = n * (n - 1) // 2
        else:
            while True:
                t = self.peek()
                if t is None or t.kind != "letter":
                    raise self.error("expected an index letter in \\sum_{k=1}^{n}", t)
                letters.append(self.take().text)
                if not self.at("sym", ","):
                    break
                self.take()
            self.expect("sym", "=", "'=' in \\sum_{k=1}^{n}")
            lo = self.bound_number("lower bound")
            self.expect("sym", "}", "'}' closing the range of the sum")
            self.expect("sym", "^", "the upper bound of the sum, \\sum_{k=1}^{n}")
            hi = self.bound_number("upper bound")
            count = max(0, hi - lo + 1) ** min(len(letters), 8)
        if len(set(letters)) != len(letters) or any(k in self.bound for k in letters):
            raise self.error(f"the indices {', '.join(letters)} of the sum are already in use", cmd)
        self.terms += count
        if count > MAX_SUM_TERMS or self.terms > MAX_SUM_TERMS:
            raise self.error(f"the sums of the claim have more than {MAX_SUM_TERMS} terms in all", cmd)
        values: list = (list(itertools.combinations(range(lo, hi + 1), 2)) if pairs
                        else list(itertools.product(range(lo, hi + 1), repeat=len(letters))))
        start, end = self.i, None
        total: Any = sp.S.Zero
        for vals in values or [None]:
            self.i = start
            if vals is not None:
                self.bound.update(zip(letters, vals))
            try:
                if vals is None:  # an empty range: the summand is still read (and checked), at the lower bound
                    self.bound.update({k: lo for k in letters})
                value = self.term()
            finally:
                for k in letters:
                    self.bound.pop(k, None)
            end = self.i
            if vals is not None:
                total = self.guard(cmd, _add, total, value)
        self.i = end if end is not None else start
        return total

    def primary(self) -> Any:
        t = self.peek()
        if t is None:
            raise self.error("unexpected end of the formula (an operand is missing)", None)
        if self.symbols and (t.kind in ("letter", "cmd") or (t.kind == "sym" and t.text == "{")):
            value = self.model_symbol()
            if value is not None:
                return value
        if t.kind == "num":
            return self.number(self.take())
        if t.kind == "letter":
            self.take()
            if t.text == "e" and "e" not in self.ns.names and self.at("sym", "^"):
                hat = self.take()
                return self.guard(hat, FUNCTIONS["exp"], self.script_value("exponent"))
            return self.name(t.text, t)
        if t.kind == "sym":
            if t.text in _CLOSE:
                return self.group()
            if t.text in ("|", _LBAR):
                return self.bars_group()
            if t.text == _RBAR:
                raise self.error("a closing bar (\\right| or \\rvert) without its opening \\left| or \\lvert", t)
            if t.text == "=":
                raise self.error("unexpected '=' (one '=' per side; chains a = b = c are read by read_equations)", t)
            raise self.error(f"unexpected {t.text!r} (an operand is missing)", t)
        if t.kind == "row":
            raise self.error("unexpected line break \\\\", t)
        cmd = t.text
        if cmd in ("frac", "tfrac", "dfrac", "cfrac"):
            self.take()
            num = self.tex_argument(t)
            den = self.tex_argument(t)
            return self.guard(t, _div, num, den)
        if cmd == "sqrt":
            self.take()
            if self.at("sym", "["):
                bracket = self.peek()
                n = self.group()
                arg = self.tex_argument(t)
                if n == 0:
                    raise self.error("\\sqrt[0] is undefined", bracket)
                return self.guard(t, _pow, _scalar(arg, "a root"), sp.Integer(1) / n)
            return self.guard(t, FUNCTIONS["sqrt"], self.tex_argument(t))
        if cmd == "pi" or cmd in _GREEK:
            self.take()
            if cmd == "Gamma" and self.at("sym", "(") and "Gamma" not in self.ns.names:
                raise self.error("\\Gamma(...) reads as the Gamma function, which claims cannot use; "
                                 "write \\Gamma \\cdot (...) for a product", t)
            return self.greek(t)
        if cmd in ("operatorname", "mathrm", "mathit", "mathbf", "boldsymbol", "bm", "mathsf", "mathbb", "rm"):
            self.take()
            word = self.word(t)
            if cmd in ("operatorname", "mathrm") and word in _FUNCTIONS:
                return self.apply(word, t)
            if cmd == "operatorname":
                raise self.error(f"unknown function \\operatorname{{{word}}}; allowed: {', '.join(sorted(_FUNCTIONS))}", t)
            if word == "e" and cmd == "mathrm" and "e" not in self.ns.names:
                if self.at("sym", "^"):
                    hat = self.take()
                    return self.guard(hat, FUNCTIONS["exp"], self.script_value("exponent"))
                return sp.E
            if word in ("1", "I") and cmd in ("mathbf", "mathbb", "boldsymbol", "bm") and "I" not in self.ns.names:
                return sp.S.One
            if word.isdigit():
                return self.number(_Tok("num", word, t.pos, t.end))
            if cmd in ("mathrm", "mathit", "rm") and len(word) > 1 and word not in self.ns.names:
                # an upright word is a function or a known name, never a new symbol
                raise self.error(f"\\{cmd}{{{word}}} is neither a known function nor a known name", t)
            return self.name(word, t)
        if cmd in _COMMAND_FUNCTIONS:
            self.take()
            return self.apply(cmd, t)
        if cmd == "sum":
            self.take()
            return self.summation(t)
        if cmd == "begin":
            return self.matrix()
        if cmd in _RELATIONS or cmd in _EQUALS:
            raise self.error(f"unexpected relation \\{cmd}", t)
        known = ""
        if self.symbols:  # the model's symbols are what a claim copied from its LaTeX uses
            shown = sorted(tex for _, _, tex in self.symbols)
            known = f"; the model's symbols: {', '.join(shown[:12])}{', ...' if len(shown) > 12 else ''}"
        raise self.error(f"LaTeX command \\{cmd} is not supported (allowed: \\frac, \\sqrt, \\log, \\ln, \\exp, "
                         "\\cosh, \\sinh, \\tanh, \\det, \\operatorname{...}, \\left( \\right), \\cdot, \\pi, "
                         f"Greek letters){known}", t)

    def bars_group(self) -> Any:
        open_ = self.take()
        if open_.text == _LBAR:
            # the source says where this group closes: inside, bare bars start over
            saved, self.bars = self.bars, 0
            value = self.expr()
            self.bars = saved
            if not self.at("sym", _RBAR):
                t = self.peek()
                found = "the end of the formula" if t is None else repr(t.text)
                raise self.error(f"expected \\right| (or \\rvert) to close the \\left| at position {open_.pos}, "
                                 f"found {found}", t)
            self.take()
            return self.guard(open_, FUNCTIONS["abs"], value)
        self.bars += 1  # inside, a bar opens a nested group only after an operator
        value = self.expr()
        self.bars -= 1
        if not self.at("sym", "|"):
            raise self.error(f"expected '|' to close the '|' at position {open_.pos}", self.peek())
        self.take()
        return self.guard(open_, FUNCTIONS["abs"], value)

    def apply(self, fname: str, tok: _Tok) -> Any:
        """A function and its argument: \\cosh 2K, \\cosh^2 h, \\ln(x), \\log_2 x, \\tanh^{-1} x."""
        power = None
        base = None
        hat = None
        if self.at("sym", "_") and fname in ("log", "ln"):
            self.take()
            base = self.script_value("base of the logarithm")
        if self.at("sym", "^"):
            hat = self.take()
            power = self.script_value("power of the function")
            if power == -1:
                if fname not in _INVERSE:
                    raise self.error(f"\\{fname}^{{-1}} is ambiguous (inverse function or reciprocal?); write powers of "
                                     f"functions explicitly, e.g. (\\{fname} x)^{{-1}}", hat)
                fname, power = _INVERSE[fname], None
        fn = _FUNCTIONS[fname]
        t = self.peek()
        if t is None:
            raise self.error(f"\\{tok.text} needs an argument", None)
        if t.kind == "sym" and (t.text in _CLOSE or t.text in ("|", _LBAR)):
            arg = self.primary()
        elif t.kind == "cmd" and (t.text in _COMMAND_FUNCTIONS or t.text == "operatorname"):
            arg = self.primary()
            if self.starts_factor():
                raise self.error(f"ambiguous argument of \\{tok.text}: write \\{tok.text}(...) with brackets around "
                                 "everything it applies to", self.peek())
        else:
            if not self.starts_factor(bare=False) or (t.kind == "cmd" and t.text in ("cdot", "times")):
                raise self.error(f"\\{tok.text} needs an argument", t)
            arg = self.postfix()
            if (fname in ("log", "ln") and isinstance(arg, sp.Number) and self.at("cmd")
                    and (p := self.peek()) is not None and p.text in _COMMAND_FUNCTIONS):
                # \ln 2\cosh x is log(2 cosh x), as papers mean it
                nxt = self.peek()
                arg = self.guard(nxt, _mul, arg, self.postfix())
            while self.starts_factor(bare=True):
                nxt = self.peek()
                arg = self.guard(nxt, _mul, arg, self.postfix())
            if self.at("sym", "/"):
                raise self.error(f"ambiguous: does the '/' belong to the argument of \\{tok.text}? write \\{tok.text}(...) "
                                 "with brackets", self.peek())
        value = self.guard(tok, fn, arg)
        if base is not None:
            value = self.guard(tok, _div, value, FUNCTIONS["log"](base))
        if power is not None:
            value = self.guard(hat, _pow, value, power)
        return value

    def matrix(self) -> Any:
        begin = self.take()
        self.expect("sym", "{", "'{' after \\begin")
        env = ""
        while self.at("letter"):
            env += self.take().text
        if env not in _MATRIX_ENVS:
            raise self.error(f"environment {env!r} is not supported inside a formula (matrices: "
                             f"{', '.join(sorted(_MATRIX_ENVS))})", begin)
        self.expect("sym", "}", f"'}}' after \\begin{{{env}")
        rows: list[list[Any]] = [[]]
        while True:
            cell = self.peek()
            value = self.expr()
            rows[-1].append(self.guard(cell, _scalar, value, "a matrix entry"))
            t = self.peek()
            if t is not None and t.kind == "sym" and t.text == "&":
                self.take()
            elif t is not None and t.kind == "row":
                self.take()
                if self.at("cmd", "end"):
                    break
                rows.append([])
            elif t is not None and t.kind == "cmd" and t.text == "end":
                break
            else:
                raise self.error(f"expected '&', '\\\\' or \\end{{{env}}} in the matrix", t)
            if len(rows) > _MAX_MATRIX or len(rows[-1]) > _MAX_MATRIX:
                raise self.error(f"matrices are limited to {_MAX_MATRIX} x {_MAX_MATRIX}", t)
        self.take()
        self.expect("sym", "{", "'{' after \\end")
        word = ""
        while self.at("letter"):
            word += self.take().text
        self.expect("sym", "}", f"'}}' after \\end{{{word}")
        if word != env:
            raise self.error(f"\\begin{{{env}}} is closed by \\end{{{word}}}", begin)
        if len({len(r) for r in rows}) != 1:
            raise self.error("the rows of the matrix have different lengths", begin)
        m = sp.ImmutableMatrix(rows)
        if _MATRIX_ENVS[env]:
            if m.rows != m.cols:
                raise self.error("vmatrix (a determinant) needs a square matrix", begin)
            return m.det(method="berkowitz")
        return m


# --------------------------------------------------------------------------------------
# equations
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatexEquation:
    r"""One equation of a formula or note: ``lhs = side_1 = side_2 ...``.

    Attributes
    ----------
    name : str or None
        The left side as a result name (``"K'"``, ``"H(v)"``) when it is one.
    lhs : object or None
        The left side read as an expression when it is not a bare name (``\tanh K'``).
    sides : tuple
        The right-hand sides, read (several for a chain ``a = b = c``).
    texts : tuple of str
        The source text of each right-hand side.
    position : int
        Where the equation starts in the source.
    lhs_text : str
        The source text of the left side ("" when there is no '=').
    """

    name: str | None
    lhs: Any
    sides: tuple
    texts: tuple
    position: int
    lhs_text: str = ""


def _rows(toks: list[_Tok]) -> list[list[_Tok]]:
    """Split at top-level \\\\ (not inside matrices); drop the alignment marks &."""
    rows: list[list[_Tok]] = [[]]
    envs = 0
    for t in toks:
        if t.kind == "cmd" and t.text == "begin":
            envs += 1
        elif t.kind == "cmd" and t.text == "end":
            envs -= 1
        if envs == 0 and t.kind == "row":
            rows.append([])
        elif envs == 0 and t.kind == "sym" and t.text == "&":
            continue
        else:
            rows[-1].append(t)
    return [r for r in rows if r]


def _strip_punctuation(row: list[_Tok]) -> list[_Tok]:
    while row and row[-1].kind == "sym" and row[-1].text in ",.;":
        row = row[:-1]
    return row


def _sides(row: list[_Tok], source: str) -> list[list[_Tok]]:
    """Split a row at its top-level '=' (also \\equiv and :=)."""
    sides: list[list[_Tok]] = [[]]
    depth = 0
    envs = 0
    k = 0
    while k < len(row):
        t = row[k]
        if t.kind == "sym" and t.text in ("(", "[", "{", "\\{"):
            depth += 1
        elif t.kind == "sym" and t.text in (")", "]", "}", "\\}"):
            depth -= 1
        elif t.kind == "cmd" and t.text == "begin":
            envs += 1
        elif t.kind == "cmd" and t.text == "end":
            envs -= 1
        if depth == 0 and envs == 0:
            if t.kind == "sym" and t.text == ":" and k + 1 < len(row) and row[k + 1].text == "=":
                sides.append([])
                k += 2
                continue
            if (t.kind == "sym" and t.text == "=") or (t.kind == "cmd" and t.text in _EQUALS):
                if t.text == "stackrel":
                    raise claim_error("\\stackrel is not supported; write '='", source, t.pos)
                sides.append([])
                k += 1
                continue
            if (t.kind == "cmd" and t.text in _RELATIONS) or (t.kind == "sym" and t.text in "<>"):
                raise claim_error(f"only '=' claims are verified, found the relation {t.text!r}", source, t.pos)
        sides[-1].append(t)
        k += 1
    return sides


def _lhs_name(toks: list[_Tok]) -> str | None:
    """The left side as a result name, when it is one: K', K_0', J_{ij}, H(v), \\beta(u)."""
    k = 0

    def at(kind: str, text: str | None = None) -> bool:
        return k < len(toks) and toks[k].kind == kind and (text is None or toks[k].text == text)

    if at("letter") or (at("cmd") and toks[k].text in _GREEK):
        base = toks[k].text
        k += 1
    elif at("cmd") and toks[k].text in ("mathrm", "mathbf", "mathit", "operatorname", "mathcal", "mathsf", "bm",
                                        "boldsymbol") and k + 3 < len(toks):
        k += 1
        if not at("sym", "{"):
            return None
        k += 1
        base = ""
        while at("letter") or at("num"):
            base += toks[k].text
            k += 1
        if not at("sym", "}") or not base:
            return None
        k += 1
    else:
        return None
    out = base
    while k < len(toks):
        t = toks[k]
        if t.kind == "sym" and t.text == "'":
            out += "'"
            k += 1
        elif t.kind == "sym" and t.text in "_^":
            k += 1
            if k >= len(toks):
                return None
            if toks[k].kind == "sym" and toks[k].text == "{":
                depth, j = 0, k
                while j < len(toks):
                    if toks[j].text == "{":
                        depth += 1
                    elif toks[j].text == "}":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                inner = "".join(("\\" + u.text if u.kind == "cmd" else u.text) for u in toks[k + 1:j])
                if t.text == "^" and not re.fullmatch(r"(\\prime)+", inner):
                    return None
                out += "'" * inner.count("prime") if t.text == "^" else "_{" + inner + "}"
                k = j + 1
            else:
                u = toks[k]
                if t.text == "^":
                    if not (u.kind == "cmd" and u.text == "prime"):
                        return None
                    out += "'"
                else:
                    out += "_" + (("\\" + u.text) if u.kind == "cmd" else u.text)
                k += 1
        elif t.kind == "sym" and t.text == "(":
            j = k
            depth = 0
            while j < len(toks):
                if toks[j].text == "(":
                    depth += 1
                elif toks[j].text == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j != len(toks) - 1:
                return None
            inner = "".join(("\\" + u.text if u.kind == "cmd" else u.text) for u in toks[k + 1:j])
            if not re.fullmatch(r"[A-Za-z0-9_,'{}\\^()]+", inner):  # H(v, h^{(1)}): layers' symbols
                return None
            return name_key(out + "(" + inner + ")")
        else:
            return None
    return name_key(out)


def read_equations(text: str, namespace: Namespace | Mapping | None = None, read: bool = True) -> list[LatexEquation]:
    r"""Every equation of a LaTeX formula (rows of ``align``, chains ``a = b = c``).

    A row that begins with ``=`` (``&= ...``) continues the previous equation.  With
    ``read=False`` only the structure is returned (names and texts; ``sides == ()`` and
    ``lhs`` None): the sides can then be read with the names of the result they are
    compared with.

    >>> [(e.name, e.sides) for e in read_equations(r"\begin{align} K' &= \tfrac12\ln\cosh 2K \\ &= \ln\sqrt{\cosh 2K}, \\ h' &= 0 . \end{align}")]
    [("K'", (log(cosh(2*K))/2, log(sqrt(cosh(2*K))))), ("h'", (0,))]
    """
    source = _precheck(text, "LaTeX")
    ns = _namespace(namespace)
    toks = _tokenize(source)
    for k, t in enumerate(toks):
        # model.latex() appends ", \quad \text{where } C = ..." (its intermediates' definitions)
        word = "".join(u.text for u in toks[k + 2:k + 7]) if t.kind == "cmd" and t.text in ("text", "mathrm") else ""
        if word.startswith("where") and k + 1 < len(toks) and toks[k + 1].text == "{":
            raise claim_error("the formula goes on with definitions (\\text{where} ...); claim the right-hand "
                              "side alone (model.rhs_latex()) and each definition separately", source, t.pos)
    out: list[LatexEquation] = []

    def side(p: list[_Tok], row: list[_Tok]) -> tuple:
        return (_read_side(p, ns, source, row),) if read else ()

    for row in _rows(toks):
        row = _strip_punctuation(row)
        if not row:
            continue
        parts = _sides(row, source)
        if not parts[0]:
            if len(parts) < 2:
                continue
            if not out:
                raise claim_error("nothing on the left of '='", source, row[0].pos)
            prev = out.pop()
            sides, texts = prev.sides, prev.texts
            for p in parts[1:]:
                sides += side(p, row)
                texts += (_span(p, source),)
            out.append(LatexEquation(prev.name, prev.lhs, sides, texts, prev.position, prev.lhs_text))
            continue
        if len(parts) == 1:
            out.append(LatexEquation(None, None, side(parts[0], row), (_span(parts[0], source),), row[0].pos))
            continue
        for p in parts[1:]:
            if not p:
                raise claim_error("nothing on the right of '='", source, row[-1].end)
        name = _lhs_name(parts[0])
        lhs = _read_side(parts[0], ns, source, row) if name is None and read else None
        sides = tuple(x for p in parts[1:] for x in side(p, row))
        out.append(LatexEquation(name, lhs, sides, tuple(_span(p, source) for p in parts[1:]), row[0].pos,
                                 _span(parts[0], source)))
    if not out:
        raise ClaimError("the claim is empty")
    return out


def _span(toks: list[_Tok], source: str) -> str:
    return source[toks[0].pos:toks[-1].end].strip() if toks else ""


def _read_side(toks: list[_Tok], ns: Namespace, source: str, row: list[_Tok]) -> Any:
    end = toks[-1].end if toks else (row[-1].end if row else len(source))
    try:
        value = _Reader(toks, ns, source, end).read()
    except RecursionError:
        raise claim_error("the formula nests too deeply", source, toks[0].pos if toks else 0) from None
    try:
        return _finish(value)  # the last checks of the parser (I used as a scalar)
    except ClaimError as e:
        raise claim_error(str(e), source, toks[0].pos if toks else 0) from None


def read_latex(text: str, namespace: Namespace | Mapping | None = None) -> Any:
    r"""Read one claim written in LaTeX as papers write it (see the module docstring).

    A left-hand side that is a name (``K' = ...``) is dropped: it names the result the
    claim is compared with.  Several equations, or a chain ``a = b = c``, are refused
    here; :func:`read_equations` and :mod:`symrg.verify.notes` check those.

    >>> read_latex(r"$\cosh^2 h - \sinh^{2} h$")
    -sinh(h)**2 + cosh(h)**2
    >>> read_latex(r"x + * y")
    Traceback (most recent call last):
    ...
    symrg.errors.ClaimError: unexpected '*' (an operand is missing) (position 4):
      x + * y
          ^
    """
    eqs = read_equations(text, namespace)
    if len(eqs) > 1:
        raise claim_error(f"the claim holds {len(eqs)} equations; check them one at a time, or as notes "
                          "(symrg.verify.notes.check_notes)", text, eqs[1].position)
    eq = eqs[0]
    if eq.lhs is not None:
        raise claim_error("the left side of '=' is an expression, not the name of a result; compare the two sides "
                          "with verify(lhs, rhs), or check the equation as part of notes", text, eq.position)
    if len(eq.sides) > 1:
        raise claim_error("a chain a = b = c holds several claims; check them one at a time, or as notes",
                          text, eq.position)
    return eq.sides[0]


# --------------------------------------------------------------------------------------
# sympy syntax as people type it
# --------------------------------------------------------------------------------------

_PY_TOKEN = re.compile(
    r"(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[^\W\d]\w*)|(?P<ws>[ \t\n\r\f\v]+)"
    r"|(?P<op>\*\*|==|!=|<=|>=|:=|//|[-+*/^@().,\[\]{}=<>:;%&|~!'\"`#$?\\])|(?P<other>.)",
    re.DOTALL,
)
_PRIME_TAG = "Prime"


def normalize_sympy_syntax(text: str) -> tuple[str, list[int], dict[str, str]]:
    """Rewrite a hand-typed sympy-syntax claim into Python syntax, keeping positions.

    Inserts ``*`` for implicit products after a number or a closing bracket (``2K``,
    ``2 cosh(K)``, ``(a)(b)``, ``K'(1 + h)``; two names side by side, ``x y``, stay an error),
    turns ``^`` into ``**``, the Unicode minus and times into ``-`` and ``*``, Greek
    letters into their names (``α`` -> ``alpha``), and primed names (``K'``) into
    placeholder identifiers.  A left side that names the result (``K' = ...``) is
    dropped.  Returns the text, the position in ``text`` of every output character, and
    the placeholder names (``{placeholder: "K'"}``).  Nothing is evaluated: the output
    still goes through the whitelist of :mod:`symrg.verify.parsing`.

    >>> normalize_sympy_syntax("K' = 2K*tanh(h)^2 − 1")[0]
    '2*K*tanh(h)**2 - 1'
    """
    toks: list[tuple[str, str, int]] = []
    for m in _PY_TOKEN.finditer(text):
        kind, s = m.lastgroup or "", m.group(0)  # every alternative of _PY_TOKEN is named
        if kind == "other" and s in _UNICODE_OPS:
            kind, s = "op", _UNICODE_OPS[s]
        elif kind == "name":
            for ch, g in _UNICODE_GREEK.items():
                s = s.replace(ch, g)
            s = s.replace("\u03c0", "pi")
        elif kind == "other" and s == "\u2032":
            kind, s = "op", "'"
        toks.append((kind, s, m.start()))
    quotes = [k for k, t in enumerate(toks) if t[1] in ("'", '"')]
    # a quote is a prime only right after a name (or another prime) and not right before one;
    # any other quote opens a string, and then nothing is rewritten (the whitelist refuses
    # the string literal)
    primes_ok = all(
        toks[k][1] == "'" and k > 0 and (toks[k - 1][0] == "name" or toks[k - 1][1] == "'")
        and not (k + 1 < len(toks) and toks[k + 1][0] in ("name", "num") and toks[k + 1][2] == toks[k][2] + 1)
        for k in quotes
    )
    merged: list[tuple[str, str, int]] = []
    names: dict[str, str] = {}
    for kind, s, pos in toks:
        if s == "'" and primes_ok and merged and merged[-1][0] in ("name", "pname"):
            _, ps, ppos = merged[-1]
            real = names.get(ps, ps) + "'"
            tag = re.sub(r"\W", "_", real.replace("'", _PRIME_TAG)) + "_" + _PRIME_TAG.lower()
            names[tag] = real
            merged[-1] = ("pname", tag, ppos)
            continue
        merged.append((kind, s, pos))
    # drop a left side that names the result: NAME [primes] [ (args) ] =
    solid = [t for t in merged if t[0] != "ws"]
    depth = 0
    eqs = []
    for k, t in enumerate(solid):
        depth += t[1] in "([{" and t[0] == "op"
        depth -= t[1] in ")]}" and t[0] == "op"
        if t[1] == "=" and depth == 0:
            eqs.append(k)
    if eqs:
        k = eqs[0]
        lhs = solid[:k]
        is_name = len(lhs) >= 1 and lhs[0][0] in ("name", "pname") and (
            len(lhs) == 1 or (lhs[1][1] == "(" and lhs[-1][1] == ")" and all(t[0] in ("name", "op") and t[1] not in "=" for t in lhs)))
        if len(eqs) > 1:
            raise claim_error("a chain a = b = c holds several claims; check them one at a time", text, solid[eqs[1]][2])
        if not is_name:
            raise claim_error("the left side of '=' must name the result (K' = ...)", text, solid[0][2])
        if k + 1 >= len(solid):
            raise claim_error("nothing on the right of '='", text, solid[k][2])
        start = solid[k + 1][2]
        merged = [t for t in merged if t[2] >= start]
    out: list[str] = []
    where: list[int] = []
    prev: tuple[str, str, int] | None = None
    gap = False
    for kind, s, pos in merged:
        if kind == "ws":
            gap = True
            continue
        if prev is not None and _implicit(prev, (kind, s, pos), gap):
            out.append("*")
            where.append(pos)
            gap = False
        text_out = "**" if s == "^" else s
        j = _imaginary(s, merged, pos) if kind == "num" else ""
        if j:
            raise claim_error(f"{s}{j} reads as a Python imaginary number; write {s}*{j} for a product", text, pos)
        if gap and out:
            out.append(" ")
            where.append(pos)
        out.append(text_out)
        where.extend([pos] * len(text_out))
        prev = (kind, s, pos)
        gap = False
    return "".join(out), where, names


def _imaginary(num: str, toks: list, pos: int) -> str:
    """``"j"`` or ``"J"`` when the number at ``pos`` is written as a Python imaginary literal."""
    for k, (_, _, p) in enumerate(toks):
        if p == pos and k + 1 < len(toks):
            nk, name, np_ = toks[k + 1]
            return name if nk == "name" and name in ("j", "J") and np_ == pos + len(num) else ""
    return ""


def _implicit(a: tuple, b: tuple, gap: bool) -> bool:
    """Is there an implicit product between the tokens ``a`` and ``b``?"""
    ak, asym = a[0], a[1]
    bk, bsym = b[0], b[1]
    if not (ak in ("num", "pname") or (ak == "name" and not keyword.iskeyword(asym)) or asym in (")", "]")):
        return False
    if bk == "num":
        return ak != "num"  # 2 3 stays a syntax error
    if bk == "pname" or (bk == "name" and not keyword.iskeyword(bsym)):
        # 2K, (a)b, 2 cosh(K); two names side by side (x y) stay an error: likely a typo
        return ak not in ("name", "pname")
    if bsym == "(":
        return ak != "name"  # a name followed by ( is a call
    return False


def sympy_syntax_tree(text: str, namespace: Namespace) -> tuple[ast.Expression, Any]:
    """Parse a hand-typed sympy-syntax claim into a Python syntax tree (never run).

    Returns the tree and a namespace view that resolves the placeholder names of primed
    symbols (``K'``).  Syntax errors name the position in ``text`` with a caret.

    >>> tree, ns = sympy_syntax_tree("2K'", Namespace())
    >>> ns.resolve(tree.body.right.id)
    K'
    """
    stripped = text.strip()
    offset = len(text) - len(text.lstrip())
    out, where, names = normalize_sympy_syntax(stripped)
    try:
        tree = ast.parse(out, mode="eval")
    except SyntaxError as e:
        msg = e.msg or "invalid syntax"
        lines = out.split("\n")
        if not e.offset:  # Python reports the end of the input as offset 0
            pos = len(stripped)
        else:
            idx = sum(len(x) + 1 for x in lines[:(e.lineno or 1) - 1]) + e.offset - 1
            pos = where[idx] if 0 <= idx < len(where) else len(stripped)
        raise claim_error(f"not a valid expression: {msg}", text, pos + offset) from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ClaimError(f"not a valid expression: {e}") from None
    return tree, (_Renaming(namespace, names) if names else namespace)


class _Renaming:
    """A namespace view that maps placeholder identifiers back to primed names."""

    def __init__(self, ns: Namespace, names: Mapping[str, str]) -> None:
        self.ns = ns
        self.map = dict(names)
        self.names = ns.names
        self.strict = ns.strict

    def resolve(self, name: str) -> Any:
        return self.ns.resolve(self.map.get(name, name))

    def entry(self, base: str, index: tuple) -> Any:
        return self.ns.entry(self.map.get(base, base), index)
