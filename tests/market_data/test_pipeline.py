"""End to end: simulator (Binance, OKX, Kraken v1 or v2) → ingestion → md.raw → normalisation → sink → PostgreSQL,
and ingestion → ref.instrument → sink → the instruments table."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from platform_streams.exchanges.kraken.book_sync import UNKNOWN_DEPTH_REASON
from platform_streams.normalisation.normaliser import TAKEOVER_REASON
from tests.market_data.pipeline_harness import MarketDataPipeline

pytestmark = pytest.mark.e2e  # whole deployments on the simulator: minutes, not seconds


@pytest.mark.timeout(900)
def test_every_simulated_trade_lands_once_and_books_match(kafka_bootstrap, topic_factory, database_url, tmp_path: Path) -> None:
    with MarketDataPipeline(kafka_bootstrap, database_url, tmp_path, topic_factory, instruments=200) as pipeline:
        pipeline.wait_books_live()
        pipeline.assert_instruments_stored()
        pipeline.run_market(10)
        stored = pipeline.assert_trades_exactly_once()
        pipeline.assert_books_match()
        assert stored > 1_000
        # nothing went wrong, so a book was rebuilt only where a normaliser took a partition over from another
        reasons = [reason for reasons in pipeline.resync_reasons().values() for reason in reasons]
        assert all(TAKEOVER_REASON in reason for reason in reasons), set(reasons)
        assert pipeline.dead_letters() == []


@pytest.mark.timeout(900)
def test_kraken_v2_in_place_of_v1_every_trade_once_and_books_match(
    kafka_bootstrap, topic_factory, database_url, tmp_path: Path
) -> None:
    """The same deployment with Kraken's WebSocket v2 adapter (``krakenv2``) selected instead of v1: ingestion
    and the normalisers are unchanged, the trades (with v2's trade ids) land exactly once and the books, kept
    at the depth each subscription was acknowledged with and checked on every message, equal the simulator's."""
    exchanges = ("binance", "okx", "krakenv2")
    with MarketDataPipeline(kafka_bootstrap, database_url, tmp_path, topic_factory, exchanges, instruments=200) as pipeline:
        pipeline.wait_books_live()
        pipeline.run_market(10)
        pipeline.assert_trades_exactly_once()
        pipeline.assert_books_match()
        stored = Counter(exchange for exchange, _, _ in pipeline.stored_trades())
        assert stored["krakenv2"] > 100 and "kraken" not in stored
        # a book was rebuilt only where a normaliser took a partition over: after a delta, or (Kraken v2) after
        # a snapshot whose subscribe acknowledgement the previous owner had read, so its depth is not known
        reasons = [reason for reasons in pipeline.resync_reasons().values() for reason in reasons]
        assert all(TAKEOVER_REASON in reason or reason == UNKNOWN_DEPTH_REASON for reason in reasons), set(reasons)
        assert pipeline.dead_letters() == []
