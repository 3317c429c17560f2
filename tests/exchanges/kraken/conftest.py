"""Kraken fixtures: the instrument registry from the captured AssetPairs body."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken.instruments import registry_from_asset_pairs
from tests.exchanges.captures import rest_bodies

ASSET_PAIRS = "kraken/2021-04-17_cryptofeed_AssetPairs.rest.jsonl"
BOOK = "kraken/2021-04-17_cryptofeed_v1_book.ws.jsonl"
TRADE = "kraken/2021-04-17_cryptofeed_v1_trade.ws.jsonl"
TICKER = "kraken/2021-04-17_cryptofeed_v1_ticker.ws.jsonl"


@pytest.fixture(scope="session")
def kraken_instruments() -> InstrumentRegistry:
    return registry_from_asset_pairs(rest_bodies(ASSET_PAIRS)[0].frame)
