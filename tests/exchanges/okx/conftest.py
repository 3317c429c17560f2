"""OKX fixtures: instrument registries from the captured instruments replies (one per capture day)."""

from __future__ import annotations

import pytest

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.okx.instruments import registry_from_instruments
from tests.exchanges.captures import rest_bodies

BOOKS = "okx/2022-05-13_cryptofeed_v5_books.ws.jsonl"
BOOKS_L2_TBT = "okx/2022-02-27_cryptofeed_v5_books-l2-tbt.ws.jsonl"
INSTRUMENTS_FOR = {
    BOOKS: "okx/2022-05-13_cryptofeed_instruments.rest.jsonl",
    BOOKS_L2_TBT: "okx/2022-02-27_cryptofeed_instruments.rest.jsonl",
}


@pytest.fixture(scope="session")
def okx_instruments() -> dict[str, InstrumentRegistry]:
    """Registry per WebSocket capture, from the instruments fetched the same day."""
    return {
        capture: registry_from_instruments([body.frame for body in rest_bodies(path)])
        for capture, path in INSTRUMENTS_FOR.items()
    }
