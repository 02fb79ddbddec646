"""Operations that model objects offer as methods but that live in higher layers.

The model layer is the bottom of the pipeline (model -> engine -> rg -> output) and may
not import the engine or the printers; ``lint-imports`` checks this, function-level
imports included.  Result objects still offer ``.latex()``, ``.lambdify()`` and
``.marginalize()`` for convenience.  The package's ``__init__`` (the composition root,
which imports every layer anyway) installs the implementations here once with
:func:`install`; the methods look them up by name.

>>> import symrg
>>> from symrg.model import services
>>> services.get("latex") is symrg.latex
True
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["install", "get"]

_SERVICES: dict[str, Callable[..., Any]] = {}
_NAMES = ("latex", "text", "model_latex", "energy_latex", "energy_text", "marginalize", "lambdify", "compile_scalars")


def install(**implementations: Callable[..., Any]) -> None:
    """Install higher-layer implementations (called by ``symrg/__init__.py`` only)."""
    unknown = set(implementations) - set(_NAMES)
    if unknown:
        raise KeyError(f"unknown services {sorted(unknown)}; known: {list(_NAMES)}")
    _SERVICES.update(implementations)


def get(name: str) -> Callable[..., Any]:
    """The installed implementation of ``name`` (always present once ``symrg`` is imported)."""
    try:
        return _SERVICES[name]
    except KeyError:
        raise RuntimeError(f"symrg service {name!r} is not installed; import symrg first") from None
