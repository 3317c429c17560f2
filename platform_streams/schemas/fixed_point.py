"""Exact fixed-point money: a price or size is an integer mantissa and a decimal scale.

``(12345, 2)`` means 123.45. Nothing here goes through a float: exchange decimal
strings are parsed digit by digit, and rescaling refuses to drop non-zero digits.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_STRICT_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


class FixedPointError(ValueError):
    """A decimal text or a rescale that cannot be represented exactly."""


def parse_decimal(text: str) -> tuple[int, int]:
    """Parse ``"0.01000"`` into ``(1000, 5)``; the scale is the number of digits after the dot.

    Accepts plain decimal notation and exponent notation (``"1e-05"``); rejects
    anything else (whitespace, underscores, ``nan``) with :class:`FixedPointError`.
    """
    if _STRICT_DECIMAL.fullmatch(text) is None:
        return _parse_exponent(text)
    dot = text.find(".")
    if dot < 0:
        return int(text), 0
    digits = text[:dot] + text[dot + 1 :]
    if digits in ("", "-"):
        raise FixedPointError(f"not a decimal number: {text!r}")
    return int(digits), len(text) - dot - 1


def _parse_exponent(text: str) -> tuple[int, int]:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FixedPointError(f"not a decimal number: {text!r}") from None
    if not value.is_finite() or text.strip() != text or "_" in text:
        raise FixedPointError(f"not a decimal number: {text!r}")
    sign, digits, exponent = value.as_tuple()
    mantissa = int("".join(map(str, digits)) or "0")
    if exponent >= 0:
        return (-1 if sign else 1) * mantissa * 10**exponent, 0
    return (-1 if sign else 1) * mantissa, -exponent


def parse_at_scale(text: str, scale: int) -> int:
    """Parse a decimal text straight to a mantissa at ``scale``; raises if digits would be lost."""
    mantissa, text_scale = parse_decimal(text)
    return rescale(mantissa, text_scale, scale)


def rescale(mantissa: int, scale: int, new_scale: int) -> int:
    """Express ``mantissa × 10^-scale`` at ``new_scale``; raises rather than round."""
    if new_scale >= scale:
        return mantissa * 10 ** (new_scale - scale)
    factor = 10 ** (scale - new_scale)
    quotient, remainder = divmod(mantissa, factor)
    if remainder:
        raise FixedPointError(f"{to_decimal(mantissa, scale)} cannot be expressed with {new_scale} decimals without rounding")
    return quotient


def normalise(mantissa: int, scale: int) -> tuple[int, int]:
    """Strip trailing zeros: ``(1000, 5)`` becomes ``(1, 2)``."""
    while scale > 0 and mantissa % 10 == 0:
        mantissa //= 10
        scale -= 1
    return mantissa, scale


def to_decimal(mantissa: int, scale: int) -> Decimal:
    """The exact :class:`~decimal.Decimal` value of a fixed-point pair."""
    return Decimal(mantissa).scaleb(-scale)


def format_fixed(mantissa: int, scale: int) -> str:
    """Decimal text with exactly ``scale`` digits after the dot (``(5, 3)`` → ``"0.005"``)."""
    if scale <= 0:
        return str(mantissa * 10 ** (-scale))
    sign = "-" if mantissa < 0 else ""
    digits = str(abs(mantissa)).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def check_int64(value: int, what: str) -> int:
    """Guard the wire format: mantissas travel as signed 64-bit integers."""
    if not INT64_MIN <= value <= INT64_MAX:
        raise FixedPointError(f"{what}={value} does not fit in a signed 64-bit mantissa")
    return value
