"""How result objects show themselves: ``str()`` is their plain-text summary and Jupyter
renders their LaTeX.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Answer(Displayed):
...     value: int
...     def text(self) -> str:
...         return f"answer {self.value}"
...     def latex(self) -> str:
...         return rf"\\text{{answer}} = {self.value}"
>>> str(Answer(42)), Answer(42)._repr_latex_()
('answer 42', '$\\\\text{answer} = 42$')
"""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["Displayed"]


class Displayed(ABC):
    """Mixin of result types: ``str()`` gives :meth:`text`, ``_repr_latex_`` gives :meth:`latex`."""

    __slots__ = ()

    @abstractmethod
    def text(self) -> str:
        """A plain-text summary a person reads."""

    @abstractmethod
    def latex(self) -> str:
        """The LaTeX of the result (math mode, without dollars)."""

    def __str__(self) -> str:
        return self.text()

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"
