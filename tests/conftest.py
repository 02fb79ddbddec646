"""Shared test models, built once per test session.

Every result in symrg is an immutable value, so one instance can serve every test that
asks for it.  The models:

* ``seed_abstract`` / ``seed_explicit``: the seed DBM ``v - h - s`` (Bernoulli visible,
  Gaussian hidden layers) with symbolic sizes, and with sizes (2, 2, 2);
* ``H_abstract`` / ``H_explicit``: their effective models ``H(v)`` (``s`` then ``h``
  integrated out);
* ``rbm_bernoulli``: a Bernoulli-Bernoulli RBM with 3 visible and 2 hidden units;
  ``rbm_spin``: a spin-spin RBM with 3 + 3 units;
* ``chain_decimation``: the b = 2 decimation of the spin chain with coupling and field,
  and ``chain_map``, its recursion map ``(K, h) -> (K', h')`` with the constant ``g``.

It also selects the hypothesis profile: ``ci`` (derandomized) when ``CI`` is set.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from symrg.engine.marginalization import marginalize
from symrg.model.energy import EnergyModel, rbm, seed_dbm
from symrg.rg.chain import ChainDecimation, decimate_chain
from symrg.rg.recursion import RecursionMap

# property tests (tests/test_properties.py): under CI the same examples every run, so a
# red build is reproducible; locally each run explores new ones
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def seed_abstract() -> EnergyModel:
    return seed_dbm()


@pytest.fixture(scope="session")
def seed_explicit() -> EnergyModel:
    return seed_dbm(2, 2, 2)


@pytest.fixture(scope="session")
def H_abstract(seed_abstract: EnergyModel) -> EnergyModel:
    return marginalize(seed_abstract, "s", "h")


@pytest.fixture(scope="session")
def H_explicit(seed_explicit: EnergyModel) -> EnergyModel:
    return marginalize(seed_explicit, "s", "h")


@pytest.fixture(scope="session")
def rbm_bernoulli() -> EnergyModel:
    return rbm(3, 2)


@pytest.fixture(scope="session")
def rbm_spin() -> EnergyModel:
    return rbm(3, 3, visible="spin", hidden="spin")


@pytest.fixture(scope="session")
def chain_decimation() -> ChainDecimation:
    return decimate_chain("spin", 2)


@pytest.fixture(scope="session")
def chain_map(chain_decimation: ChainDecimation) -> RecursionMap:
    return chain_decimation.recursion_map
