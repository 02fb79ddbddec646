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
from .blockrg import CumulantRG, ExactRenormalization, cumulant_rg, exact_renormalization, mutual_information_chain
from .coarse import CoarseRule, coarse_rule
from .export import export_energy, export_recursion, write_module
from .lattice import BlockPartition, chain_blocks, ising_model, square_blocks, triangular_blocks
from .migdal_kadanoff import critical_point, migdal_kadanoff
from .multilinear import exact_couplings, symbolic_couplings
from .numeric import ConditionError, NumericEnergy, lambdify
from .printing import latex
from .parsing import ClaimError, parse_claim
from .recursion import FixedPoint, RecursionMap, free_energy_from_flow
from .serialize import dumps, load, loads, models_equal, save
from .testing import assert_equivalent
from .trained import TrainedRBM, from_arrays, from_sklearn

# the function verify() hides the module symrg.verify as an attribute of the package;
# ``from symrg.verify import ...`` still reaches the module
from .verify import Counterexample, Verdict, verify
from .units import Bernoulli, Discrete, Gaussian, Spin, UnitKind

__version__ = "0.1.0"

__all__ = [
    "Bernoulli",
    "BlockPartition",
    "CanonicalForm",
    "ChainDecimation",
    "ClaimError",
    "CoarseRule",
    "Condition",
    "ConditionError",
    "Counterexample",
    "CrossCheck",
    "CumulantRG",
    "CumulantSeries",
    "Derivation",
    "Discrete",
    "EnergyModel",
    "ExactRenormalization",
    "FixedPoint",
    "Gaussian",
    "Layer",
    "ModelError",
    "NumericEnergy",
    "RecursionMap",
    "Spin",
    "TrainedRBM",
    "UnitKind",
    "Verdict",
    "assert_equivalent",
    "canonical_form",
    "cgf",
    "cgf_series",
    "chain_blocks",
    "coarse_rule",
    "critical_point",
    "crosscheck",
    "cumulant",
    "cumulant_expansion",
    "cumulant_rg",
    "cumulant_series",
    "cumulants_to_moments",
    "dbm",
    "decimate_chain",
    "dumps",
    "effective_couplings",
    "energy_model",
    "exact_couplings",
    "exact_renormalization",
    "export_energy",
    "export_recursion",
    "fold",
    "fold_all",
    "free_energy_from_flow",
    "from_arrays",
    "from_sklearn",
    "ising_model",
    "joint_cumulant",
    "lambdify",
    "latex",
    "load",
    "loads",
    "marginalize",
    "migdal_kadanoff",
    "models_equal",
    "moments_to_cumulants",
    "mutual_information_chain",
    "parse_claim",
    "rbm",
    "save",
    "seed_dbm",
    "square_blocks",
    "symbolic_couplings",
    "transfer_matrix_log_z",
    "triangular_blocks",
    "verify",
    "write_module",
]
