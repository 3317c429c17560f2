"""End to end: simulator → ingestion → md.raw → normalisation → sinks → PostgreSQL.

Every trade the simulator sent to a connection is in ``trades`` exactly once, and the
books rebuilt from ``md.book`` equal the simulator's books when it stops. The daemons
run as real processes under the supervisor.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from pathlib import Path

import asyncpg
import msgspec
import pytest

from platform_streams.books.order_book import OrderBook
from platform_streams.database.migrate import migrate
from platform_streams.kafka_clients import consumer_settings
from platform_streams.schemas import BookDelta, BookResync, BookSnapshot, TypedDecoder
from platform_streams.schemas.fixed_point import parse_at_scale
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.spec import parse_spec

INSTRUMENTS = 200


class Topics(msgspec.Struct):
    raw: str
    trade: str
    book: str
    bbo: str
    candle: str
    resync: str
    instrument: str


def deployment(bootstrap: str, urls: dict, topics: Topics, database_url: str, group: str) -> dict:
    normaliser_topics = {
        "trade": topics.trade,
        "book": topics.book,
        "bbo": topics.bbo,
        "candle": topics.candle,
        "resync": topics.resync,
    }
    daemons = []
    for exchange, venue in urls.items():
        daemons.append({
            "name": f"ingest-{exchange}", "kind": "ingestion", "restart": "always",
            "config": {"exchange": exchange, "rest_url": venue.rest, "ws_url": venue.websocket, "raw_topic": topics.raw,
                       "instrument_topic": topics.instrument, "resync_topic": topics.resync, "heartbeat_interval_s": 1},
        })  # fmt: skip
    daemons.append({
        "name": "normaliser", "kind": "normaliser", "replicas": 2, "restart": "always",
        "config": {"inputs": [topics.raw], "topics": normaliser_topics, "instrument_topic": topics.instrument,
                   "group": f"norm-{group}", "heartbeat_interval_s": 1},
    })  # fmt: skip
    daemons.append({
        "name": "sink", "kind": "postgres-sink", "restart": "always",
        "config": {"inputs": [topics.trade, topics.bbo], "database_url": database_url, "group": f"sink-{group}", "heartbeat_interval_s": 1},
    })  # fmt: skip
    return {"name": f"pipeline-{group}", "daemons": daemons}


class BookReader(threading.Thread):
    """Rebuilds every instrument's book from md.book as any consumer of it would."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        from confluent_kafka import Consumer

        self.consumer = Consumer(consumer_settings(bootstrap, f"books-{time.time_ns()}"))
        self.consumer.subscribe([topic])
        self.books: dict[str, OrderBook | None] = {}
        self.decoder = TypedDecoder(BookSnapshot, BookDelta, BookResync)
        self.stop_requested = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop_requested.is_set():
                for message in self.consumer.consume(1000, 0.2):
                    if message.error() is None:
                        self.apply(self.decoder.decode(message.value()))
        finally:
            self.consumer.close()

    def apply(self, event) -> None:
        if isinstance(event, BookSnapshot):
            book = OrderBook(event.price_scale, event.size_scale)
            book.load(event.bids, event.asks)
            self.books[event.symbol] = book
        elif isinstance(event, BookResync):
            self.books[event.symbol] = None
        elif self.books.get(event.symbol) is not None:
            self.books[event.symbol].apply(event.bids, event.asks)


async def count_trades(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval("SELECT count(*) FROM trades")
    finally:
        await connection.close()


async def stored_trade_ids(url: str) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(url)
    try:
        return [(r["symbol"], r["trade_id"]) for r in await connection.fetch("SELECT symbol, trade_id FROM trades")]
    finally:
        await connection.close()


def wait_for(condition, timeout_s: float, what: str, supervisor: Supervisor) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {supervisor.status()}"
        supervisor.tick()
        time.sleep(0.2)


def rest_book(rest_url: str, exchange_symbol: str, price_scale: int, size_scale: int) -> tuple[list, list]:
    body = msgspec.json.decode(
        urllib.request.urlopen(f"{rest_url}/api/v3/depth?symbol={exchange_symbol}&limit=100", timeout=10).read()
    )
    side = lambda levels: [(parse_at_scale(p, price_scale), parse_at_scale(q, size_scale)) for p, q in levels]  # noqa: E731
    return side(body["bids"]), side(body["asks"])


@pytest.mark.timeout(600)
def test_every_simulated_trade_lands_once_and_books_match(kafka_bootstrap, topic_factory, database_url, tmp_path: Path) -> None:
    migrate(database_url)
    topics = Topics(*(topic_factory(name, 4) for name in ("raw", "trade", "book", "bbo", "candle", "resync", "instrument")))
    # a generous REST weight budget: the test itself reads 200 books over REST, repeatedly, at the end
    config = load_simulator_config(
        {"exchanges": ["binance"], "instruments": INSTRUMENTS, "rate": 1500, "seed": 11, "clock": "manual",
         "binance": {"rest": {"request_weight": 10_000_000}}}
    )  # fmt: skip
    with SimulatorThread(config) as sim:
        spec = parse_spec(deployment(kafka_bootstrap, sim.urls, topics, database_url, str(time.time_ns())))
        supervisor = Supervisor(spec, {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}, tmp_path)
        books = BookReader(kafka_bootstrap, topics.book)
        books.start()
        supervisor.start()
        try:

            def live_books() -> int:
                sim.step(5)  # keep the market moving while the platform connects
                time.sleep(0.05)
                return sum(1 for book in books.books.values() if book is not None)

            wait_for(lambda: live_books() == INSTRUMENTS, 240, "every book to be live", supervisor)
            for _ in range(200):  # about 10 s of market at real-time pace
                sim.step(5)
                time.sleep(0.05)
            truth = sim.ground_truth.events("binance", "trade")
            delivered = {(s, int(i)) for s, i, f in zip(truth.symbol, truth.event_id, truth.fanout, strict=True) if f > 0}
            wait_for(
                lambda: asyncio.run(count_trades(database_url)) >= len(delivered), 180, "every trade in PostgreSQL", supervisor
            )
            stored = asyncio.run(stored_trade_ids(database_url))
            # exactly once: every trade sent to a connection, each once (no duplicates, none missing)
            assert len(stored) == len(set(stored))
            assert {(symbol.replace("/", ""), int(trade_id)) for symbol, trade_id in stored} == delivered

            def mismatched_books() -> list[str]:
                wrong = []
                for symbol, book in books.books.items():
                    if book is None:
                        wrong.append(symbol)
                        continue
                    bids, asks = rest_book(sim.urls["binance"].rest, symbol.replace("/", ""), book.price_scale, book.size_scale)
                    if book.top_bids(100) != bids or book.top_asks(100) != asks:
                        wrong.append(symbol)
                return wrong

            # the market is quiet now: the books rebuilt from md.book catch up to the simulator's
            wait_for(lambda: not mismatched_books(), 60, "the rebuilt books to equal the simulator's", supervisor)
        finally:
            supervisor.stop()
            books.stop_requested.set()
            books.join(timeout=10)
