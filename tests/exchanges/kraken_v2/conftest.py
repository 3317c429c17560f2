"""Kraken v2 fixtures: the captures (crossbook, WebSocket v2 ``book``) and the instruments from AssetPairs."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.kraken_v2.instruments import registry_from_asset_pairs
from tests.exchanges.captures import rest_bodies

ASSET_PAIRS = "kraken/2021-04-17_cryptofeed_AssetPairs.rest.jsonl"
BTC_25 = "kraken/2026-08-02_crossbook_v2_book25_BTC-USD.jsonl"
ETH_25 = "kraken/2026-08-02_crossbook_v2_book25_ETH-USD.jsonl"
BTC_10_RESUBSCRIBED = "kraken/2026-08-01_crossbook_v2_book10_BTC-USD_resubscribe.jsonl"


@pytest.fixture(scope="session")
def krakenv2_instruments() -> InstrumentRegistry:
    return registry_from_asset_pairs(rest_bodies(ASSET_PAIRS)[0].frame)
