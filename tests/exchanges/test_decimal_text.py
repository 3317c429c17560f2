"""Exchange decimal text ↔ mantissas: exact, strict, and in agreement with the schema's fixed point."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_streams.exchanges.decimal_text import mantissa_at_scale, text_scale
from platform_streams.schemas.fixed_point import FixedPointError, format_fixed, parse_at_scale


@pytest.mark.parametrize(
    ("text", "scale", "mantissa"),
    [
        ("61837.63000000", 2, 6_183_763),
        ("0.02000000", 8, 2_000_000),
        ("5", 3, 5_000),
        ("0.5", 1, 5),
        (".5", 2, 50),
        ("30261", 0, 30_261),
        ("0", 4, 0),
    ],
)
def test_mantissa_at_scale(text: str, scale: int, mantissa: int) -> None:
    assert mantissa_at_scale(text, scale) == mantissa


@pytest.mark.parametrize("text", ["", ".", "-1", "+1", " 1", "1 ", "1_000", "1e5", "1.2.3", "nan", "１２", "²"])
def test_anything_but_plain_decimal_text_is_refused(text: str) -> None:
    with pytest.raises(FixedPointError, match="not plain decimal"):
        mantissa_at_scale(text, 8)


def test_refuses_to_round_and_to_overflow() -> None:
    with pytest.raises(FixedPointError, match="more than 2 decimals"):
        mantissa_at_scale("1.005", 2)
    with pytest.raises(FixedPointError, match="64-bit"):
        mantissa_at_scale("92233720368.54775808", 8)
    assert mantissa_at_scale("92233720368.54775807", 8) == 2**63 - 1


@given(st.integers(min_value=0, max_value=10**14), st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=4))
def test_agrees_with_fixed_point_parse_at_scale(mantissa: int, scale: int, extra: int) -> None:
    text = format_fixed(mantissa, scale)
    assert mantissa_at_scale(text, scale + extra) == parse_at_scale(text, scale + extra)
    assert (mantissa_at_scale(text, text_scale(text)), text_scale(text)) == (mantissa, scale)


def test_text_scale() -> None:
    assert (text_scale("0.0100"), text_scale("30261"), text_scale("1.")) == (4, 0, 0)
