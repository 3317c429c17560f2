"""The stream_gap_repair sensor against the real broker and PostgreSQL: book resyncs on ctl.resync
and dead letters become one run per day × exchange partition (and cause) of exchange_candles,
naming exactly the instruments with gaps; a record already read is not repaired twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import dagster as dg
from confluent_kafka import Producer

from platform_assets.market_data.gap_repair import stream_gap_repair
from platform_assets.resources.platform_servers import KafkaResource, PostgresResource
from platform_assets.resources.stream_control import PlatformStatusResource
from platform_streams.database.migrate import migrate
from platform_streams.kafka_clients import ProducerProfile, producer_settings
from platform_streams.runtime.output import Output
from platform_streams.schemas import SnapshotRequest
from platform_streams.topics import RESYNC_TOPIC


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1e9)


def resync(exchange: str, symbol: str, at: str) -> SnapshotRequest:
    return SnapshotRequest(exchange, symbol, f"{exchange}-conn-0", "sequence gap", ns(at))


def dead_letter(database_url: str, exchange: str, key: bytes, ts: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(database_url)
        try:
            await connection.execute(
                "INSERT INTO dead_letters (source_topic, source_partition, source_offset, daemon, exchange, error_type,"
                " reason, record_key, payload, ts) VALUES ('md.trade', 0, $1, 'postgres-sink', $2, 'InvalidRow',"
                " 'size must be positive', $3, '', $4)",
                ns(ts), exchange, key, datetime.fromisoformat(ts).replace(tzinfo=UTC),
            )  # fmt: skip
        finally:
            await connection.close()

    asyncio.run(run())


def test_book_resyncs_and_dead_letters_become_runs_of_exactly_the_affected_partitions_and_instruments(
    kafka_bootstrap: str, database_url: str, tmp_path: Path
) -> None:
    migrate(database_url)
    resources = {
        "kafka": KafkaResource(bootstrap_servers=kafka_bootstrap),
        "postgres": PostgresResource(url=database_url),
        "status": PlatformStatusResource(status_dir=str(tmp_path)),  # no supervisor: no silent feed
    }
    context = dg.build_sensor_context(resources=resources)
    first = stream_gap_repair(context)  # whatever other tests left: read past it
    assert isinstance(first, dg.SensorResult) and first.cursor
    producer = Producer(producer_settings(kafka_bootstrap, ProducerProfile.LATENCY))
    for request in (  # days no other test writes
        resync("binance", "BTCUSDT", "2026-11-15T10:00:00"),
        resync("binance", "ETHUSDT", "2026-11-15T10:30:00"),
        resync("binance", "BTCUSDT", "2026-11-15T10:40:00"),
        resync("okx", "BTC-USDT", "2026-11-15T23:59:59"),
        resync("kraken", "XBT/USD", "2026-11-16T00:00:01"),
        resync("bitmex", "XBTUSD", "2026-11-15T10:00:00"),  # not an exchange with candles: nothing to repair
    ):
        out = Output.event(RESYNC_TOPIC, request)
        producer.produce(out.topic, out.value, out.key)
    assert producer.flush(30) == 0
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    dead_letter(database_url, "okx", b"okx:SOL/USDT", now.isoformat())  # the sink could not store a trade just now
    today = now.date().isoformat()

    context.update_cursor(first.cursor)
    second = stream_gap_repair(context)
    assert isinstance(second, dg.SensorResult)
    ours = {
        (r.partition_key.keys_by_dimension["date"], r.partition_key.keys_by_dimension["exchange"], r.run_key.count(":sink")): r
        for r in second.run_requests or []
        if isinstance(r.partition_key, dg.MultiPartitionKey)
        and r.partition_key.keys_by_dimension["date"] in ("2026-11-15", "2026-11-16", today)
    }
    symbols = {
        key: (r.run_config["ops"]["exchange_candles"]["config"]["exchange_symbols"],
              r.run_config["ops"]["exchange_candles"]["config"]["symbols"])
        for key, r in ours.items()
    }  # fmt: skip
    assert symbols == {
        ("2026-11-15", "binance", 0): (["BTCUSDT", "ETHUSDT"], []),
        ("2026-11-15", "okx", 0): (["BTC-USDT"], []),
        ("2026-11-16", "kraken", 0): (["XBT/USD"], []),
        (today, "okx", 1): ([], ["SOL/USDT"]),  # the dead letter's instrument, unified
    }
    assert (
        ours[("2026-11-15", "binance", 0)].run_key
        == f"repair:2026-11-15|binance:{ns('2026-11-15T10:40:00') // 3_600_000_000_000}"
    )

    context.update_cursor(second.cursor)
    third = stream_gap_repair(context)
    assert isinstance(third, dg.SensorResult)
    assert not [
        r for r in third.run_requests or []
        if isinstance(r.partition_key, dg.MultiPartitionKey)
        and r.partition_key.keys_by_dimension["date"] in ("2026-11-15", "2026-11-16", today)
    ]  # fmt: skip
