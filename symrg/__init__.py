"""symrg: symbolic derivations for the renormalization group and its analogy with deep learning.

Describe a layered energy model with symbolic couplings, integrate layers out in closed
form, and get the renormalized hamiltonian, its LaTeX and a numeric callable.

>>> import symrg
>>> H = symrg.marginalize(symrg.seed_dbm(), "s", "h")
>>> H.layer_names
('v',)
"""

from .canonical import CanonicalForm, canonical_form
from .crosscheck import CrossCheck, crosscheck
from .document import Derivation
from .marginalize import fold, fold_all, marginalize
from .model import (
    Condition,
    EnergyModel,
    Layer,
    ModelError,
    dbm,
    energy_model,
    rbm,
    seed_dbm,
)
from .numeric import ConditionError, NumericEnergy, lambdify
from .printing import latex
from .units import Bernoulli, Discrete, Gaussian, Spin, UnitKind

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "CanonicalForm",
    "Condition",
    "ConditionError",
    "CrossCheck",
    "Derivation",
    "Discrete",
    "EnergyModel",
    "Gaussian",
    "Layer",
    "ModelError",
    "NumericEnergy",
    "Spin",
    "UnitKind",
    "canonical_form",
    "crosscheck",
    "dbm",
    "energy_model",
    "fold",
    "fold_all",
    "lambdify",
    "latex",
    "marginalize",
    "rbm",
    "seed_dbm",
]
