"""Coinbase fixtures: the instrument registry from the captured products body."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.coinbase.instruments import registry_from_products
from platform_streams.exchanges.instruments import InstrumentRegistry
from tests.exchanges.captures import rest_bodies

PRODUCTS = "coinbase/2021-04-17_cryptofeed_products.rest.jsonl"
FEED = "coinbase/2021-04-17_cryptofeed_exchange-feed_10prod.ws.jsonl"


@pytest.fixture(scope="session")
def coinbase_instruments() -> InstrumentRegistry:
    return registry_from_products(rest_bodies(PRODUCTS)[0].frame)
