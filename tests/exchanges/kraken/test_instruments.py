"""Kraken AssetPairs → instruments: wsname, REST names and XBT normalisation."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry
from platform_streams.exchanges.kraken.instruments import AssetPairsError, parse_asset_pairs, symbol_from_wsname


def test_pairs_with_a_websocket_name_become_instruments(kraken_instruments: InstrumentRegistry) -> None:
    assert len(kraken_instruments) == 293  # 304 pairs less 11 dark-pool ".d" pairs
    assert kraken_instruments["XMR/USD"] == Instrument(
        exchange="kraken",
        symbol="XMR/USD",
        exchange_symbol="XMR/USD",
        base="XMR",
        quote="USD",
        price_scale=2,
        size_scale=8,
        tick_size=1,
        lot_size=1,
        min_size=5_000_000,  # ordermin 0.05
        aliases=("XXMRZUSD", "XMRUSD"),
    )


def test_xbt_is_btc_under_every_name(kraken_instruments: InstrumentRegistry) -> None:
    by_ws_name = kraken_instruments["XBT/USD"]
    assert by_ws_name.symbol == "BTC/USD" and (by_ws_name.base, by_ws_name.quote) == ("BTC", "USD")
    assert kraken_instruments["XXBTZUSD"] is by_ws_name
    assert kraken_instruments["XBTUSD"] is by_ws_name
    assert kraken_instruments.by_symbol("BTC/USD") is by_ws_name
    assert kraken_instruments["XDG/USD"].symbol == "DOGE/USD"


def test_symbol_from_wsname() -> None:
    assert symbol_from_wsname("XBT/CHF") == "BTC/CHF"
    with pytest.raises(ValueError, match="not a Kraken"):
        symbol_from_wsname("XBTCHF")


def test_error_reply_raises() -> None:
    with pytest.raises(AssetPairsError, match="EGeneral"):
        parse_asset_pairs(b'{"error":["EGeneral:Invalid arguments"]}')
