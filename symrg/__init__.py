"""symrg: symbolic derivations for the renormalization group and its analogy with deep learning.

Describe a layered energy model with symbolic couplings, integrate layers out in closed
form, and get the renormalized hamiltonian, its LaTeX and a numeric callable.

The package follows the pipeline, one subpackage per stage:

* :mod:`symrg.model`  -- unit kinds, layers, terms, the structured energy model;
* :mod:`symrg.engine` -- marginalization, canonical forms, cumulants, subset transforms,
  cumulant series, trained-weight importers;
* :mod:`symrg.rg`     -- recursion maps, chain decimation, Migdal-Kadanoff, lattices,
  coarse-graining rules, block RG, flow diagrams;
* :mod:`symrg.output` -- printers, documents, the numeric code generator, save/load;
* :mod:`symrg.verify` -- safe claim parsers, ``verify``, brute-force cross-checks, the
  pytest helper.

The names below are the everyday surface; everything else is imported from its module.

>>> import symrg
>>> H = symrg.marginalize(symrg.seed_dbm(), "s", "h")
>>> H.layer_names
('v',)
"""

from importlib.metadata import PackageNotFoundError, version

from symrg.engine.canonical import canonical_form
from symrg.engine.effective import cumulant_series, effective_couplings
from symrg.engine.marginalization import marginalize
from symrg.engine.trained import from_sklearn
from symrg.errors import ConditionError, ModelError, SymrgError
from symrg.model import services as _services
from symrg.model.energy import EnergyModel, dbm, energy_model, rbm, seed_dbm
from symrg.model.units import Bernoulli, Discrete, Gaussian, Spin
from symrg.output import codegen as _codegen
from symrg.output import printing as _printing
from symrg.output.document import Derivation
from symrg.output.export import write_module
from symrg.output.numeric import lambdify
from symrg.output.printing import latex
from symrg.output.serialize import load, save
from symrg.rg.block_exact import exact_renormalization
from symrg.rg.chain import decimate_chain
from symrg.rg.cluster_expansion import cumulant_rg
from symrg.rg.migdal_kadanoff import migdal_kadanoff
from symrg.rg.recursion import RecursionMap
from symrg.verify.brute_force import crosscheck
from symrg.verify.testing import assert_equivalent

# the composition root: model objects' convenience methods (.latex(), .lambdify(),
# .marginalize()) reach the higher layers through these, never by importing them
_services.install(
    latex=_printing.latex,
    text=_printing.text,
    model_latex=_printing.model_latex,
    energy_latex=_printing.energy_latex,
    energy_text=_printing.energy_text,
    marginalize=marginalize,
    lambdify=lambdify,
    compile_scalars=_codegen.compile_scalars,
)

try:
    __version__ = version("symrg")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Bernoulli",
    "ConditionError",
    "Derivation",
    "Discrete",
    "EnergyModel",
    "Gaussian",
    "ModelError",
    "RecursionMap",
    "Spin",
    "SymrgError",
    "assert_equivalent",
    "canonical_form",
    "crosscheck",
    "cumulant_rg",
    "cumulant_series",
    "dbm",
    "decimate_chain",
    "effective_couplings",
    "energy_model",
    "exact_renormalization",
    "from_sklearn",
    "lambdify",
    "latex",
    "load",
    "marginalize",
    "migdal_kadanoff",
    "rbm",
    "save",
    "seed_dbm",
    "write_module",
]
