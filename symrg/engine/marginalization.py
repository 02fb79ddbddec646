"""The marginalization engine: integrate a layer out of an energy model.

With ``t = sum_M W_{ML}^T x_M`` the master identity (docs/marginalization.md, "The master identity") reads
``E'(rest) = E_rest(rest) - A_L(theta_L + t)``.  These rules implement it:

* **Gaussian layer** -- a Gaussian integral.  The result is kept as a
  :class:`~symrg.model.GaussianTerm` ``-1/2 eta^T S eta - 1/2 log det(2 pi S)`` with
  ``S = Q_L^{-1}`` a named intermediate; it is *folded* (Schur-complement update of
  biases, self blocks and couplings, plus its constant) as soon as a later step needs
  the polynomial form.  The positive-definiteness of ``Q_L`` is recorded as a condition.
* **Discrete layer coupled linearly** -- one closed-form
  :class:`~symrg.model.LogPartitionTerm` (softplus for Bernoulli, log 2cosh for spins).
* **Discrete layer coupled inside itself or inside a non-polynomial term** -- summed
  configuration by configuration (:class:`~symrg.model.EnumeratedTerm`), explicit mode
  only, below ``max_configurations``.
* **Discrete layer whose self couplings form a chain or a ring** -- a transfer matrix:
  :class:`~symrg.model.terms.TransferMatrixTerm`, ``-log tr`` of a product of one small
  matrix per unit (docs/marginalization.md, "Transfer matrices for chains and rings"),
  above :data:`TRANSFER_MATRIX_ABOVE` configurations or when asked.
* **Gaussian layer inside terms left by discrete sums** -- a mixture of Gaussians: those
  terms are sums over the configurations of discrete layers, and for each configuration
  the layer's integral is Gaussian; the result is an enumerated term (nested when several
  summed layers are involved) holding a :class:`~symrg.model.GaussianTerm` per
  configuration, below ``max_configurations`` (docs/marginalization.md, "Gaussian mixtures").

Examples
--------
>>> from symrg.model.energy import seed_dbm
>>> H_vh = marginalize(seed_dbm(), "s")
>>> H_v = marginalize(H_vh, "h")
>>> H_v.layer_names
('v',)
>>> [i.symbol.name for i in H_v.intermediates]
['C']
>>> H_v.intermediates[0].inverse_of
I - U*U.T
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagonalOf
from sympy.matrices.expressions.matexpr import MatrixExpr

from symrg.model.energy import (
    Condition,
    EnergyModel,
    EnumeratedTerm,
    GaussianTerm,
    Intermediate,
    LogPartitionTerm,
    ModelError,
    Step,
)
from symrg.model.expressions import explicit_block
from symrg.model.exprs import MatScalar, is_zero_matrix, scaled_identity_factor
from symrg.model.terms import TransferMatrixTerm

__all__ = ["marginalize", "fold", "fold_all", "DEFAULT_MAX_CONFIGURATIONS", "TRANSFER_MATRIX_ABOVE"]

#: enumeration of a discrete layer is refused above this many configurations
DEFAULT_MAX_CONFIGURATIONS = 4096
#: a chain or ring layer with more configurations than this is summed by a transfer matrix
#: (below, the enumerated sum is kept: it prints as one exponential per configuration)
TRANSFER_MATRIX_ABOVE = 64


def marginalize(
    model: EnergyModel,
    *layers: str,
    max_configurations: int = DEFAULT_MAX_CONFIGURATIONS,
    transfer_matrix: bool | None = None,
) -> EnergyModel:
    """Integrate (or sum) the named layers out of ``model``, in the order given.

    Parameters
    ----------
    model
        The energy model.
    *layers
        Names of the layers to remove.
    max_configurations
        Size guard for layers that must be summed configuration by configuration.
    transfer_matrix
        For a discrete layer whose self couplings form a chain or a ring: ``None``
        (default) sums it by a transfer matrix when it has more than
        :data:`TRANSFER_MATRIX_ABOVE` configurations, ``True`` always, ``False`` never
        (enumeration, under ``max_configurations``).

    Returns
    -------
    EnergyModel
        The effective model over the remaining layers; its ``constant`` and terms keep
        the log of every factor pulled out, so the partition function is unchanged.

    Raises
    ------
    ModelError
        Unknown layer, an enumeration (or a Gaussian mixture) above
        ``max_configurations``, or one that needs explicit sizes in an abstract model.
    """
    if not layers:
        raise ModelError("name at least one layer to marginalize")
    for name in layers:
        model = _marginalize_one(model, name, max_configurations, transfer_matrix)
    return model


# --------------------------------------------------------------------------------------
# helpers on blocks
# --------------------------------------------------------------------------------------


def _add(a: MatrixExpr | None, b: MatrixExpr | None) -> MatrixExpr | None:
    if a is None or is_zero_matrix(a):
        return b
    if b is None or is_zero_matrix(b):
        return a
    # unevaluated, so that printed sums keep the order of the derivation (b + U c)
    args = (a.args if isinstance(a, sp.MatAdd) else (a,)) + (b.args if isinstance(b, sp.MatAdd) else (b,))
    return sp.MatAdd(*args, evaluate=False)


def _without_layer(model: EnergyModel, name: str, **changes) -> EnergyModel:
    """``model`` minus every polynomial block that touches ``name``."""
    return model.with_(
        layers=tuple(l for l in model.layers if l.name != name),
        biases={k: v for k, v in model.biases.items() if k != name},
        quadratic={k: v for k, v in model.quadratic.items() if k != name},
        couplings={k: v for k, v in model.couplings.items() if name not in k},
        original=model.original or model,
        **changes,
    )


def _math_list(names: list[str]) -> str:
    return ", ".join(f"${n}$" for n in names) or "nothing"


def _weights_into(model: EnergyModel, name: str) -> tuple:
    return tuple((m, model.coupling(m, name)) for m in model.neighbours(name))


def _names_in_model(model: EnergyModel) -> set[str]:
    """Every name a model (and the models it came from) uses: layers, parameters, and
    each Symbol / MatrixSymbol in its blocks, terms, constant, intermediates and conditions."""
    names: set[str] = set()
    m: EnergyModel | None = model
    while m is not None:
        names |= set(m.params) | set(m.layer_names)
        objs = list(m.expressions())
        objs += [p.symbol for p in m.params.values()] + [p.value for p in m.params.values() if p.value is not None]
        objs += [x for i in m.intermediates for x in (i.symbol, i.inverse_of)] + [c.matrix for c in m.conditions]
        for o in objs:
            if isinstance(o, sp.Basic):
                names |= {str(a.name) for a in o.atoms(sp.Symbol, sp.MatrixSymbol)}
        m = m.original
    return names


def _new_intermediate_name(model: EnergyModel) -> str:
    # a user symbol C (or an entry C_{11} of a matrix C) must never be mistaken for
    # the intermediate: skip any name in use, or whose entries' names would be
    used = _names_in_model(model)
    for cand in ["C"] + [f"C_{k}" for k in range(2, 1000)]:
        if cand not in used and not any(u.startswith(cand + "_") for u in used):
            return cand
    raise ModelError("ran out of names for intermediates")  # pragma: no cover


# --------------------------------------------------------------------------------------
# folding a Gaussian term back into the polynomial structure (Schur complement)
# --------------------------------------------------------------------------------------


def fold(model: EnergyModel, term: GaussianTerm) -> EnergyModel:
    """Expand a Gaussian term into biases, self blocks, couplings and the constant.

    ``-1/2 (theta + sum_M W_M^T x_M)^T S (...)`` gives ``theta_M += W_M S theta``,
    ``Q_M -= W_M S W_M^T`` and ``W_{MM'} += W_M S W_{M'}^T``.
    """
    biases = dict(model.biases)
    quad = dict(model.quadratic)
    coup = dict(model.couplings)
    S, th = term.covariance, term.theta
    order = model.layer_names
    for m, w in term.weights:
        if th is not None:
            biases[m] = _add(biases.get(m), w * S * th)
        quad[m] = _add(quad.get(m), -w * S * w.T)
    for (m1, w1), (m2, w2) in itertools.combinations(term.weights, 2):
        if order.index(m1) > order.index(m2):
            (m1, w1), (m2, w2) = (m2, w2), (m1, w1)
        coup[(m1, m2)] = _add(coup.get((m1, m2)), w1 * S * w2.T)
    const = model.constant + term.log_normalizer()
    if th is not None:
        const += -MatScalar(th.T * S * th) / 2
    return model.with_(
        biases=biases,
        quadratic=quad,
        couplings=coup,
        constant=const,
        terms=tuple(t for t in model.terms if t is not term),
    )


def fold_all(model: EnergyModel) -> EnergyModel:
    """Fold every Gaussian term (the fully polynomial form, when there is one)."""
    for t in [t for t in model.terms if isinstance(t, GaussianTerm)]:
        model = fold(model, t)
    return model


# --------------------------------------------------------------------------------------
# the rules
# --------------------------------------------------------------------------------------


def _marginalize_one(model: EnergyModel, name: str, max_configurations: int, transfer_matrix: bool | None) -> EnergyModel:
    lay = model.layer(name)
    for t in model.terms_with(name):
        if isinstance(t, GaussianTerm):
            model = fold(model, t)
    if lay.kind.is_gaussian:
        if model.terms_with(name):
            return _integrate_gaussian_mixture(model, name, max_configurations)
        return _integrate_gaussian(model, name)
    if _closed_form_possible(model, name):
        return _sum_closed_form(model, name)
    if transfer_matrix is not False:
        path = _chain_or_ring(model, name)
        count = len(lay.kind.values) ** int(lay.size) if path is not None else 0
        if path is not None and (transfer_matrix or count > TRANSFER_MATRIX_ABOVE):
            return _sum_by_transfer_matrix(model, name, *path)
    return _sum_by_enumeration(model, name, max_configurations)


def _integrate_gaussian(model: EnergyModel, name: str) -> EnergyModel:
    lay = model.layer(name)
    q = model.quadratic.get(name)
    if q is None or is_zero_matrix(q):
        raise ModelError(f"Gaussian layer {name!r} has no self-energy (precision); its integral diverges")
    p = scaled_identity_factor(q)
    intermediates, conditions = model.intermediates, model.conditions
    if p is not None:
        cov = sp.Identity(lay.size) / p
    else:
        cov = sp.MatrixSymbol(_new_intermediate_name(model), lay.size, lay.size)
        intermediates += (Intermediate(cov, q),)
        if all(c.matrix != q for c in conditions):
            conditions += (Condition(q, f"precision of layer {name!r} when it is integrated out"),)
    weights = _weights_into(model, name)
    term = GaussianTerm(name, lay.size, model.biases.get(name), weights, q, cov)
    nbrs = [m for m, _ in weights]
    step = Step(
        name,
        "Gaussian integral",
        f"Integrated out the Gaussian layer ${name}$ (${sp.latex(lay.size)}$ units), coupled to {_math_list(nbrs)}",
        "the couplings among the layers it touched shift by W S W^T, its second cumulant "
        "(the covariance S of its prior) between two weights; the fields shift by W S theta, "
        "its first cumulant (the mean S theta)",
    )
    out = _without_layer(model, name, intermediates=intermediates, conditions=conditions,
                         terms=model.terms + (term,), history=model.history + (step,))
    return fold(out, term) if not weights else out


# --------------------------------------------------------------------------------------
# Gaussian mixtures: a Gaussian layer inside the terms left by discrete sums
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Gauss:
    """The Gaussian layer ``g`` seen on the way down a nest of enumerated terms:
    the weight ``exp(-1/2 g^T P g + eta^T g)`` with ``eta = theta + sum_M W_Mg^T x_M``."""

    theta: MatrixExpr | None
    weights: tuple  # ((M, W_Mg), ...), M a remaining layer or the summed layer of an enclosing level
    precision: MatrixExpr


def _add_weight(weights: tuple, m: str, w: MatrixExpr) -> tuple:
    out = dict(weights)  # insertion order kept: the printed eta reads in the order it was built
    out[m] = _add(out.get(m), w)
    return tuple(out.items())


def _as_enumerated(t) -> EnumeratedTerm:
    """A log-partition term as the sum over configurations it stands for.

    ``- sum_j A(eta_j) = - log sum_c exp(theta^T c + sum_M x_M^T W_ML c)``: the same value.
    """
    if isinstance(t, EnumeratedTerm):
        return t
    quadratic = t.quadratic if isinstance(t, TransferMatrixTerm) else None
    return EnumeratedTerm(t.layer, t.layers, t.kind, int(t.size), t.theta, quadratic, t.weights, ())


def _term_layers(t, key) -> tuple[str, ...]:
    if not isinstance(t, EnumeratedTerm):
        return t.layers
    names = {m for m, _ in t.weights}
    for a in t.absorbed:
        names |= set(a.layers)
    names.discard(t.layer)
    return tuple(sorted(names, key=key))


def _nest(terms: list, key) -> EnumeratedTerm:
    """One enumerated term for several: the later ones nested inside the earlier ones.

    ``- log sum_c1 e^{-e1} - log sum_c2 e^{-e2} = - log sum_c1 exp(-e1 + log sum_c2 e^{-e2})``.
    """
    inner: EnumeratedTerm | None = None
    for t in reversed([_as_enumerated(t) for t in terms]):
        if inner is not None:
            t = replace(t, absorbed=t.absorbed + (inner,))
            t = replace(t, layers=_term_layers(t, key))
        inner = t
    assert inner is not None
    return inner


def _mixture_levels(terms, name: str) -> list:
    """The summed layers whose configurations the integral over ``name`` runs over (terms containing it, nested)."""
    out = []
    for t in terms:
        if name not in t.layers or isinstance(t, GaussianTerm):
            continue
        out.append(t)
        if isinstance(t, EnumeratedTerm):
            out += _mixture_levels(t.absorbed, name)
    return out


def _take_gaussian(a: GaussianTerm, g: str, data: _Gauss) -> tuple[_Gauss, GaussianTerm]:
    """Move the ``g``-dependence of a Gaussian term into ``data``; return the rest of the term.

    ``+1/2 eta'^T S eta'`` with ``eta' = theta' + W_g^T g + sum_M W_M^T x_M`` holds
    ``+1/2 g^T W_g S W_g^T g + g^T W_g S (theta' + sum_M W_M^T x_M)``.
    """
    wg = dict(a.weights)[g]
    S = a.covariance
    theta = data.theta if a.theta is None else _add(data.theta, wg * S * a.theta)
    weights = data.weights
    for m, wm in a.weights:
        if m != g:
            weights = _add_weight(weights, m, wm * S * wg.T)
    data = _Gauss(theta, weights, _add(data.precision, -wg * S * wg.T))
    return data, replace(a, weights=tuple((m, w) for m, w in a.weights if m != g))


def _descend(t: EnumeratedTerm, g: str, data: _Gauss, finish, key) -> EnumeratedTerm:
    """``t`` with the Gaussian layer ``g`` integrated inside it, configuration by configuration.

    ``g`` goes down to the innermost level that holds all of its dependence; there each
    configuration (of that level and of every enclosing one) leaves a quadratic form in
    ``g`` whose linear part depends on the configuration, and :func:`finish` writes its
    Gaussian integral as a term evaluated at that configuration.
    """
    w = dict(t.weights).get(g)  # - g^T W_gD c in e(c)
    if w is not None:
        data = replace(data, weights=_add_weight(data.weights, t.layer, w.T))
    keep, deeper = [], []
    for a in t.absorbed:
        if g not in a.layers:
            keep.append(a)
        elif isinstance(a, GaussianTerm):
            data, rest = _take_gaussian(a, g, data)
            keep.append(rest)
        else:
            deeper.append(a)
    keep.append(_descend(_nest(deeper, key), g, data, finish, key) if deeper else finish(data))
    out = replace(t, weights=tuple((m, x) for m, x in t.weights if m != g), absorbed=tuple(keep))
    return replace(out, layers=_term_layers(out, key))


def _integrate_gaussian_mixture(model: EnergyModel, name: str, max_configurations: int) -> EnergyModel:
    """A Gaussian layer inside terms left by discrete sums: a mixture of Gaussian integrals.

    The terms containing ``name`` are sums over the configurations of discrete layers
    (a log-partition term over its layer's, an enumerated term over its own and nested
    ones).  Inside the sum the integrand is Gaussian in ``x_name``, so the integral is a
    log-sum-exp over those configurations of closed-form Gaussian integrals
    (docs/marginalization.md, "Gaussian mixtures").  The couplings are bilinear, so the
    precision is the same for every configuration: one condition.
    """
    lay = model.layer(name)
    inside = model.terms_with(name)
    levels = _mixture_levels(inside, name)
    summed = ", ".join(repr(t.layer) for t in levels)
    if not model.explicit or not all(isinstance(t.size, int) for t in levels):
        sym = next((t for t in levels if not isinstance(t.size, int)), levels[0])
        raise ModelError(
            f"integrating the Gaussian layer {name!r} out after the discrete layer {sym.layer!r} was summed is a "
            f"mixture of Gaussian integrals, one per configuration of {summed}: that needs explicit integer "
            f"sizes, and layer {sym.layer!r} has symbolic size {sym.size}"
        )
    count = 1
    for t in levels:
        count *= len(t.kind.values) ** int(t.size)
    if count > max_configurations:
        raise ModelError(
            f"integrating the Gaussian layer {name!r} out is a mixture of one Gaussian integral per configuration "
            f"of the summed layers {summed}: {count} configurations, above the limit "
            f"max_configurations={max_configurations}"
        )
    q = model.quadratic.get(name)
    if q is None or is_zero_matrix(q):
        raise ModelError(f"Gaussian layer {name!r} has no self-energy (precision); its integral diverges")
    root = model.original or model
    rank = {n: k for k, n in enumerate(root.layer_names)}

    def key(n: str) -> tuple:
        return (rank.get(n, len(rank)), n)

    intermediates, conditions = model.intermediates, model.conditions

    def finish(d: _Gauss) -> GaussianTerm:
        nonlocal intermediates, conditions
        p = scaled_identity_factor(d.precision)
        if p is not None:
            cov = sp.Identity(lay.size) / p
        else:
            cov = sp.MatrixSymbol(_new_intermediate_name(model), lay.size, lay.size)
            intermediates += (Intermediate(cov, d.precision),)
            if all(c.matrix != d.precision for c in conditions):
                conditions += (Condition(d.precision, f"precision of layer {name!r} when it is integrated out "
                                                      f"(the same for every configuration of {summed})"),)
        return GaussianTerm(name, lay.size, d.theta, d.weights, d.precision, cov)

    data = _Gauss(model.biases.get(name), _weights_into(model, name), q)
    term = _descend(_nest(list(inside), key), name, data, finish, key)
    step = Step(
        name,
        "Gaussian mixture integral",
        f"Integrated out the Gaussian layer ${name}$ (${sp.latex(lay.size)}$ units) as a mixture: one Gaussian "
        f"integral for each of the {count} configurations of the summed layers {_math_list([t.layer for t in levels])}",
        "for each configuration the fields it sees shift by W S theta and the couplings by W S W^T, "
        "its first and second cumulants; the mixture is a log-sum-exp of these",
    )
    rest = tuple(t for t in model.terms if t not in inside)
    return _without_layer(model, name, intermediates=intermediates, conditions=conditions,
                          terms=rest + (term,), history=model.history + (step,))


def _diagonal_only(model: EnergyModel, q) -> bool:
    if not model.explicit:
        return False
    try:
        m = explicit_block(model, q)
    except ModelError:  # too large to read entry by entry: summed by the general rule, whose guard says why
        return False
    return all(m[i, j] == 0 for i in range(m.rows) for j in range(m.cols) if i != j)


def _closed_form_possible(model: EnergyModel, name: str) -> bool:
    if model.terms_with(name):
        return False
    q = model.quadratic.get(name)
    if q is None or is_zero_matrix(q):
        return True
    # a diagonal self-energy folds into the field and constant when x^2 = s x + p on the support
    return model.layer(name).kind.square_reduction() is not None and _diagonal_only(model, q)


def _sum_closed_form(model: EnergyModel, name: str) -> EnergyModel:
    lay = model.layer(name)
    kind = lay.kind
    theta = model.biases.get(name)
    const = model.constant
    q = model.quadratic.get(name)
    if q is not None and not is_zero_matrix(q):
        # x^2 = s x + p on the support (v^2 = v, s^2 = 1): the diagonal goes into field and constant
        reduction = kind.square_reduction()
        assert reduction is not None  # _closed_form_possible admits only two-valued kinds here
        s, p = reduction
        if s != 0:
            theta = _add(theta, -s * DiagonalOf(q) / 2)
        if p != 0:
            const += p * sp.Trace(q) / 2
    weights = _weights_into(model, name)
    term = LogPartitionTerm(name, kind, lay.size, theta, weights)
    fn = kind.log_partition_description()
    step = Step(
        name,
        "closed-form sum",
        f"Summed out the {kind.name} layer ${name}$ (${sp.latex(lay.size)}$ units): each unit gives {fn}",
        "expanding log-partition A(theta + t) in t gives n-body couplings weighted by the n-th cumulant "
        "of the summed layer's prior",
    )
    return _without_layer(model, name, constant=const, terms=model.terms + (term,), history=model.history + (step,))


def _nested_count(t) -> int:
    """Configurations per evaluation of a term: an enumerated term's, times the largest nested inside it."""
    if not isinstance(t, EnumeratedTerm):
        return 1
    return t.count * max([_nested_count(a) for a in t.absorbed], default=1)


def _sum_by_enumeration(model: EnergyModel, name: str, max_configurations: int) -> EnergyModel:
    lay = model.layer(name)
    kind = lay.kind
    why = "it sits inside a non-polynomial term" if model.terms_with(name) else "its units are coupled to each other"
    if not model.explicit:
        raise ModelError(
            f"layer {name!r} must be summed configuration by configuration ({why}), which needs an explicit "
            f"integer size; it has symbolic size {lay.size}"
        )
    count = kind.size ** lay.size
    # the numeric code evaluates every sum nested inside on each configuration: their counts multiply
    total = count * max([_nested_count(t) for t in model.terms_with(name)], default=1)
    if total > max_configurations:
        nested = f" ({total} with the sums nested inside the terms it enters)" if total != count else ""
        shown = str(count) if count < 10**15 else f"about 10^{len(str(count)) - 1}"
        raise ModelError(
            f"summing out layer {name!r} needs explicit enumeration ({why}) of {kind.size}^{lay.size} = {shown} "
            f"configurations{nested}, above the limit max_configurations={max_configurations}"
        )
    # stored structurally: no expansion per configuration (the numeric code evaluates the
    # configurations with arrays; enumerated_exponents expands them only for printing)
    weights = tuple((m, model.coupling(m, name)) for m in model.neighbours(name))
    absorbed = model.terms_with(name)
    involved = {m for m, _ in weights}
    for t in absorbed:
        involved.update(t.layers)
    involved.discard(name)
    order = [n for n in model.layer_names if n in involved]
    term = EnumeratedTerm(name, tuple(order), kind, int(lay.size), model.biases.get(name), model.quadratic.get(name),
                          weights, absorbed)
    step = Step(
        name,
        "explicit enumeration",
        f"Summed out the {kind.name} layer ${name}$ over its {count} configurations ({why})",
    )
    rest = tuple(t for t in model.terms if t not in absorbed)
    return _without_layer(model, name, terms=rest + (term,), history=model.history + (step,))


# --------------------------------------------------------------------------------------
# transfer matrices: self couplings along a chain or a ring
# --------------------------------------------------------------------------------------


def _walk(adj: dict[int, set[int]], start: int) -> list[int]:
    """The units of a path or cycle in the order met, from ``start``."""
    out, prev, cur = [start], None, start
    while True:
        nxt = sorted(adj[cur] - {prev} - ({start} if prev is None else set()))
        if not nxt or nxt[0] == start or nxt[0] in out:
            return out
        prev, cur = cur, nxt[0]
        out.append(cur)


def _chain_or_ring(model: EnergyModel, name: str) -> tuple[tuple[int, ...], bool] | None:
    """``(order, ring)`` when the self couplings of the discrete layer ``name`` form a chain or a ring.

    Read from the sparsity pattern of the explicit self block: every unit coupled to at
    most two others, and either one cycle through all units (a ring, at least three) or
    paths only (a chain; disconnected paths are laid end to end with no bond between).
    ``None`` otherwise, or when the layer enters another term (the sum would not factor
    into a product of matrices).
    """
    lay = model.layer(name)
    q = model.quadratic.get(name)
    if not model.explicit or q is None or is_zero_matrix(q) or model.terms_with(name) or not lay.kind.is_discrete:
        return None
    try:
        m = explicit_block(model, q)
    except ModelError:  # too large to read entry by entry: the enumeration's guard says why
        return None
    n = int(lay.size)
    adj: dict[int, set[int]] = {i: set() for i in range(n)}
    for i in range(n):
        for j in range(i + 1, n):
            if m[i, j].is_zero is not True or m[j, i].is_zero is not True:  # 0.0 is a zero too
                adj[i].add(j)
                adj[j].add(i)
    if any(len(a) > 2 for a in adj.values()):
        return None
    seen: set[int] = set()
    paths = []
    for i in range(n):  # each path from one of its ends
        if i not in seen and len(adj[i]) <= 1:
            paths.append(_walk(adj, i))
            seen.update(paths[-1])
    if len(seen) == n:
        return tuple(u for p in paths for u in p), False
    if not seen and n >= 3:  # every unit has two neighbours: a ring if they form one cycle
        cycle = _walk(adj, 0)
        if len(cycle) == n:
            return tuple(cycle), True
    return None


def _sum_by_transfer_matrix(model: EnergyModel, name: str, order: tuple[int, ...], ring: bool) -> EnergyModel:
    lay = model.layer(name)
    kind = lay.kind
    k = len(kind.values)
    term = TransferMatrixTerm(name, kind, int(lay.size), model.biases.get(name), model.quadratic[name],
                              _weights_into(model, name), order, ring)
    shape = "ring" if ring else "chain"
    step = Step(
        name,
        "transfer matrix",
        f"Summed out the {kind.name} layer ${name}$ ({lay.size} units coupled along a {shape}) as the trace of a "
        f"product of {lay.size} transfer matrices of size {k} by {k}, instead of {k}^{lay.size} configurations",
        "the sum over the layer's configurations is the trace of a product of one matrix per unit, "
        "its couplings to the rest entering each matrix through the field it sees",
    )
    return _without_layer(model, name, terms=model.terms + (term,), history=model.history + (step,))
