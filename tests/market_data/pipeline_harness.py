"""A whole market-data deployment for end-to-end tests: the simulator (manual clock, in this
process, so its ground truth is at hand), and the snapshot budget service, ingestion per
exchange, normalisers and the PostgreSQL sink as real processes under the supervisor, on
topics of their own.

The checks are the issue's: every trade the simulator sent to a connection is stored
exactly once, the books rebuilt from ``md.book`` equal the simulator's when it is quiet, and
the ``instruments`` table holds every listed instrument with the simulator's own trading rules.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from platform_streams.books.order_book import OrderBook
from platform_streams.database.migrate import migrate
from platform_streams.kafka_clients import consumer_settings
from platform_streams.normalisation.instrument_catalog import InstrumentCatalog
from platform_streams.runtime.side_inputs import SideInput, SideInputReader
from platform_streams.schemas import BookDelta, BookResync, BookSnapshot, DeadLetter, Instrument, TypedDecoder
from platform_streams.schemas.fixed_point import parse_at_scale
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from platform_streams.simulator.market.universe import PRICE_SCALE
from platform_streams.supervisor.health import PlatformHealth, evaluate
from platform_streams.supervisor.process_supervisor import Supervisor
from platform_streams.supervisor.services import ServiceSupervisor
from platform_streams.supervisor.spec import parse_spec
from tests.waiting import wait_until

# The simulator's trading rules each venue's listing carries (the `instruments` columns they land in): OKX
# and Kraken publish no minimum notional, and Kraken's lot_decimals is a precision, not the simulator's lot.
PUBLISHED_RULES = {
    "binance": {"tick_size": "tick", "lot_size": "lot", "min_notional": "min_notional"},
    "okx": {"tick_size": "tick", "lot_size": "lot"},
    "kraken": {"tick_size": "tick"},
    "krakenv2": {"tick_size": "tick"},
}
TRADE_CHANNEL = {"binance": "trade", "okx": "trades", "kraken": "trade", "krakenv2": "trade"}
COMPARED_DEPTH = {"binance": 100, "okx": 400, "kraken": 10, "krakenv2": 10}  # Kraken books are subscribed at depth 10
SIMULATED_BY = {"krakenv2": "kraken"}
"""The simulated exchange serving a venue, where it is not the venue's own name: the simulated Kraken serves
WebSocket v2 at ``/v2`` (its ground truth calls that ``krakenv2``, as the platform's venue is called)."""


def simulated(venue: str) -> str:
    return SIMULATED_BY.get(venue, venue)


CHECKER_ADDRESS = "127.0.0.2"
"""The checks read the simulator's books from another source address, so they never spend the
REST weight the exchange meters per IP for the platform's own snapshots."""


def _get_json(url: str) -> Any:
    """GET from the checker's address, waiting out a 429's Retry-After (a test may set a tight REST limit)."""
    parts = urllib.parse.urlsplit(url)
    while True:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10, source_address=(CHECKER_ADDRESS, 0))
        try:
            connection.request("GET", f"{parts.path}?{parts.query}")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status == 429:
            time.sleep(float(response.getheader("Retry-After", "1")))
            continue
        assert response.status == 200, f"GET {url}: HTTP {response.status} {body[:200]!r}"
        return msgspec.json.decode(body)


class Topics(msgspec.Struct):
    raw: str
    trade: str
    book: str
    bbo: str
    candle: str
    resync: str
    instrument: str
    dead: str


class BookReader(threading.Thread):
    """Rebuilds every instrument's book from md.book as any consumer of it would."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = Consumer(consumer_settings(bootstrap, f"books-{time.time_ns()}"))
        self.consumer.subscribe([topic])
        self.books: dict[tuple[str, str], OrderBook | None] = {}
        self.resyncs: list[BookResync] = []
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

    def apply(self, event: BookSnapshot | BookDelta | BookResync) -> None:
        key = (event.exchange, event.symbol)
        if isinstance(event, BookSnapshot):
            book = OrderBook(event.price_scale, event.size_scale)
            book.load(event.bids, event.asks)
            self.books[key] = book
        elif isinstance(event, BookResync):
            self.resyncs.append(event)
            self.books[key] = None
        elif self.books.get(key) is not None:
            self.books[key].apply(event.bids, event.asks)  # type: ignore[union-attr]

    def live(self) -> int:
        return sum(1 for book in self.books.values() if book is not None)


def _deployment(
    venues: tuple[str, ...],
    urls: dict[str, Any],
    topics: Topics,
    database_url: str,
    group: str,
    normalisers: int,
    budget_socket: Path,
) -> dict[str, Any]:
    normaliser_topics = {
        "trade": topics.trade,
        "book": topics.book,
        "bbo": topics.bbo,
        "candle": topics.candle,
        "resync": topics.resync,
    }
    # one snapshot budget for every ingestion daemon, as on a host of `make up` (its socket in this test's folder)
    daemons: list[dict[str, Any]] = [{
        "name": "snapshot-budget", "kind": "snapshot-budget", "restart": "always",
        "config": {"exchanges": list(venues), "socket": str(budget_socket), "heartbeat_interval_s": 1},
    }]  # fmt: skip
    # normalisers 0: each ingestion normalises its own frames (the normaliser chained in, as `make up` runs it)
    chained = {"normalise": True, "normaliser_topics": normaliser_topics, "deadletter_topic": topics.dead,
               "resync_retry_s": 5} if not normalisers else {}  # fmt: skip
    daemons += [
        {
            "name": f"ingest-{exchange}", "kind": "ingestion", "restart": "always",
            "config": {"exchange": exchange, "rest_url": urls[simulated(exchange)].rest, "ws_url": urls[simulated(exchange)].websocket, "raw_topic": topics.raw,
                       "instrument_topic": topics.instrument, "resync_topic": topics.resync, "heartbeat_interval_s": 1,
                       "stall_timeout_s": 120,  # the quiesced market sends nothing while books are compared
                       "reconnect_max_s": 2, "budget_socket": str(budget_socket), **chained},
        }
        for exchange in venues
    ]  # fmt: skip
    if normalisers:
        daemons.append({
            "name": "normaliser", "kind": "normaliser", "replicas": normalisers, "restart": "always",
            "config": {"inputs": [topics.raw], "topics": normaliser_topics, "instrument_topic": topics.instrument,
                       "group": f"norm-{group}", "heartbeat_interval_s": 1, "deadletter_topic": topics.dead, "resync_retry_s": 5},
        })  # fmt: skip
    daemons.append({
        "name": "sink", "kind": "postgres-sink", "restart": "always",
        "config": {"inputs": [topics.trade, topics.bbo, topics.instrument], "database_url": database_url,
                   "group": f"sink-{group}", "heartbeat_interval_s": 1, "deadletter_topic": topics.dead},
    })  # fmt: skip
    return {"name": f"pipeline-{group}", "daemons": daemons}


class MarketDataPipeline:
    """Start with ``with``; drive the market with :meth:`run_market`; check with the ``assert_`` methods."""

    def __init__(
        self,
        bootstrap: str,
        database_url: str,
        state_dir: Path,
        topic_factory: Any,
        exchanges: tuple[str, ...] = ("binance", "okx", "kraken"),
        instruments: int = 200,
        rate: float = 1500,
        seed: int = 11,
        normalisers: int = 2,
        simulator_settings: dict[str, Any] | None = None,
        services: ServiceSupervisor | None = None,
        extra_daemons: Callable[[dict[str, Any], Path], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.database_url = database_url
        self.state_dir = state_dir
        self.exchanges = exchanges
        self.instruments = instruments
        self.topics = Topics(
            *(topic_factory(name, 4) for name in ("raw", "trade", "book", "bbo", "candle", "resync", "instr", "dead"))
        )
        settings: dict[str, Any] = {
            "exchanges": sorted({simulated(e) for e in exchanges}), "instruments": instruments, "rate": rate, "seed": seed, "clock": "manual",
            # generous REST budgets (the checks read every book over REST, though from another address)
            "binance": {"rest": {"request_weight": 10_000_000}}, "okx": {"rest": {"books": 1_000_000}},
            "kraken": {"rest": {"public_requests": 1_000_000}},
        }  # fmt: skip
        for key, value in (simulator_settings or {}).items():
            settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
        self._simulator_settings = settings
        self._normalisers = normalisers
        self.services = services  # the servers, when the test supervises them as `tradeplat up` does
        # more daemons under the same supervisor (the trading path's), from the simulator's URLs and
        # the host's request budget socket
        self.extra_daemons = extra_daemons or (lambda _urls, _budget: [])
        self.sim: SimulatorThread | None = None
        self.supervisor: Supervisor | None = None
        self.books: BookReader | None = None

    # -- life cycle -----------------------------------------------------------------------------
    def __enter__(self) -> MarketDataPipeline:
        migrate(self.database_url)
        self.sim = SimulatorThread(load_simulator_config(self._simulator_settings)).start()
        group = str(time.time_ns())
        budget_socket = self.state_dir / "budget.sock"
        deployment = _deployment(
            self.exchanges, self.sim.urls, self.topics, self.database_url, group, self._normalisers, budget_socket
        )
        deployment["daemons"] += self.extra_daemons(self.sim.urls, budget_socket)
        spec = parse_spec(deployment)
        env = {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "DATABASE_URL": self.database_url}
        self.supervisor = Supervisor(spec, env, self.state_dir, services=self.services)
        self.books = BookReader(self.bootstrap, self.topics.book)
        self.books.start()
        self.supervisor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.supervisor is not None:
                self.supervisor.stop()
        finally:
            if self.books is not None:
                self.books.stop_requested.set()
                self.books.join(timeout=10)
            if self.sim is not None:
                self.sim.stop()

    # -- driving --------------------------------------------------------------------------------------
    _paced_until = 0.0

    def step(self, quanta: int = 5) -> None:
        """Advance the market ``quanta`` × 10 ms and pause until as long has passed since the last step
        (the step's own work counted in), so it runs at real time; a step that came late is not made up."""
        assert self.sim is not None and self.supervisor is not None
        self.sim.step(quanta)
        self.supervisor.tick()
        now = time.monotonic()
        self._paced_until = max(self._paced_until + quanta / 100, now)
        time.sleep(self._paced_until - now)

    def run_market(self, seconds: float) -> None:
        for _ in range(int(seconds * 20)):
            self.step(5)

    def wait_until(self, condition: Any, timeout_s: float, what: str, move_market: bool = True) -> None:
        supervisor = self.supervisor
        assert supervisor is not None
        between = (lambda: self.step(5)) if move_market else supervisor.tick
        wait_until(
            condition, timeout_s, what, between=between, describe=supervisor.status, interval_s=0.0 if move_market else 0.2
        )

    def wait_books_live(self, timeout_s: float = 240, settle_s: float = 3.0) -> None:
        """Until every process of the deployment has been heard, every book is live and no resync came
        for ``settle_s``: a normaliser that joins its group late (a slow start on a loaded machine)
        takes partitions over and resyncs their books, and that must be over before a test starts
        (a fault put in meanwhile would be healed by the takeover's fresh book, not seen)."""
        assert self.books is not None and self.supervisor is not None
        books, wanted, supervisor = self.books, self.instruments * len(self.exchanges), self.supervisor
        seen = {"resyncs": -1, "since": 0.0, "all_heard": False, "asked": 0.0}

        def all_heard(now: float) -> bool:
            if not seen["all_heard"] and now - seen["asked"] >= 0.25:  # the status is not free: a few times a second
                seen["asked"] = now
                seen["all_heard"] = all(r.heartbeat_at is not None for r in supervisor.status().replicas)
            return bool(seen["all_heard"])

        def settled() -> bool:
            now, resyncs = time.monotonic(), len(books.resyncs)
            if not all_heard(now) or books.live() < wanted or resyncs != seen["resyncs"]:
                seen.update(resyncs=resyncs, since=now)
                return False
            return now - seen["since"] >= settle_s

        self.wait_until(settled, timeout_s, f"all {wanted} books to be live")

    def kill(self, daemon: str, replica: int = 0) -> int:
        """SIGKILL one process of the deployment (the supervisor restarts it); returns its pid."""
        assert self.supervisor is not None
        process = next(r.process for r in self.supervisor.replicas if r.spec.name == daemon and r.index == replica)
        assert process is not None and process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
        return process.pid

    def health(self) -> PlatformHealth:
        """What `tradeplat status` would say now about this deployment (its supervisor is this process)."""
        assert self.supervisor is not None
        self.supervisor.tick()  # the latest heartbeats and server states
        return evaluate([self.supervisor.status()], time.time(), lambda _pid: True)

    def restarts(self, daemon: str) -> int:
        assert self.supervisor is not None
        return sum(r.restarts for r in self.supervisor.replicas if r.spec.name == daemon)

    # -- what the platform stored ------------------------------------------------------------------------
    def _query(self, sql: str) -> list[Any]:
        async def run() -> list[Any]:
            connection = await asyncpg.connect(self.database_url)
            try:
                return await connection.fetch(sql)
            finally:
                await connection.close()

        return asyncio.run(run())

    def stored_trades(self) -> list[tuple[str, str, str]]:
        return [(r["exchange"], r["symbol"], r["trade_id"]) for r in self._query("SELECT exchange, symbol, trade_id FROM trades")]

    def instruments_by_exchange_symbol(self) -> dict[str, dict[str, Any]]:
        catalog = InstrumentCatalog()
        reader = SideInputReader(self.bootstrap, [SideInput(self.topics.instrument, TypedDecoder(Instrument).decode)], "checker")
        try:
            assert reader.catch_up(lambda records: catalog.apply(records[self.topics.instrument]), timeout_s=30)
            return {exchange: {i.exchange_symbol: i for i in registry} for exchange, registry in catalog.registries.items()}
        finally:
            reader.close()

    def dead_letters(self) -> list[DeadLetter]:
        """Every dead letter written so far: the topic read to the ends its partitions had when asked,
        then on until a poll brings nothing more (letters on their way in as well)."""
        topic = self.topics.dead
        consumer = Consumer(consumer_settings(self.bootstrap, f"dead-{time.time_ns()}"))
        letters: list[DeadLetter] = []
        deadline = time.monotonic() + 30
        decoder = TypedDecoder(DeadLetter)
        try:
            partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
            ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
            consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
            read = dict.fromkeys(partitions, 0)
            while True:
                assert time.monotonic() < deadline, f"{topic} not read to its end within 30 s"
                batch = consumer.consume(1000, 0.5)
                for message in batch:
                    if message.error() is None:
                        read[message.partition()] = message.offset() + 1
                        letters.append(decoder.decode(message.value()))
                if not batch and all(read[p] >= ends[p] for p in partitions):
                    break
        finally:
            consumer.close()
        return letters

    # -- the checks ------------------------------------------------------------------------------------------
    def expected_trades(self, excluded: set[tuple[str, str, int]] = frozenset()) -> tuple[set[tuple[str, str, int]], Counter]:
        """Trades the simulator sent to a connection: (exchange, exchange symbol, id) where frames carry ids
        (a Kraken v2 message carries its trades' consecutive ids, first to last), and a count per (exchange,
        exchange symbol) for Kraken v1, whose trades carry none."""
        assert self.sim is not None
        with_ids: set[tuple[str, str, int]] = set()
        counts: Counter = Counter()
        for exchange in self.exchanges:
            truth = self.sim.ground_truth.events(exchange, TRADE_CHANNEL[exchange])
            for symbol, event_id, first_id, fanout in zip(
                truth.symbol, truth.event_id, truth.first_id, truth.fanout, strict=True
            ):
                if fanout <= 0 or (exchange, symbol, int(event_id)) in excluded:
                    continue
                if exchange == "kraken":
                    counts[(exchange, symbol)] += int(event_id) - int(first_id) + 1
                elif exchange == "krakenv2":
                    with_ids.update((exchange, symbol, i) for i in range(int(first_id), int(event_id) + 1))
                else:
                    with_ids.add((exchange, symbol, int(event_id)))
        return with_ids, counts

    def assert_trades_exactly_once(self, timeout_s: float = 180, excluded: set[tuple[str, str, int]] = frozenset()) -> int:
        """Waits (the market quiet) until every sent trade is stored, then checks nothing is missing or doubled."""
        with_ids, kraken_counts = self.expected_trades(excluded)
        expected_total = len(with_ids) + sum(kraken_counts.values())
        self.wait_until(
            lambda: len(self.stored_trades()) >= expected_total, timeout_s, "every trade in PostgreSQL", move_market=False
        )
        stored = self.stored_trades()
        assert len(stored) == len(set(stored)) == expected_total
        instruments = self.instruments_by_exchange_symbol()
        by_symbol = {(e, i.symbol): xs for e, table in instruments.items() for xs, i in table.items()}
        stored_ids = {(e, by_symbol[(e, s)], int(t)) for e, s, t in stored if e != "kraken"}
        assert stored_ids == with_ids
        stored_kraken = Counter((e, by_symbol[(e, s)]) for e, s, _ in stored if e == "kraken")
        assert stored_kraken == kraken_counts
        return expected_total

    def assert_instruments_stored(self, timeout_s: float = 60) -> None:
        """The table holds every instrument the simulated venues list, active, with the simulator's own
        tick sizes (and lots and minimum notionals where the venue publishes them), exactly."""
        assert self.sim is not None
        venues = self.sim.simulator.world.venues
        listed = {(e, i.symbol): i for e in self.exchanges for i in self.sim.call(lambda e=e: venues[e].instruments)}
        assert len(listed) == self.instruments * len(self.exchanges)
        count = "SELECT count(*) AS n FROM instruments"
        self.wait_until(lambda: self._query(count)[0]["n"] >= len(listed), timeout_s, "every instrument", move_market=False)
        rows = {(r["exchange"], r["symbol"]): r for r in self._query("SELECT * FROM instruments")}
        assert rows.keys() == listed.keys()
        for key, truth in listed.items():
            row = rows[key]
            assert row["status"] == "active" and row["first_seen"] <= row["last_seen"], dict(row)
            for column, rule in PUBLISHED_RULES[key[0]].items():
                assert row[column] == Decimal(getattr(truth, rule)).scaleb(-PRICE_SCALE), (column, dict(row), truth)

    def _exchange_book(self, exchange: str, instrument: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        assert self.sim is not None
        rest, xs, depth = self.sim.urls[simulated(exchange)].rest, instrument.exchange_symbol, COMPARED_DEPTH[exchange]
        if exchange == "krakenv2":
            xs = instrument.aliases[0]  # Kraken's REST names a pair by its key (or altname, or v1 wsname), not by the v2 name
        if exchange == "binance":
            body = _get_json(f"{rest}/api/v3/depth?symbol={xs}&limit={depth}")
            bids, asks = body["bids"], body["asks"]
        elif exchange == "okx":
            body = _get_json(f"{rest}/api/v5/market/books?instId={xs}&sz={depth}")
            bids, asks = body["data"][0]["bids"], body["data"][0]["asks"]
        else:
            body = _get_json(f"{rest}/0/public/Depth?pair={urllib.parse.quote(xs, safe='')}&count={depth}")
            (levels,) = body["result"].values()
            bids, asks = levels["bids"], levels["asks"]

        def side(rows: list[Any]) -> list[tuple[int, int]]:
            return [(parse_at_scale(r[0], instrument.price_scale), parse_at_scale(r[1], instrument.size_scale)) for r in rows]

        return side(bids), side(asks)

    def mismatched_books(self) -> list[str]:
        assert self.books is not None
        instruments = self.instruments_by_exchange_symbol()
        wrong = []
        for exchange in self.exchanges:
            for instrument in instruments.get(exchange, {}).values():
                book = self.books.books.get((exchange, instrument.symbol))
                depth = COMPARED_DEPTH[exchange]
                if book is None or (book.top_bids(depth), book.top_asks(depth)) != self._exchange_book(exchange, instrument):
                    wrong.append(f"{exchange}:{instrument.symbol}")
        return wrong

    def assert_books_match(self, timeout_s: float = 90) -> None:
        """Quiesce the market (batched book publications flush, nothing moves after), then the rebuilt
        books catch up to the simulator's (bounded wait)."""
        assert self.sim is not None
        self.sim.quiesce()
        # the clock keeps running (nothing trades): OKX sends a resubscribed book's snapshot on its next 100 ms tick
        wrong: list[str] = []

        def all_equal() -> bool:
            wrong[:] = self.mismatched_books()
            return not wrong

        try:
            self.wait_until(all_equal, timeout_s, "the rebuilt books to equal the simulator's")
        except AssertionError as exc:
            down = [name for name in wrong if self.books.books.get(tuple(name.split(":", 1))) is None]  # type: ignore[union-attr]
            resyncs = Counter((exchange, reason) for exchange, reasons in self.resync_reasons().items() for reason in reasons)
            raise AssertionError(f"{len(wrong)} books differ ({len(down)} down), e.g. {wrong[:10]}; resyncs {resyncs}") from exc

    def resync_reasons(self) -> dict[str, list[str]]:
        assert self.books is not None
        reasons: dict[str, list[str]] = defaultdict(list)
        for event in self.books.resyncs:
            reasons[event.exchange].append(event.reason)
        return reasons
