"""Property-based round trips (hypothesis), beside the seeded tests.

* save∘load: ``loads(dumps(model)) == model`` for generated models (explicit and abstract
  sizes, every unit kind, random coupling graphs, marginalized or not);
* parse∘print: a generated real expression printed as text (``printing.text``) or as
  LaTeX (``printing.latex``) reads back with ``parse_claim`` (and the LaTeX with
  ``read_latex``) to the same function (structurally, or at 30 digits at sample points);
* Möbius∘zeta and Walsh∘inverse Walsh are the identity (exactly, on integer tables),
  and zeta / inverse Walsh agree with their definitions;
* marginalization order: every order of removing the same layers gives the same
  ``H``, and it equals the brute-force marginal (enumeration and one joint Gaussian
  integral, no engine code).

Example counts are sized so the file runs in well under 30 s on one core.
"""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from symrg.engine.marginalization import marginalize
from symrg.engine.multilinear import inverse_walsh_transform, mobius_transform, walsh_transform, zeta_transform
from symrg.errors import ConditionError
from symrg.model.energy import Layer, ModelError, energy_model
from symrg.model.units import Bernoulli, Discrete, Gaussian, Spin
from symrg.output.printing import latex, text
from symrg.output.serialize import dumps, loads
from symrg.verify.brute_force import brute_force_log_weight, random_parameters
from symrg.verify.latex_reader import read_latex
from symrg.verify.parsing import Namespace, parse_claim

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------------------
# generated models
# --------------------------------------------------------------------------------------
KINDS = [Bernoulli(), Spin(), Gaussian(), Gaussian(2), Discrete((0, 1, 2))]


@st.composite
def models(draw, explicit: bool = True, max_layers: int = 4):
    """A connected model: a random spanning tree of layers plus random extra edges."""
    n = draw(st.integers(2, max_layers))
    layers = []
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        size = draw(st.integers(1, 2)) if explicit else sp.Symbol(f"n_{i}", integer=True, positive=True)
        layers.append(Layer(f"x{i}", size, kind))
    edges = {(f"x{draw(st.integers(0, i - 1))}", f"x{i}") for i in range(1, n)}
    for i, j in itertools.combinations(range(n), 2):
        if draw(st.booleans()) and draw(st.booleans()):
            edges.add((f"x{i}", f"x{j}"))
    biases = {l.name: draw(st.sampled_from([None, None, 0])) for l in layers}
    return energy_model(layers, sorted(edges), biases=biases)


@FAST
@given(models(explicit=True), st.data())
def test_save_load_round_trip_explicit(model, data):
    assert loads(dumps(model)) == model
    # an effective model carries terms, intermediates, conditions and its history
    k = data.draw(st.integers(1, len(model.layers) - 1))
    removed = data.draw(st.permutations(model.layer_names))[:k]
    try:
        eff = marginalize(model, *removed)
    except ModelError:
        return  # a refusal (Gaussian inside a non-polynomial term) has nothing to save
    back = loads(dumps(eff))
    assert back == eff and back.original == model


@FAST
@given(models(explicit=False, max_layers=3))
def test_save_load_round_trip_abstract(model):
    assert loads(dumps(model)) == model


# --------------------------------------------------------------------------------------
# parse∘print
# --------------------------------------------------------------------------------------
K, h = sp.symbols("K h", real=True)
NS = Namespace.from_expressions([K, h], strict=True)
_FUNCTIONS = [sp.log, sp.exp, sp.cosh, sp.sinh, sp.tanh, sp.sqrt, sp.atanh, sp.Abs]
_leaves = st.one_of(
    st.sampled_from([K, h]),
    st.integers(-5, 5).map(sp.Integer),
    st.tuples(st.integers(-7, 7), st.integers(2, 9)).map(lambda t: sp.Rational(*t)),
)


def _extend(children):
    return st.one_of(
        st.tuples(children, children).map(lambda t: t[0] + t[1]),
        st.tuples(children, children).map(lambda t: t[0] * t[1]),
        st.tuples(children, children).map(lambda t: t[0] / t[1]),
        st.tuples(children, st.integers(-3, 3)).map(lambda t: t[0] ** t[1]),
        st.tuples(st.sampled_from(_FUNCTIONS), children).map(lambda t: t[0](t[1])),
    )


# real expressions (no I from log of a negative number, no infinities)
expressions = st.recursive(_leaves, _extend, max_leaves=8).filter(
    lambda e: not e.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I)
)
_POINTS = [(0.37, -0.61), (1.3, 0.45), (-0.8, 1.7), (0.05, 0.9)]


def _same_function(a: sp.Expr, b: sp.Expr) -> bool:
    """Structurally equal, or equal at 30 digits at every sample point where both are finite."""
    if a == b:
        return True
    fa = sp.lambdify((K, h), a, modules="mpmath")
    fb = sp.lambdify((K, h), b, modules="mpmath")
    compared = 0
    with mpmath.workdps(30):
        for k, x in _POINTS:
            try:
                kk, xx = mpmath.mpf(k), mpmath.mpf(x)  # mpf inputs: the arithmetic runs at 30 digits
                va, vb = mpmath.mpmathify(fa(kk, xx)), mpmath.mpmathify(fb(kk, xx))
            except (ZeroDivisionError, ValueError, TypeError):
                continue
            if not (mpmath.isfinite(va) and mpmath.isfinite(vb)):
                continue
            compared += 1
            if abs(va - vb) > mpmath.mpf(10) ** -20 * max(1, abs(vb)):
                return False
    return compared > 0


@settings(max_examples=120, deadline=None)
@given(expressions)
def test_text_printed_expressions_parse_back(expr):
    assert _same_function(parse_claim(text(expr), NS, syntax="sympy"), expr)


@settings(max_examples=120, deadline=None)
@given(expressions)
def test_latex_printed_expressions_read_back(expr):
    tex = latex(expr)
    assert _same_function(parse_claim(tex, NS, syntax="latex"), expr)
    assert _same_function(read_latex(tex, NS), expr)


# --------------------------------------------------------------------------------------
# subset transforms
# --------------------------------------------------------------------------------------
tables = st.integers(0, 10).flatmap(
    lambda n: st.lists(st.integers(-1000, 1000), min_size=1 << n, max_size=1 << n).map(np.array)
)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_mobius_inverts_zeta_exactly(x):
    # integer tables are exact in float64: the round trips must be exact
    assert np.array_equal(mobius_transform(zeta_transform(x)), x)
    assert np.array_equal(zeta_transform(mobius_transform(x)), x)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_walsh_inverts_exactly(x):
    assert np.array_equal(inverse_walsh_transform(walsh_transform(x)), x)
    assert np.array_equal(walsh_transform(inverse_walsh_transform(x)), x)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5).flatmap(lambda n: st.lists(st.integers(-50, 50), min_size=1 << n, max_size=1 << n)))
def test_transforms_match_their_definitions(values):
    x = np.array(values)
    n = len(values).bit_length() - 1
    masks = range(1 << n)
    # zeta: H[S] = sum over subsets T of S
    zeta = [sum(int(x[T]) for T in masks if T & S == T) for S in masks]
    assert np.array_equal(zeta_transform(x), zeta)
    # inverse Walsh: H(s) = sum_S J_S prod_{i in S} s_i, bit i of the index is s_i = 2 bit - 1
    spins = [[2 * ((c >> i) & 1) - 1 for i in range(n)] for c in masks]
    energy = [sum(int(x[S]) * int(np.prod([spins[c][i] for i in range(n) if S >> i & 1])) for S in masks) for c in masks]
    assert np.array_equal(inverse_walsh_transform(x), energy)


# --------------------------------------------------------------------------------------
# marginalization order independence
# --------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models(explicit=True), st.data())
def test_every_marginalization_order_gives_the_brute_force_marginal(model, data):
    names = list(model.layer_names)
    keep = data.draw(st.sampled_from(names))
    removed = [n for n in names if n != keep]
    seed = data.draw(st.integers(0, 2**30))
    rng = np.random.default_rng(seed)
    values = random_parameters(model, rng)
    kind = model.layer(keep).kind
    size = int(model.layer(keep).size)
    if kind.is_discrete:
        states = np.array(list(itertools.product([float(v) for v in kind.values], repeat=size)))
    else:
        states = rng.normal(size=(4, size))
    try:
        reference = brute_force_log_weight(model, values, {keep: states})
    except ModelError:
        assume(False)  # too many configurations for brute force
    except ConditionError:
        assume(False)  # these parameters make the Gaussian part non-normalizable: no Z to compare
    assume(np.all(np.isfinite(reference)))
    results = []
    for order in itertools.permutations(removed):
        try:
            eff = marginalize(model, *order)
        except ModelError as e:
            # the one refusal allowed: a Gaussian layer inside a non-polynomial term
            assert "Gaussian layer" in str(e) and "non-polynomial" in str(e), str(e)
            continue
        got = np.atleast_1d(eff.lambdify()(**{keep: states}, **values))
        results.append(got)
        event(f"orders compared: {len(list(itertools.permutations(removed)))}")
        assert np.allclose(got, reference, rtol=1e-9, atol=1e-9), (order, got, reference)
    for a, b in itertools.combinations(results, 2):
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9)


def test_strategies_cover_the_unit_kinds():
    # the generated models draw from every kind, so the round trips above exercise them
    assert {type(k) for k in KINDS} == {Bernoulli, Spin, Gaussian, Discrete}
    with pytest.raises(ModelError):
        energy_model([Layer("x0", 1, Bernoulli()), Layer("x0", 1, Spin())], [])
