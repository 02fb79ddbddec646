"""Independent numeric cross-checks of effective models against their original model.

The reference never reuses the marginalization engine: the original energy is written
as ``E(x) = -theta^T x + 1/2 x^T M x`` over *all* units (one big vector), every removed
discrete unit is enumerated, and all removed continuous units are integrated at once
as one joint Gaussian integral (``solve`` and ``slogdet`` of the joint precision).

Examples
--------
>>> from symrg.model.energy import seed_dbm
>>> from symrg.engine.marginalization import marginalize
>>> report = crosscheck(marginalize(seed_dbm(3, 2, 2), "s", "h"), seed=1)
>>> report.max_abs_error < 1e-10 and report.passed
True
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import sympy as sp

from symrg.model.display import Displayed
from symrg.model.energy import EnergyModel, ModelError, MultispinTerm
from symrg.model.numerics import logsumexp
from symrg.output.numeric import ConditionError, lambdify
from symrg.parallel import run_map
from symrg.verify.sampling import random_matrix

__all__ = ["crosscheck", "CrossCheck", "random_parameters", "brute_force_log_weight", "MAX_BRUTE_FORCE_CONFIGURATIONS"]

#: brute force enumerates at most this many discrete configurations
MAX_BRUTE_FORCE_CONFIGURATIONS = 1 << 20
#: (configuration, survivor state) pairs per chunk of the enumeration (the tasks of symrg.parallel.run_map)
CHUNK_ROWS = 1 << 16


@dataclass(frozen=True)
class CrossCheck(Displayed):
    """Result of :func:`crosscheck`.

    ``max_abs_error`` and ``max_rel_error`` compare ``H_eff`` with the brute-force
    ``-log`` of the marginal weight at ``n_points`` states; ``log_z_error`` compares
    the partition functions and ``correlator_error`` the pair correlators ``<x_i x_j>``
    of the surviving discrete units (``None`` when not applicable).
    """

    max_abs_error: float
    max_rel_error: float
    n_points: int
    log_z_error: float | None
    correlator_error: float | None
    compared: tuple[str, ...]
    tolerance: float = 1e-10

    @property
    def passed(self) -> bool:
        errs = [self.max_rel_error] + [e for e in (self.log_z_error, self.correlator_error) if e is not None]
        return all(e <= self.tolerance for e in errs)

    def text(self) -> str:
        lines = [f"cross-check against brute force ({', '.join(self.compared)}):",
                 f"  max abs error of H: {self.max_abs_error:.3e} over {self.n_points} states",
                 f"  max rel error of H: {self.max_rel_error:.3e}"]
        if self.log_z_error is not None:
            lines.append(f"  log Z error: {self.log_z_error:.3e}")
        if self.correlator_error is not None:
            lines.append(f"  pair correlator error: {self.correlator_error:.3e}")
        lines.append(f"  {'passed' if self.passed else 'FAILED'} (tolerance {self.tolerance:.0e})")
        return "\n".join(lines)

    def latex(self) -> str:
        rows = [rf"\max |\Delta H| &= {_latex_number(self.max_abs_error)} \quad ({self.n_points}\ \text{{states}})",
                rf"\max |\Delta H| / |H| &= {_latex_number(self.max_rel_error)}"]
        if self.log_z_error is not None:
            rows.append(rf"|\Delta \log Z| &= {_latex_number(self.log_z_error)}")
        if self.correlator_error is not None:
            rows.append(rf"\max |\Delta \langle x_i x_j \rangle| &= {_latex_number(self.correlator_error)}")
        rows.append(rf"&\text{{{'passed' if self.passed else 'FAILED'} (tolerance {self.tolerance:.0e})}}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _latex_number(x: float) -> str:
    """``1.234 \\times 10^{-5}`` (plain ``0`` for zero)."""
    if x == 0:
        return "0"
    mant, exp = f"{x:.3e}".split("e")
    return rf"{mant} \times 10^{{{int(exp)}}}"


def random_parameters(model: EnergyModel, rng: np.random.Generator, sizes: dict | None = None, scale: float = 0.5) -> dict:
    """Random values for every parameter of ``model`` (its original's parameters).

    The values follow :func:`symrg.verify.sampling.random_matrix`, the rule
    :func:`symrg.verify.verdict.verify` samples with: named precisions (explicit or
    abstract) get a symmetric positive-definite matrix, biases ``N(0, 1)`` entries,
    couplings entries ``N(0, scale^2 / n)`` so that Gaussian layers usually stay
    normalizable.  Abstract sizes take values from ``sizes``.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> from symrg.model.energy import energy_model
    >>> n, k = sp.symbols("n k", integer=True, positive=True)
    >>> m = energy_model([("v", k, "spin"), ("h", n, "gaussian")], [("v", "h")], precisions={"h": "P"})
    >>> P = random_parameters(m, np.random.default_rng(0), {n: 3, k: 2})["P"]
    >>> P.shape, bool(np.array_equal(P, P.T))
    ((3, 3), True)
    """
    out = {}
    biases = set(model.biases.values())
    precisions: set = set()
    self_couplings: dict = {}  # a named self-coupling J enters as -J (docs/marginalization.md)
    for name, q in model.quadratic.items():
        for part in q.args if isinstance(q, sp.MatAdd) else (q,):
            if isinstance(part, sp.MatMul) and len(part.args) == 2 and part.args[0] == -1:
                kind = model.layer(name).kind  # two-valued units: zero diagonal
                self_couplings[part.args[1]] = kind.is_discrete and kind.square_reduction() is not None
            else:
                precisions.add(part)
    for p in model.params.values():
        if not p.auto:
            continue
        r, c = (_concrete_size(d, sizes) for d in p.symbol.shape)
        if p.symbol in self_couplings:  # symmetric, zero diagonal on a layer of two-valued units
            m = random_matrix(rng, r, c, "matrix", scale)
            m = (m + m.T) / 2
            out[p.name] = m - np.diag(np.diag(m)) if self_couplings[p.symbol] else m
        elif p.symbol in precisions:
            out[p.name] = random_matrix(rng, r, c, "precision", scale)
        elif c == 1 and p.symbol in biases:
            out[p.name] = random_matrix(rng, r, c, "vector", scale).ravel()
        else:
            out[p.name] = random_matrix(rng, r, c, "matrix", scale)
    return out


def _concrete_size(d: Any, sizes: Mapping | None) -> int:
    """A layer or parameter dimension as an int; symbolic ones from ``sizes``."""
    if not getattr(d, "free_symbols", None):
        return int(d)
    if not sizes or d not in sizes:
        raise ModelError(f"abstract size {d}: pass sizes={{{d}: int}}")
    return int(sizes[d])


# --------------------------------------------------------------------------------------
# the independent reference
# --------------------------------------------------------------------------------------


class _Flat:
    """The original (polynomial) model flattened: E(x) = -theta^T x + 1/2 x^T M x + e0."""

    def __init__(self, original: EnergyModel, values: dict, dims: dict | None = None) -> None:
        if any(not isinstance(t, MultispinTerm) for t in original.terms):
            raise ModelError("the reference model must be polynomial (an input model, not an effective one)")
        named = {str(k): v for k, v in values.items()}
        missing = sorted({s.name for t in original.terms for c in t.coefficients for s in c.free_symbols} - set(named))
        if missing:
            raise ModelError(f"values: no value for {', '.join(missing)} (coefficients of multi-unit terms)")
        f = lambdify(original)
        blocks = f.parameters(**values)
        self.layers = original.layers
        self.offsets = {}
        k = 0
        sizes = {l.name: _concrete_size(l.size, dims) for l in original.layers}
        for l in original.layers:
            self.offsets[l.name] = (k, k + sizes[l.name])
            k += sizes[l.name]
        self.n = k
        self.theta = np.zeros(k)
        self.M = np.zeros((k, k))
        for name, (i, j) in self.offsets.items():
            if f"theta_{name}" in blocks:
                self.theta[i:j] = np.asarray(blocks[f"theta_{name}"]).ravel()
            if f"Q_{name}" in blocks:
                self.M[i:j, i:j] = blocks[f"Q_{name}"]
        for (a, b) in original.couplings:
            (i, j), (k0, l0) = self.offsets[a], self.offsets[b]
            w = blocks[f"W_{a}{b}"]
            self.M[i:j, k0:l0] -= w
            self.M[k0:l0, i:j] -= w.T
        self.e0 = float(original.constant) if original.constant != 0 else 0.0
        # products of three or more units (plaquettes): (global unit indices, coefficient)
        self.multi = tuple(
            (self.offsets[t.layer][0] + np.array(u), float(c.xreplace({s: sp.Float(float(named[s.name])) for s in c.free_symbols})))
            for t in original.terms for u, c in t.monomials
        )

    def idx(self, names) -> np.ndarray:
        return np.concatenate([np.arange(*self.offsets[n]) for n in names]) if names else np.zeros(0, int)


def brute_force_log_weight(
    original: EnergyModel, values: dict, survivors: dict[str, np.ndarray], sizes: dict | None = None, *, client: object = None
) -> np.ndarray:
    """``-log`` of the marginal weight of the survivors, by enumeration and one joint Gaussian integral.

    ``survivors`` maps each surviving layer to an array of states ``(N, n)``.  Every
    other layer of ``original`` is removed: discrete ones are enumerated, continuous
    ones integrated jointly.  ``sizes`` gives values to symbolic layer sizes.  The
    enumeration runs in chunks of about :data:`CHUNK_ROWS` (configuration, state) pairs,
    on a Dask cluster with ``client=`` (or :func:`symrg.parallel.use_client`).
    """
    flat = _Flat(original, values, sizes)
    removed = [l for l in original.layers if l.name not in survivors]
    rem_disc = [l for l in removed if l.kind.is_discrete]
    rem_cont = [l for l in removed if not l.kind.is_discrete]
    F = flat.idx(list(survivors))
    D = flat.idx([l.name for l in rem_disc])
    R = flat.idx([l.name for l in rem_cont])
    n_cfg = 1
    for l in rem_disc:
        n_cfg *= l.kind.size ** (flat.offsets[l.name][1] - flat.offsets[l.name][0])
    if n_cfg > MAX_BRUTE_FORCE_CONFIGURATIONS:
        raise ModelError(f"brute force would enumerate {n_cfg} configurations (limit {MAX_BRUTE_FORCE_CONFIGURATIONS})")
    per_unit: list[tuple[float, ...]] = []
    for l in rem_disc:
        i, j = flat.offsets[l.name]
        per_unit += [tuple(float(v) for v in l.kind.values)] * (j - i)
    if survivors:
        xs = np.concatenate([np.atleast_2d(np.asarray(survivors[n], dtype=float)) for n in survivors], axis=1)
    else:
        xs = np.zeros((1, 0))
    gauss = None
    if len(R):
        P = flat.M[np.ix_(R, R)]
        sign, logdet = np.linalg.slogdet(P)
        if sign <= 0 or np.linalg.eigvalsh((P + P.T) / 2).min() <= 0:
            raise ConditionError("the joint precision of the integrated continuous units is not positive definite")
        gauss = (R, P, float(logdet))
    fixed_idx = np.concatenate([F, D])
    step = max(1, CHUNK_ROWS // max(1, xs.shape[0]), -(-n_cfg // 4096))  # at most 4096 chunks
    chunk = functools.partial(_brute_force_chunk, flat.theta, flat.M, flat.e0, fixed_idx, gauss, tuple(per_unit), xs, step, n_cfg,
                              multi=_columns(flat.multi, fixed_idx))
    parts = run_map(chunk, range(0, n_cfg, step), client=client, desc="brute force")
    # each chunk returns log sum_x exp(-E) over its configurations; one chunk is the whole sum
    return -(parts[0] if len(parts) == 1 else logsumexp(np.stack(parts), axis=0))


def _columns(multi: tuple, fixed_idx: np.ndarray) -> tuple:
    """Multi-unit products with their units as columns of the (survivors, enumerated) rows."""
    col = {int(g): k for k, g in enumerate(fixed_idx)}
    return tuple((np.array([col[int(g)] for g in idx]), c) for idx, c in multi)


def _brute_force_chunk(
    theta: np.ndarray, M: np.ndarray, e0: float, fixed_idx: np.ndarray, gauss: tuple | None,
    per_unit: tuple[tuple[float, ...], ...], xs: np.ndarray, step: int, n_cfg: int, start: int,
    *, multi: tuple = (),
) -> np.ndarray:
    """``log sum exp(-E)`` over the discrete configurations ``start .. start + step - 1``
    (``itertools.product`` order of ``per_unit``), for every survivor state of ``xs``."""
    k = np.arange(start, min(start + step, n_cfg))
    configs = np.empty((len(k), len(per_unit)))
    for u in range(len(per_unit) - 1, -1, -1):  # the last unit varies fastest
        r = len(per_unit[u])
        configs[:, u] = np.asarray(per_unit[u])[k % r]
        k = k // r
    N, K = xs.shape[0], configs.shape[0]
    # fixed part x_F (survivors) and enumerated part x_D, combined per (config, state)
    xf = np.concatenate([np.repeat(xs[None, :, :], K, axis=0), np.repeat(configs[:, None, :], N, axis=1)], axis=2)
    xf = xf.reshape(K * N, -1)
    th_f, M_ff = theta[fixed_idx], M[np.ix_(fixed_idx, fixed_idx)]
    e = -xf @ th_f + 0.5 * np.einsum("ij,jk,ik->i", xf, M_ff, xf) + e0
    for cols, c in multi:  # - c prod x over the units of a multi-unit term
        e = e - c * np.prod(xf[:, cols], axis=1)
    if gauss is not None:
        R, P, logdet = gauss
        J = theta[R][None, :] - xf @ M[np.ix_(fixed_idx, R)]
        sol = np.linalg.solve(P, J.T).T
        e = e - 0.5 * np.einsum("ij,ij->i", J, sol) - 0.5 * (len(R) * np.log(2 * np.pi) - logdet)
    return logsumexp(-e.reshape(K, N), axis=0)


# --------------------------------------------------------------------------------------
# the check
# --------------------------------------------------------------------------------------


def crosscheck(
    model: EnergyModel,
    values: dict | None = None,
    seed: int = 0,
    n_points: int = 64,
    sizes: dict | None = None,
    tolerance: float = 1e-10,
    *,
    client: object = None,
) -> CrossCheck:
    """Compare an effective model's energy with a brute-force marginal of its original.

    Parameters
    ----------
    model
        An effective model (one with ``model.original``), or an input model (then
        it is compared with itself through the reference, a check of the evaluator).
    values
        Parameter values; random (seeded) ones by default, redrawn until the
        recorded conditions hold.
    n_points
        Random continuous survivor states; discrete-only survivors are enumerated
        completely when there are at most 4096 configurations.
    sizes
        Values for symbolic layer sizes (abstract mode), e.g. ``{n_v: 3}``.
    client
        A ``dask.distributed.Client``: the brute-force enumeration runs in chunks on it
        (default: the client of :func:`symrg.parallel.use_client`, else locally).

    Returns
    -------
    CrossCheck
        Errors of ``H``, of ``log Z`` and of the pair correlators of discrete survivors.
    """
    rng = np.random.default_rng(seed)
    original = model.original or model
    if not original.explicit:
        if not sizes:
            raise ModelError("abstract model: pass sizes={symbol: int} for the cross-check")
        sizes = {k: int(v) for k, v in sizes.items()}
    f = lambdify(model)
    values = dict(values) if values is not None else None
    scale = 0.5
    for attempt in range(50):
        vals = values if values is not None else random_parameters(original, rng, sizes, scale)
        try:
            states = _survivor_states(model, rng, sizes, n_points)
            h_eff = f(**states, **vals)
            break
        except ConditionError:
            if values is not None:
                raise
            scale *= 0.8
    else:  # pragma: no cover - practically unreachable
        raise ConditionError("could not draw parameters that satisfy the model's conditions")
    h_ref = brute_force_log_weight(original, vals, states, sizes, client=client)
    err = np.abs(h_eff - h_ref)
    rel = err / np.maximum(1.0, np.abs(h_ref))
    compared = ["H at survivor states"]
    log_z_err = corr_err = None
    discrete_only = all(l.kind.is_discrete for l in model.layers)
    if discrete_only and len(h_ref) > 0 and model.layers and _enumerated_all(model, states):
        lz_eff = logsumexp(-h_eff)
        lz_ref = -brute_force_log_weight(original, vals, {}, sizes, client=client)[0]
        log_z_err = abs(lz_eff - lz_ref) / max(1.0, abs(lz_ref))
        x = np.concatenate([states[l.name] for l in model.layers], axis=1)
        c_eff = _pair_correlators(x, -h_eff)
        c_ref = _pair_correlators(x, -h_ref)
        corr_err = float(np.abs(c_eff - c_ref).max())
        compared += ["partition function", "pair correlators <x_i x_j>"]
    return CrossCheck(float(err.max()), float(rel.max()), len(h_ref), log_z_err, corr_err, tuple(compared), tolerance)


def _survivor_states(model, rng, sizes, n_points) -> dict[str, np.ndarray]:
    def n_of(l):
        return int(l.size) if l.explicit else int(sizes[l.size])

    disc = [l for l in model.layers if l.kind.is_discrete]
    total = 1
    for l in disc:
        total *= l.kind.size ** n_of(l)
    cont = [l for l in model.layers if not l.kind.is_discrete]
    out: dict[str, np.ndarray] = {}
    if not cont and total <= 4096:
        per_unit = []
        for l in disc:
            per_unit += [[float(v) for v in l.kind.values]] * n_of(l)
        cfg = np.array(list(itertools.product(*per_unit)), dtype=float)
        k = 0
        for l in disc:
            out[l.name] = cfg[:, k:k + n_of(l)]
            k += n_of(l)
        return out
    for l in model.layers:
        if l.kind.is_discrete:
            vals = np.array([float(v) for v in l.kind.values])
            out[l.name] = rng.choice(vals, size=(n_points, n_of(l)))
        else:
            out[l.name] = rng.normal(size=(n_points, n_of(l)))
    return out


def _enumerated_all(model, states) -> bool:
    n = len(next(iter(states.values())))
    total = 1
    for l in model.layers:
        total *= l.kind.size ** states[l.name].shape[1]
    return n == total


def _pair_correlators(x: np.ndarray, logw: np.ndarray) -> np.ndarray:
    w = np.exp(logw - logw.max())
    w /= w.sum()
    return np.einsum("k,ki,kj->ij", w, x, x)
