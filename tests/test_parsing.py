"""The claim parser: what it accepts, and the hostile inputs it rejects without running them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp

from symrg.engine.marginalization import marginalize
from symrg.model.energy import seed_dbm
from symrg.model.exprs import MatScalar
from symrg.verify.parsing import ClaimError, Namespace, parse_claim, parse_latex, parse_sympy

ROOT = Path(__file__).resolve().parents[1]


# -- accepted input ------------------------------------------------------------------


def test_scalars_in_both_syntaxes_agree():
    K, h = sp.symbols("K h", real=True)
    ns = Namespace.from_expressions([K, h], strict=True)
    ref = sp.log(sp.cosh(2 * K + h) * sp.cosh(2 * K - h) / sp.cosh(h) ** 2) / 4
    assert parse_sympy("log(cosh(2*K + h)*cosh(2*K - h)/cosh(h)**2)/4", ns) == ref
    claim = r"\frac{1}{4}\log\left[\frac{\cosh(2K + h)\cosh(2K - h)}{\cosh^{}(h)^{2}}\right]"
    assert parse_latex(claim.replace(r"\cosh^{}(h)^{2}", r"\left(\cosh h\right)^{2}"), ns) == ref
    assert parse_claim("x^2 + 0.5*x") == sp.Symbol("x", real=True) ** 2 + sp.Rational(1, 2) * sp.Symbol("x", real=True)
    assert parse_latex(r"\sqrt{x} + e^{x} + \exp(2) + \tanh x \cdot 3") == (
        sp.sqrt(sp.Symbol("x", real=True)) + sp.exp(sp.Symbol("x", real=True)) + sp.exp(2) + 3 * sp.tanh(sp.Symbol("x", real=True))
    )


def test_entry_name_styles_map_to_the_models_symbols():
    model = seed_dbm(2, 3, 12)
    ns = Namespace.from_model(model)
    W12 = model.params["W"].value[0, 1]
    U_1_12 = model.params["U"].value[0, 11]
    assert str(W12) == "W_{12}" and str(U_1_12) == "U_{1,12}"
    for text in ("W_12", "W[1, 2]", r"W_{12}"):
        assert parse_claim(text, ns) == W12
    for text in ("U_1_12", "U[1, 12]", r"U_{1,12}"):
        assert parse_claim(text, ns) == U_1_12
    a1 = model.params["a"].value[0, 0]
    assert parse_claim("a_1", ns) == parse_claim("a[1]", ns) == parse_claim(r"a_{1}", ns) == a1
    assert parse_claim("v_2", ns) == model.layer("v").states[1]


def test_matrix_claims_in_abstract_mode():
    H = marginalize(seed_dbm(), "s", "h")
    ns = Namespace.from_model(H)
    e = parse_claim("-a.T*v + log(det(1 - U*U.T))/2", ns)
    n_h = sp.Symbol("n_h", integer=True, positive=True)
    U = H.params["U"].symbol
    assert e.has(MatScalar) and e.has(sp.Determinant(sp.Identity(n_h) - U * U.T))
    lat = parse_claim(r"-a^{T} v + \frac{1}{2}\log\det\left(I - U U^{\top}\right)", ns)
    assert lat == e
    inv = parse_claim(r"\left(1 - U U^{T}\right)^{-1}", ns)
    assert inv == sp.Inverse(sp.Identity(n_h) - U * U.T)
    assert parse_claim("inverse(1 - U*U.T)", ns) == inv == parse_claim("(1 - U*U.T)**-1", ns)


@pytest.mark.parametrize(
    "text,message",
    [
        ("x +", "not a valid expression"),
        ("W_13", "unknown name"),
        ("q", "unknown name 'q'"),
        ("W[3, 1]", "out of range"),
        ("det(a)", "square matrix"),
        (r"\log^{-1} x", "powers of functions"),  # \log^2 x is read now (issue 13)
        (r"W_12", "braces"),
    ],
)
def test_clear_errors(text, message):
    ns = Namespace.from_model(seed_dbm(2, 2, 1))
    with pytest.raises(ClaimError, match=message):
        parse_claim(text, ns, syntax="latex" if text.startswith("\\") or text == "W_12" and "braces" in message else "auto")


# -- hostile input ---------------------------------------------------------------------


def _hostile(canary: Path) -> list[str]:
    c = str(canary)
    return [
        f"__import__('os').system('touch {c}')",
        f"open('{c}', 'w')",
        f"eval(\"open('{c}', 'w')\")",
        f"exec(\"open('{c}', 'w')\")",
        f"(lambda: open('{c}', 'w'))()",
        f"[open('{c}', 'w') for _ in (1,)]",
        f"{{open('{c}', 'w') for x in (1,)}}",
        f"(open('{c}', 'w') for x in (1,))",
        "().__class__.__bases__[0].__subclasses__()",
        "x.__class__",
        "log.__globals__",
        "x.T.__dict__",
        f"sympify(\"open('{c}', 'w')\")",
        f"parse_expr(\"open('{c}', 'w')\")",
        f"Function('open')('{c}')",
        f"log('{c}')",
        "getattr(x, '__class__')",
        "Symbol('x')",
        "lambdify(x, x)",
        "x if x else x",
        "(x := 1)",
        "__builtins__",
        "_x + 1",
        "log(x, base=2)",
        "log(*x)",
        "x[0:2]",
        "W[x]",
        "x == 1",
        "x and x",
        "1j * x",
        "True + x",
        "b'bytes'",
        "9**9**9**9",
        "10**100000",
        "1" * 100 + " + x",
        "x" * (1 << 20),
        "(" * 5000 + "x" + ")" * 5000,
        "-(" * 200 + "x" + ")" * 200,
        "import os",
        f"x; open('{c}', 'w')",
        r"\input{/etc/passwd}",
        rf"\immediate\write18{{touch {c}}}",
        r"\def\x{1} \x",
        r"\csname x\endcsname",
        r"\newcommand{\y}{2} \y",
        r"\begin{verbatim} x \end{verbatim}",
        "\\frac{" * 3000 + "1",
        r"x \mathrm{open}(y)",
    ]


def test_hostile_strings_are_rejected_and_nothing_runs(tmp_path):
    canary = tmp_path / "CANARY"
    strings = _hostile(canary)
    assert len(strings) >= 25
    open_ns = Namespace.from_model(seed_dbm(2, 2, 1), strict=False)  # unknown names allowed
    strict_ns = Namespace.from_model(seed_dbm(2, 2, 1))
    rejected = 0
    for s in strings:
        for ns, syntax in ((open_ns, "auto"), (open_ns, "sympy"), (strict_ns, "latex")):
            with pytest.raises(ClaimError):
                parse_claim(s, ns, syntax=syntax)
        rejected += 1
    assert rejected == len(strings)
    assert not canary.exists()


def test_rejections_say_why():
    with pytest.raises(ClaimError, match="attribute access '.__class__' is not allowed"):
        parse_sympy("x.__class__")
    with pytest.raises(ClaimError, match="unknown function 'eval'"):
        parse_sympy("eval('1')")
    with pytest.raises(ClaimError, match="Lambda is not allowed"):
        parse_sympy("lambda: 1")
    with pytest.raises(ClaimError, match="ListComp is not allowed"):
        parse_sympy("[x for x in y]")
    with pytest.raises(ClaimError, match="characters long; the limit"):
        parse_sympy("x" * (1 << 20))
    with pytest.raises(ClaimError, match="nests brackets"):
        parse_sympy("(" * 5000 + "x" + ")" * 5000)
    with pytest.raises(ClaimError, match="too large"):
        parse_sympy("9**9**9**9")
    with pytest.raises(ClaimError, match=r"LaTeX command \\write18 is not supported|\\immediate"):
        parse_latex(r"\immediate\write18{ls}")


def test_the_parser_never_hands_user_text_to_an_evaluator():
    src = (ROOT / "symrg" / "verify" / "parsing.py").read_text()
    code = "\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("#", ">>>")))
    for forbidden in (r"\bsympify\(", r"\bparse_expr\(", r"(?<![\w.])eval\(", r"(?<![\w.])exec\(", r"(?<![\w.])compile\(", r"__import__\("):
        assert not re.search(forbidden, code.split('"""', 2)[-1]), forbidden


# -- documented, unsurprising readings (issue 11, item 9) --------------------------------


def test_I_is_the_identity_never_the_number_one_or_the_imaginary_unit():
    ns = Namespace.from_model(seed_dbm())
    assert parse_claim("I - U*U.T", ns) == parse_claim("1 - U*U.T", ns)
    assert parse_claim(r"\left(I - U U^{T}\right)^{-1}", ns) == parse_claim("(1 - U*U.T)**-1", ns)
    for text in ("exp(I*pi) + 1", "I", "2*I + x", r"e^{I \pi}"):
        with pytest.raises(ClaimError, match="'I' is the identity matrix"):
            parse_claim(text)


def test_e_is_a_name_and_E_is_eulers_number():
    e = sp.Symbol("e", real=True)
    assert parse_claim("e**2") == e**2 and parse_claim("E**2") == sp.exp(2)
    assert parse_claim("exp(1)") == sp.E
    assert parse_latex(r"e^{x}") == sp.exp(sp.Symbol("x", real=True))
    assert parse_latex(r"\mathrm{e}") == sp.E and parse_latex("e") == e
    with pytest.raises(ClaimError, match="Euler's number is E"):
        parse_claim("e", Namespace.from_model(seed_dbm()))


def test_scientific_notation():
    assert parse_claim("1e-3") == sp.Rational(1, 1000) and parse_claim("2.5E2") == 250
    with pytest.raises(ClaimError, match="out of range"):
        parse_claim("1e400")
    with pytest.raises(ClaimError, match="not LaTeX"):
        parse_latex(r"1e-3 + \frac{1}{2}")


def test_latex_function_arguments_and_Gamma():
    K, h, x, y = (sp.Symbol(n, real=True) for n in "Khxy")
    assert parse_latex(r"\log 2\pi") == sp.log(2 * sp.pi)
    assert parse_latex(r"\cosh 2K h") == sp.cosh(2 * K * h)
    assert parse_latex(r"\sin x \cos y") == sp.sin(x) * sp.cos(y)
    with pytest.raises(ClaimError, match="Gamma function"):
        parse_latex(r"\Gamma(x)")


@pytest.mark.parametrize("text", ["(1/(1/10**59)**-1000)**-1000", "(10**59)**60", "(1/10**59)**-60",
                                  "2**999*2**999*2**999*2**999*2**999*2**999*2**999*2**999*2**999*2**999*2**999"])
def test_numbers_are_bounded_also_below_one(text):
    with pytest.raises(ClaimError, match="digits"):
        parse_claim(text)
