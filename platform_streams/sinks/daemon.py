"""The PostgreSQL sink daemon: canonical events from its input topics into their tables.

``handle`` turns events into rows (pure); ``store`` writes them in one transaction
per batch before the batch's offsets are committed. The statement inserting trades
also folds them into their one-minute candles; every ``candle_refresh_s`` the minutes
that ended ``candle_close_grace_s`` ago are marked closed. Instruments (``ref.instrument``)
are upserted, timed by their Kafka record's timestamp: the event carries no time of its own.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Message
from prometheus_client import Counter, Histogram

from platform_streams.kafka_clients import ConsumerProfile
from platform_streams.runtime import DaemonSettings, StreamDaemon, event_loop
from platform_streams.runtime.storage import TransientStoreError
from platform_streams.schemas import Instrument, TypedDecoder
from platform_streams.settings import ConfigError
from platform_streams.sinks.candle_rollup import CandleRollup
from platform_streams.sinks.postgres_writer import PostgresWriter
from platform_streams.sinks.tables import ROW_BUILDERS, InvalidRow, TableRow, instrument_row, timestamp

log = logging.getLogger(__name__)


class PostgresSinkSettings(DaemonSettings, kw_only=True):
    database_url: str = ""  # default: $DATABASE_URL
    candle_refresh_s: float = 2.0  # how often minutes that ended are marked closed
    candle_close_grace_s: float = 5.0
    batch_max: int = 20_000


def published_at(message: Message) -> datetime:
    """When the record was published (its Kafka timestamp), the same however often it is read."""
    kind, milliseconds = message.timestamp()
    if kind == TIMESTAMP_NOT_AVAILABLE:
        raise InvalidRow(f"record {message.topic()}[{message.partition()}]@{message.offset()} has no timestamp")
    return timestamp(milliseconds * 1_000_000)


class PostgresSinkDaemon(StreamDaemon):
    """Persists trades, top of book, dead letters and instruments; derives one-minute candles from trades."""

    settings: PostgresSinkSettings
    consumer_profile = ConsumerProfile.BATCH

    def __init__(self, settings: PostgresSinkSettings) -> None:
        super().__init__(settings)
        url = settings.database_url or os.environ.get("DATABASE_URL", "")
        if not url:
            raise ConfigError(f"{settings.name}: no database (set database_url or DATABASE_URL)")
        self._decoder = TypedDecoder(*ROW_BUILDERS, Instrument)
        self._loop = event_loop.new_event_loop()
        self._candles = CandleRollup(settings.candle_close_grace_s)
        self._writer = PostgresWriter(url, candles=self._candles)
        self._next_candle_refresh = 0.0
        registry = self.metrics.registry
        self._rows_written = Counter("platform_sink_rows_written", "Rows inserted", ("daemon", "table"), registry=registry)
        self._rows_skipped = Counter(
            "platform_sink_rows_duplicate", "Rows already present (replays)", ("daemon", "table"), registry=registry
        )
        self._write_seconds = Histogram(
            "platform_sink_write_seconds", "Time to write one batch", ("daemon",), registry=registry
        ).labels(settings.name)

    def handle(self, batch: Sequence[Message]) -> Iterable[TableRow]:
        rows = []
        for message in batch:
            event = self._decoder.decode(message.value())
            if type(event) is Instrument:
                rows.append(instrument_row(event, published_at(message)))
            else:
                rows.append(ROW_BUILDERS[type(event)](event))
        return rows

    def store(self, records: list[Any]) -> None:
        rows: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for record in records:
            rows[record.table].append(record.values)
        started = time.perf_counter()
        inserted = self._loop.run_until_complete(self._writer.write(rows))
        self._write_seconds.observe(time.perf_counter() - started)
        for table, count in inserted.items():
            self._rows_written.labels(self.settings.name, table).inc(count)
            self._rows_skipped.labels(self.settings.name, table).inc(len(rows[table]) - count)

    def periodic(self) -> None:
        """Closing candles is bookkeeping on derived data: a failed sweep is logged and retried,
        never a reason to hold back or dead-letter trades."""
        now = time.monotonic()
        if now < self._next_candle_refresh:
            return
        self._next_candle_refresh = now + self.settings.candle_refresh_s
        try:
            self._loop.run_until_complete(self._candles.close_due(self._writer, datetime.now(UTC)))
        except (TransientStoreError, asyncpg.PostgresError) as exc:
            self.record_error("candle_refresh", exc)
            log.error("closing candles failed; will retry", extra={"error": str(exc)})

    def run(self) -> None:
        try:
            super().run()
        finally:
            self._loop.run_until_complete(self._writer.close())
            self._loop.close()
