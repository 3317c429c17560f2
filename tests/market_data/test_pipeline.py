"""End to end: simulator (Binance, OKX, Kraken) → ingestion → md.raw → normalisation → sink → PostgreSQL,
and ingestion → ref.instrument → sink → the instruments table."""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_streams.normalisation.normaliser import TAKEOVER_REASON
from tests.market_data.pipeline_harness import MarketDataPipeline


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
