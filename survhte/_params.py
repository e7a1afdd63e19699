"""Declarative hyperparameter checks: one table per estimator, one validator for all.

Each estimator class states what its parameters may be in ``_parameter_constraints`` (a dict
from parameter name to a list of accepted forms, as scikit-learn's estimators do), and its
``fit`` calls :func:`validate_params` once. A value is accepted when it matches any form;
otherwise the error names the parameter, the estimator, what was expected and what came:

>>> from survhte._params import Interval, Options
>>> constraints = {"alpha": [Interval(float, 0, 0.25, closed="both")],
...                "target": [Options({"rmst", "survival"})]}

Forms
-----
- :class:`Interval` (integers or reals in a range; booleans are never numbers here);
- :class:`Options` (one of a set of values, e.g. strings);
- :class:`HasMethods` (an object, not a class, with the named methods: a scikit-learn model);
- :class:`InstanceOf` (an ``isinstance`` check);
- ``None`` (the value ``None``), ``"boolean"``, ``"random_state"`` (None, an int or a
  ``RandomState``/``Generator``), ``"array-like"`` (a list, tuple or array of numbers),
  ``"no_validation"`` (checked elsewhere, e.g. labels such as ``control``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

__all__ = ["HasMethods", "InstanceOf", "Interval", "InvalidParameterError", "Options",
           "validate_params"]


class InvalidParameterError(ValueError, TypeError):
    """A hyperparameter outside its constraints (both a ``ValueError`` and a ``TypeError``,
    as scikit-learn's is, so either ``except`` catches it)."""


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``int`` or ``float``; floats accept integers too) between ``low``
    and ``high`` (``None``: unbounded), ``closed`` on "both", "left", "right" or "neither"."""

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self.kind is int:
            if not isinstance(value, Integral):
                return False
        elif not isinstance(value, Real) or not math.isfinite(value):
            return False
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low)
        high_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high)
        return low_ok and high_ok

    def __str__(self) -> str:
        name = "an integer" if self.kind is int else "a number"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{name} in {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """One of ``values``."""

    values: frozenset

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", frozenset(values))

    def accepts(self, value: Any) -> bool:
        try:
            return value in self.values
        except TypeError:  # unhashable
            return False

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in sorted(self.values, key=str))


@dataclass(frozen=True)
class HasMethods:
    """An instance (not a class) with every method in ``methods``."""

    methods: tuple[str, ...]

    def accepts(self, value: Any) -> bool:
        return not isinstance(value, type) and all(
            callable(getattr(value, name, None)) for name in self.methods)

    def __str__(self) -> str:
        return "an object with " + " and ".join(f"{name}()" for name in self.methods)


@dataclass(frozen=True)
class InstanceOf:
    """An instance of ``kind``."""

    kind: type | tuple[type, ...]

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.kind)

    def __str__(self) -> str:
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        return "an instance of " + " or ".join(kind.__name__ for kind in kinds)


def _accepts(form: Any, value: Any) -> bool:
    if form is None:
        return value is None
    if form == "boolean":
        return isinstance(value, (bool, np.bool_))
    if form == "random_state":
        return value is None or isinstance(value, (np.random.RandomState, np.random.Generator)) \
            or (isinstance(value, Integral) and not isinstance(value, bool)
                and 0 <= value < 2**32)
    if form == "array-like":
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray)):
            return False
        try:
            return np.asarray(value, dtype=np.float64).ndim >= 1
        except (TypeError, ValueError):
            return False
    if form == "no_validation":
        return True
    return form.accepts(value)


def _describe(form: Any) -> str:
    if form is None:
        return "None"
    return {"boolean": "True or False",
            "random_state": "None, an integer in [0, 2**32) or a numpy RandomState/Generator",
            "array-like": "an array of numbers"}.get(form, str(form))


def validate_params(estimator: Any) -> None:
    """Check every parameter in ``type(estimator)._parameter_constraints``.

    Raises
    ------
    InvalidParameterError
        Naming the parameter, the estimator, the accepted forms and the value given.
    """
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    for name, forms in constraints.items():
        value = params[name]
        if any(_accepts(form, value) for form in forms):
            continue
        expected = " or ".join(_describe(form) for form in forms)
        raise InvalidParameterError(
            f"{name} of {type(estimator).__name__} must be {expected}; got {value!r}."
        )
