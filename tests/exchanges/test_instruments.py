"""The shared instrument struct, symbol normalisation and the registry."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.instruments import (
    Instrument,
    InstrumentLookupError,
    InstrumentRegistry,
    derivative_symbol,
    normalise_asset,
    split_symbol,
    spot_symbol,
    step_from_text,
    text_scale_of,
    value_and_scale,
)


def _instrument(exchange: str = "kraken", tick: int = 1) -> Instrument:
    return Instrument(exchange, "BTC/USD", "XBT/USD", "BTC", "USD", 1, 8, tick, 1, aliases=("XXBTZUSD", "XBTUSD"))


def test_symbol_normalisation() -> None:
    assert normalise_asset("xbt") == "BTC" and normalise_asset("XDG") == "DOGE" and normalise_asset("usdt") == "USDT"
    assert spot_symbol("XBT", "usd") == "BTC/USD"
    assert derivative_symbol("BTC", "USD", "BTC", "220527") == "BTC/USD:BTC-220527"
    assert derivative_symbol("UNI", "USD", "UNI") == "UNI/USD:UNI"
    assert split_symbol("BTC/USD:BTC-220527") == ("BTC", "USD")
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        split_symbol("BTCUSD")


def test_registry_finds_by_every_name_and_replaces_on_reload() -> None:
    registry = InstrumentRegistry("kraken", [_instrument()])
    assert registry["XBT/USD"] is registry["XXBTZUSD"] is registry["XBTUSD"] is registry.by_symbol("BTC/USD")
    assert "XBTUSD" in registry and registry.get("ETHUSD") is None and len(registry) == 1
    registry.add(_instrument(tick=5))
    assert registry["XBTUSD"].tick_size == 5 and len(list(registry)) == 1
    with pytest.raises(InstrumentLookupError, match="ETHUSD"):
        registry["ETHUSD"]
    with pytest.raises(InstrumentLookupError, match="ETH/USD"):
        registry.by_symbol("ETH/USD")
    with pytest.raises(ValueError, match="binance instrument"):
        registry.add(_instrument("binance"))


def test_metadata_number_helpers() -> None:
    assert step_from_text("0.01000000") == (1, 2)
    assert step_from_text("0.0005") == (5, 4)
    assert step_from_text("0.00000000") == (0, 0)
    assert value_and_scale("10.00000000") == (10, 0) and value_and_scale("") == (0, 0)
    assert text_scale_of("0.00100") == 3 and text_scale_of("") == 0
