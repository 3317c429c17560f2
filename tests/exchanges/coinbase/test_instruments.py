"""Coinbase products → instruments."""

from __future__ import annotations

from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry


def test_products_become_instruments(coinbase_instruments: InstrumentRegistry) -> None:
    assert len(coinbase_instruments) == 162
    assert coinbase_instruments["YFI-BTC"] == Instrument(
        exchange="coinbase",
        symbol="YFI/BTC",
        exchange_symbol="YFI-BTC",
        base="YFI",
        quote="BTC",
        price_scale=5,  # quote_increment 0.00001
        size_scale=6,  # base_increment 0.000001
        tick_size=1,
        lot_size=1,
        min_size=10,  # base_min_size 0.00001
        min_notional=1,  # min_market_funds 0.0001
        min_notional_scale=4,
    )
