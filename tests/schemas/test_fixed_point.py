from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_streams.schemas.fixed_point import (
    FixedPointError,
    format_fixed,
    normalise,
    parse_at_scale,
    parse_decimal,
    rescale,
    to_decimal,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.01000000", (1_000_000, 8)),
        ("65123.45", (6_512_345, 2)),
        ("42", (42, 0)),
        ("-1.5", (-15, 1)),
        (".5", (5, 1)),
        ("1.", (1, 0)),
        ("1e-05", (1, 5)),
        ("2.5E+3", (2500, 0)),
        ("0.00000000", (0, 8)),
    ],
)
def test_parse_decimal(text: str, expected: tuple[int, int]) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["", "-", ".", "abc", "1_000", " 1", "1 ", "nan", "inf", "1.2.3", "0x10"])
def test_parse_decimal_rejects_non_numbers(text: str) -> None:
    with pytest.raises(FixedPointError):
        parse_decimal(text)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=8, min_value=-(10**10), max_value=10**10))
def test_parse_is_exact(value: Decimal) -> None:
    mantissa, scale = parse_decimal(str(value))
    assert to_decimal(mantissa, scale) == value


@given(st.integers(-(10**15), 10**15), st.integers(0, 12))
def test_format_then_parse_round_trips(mantissa: int, scale: int) -> None:
    assert parse_decimal(format_fixed(mantissa, scale)) == (mantissa, scale)


def test_rescale_refuses_to_round() -> None:
    assert rescale(12345, 2, 4) == 1_234_500
    assert rescale(1_234_500, 4, 2) == 12345
    with pytest.raises(FixedPointError, match="without rounding"):
        rescale(12345, 3, 2)


def test_parse_at_scale() -> None:
    assert parse_at_scale("0.0100", 2) == 1
    with pytest.raises(FixedPointError):
        parse_at_scale("0.015", 2)


def test_normalise_strips_trailing_zeros() -> None:
    assert normalise(1000, 5) == (1, 2)
    assert normalise(0, 3) == (0, 0)
    assert normalise(1200, 0) == (1200, 0)


def test_format_fixed() -> None:
    assert format_fixed(5, 3) == "0.005"
    assert format_fixed(-5, 3) == "-0.005"
    assert format_fixed(12, 0) == "12"
