"""The errors symrg raises: every one derives from :class:`SymrgError`.

Catch ``SymrgError`` to handle anything symrg refuses; the subclasses say which stage
refused (the model description, a numeric evaluation, a claim, a saved file, ...).
Where a Python built-in exception class has the same meaning, the symrg class also
derives from it (``ModelError`` is a ``ValueError``), so older ``except ValueError``
code keeps working.

>>> import symrg
>>> issubclass(symrg.ModelError, symrg.SymrgError)
True
"""

from __future__ import annotations

__all__ = [
    "SymrgError",
    "ModelError",
    "ConditionError",
    "BudgetError",
    "ClaimError",
    "VerifyError",
    "SerializeError",
    "ExportError",
    "CLIError",
    "ParallelError",
]


class SymrgError(Exception):
    """Base class of every error symrg raises on purpose."""


class ModelError(SymrgError, ValueError):
    """A model description, a layer, a shape or a parameter is invalid.

    The message names the layer, block or parameter at fault.
    """


class ConditionError(SymrgError, ValueError):
    """A numeric input violates a condition of the result (or a unit's support).

    Raised by numeric callables, for example when ``I - U U^T`` is not positive definite
    at the given parameters, or when a spin layer is given a 0.
    """


class BudgetError(SymrgError, RuntimeError):
    """A time, size or precision budget was exceeded (the work was refused, not hung)."""


class ClaimError(SymrgError, ValueError):
    """A claim string could not be parsed; the message points at the position."""


class VerifyError(SymrgError, ValueError):
    """A claim cannot be compared with the derived result (unknown result, shapes)."""


class SerializeError(SymrgError, ValueError):
    """A saved file is malformed, tampered with, or too large to load."""


class ExportError(SymrgError, ValueError):
    """A result cannot be written as a standalone numeric module."""


class CLIError(SymrgError):
    """Bad command-line input (exit status 2)."""


class ParallelError(SymrgError, RuntimeError):
    """Work cannot be distributed: the function does not pickle, the grid is malformed,
    or a Dask client was given without ``dask.distributed`` installed (see :mod:`symrg.parallel`)."""
