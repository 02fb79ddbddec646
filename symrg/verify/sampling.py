"""Random parameter values for numeric checks: one rule for every checker.

:func:`symrg.verify.verdict.verify` (random points for a claim) and
:func:`symrg.verify.brute_force.crosscheck` (random parameters of an energy model) both
draw their matrices here, so the same parameter gets the same kind of value on both
roads.  A parameter plays one of three roles:

* ``"precision"``: a symmetric positive-definite matrix ``I + A A^T`` with ``A`` of
  entries ``N(0, scale^2 / n)``.  Only the symmetric part of a precision enters
  ``x^T P x``, so a non-symmetric draw would make formulas that invert ``P`` (the
  Gaussian integral) disagree with formulas that only contract it;
* ``"vector"`` (a bias, a field): entries ``N(0, 1)``;
* ``"matrix"`` (a coupling): entries ``N(0, scale^2 / max(rows, cols))``, small enough
  that Gaussian layers coupled by it usually stay normalizable.

Examples
--------
>>> import numpy as np
>>> P = random_matrix(np.random.default_rng(0), 3, 3, "precision", 0.5)
>>> bool(np.array_equal(P, P.T)), bool(np.linalg.eigvalsh(P).min() >= 1.0)
(True, True)
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from symrg.errors import VerifyError

__all__ = ["ROLES", "random_matrix"]

Role = Literal["precision", "vector", "matrix"]
#: the roles a sampled parameter can play
ROLES: tuple[str, ...] = ("precision", "vector", "matrix")


def random_matrix(rng: np.random.Generator, rows: int, cols: int, role: Role, scale: float) -> np.ndarray:
    """A random ``rows x cols`` value for a parameter playing ``role``.

    Parameters
    ----------
    rng : numpy Generator
    rows, cols : int
        The shape (a precision is square).
    role : {"precision", "vector", "matrix"}
        See the module docstring.
    scale : float
        Size of the off-diagonal part of a precision and of a coupling's entries.

    Raises
    ------
    VerifyError
        Unknown role, or a non-square precision.

    Examples
    --------
    >>> import numpy as np
    >>> random_matrix(np.random.default_rng(1), 2, 1, "vector", 0.5).shape
    (2, 1)
    """
    if role == "precision":
        if rows != cols:
            raise VerifyError(f"a precision is square, got shape ({rows}, {cols})")
        a = rng.normal(size=(rows, rows)) * scale / np.sqrt(rows)
        return np.eye(rows) + a @ a.T
    if role == "vector":
        return rng.normal(size=(rows, cols))
    if role == "matrix":
        return rng.normal(size=(rows, cols)) * scale / np.sqrt(max(rows, cols))
    raise VerifyError(f"unknown parameter role {role!r}; valid roles: {', '.join(ROLES)}")
