"""Every derivation renders to a standalone LaTeX document that pdflatex compiles without an
overfull line or a missing glyph, to Markdown, and to Unicode text without LaTeX.

Under CI (the CI environment variable set) a missing pdflatex is a failure; elsewhere the
compile tests skip with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp

from symrg.cli import load_derivation
from symrg.engine.marginalization import marginalize
from symrg.examples import seed_derivation
from symrg.model.energy import seed_dbm
from symrg.output.document import Derivation

ROOT = Path(__file__).resolve().parents[1]
DERIVATIONS = sorted((ROOT / "derivations").glob("*.py"))


def _pdflatex() -> str:
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is not installed but CI is set: .ci/run must install texlive-latex-base "
                        "and texlive-latex-recommended before the tests")
        pytest.skip("pdflatex is not installed (install texlive-latex-base texlive-latex-recommended); "
                    "this test only fails when CI is set")
    return exe


#: raw Python / sympy-str tokens that must never reach a LaTeX document (``\\log(`` is LaTeX, ``log(`` is not)
RAW_PYTHON = re.compile(r"\*\*|\boo\b|(?<![\\A-Za-z])(exp|log|sqrt|cosh|tanh)\(|Matrix\(|(?<![\\A-Za-z])(nu|lambda|kappa|sigma|rho)\b")


def _compile(doc: Derivation, tmp_path: Path, stem: str) -> str:
    exe = _pdflatex()
    tex = tmp_path / f"{stem}.tex"
    doc.write(tex, "latex")
    r = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", tex.name],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120, errors="replace")
    log = (tmp_path / f"{stem}.log").read_text(errors="replace") if (tmp_path / f"{stem}.log").exists() else r.stdout
    errors = [l for l in log.splitlines() if l.startswith("!")]
    assert r.returncode == 0 and not errors, f"pdflatex failed on {stem}:\n" + "\n".join(errors or log.splitlines()[-30:])
    assert (tmp_path / f"{stem}.pdf").stat().st_size > 1000
    return log


@pytest.fixture(scope="module", params=DERIVATIONS, ids=[p.stem for p in DERIVATIONS])
def derivation(request):
    return request.param.stem, load_derivation(request.param)


def test_there_are_derivation_scripts():
    assert len(DERIVATIONS) >= 3


def test_derivation_passes_its_checks(derivation):
    # every script's own numerical checks (tests/test_cli.py runs the `symrg derive` path on one script)
    stem, doc = derivation
    assert doc.checks, f"{stem} checks nothing"
    assert doc.passed, [(c.name, c.error, c.tolerance) for c in doc.checks if not c.passed]


def test_derivation_compiles_with_pdflatex(derivation, tmp_path):
    stem, doc = derivation
    log = _compile(doc, tmp_path, stem)
    assert log.count("Overfull \\hbox") == 0, [l for l in log.splitlines() if "Overfull" in l]
    assert "Missing character" not in log
    tex = (tmp_path / f"{stem}.tex").read_text()
    for pkg in (r"\usepackage[T1]{fontenc}", r"\usepackage{lmodern}", r"\usepackage{booktabs}"):
        assert pkg in tex
    raw = [(m.group(0), tex[max(m.start() - 40, 0): m.end() + 20]) for m in RAW_PYTHON.finditer(tex)]
    assert not raw, raw
    # no e-notation and no "1.395230356540 \times 10^{1}": a number of moderate size is a plain decimal
    assert not re.search(r"\d[eE][+-]?\d|\d\.\d+ \\times 10\^\{[0-4]\}", tex)
    # figures are written beside the document, and nothing else is written
    written = {p.name for p in tmp_path.iterdir() if p.suffix not in (".aux", ".log", ".pdf")}
    assert written == {f"{stem}.tex"} | {f.filename for f in doc.figures}
    for f in doc.figures:
        assert rf"\includegraphics[width={f.width}\linewidth]{{{f.filename}}}" in tex


def test_derivation_text_has_no_latex(derivation):
    stem, doc = derivation
    text = doc.render("text")
    assert "$" not in text and "\\" not in text
    assert "**" not in text and "Matrix(" not in text
    assert "Numeric checks" in text and "FAILED" not in text


def test_derivation_renders_markdown(derivation):
    stem, doc = derivation
    md = doc.render("markdown")
    assert md.startswith(f"# {doc.title}")
    eqs = [i for i in doc.items if i[0] == "equation"]
    assert md.count("$$") >= 2 * len(eqs)
    if doc.checks:
        assert "| check | computed | reference | error | tolerance |" in md
    for f in doc.figures:
        assert f"]({f.filename})" in md


def test_seed_document_contents(tmp_path):
    doc = seed_derivation(n_v=3, n_h=2, n_s=2)
    tex = doc.render("latex")
    assert tex.startswith(r"\documentclass") and r"\maketitle" in tex
    assert "Rule: Gaussian integral" in tex  # the rule used at each step
    assert r"C = \left(I - U U^{T}\right)^{-1}" in tex  # named intermediate
    assert r"Valid when $I - U U^{T} \succ 0$" in tex  # condition
    assert r"\section*{Numeric checks}" in tex and "check & computed & reference & error & tolerance" in tex
    _compile(doc, tmp_path, "seed")


def test_long_equations_unicode_and_wide_tables_compile(tmp_path):
    doc = Derivation("Stress: long sums, unicode — ν ≈ 1.34, β², and a wide table")
    doc.section("Explicit effective energy (hundreds of terms)", "Integrate out s, then h; K* ≈ 0.3047 → ∞.")
    H = marginalize(seed_dbm(4, 3, 3), "s", "h")
    doc.equation("H(v)", H, name="H(v)")
    x = sp.symbols("x0:80")
    doc.equation("S", sp.Add(*[sp.log(sp.cosh(xi)) * xi**2 for xi in x]))
    doc.table([f"column {k}" for k in range(14)], [[sp.Rational(1, 3) * k * j for k in range(14)] for j in range(3)], "wide")
    doc.check("α_1 & β_2 % #", 1.0, 1.0, 1e-12)
    doc.text("p(h) ∝ exp(−K′), ⟨s s′⟩ ∼ e^{−r/ξ}, ∮ and é; math $x ≤ y$.")
    doc.equation("ν′", sp.Symbol("x"))
    doc.table(["rule", "p ∝ e^{−E}"], [["majority ≥ 2", "≈ 0.3"]])
    tex = doc.render("latex")
    longest = max(len(line) for line in tex.splitlines())
    assert tex.count("\\\\\n") > 10 and longest < 400  # the long sums were broken into lines
    _compile(doc, tmp_path, "stress")


def test_one_markup_three_formats(tmp_path):
    from symrg.output.document import format_number, tex_to_unicode

    doc = Derivation("Markup")
    doc.text(r"Coarse spins $h$ drawn from $p(h \mid x)$, with $|d|^2 \le 1$ and $y_h > d$.")
    doc.equation(None, r"H(x) \approx H_0(x) - \sum_j A(\theta_j)")
    doc.table(["$b$", r"$\rho^{N+1}$"], [[2, 1.3952303565397544e1], [3, 3.4e-16]], digits=5)
    doc.check(r"relative error of $\log Z$", 2.1e-16, 0.0, 1e-12)
    doc.check("$K'$ against the closed form", 0.25, 0.25 + 2**-54, 1e-14)
    text = doc.render("text")
    assert "Coarse spins h drawn from p(h | x), with |d|² ≤ 1 and yₕ > d." in text
    assert "\n  H(x) ≈ H₀(x) - Σⱼ A(θⱼ)\n" in text  # no stray "= H(x)"
    assert "relative error of log Z: 2.1 × 10⁻¹⁶ (tolerance 10⁻¹²) passed" in text
    assert "K' against the closed form: 0.250000000000 vs 0.250000000000, difference 5.6 × 10⁻¹⁷" in text
    assert "ρᴺ⁺¹" in text and "13.952" in text and "3.4000 × 10⁻¹⁶" in text
    tex = doc.render("latex")
    assert r"$p(h \mid x)$" in tex and r"$y_h > d$" in tex
    assert r"\[" in tex and "= H(x)" not in tex
    assert r"$13.952$" in tex and r"$3.4000 \times 10^{-16}$" in tex
    assert r"relative error of $\log Z$ &  &  & $2.1 \times 10^{-16}$ & $10^{-12}$ \\" in tex
    md = doc.render("markdown")
    assert r"| $2$ |" not in md and "| 2 | $13.952$ |" in md
    assert r"$p(h \mid x)$" in md
    assert format_number(1.3952303565397544e1, 13, "text") == "13.95230356540"
    assert format_number(-2.846e-34, 3) == r"-2.85 \times 10^{-34}"
    assert tex_to_unicode(r"\sqrt{b_{1}^{2} + \pi^{2}}") == "√(b₁² + π²)"
    assert tex_to_unicode(r"\left|{W_{11}}\right| < \infty") == "|W₁₁| < ∞"
    _compile(doc, tmp_path, "markup")


def test_figures_are_written_beside_the_document_only(tmp_path):
    doc = Derivation("Figures")
    doc.figure("plot.txt", lambda p: p.write_text("x"), "A figure with $x^2$.")
    assert "Figure (plot.txt, written beside the document): A figure with x²." in doc.render("text")
    assert "![A figure with x².](plot.txt)" in doc.render("markdown")
    out = tmp_path / "sub" / "doc.md"
    written = doc.write(out, "markdown")
    assert written == [out, tmp_path / "sub" / "plot.txt"]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["doc.md", "plot.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["sub"]
    with pytest.raises(ValueError, match="bare file name"):
        doc.figure("../up.png", lambda p: None, "no")
    assert doc.render("text").count("Figure (") == 1


def test_long_equation_breaks_into_aligned_lines_that_fit(tmp_path):
    x = sp.symbols("x1:40")
    doc = Derivation("Breaks")
    doc.equation("S", sp.Add(*[sp.log(sp.cosh(xi)) * xi**2 for xi in x]))
    tex = doc.render("latex")
    assert r"\begin{aligned}" in tex and tex.count(r"&\quad") >= 5
    log = _compile(doc, tmp_path, "breaks")
    assert "Overfull \\hbox" not in log


def test_gallery_has_the_first_page_of_every_derivation():
    """docs/gallery/make_gallery.py renders page 1 of each document at 80 dpi (A4: 662 x 936 pixels)."""
    import struct

    for script in DERIVATIONS:
        png = ROOT / "docs" / "gallery" / f"{script.stem}.png"
        assert png.is_file(), f"{png} is missing: run python docs/gallery/make_gallery.py"
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", head[16:24]) == (662, 936)


def test_a_too_wide_term_breaks_inside_its_widest_parenthesis():
    from symrg.output.document import _open_parens

    term = (r"- \frac{1}{6} \left(3 W_{11}^{2} W_{21} + 3 W_{11} W_{21}^{2}\right) \left(\frac{1}{1 + e^{- b_{1}}} - "
            r"\frac{3}{\left(1 + e^{- b_{1}}\right)^{2}} + \frac{2}{\left(1 + e^{- b_{1}}\right)^{3}}\right)")
    pieces = _open_parens(term)
    assert pieces[0].endswith(r"\left(\frac{1}{1 + e^{- b_{1}}}\right.")
    assert pieces[1] == r"\left.- \frac{3}{\left(1 + e^{- b_{1}}\right)^{2}}\right."
    assert pieces[2] == r"\left.+ \frac{2}{\left(1 + e^{- b_{1}}\right)^{3}}\right)"
    # never inside a brace group: a fraction's numerator is not opened
    assert _open_parens(r"\frac{\left(a + b\right)}{2}") is None
