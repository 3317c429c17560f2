"""Ingestion against the simulated Binance, on the real broker: at start it publishes what the venue
lists, and an instrument published before that the venue no longer lists is published again, once,
inactive (the listing rule of ``platform_streams.reference.listing``)."""

from __future__ import annotations

import msgspec
import pytest

from platform_streams.ingestion.daemon import IngestionDaemon, IngestionSettings
from platform_streams.schemas import Instrument, TypedDecoder
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from tests.kafka_helpers import DaemonThread, produce_events, read_until, record_count
from tests.simulator.conftest import wait_until

LISTED = 4


def instrument(exchange: str, base: str, active: bool = True) -> Instrument:
    return Instrument(exchange, f"{base}/USDT", f"{base}USDT", base, "USDT", 2, 5, 1, 1, active=active)


def published(bootstrap: str, topic: str) -> list[Instrument]:
    """Every record of the (one-partition) instrument topic, in publication order."""
    total = record_count(bootstrap, topic)
    records = read_until(bootstrap, topic, lambda got: len(got) >= total, timeout_s=30)
    decoder = TypedDecoder(Instrument)
    return [decoder.decode(r.value()) for r in sorted(records, key=lambda r: r.offset())]


def start_ingestion(bootstrap: str, sim: SimulatorThread, topics: dict[str, str]) -> list[Instrument]:
    """Run ingestion until its instruments are published and its connections open; returns what it published."""
    before = record_count(bootstrap, topics["instrument"])
    daemon = IngestionDaemon(
        IngestionSettings(
            name="ingest-test", exchange="binance", bootstrap_servers=bootstrap, metrics_port=-1,
            rest_url=sim.urls["binance"].rest, ws_url=sim.urls["binance"].websocket, raw_topic=topics["raw"],
            instrument_topic=topics["instrument"], resync_topic=topics["resync"], heartbeat_interval_s=1,
        )
    )  # fmt: skip
    with DaemonThread(daemon):
        # connections are made once the instrument records are acknowledged (flushed) by the broker; stop
        # only once each has its session (a connection stopped while it connects keeps its session open)
        wait_until(lambda: daemon.connections and all(c.sessions for c in daemon.connections), 60, "ingestion to connect")
    return published(bootstrap, topics["instrument"])[before:]


@pytest.mark.timeout(180)
def test_an_instrument_the_venue_no_longer_lists_is_published_inactive_once(kafka_bootstrap, topic_factory) -> None:
    topics = {name: topic_factory(name, 1) for name in ("raw", "instrument", "resync")}  # one partition: one order
    gone, already_gone, other_venue = (
        instrument("binance", "GONE"),
        instrument("binance", "OLD", False),
        instrument("okx", "GONE"),
    )
    config = load_simulator_config({"exchanges": ["binance"], "instruments": LISTED, "rate": 20, "seed": 5})
    with SimulatorThread(config) as sim:
        listed = {i.symbol for i in sim.call(lambda: sim.simulator.world.venues["binance"].instruments)}
        stale = msgspec.structs.replace(instrument("binance", sorted(listed)[0].split("/")[0]), tick_size=7)
        produce_events(kafka_bootstrap, topics["instrument"], [gone, already_gone, other_venue, stale])

        first = start_ingestion(kafka_bootstrap, sim, topics)
        assert {i.symbol for i in first if i.active} == listed and len(first) == LISTED + 1
        assert [i for i in first if not i.active] == [msgspec.structs.replace(gone, active=False)]

        second = start_ingestion(kafka_bootstrap, sim, topics)
        assert {i.symbol for i in second} == listed and all(i.active for i in second)  # the withdrawal was once
