from datetime import UTC, datetime
from decimal import Decimal

import pytest

from platform_streams.schemas import BestBidOffer, Side, Trade
from platform_streams.sinks.tables import TABLES, InvalidRow, bbo_row, timestamp, trade_row


def test_trade_row_is_exact() -> None:
    trade = Trade("binance", "BTC/USDT", 1_764_000_000_123_456_789, 5, 7, "7", Side.SELL, 6_512_345, 1, 2, 8)
    row = trade_row(trade)
    assert row.table == "trades"
    assert len(row.values) == len(TABLES["trades"].columns)
    assert row.values[7] == Decimal("65123.45") and row.values[8] == Decimal("0.00000001")
    assert row.values[3] == datetime(2025, 11, 24, 16, 0, 0, 123456, tzinfo=UTC)
    assert row.values[6] == "sell"


def test_non_positive_prices_are_invalid_rows() -> None:
    with pytest.raises(InvalidRow, match="price must be positive"):
        trade_row(Trade("x", "A/B", 0, 0, 0, "1", Side.BUY, 0, 1, 0, 0))


def test_bbo_row() -> None:
    row = bbo_row(BestBidOffer("okx", "ETH/USDT", 2_000_000_000, 3, 9, 100, 5, 101, 6, 0, 1))
    assert row.values[6:] == (Decimal(100), Decimal("0.5"), Decimal(101), Decimal("0.6"))


def test_timestamp_keeps_microseconds_without_floats() -> None:
    assert timestamp(1_999_999_999_999_999_999).microsecond == 999_999
