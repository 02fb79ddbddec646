r"""Check a page of notes at once: every equation that names a result of a derivation.

:func:`check_notes` reads a LaTeX or Markdown note, finds its displayed equations
(``equation``/``align``/``gather``/``multline`` environments and their rows,
``$$...$$``, ``\[...\]``, and inline ``$...$``), keeps those whose left side names a
result of the derivation (``K' = ...``, ``h'``, ``H(v) = ...``; a result recorded as
``"K' (b=2)"`` is named ``K'`` in a note), and verifies each right-hand side (every
link of a chain ``K' = A = B``) with :func:`symrg.verify.verdict.verify`.  A left side
that is an expression of one result, such as ``\tanh K' = \tanh^2 K``, is checked by
putting the derived result into it.  The report lists one row per check, the results
the note does not mention (unchecked), and the equations it could not read (with
their position).  Nothing in the note is executed: claims are read by
:mod:`symrg.verify.latex_reader`.

Examples
--------
>>> import sympy as sp
>>> K = sp.Symbol("K", real=True)
>>> note = r'''
... The decimated coupling is
... \begin{equation} K' = \tfrac12 \ln\cosh 2K , \end{equation}
... and the field $h' = 0$ stays zero.
... '''
>>> report = check_notes(note, {"K'": sp.log(sp.cosh(2*K))/2, "u'": sp.tanh(K)**2})
>>> [(c.result, c.status) for c in report.checks], report.unchecked
([("K'", 'equal')], ("u'",))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.errors import ClaimError, SymrgError
from symrg.model.naming import latex_name, model_symbols
from symrg.verify.diagnosis import Diagnosis, diagnose
from symrg.verify.latex_reader import name_key, read_equations, read_latex
from symrg.verify.parsing import Namespace
from symrg.verify.verdict import Verdict, resolve_result, verify, verify_result

__all__ = ["NoteCheck", "NotesReport", "check_notes", "diagnosis_of", "find_math", "overall_status", "verify_latex"]

_ENVS = r"(?:equation|align|gather|multline|eqnarray|flalign|displaymath)\*?"
_MATH = re.compile(
    r"\\begin\{(?P<env>" + _ENVS + r")\}(?P<body1>.*?)\\end\{(?P=env)\}"
    r"|\$\$(?P<body2>.*?)\$\$"
    r"|\\\[(?P<body3>.*?)\\\]"
    r"|(?<![\\$])\$(?P<body4>[^$\n]+?)\$(?!\$)",
    re.DOTALL,
)
_COMMENT = re.compile(r"(?<!\\)%[^\n]*")
_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def find_math(text: str, markdown: bool = False) -> list[tuple[str, int]]:
    r"""The math blocks of a note with the position of their first character.

    >>> find_math(r"a $x = 1$ and \[ K' = 2K \] % $y = 2$")
    [('x = 1', 3), (" K' = 2K ", 16)]
    """
    blank = _COMMENT if not markdown else _FENCE
    clean = blank.sub(lambda m: " " * len(m.group(0)), text)
    out = []
    for m in _MATH.finditer(clean):
        for g in ("body1", "body2", "body3", "body4"):
            if m.group(g) is not None:
                out.append((m.group(g), m.start(g)))
    return out


@dataclass(frozen=True)
class NoteCheck:
    """One equation of the note compared with one result.

    ``status`` is a verdict status (``"equal"``, ``"consistent"``, ``"not equal"``,
    ``"undecided"``) or ``"bad input"`` (the equation could not be read; ``message``
    says where).
    """

    result: str
    claim: str
    line: int
    status: str
    verdict: Verdict | None = field(default=None, repr=False)
    message: str = ""
    diagnosis: Diagnosis | None = None

    def how(self) -> str:
        return self.verdict.method if self.verdict is not None else ""


@dataclass(frozen=True)
class NotesReport:
    """The verdicts on a note: ``checks``, ``unchecked`` results, ``unread`` equations."""

    checks: tuple[NoteCheck, ...]
    unchecked: tuple[str, ...]
    unread: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Every equation naming a result was read and agrees with it."""
        return bool(self.checks) and all(c.status in ("equal", "consistent") for c in self.checks)

    def table(self) -> str:
        """A plain-text table, one row per check, then the unchecked results."""
        rows = [("result", "line", "verdict", "method", "claim")]
        for c in self.checks:
            claim = c.claim if len(c.claim) <= 60 else c.claim[:57] + "..."
            rows.append((c.result, str(c.line), c.status.upper(), c.how(), claim))
        widths = [max(len(r[k]) for r in rows) for k in range(4)]
        lines = []
        for n, r in enumerate(rows):
            lines.append("  ".join(r[k].ljust(widths[k]) for k in range(4)) + "  " + r[4])
            if n == 0:
                lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 5)
        for c in self.checks:
            if c.status not in ("equal", "consistent"):
                detail = c.message or (c.verdict.text() if c.verdict is not None else "")
                if c.diagnosis is not None and c.diagnosis.text() not in detail:
                    detail = c.diagnosis.text() + "\n" + detail
                lines.append("")
                lines.append(f"{c.result} (line {c.line}): " + detail.replace("\n", "\n    "))
        if not self.checks:
            lines.append("(no equation of the note names a result)")
        if self.unchecked:
            lines.append("")
            lines.append("unchecked (no equation in the note): " + ", ".join(self.unchecked))
        if self.unmatched:
            lines.append("not compared (no result of that name): " + ", ".join(self.unmatched))
        for u in self.unread:
            lines.append("could not read: " + u.replace("\n", "\n    "))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def overall_status(report: NotesReport) -> str:
    """One status for a whole note, the most serious first.

    ``"not equal"`` if any equation disagrees with its result, else ``"bad input"`` if an
    equation naming a result could not be read (or none names a result), else
    ``"undecided"``, ``"consistent"``, ``"equal"``.
    """
    found = {c.status for c in report.checks}
    if not found:
        return "bad input"
    for status in ("not equal", "bad input", "undecided", "consistent"):
        if status in found:
            return status
    return "equal"


def _base(name: str) -> str:
    """The name of a result as a note writes it: ``"K' (b=2)"`` -> ``"K'"``."""
    return name_key(re.sub(r"\s+\([^()]*\)\s*$", "", name))


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _derived(results: Any, name: str) -> Any:
    if isinstance(results, Mapping):
        return results[name]
    value, _ = resolve_result(results, name)
    return value


def _symbol_keys(results: Any, name: str) -> tuple[str, ...]:
    r"""The key of ``H(v, h1)`` as the model's LaTeX writes its left side, ``H(v, h^{(1)})``
    (the layers' symbols, :func:`symrg.model.naming.model_symbols`), when the result is a model."""
    m = re.fullmatch(r"\s*([^()]+)\(([^()]*)\)\s*", name)
    if m is None:
        return ()
    try:
        derived = _derived(results, name)
    except (SymrgError, KeyError, LookupError):
        return ()
    args = [a.strip() for a in m.group(2).split(",")]
    if hasattr(derived, "rhs_latex") and hasattr(derived, "energy"):
        syms = model_symbols(derived)
    else:  # a result kept as an expression (a document's): the layers' default symbols
        syms = {a: latex_name(a) for a in args if a and latex_name(a) != a}
    if not any(a in syms for a in args):
        return ()
    return (name_key(m.group(1) + "(" + ",".join(syms.get(a, a) for a in args) + ")"),)


def verify_latex(results: Any, name: str, text: str, **kwargs: Any) -> Verdict:
    r"""Read the LaTeX claim ``text`` with the names of result ``name``, then verify it.

    ``results`` is a derivation document or a mapping ``{name: derived}``; ``kwargs`` go to
    :func:`symrg.verify.verdict.verify`.  A malformed claim raises :class:`ClaimError`.

    >>> import sympy as sp
    >>> K = sp.Symbol("K", real=True)
    >>> verify_latex({"K'": sp.log(sp.cosh(2*K))/2}, "K'", r"\ln\sqrt{\cosh 2K}").status
    'equal'
    """
    where: Any
    if isinstance(results, Mapping):
        derived, where = results[name], {}
    else:
        derived, where = resolve_result(results, name)
    ns = Namespace(strict=True)
    ns.add_expression(derived)
    for k, v in dict(where).items():
        if isinstance(k, sp.MatrixSymbol):
            ns.add(k)
            ns.add_expression(v)
    claim = read_latex(text, ns)
    if isinstance(results, Mapping):
        return verify(claim, derived, **kwargs)
    return verify_result(results, name, claim, **kwargs)


def check_notes(note: str | Path, results: Any, markdown: bool | None = None, **verify_kwargs: Any) -> NotesReport:
    r"""Verify every equation of ``note`` whose left side names a result.

    Parameters
    ----------
    note
        The text of a note, or a path to a ``.tex`` or ``.md`` file.
    results
        A derivation document (:class:`symrg.output.document.Derivation`, its named
        ``results``) or a mapping ``{name: derived object}``.
    markdown
        Read the note as Markdown (code fences skipped, ``%`` is no comment); by default
        a ``.md`` path is Markdown and anything else LaTeX.
    **verify_kwargs
        Passed to :func:`symrg.verify.verdict.verify` (``seed``, ``n_points`` ...).

    Returns
    -------
    NotesReport
    """
    if isinstance(note, Path) or (isinstance(note, str) and "\n" not in note and note.endswith((".tex", ".md"))
                                  and Path(note).is_file()):
        path = Path(note)
        markdown = path.suffix == ".md" if markdown is None else markdown
        note = path.read_text()
    markdown = bool(markdown)
    names = list(results.keys()) if isinstance(results, Mapping) else list(getattr(results, "results", {}))
    by_base: dict[str, list[str]] = {}
    for n in names:
        for base in dict.fromkeys((_base(n), name_key(n), *_symbol_keys(results, n))):
            by_base.setdefault(base, []).append(n)
    checks: list[NoteCheck] = []
    unread: list[str] = []
    unmatched: list[str] = []
    mentioned: set[str] = set()
    for block, start in find_math(note, markdown):
        try:
            eqs = read_equations(block, read=False)  # the structure; sides are read per result
        except ClaimError as e:
            guess = re.match(r"\s*(?:\\begin\{\w+\*?\}\s*)?([^=&]{1,40}?)\s*&?=", block)
            key = name_key(guess.group(1)) if guess else None
            line = _line(note, start + getattr(e, "position", 0))
            if key in by_base:
                for n in by_base[key]:
                    mentioned.add(n)
                checks.append(NoteCheck(by_base[key][0], block.strip(), line, "bad input", None, str(e)))
            else:
                unread.append(f"line {line}: {e}")
            continue
        for eq in eqs:
            line = _line(note, start + eq.position)
            key = eq.name if eq.name is not None else name_key(eq.lhs_text) if eq.lhs_text else None
            if key is not None and key in by_base:
                for text in eq.texts:
                    checks.append(_check_named(results, by_base[key], text, line, mentioned, verify_kwargs))
            elif eq.name is not None:
                unmatched.append(eq.name)
            elif eq.lhs_text:
                row = _lhs_check(results, by_base, eq, line, mentioned, verify_kwargs)
                if row is not None:
                    checks.append(row)
    unchecked = tuple(n for n in names if n not in mentioned)
    return NotesReport(tuple(checks), unchecked, tuple(unread), tuple(dict.fromkeys(unmatched)))


def _check_named(results: Any, cands: list[str], text: str, line: int, mentioned: set, kwargs: dict) -> NoteCheck:
    """Compare one right-hand side with the first candidate result it fits."""
    first: NoteCheck | None = None
    for name in cands:
        try:
            v = verify_latex(results, name, text, **kwargs)
        except ClaimError as e:
            row = NoteCheck(name, text, line, "bad input", None, str(e))
            first = first or row
            continue
        except SymrgError as e:
            row = NoteCheck(name, text, line, "undecided", None, str(e))
            first = first or row
            continue
        row = NoteCheck(name, text, line, v.status, v, diagnosis=diagnosis_of(v))
        if v.status in ("equal", "consistent"):
            mentioned.add(name)
            return row
        if first is None or first.status == "bad input":
            first = row
    if first is None:  # pragma: no cover - cands is never empty
        raise ValueError("no candidate result")
    mentioned.add(first.result)
    return first


def _lhs_check(results: Any, by_base: dict, eq: Any, line: int, mentioned: set, kwargs: dict) -> NoteCheck | None:
    r"""``\tanh K' = \tanh^2 K``: the left side is a scalar expression of one scalar result."""
    try:
        lhs = read_latex(eq.lhs_text, Namespace())
    except ClaimError:
        return None
    syms = [s for s in getattr(lhs, "free_symbols", set()) if isinstance(s, sp.Symbol) and name_key(s.name) in by_base]
    if len(syms) != 1 or _is_matrix(lhs):
        return None
    sym = syms[0]
    name = by_base[name_key(sym.name)][0]
    try:
        derived = _derived(results, name)
    except SymrgError as e:
        return NoteCheck(name, eq.texts[0], line, "undecided", None, str(e))
    if not isinstance(derived, sp.Expr) or _is_matrix(derived):
        return None
    mentioned.add(name)
    ns = Namespace.from_expressions([derived], strict=False)
    try:
        lhs = read_latex(eq.lhs_text, ns)
        rhs = read_latex(eq.texts[0], ns)
        primed = next(s for s in lhs.free_symbols if getattr(s, "name", None) == sym.name)
        v = verify(rhs, lhs.xreplace({primed: derived}), **kwargs)
    except ClaimError as e:
        return NoteCheck(name, eq.texts[0], line, "bad input", None, str(e))
    return NoteCheck(name, f"{eq.lhs_text} = {eq.texts[0]}", line, v.status, v, diagnosis=diagnosis_of(v))


def _is_matrix(x: Any) -> bool:
    return isinstance(x, (MatrixExpr, sp.MatrixBase))


def diagnosis_of(v: Verdict) -> Diagnosis | None:
    """The verdict's diagnosis, or one computed here for a "not equal" verdict without it."""
    if v.status != "not equal":
        return None
    found = getattr(v, "diagnosis", None)
    if isinstance(found, Diagnosis) or found is not None:
        return found
    if v.claim is None or v.derived is None:
        return None
    return diagnose(v.claim, v.derived)
