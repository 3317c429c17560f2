"""Per-symbol scales: from metadata, from the first text seen, or refused."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.base import UnknownInstrument
from platform_streams.exchanges.instruments import Instrument, InstrumentRegistry
from platform_streams.exchanges.symbol_scales import SymbolScalesCache


def test_metadata_wins_over_text() -> None:
    registry = InstrumentRegistry(
        "binance", [Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", 8, 8, 1_000_000, 1_000)]
    )
    cache = SymbolScalesCache("binance", registry, str.lower)
    scales = cache.resolve("BTCUSDT", "1.5", "2")
    assert (scales.symbol, scales.price_scale, scales.size_scale, scales.from_metadata) == ("BTC/USDT", 8, 8, True)
    assert cache.resolved["BTCUSDT"] is scales


def test_first_text_fixes_the_scales_when_there_is_no_metadata() -> None:
    cache = SymbolScalesCache("binance", None, lambda name: f"{name[:3]}/{name[3:]}")
    scales = cache.resolve("ETHBTC", "0.06500000", "1.20000000")
    assert (scales.symbol, scales.price_scale, scales.size_scale, scales.from_metadata) == ("ETH/BTC", 8, 8, False)
    assert cache.resolve("ETHBTC", "0.1", "1") is scales  # later text does not change them
    unfixed = cache.resolve("LTCBTC")  # no text: scales for this frame only
    assert (unfixed.price_scale, "LTCBTC" in cache.resolved) == (0, False)


def test_unknown_symbol_without_a_text_rule_is_refused() -> None:
    with pytest.raises(UnknownInstrument, match="no instrument metadata for 'BTC-USDT'") as raised:
        SymbolScalesCache("okx", InstrumentRegistry("okx"), None).resolve("BTC-USDT", "1", "1")
    assert raised.value.exchange == "okx"
