"""The native OKX and Kraken checksums against the Python code they replaced, on random books (hypothesis).

The oracle below is the former ``OkxBookChecksum``/``KrakenBookChecksum`` and the
``shortest_text``/``digits_at_scale`` spellings of ``decimal_text``, ported as they were (less
their text caches), fed from a sorted dict rather than from the native book. The real recorded
books (``tests/normalisation/test_normaliser.py``, ``tests/exchanges/``) check both against the
exchanges themselves."""

from __future__ import annotations

import re
import zlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from platform_streams.books.order_book import LevelTextError, OrderBook
from platform_streams.exchanges.kraken.book_sync import kraken_checksum
from platform_streams.exchanges.okx.book_sync import OkxBookChecksum
from platform_streams.schemas.fixed_point import FixedPointError

# -- the oracle: the Python implementation, as it was -----------------------------------------------------


def shortest_text(mantissa: int, scale: int) -> str:
    digits = str(mantissa)
    if scale <= 0:
        return digits + "0" * -scale if mantissa else "0"
    if len(digits) <= scale:
        digits = "0" * (scale + 1 - len(digits)) + digits
    fraction = digits[-scale:].rstrip("0")
    return f"{digits[:-scale]}.{fraction}" if fraction else digits[:-scale]


def digits_at_scale(mantissa: int, scale: int, text_scale: int) -> str:
    if text_scale >= scale:
        return str(mantissa * 10 ** (text_scale - scale))
    value, remainder = divmod(mantissa, 10 ** (scale - text_scale))
    if remainder:
        raise FixedPointError(f"{mantissa}e-{scale} cannot be written with {text_scale} decimals")
    return str(value)


def okx_oracle(bids: list[tuple[int, int]], asks: list[tuple[int, int]], price_scale: int, size_scale: int) -> int:
    def spell(level: tuple[int, int]) -> str:
        return f"{shortest_text(level[0], price_scale)}:{shortest_text(level[1], size_scale)}"

    bid_texts, ask_texts = [spell(level) for level in bids[:25]], [spell(level) for level in asks[:25]]
    common = min(len(bid_texts), len(ask_texts))
    interleaved = [text for pair in zip(bid_texts, ask_texts, strict=False) for text in pair]
    interleaved += bid_texts[common:] or ask_texts[common:]
    checksum = zlib.crc32(":".join(interleaved).encode())
    return checksum - (1 << 32) if checksum >= 1 << 31 else checksum


def kraken_oracle(
    bids: list[tuple[int, int]], asks: list[tuple[int, int]], scales: tuple[int, int], text_scales: tuple[int, int]
) -> int:
    def spell(level: tuple[int, int]) -> str:
        return digits_at_scale(level[0], scales[0], text_scales[0]) + digits_at_scale(level[1], scales[1], text_scales[1])

    return zlib.crc32("".join(spell(level) for level in asks[:10] + bids[:10]).encode())


# -- random books ----------------------------------------------------------------------------------------

# mantissas with runs of trailing zeros (so values often can be written with fewer decimals), 0 prices,
# and ints past 64 bits
mantissas = st.builds(
    lambda digits, zeros: digits * 10**zeros, st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=8)
) | st.sampled_from([0, 1, 5, 2**63, 2**64 + 1, 2**127 - 1])
sides = st.dictionaries(mantissas, mantissas.filter(bool), max_size=40)
scales = st.integers(min_value=-3, max_value=20)
shifts = st.integers(min_value=-6, max_value=6)  # a text's decimals minus its value's scale


def book_of(bids: dict[int, int], asks: dict[int, int], price_scale: int, size_scale: int) -> OrderBook:
    book = OrderBook(price_scale, size_scale)
    book.load(list(bids.items()), list(asks.items()))
    return book


@settings(max_examples=400, deadline=None)
@given(bids=sides, asks=sides, price_scale=scales, size_scale=scales)
def test_okx_checksum_is_the_python_one(bids: dict[int, int], asks: dict[int, int], price_scale: int, size_scale: int) -> None:
    book = book_of(bids, asks, price_scale, size_scale)
    expected = okx_oracle(sorted(bids.items(), reverse=True), sorted(asks.items()), price_scale, size_scale)
    assert book.okx_checksum() == expected
    assert OkxBookChecksum()(book) == expected


@settings(max_examples=400, deadline=None)
@given(bids=sides, asks=sides, price_scale=scales, size_scale=scales, price_shift=shifts, size_shift=shifts)
def test_kraken_checksum_is_the_python_one(
    bids: dict[int, int], asks: dict[int, int], price_scale: int, size_scale: int, price_shift: int, size_shift: int
) -> None:
    book = book_of(bids, asks, price_scale, size_scale)
    text_scales = (price_scale + price_shift, size_scale + size_shift)
    try:
        expected = kraken_oracle(sorted(bids.items(), reverse=True), sorted(asks.items()), (price_scale, size_scale), text_scales)
    except FixedPointError as exc:
        with pytest.raises(LevelTextError, match="cannot be written with"):
            book.kraken_checksum(*text_scales)
        with pytest.raises(FixedPointError, match=re.escape(str(exc))):
            kraken_checksum(book, *text_scales)
        return
    assert book.kraken_checksum(*text_scales) == expected
    assert kraken_checksum(book, *text_scales) == expected


@given(st.integers(min_value=0, max_value=10**17), st.integers(min_value=0, max_value=12))
def test_the_oracle_spells_the_shortest_exact_text(mantissa: int, scale: int) -> None:
    text = shortest_text(mantissa, scale)
    assert Decimal(text) == Decimal(mantissa).scaleb(-scale)
    assert not (("." in text and text.endswith("0")) or text.endswith("."))
    assert text == "0" or not (text.startswith("0") and not text.startswith("0."))


def test_the_oracle_spells_kraken_digits() -> None:
    assert (shortest_text(3_026_100, 2), shortest_text(5, 3), shortest_text(0, 3), shortest_text(12, -2)) == (
        "30261",
        "0.005",
        "0",
        "1200",
    )
    assert digits_at_scale(35_415, 2, 8) == "35415000000"
    assert digits_at_scale(22_900, 9, 8) == "2290"
    with pytest.raises(FixedPointError):
        digits_at_scale(22_901, 9, 8)


def test_spelling_edges() -> None:
    book = book_of({0: 5, 10**20: 1}, {}, 3, -2)
    # bids only, best first: 10**20e-3 then the 0 price; a size at scale -2 gains two zeros
    assert book.okx_checksum() == okx_oracle([(10**20, 1), (0, 5)], [], 3, -2)
    assert book.kraken_checksum(3, -2) == zlib.crc32(b"".join([b"100000000000000000000", b"1", b"0", b"5"]))
    assert OrderBook(2, 8).okx_checksum() == 0 and OrderBook(2, 8).kraken_checksum(2, 8) == 0  # crc32 of ""


def test_scales_past_a_thousand_are_refused() -> None:
    book = book_of({1: 1}, {}, 2, 1001)
    with pytest.raises(LevelTextError, match="size scale 1001 is outside"):
        book.okx_checksum()
    with pytest.raises(FixedPointError, match="price text scale"):
        kraken_checksum(book_of({1: 1}, {}, 2, 8), 5000, 8)
