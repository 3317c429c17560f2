"""Reading `instruments` back: a row that is not exact at its own scales is refused, never rounded."""

from __future__ import annotations

import pytest

from platform_streams.database.migrate import migrate
from platform_streams.reference import StoredInstrumentError, load_instruments
from tests.sinks.sink_harness import fetch


def test_a_row_finer_than_its_scale_is_refused(database_url: str) -> None:
    migrate(database_url)
    fetch(
        database_url,
        "INSERT INTO instruments (exchange, symbol, exchange_symbol, base, quote, kind, price_scale, size_scale,"
        " tick_size, lot_size, first_seen, last_seen)"
        " VALUES ('binance', 'BTC/USDT', 'BTCUSDT', 'BTC', 'USDT', 'spot', 2, 5, 0.001, 0.00001, now(), now())",
    )
    with pytest.raises(StoredInstrumentError, match="binance:BTC/USDT: tick_size 0.001 is not exact at scale 2"):
        load_instruments(database_url)
    assert load_instruments(database_url, exchange="okx") == []
