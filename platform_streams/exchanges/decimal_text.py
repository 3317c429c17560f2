"""Exchange decimal text to fixed-point mantissas and back, fast and exact.

Exchanges send prices and sizes as plain decimal text (``"61837.63000000"``). These
functions accept exactly that (ASCII digits with at most one dot; no sign, exponent,
spaces or underscores), never go through a float, and raise
:class:`~platform_streams.schemas.fixed_point.FixedPointError` rather than round. They
are the hot-path counterparts of :func:`~platform_streams.schemas.fixed_point.parse_at_scale`.
"""

from __future__ import annotations

from platform_streams.schemas.fixed_point import INT64_MAX, FixedPointError

_POWERS_OF_TEN = tuple(10**exponent for exponent in range(40))
_MAX_INT64_DIGITS = 18  # any 18-digit mantissa fits in a signed 64-bit integer


def _power_of_ten(exponent: int) -> int:
    return _POWERS_OF_TEN[exponent] if exponent < len(_POWERS_OF_TEN) else 10**exponent


def mantissa_at_scale(text: str, scale: int) -> int:
    """``("61837.63000000", 2)`` → ``6183763``; raises if a non-zero digit would be dropped."""
    head, _, tail = text.partition(".")
    digits = head + tail
    if not (digits.isascii() and digits.isdigit()):
        raise FixedPointError(f"not plain decimal text: {text!r}")
    decimals = len(tail)
    if decimals == scale:  # the usual case: text written at the instrument's scale
        mantissa = int(digits)
    elif decimals > scale:
        mantissa, remainder = divmod(int(digits), _power_of_ten(decimals - scale))
        if remainder:
            raise FixedPointError(f"{text} has more than {scale} decimals")
    else:
        mantissa = int(digits) * _power_of_ten(scale - decimals)
    if len(digits) + scale - decimals > _MAX_INT64_DIGITS and mantissa > INT64_MAX:
        raise FixedPointError(f"{text} at scale {scale} does not fit a signed 64-bit mantissa")
    return mantissa


def text_scale(text: str) -> int:
    """The number of decimals written in ``text`` (``"0.0100"`` → 4)."""
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


class DecimalTextCache:
    """Mantissas of recently parsed texts at one scale: prices and sizes repeat (about 80% of the
    2024 BTCUSDT trades repeat a price and a size seen before), so most lookups skip parsing.

    Hot paths read ``values`` directly and call :meth:`parse` on a miss; the cache is
    emptied when it reaches ``limit`` entries, which bounds its memory."""

    __slots__ = ("scale", "values", "limit")

    def __init__(self, scale: int, limit: int = 65_536) -> None:
        self.scale = scale
        self.values: dict[str, int] = {}
        self.limit = limit

    def parse(self, text: str) -> int:
        """Parse ``text`` at the cache's scale and remember it (raises like :func:`mantissa_at_scale`)."""
        value = mantissa_at_scale(text, self.scale)
        values = self.values
        if len(values) >= self.limit:
            values.clear()
        values[text] = value
        return value

    def __call__(self, text: str) -> int:
        value = self.values.get(text)
        return self.parse(text) if value is None else value
