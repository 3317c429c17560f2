"""The execution daemon: one exchange account's order requests → the exchange → order events,
fills and positions. Thin glue around :class:`AccountExecutor` on the stream runtime.

``mode: paper`` fills the account's orders against the exchange's live market data instead
(:mod:`.paper_venue`): the daemon reads ``md.trade`` and ``md.bbo`` too, and nothing is sent.

One consumer group per account (requests are keyed by account, so one process handles an
account in order). The executor's I/O (the exchange through ccxt, PostgreSQL) runs on an event
loop of the daemon's own. ``handle`` hands it a batch and returns once every request in it is
recorded in PostgreSQL and its placement started: orders are pipelined (sent in order, up to
``max_orders_in_flight`` waiting for the exchange at once), never held behind the answer to the
one before. The answers, fills and positions reach the outbox as they come and ``periodic``
publishes them. A request is committed once recorded: whatever happens to it afterwards, the
store and the exchange say on the next start, when every unfinished order is reconciled first.

Orders are followed by the venue's private stream first (:mod:`.private_stream`, on the same
event loop): its reports move the orders as they come, and ``periodic`` publishes what they made
on the loop's next turn. REST polling is the fallback, chosen by :class:`.order_following.PollPlan`:
every followed order while the stream is down, all of them once after it (re)connects, and an
order the stream has said nothing about for ``stream_quiet_s``. Every event goes through the
executor's outbox, so they are published in the order they were made whichever road brought them.

Kill switches: the daemon reads ``ctl.risk`` whole (a side input, before its first request). A
request a halt covers is rejected with the halt's reason instead of being sent, and the open
orders a new halt covers are cancelled at the exchange (:mod:`.order_halts`).

Every call to the exchange asks the host's request budget first: the budget service on
``budget_socket`` (shared with ingestion and the host's other execution daemons), or, without
one, a budget inside the process at the venue's declared limits (``budget_limits`` replaces some).

Credentials come from the environment (``TRADEPLAT_<ACCOUNT>_API_KEY``, ``..._API_SECRET``,
``..._API_PASSWORD``), or the simulator's test keys with ``simulator_keys: true``; they are never
logged or published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, Literal, TypeVar

import asyncpg
import msgspec
from confluent_kafka import Message
from prometheus_client import Counter, Gauge, Histogram

from platform_streams.exchanges.limits import LimitOverride, RequestLimits
from platform_streams.exchanges.registry import VENUES
from platform_streams.exchanges.user_stream import StreamReport, UserStreamSettings
from platform_streams.execution.ccxt_order_entry import CcxtOrderEntry, OrderEntryError, RateLimited, RequestBudget
from platform_streams.execution.executor import DEFAULT_MAX_IN_FLIGHT, AccountExecutor, ExecutionEvent, OrderEntry
from platform_streams.execution.order_following import PollPlan
from platform_streams.execution.order_halts import OrderHalts
from platform_streams.execution.order_lifecycle import OrderUpdate
from platform_streams.execution.order_store import OrderStore
from platform_streams.execution.paper_venue import PaperOrderEntry, PaperVenue
from platform_streams.execution.private_stream import PrivateStream
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient
from platform_streams.ingestion.snapshot_budget_service import LocalSnapshotBudget, budget_socket_path
from platform_streams.kafka_clients import ConsumerProfile
from platform_streams.runtime import DaemonSettings, Output, StreamDaemon
from platform_streams.runtime.side_inputs import SideInput
from platform_streams.schemas import (
    BestBidOffer,
    CancelRequest,
    EventDecodeError,
    Fill,
    Hop,
    OrderEvent,
    OrderRequest,
    Position,
    RiskControl,
    Trade,
    TypedDecoder,
)
from platform_streams.schemas.hop_trace import FEED_STAGE
from platform_streams.settings import ConfigError
from platform_streams.topics import (
    BBO_TOPIC,
    FILL_TOPIC,
    ORDER_EVENT_TOPIC,
    ORDER_REQUEST_TOPIC,
    POSITION_TOPIC,
    RISK_CONTROL_TOPIC,
    TRADE_TOPIC,
)

T = TypeVar("T")

EXECUTION_STAGE = "execution"

log = logging.getLogger(__name__)

LATENCY_BUCKETS = tuple(b / 1000 for b in (0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 250, 500, 1000, 2500, 5000))

_DATABASE_AWAY = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)
_EXCHANGE_OR_DATABASE_AWAY = (OrderEntryError, *_DATABASE_AWAY)  # waited out and retried, never dead-lettered

_CREDENTIAL_SUFFIXES = {"apiKey": "API_KEY", "secret": "API_SECRET", "password": "API_PASSWORD"}


class StopRequested(BaseException):
    """The daemon was stopped while a batch waited for the exchange or the database. Not an
    ``Exception``, so the runtime does not dead-letter the batch: it leaves uncommitted, and the
    next process handles it again (reconciling whatever went through)."""


class ExecutionTopics(msgspec.Struct, frozen=True, kw_only=True):
    order_events: str = ORDER_EVENT_TOPIC
    fills: str = FILL_TOPIC
    positions: str = POSITION_TOPIC
    controls: str = RISK_CONTROL_TOPIC  # the kill switches (read, not written)


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
    ws_url: str = ""  # the private stream's WebSocket base URL; empty: rest_url's host (the simulator), else the real venue
    simulator_keys: bool = False
    database_url: str = ""
    private_stream: bool = True  # follow orders by the venue's private stream (REST polling as the fallback)
    poll_interval_s: float = 1.0  # REST polling of every followed order while the stream is down (or off)
    stream_quiet_s: float = 10.0  # while it is up: REST asks about an order the stream said nothing of for this long
    stream_reconnect_s: float = 1.0  # first wait before reconnecting a lost stream (doubling to 30 s)
    budget_socket: str = ""  # the host's request budget service (relative: under the state folder); empty: in-process
    budget_connect_timeout_s: float = 30.0  # how long a call waits for an absent service before the daemon retries
    budget_limits: dict[str, LimitOverride] = msgspec.field(default_factory=dict)  # in-process: limit name → replacement
    max_orders_in_flight: int = DEFAULT_MAX_IN_FLIGHT  # calls to the exchange outstanding at once (orders are pipelined)
    drain_timeout_s: float = 10.0  # at stop, how long orders in flight may take to be answered (the rest: reconciled at start)
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
        if self.rest_url and not self.ws_url:  # the simulator serves both on one host; never the real venue's stream
            self.ws_url = "ws" + self.rest_url.removeprefix("http")
        if self.max_orders_in_flight < 1:
            raise ConfigError(f"max_orders_in_flight: must be at least 1, not {self.max_orders_in_flight!r}")
        for field in ("poll_interval_s", "stream_quiet_s", "stream_reconnect_s"):
            if getattr(self, field) <= 0:
                raise ConfigError(f"{field}: must be positive, not {getattr(self, field)!r}")
        if self.budget_socket:
            budget_socket_path(self.budget_socket)
        self.request_limits()

    def request_limits(self) -> RequestLimits:
        """The in-process budget's limits: the venue's declared ones, ``budget_limits`` replacing some."""
        try:
            return VENUES[self.exchange].limits.request_limits().replaced(self.budget_limits)
        except ValueError as exc:
            raise ConfigError(f"budget_limits: {exc}") from None

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
        if self._paper is not None:  # reading busy market data: a fetch waits ≤ 1 ms for ~10 events, not one each
            self.consumer_profile = ConsumerProfile.TICK  # type: ignore[misc]
        self._key_prefix = f"{settings.exchange}:".encode()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="execution-io", daemon=True)
        self._executor: AccountExecutor | None = None
        self._outbox: deque[ExecutionEvent] = deque()  # every event the executor made, in order (thread-safe ends)
        self._plan = PollPlan(settings.poll_interval_s, settings.stream_quiet_s)
        self._stream_task: asyncio.Task[None] | None = None
        self._paused_until = 0.0
        self._halts = OrderHalts()
        self._halt_cancels_due = False
        registry, name = self.metrics.registry, settings.name
        self._stream_connected = Gauge(
            "platform_execution_private_stream_connected", "1 while the venue's private stream is subscribed",
            ("daemon",), registry=registry,
        ).labels(name)  # fmt: skip
        self._stream_reconnects = Counter(
            "platform_execution_private_stream_reconnects_total", "Times the private stream was subscribed again after a loss",
            ("daemon",), registry=registry,
        ).labels(name)  # fmt: skip
        self._updates = Counter(
            "platform_execution_order_updates_total", "Order reports taken in, by the road they came by (stream|rest)",
            ("daemon", "source"), registry=registry,
        )  # fmt: skip
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
        self._platform = Histogram(
            "platform_execution_platform_seconds", "Tick to sent minus the time the order's causal chain waited in the broker",
            ("daemon",), buckets=LATENCY_BUCKETS, registry=registry,
        ).labels(name)  # fmt: skip
        self._budget_wait = Histogram(
            "platform_execution_budget_wait_seconds", "Time a call to the exchange waited for the request budget's grant",
            ("daemon", "kind"), buckets=LATENCY_BUCKETS + (10.0, 30.0), registry=registry,
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
            return self._executor_of(PaperOrderEntry(self._paper), store)
        spec = VENUES[settings.exchange].execution
        assert spec is not None
        budget: RequestBudget = (
            SnapshotBudgetClient(budget_socket_path(settings.budget_socket), settings.budget_connect_timeout_s)
            if settings.budget_socket
            else LocalSnapshotBudget({settings.exchange: settings.request_limits()})
        )
        entry = CcxtOrderEntry.for_venue(
            settings.exchange, settings.account, spec, settings.rest_url, settings.credentials(), budget=budget,
            on_budget_wait=lambda kind, seconds: self._budget_wait.labels(settings.name, kind).observe(seconds),
        )  # fmt: skip
        return self._executor_of(entry, store)

    def _executor_of(self, entry: OrderEntry, store: OrderStore) -> AccountExecutor:
        return AccountExecutor(
            entry, store, on_sent=self._trace, outbox=self._outbox, gate=self._halts.refusal,
            max_in_flight=self.settings.max_orders_in_flight, on_trouble=self.record_error,
            transient_errors=_EXCHANGE_OR_DATABASE_AWAY,
        )  # fmt: skip

    def _private_stream(self) -> PrivateStream | None:
        """The venue's private stream for the account (live mode, where the venue has one and it is on)."""
        settings = self.settings
        spec = VENUES[settings.exchange].execution
        if self._paper is not None or not settings.private_stream or spec is None or spec.user_stream is None:
            return None
        entry = self._executor.entry if self._executor is not None else None
        venue = spec.user_stream(
            UserStreamSettings(
                rest_url=settings.rest_url, ws_url=settings.ws_url, credentials=settings.credentials(),
                signed_call=entry.signed_call if isinstance(entry, CcxtOrderEntry) else None,
            )
        )  # fmt: skip
        return PrivateStream(venue, self._on_stream_reports, self._on_stream_state, settings.stream_reconnect_s)

    async def _on_stream_reports(self, reports: Sequence[StreamReport], receive_ts_ns: int) -> None:
        assert self._executor is not None
        self._updates.labels(self.settings.name, "stream").inc(len(reports))
        try:
            await self._executor.apply_stream(reports, receive_ts_ns)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as failure:
            self.record_error("database", failure)  # the orders stay followed: REST asks about them once quiet
            return
        now = time.monotonic()
        for report in reports:
            self._plan.heard(report.client_order_id, now)

    def _on_stream_state(self, connected: bool) -> None:
        reconnects = self._plan.reconnects
        if connected:
            assert self._executor is not None
            self._plan.stream_connected(self._executor.followed())
        else:
            self._plan.stream_lost()
        self._stream_connected.set(1 if connected else 0)
        self._stream_reconnects.inc(self._plan.reconnects - reconnects)
        log.info("private stream " + ("subscribed" if connected else "lost"), extra={"daemon": self.settings.name})

    async def _poll_due(self) -> None:
        """REST for the orders the plan names now (events land in the outbox)."""
        assert self._executor is not None
        due = self._plan.due(self._executor.followed(), time.monotonic())
        if due:
            self._updates.labels(self.settings.name, "rest").inc(len(due))
            await self._executor.poll(due, wait=False)  # the answers reach the outbox as they come

    async def _start_stream(self, stream: PrivateStream) -> None:
        self._stream_task = asyncio.ensure_future(stream.run())

    async def _close(self) -> None:
        if self._stream_task is not None:
            self._stream_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stream_task
        if self._executor is not None:
            if not await self._executor.drain(self.settings.drain_timeout_s):
                log.warning("orders still waiting for the exchange at stop: reconciled on the next start",
                            extra={"daemon": self.settings.name})  # fmt: skip
            await self._executor.entry.close()  # type: ignore[attr-defined]
            budget = getattr(self._executor.entry, "budget", None)
            if budget is not None:
                await budget.close()
            await self._executor.store.close()

    def run(self) -> None:
        self._loop_thread.start()
        try:
            self._executor = self._io(self._open())
            self._io(self._executor.reconcile_all())
            self._publish_made()
            stream = self._private_stream()
            if stream is not None:
                self._io(self._start_stream(stream))
            super().run()
        finally:
            self._io(self._close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(timeout=10)

    # -- the stage ------------------------------------------------------------------------------
    def side_inputs(self) -> Sequence[SideInput]:
        return [SideInput(self.settings.topics.controls, TypedDecoder(RiskControl).decode)]

    def on_side_input(self, topic: str, records: list[Any]) -> None:
        if self._halts.apply(records):
            self._halt_cancels_due = True  # done in ``periodic``, on the executor's loop

    def handle(self, batch: Sequence[Message]) -> Iterable[Output]:
        assert self._executor is not None
        executor = self._executor
        requests: list[OrderRequest | CancelRequest] = []
        outputs: list[Output] = []
        market_moved = False
        consumed_ns = time.time_ns()
        for message in batch:
            try:
                if message.topic() not in self._market_topics:
                    requests.append(_consumed(self._decoder.decode(message.value()), consumed_ns))
                    continue
                if requests:  # the batch's order: requests before this market event are placed first
                    self._submit(executor, requests)
                    requests = []
                market_moved |= self._on_market(message)
            except EventDecodeError as error:
                outputs.append(self.dead_letter(message, error))
        if requests:
            self._submit(executor, requests)
        if market_moved:  # paper orders filled by the market: follow them now, not at the next poll
            self._io(executor.poll())
        return outputs + self._made()

    def _made(self) -> list[Output]:
        """What the executor made since last asked, by whichever road, in the order it was made."""
        outbox, outputs = self._outbox, []
        while outbox:
            outputs.append(self._output(outbox.popleft()))
        return outputs

    def _publish_made(self) -> None:
        """Publish what the executor made outside a batch (answers of pipelined orders, the stream's
        reports): counted as the daemon's output, and a refused delivery stops the daemon loudly (the
        next process republishes the orders' states from the store)."""
        self.raise_on_delivery_failure()
        outputs = self._made()
        for output in outputs:
            self.produce(output)
        self.messages_out += len(outputs)
        self.metrics.messages_out.inc(len(outputs))

    def _on_market(self, message: Message) -> bool:
        """Feed the paper venue one market event of its exchange; whether it filled an order."""
        assert self._paper is not None
        key = message.key()
        if key is None or not key.startswith(self._key_prefix):
            return False
        event = self._market_decoder.decode(message.value())
        touched = self._paper.on_trade(event) if isinstance(event, Trade) else self._paper.on_quote(event)
        return bool(touched)

    def _submit(self, executor: AccountExecutor, requests: list[OrderRequest | CancelRequest]) -> None:
        """Hand the requests to the executor: each recorded, then started without waiting for the
        exchange's answer (which reaches the outbox, published by ``periodic``; the executor waits
        out rate refusals and outages itself). Returns once every request is recorded, so its offset
        may be committed; a database that cannot be reached is retried with backoff (a retry
        reconciles what went through, so nothing is sent twice), the daemon ``blocked`` meanwhile."""
        backoff = 1.0
        while True:
            try:
                self._io(executor.dispatch(requests))
                return
            except _DATABASE_AWAY as failure:
                wait, backoff = backoff, min(backoff * 2, 30.0)
                self.record_error("database", failure)
            if self.stopping:
                raise StopRequested("stopped while the database was away")
            self._state = "blocked"
            self._wait_blocked(wait)
            self._state = "running"

    def periodic(self) -> None:
        """Publish what the executor made since (answers, the private stream's reports); withdraw
        what a new halt covers; then start REST queries for the orders the poll plan names."""
        self._publish_made()
        executor, now = self._executor, time.monotonic()
        if self._halt_cancels_due and now >= self._paused_until and executor is not None:
            self._cancel_halted(now)
        if executor is None or now < self._paused_until or not (executor.open_orders or executor.awaiting_fills):
            return
        try:
            self._io(self._poll_due())
        except RateLimited as limited:
            self._paused_until = now + limited.retry_after_s
            self.record_error("rate_limited", limited)
        except _EXCHANGE_OR_DATABASE_AWAY as failure:
            self.record_error("exchange" if isinstance(failure, OrderEntryError) else "database", failure)
        self._publish_made()

    def _cancel_halted(self, now: float) -> None:
        """Withdraw the open orders a halt covers; retried at the next turn if the exchange refuses."""
        assert self._executor is not None
        try:
            self._io(self._executor.cancel_where(self._halts.halts))
        except RateLimited as limited:
            self._paused_until = now + limited.retry_after_s
            self.record_error("rate_limited", limited)
            return
        except (OrderEntryError, OSError) as failure:
            self._paused_until = now + self.settings.poll_interval_s
            self.record_error("exchange", failure)
            return
        self._halt_cancels_due = False
        self._publish_made()  # the cancels' events went to the outbox

    def _trace(self, request: OrderRequest, sent_ns: int, answer: OrderUpdate) -> None:
        """An order's latency trace into the histograms (the orders table keeps it per order): each
        stage's time, the waits between stages (the broker), and the rest of tick-to-sent (platform)."""
        if answer.receive_ts_ns:
            self._acknowledged.observe((answer.receive_ts_ns - sent_ns) / 1e9)
        if not request.market_receive_ts_ns:
            return
        previous_out, broker_ns = request.market_receive_ts_ns, 0
        for hop in request.hops:
            if hop.stage == FEED_STAGE:
                continue  # the exchange's clock, not the platform's: no stage of ours, no broker wait
            out_ns = sent_ns if hop.stage == EXECUTION_STAGE else hop.out_ts_ns  # execution's hop ends when sent
            self._stage.labels(self.settings.name, hop.stage).observe((out_ns - hop.in_ts_ns) / 1e9)
            wait_ns = max(0, hop.in_ts_ns - previous_out)
            self._broker_wait.observe(wait_ns / 1e9)
            broker_ns += wait_ns
            previous_out = out_ns
        self._tick_to_sent.observe((sent_ns - request.market_receive_ts_ns) / 1e9)
        self._platform.observe(max(0, sent_ns - request.market_receive_ts_ns - broker_ns) / 1e9)

    def _output(self, event: ExecutionEvent) -> Output:
        topics = self.settings.topics
        topic = (
            topics.order_events if isinstance(event, OrderEvent)
            else topics.fills if isinstance(event, Fill)
            else topics.positions if isinstance(event, Position)
            else ""
        )  # fmt: skip
        return Output.event(topic, event)


def _consumed(request: OrderRequest | CancelRequest, consumed_ns: int) -> OrderRequest | CancelRequest:
    """An order request with execution's hop begun: read at ``consumed_ns``; it ends when the order
    is handed to the exchange (``orders.sent_ts_ns``), so the stored trace runs to the exchange."""
    if isinstance(request, CancelRequest):
        return request
    return msgspec.structs.replace(request, hops=[*request.hops, Hop(EXECUTION_STAGE, consumed_ns, consumed_ns)])
