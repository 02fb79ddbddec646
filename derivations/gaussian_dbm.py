"""The seed's derivation: a Bernoulli/Gaussian/Gaussian DBM, integrating out s then h.

Run ``python derivations/gaussian_dbm.py`` or ``symrg derive derivations/gaussian_dbm.py``
(add ``--format latex`` for a standalone LaTeX document).  The document holds both
marginalization steps in vector notation, the renormalized couplings, the cumulant
reading of each step, the existence condition ``I - U U^T > 0``, and numeric checks
against brute force: the energy, the partition function and the correlators
``<v_i v_j>`` are unchanged by the marginalization.
"""

import sys

from symrg.examples import seed_derivation
from symrg.output.document import Derivation


def derivation() -> Derivation:
    return seed_derivation(n_v=5, n_h=3, n_s=3, seed=2024)


if __name__ == "__main__":
    doc = derivation()
    print(doc.render("text"))
    sys.exit(0 if doc.passed else 1)
