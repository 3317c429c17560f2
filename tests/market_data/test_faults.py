"""The market-data path under faults, each test ending with the same checks as the clean run:
every trade the simulator sent stored exactly once, and the books equal the simulator's."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from platform_streams.normalisation.normaliser import TAKEOVER_REASON
from tests.market_data.pipeline_harness import MarketDataPipeline

pytestmark = pytest.mark.e2e  # whole deployments on the simulator: minutes, not seconds

INSTRUMENTS = 60
EXCHANGES = ("binance", "okx", "kraken")
BOOK_CHANNEL = {"binance": "depth@100ms", "okx": "books", "kraken": "book"}
TRADE_CHANNEL = {"binance": "trade", "okx": "trades", "kraken": "trade"}
GAP_REASONS = {  # Binance and OKX see the sequence break; Kraken (no sequence numbers) the checksum mismatch
    "binance": ("(U != u + 1)", "(U > lastUpdateId + 1)"),
    "okx": ("prevSeqId",),
    "kraken": ("checksum",),
}


def _reasons(pipeline: MarketDataPipeline, exchange: str, excluding: tuple[str, ...] = (TAKEOVER_REASON,)) -> list[str]:
    return [r for r in pipeline.resync_reasons().get(exchange, []) if not any(x in r for x in excluding)]


def _summary(pipeline: MarketDataPipeline) -> dict[str, Counter]:
    return {exchange: Counter(reasons) for exchange, reasons in pipeline.resync_reasons().items()}


@pytest.mark.timeout(900)
def test_forced_disconnects_mid_stream(kafka_bootstrap, topic_factory, database_url, tmp_path: Path) -> None:
    with MarketDataPipeline(kafka_bootstrap, database_url, tmp_path, topic_factory, instruments=INSTRUMENTS) as pipeline:
        pipeline.wait_books_live()
        pipeline.run_market(2)
        for exchange in EXCHANGES:
            pipeline.sim.inject_fault(kind="drop", exchange=exchange)  # the TCP connection aborted
        pipeline.run_market(2)
        pipeline.sim.inject_fault(kind="drop", exchange="okx", close_code=1001)  # and closed cleanly ("going away")
        pipeline.wait_until(
            lambda: all(any("disconnected" in r for r in _reasons(pipeline, e)) for e in EXCHANGES), 120, "every book marked"
        )
        pipeline.wait_books_live()
        pipeline.run_market(3)
        pipeline.assert_trades_exactly_once()
        pipeline.assert_books_match()
        assert pipeline.dead_letters() == []


@pytest.mark.timeout(900)
@pytest.mark.parametrize("normalisers", [2, 0], ids=["normaliser-daemons", "chained-into-ingestion"])
def test_sequence_gaps_resync_books(kafka_bootstrap, topic_factory, database_url, tmp_path: Path, normalisers: int) -> None:
    with MarketDataPipeline(
        kafka_bootstrap, database_url, tmp_path, topic_factory, instruments=INSTRUMENTS, normalisers=normalisers
    ) as pipeline:
        pipeline.wait_books_live()
        pipeline.run_market(1)
        for exchange in EXCHANGES:
            pipeline.sim.inject_fault(kind="gap", exchange=exchange, channel=BOOK_CHANNEL[exchange], count=3)
        pipeline.wait_until(lambda: all(_reasons(pipeline, e) for e in EXCHANGES), 120, "a resync on every exchange")
        gapped = {(f.exchange, f.symbol) for f in pipeline.sim.ground_truth.faults(kind="gap")}
        assert len(gapped) >= 3
        for exchange in EXCHANGES:
            reasons = _reasons(pipeline, exchange)
            assert reasons and all(any(e in r for e in GAP_REASONS[exchange]) for r in reasons), (exchange, reasons)
        pipeline.wait_books_live()
        pipeline.run_market(3)
        pipeline.assert_trades_exactly_once()
        pipeline.assert_books_match()


@pytest.mark.timeout(900)
def test_kill_9_of_a_normaliser_and_of_the_sink_under_load(kafka_bootstrap, topic_factory, database_url, tmp_path: Path) -> None:
    with MarketDataPipeline(kafka_bootstrap, database_url, tmp_path, topic_factory, instruments=INSTRUMENTS) as pipeline:
        pipeline.wait_books_live()
        pipeline.run_market(2)
        pipeline.kill("normaliser", 0)
        pipeline.run_market(2)
        pipeline.kill("sink")
        pipeline.run_market(2)
        pipeline.kill("normaliser", 1)
        pipeline.run_market(2)
        assert pipeline.restarts("normaliser") == 2 and pipeline.restarts("sink") == 1
        pipeline.wait_books_live()
        pipeline.assert_trades_exactly_once()
        pipeline.assert_books_match()
        assert pipeline.dead_letters() == []


@pytest.mark.timeout(900)
def test_malformed_payloads_are_dead_lettered_while_the_rest_flows(
    kafka_bootstrap, topic_factory, database_url, tmp_path: Path
) -> None:
    with MarketDataPipeline(kafka_bootstrap, database_url, tmp_path, topic_factory, instruments=INSTRUMENTS) as pipeline:
        pipeline.wait_books_live()
        # trades where they carry ids (so the corrupted ones are known); Kraken's book, whose checksum is its id
        for exchange in ("binance", "okx"):
            pipeline.sim.inject_fault(kind="malformed", exchange=exchange, channel=TRADE_CHANNEL[exchange], count=2)
        pipeline.sim.inject_fault(kind="malformed", exchange="okx", channel="books", count=1, malformed="truncated")
        pipeline.sim.inject_fault(kind="malformed", exchange="kraken", channel="book", count=2, malformed="wrong_types")
        pipeline.run_market(4)
        faults = pipeline.sim.ground_truth.faults(kind="malformed")
        assert len(faults) == 7
        corrupted_trades = {(f.exchange, f.symbol, f.event_id) for f in faults if not f.channel.startswith("book")}
        assert len(corrupted_trades) == 4
        pipeline.assert_trades_exactly_once(excluded=corrupted_trades)
        letters = pipeline.dead_letters()
        assert len(letters) == 7
        assert sorted(letter.exchange for letter in letters) == sorted(f.exchange for f in faults)
        assert all(letter.reason and letter.payload for letter in letters)
        # a corrupted book update never reached a book, so the next one broke the chain: those books were rebuilt
        # (a lost Kraken update, unnumbered, shows only if a later checksum differs; a later change of the
        # same levels heals the book, so only the final comparison can tell, and does)
        pipeline.wait_until(lambda: _reasons(pipeline, "okx"), 60, f"the OKX book resynced; {faults}; {_summary(pipeline)}")
        pipeline.wait_books_live()
        pipeline.assert_books_match()


@pytest.mark.timeout(900)
def test_a_429_during_snapshot_fetches_is_honoured_with_backoff(
    kafka_bootstrap, topic_factory, database_url, tmp_path: Path
) -> None:
    """The simulated Binance meters far less REST weight than the platform's budget assumes
    (someone else on the host spends the rest): snapshots are refused with 429 and Retry-After,
    ingestion backs off until then, is never banned (418), and every book still comes back."""
    tight = {"binance": {"rest": {"request_weight": 100, "request_weight_interval_s": 1}}}
    with MarketDataPipeline(
        kafka_bootstrap, database_url, tmp_path, topic_factory, exchanges=("binance",), instruments=INSTRUMENTS,
        simulator_settings=tight,
    ) as pipeline:  # fmt: skip
        pipeline.wait_books_live()
        limiter = pipeline.sim.simulator.venues["binance"].limiter
        assert limiter.refusals[429] >= 1 and limiter.refusals[418] == 0
        refused_at_start = limiter.refusals[429]
        pipeline.sim.inject_fault(kind="drop", exchange="binance")  # every book again: another round of snapshots
        pipeline.wait_until(lambda: any("disconnected" in r for r in _reasons(pipeline, "binance")), 60, "the drop seen")
        pipeline.wait_books_live()
        assert limiter.refusals[429] > refused_at_start and limiter.refusals[418] == 0
        pipeline.run_market(2)
        pipeline.assert_trades_exactly_once()
        pipeline.assert_books_match()
