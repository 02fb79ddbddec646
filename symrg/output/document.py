"""Derivation documents: an ordered record of steps, equations, tables, figures and checks.

A :class:`Derivation` is what every script in ``derivations/`` builds and what
``symrg derive`` prints.  Its content is written once, in one markup: prose with inline
math between ``$...$`` (LaTeX inside), equations as sympy objects or LaTeX strings,
tables whose cells are numbers, sympy objects or markup.  It renders to

* ``"text"``: Unicode text (``K' = 1/2 log(cosh(2 K))``, ``10⁻¹⁶``), no ``$``, no backslash;
* ``"latex"``: a standalone pdflatex document (T1 fonts, lmodern, amsmath, booktabs),
  long equations broken at top-level ``+``/``-`` inside ``aligned``, numbers with a
  fixed number of significant digits (``1.3952 \\times 10^{1}``);
* ``"markdown"``: GitHub Markdown with ``$...$`` / ``$$...$$`` math.

Figures are drawn by a callback when the document is written (:meth:`Derivation.write`),
into the folder of the document and nowhere else, and included by file name.

Examples
--------
>>> import sympy as sp
>>> from symrg.output.document import Derivation
>>> K = sp.Symbol("K")
>>> doc = Derivation("Decimation")
>>> doc.section("Recursion", "Sum every second spin $s_i = \\\\pm 1$.")
>>> doc.equation("K'", sp.log(sp.cosh(2*K))/2, name="K'")
>>> doc.check("relative error of $\\\\log Z$", 2.1e-16, 0.0, 1e-12).passed
True
>>> print(doc.render("text"))
Decimation
==========
<BLANKLINE>
Recursion
---------
Sum every second spin sᵢ = ±1.
<BLANKLINE>
  K' = 1/2 log(cosh(2 K))
<BLANKLINE>
Numeric checks
--------------
  relative error of log Z: 2.1 × 10⁻¹⁶ (tolerance 10⁻¹²) passed
<BLANKLINE>
>>> doc.results["K'"]
log(cosh(2*K))/2
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy as sp

from symrg.model.energy import EnergyModel
from symrg.output.printing import latex

__all__ = ["FORMATS", "Check", "Derivation", "format_number", "tex_to_unicode"]

FORMATS = ("text", "latex", "markdown")

#: file suffix of each format (used by :meth:`Derivation.write` only to name nothing: the
#: caller's file name is always used exactly)
SUFFIXES = {"text": ".txt", "latex": ".tex", "markdown": ".md"}


# ======================================================================================
# LaTeX math -> Unicode text
# ======================================================================================

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "infty": "∞", "approx": "≈", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "mapsto": "↦", "Rightarrow": "⇒", "Leftrightarrow": "⇔",
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "sum": "Σ", "prod": "Π", "int": "∫", "partial": "∂",
    "nabla": "∇", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩",
    "succ": "≻", "prec": "≺", "succeq": "⪰", "propto": "∝", "sim": "∼", "simeq": "≃", "cong": "≅",
    "equiv": "≡", "ll": "≪", "gg": "≫", "langle": "⟨", "rangle": "⟩", "forall": "∀", "exists": "∃",
    "emptyset": "∅", "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "mid": "|", "vert": "|",
    "lvert": "|", "rvert": "|", "Vert": "‖", "lVert": "‖", "rVert": "‖", "|": "‖", "ell": "ℓ", "hbar": "ℏ",
    "circ": "∘", "otimes": "⊗", "oplus": "⊕", "dagger": "†", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈",
    "rceil": "⌉", "surd": "√", "prime": "′", "colon": ":", "star": "⋆", "ast": "∗", "setminus": "∖",
    "{": "{", "}": "}", "_": "_", "%": "%", "&": "&", "#": "#", "$": "＄", "lbrace": "{", "rbrace": "}",
}
#: commands printed as their name (operators)
_NAMED = {"log", "ln", "exp", "sin", "cos", "tan", "sinh", "cosh", "tanh", "coth", "det", "max", "min",
          "sup", "inf", "lim", "arctan", "arcsin", "arccos", "sign", "tr", "Tr", "deg", "dim", "ker", "arg"}
#: commands whose single argument is printed as it is
_WRAPPERS = {"text", "textrm", "textit", "textbf", "mathrm", "mathit", "mathbf", "mathsf", "mathtt",
             "boldsymbol", "operatorname", "mbox", "hbox", "emph", "mathcal", "bm", "hat", "tilde",
             "bar", "overline", "underline", "vec", "widehat", "widetilde", "displaystyle", "textstyle"}
#: accents, as combining characters
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303", "bar": "\u0304",
            "overline": "\u0305", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "check": "\u030c", "breve": "\u0306"}
#: spacing commands and size modifiers
_SPACES = {",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": "  ", "qquad": "   ", "enspace": " ",
           "thinspace": " ", "left": "", "right": "", "bigl": "", "bigr": "", "Bigl": "", "Bigr": "",
           "big": "", "Big": "", "bigg": "", "Bigg": "", "biggl": "", "biggr": "", "middle": "",
           "limits": "", "nolimits": "", "displaystyle": "", "textstyle": "", "scriptstyle": "",
           "allowbreak": "", "nonumber": "", "notag": ""}
_SUP = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzTnABDEGHIJKLMNOPRUVW*′'",
                "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀⁿᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵁⱽᵂ*′′"))
_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx,βγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ,ᵦᵧᵨᵩᵪ"))
_ALREADY_SUP = set(_SUP.values()) | {"⁰"}
_ALREADY_SUB = set(_SUB.values())
_MATRIX_ENVS = {"matrix", "pmatrix", "bmatrix", "vmatrix", "smallmatrix", "array"}

_TOKEN = re.compile(r"\\([A-Za-z]+)|\\(.)|(\s+)|(.)", re.DOTALL)


class _TexReader:
    """A small recursive reader of the LaTeX math subset that sympy and symrg print."""

    def __init__(self, tex: str, stack: bool = False) -> None:
        self.stack = stack  # fractions as the wider of numerator and denominator (width estimates)
        raw = [(m.group(1) or (m.group(2) and "\\" + m.group(2)), m.group(3), m.group(4))
               for m in _TOKEN.finditer(tex)]
        self.toks = [("cmd", c) if c and not c.startswith("\\") else ("sym", c[1]) if c else
                     ("space", " ") if s else ("chr", ch) for c, s, ch in raw]
        self.pos = 0

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else (None, None)

    def read(self, stop: str | None = None, env: str | None = None) -> str:
        out: list[str] = []
        while self.pos < len(self.toks):
            kind, val = self.toks[self.pos]
            if kind == "chr" and val == stop:
                self.pos += 1
                return "".join(out)
            if env is not None and kind == "cmd" and val == "end":
                return "".join(out)
            self.pos += 1
            out.append(self.token(kind, val))
        return "".join(out)

    def arg(self) -> str:
        while self.peek()[0] == "space":
            self.pos += 1
        kind, val = self.peek()
        if kind is None:
            return ""
        self.pos += 1
        if kind == "chr" and val == "{":
            return self.read("}")
        return self.token(kind, val)

    def optional(self) -> None:
        if self.peek() == ("chr", "["):
            self.pos += 1
            self.read("]")

    def token(self, kind: str, val: str) -> str:
        if kind == "space":
            return " "
        if kind == "sym":
            return _SPACES.get(val, _SYMBOLS.get(val, "\n" if val == "\\" else val))
        if kind == "chr":
            if val == "{":
                return self.read("}")
            if val == "^":
                return _script(self.arg(), _SUP, _ALREADY_SUP, "^")
            if val == "_":
                return _script(self.arg(), _SUB, _ALREADY_SUB, "_")
            if val == "~":
                return " "
            if val == "&":
                return "\t"  # a cell separator (matrices); a space elsewhere
            return val
        # a command
        if val in ("frac", "tfrac", "dfrac", "cfrac"):
            num, den = self.arg(), self.arg()
            if self.stack:
                return max(num, den, key=len)
            return _paren(num) + "/" + _paren(den)
        if val == "binom":
            n, k = self.arg(), self.arg()
            return f"C({n}, {k})"
        if val == "sqrt":
            self.optional()
            a = self.arg()
            return "√" + _paren(a)
        if val in ("left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "bigg", "Bigg", "middle"):
            kind2, val2 = self.peek()
            if kind2 == "chr" and val2 == ".":
                self.pos += 1
                return ""
            return ""
        if val in _ACCENTS:  # an accent stays on its letter (a user symbol \tilde h is h̃, never plain h)
            return self.arg().strip() + _ACCENTS[val]
        if val in _WRAPPERS:
            return self.arg()
        if val in _SPACES:
            return _SPACES[val]
        if val in _NAMED:
            return val
        if val in _SYMBOLS:
            return _SYMBOLS[val]
        if val == "begin":
            name = self.arg()
            if name == "array":
                self.arg()
            body = self.read(env=name)
            if self.peek() == ("cmd", "end"):
                self.pos += 1
                self.arg()
            if name.rstrip("*") in _MATRIX_ENVS:
                rows = [r.strip() for r in body.split("\n") if r.strip()]
                inner = ", ".join("[" + ", ".join(c.strip() for c in r.split("\t")) + "]" for r in rows)
                # sympy wraps "matrix" in \left[ .. \right]; the other environments bring their own
                return inner if name in ("matrix", "array", "smallmatrix") else "[" + inner + "]"
            return " ".join(body.replace("\t", " ").split("\n"))
        if val == "end":
            self.arg()
            return ""
        if val in ("tag", "label"):
            a = self.arg()
            return f"  ({a})" if val == "tag" else ""
        if val in ("mathbb",):
            a = self.arg()
            return {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "C": "ℂ", "Q": "ℚ", "E": "𝔼"}.get(a, a)
        return val  # an unknown command: its name, never a backslash


def _script(a: str, table: dict, already: set, mark: str) -> str:
    s = a.replace(" ", "")
    if s and all(ch in table or ch in already for ch in s):
        return "".join(table.get(ch, ch) for ch in s)
    return mark + _paren(a)


def _atomic(s: str) -> bool:
    """True when ``s`` needs no parentheses as a factor (no top-level space or operator)."""
    depth = 0
    for ch in s:
        if ch in "([{⟨":
            depth += 1
        elif ch in ")]}⟩":
            depth -= 1
        elif depth == 0 and ch in " +-−/·×=<>≤≥,":
            return False
    return True


def _paren(s: str) -> str:
    s = s.strip()
    if _atomic(s) and not (s.startswith("-") and len(s) > 1):
        return s
    if s.startswith("(") and s.endswith(")") and _atomic(s[1:-1].replace(" ", "")) is not None:
        depth = 0
        for i, ch in enumerate(s):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(s) - 1:
                break
        else:
            return s
    return "(" + s + ")"


def tex_to_unicode(tex: str) -> str:
    """Unicode text of a LaTeX math formula: no backslash, no braces, no ``$``.

    >>> tex_to_unicode(r"\\frac{\\log{\\left(\\cosh{\\left(2 K \\right)} \\right)}}{2}")
    'log(cosh(2 K))/2'
    >>> tex_to_unicode(r"\\langle v_i v_j \\rangle \\approx 10^{-16}, \\quad y_{h} > d")
    '⟨vᵢ vⱼ⟩ ≈ 10⁻¹⁶,   yₕ > d'
    >>> tex_to_unicode(r"\\left[\\begin{matrix}e^{K} & 1\\\\2 & 3\\end{matrix}\\right]")
    '[[eᴷ, 1], [2, 3]]'
    """
    out = _TexReader(tex).read()
    out = out.replace("\t", " ").replace("\n", " ")
    out = re.sub(r"[ ]{4,}", "   ", out)
    out = re.sub(r"(?<=[(\[⟨])\s+|\s+(?=[)\]⟩])", "", out)
    out = re.sub(r"^([-±]) ", r"\1", out.strip())
    out = re.sub(r"([(\[,=<>] )([-±]) (?=\S)", r"\1\2", out)
    return out.replace("$", "").replace("\\", "")


def _markup_text(s: str) -> str:
    """Markup (prose with ``$...$`` math) as Unicode text."""
    parts = s.split("$")
    for i in range(1, len(parts), 2):
        parts[i] = tex_to_unicode(parts[i])
    return "".join(parts)


# ======================================================================================
# numbers
# ======================================================================================


def _float(x: Any) -> float:
    return float(sp.re(sp.N(x))) if isinstance(x, sp.Basic) else float(x)


def format_number(x: Any, digits: int = 6, fmt: str = "latex") -> str:
    """``x`` with ``digits`` significant digits: decimal between 10⁻³ and 10⁵, else ``m × 10^k``.

    ``fmt`` is ``"latex"`` (``2.1 \\times 10^{-16}``) or ``"text"`` (``2.1 × 10⁻¹⁶``).
    Integers print whole; a mantissa of exactly 1 prints as the power alone.

    >>> format_number(13.952303565397544, 5, "text"), format_number(3.4e-16, 2, "text")
    ('13.952', '3.4 × 10⁻¹⁶')
    >>> format_number(1e-12, 2), format_number(7, 3), format_number(-0.5, 3)
    ('10^{-12}', '7', '-0.500')
    """
    if isinstance(x, (int, sp.Integer)) and not isinstance(x, bool):
        return str(int(x))
    v = _float(x)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        s = "∞" if v > 0 else "-∞"
        return s if fmt == "text" else s.replace("∞", r"\infty")
    e = math.floor(math.log10(abs(v)))
    m = round(v / 10**e, digits - 1)
    if abs(m) >= 10:
        m, e = m / 10, e + 1
    if -3 <= e < 5:
        decimals = max(digits - 1 - e, 0)
        return f"{v:.{decimals}f}"
    ms = f"{m:.{digits - 1}f}"
    power = str(e) if fmt == "latex" else "".join(_SUP[c] for c in str(e))
    if fmt == "latex":
        p = f"10^{{{power}}}"
        return p if ms.rstrip("0").rstrip(".") in ("1", "-1") and digits <= 2 else rf"{ms} \times {p}"
    p = "10" + power
    return p if ms.rstrip("0").rstrip(".") in ("1", "-1") and digits <= 2 else f"{ms} × {p}"


# ======================================================================================
# the document
# ======================================================================================


@dataclass(frozen=True)
class Check:
    """One numeric cross-check: a computed value against an independent reference.

    With ``reference == 0`` the check is a measurement (an error, a residual): the name
    says what is measured and the value is compared with the tolerance.
    """

    name: str
    value: float
    reference: float
    error: float
    tolerance: float | None = None

    @property
    def passed(self) -> bool:
        return self.tolerance is None or self.error <= self.tolerance

    @property
    def is_measurement(self) -> bool:
        return self.reference == 0

    def text(self) -> str:
        """One line: what was compared, the numbers, the tolerance and the outcome."""
        name = _markup_text(self.name)
        if self.is_measurement:
            body = format_number(self.value, 2, "text")
        else:
            body = (f"{format_number(self.value, CHECK_DIGITS, 'text')} vs "
                    f"{format_number(self.reference, CHECK_DIGITS, 'text')}, "
                    f"difference {format_number(self.error, 2, 'text')}")
        tol = "" if self.tolerance is None else f" (tolerance {format_number(self.tolerance, 2, 'text')})"
        return f"{name}: {body}{tol} {'passed' if self.passed else 'FAILED'}"


@dataclass(frozen=True)
class Figure:
    """A figure drawn when the document is written: ``draw(path)`` writes ``filename``."""

    filename: str
    draw: Callable[[Path], Any]
    caption: str
    width: float = 0.7


@dataclass
class Derivation:
    """An ordered derivation document (title, sections, equations, tables, figures, checks).

    ``results`` collects named results (``equation(..., name=...)``) so that other
    tools (``symrg verify``) can address them.
    """

    title: str
    items: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    results: dict = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------
    def section(self, heading: str, text: str = "") -> None:
        """Start a section (a step of the derivation), with optional prose (markup)."""
        self.items.append(("section", heading, text))

    def text(self, text: str) -> None:
        """A paragraph of prose; inline math between ``$...$``."""
        self.items.append(("text", text))

    def equation(self, lhs: Any, rhs: Any, name: str | None = None, where: dict | None = None,
                 note: str = "") -> None:
        """A displayed equation ``lhs = rhs`` (``lhs=None``: ``rhs`` alone); ``where`` lists intermediates.

        ``lhs`` and ``rhs`` may be sympy objects, LaTeX strings, or (``rhs``) an energy
        model (printed in structural order; its ``energy`` expression is what
        ``results[name]`` keeps).  ``note`` is markup shown beside the equation
        (``"$d = 2$"``).
        """
        self.items.append(("equation", lhs, rhs, dict(where or {}), note))
        if name is not None:
            self.results[name] = rhs.energy if isinstance(rhs, EnergyModel) else rhs

    def conditions(self, conds: Sequence[Any]) -> None:
        """Conditions under which the results above hold."""
        if conds:
            self.items.append(("conditions", list(conds)))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "",
              digits: int = 6) -> None:
        """A table; headers and string cells are markup, numbers get ``digits`` significant digits."""
        self.items.append(("table", list(headers), [list(r) for r in rows], caption, digits))

    def figure(self, filename: str, draw: Callable[[Path], Any], caption: str, width: float = 0.7) -> None:
        """A figure: ``draw(path)`` writes the file ``filename`` when the document is written.

        ``filename`` is a bare file name: figures live beside the document.
        """
        if not filename or os.path.basename(filename) != filename or filename in (".", ".."):
            raise ValueError(f"figure filename must be a bare file name (no folder), got {filename!r}")
        self.items.append(("figure", Figure(filename, draw, caption, width)))

    def check(self, name: str, value: float, reference: float, tolerance: float | None = None) -> Check:
        """Record a numeric check; returns it (``.passed``, ``.error``).

        ``name`` (markup) names what is compared; with ``reference`` 0 it names the
        measured quantity (``"relative error of $\\log Z$"``).
        """
        err = abs(complex(value) - complex(reference))
        c = Check(name, float(sp.re(value)), float(sp.re(reference)), float(err), tolerance)
        self.checks.append(c)
        return c

    @property
    def passed(self) -> bool:
        """True when every check with a tolerance is within it."""
        return all(c.passed for c in self.checks)

    @property
    def figures(self) -> list[Figure]:
        return [i[1] for i in self.items if i[0] == "figure"]

    # -- writing ----------------------------------------------------------------------
    def write(self, path: str | os.PathLike, fmt: str = "latex") -> list[Path]:
        """Write the document to ``path`` (exactly that name) and its figures beside it.

        Returns the paths written, the document first.  Nothing is written outside the
        folder of ``path``.
        """
        path = Path(path)
        text = self.render(fmt)
        folder = path.parent
        folder.mkdir(parents=True, exist_ok=True)
        written = [path]
        path.write_text(text, encoding="utf-8")
        written += self.write_figures(folder)
        return written

    def write_figures(self, folder: str | os.PathLike) -> list[Path]:
        """Draw every figure into ``folder``; returns the paths written."""
        folder = Path(folder)
        out = []
        for f in self.figures:
            target = folder / f.filename
            f.draw(target)
            out.append(target)
        return out

    # -- rendering --------------------------------------------------------------------
    def render(self, fmt: str = "text") -> str:
        """Render as ``"text"``, ``"markdown"`` or ``"latex"`` (a standalone document)."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
        return {"text": self._render_text, "markdown": self._render_markdown, "latex": self._render_latex}[fmt]()

    def _render_text(self) -> str:
        title = _markup_text(self.title)
        out = [title, "=" * len(title), ""]
        for item in self.items:
            kind = item[0]
            if kind == "section":
                head = _markup_text(item[1])
                out += [head, "-" * len(head)]
                if item[2]:
                    out.append(_markup_text(item[2]))
                out.append("")
            elif kind == "text":
                out += [_markup_text(item[1]), ""]
            elif kind == "equation":
                _, lhs, rhs, where, note = item
                line = _eq_text(lhs, rhs)
                out.append("  " + line + (f"   ({_markup_text(note)})" if note else ""))
                for k, v in where.items():
                    out.append(f"    where {_eq_text(k, v)}")
                out.append("")
            elif kind == "conditions":
                out.append("  valid when: " + "; ".join(_math_text(c) for c in item[1]))
                out.append("")
            elif kind == "table":
                out += _text_table(item[1], item[2], item[3], item[4]) + [""]
            elif kind == "figure":
                f = item[1]
                out += [f"Figure ({f.filename}, written beside the document): {_markup_text(f.caption)}", ""]
        if self.checks:
            out += ["Numeric checks", "-" * 14]
            out += ["  " + c.text() for c in self.checks]
            out.append("")
        return "\n".join(out)

    def _render_markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for item in self.items:
            kind = item[0]
            if kind == "section":
                out += [f"## {item[1]}", ""]
                if item[2]:
                    out += [item[2], ""]
            elif kind == "text":
                out += [item[1], ""]
            elif kind == "equation":
                _, lhs, rhs, where, note = item
                out += ["$$", _eq_latex(lhs, rhs), "$$", ""]
                if note:
                    out += [f"({note})", ""]
                for k, v in where.items():
                    out += [f"where ${_eq_latex(k, v)}$", ""]
            elif kind == "conditions":
                out += ["Valid when: " + ", ".join(f"${_latex(c)}$" for c in item[1]), ""]
            elif kind == "table":
                _, headers, rows, caption, digits = item
                if caption:
                    out += [f"*{caption}*", ""]
                out.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
                out.append("|" + "---|" * len(headers))
                for r in rows:
                    out.append("| " + " | ".join(_md_cell(_cell_markup(c, digits)) for c in r) + " |")
                out.append("")
            elif kind == "figure":
                f = item[1]
                out += [f"![{_md_alt(f.caption)}]({f.filename})", "", f"*{f.caption}*", ""]
        if self.checks:
            out += ["## Numeric checks", "", "| check | computed | reference | error | tolerance |",
                    "|---|---|---|---|---|"]
            for c in self.checks:
                cells = _check_cells(c)
                out.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
            out.append("")
        return "\n".join(out)

    def _render_latex(self) -> str:
        out = [
            r"\documentclass[11pt,a4paper]{article}",
            r"\usepackage[T1]{fontenc}",
            r"\usepackage[utf8]{inputenc}",
            r"\usepackage{lmodern}",
            r"\usepackage{amsmath,amssymb}",
            r"\usepackage{booktabs}",
            r"\usepackage{graphicx}",
            r"\usepackage[margin=2.2cm]{geometry}",
            r"\allowdisplaybreaks",
            # paragraphs apart, not indented: prose, displays and tables alternate closely
            r"\setlength{\parindent}{0pt}",
            r"\setlength{\parskip}{0.5\baselineskip}",
            r"\title{" + _tex_markup(self.title) + "}",
            r"\date{}",
            r"\begin{document}",
            r"\maketitle",
        ]
        for item in self.items:
            kind = item[0]
            if kind == "section":
                out.append(r"\section*{" + _tex_markup(item[1]) + "}")
                if item[2]:
                    out.append(_tex_markup(item[2]) + "\n")
            elif kind == "text":
                out.append(_tex_markup(item[1]) + "\n")
            elif kind == "equation":
                _, lhs, rhs, where, note = item
                out += _display(_lhs_latex(lhs), _latex(rhs), note)
                for k, v in where.items():
                    out += [r"where"] + _display(_lhs_latex(k), _latex(v), "")
            elif kind == "conditions":
                out.append(r"Valid when " + ", ".join(f"${_latex(c)}$" for c in item[1]) + ".\n")
            elif kind == "table":
                _, headers, rows, caption, digits = item
                cols = len(headers)
                # wide tables shrink to the text width instead of running into the margin
                # a little air between rows: cells may hold fractions
                out += [r"\begin{center}", r"\renewcommand{\arraystretch}{1.3}", _FIT_WIDTH,
                        r"\begin{tabular}{" + "l" * cols + "}", r"\toprule"]
                out.append(" & ".join(_tex_markup(h) for h in headers) + r" \\ \midrule")
                for r in rows:
                    out.append(" & ".join(_tex_markup(_cell_markup(c, digits)) for c in r) + r" \\")
                out += [r"\bottomrule", r"\end{tabular}}"]
                if caption:
                    out.append(r"\\[4pt] \parbox{0.9\linewidth}{\centering\small " + _tex_markup(caption) + "}")
                out.append(r"\end{center}")
            elif kind == "figure":
                f = item[1]
                name = f.filename
                out += [r"\begin{center}",
                        (rf"\IfFileExists{{{name}}}{{\includegraphics[width={f.width}\linewidth]{{{name}}}}}"
                         rf"{{\fbox{{figure file \texttt{{{_tex_escape_text(name)}}} not written}}}}"),
                        r"\\[4pt] \parbox{0.9\linewidth}{\centering\small " + _tex_markup(f.caption) + "}",
                        r"\end{center}"]
        if self.checks:
            # the check's name wraps in a paragraph column; the box shrinks the table only if it is still too wide
            out += [r"\section*{Numeric checks}", r"\begin{center}", r"\small",
                    _FIT_WIDTH, r"\begin{tabular}{@{}p{0.36\linewidth}llll@{}}", r"\toprule",
                    r"check & computed & reference & error & tolerance \\ \midrule"]
            for c in self.checks:
                cells = [_tex_markup(x) for x in _check_cells(c)]
                cells[0] = r"\raggedright " + cells[0]  # a narrow column: no stretched word spaces
                out.append(" & ".join(cells) + r" \\")
            out += [r"\bottomrule", r"\end{tabular}}", r"\end{center}"]
        out.append(r"\end{document}")
        return "\n".join(out) + "\n"


# ======================================================================================
# helpers: objects as LaTeX / text
# ======================================================================================


def _latex(obj: Any) -> str:
    if isinstance(obj, str):
        return _unicode_math(obj)
    if isinstance(obj, EnergyModel):
        return obj.rhs_latex()
    if not isinstance(obj, sp.Basic) and callable(getattr(obj, "latex", None)):
        return obj.latex()  # a symrg result object prints itself

    # a long fraction prints as \frac{1}{n} (...): the way papers write it, and it can break
    return latex(obj, long_frac_ratio=2)


def _lhs_latex(lhs: Any) -> str:
    return "" if lhs is None or lhs == "" else _latex(lhs)


def _math_text(obj: Any) -> str:
    return tex_to_unicode(_latex(obj))


def _eq_latex(lhs: Any, rhs: Any) -> str:
    left = _lhs_latex(lhs)
    return f"{left} = {_latex(rhs)}" if left else _latex(rhs)


def _eq_text(lhs: Any, rhs: Any) -> str:
    return tex_to_unicode(_eq_latex(lhs, rhs))


def _check_cells(c: Check) -> list[str]:
    """Markup cells: check, computed, reference, error, tolerance."""
    tol = "" if c.tolerance is None else f"${format_number(c.tolerance, 2)}$"
    name = c.name if c.passed else c.name + " (FAILED)"
    if c.is_measurement:
        return [name, "", "", f"${format_number(c.value, 2)}$", tol]
    return [name, f"${format_number(c.value, CHECK_DIGITS)}$", f"${format_number(c.reference, CHECK_DIGITS)}$",
            f"${format_number(c.error, 2)}$", tol]


def _is_number(c: Any) -> bool:
    if isinstance(c, bool):
        return False
    if isinstance(c, (int, float)):
        return True
    if isinstance(c, sp.Basic):
        return bool(c.is_Number) or bool(c.is_number and c.is_real and c.atoms(sp.Float))
    return type(c).__module__.startswith(("mpmath", "numpy"))


def _cell_markup(c: Any, digits: int) -> str:
    """A table cell as markup: numbers formatted, sympy objects as inline math."""
    if isinstance(c, str):
        return c
    if isinstance(c, (int, sp.Integer)) and not isinstance(c, bool):
        return f"${int(c)}$" if int(c) < 0 else str(int(c))
    if isinstance(c, sp.Rational) and not isinstance(c, sp.Integer):
        return f"${_latex(c)}$"
    if isinstance(c, sp.Basic) and (c.has(sp.oo, -sp.oo, sp.zoo) or not _is_number(c)):
        return f"${_latex(c)}$"
    if _is_number(c):
        return f"${format_number(c, digits)}$"
    return f"${_latex(c)}$"


def _text_table(headers: list, rows: list, caption: str, digits: int) -> list[str]:
    cells = [[_markup_text(str(h)) for h in headers]]
    cells += [[_markup_text(_cell_markup(c, digits)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [_markup_text(caption)] if caption else []
    for k, r in enumerate(cells):
        lines.append("  " + "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip())
        if k == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def _md_cell(s: str) -> str:
    return s.replace("|", r"\|")


def _md_alt(s: str) -> str:
    return _markup_text(s).replace("[", "(").replace("]", ")")


# ======================================================================================
# displayed equations in LaTeX: break at top-level + and -, fit the text width
# ======================================================================================

#: significant digits of the computed and reference values of a check
CHECK_DIGITS = 12

#: opens a box that scales its content down to the line width when it is wider
_FIT_WIDTH = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"

#: visible characters (of the Unicode reading of a formula, fractions counted by their wider
#: part) per line of a broken display, and the most a display may have to stay unbroken
#: and unboxed (an estimate: the aligned block is boxed to the text width in case it errs)
LINE_CHARS = 74
SHORT_CHARS = 64


def _width(tex: str) -> int:
    """Visible width of a formula in characters (a fraction counts as its wider part)."""
    return len(_TexReader(tex, stack=True).read().replace("  ", " "))


def _top_level_breaks(tex: str) -> list[int]:
    """Positions of top-level binary ``+``/``-`` (outside braces, ``\\left..\\right``, environments)."""
    depth = 0
    breaks = []
    i, n = 0, len(tex)
    while i < n:
        ch = tex[i]
        if ch == "\\":
            m = re.match(r"\\(left|right|begin|end)(?![A-Za-z])", tex[i:])
            if m:
                depth += 1 if m.group(1) in ("left", "begin") else -1
                i += len(m.group(0))
                continue
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0 and ch in "+-" and tex[i - 1: i] == " " and tex[i + 1: i + 2] == " " and i > 1:
            breaks.append(i)
        i += 1
    return breaks


def _split_terms(tex: str) -> list[str]:
    """``tex`` cut before each top-level binary ``+``/``-``; ``\\quad``-separated parts too."""
    pieces = []
    for part in re.split(r",\s*\\quad\s*", tex):
        cuts = _top_level_breaks(part)
        start = 0
        for b in cuts:
            pieces.append(part[start:b].strip())
            start = b
        pieces.append(part[start:].strip())
        pieces[-1] += ","
    pieces[-1] = pieces[-1][:-1]
    return [p for p in pieces if p]


def _paren_groups(term: str) -> list[tuple[int, int]]:
    """``(start, close)`` of every ``\\left( .. \\right)`` outside brace groups and other parentheses."""
    groups = []
    brace = depth = 0
    start = 0
    i = 0
    while i < len(term):
        if term.startswith(r"\left", i):
            if brace == 0 and depth == 0 and term.startswith(r"\left(", i):
                start = i
            depth += 1
            i += 5
            continue
        if term.startswith(r"\right", i):
            depth -= 1
            if brace == 0 and depth == 0 and term.startswith(r"\right)", i):
                groups.append((start, i))
            i += 6
            continue
        ch = term[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            brace += 1
        elif ch == "}":
            brace -= 1
        i += 1
    return groups


def _open_parens(term: str) -> list[str] | None:
    """Split a too-wide term at the top-level ``+``/``-`` inside its widest ``\\left( .. \\right)``.

    Only parentheses outside every brace group are opened (a line break inside a
    ``\\frac`` argument would not compile); the pieces carry ``\\right.``/``\\left.``.
    """
    best = None
    for start, close in _paren_groups(term):
        inner_terms = _split_terms(term[start + 6: close])
        if len(inner_terms) < 2 or any(t.endswith(",") for t in inner_terms):
            continue
        w = _width(term[start + 6: close])
        if best is None or w > best[0]:
            best = (w, start, close, inner_terms)
    if best is None:
        return None
    _, start, close, inner_terms = best
    head = term[:start] + r"\left(" + inner_terms[0]
    tail = inner_terms[-1] + r"\right)" + term[close + 7:]
    return [head + r"\right."] + [r"\left." + t + r"\right." for t in inner_terms[1:-1]] + [r"\left." + tail]


def _lines(lhs: str, rhs: str, width: int) -> list[str]:
    """Pack the terms of ``rhs`` into lines of at most ``width`` visible characters."""
    terms = _split_terms(rhs)
    out: list[str] = []
    queue = list(terms)
    first_room = width - (_width(lhs) + 3 if lhs else 0)
    cur = ""
    while queue:
        t = queue.pop(0)
        room = first_room if not out else width - 4
        cand = (cur + " " + t).strip() if cur else t
        if _width(cand) <= room:
            cur = cand
            continue
        if cur:
            out.append(cur)
            cur = ""
            queue.insert(0, t)
            continue
        # a single term wider than a line: open its parentheses if it has any
        inner = _open_parens(t)
        if inner is not None and len(inner) > 1:
            queue = inner + queue
            continue
        out.append(t)
    if cur:
        out.append(cur)
    # pieces of an opened parenthesis that ended up on one line join up again
    return [re.sub(r"\\right\.\s*\\left\.", " ", line) for line in out]


def _display(lhs: str, rhs: str, note: str) -> list[str]:
    """A displayed formula; broken into an ``aligned`` block when it is wider than a line.

    Every multi-line display sits in a box that scales down only if a single unbreakable
    term is still wider than the text (so nothing ever runs into the margin).
    """
    tag = r"\qquad\text{(" + _tex_markup(note) + ")}" if note else ""
    rel = "=" if lhs else ""
    if _width(lhs + rhs) + (len(_markup_text(note)) + 6 if note else 0) <= SHORT_CHARS:
        return [r"\[", f"{lhs} {rel} {rhs}{tag}".strip(), r"\]"]
    lines = _lines(lhs, rhs, LINE_CHARS)
    body = []
    for k, line in enumerate(lines):
        if k == 0:
            body.append(f"{lhs} &= {line}" if lhs else f"&{line}")
        else:
            body.append(r"&\quad " + line)
    body[-1] += tag
    return [r"\[", _FIT_WIDTH[:-1] + r"$\displaystyle", r"\begin{aligned}", " \\\\\n".join(body),
            r"\end{aligned}$}", r"\]"]


# ======================================================================================
# escaping
# ======================================================================================

_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}

# characters pdflatex cannot typeset from utf8 input without extra packages: text forms,
# and math commands (used inside $...$ in text, bare inside formulas)
_UNICODE_TEXT = {
    "−": "-", "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''", "…": r"\ldots{}",
    "\u00a0": "~", "\u2009": r"\,",
}
_UNICODE_MATH = {
    "≈": r"\approx", "≤": r"\leq", "≥": r"\geq", "≠": r"\neq", "→": r"\to", "←": r"\leftarrow",
    "↦": r"\mapsto", "⇒": r"\Rightarrow", "⇔": r"\Leftrightarrow", "×": r"\times", "·": r"\cdot",
    "±": r"\pm", "∓": r"\mp", "∞": r"\infty", "√": r"\surd", "∑": r"\sum", "∏": r"\prod", "∫": r"\int",
    "∂": r"\partial", "∇": r"\nabla", "⊆": r"\subseteq", "⊂": r"\subset", "∈": r"\in", "∉": r"\notin",
    "∪": r"\cup", "∩": r"\cap", "≻": r"\succ", "≺": r"\prec", "∝": r"\propto", "∼": r"\sim", "≃": r"\simeq",
    "≅": r"\cong", "≡": r"\equiv", "≪": r"\ll", "≫": r"\gg", "⟨": r"\langle", "⟩": r"\rangle",
    "∀": r"\forall", "∃": r"\exists", "∅": r"\emptyset", "°": r"^\circ", "′": r"'", "″": r"''",
    "⊗": r"\otimes", "⊕": r"\oplus", "†": r"\dagger", "ℏ": r"\hbar", "ℓ": r"\ell", "∘": r"\circ",
    "⌊": r"\lfloor", "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil", "∣": r"\mid", "‖": r"\|",
    "²": r"^{2}", "³": r"^{3}", "¹": r"^{1}", "⁴": r"^{4}", "ⁿ": r"^{n}", "ᵀ": r"^{T}", "⁻": r"^{-}",
    "₀": r"_{0}", "₁": r"_{1}", "₂": r"_{2}", "₃": r"_{3}", "½": r"\tfrac12", "¼": r"\tfrac14",
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\epsilon", "ζ": r"\zeta",
    "η": r"\eta", "θ": r"\theta", "ι": r"\iota", "κ": r"\kappa", "λ": r"\lambda", "μ": r"\mu",
    "ν": r"\nu", "ξ": r"\xi", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "υ": r"\upsilon",
    "φ": r"\phi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega", "Γ": r"\Gamma", "Δ": r"\Delta",
    "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi", "Σ": r"\Sigma", "Φ": r"\Phi",
    "Ψ": r"\Psi", "Ω": r"\Omega",
}


def _unicode_text(ch: str) -> str:
    if ch in _UNICODE_TEXT:
        return _UNICODE_TEXT[ch]
    if ch in _UNICODE_MATH:
        return "$" + _UNICODE_MATH[ch] + "$"
    if ord(ch) < 0x180:  # Latin letters with accents: utf8 inputenc handles them
        return ch
    # anything else would stop pdflatex; name it instead
    return "[" + unicodedata.name(ch, f"U+{ord(ch):04X}").lower() + "]"


def _unicode_math(s: str) -> str:
    """A formula string with non-ASCII characters replaced by LaTeX commands."""
    if s.isascii():
        return s
    out = []
    for ch in s:
        if ch.isascii():
            out.append(ch)
        elif ch in _UNICODE_MATH:
            out.append("{" + _UNICODE_MATH[ch] + "}")
        else:
            out.append(r"\text{" + _unicode_text(ch).replace("$", "") + "}")
    return "".join(out)


def _tex_escape_text(s: str) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) if ch.isascii() else _unicode_text(ch) for ch in s)


def _tex_markup(s: str) -> str:
    """Markup as LaTeX: text escaped, ``$...$`` math kept (non-ASCII made commands)."""
    parts = s.split("$")
    for i in range(0, len(parts), 2):
        parts[i] = _tex_escape_text(parts[i])
    for i in range(1, len(parts), 2):
        parts[i] = _unicode_math(parts[i])
    return "$".join(parts)
