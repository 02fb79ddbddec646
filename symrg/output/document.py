"""Derivation documents: an ordered record of steps, equations, tables and checks.

A :class:`Derivation` is what every script in ``derivations/`` builds and what
``symrg derive`` prints.  It renders to plain text, Markdown and a standalone LaTeX
document from the same content.

Examples
--------
>>> import sympy as sp
>>> from symrg.output.document import Derivation
>>> K = sp.Symbol("K")
>>> doc = Derivation("Decimation")
>>> doc.section("Recursion", "Sum every second spin.")
>>> doc.equation("K'", sp.log(sp.cosh(2*K))/2, name="K'")
>>> doc.check("partition function", 1.0, 1.0 + 2**-50).passed
True
>>> print(doc.render("text"))  # doctest: +NORMALIZE_WHITESPACE
Decimation
==========
<BLANKLINE>
Recursion
---------
Sum every second spin.
<BLANKLINE>
  K' = log(cosh(2*K))/2
<BLANKLINE>
Numeric checks
--------------
  partition function: value 1.0000000000000000e+00, reference 1.0000000000000009e+00, error 8.9e-16
<BLANKLINE>
>>> doc.results["K'"]
log(cosh(2*K))/2
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy as sp

__all__ = ["Derivation", "Check", "FORMATS"]

FORMATS = ("text", "latex", "markdown")


def _latex(obj: Any) -> str:
    if isinstance(obj, str):
        return _unicode_math(obj)
    if hasattr(obj, "rhs_latex"):
        return obj.rhs_latex()
    if hasattr(obj, "latex") and callable(obj.latex):
        return obj.latex()
    from symrg.output.printing import latex  # symrg's conventions (I, \det) in every formula

    return latex(obj)


def _text(obj: Any) -> str:
    if isinstance(obj, str):
        return obj
    if hasattr(obj, "rhs_text"):
        return obj.rhs_text()
    if hasattr(obj, "text") and callable(obj.text):
        return obj.text()
    return sp.sstr(obj)


@dataclass(frozen=True)
class Check:
    """One numeric cross-check: a computed value against an independent reference."""

    name: str
    value: float
    reference: float
    error: float
    tolerance: float | None = None

    @property
    def passed(self) -> bool:
        return self.tolerance is None or self.error <= self.tolerance


@dataclass
class Derivation:
    """An ordered derivation document (title, sections, equations, tables, checks).

    ``results`` collects named results (``equation(..., name=...)``) so that other
    tools (``symrg verify``) can address them.
    """

    title: str
    items: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    results: dict = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------
    def section(self, heading: str, text: str = "") -> None:
        """Start a section (a step of the derivation), with optional prose."""
        self.items.append(("section", heading, text))

    def text(self, text: str) -> None:
        """A paragraph of prose."""
        self.items.append(("text", text))

    def equation(self, lhs: Any, rhs: Any, name: str | None = None, where: dict | None = None) -> None:
        """A displayed equation ``lhs = rhs``; ``where`` lists named intermediates.

        ``rhs`` may be a sympy object, a LaTeX string, or an energy model (printed in
        structural order; its ``energy`` expression is what ``results[name]`` keeps).
        """
        self.items.append(("equation", lhs, rhs, dict(where or {})))
        if name is not None:
            self.results[name] = rhs.energy if hasattr(rhs, "rhs_latex") else rhs

    def conditions(self, conds: Sequence[Any]) -> None:
        """Conditions under which the results above hold."""
        if conds:
            self.items.append(("conditions", list(conds)))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> None:
        """A table; cells may be numbers, strings or sympy objects."""
        self.items.append(("table", list(headers), [list(r) for r in rows], caption))

    def check(self, name: str, value: float, reference: float, tolerance: float | None = None) -> Check:
        """Record a numeric check; returns it (``.passed``, ``.error``)."""
        err = abs(complex(value) - complex(reference))
        c = Check(name, float(sp.re(value)), float(sp.re(reference)), float(err), tolerance)
        self.checks.append(c)
        return c

    @property
    def passed(self) -> bool:
        """True when every check with a tolerance is within it."""
        return all(c.passed for c in self.checks)

    # -- rendering --------------------------------------------------------------------
    def render(self, fmt: str = "text") -> str:
        """Render as ``"text"``, ``"markdown"`` or ``"latex"`` (a standalone document)."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
        return {"text": self._render_text, "markdown": self._render_markdown, "latex": self._render_latex}[fmt]()

    def _render_text(self) -> str:
        out = [self.title, "=" * len(self.title), ""]
        for item in self.items:
            kind = item[0]
            if kind == "section":
                out += [item[1], "-" * len(item[1])]
                if item[2]:
                    out.append(item[2])
                out.append("")
            elif kind == "text":
                out += [item[1], ""]
            elif kind == "equation":
                out.append(f"  {_text(item[1])} = {_text(item[2])}")
                for k, v in item[3].items():
                    out.append(f"    where {_text(k)} = {_text(v)}")
                out.append("")
            elif kind == "conditions":
                out.append("  valid when: " + "; ".join(_text(c) for c in item[1]))
                out.append("")
            elif kind == "table":
                out += _text_table(item[1], item[2], item[3]) + [""]
        if self.checks:
            out += ["Numeric checks", "-" * 14]
            for c in self.checks:
                out.append(
                    f"  {c.name}: value {c.value:.16e}, reference {c.reference:.16e}, error {c.error:.1e}"
                    + ("" if c.passed else "  FAILED")
                )
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
                out += ["$$", f"{_latex(item[1])} = {_latex(item[2])}", "$$", ""]
                for k, v in item[3].items():
                    out += [f"where ${_latex(k)} = {_latex(v)}$", ""]
            elif kind == "conditions":
                out += ["Valid when: " + ", ".join(f"${_latex(c)}$" for c in item[1]), ""]
            elif kind == "table":
                if item[3]:
                    out += [f"*{item[3]}*", ""]
                out.append("| " + " | ".join(item[1]) + " |")
                out.append("|" + "---|" * len(item[1]))
                for r in item[2]:
                    out.append("| " + " | ".join(_cell(c, latex=True) for c in r) + " |")
                out.append("")
        if self.checks:
            out += ["## Numeric checks", "", "| check | value | reference | error |", "|---|---|---|---|"]
            for c in self.checks:
                out.append(f"| {c.name} | {c.value:.16e} | {c.reference:.16e} | {c.error:.1e} |")
            out.append("")
        return "\n".join(out)

    def _render_latex(self) -> str:
        out = [
            r"\documentclass[11pt]{article}",
            r"\usepackage[utf8]{inputenc}",
            r"\usepackage{amsmath,amssymb}",
            r"\usepackage{graphicx}",
            r"\usepackage[margin=2.2cm]{geometry}",
            r"\allowdisplaybreaks",
            r"\title{" + _tex_escape(self.title) + "}",
            r"\date{}",
            r"\begin{document}",
            r"\maketitle",
        ]
        for item in self.items:
            kind = item[0]
            if kind == "section":
                out.append(r"\section*{" + _tex_escape(item[1]) + "}")
                if item[2]:
                    out.append(_tex_escape(item[2]))
            elif kind == "text":
                out.append(_tex_escape(item[1]) + "\n")
            elif kind == "equation":
                out += _display(f"{_latex(item[1])} = {_break_lines(_latex(item[2]))}")
                for k, v in item[3].items():
                    out += ["where"] + _display(f"{_latex(k)} = {_break_lines(_latex(v))}")
            elif kind == "conditions":
                out.append(r"Valid when " + ", ".join(f"${_latex(c)}$" for c in item[1]) + ".\n")
            elif kind == "table":
                cols = len(item[1])
                # wide tables shrink to the text width instead of running into the margin
                out += [r"\begin{center}", _FIT_WIDTH, r"\begin{tabular}{" + "l" * cols + "}", r"\hline"]
                out.append(" & ".join(_tex_escape(h) for h in item[1]) + r" \\ \hline")
                for r in item[2]:
                    out.append(" & ".join(_cell(c, latex=True, tex=True) for c in r) + r" \\")
                out += [r"\hline", r"\end{tabular}}"]
                if item[3]:
                    out.append(r"\\[2pt] " + _tex_escape(item[3]))
                out.append(r"\end{center}")
        if self.checks:
            # the check's name wraps in a paragraph column, so the table never needs shrinking
            out += [r"\section*{Numeric checks}", r"\begin{center}", r"\small",
                    r"\begin{tabular}{p{0.42\linewidth}lll}", r"\hline",
                    r"check & value & reference & error \\ \hline"]
            for c in self.checks:
                out.append(
                    f"{_tex_escape(c.name)} & ${_tex_number(c.value)}$ & ${_tex_number(c.reference)}$ & "
                    f"${_tex_number(c.error, 2)}$ \\\\"
                )
            out += [r"\hline", r"\end{tabular}", r"\end{center}"]
        out.append(r"\end{document}")
        return "\n".join(out) + "\n"


def _tex_number(x: float, digits: int = 13) -> str:
    """``1.234 \\times 10^{-5}`` with ``digits`` significant digits (``0`` for zero)."""
    if x == 0:
        return "0"
    m, e = f"{x:.{digits - 1}e}".split("e")
    e = int(e)
    return m if e == 0 else rf"{m} \times 10^{{{e}}}"


#: opens a box that scales its content down to the line width when it is wider
_FIT_WIDTH = r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"

#: a displayed line of math longer than this many source characters is broken
MAX_LINE = 140


def _display(body: str) -> list[str]:
    """A displayed formula: ``multline*`` when it was broken into lines, else ``equation*``.

    (A one-line ``multline*`` stretches its glue to the full line width.)
    """
    env = "multline*" if "\\\\\n" in body else "equation*"  # _break_lines ends its lines with \\ and a newline
    return [rf"\begin{{{env}}}", body, rf"\end{{{env}}}"]


def _break_lines(tex: str, width: int = MAX_LINE) -> str:
    """Break a long formula into lines of a ``multline*`` at top-level ``+`` and ``-``.

    Breaks never fall inside braces, ``\\left ... \\right`` pairs or environments,
    so the result always compiles; a formula without such break points is left whole.

    >>> print(_break_lines("a + b + c", width=4))
    a + b \\\\
    + c
    """
    if len(tex) <= width or "\\\\" in tex:
        return tex
    depth = 0
    breaks = []
    i = 0
    n = len(tex)
    while i < n:
        ch = tex[i]
        if ch == "\\":
            m = re.match(r"\\(left|right|begin|end)\b", tex[i:])
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
        elif depth == 0 and ch in "+-" and tex[i - 1 : i] == " " and tex[i + 1 : i + 2] == " ":
            breaks.append(i)
        i += 1
    if not breaks:
        return tex
    pieces, start, last = [], 0, 0
    for b in breaks:
        if b - last > width and b > start:
            pieces.append(tex[start:b].rstrip())
            start = last = b
    if not pieces:
        return tex
    pieces.append(tex[start:].strip())
    return " \\\\\n".join(p for p in pieces if p)


def _cell(c: Any, latex: bool = False, tex: bool = False) -> str:
    if isinstance(c, str):
        return _tex_escape(c) if tex else c
    if isinstance(c, float):
        return f"{c:.15g}"
    if isinstance(c, sp.Basic) and latex and not c.is_Number:
        return f"${sp.latex(c)}$"
    return str(c)


def _text_table(headers: list, rows: list, caption: str) -> list[str]:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [caption] if caption else []
    for k, r in enumerate(cells):
        lines.append("  " + "  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip())
        if k == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


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
    import unicodedata

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


def _tex_escape(s: str) -> str:
    """Escape text for LaTeX, leaving ``$...$`` math spans untouched."""
    parts = s.split("$")
    for i in range(0, len(parts), 2):
        parts[i] = "".join(_TEX_SPECIAL.get(ch, ch) if ch.isascii() else _unicode_text(ch) for ch in parts[i])
    for i in range(1, len(parts), 2):
        parts[i] = _unicode_math(parts[i])
    return "$".join(parts)
