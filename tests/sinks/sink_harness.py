"""What the PostgreSQL sink's integration tests share: settings for a sink under test, queries, a bounded wait."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from platform_streams.sinks.daemon import PostgresSinkDaemon, PostgresSinkSettings

SINK_NAME = "sink-test"


async def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    return asyncio.run(query(url, sql, *args))


def count(url: str, table: str) -> int:
    return fetch(url, f"SELECT count(*) AS n FROM {table}")[0]["n"]


def sink_settings(bootstrap: str, url: str, inputs: list[str], **extra: Any) -> PostgresSinkSettings:
    """A sink in a consumer group of its own (it reads its inputs from the start)."""
    return PostgresSinkSettings(
        name=SINK_NAME, group=f"sink-{time.time_ns()}", bootstrap_servers=bootstrap, database_url=url,
        inputs=inputs, metrics_port=-1, candle_refresh_s=0.2, candle_close_grace_s=0.0, **extra,
    )  # fmt: skip


def sink_sample(daemon: PostgresSinkDaemon, metric: str, **labels: str) -> float | None:
    """A sample of the sink's own metrics (None until the series exists)."""
    return daemon.metrics.registry.get_sample_value(metric, {"daemon": SINK_NAME, **labels})
