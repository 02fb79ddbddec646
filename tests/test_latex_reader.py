"""The paper-notation LaTeX reader and hand-typed sympy syntax: what they read, and where they point."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from symrg.errors import ClaimError
from symrg.model.energy import seed_dbm
from symrg.verify.latex_reader import (
    HOSTILE_COMMANDS,
    name_key,
    normalize_sympy_syntax,
    read_equations,
    read_latex,
    sympy_syntax_tree,
)
from symrg.verify.parsing import Namespace, parse_claim, parse_sympy

DATA = Path(__file__).resolve().parent / "data" / "claims"

K, h, x, y, a, b, g = sp.symbols("K h x y a b g", real=True)
Kp = sp.Symbol("K'", real=True)
cp, cm = sp.cosh(2 * K + h), sp.cosh(2 * K - h)

# (LaTeX as papers write it, the same formula built directly with sympy constructors)
READS = [
    (r"\cosh^2 h", sp.cosh(h) ** 2),
    (r"\ln^2 x", sp.log(x) ** 2),
    (r"\cosh^{2}(h) - \sinh^{2}h", sp.cosh(h) ** 2 - sp.sinh(h) ** 2),
    (r"\ln x + \log y", sp.log(x) + sp.log(y)),
    (r"\exp(x) \tanh y", sp.exp(x) * sp.tanh(y)),
    (r"\operatorname{artanh} x + \operatorname{sech}(y)", sp.atanh(x) + sp.sech(y)),
    (r"\mathrm{arctanh}\,x", sp.atanh(x)),
    (r"\tanh^{-1} x", sp.atanh(x)),
    (r"\frac{1}{4} + \tfrac{1}{2} + \dfrac{x}{3}", sp.Rational(3, 4) + x / 3),
    (r"\frac14 x + \frac\pi2", x / 4 + sp.pi / 2),
    (r"\sqrt[3]{x} + \sqrt{y} + \sqrt2", x ** sp.Rational(1, 3) + sp.sqrt(y) + sp.sqrt(2)),
    (r"\left( x + y \right)\left[ x - y \right]", (x + y) * (x - y)),
    (r"\bigl( x + y \bigr) \Big[ x - y \Big] \biggl\{ 2 \biggr\}", 2 * (x + y) * (x - y)),
    (r"a \cdot b \times 2 * x", 2 * a * b * x),
    (r"2K + K h", 2 * K + K * h),
    (r"2\cosh 2K", 2 * sp.cosh(2 * K)),
    (r"2\cosh(2K)\sinh 2K", 2 * sp.cosh(2 * K) * sp.sinh(2 * K)),
    (r"\log 2\pi", sp.log(2 * sp.pi)),
    (r"\ln\cosh 2K", sp.log(sp.cosh(2 * K))),
    (r"\ln\frac{\cosh(2K+h)}{\cosh(2K-h)}", sp.log(cp / cm)),
    (r"\log_2 x", sp.log(x) / sp.log(2)),
    (r"K'", Kp),
    (r"K^{\prime} + K^\prime", 2 * Kp),
    (r"J_{ij} + K_0' + K_{0}^{\prime\prime}",
     sp.Symbol("J_{ij}", real=True) + sp.Symbol("K_0'", real=True) + sp.Symbol("K_0''", real=True)),
    (r"K' = \frac{1}{2}\ln\cosh 2K", sp.log(sp.cosh(2 * K)) / 2),
    (r"h' = h + \tfrac12 \ln\frac{\cosh(2K+h)}{\cosh(2K-h)},", h + sp.log(cp / cm) / 2),
    (r"$x + y$.", x + y),
    (r"$$ x + y; $$", x + y),
    (r"\[ x \, y \; a \quad b \]", x * y * a * b),
    (r"\begin{equation} K' = 2K \label{eq:k} \end{equation}", 2 * K),
    (r"\begin{align*} K' &= 2K . \nonumber \end{align*}", 2 * K),
    ("a \u2212 b", a - b),
    ("\u03b1 + \u03b2 \u00b7 \u03c0", sp.Symbol("alpha", real=True) + sp.Symbol("beta", real=True) * sp.pi),
    (r"\alpha K'", sp.Symbol("alpha", real=True) * Kp),
    (r"e^{x} + \mathrm{e}^{y} + \mathrm{e}", sp.exp(x) + sp.exp(y) + sp.E),
    (r"|x| + 2\left|y\right| + \lvert a \rvert", sp.Abs(x) + 2 * sp.Abs(y) + sp.Abs(a)),
    (r"\ln|x|", sp.log(sp.Abs(x))),
    (r"\exp\left[-\beta J\right]", sp.exp(-sp.Symbol("beta", real=True) * sp.Symbol("J", real=True))),
    (r"g' = 2g + \ln 2 + \tfrac14\ln\bigl[\cosh(2K+h)\cosh(2K-h)\cosh^2 h\bigr]",
     2 * g + sp.log(2) + sp.log(cp * cm * sp.cosh(h) ** 2) / 4),
    (r"\begin{pmatrix} a & b \\ x & y \end{pmatrix}^{T}", sp.ImmutableMatrix([[a, x], [b, y]])),
    (r"\begin{vmatrix} a & b \\ x & y \end{vmatrix}", a * y - b * x),
    ("K\u2032 = 2K\u00b2", 2 * K**2),
]


@pytest.mark.parametrize("text,expected", READS, ids=[t for t, _ in READS])
def test_paper_notation_reads_as_written(text, expected):
    got = read_latex(text)
    if isinstance(expected, sp.MatrixBase):
        assert sp.ImmutableMatrix(got) == expected
    else:
        assert sp.simplify(got - expected) == 0, (got, expected)
        assert got == expected or sp.expand(got - expected) == 0


def test_matrix_claims_keep_working_through_parse_claim():
    ns = Namespace.from_model(seed_dbm())
    ref = parse_claim("-a.T*v + log(det(1 - U*U.T))/2", ns)
    assert read_latex(r"-a^{T} v + \tfrac{1}{2}\ln\det\bigl(I - U U^{\top}\bigr)", ns) == ref
    assert read_latex(r"-a^{\mathsf{T}} v + \frac12\log\det\left(1 - U U^{T}\right),", ns) == ref


def test_equations_of_an_align_environment_with_a_chain():
    eqs = read_equations(r"""\begin{align}
        K' &= \tfrac14 \ln\frac{\cosh(2K+h)\cosh(2K-h)}{\cosh^2 h} \\   % the coupling
        &= \tfrac14\ln\cosh(2K+h) + \tfrac14\ln\cosh(2K-h) - \tfrac12\ln\cosh h, \\
        \tanh K' &= \tanh^2 K .
    \end{align}""")
    assert [e.name for e in eqs] == ["K'", None]
    assert len(eqs[0].sides) == 2 and sp.simplify(sp.expand_log(eqs[0].sides[0] - eqs[0].sides[1], force=True)) == 0
    assert eqs[1].lhs == sp.tanh(Kp) and eqs[1].sides == (sp.tanh(K) ** 2,)
    assert eqs[0].texts[1].startswith(r"\tfrac14\ln\cosh(2K+h)")


def test_result_names_match_however_they_are_spelled():
    assert name_key(r"K^{\prime}") == name_key("K'") == name_key("K\u2032") == "K'"
    assert name_key(r"H(\mathbf{v})") == "H(v)" and name_key(r"\beta(u)") == "beta(u)"
    eqs = read_equations(r"H(v) = x \\ \beta(u) = u\ln u \\ K_0^{\prime} = 1")
    assert [e.name for e in eqs] == ["H(v)", "beta(u)", "K_0'"]


def test_a_strict_namespace_still_refuses_unknown_names_with_a_position():
    ns = Namespace.from_expressions([K, h], strict=True)
    with pytest.raises(ClaimError, match="unknown name 'q'") as e:
        read_latex(r"\cosh 2K + q", ns)
    assert e.value.position == 11
    with pytest.raises(ClaimError, match=r"unknown name 'e' \(write \\mathrm\{e\}"):
        read_latex("2e", ns)


def _caret_corpus(path: Path) -> list[tuple[str, int]]:
    entries = []
    for block in path.read_text().split("\n\n"):
        lines = [ln for ln in block.split("\n") if not ln.startswith("#") and ln != ""]
        if not lines:
            continue
        assert len(lines) == 2 and lines[1].strip() == "^", block
        entries.append((lines[0], lines[1].index("^")))
    return entries


BAD_LATEX = _caret_corpus(DATA / "bad_latex.txt")
BAD_SYMPY = _caret_corpus(DATA / "bad_sympy.txt")


@pytest.mark.parametrize("text,pos", BAD_LATEX, ids=[t for t, _ in BAD_LATEX])
def test_every_latex_error_points_at_its_position(text, pos):
    with pytest.raises(ClaimError) as e:
        read_latex(text)
    assert e.value.position == pos, str(e.value)
    msg = str(e.value)
    assert f"(position {pos})" in msg
    line, mark = msg.splitlines()[-2:]
    assert line.strip() == text.strip() and mark.index("^") - 2 == pos


@pytest.mark.parametrize("text,pos", BAD_SYMPY, ids=[t for t, _ in BAD_SYMPY])
def test_every_sympy_syntax_error_points_at_its_position(text, pos):
    with pytest.raises(ClaimError) as e:
        sympy_syntax_tree(text, Namespace())
    assert e.value.position == pos, str(e.value)
    assert str(e.value).splitlines()[-1].index("^") - 2 == pos


def test_the_bad_input_corpora_are_not_trivial():
    assert len(BAD_LATEX) >= 24 and len(BAD_SYMPY) >= 10


@pytest.mark.parametrize("cmd", ["input", "include", "def", "csname", "catcode", "write", "immediate", "newcommand", "let"])
def test_hostile_latex_commands_are_refused_by_name(cmd, tmp_path):
    canary = tmp_path / "CANARY"
    assert cmd in HOSTILE_COMMANDS
    for text in (rf"\{cmd}{{{canary}}}", rf"K' = \frac14 \{cmd} x", rf"\begin{{equation}} x + \{cmd}\y \end{{equation}}"):
        with pytest.raises(ClaimError, match=rf"\\{cmd} is refused") as e:
            read_latex(text)
        assert e.value.position == text.index("\\" + cmd)
        with pytest.raises(ClaimError):
            read_equations(text)
    assert not canary.exists()


SYMPY_TYPED = [
    ("2K", 2 * K),
    ("2 cosh(K) sinh(K)", 2 * sp.cosh(K) * sp.sinh(K)),
    ("K*h + (a + b)(a - b) + 2(a)b", K * h + (a + b) * (a - b) + 2 * a * b),
    ("2K'", 2 * Kp),
    ("K' = log(cosh(2K))/2", sp.log(sp.cosh(2 * K)) / 2),
    ("x \u2212 1", x - 1),
    ("\u03b1*x", sp.Symbol("alpha", real=True) * x),
    ("K'^2 + x^2", Kp**2 + x**2),
    ("1e-3*x", x / 1000),
]


@pytest.mark.parametrize("text,expected", SYMPY_TYPED, ids=[t for t, _ in SYMPY_TYPED])
def test_sympy_syntax_as_people_type_it(text, expected):
    tree, ns = sympy_syntax_tree(text, Namespace())
    from symrg.verify.parsing import _AstBuilder

    b = _AstBuilder(ns)
    b.check(tree)
    assert sp.expand(b.build(tree) - expected) == 0


def test_two_names_side_by_side_stay_an_error_in_sympy_syntax():
    with pytest.raises(ClaimError, match="position 2"):
        sympy_syntax_tree("x y", Namespace())


def test_normalizing_keeps_strings_as_strings():
    # quotes that open strings are left alone, so the whitelist refuses the literal
    assert normalize_sympy_syntax("log('x')")[0] == "log('x')"
    assert normalize_sympy_syntax("b'bytes'")[0] == "b'bytes'"
    with pytest.raises(ClaimError, match="literal"):
        parse_sympy("b'bytes'")


def test_log_of_a_number_times_a_function_reads_as_papers_mean_it():
    assert read_latex(r"\ln 2\cosh x") == sp.log(2 * sp.cosh(x))
    assert read_latex(r"\tanh K \tanh h") == sp.tanh(K) * sp.tanh(h)
    assert read_equations(r"\mathsf{T} = 1")[0].name == "T"


def _new_hostile(canary: Path) -> list[str]:
    c = str(canary)
    return [
        rf"K' = \frac14 \input{{{c}}}",
        rf"\begin{{equation}} K' = 2K \label{{eq:\input{{{c}}}}} \end{{equation}}",
        rf"x % a comment \immediate\write18{{touch {c}}}",
        r"$\catcode`\^=7 x$",
        rf"\begin{{align}} K' &= 2K \\ h' &= \def\x{{open('{c}', 'w')}} \end{{align}}",
        r"\begin{pmatrix} \csname x\endcsname & 1 \end{pmatrix}",
        r"\operatorname{__import__}(os)",
        r"\mathrm{eval}(x)",
        rf"\cosh^{{\include{{{c}}}}} h",
        rf"\sqrt[\input{{{c}}}]{{x}}",
        r"K^{\prime} = \let\a\b 1",
        rf"\begin{{verbatim}} open('{c}', 'w') \end{{verbatim}}",
        f"K' = open('{c}', 'w')",
        f"K' = 2K + __import__('os').system('touch {c}')",
        f"2K' + exec('open({c!r})')",
        "K'' + \u03b1.__class__",
    ]


def test_new_constructs_keep_hostile_input_out(tmp_path):
    canary = tmp_path / "CANARY"
    strings = _new_hostile(canary)
    open_ns = Namespace.from_model(seed_dbm(2, 2, 1), strict=False)
    for s in strings:
        for syntax in ("auto", "latex", "sympy"):
            with pytest.raises(ClaimError):
                parse_claim(s, open_ns, syntax=syntax)
        with pytest.raises(ClaimError):
            read_equations(s, Namespace())
    assert not canary.exists()


def test_the_reader_never_hands_text_to_an_evaluator():
    import re

    root = Path(__file__).resolve().parents[1] / "symrg" / "verify"
    for name in ("latex_reader.py", "notes.py", "diagnosis.py"):
        code = "\n".join(ln for ln in (root / name).read_text().splitlines() if not ln.lstrip().startswith(("#", ">>>")))
        for forbidden in (r"\bsympify\(", r"\bparse_expr\(", r"(?<![\w.])eval\(", r"(?<![\w.])exec\(",
                          r"(?<![\w.])compile\(", r"__import__\(", r"\blambdify\("):
            assert not re.search(forbidden, code), (name, forbidden)


def test_nested_absolute_values_pair_as_written():
    """\\left| / \\right| (and \\lvert / \\rvert, \\bigl| / \\bigr|) say which side a bar is on."""
    K = sp.Symbol("K", real=True)
    x, y = sp.symbols("x y", real=True)
    assert read_latex(r"\left|{K \left|{K}\right|}\right|") == sp.Abs(K * sp.Abs(K))
    # the printer's own output of that expression reads back
    assert read_latex(sp.latex(sp.Abs(K * sp.Abs(K)))) == sp.Abs(K * sp.Abs(K))
    assert read_latex(r"\lvert x \lvert y \rvert \rvert") == sp.Abs(x * sp.Abs(y))
    assert read_latex(r"\bigl| x \Bigl\lvert y \Bigr\rvert \bigr| + 1") == sp.Abs(x * sp.Abs(y)) + 1
    assert read_latex(r"\left| x |y| \right|") == sp.Abs(x * sp.Abs(y))  # bare bars inside start over
    assert read_latex(r"\left|x\right| \left|y\right|") == sp.Abs(x) * sp.Abs(y)
    assert read_latex(r"\ln\left|x\right|") == sp.log(sp.Abs(x))
    with pytest.raises(ClaimError, match=r"close the \\left\|"):
        read_latex(r"\left| x + y")
    with pytest.raises(ClaimError, match="without its opening"):
        read_latex(r"x \right|")


# --------------------------------------------------------------------------------------
# the model's own LaTeX symbols (symrg.model.naming.latex_name, latex_names overrides)
# --------------------------------------------------------------------------------------


def _four(sizes=(2, 2, 2, 2), **kw):
    from symrg.model.energy import dbm

    return dbm(list(sizes), ["spin", "bernoulli", "spin", "bernoulli"], ["v", "h1", "h2", "h3"],
               ["W_vh1", "W_h1h2", "W_h2h3"], **kw)


def _sym(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def test_default_symbols_read_as_the_models_entries():
    ns = Namespace.from_model(_four())
    for tex, name in [
        (r"h^{(1)}_{2}", "h1_2"), (r"h^{(3)}_1", "h3_1"), (r"v_{2}", "v_2"),
        (r"b^{(h^{(2)})}_{1}", "b_h2_1"), (r"b^{(v)}_{2}", "b_v_2"),
        (r"W^{(v,h^{(1)})}_{1,2}", "W_vh1_{12}"), (r"W^{(v,h^{(1)})}_{12}", "W_vh1_{12}"),  # commas or not
        (r"W^{(h^{(2)},h^{(3)})}_{2,1}", "W_h2h3_{21}"),
        (r"{W^{(h^{(1)},h^{(2)})}}_{2,2}", "W_h1h2_{22}"), (r"W^{(h^{(1)}, h^{ ( 1 ) })}", None),
    ]:
        if name is None:
            with pytest.raises(ClaimError):
                parse_claim(tex, ns)
            continue
        got = parse_claim(tex, ns)
        assert got == _sym(name) and got.name == name, tex
    # the symbol without an index is the layer or the matrix itself
    assert parse_claim(r"h^{(2)}", ns).name == "h2"
    assert parse_claim(r"W^{(v,h^{(1)})}", ns).name == "W_vh1"
    # powers and products after an entry read as usual
    assert parse_claim(r"2 h^{(1)}_{2}^{2} W^{(v,h^{(1)})}_{2,1}", ns) == 2 * _sym("h1_2") ** 2 * _sym("W_vh1_{21}")


def test_wide_layers_read_their_comma_indices():
    ns = Namespace.from_model(_four((2, 12, 2, 2)))
    assert parse_claim(r"h^{(1)}_{12}", ns).name == "h1_12"  # one unit, never row 1 column 2
    assert parse_claim(r"b^{(h^{(1)})}_{11}", ns).name == "b_h1_11"
    assert parse_claim(r"W^{(v,h^{(1)})}_{2,12}", ns).name == "W_vh1_{2,12}"
    assert parse_claim(r"W^{(h^{(1)},h^{(2)})}_{10,1}", ns).name == "W_h1h2_{10,1}"
    for bad, msg in [(r"h^{(1)}_{13}", "out of range"), (r"W^{(v,h^{(1)})}_{3,1}", "out of range"),
                     (r"h^{(1)}_{i}", "written with numbers"), (r"W^{(v,h^{(1)})}_{112}", "two indices")]:
        with pytest.raises(ClaimError, match=msg):
            parse_claim(bad, ns)


def test_user_symbols_read_as_the_models_entries():
    m = _four(latex_names={"h1": r"\tilde h", "W_vh1": "w", "b_v": r"\theta", "h3": r"\mathbf{s}"})
    ns = Namespace.from_model(m)
    assert parse_claim(r"\tilde h_{2}", ns).name == "h1_2"
    assert parse_claim(r"\tilde{h}_2", ns).name == "h1_2"  # braces around an argument do not matter
    assert parse_claim(r"{\tilde h}_{1}", ns).name == "h1_1"
    assert parse_claim(r"w_{1,2}", ns).name == "W_vh1_{12}"
    assert parse_claim(r"\theta_{1}", ns).name == "b_v_1"
    assert parse_claim(r"\mathbf{s}_{2}", ns).name == "h3_2"
    # the defaults of the others follow the user's symbols, as the printer writes them
    assert parse_claim(r"b^{(\tilde h)}_{2}", ns).name == "b_h1_2"
    assert parse_claim(r"W^{(\tilde h,h^{(2)})}_{1,2}", ns).name == "W_h1h2_{12}"
    assert parse_claim(r"W^{(h^{(2)},\mathbf{s})}_{2,1}", ns).name == "W_h2h3_{21}"
    # an overridden name's default symbol is not the model's any more
    with pytest.raises(ClaimError, match=r"(unknown name|not supported)"):
        parse_claim(r"b^{(v)}_{1}", ns)
    # an unknown command names the model's symbols
    with pytest.raises(ClaimError, match=r"the model's symbols: .*\\tilde h"):
        parse_claim(r"\hat h_{1}", ns)


def test_two_names_printing_one_symbol_are_refused_as_ambiguous():
    m = _four(latex_names={"h1": r"\tilde h", "h2": r"\tilde{h}"})
    ns = Namespace.from_model(m)
    with pytest.raises(ClaimError, match=r"ambiguous: the model prints h1 and h2"):
        parse_claim(r"\tilde h_{1}", ns)
    with pytest.raises(ClaimError, match=r"ambiguous"):
        parse_claim(r"b^{(\tilde{h})}_{1}", ns)
    # symbols that differ stay readable
    assert parse_claim(r"v_{1}", ns).name == "v_1"


def test_symbol_table_is_built_from_the_model_and_longest_first():
    from symrg.model.naming import model_symbols
    from symrg.verify.latex_reader import symbol_table

    m = _four(latex_names={"h2": r"\tilde h"})
    ns = Namespace.from_model(m)
    # every symbol the model prints, and nothing else, is in the table
    assert {tex: {n} for n, tex in model_symbols(m).items()} == ns.latex_symbols
    rows = symbol_table(ns.latex_symbols)
    assert [len(k) for k, _, _ in rows] == sorted((len(k) for k, _, _ in rows), reverse=True)
    names = {n for _, ns_, _ in rows for n in ns_}
    assert names == {"h1", "h2", "h3", "b_v", "b_h1", "b_h2", "b_h3", "W_vh1", "W_h1h2", "W_h2h3"}  # v reads as v
    # the full printed equation reads back, left side included
    assert read_latex(m.latex(), ns) == m.energy


def test_sums_with_numeric_bounds_expand_over_their_indices():
    from symrg.model.energy import seed_dbm as seed

    eff = seed(3, 2, 2).marginalize("s", "h")
    ns = Namespace.from_model(eff)
    W = sp.Matrix(2, 2, lambda i, j: _sym(f"W_{{{i + 1}{j + 1}}}"))
    a = [_sym(f"a_{i}") for i in (1, 2, 3)]
    C = eff.intermediates[0].symbol
    # \sum_{k,l} runs over both indices; nested sums and brackets
    assert parse_claim(r"\sum_{k,l=1}^{2} W_{1k} C_{kl} W_{2l}", ns) == sum(
        W[0, k] * C[k, l] * W[1, l] for k in range(2) for l in range(2))
    assert parse_claim(r"\sum_{1 \le i < j \le 3} a_{i} a_{j}", ns) == a[0] * a[1] + a[0] * a[2] + a[1] * a[2]
    assert parse_claim(r"\sum_{i=1}^{3} \sum_{j=1}^{3} a_{i} a_{j}", ns) == sp.expand(sum(a) ** 2)
    assert parse_claim(r"\sum_{k=1}^{2} \left(W_{1k} + \sum_{m=1}^{2} W_{mk}\right) + 1", ns) == (
        sum(W[0, k] + W[0, k] + W[1, k] for k in range(2)) + 1)
    assert parse_claim(r"\sum_{k=3}^{2} a_{k}", ns) == 0  # an empty range
    # free indices come from the namespace; each letter of a subscript is one index
    ns.indices = {"i": 3}
    assert parse_claim(r"a_{i} + \sum_{k=1}^{2} W_{ik}", ns) == a[2] + _sym("W_{31}") + _sym("W_{32}")
    ns.indices = {"i": 2, "j": 1}
    assert parse_claim(r"W_{ij} + \sum_{k=1}^{2} W_{ik} W_{jk}", ns) == W[1, 0] + W[1, 0] * W[0, 0] + W[1, 1] * W[0, 1]
    for bad, msg in [
        (r"\sum_{k=1}^{n} a_{k}", "whole number"),
        (r"\sum_{k=1}^{2} a_{q}", "unknown name|not bound"),
        (r"\sum_{k=1}^{2} W_{kq}", "not bound"),
        (r"\sum_{i=1}^{2} a_{i}", "already in use"),  # i is a free index here
        (r"\sum_{k,k=1}^{2} a_{k}", "already in use"),
        (r"\sum_{k=1}^{4} a_{k}", "out of range"),
        (r"\sum_{k,l,m=1}^{100} a_{1}", "more than 20000 terms"),
        (r"\sum_{k=1} a_{k}", "upper bound"),
        (r"\sum a", "range of the sum"),
    ]:
        with pytest.raises(ClaimError, match=msg):
            parse_claim(bad, ns)


def test_definitions_after_where_are_refused_with_advice():
    eff = seed_dbm(2, 2, 2).marginalize("s", "h")
    ns = Namespace.from_model(eff)
    with pytest.raises(ClaimError, match=r"rhs_latex\(\)") as e:
        read_latex(eff.latex(), ns)
    assert eff.latex()[e.value.position:].startswith(r"\text{where }")
    # the right-hand side alone reads, C_{12} an entry of the intermediate C
    from sympy.matrices.expressions.matexpr import MatrixElement

    C = eff.intermediates[0].symbol
    assert C[0, 1] in read_latex(eff.rhs_latex(), ns).atoms(MatrixElement)
