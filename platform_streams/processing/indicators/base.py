"""What every indicator is: declared, validated parameters, named outputs with their fixed-point
unit, and an O(1) ``update`` kernel that both the stream and the batch form run.

An indicator computes in float (an EMA is not money) and publishes each output as an integer
mantissa: a ``price`` output is in the instrument's price mantissa units and is published at
``price_scale + PRICE_EXTRA_DIGITS``; a ``ratio`` output is a plain number published at its own
fixed scale.
"""

from __future__ import annotations

import abc
import enum
from typing import Any, ClassVar

import msgspec

PRICE_EXTRA_DIGITS = 4
"""Digits a price-like indicator keeps beyond the instrument's tick scale (an average of prices
has more digits than any one price)."""


class IndicatorParameterError(ValueError):
    """An indicator was configured with a parameter it cannot take; the message names both."""


class OutputUnit(enum.Enum):
    PRICE = "price"
    RATIO = "ratio"


class IndicatorOutput(msgspec.Struct, frozen=True):
    """One published value of an indicator: its name suffix, unit and (for ratios) scale."""

    name: str
    unit: OutputUnit
    scale: int = 0

    def value_scale(self, price_scale: int) -> int:
        return price_scale + PRICE_EXTRA_DIGITS if self.unit is OutputUnit.PRICE else self.scale

    def multiplier(self) -> int:
        return 10**PRICE_EXTRA_DIGITS if self.unit is OutputUnit.PRICE else 10**self.scale


class Parameters(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of an indicator's parameters; subclasses declare fields and check ranges in ``validate``."""

    def validate(self) -> None:
        """Raise ValueError with a message naming the parameter when a value is out of range."""

    def text(self) -> str:
        """The stable ``name=value,...`` form, in declaration order (``IndicatorValue.parameters``)."""
        return ",".join(f"{field}={_text(getattr(self, field))}" for field in self.__struct_fields__)


def _text(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def at_least(name: str, value: float, minimum: float) -> None:
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum:g}, got {value!r}")


class Indicator(abc.ABC):
    """An indicator instance: its state for one instrument (or one pair), updated in O(1)."""

    name: ClassVar[str]
    parameters_type: ClassVar[type[Parameters]]
    outputs: ClassVar[tuple[IndicatorOutput, ...]]

    def __init__(self, parameters: Parameters) -> None:
        self.parameters = parameters

    @classmethod
    def parse_parameters(cls, raw: dict[str, Any]) -> Parameters:
        """Typed, range-checked parameters from configuration; a clear error naming the indicator."""
        try:
            parameters = msgspec.convert(raw, cls.parameters_type)
            parameters.validate()
        except (msgspec.ValidationError, ValueError) as error:
            raise IndicatorParameterError(f"indicator {cls.name!r}: {error}") from None
        return parameters

    @classmethod
    def output_names(cls) -> tuple[str, ...]:
        """Published names: the indicator's own when it has one output, ``name.output`` otherwise."""
        if len(cls.outputs) == 1:
            return (cls.name,)
        return tuple(f"{cls.name}.{output.name}" for output in cls.outputs)


class CandleIndicator(Indicator):
    """An indicator over closed candles of one instrument at one interval (mantissa inputs)."""

    @abc.abstractmethod
    def update(self, high: int, low: int, close: int, volume: int) -> tuple[float, ...] | None:
        """Take the next closed candle; the outputs' values, or None while warming up."""


class BookIndicator(Indicator):
    """An indicator over one instrument's top of book."""

    @abc.abstractmethod
    def update(self, bid_price: int, bid_size: int, ask_price: int, ask_size: int) -> tuple[float, ...] | None:
        """Take the next top of book; the outputs' values, or None when undefined."""


def to_mantissa(value: float, multiplier: int) -> int:
    """A float indicator value as an integer mantissa (round half to even)."""
    return round(value * multiplier)
