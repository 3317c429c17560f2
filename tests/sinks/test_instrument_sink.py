"""Instruments from ``ref.instrument`` into the ``instruments`` table, on the real broker and a real
PostgreSQL: exact on the venues' captured listings, moved forward by re-publications, unchanged by replays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from platform_streams.cli.commands_stack import MARKET_DATA_DEPLOYMENT
from platform_streams.database.migrate import migrate
from platform_streams.exchanges.binance.instruments import registry_from_exchange_info
from platform_streams.exchanges.kraken.instruments import registry_from_asset_pairs
from platform_streams.exchanges.okx.instruments import registry_from_instruments
from platform_streams.ingestion.daemon import IngestionSettings
from platform_streams.reference import load_instruments
from platform_streams.schemas import Instrument, InstrumentKind
from platform_streams.sinks.daemon import PostgresSinkDaemon
from platform_streams.sinks.postgres_writer import PostgresWriter
from platform_streams.sinks.tables import instrument_row, timestamp
from platform_streams.supervisor.spec import load_spec
from tests.exchanges.binance.conftest import EXCHANGE_INFO
from tests.exchanges.captures import rest_bodies
from tests.exchanges.kraken.conftest import ASSET_PAIRS
from tests.exchanges.okx.conftest import INSTRUMENTS_FOR
from tests.kafka_helpers import DaemonThread, produce_events, read_until
from tests.sinks.sink_harness import count, fetch, sink_sample, sink_settings
from tests.waiting import wait_until


def captured_instruments() -> list[Instrument]:
    """Every instrument of the captured Binance, OKX (spot, swaps, futures, options) and Kraken listings,
    inactive ones included (Binance's BREAK symbols)."""
    okx_bodies = [body.frame for path in INSTRUMENTS_FOR.values() for body in rest_bodies(path)]
    return [
        *registry_from_exchange_info(rest_bodies(EXCHANGE_INFO)[0].frame),
        *registry_from_instruments(okx_bodies),
        *registry_from_asset_pairs(rest_bodies(ASSET_PAIRS)[0].frame),
    ]


def record_times(bootstrap: str, topic: str, expected: int) -> dict[str, list[datetime]]:
    """The Kafka timestamps of the topic's records per key, in publication order."""
    records = read_until(bootstrap, topic, lambda got: len(got) >= expected)
    assert len(records) == expected
    times: dict[str, list[datetime]] = {}
    for record in sorted(records, key=lambda r: r.offset()):
        times.setdefault(record.key().decode(), []).append(timestamp(record.timestamp()[1] * 1_000_000))
    return times


def table_rows(url: str) -> dict[str, dict[str, Any]]:
    return {f"{r['exchange']}:{r['symbol']}": dict(r) for r in fetch(url, "SELECT * FROM instruments")}


def test_every_published_instrument_lands_exactly(kafka_bootstrap, topic_factory, database_url) -> None:
    migrate(database_url)
    topic = topic_factory("instruments")
    instruments = captured_instruments()
    kinds = {i.kind for i in instruments}
    assert len(instruments) > 3_000 and kinds == set(InstrumentKind) and not all(i.active for i in instruments)
    produce_events(kafka_bootstrap, topic, instruments)
    with DaemonThread(PostgresSinkDaemon(sink_settings(kafka_bootstrap, database_url, [topic]))):
        wait_until(lambda: count(database_url, "instruments") == len(instruments), 60, "every instrument")
    published = record_times(kafka_bootstrap, topic, len(instruments))

    stored = {s.instrument.key: s for s in load_instruments(database_url)}
    assert len(stored) == len(instruments)
    for instrument in instruments:
        row = stored[instrument.key]
        assert row.instrument == instrument  # every field, mantissas and scales exact
        assert row.first_seen == row.last_seen == published[instrument.key][0]
    rows = table_rows(database_url)
    btc = rows["binance:BTC/USDT"]
    assert (btc["tick_size"], btc["lot_size"], btc["min_size"], btc["min_notional"]) == (
        Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal(10),
    )  # fmt: skip
    assert (btc["status"], btc["exchange_symbol"], btc["kind"]) == ("active", "BTCUSDT", "spot")
    assert {r["status"] for r in rows.values() if r["exchange"] == "binance"} == {"active", "inactive"}
    assert rows["kraken:BTC/USD"]["aliases"] == list(stored["kraken:BTC/USD"].instrument.aliases) != []
    assert {s.instrument.key for s in load_instruments(database_url, "kraken", active_only=True)} == {
        i.key for i in instruments if i.exchange == "kraken" and i.active
    }


def test_a_republish_moves_last_seen_and_changes_fields_and_a_replay_changes_nothing(
    kafka_bootstrap, topic_factory, database_url
) -> None:
    migrate(database_url)
    topic = topic_factory("instruments")
    btc, eth, luna = (
        Instrument("binance", f"{base}/USDT", f"{base}USDT", base, "USDT", 2, 5, 1, 1, min_notional=5)
        for base in ("BTC", "ETH", "LUNA")
    )
    republished = [
        msgspec.structs.replace(btc, tick_size=10, price_scale=3, lot_size=2),  # the venue changed its rules
        eth,  # the same again: only last_seen moves
        msgspec.structs.replace(luna, active=False),  # ingestion found it no longer listed
    ]
    first = PostgresSinkDaemon(sink_settings(kafka_bootstrap, database_url, [topic]))
    with DaemonThread(first):
        produce_events(kafka_bootstrap, topic, [btc, eth, luna])
        wait_until(lambda: count(database_url, "instruments") == 3, 60, "the first publication")
        produce_events(kafka_bootstrap, topic, republished)
        wait_until(lambda: first.messages_in == 6, 60, "the re-publication")
    published = record_times(kafka_bootstrap, topic, 6)
    assert all(later > earlier for earlier, later in published.values())  # the re-publication is later

    after = table_rows(database_url)
    stored = {s.instrument.key: s for s in load_instruments(database_url)}
    for instrument in republished:
        assert stored[instrument.key].instrument == instrument
        assert (stored[instrument.key].first_seen, stored[instrument.key].last_seen) == tuple(published[instrument.key])
    assert after["binance:BTC/USDT"]["tick_size"] == Decimal("0.010") and after["binance:BTC/USDT"]["price_scale"] == 3
    assert after["binance:LUNA/USDT"]["status"] == "inactive" and after["binance:ETH/USDT"]["status"] == "active"

    # a new consumer group reads the whole topic again (both publications, likely in one batch)
    replay = PostgresSinkDaemon(sink_settings(kafka_bootstrap, database_url, [topic]))
    with DaemonThread(replay):
        wait_until(lambda: replay.messages_in == 6, 60, "the replay")
    assert table_rows(database_url) == after  # updated_at included: no row was touched
    assert sink_sample(replay, "platform_sink_rows_written_total", table="instruments") == 0
    assert sink_sample(replay, "platform_sink_rows_duplicate_total", table="instruments") == 6


def test_rows_follow_the_latest_publication_whatever_order_records_arrive_in(database_url) -> None:
    """Straight through the writer: a record older than the row only moves first_seen back, one in
    between changes nothing, and several records of one instrument in one batch fold into one row."""
    migrate(database_url)
    t0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    at = [t0 + timedelta(minutes=n) for n in range(5)]
    instrument = Instrument("okx", "BTC/USDT", "BTC-USDT", "BTC", "USDT", 1, 8, 1, 1, min_size=1_000)
    wider_tick = msgspec.structs.replace(instrument, tick_size=5)

    def write(*rows: tuple[Instrument, datetime]) -> dict[str, int]:
        async def run() -> dict[str, int]:
            writer = PostgresWriter(database_url)
            try:
                return await writer.write({"instruments": [instrument_row(i, t).values for i, t in rows]})
            finally:
                await writer.close()

        return asyncio.run(run())

    def stored() -> tuple[Instrument, datetime, datetime]:
        (row,) = load_instruments(database_url)
        return row.instrument, row.first_seen, row.last_seen

    assert write((instrument, at[2])) == {"instruments": 1}
    assert write((wider_tick, at[1])) == {"instruments": 1}  # older: first_seen moves back, content stays
    assert stored() == (instrument, at[1], at[2])
    updated = fetch(database_url, "SELECT updated_at FROM instruments")[0]["updated_at"]
    assert write((wider_tick, at[1]), (instrument, at[2])) == {"instruments": 0}  # in between: nothing
    assert fetch(database_url, "SELECT updated_at FROM instruments")[0]["updated_at"] == updated
    assert write((wider_tick, at[4]), (instrument, at[3]), (instrument, at[0])) == {"instruments": 1}
    assert stored() == (wider_tick, at[0], at[4])


def test_make_up_stores_the_instruments_ingestion_publishes() -> None:
    spec = load_spec(MARKET_DATA_DEPLOYMENT)
    (sink,) = [d for d in spec.daemons if d.kind == "postgres-sink"]
    default_topic = IngestionSettings(name="default", exchange="binance").instrument_topic
    published_to = {d.config.get("instrument_topic", default_topic) for d in spec.daemons if d.kind == "ingestion"}
    assert published_to == {"ref.instrument"} and "ref.instrument" in sink.config["inputs"]
