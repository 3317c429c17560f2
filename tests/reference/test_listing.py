"""The listing rule: what ingestion publishes again, inactive, when the venue no longer lists it."""

from __future__ import annotations

import msgspec

from platform_streams.reference.listing import withdrawn_instruments
from platform_streams.schemas import Instrument


def instrument(symbol: str, active: bool = True) -> Instrument:
    base, quote = symbol.split("/")
    return Instrument("binance", symbol, base + quote, base, quote, 2, 5, 1, 1, min_notional=5, active=active)


def test_an_active_instrument_the_listing_dropped_is_withdrawn_as_it_was() -> None:
    published = [instrument("BTC/USDT"), instrument("LUNA/USDT"), instrument("ETH/USDT")]
    withdrawn = withdrawn_instruments(published, {"BTC/USDT", "ETH/USDT", "SOL/USDT"})
    assert withdrawn == [msgspec.structs.replace(published[1], active=False)]


def test_a_withdrawal_is_published_once() -> None:
    assert withdrawn_instruments([instrument("LUNA/USDT", active=False)], {"BTC/USDT"}) == []


def test_an_empty_listing_withdraws_nothing() -> None:
    assert withdrawn_instruments([instrument("BTC/USDT")], set()) == []
