"""Declared strategy parameters: each is typed, bounded and documented, and a deployment's values
are checked against the declaration before the strategy is built; a bad value is an error naming
the parameter, the value and the rule it breaks."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


class ParameterError(ValueError):
    """A deployment's parameter value is missing, unknown, of the wrong type or out of bounds."""

    def __init__(self, strategy: str, parameter: str, problem: str) -> None:
        super().__init__(f"{strategy}: parameter {parameter!r} {problem}")
        self.strategy = strategy
        self.parameter = parameter


class Parameter(abc.ABC):
    """Base of a declared parameter: a default (None: required) and a line of documentation."""

    kind = "value"

    def __init__(self, default: Any = None, doc: str = "") -> None:
        self.default = default
        self.doc = doc

    @abc.abstractmethod
    def convert(self, value: Any) -> Any:
        """The value as this parameter's type; raises ``ValueError`` saying what is wrong."""

    def describe(self) -> str:
        return self.kind


class IntParameter(Parameter):
    """A whole number within ``[minimum, maximum]`` (a period, a window length)."""

    kind = "int"

    def __init__(
        self, default: int | None = None, *, minimum: int | None = None, maximum: int | None = None, doc: str = ""
    ) -> None:
        super().__init__(default, doc)
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer, got {value!r}")
        return _bounded(value, self.minimum, self.maximum)

    def describe(self) -> str:
        return _describe(self.kind, self.minimum, self.maximum)


class DecimalParameter(Parameter):
    """An exact decimal within ``[minimum, maximum]`` (a size in base units, a fee in basis points).

    Given as a string (``"0.01"``) or an integer; a float is refused, since it is not exact."""

    kind = "decimal"

    def __init__(
        self,
        default: str | int | None = None,
        *,
        minimum: str | int | None = None,
        maximum: str | int | None = None,
        exclusive_minimum: bool = False,
        doc: str = "",
    ) -> None:
        super().__init__(None if default is None else Decimal(default), doc)
        self.minimum = None if minimum is None else Decimal(minimum)
        self.maximum = None if maximum is None else Decimal(maximum)
        self.exclusive_minimum = exclusive_minimum

    def convert(self, value: Any) -> Decimal:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError(f"must be a decimal string or an integer (floats are not exact), got {value!r}")
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value)) if isinstance(value, (int, str)) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(f"must be a decimal number, got {value!r}")
        if self.exclusive_minimum and self.minimum is not None and number <= self.minimum:
            raise ValueError(f"= {number} must be above {self.minimum}")
        return _bounded(number, self.minimum, self.maximum)

    def describe(self) -> str:
        return _describe(self.kind, self.minimum, self.maximum, self.exclusive_minimum)


class BoolParameter(Parameter):
    """A switch (``allow_short``)."""

    kind = "bool"

    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, got {value!r}")
        return value


def _bounded(value: Any, minimum: Any, maximum: Any) -> Any:
    if minimum is not None and value < minimum:
        raise ValueError(f"= {value} is below its minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"= {value} is above its maximum {maximum}")
    return value


def _describe(kind: str, minimum: Any, maximum: Any, exclusive_minimum: bool = False) -> str:
    low = "" if minimum is None else f"{minimum} <{'' if exclusive_minimum else '='} "
    high = "" if maximum is None else f" <= {maximum}"
    return f"{low}{kind}{high}"


class ParameterValues(Mapping[str, Any]):
    """A strategy's validated parameter values, read-only, by attribute (``params.fast_period``) or key."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("parameter values are read-only")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ParameterValues({self._values!r})"


def validate_parameters(strategy: str, declared: Mapping[str, Parameter], given: Mapping[str, Any]) -> ParameterValues:
    """Check ``given`` against ``declared``: every value converted and in bounds, defaults filled
    in, nothing unknown and nothing required missing; raises :class:`ParameterError` on the first
    problem (parameters in declaration order, so the message is stable)."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(strategy, unknown[0], f"is not a parameter of this strategy (it has: {', '.join(declared)})")
    values: dict[str, Any] = {}
    for name, parameter in declared.items():
        if name not in given:
            if parameter.default is None:
                raise ParameterError(strategy, name, f"is required ({parameter.describe()})")
            values[name] = parameter.default
            continue
        try:
            values[name] = parameter.convert(given[name])
        except ValueError as error:
            raise ParameterError(strategy, name, str(error)) from None
    return ParameterValues(values)
