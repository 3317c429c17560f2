"""The generic ccxt.pro adapter end to end against the simulated Binance, on the real broker:
simulator → ``ccxt-ingestion`` (ccxt.pro over real WebSockets) → md.raw (``ccxt`` frames) →
normaliser → canonical trades and books, checked against the simulator's ground truth and REST.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import ccxt.pro as ccxtpro
import msgspec
import pytest
from confluent_kafka import Consumer

from platform_streams.ingestion.ccxt_daemon import CcxtIngestionDaemon, CcxtIngestionSettings
from platform_streams.kafka_clients import KafkaOverrides, consumer_settings
from platform_streams.normalisation.daemon import NormaliserDaemon, NormaliserSettings
from platform_streams.normalisation.normaliser import NormaliserTopics
from platform_streams.runtime.delivery import DeliveryFailed
from platform_streams.schemas import BookResync, BookSnapshot, DeadLetter, Trade, TypedDecoder
from platform_streams.schemas.fixed_point import parse_at_scale
from platform_streams.simulator import SimulatorThread
from platform_streams.simulator.config import load_simulator_config
from tests.kafka_helpers import DaemonThread, partitions, read_until, record_count
from tests.simulator.conftest import wait_until

LISTED = 20  # instruments the simulated Binance lists
# the market runs (about 3 s) until this many trades went to ccxt, or one symbol had BUSIEST of them: the
# simulator's recent-trades tape, the record prices are checked against, keeps 200 per instrument
MARKET_TRADES, BUSIEST = 300, 120
# levels written per side; ccxt keeps book_kept_depth (100) levels, more than the simulator's 50-70 a side,
# so levels moving into the written top 20 from further down are in its book (at 20 kept they were not)
BOOK_DEPTH = 20
Level = tuple[int, int]


def local_ccxt_config(rest: str, websocket: str) -> dict[str, Any]:
    """ccxt.pro binance settings with every API URL (REST and WebSocket, spot, margin, futures, options)
    moved to the simulator: ccxt deep-merges ``urls``, so a URL left out would keep its real host."""

    def relocate(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: relocate(url) for key, url in value.items()}
        scheme = value.split("://", 1)[0]
        return re.sub(r"^[a-z]+://[^/]+", websocket if scheme in ("ws", "wss") else rest, value)

    return {
        "urls": {"api": relocate(ccxtpro.binance().urls["api"])},
        # load_markets asks only for spot markets, and no margin pairs or currencies (sapi) — see notes/dagster.md §8
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False, "fetchCurrencies": False},
        "timeout": 10_000,
    }


def api_urls(tree: Any) -> Iterator[str]:
    if isinstance(tree, dict):
        for value in tree.values():
            yield from api_urls(value)
    else:
        yield tree


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return msgspec.json.decode(response.read())


def listed_symbols(rest: str) -> dict[str, str]:
    """ccxt's unified symbol → exchange symbol, in the simulator's listing order (most traded first)."""
    return {f"{s['baseAsset']}/{s['quoteAsset']}": s["symbol"] for s in get_json(f"{rest}/api/v3/exchangeInfo")["symbols"]}


def sent_trade_ids(sim: SimulatorThread, exchange_symbols: set[str]) -> set[tuple[str, int]]:
    """(exchange symbol, trade id) of every trade the simulator wrote to a connection for these symbols.
    Only ingestion's trade connection subscribes to trades, so that is every trade sent to ccxt. Trades
    printed before ccxt subscribed (and those of symbols it never subscribed) went to nobody and are not
    recorded: they are rightly absent, ingestion could never have seen them."""
    truth = sim.ground_truth.events("binance", "trade")
    return {
        (str(symbol), int(event_id))
        for symbol, event_id, fanout in zip(truth.symbol, truth.event_id, truth.fanout, strict=True)
        if fanout > 0 and symbol in exchange_symbols
    }


def enough_market(sent: set[tuple[str, int]]) -> bool:
    per_symbol = Counter(exchange_symbol for exchange_symbol, _ in sent)
    return len(sent) >= MARKET_TRADES or max(per_symbol.values(), default=0) >= BUSIEST


def rest_book(rest: str, exchange_symbol: str, price_scale: int, size_scale: int) -> tuple[list[Level], list[Level]]:
    body = get_json(f"{rest}/api/v3/depth?symbol={exchange_symbol}&limit={BOOK_DEPTH}")

    def side(rows: list[list[str]]) -> list[Level]:
        return [(parse_at_scale(price, price_scale), parse_at_scale(size, size_scale)) for price, size in rows]

    return side(body["bids"]), side(body["asks"])


class CanonicalTopics:
    """What the normaliser wrote to the trade and book topics, read from the start as it arrives, and
    how far it is from what the simulator sent."""

    def __init__(self, bootstrap: str, trade_topic: str, book_topic: str, rest: str, symbols: dict[str, str]) -> None:
        self._consumer = Consumer(consumer_settings(bootstrap, f"ccxt-check-{time.time_ns()}"))
        self._consumer.subscribe([trade_topic, book_topic])
        self._decoder = TypedDecoder(Trade, BookSnapshot, BookResync)
        self._rest = rest
        self.symbols = symbols  # unified → exchange symbol, of the subscribed instruments
        self.trades: list[Trade] = []
        self.books: dict[str, BookSnapshot] = {}  # the latest snapshot per symbol
        self.resyncs: list[BookResync] = []
        self._rest_books: dict[str, tuple[list[Level], list[Level]]] = {}

    def poll(self) -> None:
        for message in self._consumer.consume(1000, 0.2):
            if message.error() is not None:
                continue
            event = self._decoder.decode(message.value())
            if isinstance(event, Trade):
                self.trades.append(event)
            elif isinstance(event, BookSnapshot):
                self.books[event.symbol] = event
            else:
                self.resyncs.append(event)

    def delivered_trade_ids(self) -> set[tuple[str, int]]:
        return {(self.symbols[t.symbol], int(t.trade_id)) for t in self.trades}

    def rest_book(self, symbol: str) -> tuple[list[Level], list[Level]]:
        """The simulator's book (read once: only call when the market is quiet)."""
        if symbol not in self._rest_books:
            snapshot = self.books[symbol]
            self._rest_books[symbol] = rest_book(self._rest, self.symbols[symbol], snapshot.price_scale, snapshot.size_scale)
        return self._rest_books[symbol]

    def shortfall(self, expected: set[tuple[str, int]]) -> str:
        """What is still missing from the canonical topics ("" once every sent trade and final book is there)."""
        self.poll()
        missing = expected - self.delivered_trade_ids()
        unlike = [s for s in self.symbols if s not in self.books or (self.books[s].bids, self.books[s].asks) != self.rest_book(s)]
        if not missing and not unlike:
            return ""
        return f"{len(missing)} of {len(expected)} trades missing, by symbol {Counter(xs for xs, _ in missing)}; books differ {unlike}"

    def close(self) -> None:
        self._consumer.close()


def dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    count = record_count(bootstrap, topic)
    messages = read_until(bootstrap, topic, lambda got: len(got) >= count, timeout_s=30) if count else []
    return [TypedDecoder(DeadLetter).decode(m.value()) for m in messages]


def assert_trades_as_simulated(canonical: CanonicalTopics, expected: set[tuple[str, int]], rest: str) -> None:
    """Every sent trade delivered, once after dedupe by (symbol, trade id), with the price, size and aggressor
    side of the simulator's own record (its recent-trades tape, as mantissas at the trade's scales)."""
    by_id: dict[tuple[str, str], Trade] = {}
    for event in canonical.trades:
        first = by_id.setdefault((event.symbol, event.trade_id), event)
        assert (first.price, first.size, first.side) == (event.price, event.size, event.side), f"{first} != {event}"
    assert canonical.delivered_trade_ids() == expected
    for symbol, exchange_symbol in canonical.symbols.items():
        tape = {row["id"]: row for row in get_json(f"{rest}/api/v3/trades?symbol={exchange_symbol}&limit=1000")}
        ids = {trade_id for xs, trade_id in expected if xs == exchange_symbol}
        assert ids <= tape.keys(), f"{exchange_symbol}: the simulator's recent-trades tape no longer covers the run"
        for trade_id in ids:
            event, simulated = by_id[(symbol, str(trade_id))], tape[trade_id]
            assert event.price == parse_at_scale(simulated["price"], event.price_scale), (event, simulated)
            assert event.size == parse_at_scale(simulated["qty"], event.size_scale), (event, simulated)
            assert event.side.value == ("sell" if simulated["isBuyerMaker"] else "buy"), (event, simulated)


@pytest.mark.timeout(120)
def test_ccxt_ingestion_delivers_every_sent_trade_once_and_the_final_books(kafka_bootstrap, topic_factory) -> None:
    raw, trade, book, bbo, candle, resync, instruments, dead = (
        topic_factory(name) for name in ("raw", "trade", "book", "bbo", "candle", "resync", "instr", "dead")
    )
    # the normaliser's instrument catalog reads the partitions ref.instrument has when it starts: wait for them
    wait_until(lambda: partitions(kafka_bootstrap, instruments), 30, "the instrument topic's metadata")
    normaliser = NormaliserDaemon(
        NormaliserSettings(
            name="ccxt-test-normaliser", group=f"n-{time.time_ns()}", bootstrap_servers=kafka_bootstrap, metrics_port=-1,
            inputs=[raw], instrument_topic=instruments, deadletter_topic=dead,
            topics=NormaliserTopics(trade=trade, book=book, bbo=bbo, candle=candle, resync=resync),
        )
    )  # fmt: skip
    simulator_config = load_simulator_config({"exchanges": ["binance"], "instruments": LISTED, "rate": 300, "seed": 3})
    with DaemonThread(normaliser), SimulatorThread(simulator_config) as sim:
        rest, websocket = sim.urls["binance"].rest, sim.urls["binance"].websocket
        config = local_ccxt_config(rest, websocket)
        strays = [url for url in api_urls(ccxtpro.binance(config).urls["api"]) if not url.startswith((rest, websocket))]
        assert strays == [], f"ccxt would reach real hosts: {strays}"
        # every other listed pair: busy and quiet ones, and instruments nobody subscribes
        subscribed = dict(list(listed_symbols(rest).items())[::2])
        ingestion = CcxtIngestionDaemon(
            CcxtIngestionSettings(
                name="ccxt-test", bootstrap_servers=kafka_bootstrap, metrics_port=-1, heartbeat_interval_s=1,
                ccxt_exchange="binance", symbols=list(subscribed), book_depth=BOOK_DEPTH, trades=True, books=True,
                ccxt_config=config, raw_topic=raw, instrument_topic=instruments, deadletter_topic=dead,
            )
        )  # fmt: skip
        canonical = CanonicalTopics(kafka_bootstrap, trade, book, rest, subscribed)
        try:
            with DaemonThread(ingestion) as ingest:
                wait_until(lambda: enough_market(sent_trade_ids(sim, set(subscribed.values()))), 30, "the market to run")
                sim.quiesce()  # no order flow from here: the trades are final and the books at rest
                expected = sent_trade_ids(sim, set(subscribed.values()))
                try:
                    wait_until(lambda: not canonical.shortfall(expected), 20, "every sent trade and final book")
                except AssertionError as exc:
                    letters = Counter(letter.reason[:120] for letter in dead_letters(kafka_bootstrap, dead))
                    raise AssertionError(f"{canonical.shortfall(expected)}; dead letters {letters}") from exc
                ingest.stop()  # md.raw is complete: the normaliser reads all of it before it stops
            raw_records = record_count(kafka_bootstrap, raw)
            wait_until(lambda: normaliser.messages_in >= raw_records, 30, "the normaliser to read md.raw to its end")
            canonical.poll()
        finally:
            canonical.close()

        # (1) every trade sent to ccxt, once after dedupe by (symbol, trade id), at the simulator's exact price and size
        assert_trades_as_simulated(canonical, expected, rest)
        # (2) every subscribed symbol's last snapshot equalled the simulator's whole REST book after the quiesce
        # (the wait above), no book was ever rebuilt, and nothing unsubscribed came through
        assert set(canonical.books) == set(subscribed) and canonical.resyncs == []
        # (3) nothing was dead-lettered
        assert dead_letters(kafka_bootstrap, dead) == []


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_a_frame_the_broker_refuses_stops_ccxt_ingestion(kafka_bootstrap, topic_factory) -> None:
    """Every frame is produced with a delivery callback: one the broker refuses (its topic does not
    exist) stops the daemon with the error, for the supervisor to restart, instead of going unnoticed."""
    instruments = topic_factory("instr")
    simulator_config = load_simulator_config({"exchanges": ["binance"], "instruments": LISTED, "rate": 300, "seed": 3})
    with SimulatorThread(simulator_config) as sim:
        rest, websocket = sim.urls["binance"].rest, sim.urls["binance"].websocket
        ingestion = CcxtIngestionDaemon(
            CcxtIngestionSettings(
                name="ccxt-refused", bootstrap_servers=kafka_bootstrap, metrics_port=-1, ccxt_exchange="binance",
                symbols=list(listed_symbols(rest))[:4], ccxt_config=local_ccxt_config(rest, websocket),
                raw_topic=f"test.missing.{time.time_ns()}", instrument_topic=instruments,
                kafka=KafkaOverrides(latency_producer={"message.timeout.ms": 2_000}), shutdown_timeout_s=2,
            )
        )  # fmt: skip
        runner = DaemonThread(ingestion)
        with pytest.raises(DeliveryFailed, match="output delivery failed"), runner:
            wait_until(lambda: not runner.running, 120, "the daemon to stop on the refused frames")
