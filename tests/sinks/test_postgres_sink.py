"""The PostgreSQL sink against the real broker and a real PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from platform_streams.database.migrate import migrate
from platform_streams.embedded.postgres import EmbeddedPostgres
from platform_streams.schemas import BestBidOffer, DeadLetter, Heartbeat, TypedDecoder
from platform_streams.schemas.fixed_point import to_decimal
from platform_streams.sinks.daemon import PostgresSinkDaemon
from tests.kafka_helpers import DaemonThread, make_trades, produce_events, produce_raw, read_until
from tests.sinks.sink_harness import count, fetch, sink_sample, sink_settings
from tests.waiting import wait_until


def store_retries(daemon: PostgresSinkDaemon) -> float | None:
    return sink_sample(daemon, "platform_runtime_errors_total", kind="store_retry")


def test_trades_and_top_of_book_land_exactly_once_with_candles(kafka_bootstrap, topic_factory, database_url) -> None:
    migrate(database_url)
    trades_topic, bbo_topic, dead = topic_factory("trades"), topic_factory("bbo"), topic_factory("dead")
    trades = make_trades(2_000, instruments=8, now_ns=1_764_000_000_000_000_000)  # a closed minute in the past
    bbos = [
        BestBidOffer("test", t.symbol, t.exchange_ts_ns, t.receive_ts_ns, i, t.price - 1, 10, t.price + 1, 20, 2, 6)
        for i, t in enumerate(trades[:300])
    ]
    produce_events(kafka_bootstrap, trades_topic, trades)
    produce_events(kafka_bootstrap, trades_topic, trades[:500])  # a replay: duplicates
    produce_events(kafka_bootstrap, bbo_topic, bbos)
    produce_raw(kafka_bootstrap, trades_topic, [(b"junk", b"\x00garbage")])
    daemon = PostgresSinkDaemon(sink_settings(kafka_bootstrap, database_url, [trades_topic, bbo_topic], deadletter_topic=dead))
    with DaemonThread(daemon):
        wait_until(lambda: count(database_url, "trades") == 2_000 and count(database_url, "book_top") == 300, 60, "rows")
        letters = read_until(kafka_bootstrap, dead, lambda got: len(got) >= 1)
        minutes = {(t.symbol, t.exchange_ts_ns // 60_000_000_000) for t in trades}
        wait_until(lambda: count(database_url, "candles WHERE closed") == len(minutes), 30, "closed candles")
    assert count(database_url, "trades") == 2_000  # duplicates ignored
    letter = TypedDecoder(DeadLetter).decode(letters[0].value())
    assert letter.payload == b"\x00garbage" and "EventDecodeError" in letter.reason
    stored = fetch(database_url, "SELECT trade_id, symbol, price, size, side FROM trades")
    by_id = {(r["symbol"], r["trade_id"]): r for r in stored}
    for trade in trades:
        row = by_id[(trade.symbol, trade.trade_id)]
        assert row["price"] == to_decimal(trade.price, trade.price_scale)
        assert row["size"] == to_decimal(trade.size, trade.size_scale)
        assert row["side"] == trade.side.value
    # candles equal an independent aggregation of the trades
    expected: dict[tuple, dict] = defaultdict(lambda: {"n": 0, "volume": Decimal(0)})
    for trade in sorted(trades, key=lambda t: (t.exchange_ts_ns, len(t.trade_id), t.trade_id)):
        minute = trade.exchange_ts_ns // 60_000_000_000
        candle = expected[(trade.symbol, minute)]
        price = to_decimal(trade.price, trade.price_scale)
        candle.setdefault("open", price)
        candle["close"] = price
        candle["high"] = max(candle.get("high", price), price)
        candle["low"] = min(candle.get("low", price), price)
        candle["n"] += 1
        candle["volume"] += to_decimal(trade.size, trade.size_scale)
    rows = fetch(database_url, "SELECT * FROM candles")
    assert len(rows) == len(expected)
    for row in rows:
        want = expected[(row["symbol"], int(row["open_time"].timestamp()) // 60)]
        assert (row["open"], row["high"], row["low"], row["close"]) == (want["open"], want["high"], want["low"], want["close"])
        assert (row["trade_count"], row["volume"], row["closed"]) == (want["n"], want["volume"], True)


def test_sink_rides_out_a_database_restart(kafka_bootstrap, topic_factory, tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    try:
        migrate(url)
        topic, beats = topic_factory("trades"), topic_factory("heartbeats", 1)
        trades = make_trades(3_000)
        settings = sink_settings(kafka_bootstrap, url, [topic], batch_max=200, heartbeat_topic=beats, heartbeat_interval_s=0.5)
        daemon = PostgresSinkDaemon(settings)
        with DaemonThread(daemon):
            produce_events(kafka_bootstrap, topic, trades[:1_000])
            wait_until(lambda: count(url, "trades") == 1_000, 60, "the first rows")
            server.stop()
            produce_events(kafka_bootstrap, topic, trades[1_000:])
            wait_until(lambda: (store_retries(daemon) or 0) >= 1, 60, "the sink to meet the outage")
            # while it waits for the database its heartbeats go on, saying it is blocked and why
            decoder = TypedDecoder(Heartbeat)
            blocked = read_until(
                kafka_bootstrap, beats, lambda got: any(decoder.decode(m.value()).state == "blocked" for m in got), 60
            )
            beat = next((b for b in map(decoder.decode, (m.value() for m in blocked)) if b.state == "blocked"), None)
            assert beat is not None, "no heartbeat said the sink was blocked"
            assert beat.last_error.startswith("store_retry: ") and beat.errors >= 1
            server.start()
            wait_until(lambda: count(url, "trades") == 3_000, 90, "every row after the restart")

            def running_again(got: list) -> bool:
                return any((b := decoder.decode(m.value())).state == "running" and b.ts_ns > beat.ts_ns for m in got)

            assert running_again(read_until(kafka_bootstrap, beats, running_again, 60))
        assert daemon.messages_in == 3_000
    finally:
        server.stop()
