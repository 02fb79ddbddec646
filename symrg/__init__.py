"""symrg: symbolic derivations for the renormalization group and its analogy with deep learning.

Describe a layered energy model with symbolic couplings, integrate layers out in closed
form, and get the renormalized hamiltonian, its LaTeX and a numeric callable.

>>> import symrg
>>> H = symrg.marginalize(symrg.seed_dbm(), "s", "h")
>>> H.layer_names
('v',)
"""

from .canonical import CanonicalForm, canonical_form
from .chain import ChainDecimation, decimate_chain, transfer_matrix_log_z
from .crosscheck import CrossCheck, crosscheck
# the function cumulants() stays in symrg.cumulants: exporting it here would hide the module
from .cumulants import (
    cgf,
    cgf_series,
    cumulant,
    cumulant_expansion,
    cumulants_to_moments,
    joint_cumulant,
    moments_to_cumulants,
)
from .document import Derivation
from .effective import CumulantSeries, cumulant_series, effective_couplings
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
from .migdal_kadanoff import critical_point, migdal_kadanoff
from .multilinear import exact_couplings, symbolic_couplings
from .numeric import ConditionError, NumericEnergy, lambdify
from .printing import latex
from .recursion import FixedPoint, RecursionMap, free_energy_from_flow
from .trained import TrainedRBM, from_arrays, from_sklearn
from .units import Bernoulli, Discrete, Gaussian, Spin, UnitKind

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "CanonicalForm",
    "ChainDecimation",
    "Condition",
    "ConditionError",
    "CrossCheck",
    "CumulantSeries",
    "Derivation",
    "Discrete",
    "EnergyModel",
    "FixedPoint",
    "Gaussian",
    "Layer",
    "ModelError",
    "NumericEnergy",
    "RecursionMap",
    "Spin",
    "TrainedRBM",
    "UnitKind",
    "canonical_form",
    "cgf",
    "cgf_series",
    "critical_point",
    "crosscheck",
    "cumulant",
    "cumulant_expansion",
    "cumulant_series",
    "cumulants_to_moments",
    "dbm",
    "decimate_chain",
    "effective_couplings",
    "energy_model",
    "exact_couplings",
    "fold",
    "fold_all",
    "free_energy_from_flow",
    "from_arrays",
    "from_sklearn",
    "joint_cumulant",
    "lambdify",
    "latex",
    "marginalize",
    "migdal_kadanoff",
    "moments_to_cumulants",
    "rbm",
    "seed_dbm",
    "symbolic_couplings",
    "transfer_matrix_log_z",
]
