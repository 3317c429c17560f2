from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from platform_streams.schemas import BestBidOffer, Instrument, InstrumentKind, Side, Trade
from platform_streams.sinks.tables import TABLES, InvalidRow, bbo_row, instrument_row, timestamp, trade_row


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


def test_instrument_row_is_exact_and_timed_by_its_record() -> None:
    instrument = Instrument(
        "okx", "BTC/USDT:USDT", "BTC-USDT-SWAP", "BTC", "USDT", 1, 0, 1, 1, min_size=1, min_notional=5,
        min_notional_scale=0, kind=InstrumentKind.SWAP, settle="USDT", contract_value=1, contract_value_scale=2,
        aliases=("BTC-USDT-SWAP-REST",),
    )  # fmt: skip
    published = datetime(2026, 11, 25, 9, 30, 0, 123000, tzinfo=UTC)
    row = dict(zip(TABLES["instruments"].columns, instrument_row(instrument, published).values, strict=True))
    assert row == {
        "exchange": "okx", "symbol": "BTC/USDT:USDT", "exchange_symbol": "BTC-USDT-SWAP", "aliases": ["BTC-USDT-SWAP-REST"],
        "base": "BTC", "quote": "USDT", "kind": "swap", "settle": "USDT", "price_scale": 1, "size_scale": 0,
        "tick_size": Decimal("0.1"), "lot_size": Decimal(1), "min_size": Decimal(1), "min_notional": Decimal(5),
        "min_notional_scale": 0, "contract_value": Decimal("0.01"), "contract_value_scale": 2, "status": "active",
        "first_seen": published, "last_seen": published,
    }  # fmt: skip
    inactive = instrument_row(msgspec.structs.replace(instrument, active=False), published)
    assert inactive.values[TABLES["instruments"].columns.index("status")] == "inactive"


def test_instrument_row_refuses_what_the_table_would() -> None:
    instrument = Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", 2, 5, 1, 1)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidRow, match="tick_size must not be negative"):
        instrument_row(msgspec.structs.replace(instrument, tick_size=-1), now)
    with pytest.raises(InvalidRow, match="price_scale 40000 is out of range"):
        instrument_row(msgspec.structs.replace(instrument, price_scale=40_000), now)
