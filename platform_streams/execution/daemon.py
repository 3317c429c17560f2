"""The execution daemon: one exchange account's order requests → the exchange → order events,
fills and positions. Thin glue around :class:`AccountExecutor` on the stream runtime.

``mode: paper`` fills the account's orders against the exchange's live market data instead
(:mod:`.paper_venue`): the daemon reads ``md.trade`` and ``md.bbo`` too, and nothing is sent.

One consumer group per account (requests are keyed by account, so one process handles an
account in order). The executor's I/O (the exchange through ccxt, PostgreSQL) runs on an event
loop of the daemon's own; ``handle`` hands it a batch and returns what came back, so the runtime
commits a request only once its order event is acknowledged. Between batches ``periodic``
follows the open orders (REST polling). On start every unfinished order is reconciled first.

Credentials come from the environment (``TRADEPLAT_<ACCOUNT>_API_KEY``, ``..._API_SECRET``,
``..._API_PASSWORD``), or the simulator's test keys with ``simulator_keys: true``; they are never
logged or published.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, Literal, TypeVar

import asyncpg
import msgspec
from confluent_kafka import Message
from prometheus_client import Histogram

from platform_streams.exchanges.registry import VENUES
from platform_streams.execution.ccxt_order_entry import CcxtOrderEntry, OrderEntryError, RateLimited
from platform_streams.execution.executor import AccountExecutor, ExecutionEvent
from platform_streams.execution.order_lifecycle import OrderUpdate
from platform_streams.execution.order_store import OrderStore
from platform_streams.execution.paper_venue import PaperOrderEntry, PaperVenue
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.schemas import (
    BestBidOffer,
    CancelRequest,
    EventDecodeError,
    Fill,
    OrderEvent,
    OrderRequest,
    Position,
    Trade,
    TypedDecoder,
)
from platform_streams.settings import ConfigError
from platform_streams.topics import BBO_TOPIC, FILL_TOPIC, ORDER_EVENT_TOPIC, ORDER_REQUEST_TOPIC, POSITION_TOPIC, TRADE_TOPIC

T = TypeVar("T")

LATENCY_BUCKETS = tuple(b / 1000 for b in (0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 250, 500, 1000, 2500, 5000))

_CREDENTIAL_SUFFIXES = {"apiKey": "API_KEY", "secret": "API_SECRET", "password": "API_PASSWORD"}


class StopRequested(BaseException):
    """The daemon was stopped while a batch waited for the exchange or the database. Not an
    ``Exception``, so the runtime does not dead-letter the batch: it leaves uncommitted, and the
    next process handles it again (reconciling whatever went through)."""


class ExecutionTopics(msgspec.Struct, frozen=True, kw_only=True):
    order_events: str = ORDER_EVENT_TOPIC
    fills: str = FILL_TOPIC
    positions: str = POSITION_TOPIC


class PaperSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Paper mode: orders filled against the exchange's live market data, never sent."""

    maker_fee_bps: int = 10
    taker_fee_bps: int = 10
    trade_topic: str = TRADE_TOPIC
    bbo_topic: str = BBO_TOPIC


class ExecutionSettings(DaemonSettings, kw_only=True):
    inputs: list[str] = msgspec.field(default_factory=lambda: [ORDER_REQUEST_TOPIC])
    account: str
    exchange: str
    mode: Literal["live", "paper"] = "live"
    paper: PaperSettings = msgspec.field(default_factory=PaperSettings)
    rest_url: str = ""  # the simulator's REST base URL; empty: the real venue
    simulator_keys: bool = False
    database_url: str = ""
    poll_interval_s: float = 1.0
    topics: ExecutionTopics = msgspec.field(default_factory=ExecutionTopics)

    def __post_init__(self) -> None:
        if self.mode == "paper":
            for topic in (self.paper.trade_topic, self.paper.bbo_topic):
                if topic not in self.inputs:
                    self.inputs.append(topic)  # the market data paper orders fill against
            if self.exchange not in VENUES:
                raise ConfigError(f"exchange: no venue {self.exchange!r}; known: {', '.join(sorted(VENUES))}")
            return
        venue = VENUES.get(self.exchange)
        if venue is None or venue.execution is None:
            trading = sorted(name for name, adapter in VENUES.items() if adapter.execution is not None)
            raise ConfigError(f"exchange: {self.exchange!r} has no order entry; venues that trade: {', '.join(trading)}")
        if self.poll_interval_s <= 0:
            raise ConfigError("poll_interval_s: must be positive")

    def resolved_database_url(self) -> str:
        url = self.database_url or os.environ.get("DATABASE_URL", "")
        if not url:
            raise ConfigError(f"{self.name}: no database (set database_url or DATABASE_URL)")
        return url

    def credentials(self) -> dict[str, str]:
        """The account's keys: the simulator's test keys, or ``TRADEPLAT_<ACCOUNT>_...`` from the environment."""
        spec = VENUES[self.exchange].execution
        assert spec is not None
        if self.simulator_keys:
            return _simulator_credentials(spec.ccxt_id)
        prefix = "TRADEPLAT_" + "".join(c if c.isalnum() else "_" for c in self.account).upper() + "_"
        missing = [
            prefix + _CREDENTIAL_SUFFIXES[key]
            for key in spec.credentials
            if not os.environ.get(prefix + _CREDENTIAL_SUFFIXES[key])
        ]
        if missing:
            raise ConfigError(f"{self.name}: account {self.account!r} needs {', '.join(missing)} in the environment")
        return {key: os.environ[prefix + _CREDENTIAL_SUFFIXES[key]] for key in spec.credentials}


def _simulator_credentials(ccxt_id: str) -> dict[str, str]:
    """The simulator's public test keys, as each venue's client takes them (never a real account's)."""
    from platform_streams.simulator import DEFAULT_API_KEY, DEFAULT_API_PASSPHRASE, DEFAULT_API_SECRET
    from platform_streams.simulator.kraken.auth import client_secret

    if ccxt_id == "okx":
        return {"apiKey": DEFAULT_API_KEY, "secret": DEFAULT_API_SECRET, "password": DEFAULT_API_PASSPHRASE}
    if ccxt_id == "kraken":
        return {"apiKey": DEFAULT_API_KEY, "secret": client_secret(DEFAULT_API_SECRET)}
    return {"apiKey": DEFAULT_API_KEY, "secret": DEFAULT_API_SECRET}


class ExecutionDaemon(StreamDaemon):
    """Executes one account's order requests at one exchange and follows its orders."""

    settings: ExecutionSettings

    def __init__(self, settings: ExecutionSettings) -> None:
        super().__init__(settings)
        self._decoder = TypedDecoder(OrderRequest, CancelRequest)
        self._market_decoder = TypedDecoder(Trade, BestBidOffer)
        self._paper = None
        if settings.mode == "paper":
            self._paper = PaperVenue(
                settings.exchange, settings.account, settings.paper.maker_fee_bps, settings.paper.taker_fee_bps
            )
        self._market_topics = {settings.paper.trade_topic, settings.paper.bbo_topic} if self._paper else set()
        self._key_prefix = f"{settings.exchange}:".encode()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="execution-io", daemon=True)
        self._executor: AccountExecutor | None = None
        self._next_poll = 0.0
        self._paused_until = 0.0
        registry, name = self.metrics.registry, settings.name
        self._tick_to_sent = Histogram(
            "platform_execution_tick_to_sent_seconds", "From the market event's receipt to the order handed to the exchange",
            ("daemon",), buckets=LATENCY_BUCKETS, registry=registry,
        ).labels(name)  # fmt: skip
        self._acknowledged = Histogram(
            "platform_execution_ack_seconds", "From the order handed to the exchange to its answer", ("daemon",),
            buckets=LATENCY_BUCKETS, registry=registry,
        ).labels(name)  # fmt: skip
        self._stage = Histogram(
            "platform_execution_stage_seconds", "Time each stage of an order's causal chain took (its hops)",
            ("daemon", "stage"), buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self._broker_wait = Histogram(
            "platform_execution_broker_wait_seconds", "Time an order's causal chain spent between stages (in the broker)",
            ("daemon",), buckets=LATENCY_BUCKETS, registry=registry,
        ).labels(name)  # fmt: skip

    # -- the executor's event loop --------------------------------------------------------------
    def _io(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _open(self) -> AccountExecutor:
        settings = self.settings
        store = await OrderStore.connect(settings.resolved_database_url())
        if self._paper is not None:
            return AccountExecutor(PaperOrderEntry(self._paper), store, on_sent=self._trace)
        spec = VENUES[settings.exchange].execution
        assert spec is not None
        entry = CcxtOrderEntry.for_venue(settings.exchange, settings.account, spec, settings.rest_url, settings.credentials())
        return AccountExecutor(entry, store, on_sent=self._trace)

    async def _close(self) -> None:
        if self._executor is not None:
            await self._executor.entry.close()  # type: ignore[attr-defined]
            await self._executor.store.close()

    def run(self) -> None:
        self._loop_thread.start()
        try:
            self._executor = self._io(self._open())
            for event in self._io(self._executor.reconcile_all()):
                self.produce(self._output(event))
            super().run()
        finally:
            self._io(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=10)

    # -- the stage ------------------------------------------------------------------------------
    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        assert self._executor is not None
        executor = self._executor
        requests: list[OrderRequest | CancelRequest] = []
        outputs: list[Output] = []
        market_moved = False
        for message in batch:
            try:
                if message.topic() not in self._market_topics:
                    requests.append(self._decoder.decode(message.value()))
                    continue
                if requests:  # the batch's order: requests before this market event are placed first
                    outputs.extend(self._output(event) for event in self._submit(executor, requests))
                    requests = []
                market_moved |= self._on_market(message)
            except EventDecodeError as error:
                outputs.append(self.dead_letter(message, error))
        if requests:
            outputs.extend(self._output(event) for event in self._submit(executor, requests))
        if market_moved:  # paper orders filled by the market: follow them now, not at the next poll
            outputs.extend(self._output(event) for event in self._io(executor.poll()))
        return outputs

    def _on_market(self, message: Message) -> bool:
        """Feed the paper venue one market event of its exchange; whether it filled an order."""
        assert self._paper is not None
        key = message.key()
        if key is None or not key.startswith(self._key_prefix):
            return False
        event = self._market_decoder.decode(message.value())
        touched = self._paper.on_trade(event) if isinstance(event, Trade) else self._paper.on_quote(event)
        return bool(touched)

    def _submit(self, executor: AccountExecutor, requests: list[OrderRequest | CancelRequest]) -> list[ExecutionEvent]:
        """Submit until the exchange and the database answer: a rate refusal waits as long as the
        exchange asks; an exchange or database that cannot be reached is retried with backoff (a
        retry reconciles what went through, so nothing is sent twice). Meanwhile the daemon is
        ``blocked`` in its heartbeats."""
        backoff = 1.0
        while True:
            try:
                return self._io(executor.submit(requests))
            except RateLimited as limited:
                wait = limited.retry_after_s
                self.record_error("rate_limited", limited)
            except (OrderEntryError, OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as failure:
                wait, backoff = backoff, min(backoff * 2, 30.0)
                self.record_error("exchange" if isinstance(failure, OrderEntryError) else "database", failure)
            if self.stopping:
                raise StopRequested("stopped while the exchange was refusing or away")
            self._state = "blocked"
            self._wait_blocked(wait)
            self._state = "running"

    def periodic(self) -> None:
        now = time.monotonic()
        if now < self._next_poll or now < self._paused_until or self._executor is None or not self._executor.open_orders:
            return
        self._next_poll = now + self.settings.poll_interval_s
        try:
            events = self._io(self._executor.poll())
        except RateLimited as limited:
            self._paused_until = now + limited.retry_after_s
            self.record_error("rate_limited", limited)
            return
        for event in events:
            self.produce(self._output(event))

    def _trace(self, request: OrderRequest, sent_ns: int, answer: OrderUpdate) -> None:
        """An order's latency trace into the histograms (the orders table keeps it per order)."""
        if request.market_receive_ts_ns:
            self._tick_to_sent.observe((sent_ns - request.market_receive_ts_ns) / 1e9)
        if answer.receive_ts_ns:
            self._acknowledged.observe((answer.receive_ts_ns - sent_ns) / 1e9)
        previous_out = request.market_receive_ts_ns
        for hop in request.hops:
            self._stage.labels(self.settings.name, hop.stage).observe((hop.out_ts_ns - hop.in_ts_ns) / 1e9)
            if previous_out:
                self._broker_wait.observe(max(0, hop.in_ts_ns - previous_out) / 1e9)
            previous_out = hop.out_ts_ns
        if previous_out:
            self._broker_wait.observe(max(0, sent_ns - previous_out) / 1e9)  # the request's own hop into execution

    def _output(self, event: ExecutionEvent) -> Output:
        topics = self.settings.topics
        topic = (
            topics.order_events if isinstance(event, OrderEvent)
            else topics.fills if isinstance(event, Fill)
            else topics.positions if isinstance(event, Position)
            else ""
        )  # fmt: skip
        return Output.event(topic, event)
