"""Importing trained weights: RBMs from scikit-learn or from plain arrays.

symrg's convention is ``E(v, h) = -a^T v - b^T h - v^T W h`` with ``W`` of shape
``(n_visible, n_hidden)``.  Trained models come in other conventions; :func:`from_arrays`
says which with explicit arguments, and :func:`from_sklearn` reads a fitted
``sklearn.neural_network.BernoulliRBM`` (``components_`` is hidden x visible).

Examples
--------
>>> import numpy as np
>>> t = from_arrays(np.array([[1.0, -2.0]]), [0.5], [0.0, 0.1], orientation="visible_hidden")
>>> t.model.layer_names, t.values["W"].shape
(('v', 'h'), (1, 2))
>>> float(t.free_energy(np.array([1.0]))) == float(-0.5 - np.logaddexp(0, 1.0) - np.logaddexp(0, -1.9))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from typing import Any, Mapping, Sequence

import numpy as np

from symrg.engine.marginalization import marginalize
from symrg.engine.multilinear import exact_couplings as _transform
from symrg.model.energy import EnergyModel, ModelError, rbm
from symrg.model.frozen import FrozenDict, array_hash, arrays_equal, readonly_array

__all__ = ["TrainedRBM", "from_arrays", "from_sklearn", "ORIENTATIONS", "UNITS", "ENERGY_SIGNS"]

ORIENTATIONS = ("visible_hidden", "hidden_visible")
UNITS = ("bernoulli", "spin")
ENERGY_SIGNS = ("minus", "plus")


@dataclass(frozen=True, eq=False)
class TrainedRBM:
    """An RBM with numeric parameters in symrg's convention.

    ``model`` is the symbolic RBM (explicit sizes), ``values`` its parameters
    ``a`` (visible field), ``b`` (hidden field) and ``W`` (visible x hidden), as a
    read-only mapping of read-only arrays; two imports of the same weights compare
    equal and hash alike.
    """

    model: EnergyModel
    values: Mapping[str, np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", FrozenDict((k, readonly_array(v)) for k, v in self.values.items()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TrainedRBM):
            return NotImplemented
        return (self.model == other.model and set(self.values) == set(other.values)
                and all(arrays_equal(v, other.values[k]) for k, v in self.values.items()))

    def __hash__(self) -> int:
        return hash((self.model, tuple(sorted((k, array_hash(v)) for k, v in self.values.items()))))

    def text(self) -> str:
        v, h = (self.model.layer(n).size for n in ("v", "h"))
        W = self.values["W"]
        return f"trained RBM, {v} {self.model.layer('v').kind.name} visible x {h} hidden units, |W| max {float(np.max(np.abs(W))):.4g}"

    def __str__(self) -> str:
        return self.text()

    def latex(self) -> str:
        return self.model.latex()

    def _repr_latex_(self) -> str:
        return self.model._repr_latex_()

    @cached_property
    def marginal(self) -> EnergyModel:
        """The effective model ``H(v)`` with the hidden layer summed out."""
        return marginalize(self.model, "h")

    @cached_property
    def _h(self) -> Any:  # the numeric callable of the marginal (symrg.output.numeric.NumericEnergy)
        return self.marginal.lambdify()

    def free_energy(self, v: np.ndarray) -> np.ndarray:
        """``H(v) = -log sum_h exp(-E(v, h))`` for states ``v`` of shape ``(n,)`` or ``(N, n)``."""
        return self._h(v=np.asarray(v, dtype=float), **self.values)

    def coupling(self, subset: Sequence[int]) -> float:
        """Exact multi-body coupling of the Bernoulli visible units in ``subset`` (0-based).

        Computed from its definition, ``c_S = sum_{T subset S} (-1)^{|S|-|T|} H(1_T)``:
        it depends only on the ``2^|S|`` configurations supported on ``S``, so it is
        exact for any number of visible units.
        """
        n = int(self.model.layer("v").size)
        S = tuple(int(i) for i in subset)
        if any(not 0 <= i < n for i in S) or len(set(S)) != len(S):
            raise ModelError(f"subset {subset!r} must hold distinct unit indices in 0..{n - 1}")
        if self.model.layer("v").kind.multilinear_basis != "mobius":  # units on {0, 1}
            raise ModelError("coupling() is defined for Bernoulli visible units (Möbius inversion)")
        states = []
        signs = []
        for r in range(len(S) + 1):
            for T in combinations(S, r):
                x = np.zeros(n)
                x[list(T)] = 1.0
                states.append(x)
                signs.append((-1) ** (len(S) - r))
        return float(np.dot(signs, self.free_energy(np.array(states))))

    def block_couplings(self, units: Sequence[int]) -> np.ndarray:
        """All couplings among ``units`` (others clamped at 0) by the fast Möbius transform.

        Returns the array indexed by bitmask over ``units`` (bit ``k`` = ``units[k]``).
        """
        n = int(self.model.layer("v").size)
        units = [int(u) for u in units]

        def energy(states):
            x = np.zeros((states.shape[0], n))
            x[:, units] = states
            return self.free_energy(x)

        return _transform(energy, "bernoulli", n=len(units))


def from_arrays(
    weights: Any,
    visible_bias: Any,
    hidden_bias: Any,
    *,
    orientation: str = "visible_hidden",
    units: str = "bernoulli",
    energy: str = "minus",
) -> TrainedRBM:
    """Build a :class:`TrainedRBM` from plain arrays with an explicit convention.

    Parameters
    ----------
    weights
        The weight matrix, ``(n_visible, n_hidden)`` if ``orientation="visible_hidden"``,
        ``(n_hidden, n_visible)`` if ``"hidden_visible"``.
    visible_bias, hidden_bias
        The fields.
    units
        ``"bernoulli"`` ({0, 1} units) or ``"spin"`` ({-1, +1} units), both layers.
    energy
        ``"minus"``: the arrays define ``E = -a^T v - b^T h - v^T W h`` (symrg's sign);
        ``"plus"``: they define ``E = +a^T v + b^T h + v^T W h`` (all signs flipped).
    """
    for name, val, ok in (("orientation", orientation, ORIENTATIONS), ("units", units, UNITS), ("energy", energy, ENERGY_SIGNS)):
        if val not in ok:
            raise ValueError(f"unknown {name} {val!r}; valid choices: {', '.join(ok)}")
    W = np.asarray(weights, dtype=float)
    a = np.asarray(visible_bias, dtype=float).ravel()
    b = np.asarray(hidden_bias, dtype=float).ravel()
    if W.ndim != 2:
        raise ValueError(f"weights must be a 2-D array, got shape {W.shape}")
    if orientation == "hidden_visible":
        W = W.T
    if W.shape != (a.size, b.size):
        raise ValueError(
            f"weights of shape {W.shape} (as visible x hidden) do not match visible_bias ({a.size}) "
            f"and hidden_bias ({b.size}); check the orientation argument"
        )
    sign = 1.0 if energy == "minus" else -1.0
    model = rbm(a.size, b.size, visible=units, hidden=units)
    return TrainedRBM(model, {"a": sign * a, "b": sign * b, "W": sign * W})


def from_sklearn(estimator: Any) -> TrainedRBM:
    """Build a :class:`TrainedRBM` from a fitted ``sklearn.neural_network.BernoulliRBM``.

    scikit-learn stores ``components_`` as hidden x visible, with ``intercept_hidden_``
    and ``intercept_visible_``, and uses ``E = -a^T v - b^T h - v^T W h`` on {0, 1} units;
    its ``_free_energy(v)`` is then symrg's ``H(v)``.
    """
    missing = [n for n in ("components_", "intercept_hidden_", "intercept_visible_") if not hasattr(estimator, n)]
    if missing:
        raise ValueError(f"the estimator has no {', '.join(missing)}: pass a fitted BernoulliRBM")
    return from_arrays(
        estimator.components_, estimator.intercept_visible_, estimator.intercept_hidden_,
        orientation="hidden_visible", units="bernoulli", energy="minus",
    )
