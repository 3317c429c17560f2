"""Binance fixtures: the instrument registry from the captured exchangeInfo body."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.binance.instruments import registry_from_exchange_info
from platform_streams.exchanges.instruments import InstrumentRegistry
from tests.exchanges.captures import rest_bodies

EXCHANGE_INFO = "binance/2021-10-12_cryptofeed_exchangeInfo.rest.jsonl"


@pytest.fixture(scope="session")
def binance_instruments() -> InstrumentRegistry:
    return registry_from_exchange_info(rest_bodies(EXCHANGE_INFO)[0].frame)
