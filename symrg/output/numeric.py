"""Numeric callables of energy models (numpy, vectorized; mpmath, arbitrary precision).

:func:`lambdify` compiles the program that :mod:`symrg.output.codegen` (the one numeric
code generator) writes from the model's *structure*: couplings are evaluated once per call
as arrays, named intermediates by a Cholesky factorization (which checks the recorded
positive-definiteness conditions with a tolerance relative to the matrix scale), and
states enter through matrix products, so a 784 x 500 RBM costs what hand-written numpy
costs.  Log-partition functions use stable forms (``logaddexp``,
``|x| + log1p(e^{-2|x|})``, log-sum-exp shifted by its maximum).  The exported modules of
:mod:`symrg.output.export` run the same generated code.

Arguments are passed by name: layer states by layer name, parameters by parameter name
(arrays; a bias may be 1-D), and any free scalar symbols by name.  The argument names are
in ``f.arguments`` and in the callable's docstring, with the input rules:

* a layer state has shape ``(n,)`` (one state) or ``(N, n)`` (a batch); batches of
  different layers must have the same ``N``, a single state is broadcast against a
  batch; the result is a number only when every layer is a single state, otherwise an
  array (numpy) or list (mpmath) of ``N`` energies -- never truncated;
* NaN, infinite and complex values are refused with a
  :class:`~symrg.errors.ConditionError` naming the argument, and so are states outside a
  unit's support (a spin layer given 0/1) and negative values of symbols declared
  positive; wrong shapes raise :class:`~symrg.errors.ModelError`.

Examples
--------
>>> import numpy as np
>>> from symrg.model.energy import rbm
>>> from symrg.engine.marginalization import marginalize
>>> H = marginalize(rbm(3, 2), "h").lambdify()
>>> H.arguments
('v', 'a', 'b', 'W')
>>> W = np.array([[1.0, -1.0], [0.5, 0.0], [0.0, 2.0]])
>>> v = np.array([1.0, 0.0, 1.0])
>>> float(H(v=v, a=np.zeros(3), b=np.zeros(2), W=W))  # -softplus(1) - softplus(1)
-2.626523...
>>> H(v=np.array([1.0, 0.5, 1.0]), a=np.zeros(3), b=np.zeros(2), W=W)
Traceback (most recent call last):
...
symrg.errors.ConditionError: layer 'v': value 0.5 is outside the support (0.0, 1.0) of its units
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mpmath

from symrg.errors import ConditionError
from symrg.model.energy import EnergyModel
from symrg.output import codegen

__all__ = ["lambdify", "NumericEnergy", "ConditionError", "BACKENDS"]

BACKENDS = codegen.BACKENDS

_RULES = (
    "Layer states have shape (n,) or (N, n); batches of different layers must have the same N "
    "(a single state is broadcast); the result is a number only when every layer is a single state.\n"
    "Matrix parameters have their own shape (a column may be 1-D).  NaN, infinite or complex values, "
    "states outside a unit's support and negative values of positive symbols raise ConditionError "
    "naming the argument; wrong shapes raise ModelError."
)


@dataclass(frozen=True, eq=False)
class NumericEnergy:
    """A numeric function of an energy model; call it with keyword arguments.

    ``arguments`` lists, in order, the layer states, the matrix parameters and the free
    scalar symbols it takes.  ``backend`` is ``"numpy"`` or ``"mpmath"`` (then ``dps``
    sets the working precision).  See the module docstring for the input rules.
    """

    model: EnergyModel
    backend: str
    arguments: tuple[str, ...]
    dps: int = 50
    _program: Any = field(default=None, repr=False)
    _ns: dict = field(default_factory=dict, repr=False)

    # a value: two callables of the same model, back-end and precision are equal (the
    # generated program and its namespace follow from these)
    def _key(self) -> tuple:
        return (self.model, self.backend, self.arguments, self.dps)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericEnergy):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def text(self) -> str:
        prec = f", {self.dps} digits" if self.backend == "mpmath" else ""
        return f"numeric energy ({self.backend}{prec}) of {', '.join(self.arguments)}"

    def __str__(self) -> str:
        return self.text()

    def latex(self) -> str:
        return self.model.latex()

    def _repr_latex_(self) -> str:
        return self.model._repr_latex_()

    def _kwargs(self, kwargs: dict, names: tuple[str, ...]) -> dict:
        missing = [a for a in names if a not in kwargs]
        extra = [k for k in kwargs if k not in names]
        if missing or extra:
            raise TypeError(
                f"{self.__class__.__name__} takes {list(names)}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"unexpected {extra}" if extra else "")
            )
        py = dict((model_name, py_name) for py_name, model_name in self._program.symbols)
        return {py[k]: v for k, v in kwargs.items()}

    def _run(self, fn: Any, kwargs: dict) -> Any:
        if self.backend == "mpmath":
            with mpmath.workdps(self.dps):
                return fn(**kwargs)
        return fn(**kwargs)

    def __call__(self, **kwargs: Any) -> Any:
        return self._run(self._ns[self._program.name], self._kwargs(kwargs, self.arguments))

    def parameters(self, **kwargs: Any) -> dict[str, Any]:
        """The evaluated blocks of the model (biases ``theta_L``, self blocks ``Q_L``, couplings ``W_LM``)."""
        layers = tuple(str(n) for n in self.model.layer_names)
        names = tuple(a for a in self.arguments if a not in layers)
        kwargs = {k: v for k, v in kwargs.items() if k not in layers}  # states do not enter the blocks
        return self._run(self._ns["parameters"], self._kwargs(kwargs, names))


def lambdify(model: EnergyModel, backend: str = "numpy", dps: int = 50) -> NumericEnergy:
    """A numeric callable of ``model``'s energy.

    Parameters
    ----------
    model
        Any energy model, original or effective.
    backend
        ``"numpy"`` (vectorized over states) or ``"mpmath"`` (arbitrary precision,
        ``dps`` decimal digits).

    Returns
    -------
    NumericEnergy
        Call with keyword arguments: each layer's states (``(n,)`` or ``(N, n)``), each
        matrix parameter (an array of its shape) and each free scalar symbol.  The
        recorded conditions are checked at call time (:class:`ConditionError`); the input
        rules are in the callable's docstring.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid back-ends: {', '.join(BACKENDS)}")
    program = codegen.energy_program(model, "energy")
    ns = codegen.namespace(backend)
    exec(compile(program.source, "<symrg generated energy>", "exec"), ns)  # noqa: S102 - generated, names validated
    args = tuple(model_name for _, model_name in program.symbols)
    f = NumericEnergy(model, backend, args, dps, program, ns)
    doc = f"Energy of {model!r} ({backend}).\n\nArguments, in order: {', '.join(args)}.\n" + _RULES
    object.__setattr__(f, "__doc__", doc)
    return f
