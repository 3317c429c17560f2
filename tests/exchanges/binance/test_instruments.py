"""Binance exchangeInfo → instruments, on the captured 2021-10-12 body."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.binance.instruments import symbol_without_metadata
from platform_streams.exchanges.instruments import Instrument, InstrumentKind, InstrumentRegistry


def test_every_symbol_becomes_an_instrument(binance_instruments: InstrumentRegistry) -> None:
    assert len(binance_instruments) == 1695
    assert sum(instrument.active for instrument in binance_instruments) == 1262  # status TRADING; the rest are BREAK


def test_btcusdt_fields_at_the_asset_precision(binance_instruments: InstrumentRegistry) -> None:
    assert binance_instruments["BTCUSDT"] == Instrument(
        exchange="binance",
        symbol="BTC/USDT",
        exchange_symbol="BTCUSDT",
        base="BTC",
        quote="USDT",
        price_scale=8,
        size_scale=8,
        tick_size=1_000_000,  # 0.01
        lot_size=1_000,  # 0.00001
        min_size=1_000,
        min_notional=10,
        min_notional_scale=0,
        kind=InstrumentKind.SPOT,
        active=True,
    )
    assert binance_instruments.by_symbol("BTC/USDT").exchange_symbol == "BTCUSDT"


def test_symbols_without_metadata_split_on_known_quote_assets() -> None:
    assert symbol_without_metadata("BTCUSDT") == "BTC/USDT"
    assert symbol_without_metadata("RENBTCETH") == "RENBTC/ETH"
    assert symbol_without_metadata("ETHBRL") == "ETH/BRL"
    with pytest.raises(ValueError, match="cannot split"):
        symbol_without_metadata("USDT")
    with pytest.raises(ValueError, match="cannot split"):
        symbol_without_metadata("FOOBAZ")
