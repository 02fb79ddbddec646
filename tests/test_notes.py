"""Whole notes: every equation naming a result is verified; a table of verdicts, unchecked results listed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from symrg.cli import load_derivation
from symrg.verify.notes import check_notes, find_math

ROOT = Path(__file__).resolve().parents[1]
K, h, g = sp.symbols("K h g", real=True)

# K', h', g' of the b = 2 decimation as Pathria writes them; g' deliberately wrong (1/2 for 1/4)
NOTE_TEX = r"""\documentclass{article}
\begin{document}
Decimating every other spin of the chain gives
\begin{align}
  K' &= \tfrac14 \ln\frac{\cosh(2K+h)\cosh(2K-h)}{\cosh^2 h} , \\
  h' &= h + \tfrac12 \ln\frac{\cosh(2K+h)}{\cosh(2K-h)} , \\
  g' &= 2g + \ln 2 + \tfrac12 \ln\bigl[\cosh(2K+h)\cosh(2K-h)\cosh^2 h\bigr] . % wrong on purpose
\end{align}
\end{document}
"""


@pytest.fixture(scope="module")
def chain_doc():
    return load_derivation(ROOT / "derivations" / "ising_chain_decimation.py")


def test_a_note_with_three_recursions_one_wrong(chain_doc, tmp_path):
    path = tmp_path / "notes.tex"
    path.write_text(NOTE_TEX)
    report = check_notes(path, chain_doc)
    assert [(c.result, c.line, c.status) for c in report.checks] == [
        ("K' (b=2)", 5, "equal"), ("h' (b=2)", 6, "equal"), ("g' (b=2)", 7, "not equal")]
    wrong = report.checks[2]
    assert wrong.diagnosis is not None and wrong.diagnosis.kind in ("term coefficient", "factor")
    assert "K' (general b)" in report.unchecked and "beta(u)" in report.unchecked
    assert not report.passed
    table = report.table()
    assert "NOT EQUAL" in table and "unchecked (no equation in the note): K' (general b)" in table
    # the counterexample is real: recompute both sides independently at the reported point
    ce = wrong.verdict.counterexample
    Kv, hv, gv = (float(ce.values[n]) for n in ("K", "h", "g"))
    import math
    cp, cm, ch = math.cosh(2 * Kv + hv), math.cosh(2 * Kv - hv), math.cosh(hv)
    assert abs(float(ce.claimed) - (2 * gv + math.log(2) + math.log(cp * cm * ch**2) / 2)) < 1e-9
    assert abs(float(ce.derived) - (2 * gv + math.log(16 * cp * cm * ch**2) / 4)) < 1e-9


def test_markdown_notes_chains_and_implicit_equations():
    results = {
        "K'": sp.atanh(sp.tanh(K) ** 2),
        "xi": -1 / sp.log(sp.tanh(K)),
        "f": sp.log(2 * sp.cosh(K)),
    }
    note = r"""# Zero-field chain

Decimation gives $$\tanh K' = \tanh^2 K ,$$ so the correlation length is

$$ \xi = -\frac{1}{\ln\tanh K} = \frac{1}{\ln\coth K} . $$

```
$f = 0$   (code fences are not read)
```
and the inline $m = 0$ names no result.
"""
    report = check_notes(note, results, markdown=True)
    assert [c.result for c in report.checks] == ["K'", "xi", "xi"]
    assert [c.status for c in report.checks][:2] == ["equal", "equal"]
    assert report.checks[2].status in ("equal", "consistent")  # 1/log(coth K): no proof needed to agree
    assert report.unchecked == ("f",) and report.unmatched == ("m",) and report.passed


def test_unreadable_and_hostile_equations_are_reported_not_run(tmp_path):
    canary = tmp_path / "CANARY"
    note = (r"\[ K' = \frac{1}{2 \]" "\n"
            rf"\begin{{equation}} h' = \input{{{canary}}} \end{{equation}}" "\n"
            r"\[ g' = \ln 2 \]")
    report = check_notes(note, {"K'": K, "h'": h, "g'": sp.log(2)})
    rows = {c.result: c for c in report.checks}
    assert rows["K'"].status == "bad input" and "position" in rows["K'"].message and "^" in rows["K'"].message
    assert rows["h'"].status == "bad input" and r"\input is refused" in rows["h'"].message
    assert rows["g'"].status == "equal"
    assert not canary.exists()


def test_find_math_skips_comments():
    assert [b for b, _ in find_math("% $x = 1$\n$y = 2$ \\[z\\]")] == ["y = 2", "z"]


def test_symrg_verify_derivation_and_note_prints_the_three_verdicts(tmp_path, capsys):
    from symrg.cli import EXIT, main

    note = tmp_path / "notes.tex"
    note.write_text(NOTE_TEX)
    status = main(["verify", str(ROOT / "derivations" / "ising_chain_decimation.py"), str(note)])
    out = capsys.readouterr().out
    assert status == EXIT["not equal"]
    rows = [ln.split() for ln in out.splitlines() if ln.startswith(("K' (b=2)", "h' (b=2)", "g' (b=2)"))]
    assert [(r[0], r[2], r[3]) for r in rows[:3]] == [("K'", "5", "EQUAL"), ("h'", "6", "EQUAL"), ("g'", "7", "NOT")]
    assert "g' (b=2) (line 7): " in out and "counterexample" in out
    assert out.count("coefficient of one term: the term") == 1  # the diagnosis, printed once
    assert "unchecked (no equation in the note): K' (general b)" in out
    # a note of correct equations only exits 0 (all proved)
    good = tmp_path / "good.md"
    good.write_text("$$K' = \\tfrac14\\ln\\frac{\\cosh(2K+h)\\cosh(2K-h)}{\\cosh^2 h}$$\n")
    assert main(["verify", str(ROOT / "derivations" / "ising_chain_decimation.py"), "--notes", str(good)]) == EXIT["equal"]


def test_matrix_results_named_by_their_expression():
    from symrg.examples import seed_derivation

    note = (r"$$ H(\mathbf{v}) = -\mathbf{a}^{\top}\mathbf{v} - \tfrac{1}{2}\bigl(\mathbf{b} + U\mathbf{c} + W^{\top}"
            r"\mathbf{v}\bigr)^{\top} C \bigl(\mathbf{b} + U\mathbf{c} + W^{\top}\mathbf{v}\bigr) - \tfrac{1}{2}"
            r"\mathbf{c}^{\top}\mathbf{c} - \frac{n_h + n_s}{2}\ln 2\pi + \tfrac{1}{2}\ln\det\bigl(I - U U^{\top}\bigr) $$"
            "\n" r"with $C = (I - U U^{\top})^{-1}$ and $W C W^{\top} = W C^{\top} W^{T}$.")
    report = check_notes(note, seed_derivation(), markdown=True)
    assert [c.result for c in report.checks] == ["H(v)", "C", "W C W^T"]
    assert all(c.status in ("equal", "consistent") for c in report.checks), report.table()
    assert report.unchecked == ("H(v,h)",)
