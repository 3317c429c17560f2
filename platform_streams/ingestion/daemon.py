"""The ingestion daemon: one replica's shard of an exchange's instruments, from WebSockets to ``md.raw``.

At start it loads the exchange's instrument metadata (publishing it to ``ref.instrument``
for normalisers and everyone else, and instruments published before that the exchange no
longer lists as inactive: :mod:`platform_streams.reference.listing`), plans the shards
(the same plan in every replica), and keeps its own connections open. It listens on
``ctl.resync`` for normalisers' snapshot requests about its connections. REST snapshots
go through the host's snapshot budget service (``budget_socket``) or a budget of its own.
Frames are produced unmodified. With ``normalise`` the normaliser is chained in
(:mod:`platform_streams.ingestion.chained_normaliser`): each frame's canonical events are produced
as it arrives, one broker hop sooner than a normalisation daemon reading ``md.raw`` would, and a
frame it cannot handle is dead-lettered once ``md.raw`` has acknowledged it. A delivery that fails
after the producer's retries stops the daemon (the supervisor restarts it, and the new sessions
resync every book), as does a snapshot the budget refuses outright (no retry could bring that
book back).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from functools import partial

import aiohttp
import msgspec
from confluent_kafka import Consumer, KafkaException, Message
from prometheus_client import Counter, Gauge

from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.registry import venue
from platform_streams.exchanges.venue_adapter import MarketDataFeed, UnknownVenue
from platform_streams.ingestion.chained_normaliser import ChainedNormaliser
from platform_streams.ingestion.connection import ConnectionSettings, FeedConnection
from platform_streams.ingestion.raw_partitions import raw_partition
from platform_streams.ingestion.rest_snapshots import RestSnapshotClient
from platform_streams.ingestion.shard_planner import plan_shards, shard_of
from platform_streams.ingestion.snapshot_budget_client import SnapshotBudgetClient
from platform_streams.ingestion.snapshot_budget_service import LocalSnapshotBudget, budget_socket_path
from platform_streams.kafka_clients import consumer_settings
from platform_streams.normalisation.metrics import NormaliserMetrics
from platform_streams.normalisation.normaliser import NormaliserTopics
from platform_streams.reference.listing import read_published_instruments, withdrawn_instruments
from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.runtime.output import Output
from platform_streams.schemas import EventDecodeError, SnapshotRequest, TypedDecoder
from platform_streams.schemas.raw_frames import RawFrame
from platform_streams.settings import ConfigError
from platform_streams.topics import INSTRUMENT_TOPIC, RAW_TOPIC, RESYNC_TOPIC

log = logging.getLogger(__name__)


class IngestionSettings(BaseSettings, kw_only=True):
    exchange: str
    rest_url: str = ""  # default: the exchange's real REST host
    ws_url: str = ""  # default: the exchange's real WebSocket host
    replica: int = 0
    replicas: int = 1
    symbols: list[str] = []  # normalised symbols to ingest; empty: every active instrument
    max_instruments: int = 0  # 0: no cap (else the first N symbols in order)
    channels: list[str] = []  # empty: the feed's defaults
    book_depth: int = 0  # levels a side books are subscribed (or snapshotted) at; 0: the venue's default
    streams_per_connection: int = 0  # 0: the exchange's limit
    budget_socket: str = ""  # the host's snapshot budget service (relative: under the state folder); empty: in-process
    budget_connect_timeout_s: float = 30.0  # how long a snapshot waits for an absent service before retrying
    raw_topic: str = RAW_TOPIC
    instrument_topic: str = INSTRUMENT_TOPIC
    resync_topic: str = RESYNC_TOPIC
    stall_timeout_s: float = 30.0
    reconnect_max_s: float = 30.0
    normalise: bool = False  # chain the normaliser: canonical events from here (no normaliser may read these frames)
    normaliser_topics: NormaliserTopics = msgspec.field(default_factory=NormaliserTopics)
    resync_retry_s: float = 30.0  # chained normaliser: how often a book still down asks for a snapshot again

    def __post_init__(self) -> None:
        self.feed()  # an unknown venue or a depth it does not offer fails when the deployment spec is loaded

    def feed(self) -> MarketDataFeed:
        """The venue's feed (its adapter from the registry), pointed at ``rest_url``/``ws_url`` or the real hosts."""
        try:
            return venue(self.exchange).feed(self.rest_url, self.ws_url, self.book_depth)
        except UnknownVenue as exc:
            raise ConfigError(f"{self.name}: exchange: {exc}") from None
        except ValueError as exc:
            raise ConfigError(f"{self.name}: book_depth: {exc}") from None


class IngestionDaemon(DaemonLifecycle):
    """Connections of one replica's shard, their frames into ``md.raw``."""

    failed_deliveries_only = True  # it commits nothing: only a refused frame matters

    settings: IngestionSettings

    def __init__(self, settings: IngestionSettings) -> None:
        if settings.normalise:  # a refused frame's dead letter waits for the frame's delivery report
            self.failed_deliveries_only = False  # type: ignore[misc]
        super().__init__(settings)
        if not 0 <= settings.replica < settings.replicas:
            raise ConfigError(f"{settings.name}: replica {settings.replica} is not in 0..{settings.replicas - 1}")
        self.feed: MarketDataFeed = settings.feed()
        self._budget_socket = budget_socket_path(settings.budget_socket) if settings.budget_socket else None
        self.connections: list[FeedConnection] = []
        self._raw_partitions: dict[str, int | None] = {}  # connection id → its md.raw partition
        registry = self.metrics.registry
        self._frames = Gauge(
            "platform_ingestion_frames", "Frames received per connection", ("daemon", "connection"), registry=registry
        )
        self._sessions = Gauge(
            "platform_ingestion_sessions", "Sessions opened per connection", ("daemon", "connection"), registry=registry
        )
        self._snapshots = Gauge("platform_ingestion_snapshots", "REST snapshots fetched", ("daemon",), registry=registry).labels(
            settings.name
        )
        self._rate_limited = Gauge("platform_ingestion_rate_limited", "429/418 answers", ("daemon",), registry=registry).labels(
            settings.name
        )
        self._banned = Gauge(
            "platform_ingestion_banned", "418 answers: the exchange banned this IP for a while", ("daemon",), registry=registry
        ).labels(settings.name)
        self._budget_unavailable = Gauge(
            "platform_ingestion_budget_unavailable",
            "Snapshot requests that found the host's budget service unreachable (asked again)",
            ("daemon",),
            registry=registry,
        ).labels(settings.name)
        self._resync_requests = Counter(
            "platform_ingestion_resync_requests", "Snapshot requests served", ("daemon",), registry=registry
        ).labels(settings.name)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.normaliser: ChainedNormaliser | None = None
        self._normaliser_metrics = NormaliserMetrics(settings.name, registry) if settings.normalise else None
        self._receive_to_produce_s: list[float] = []  # chained normaliser: per frame, until the next report
        self._counted = (0, 0)  # chained normaliser: frames and canonical outputs in the runtime counters so far

    # -- start-up -----------------------------------------------------------------------
    async def _load_instruments(self) -> list[Instrument]:
        """The exchange's instruments, retried until the metadata endpoint answers."""
        url = self.feed.rest_base_url + self.feed.instruments_path()
        delay = 1.0
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), trust_env=False) as session:
            while not self.stopping:
                try:
                    async with session.get(url) as response:
                        body = await response.read()
                        if response.status == 200:
                            return self.feed.parse_instruments(body)
                        reason = f"HTTP {response.status}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "instrument metadata unavailable; retrying", extra={"url": url, "reason": reason, "retry_in_s": delay}
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        return []

    def _select(self, instruments: list[Instrument]) -> list[Instrument]:
        by_symbol = {i.symbol: i for i in instruments}
        if self.settings.symbols:
            missing = [s for s in self.settings.symbols if s not in by_symbol]
            if missing:
                raise ConfigError(f"{self.settings.name}: {self.settings.exchange} has no instruments {missing[:10]}")
            chosen = [by_symbol[s] for s in self.settings.symbols]
        else:
            chosen = sorted(instruments, key=lambda i: i.symbol)
        if self.settings.max_instruments:
            chosen = chosen[: self.settings.max_instruments]
        return chosen

    async def _withdrawn(self, listed: list[Instrument]) -> list[Instrument]:
        """Instruments this exchange published as active before and no longer lists, now inactive."""
        published = await asyncio.to_thread(
            read_published_instruments, self.bootstrap_servers, self.settings.instrument_topic, self.feed.exchange
        )
        withdrawn = withdrawn_instruments(published, {i.symbol for i in listed})
        if withdrawn:
            log.info(
                "instruments no longer listed: published inactive",
                extra={
                    "exchange": self.feed.exchange,
                    "instruments": len(withdrawn),
                    "symbols": [i.symbol for i in withdrawn[:20]],
                },
            )
        return withdrawn

    async def _publish_instruments(self, instruments: list[Instrument]) -> None:
        """Publish the shard's instruments and wait for the broker's acknowledgement: metadata before
        frames, so a normaliser reading this shard's frames finds their instruments in ref.instrument."""
        for instrument in instruments:
            self.produce(Output.event(self.settings.instrument_topic, instrument))
        await self.wait_acknowledged()  # frames must not go first

    # -- the main loop ------------------------------------------------------------------------
    def run(self) -> None:
        undelivered = self.run_event_loop(self._main)
        log.info("ingestion stopped", extra={"frames": sum(c.frames for c in self.connections), "undelivered": undelivered})

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        listed = await self._load_instruments()
        instruments = self._select(listed)
        if self.stopping:
            return
        await self._publish_instruments([*instruments, *await self._withdrawn(listed)])
        if self.settings.normalise:
            self.normaliser = ChainedNormaliser(
                self.settings.normaliser_topics, int(self.settings.resync_retry_s * 1e9), instruments
            )
        budget = self._budget()
        snapshots = RestSnapshotClient(self.feed.exchange, self.feed.rest_base_url, budget)
        self.connections = self._connections(instruments, snapshots, await self._raw_partition_count())
        resync_stop = threading.Event()
        resync_thread = threading.Thread(target=self._listen_for_resyncs, args=(resync_stop,), name="resync", daemon=True)
        resync_thread.start()
        tasks = [asyncio.create_task(c.run()) for c in self.connections]
        try:
            await self.serve_until_stopped(lambda: self._report(snapshots), tick_s=0.02, check=self._check_connections)
        finally:
            self._state = "stopping"
            resync_stop.set()
            for connection in self.connections:
                connection.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await snapshots.close()
            await budget.close()
            resync_thread.join(timeout=5)

    def _connections(
        self, instruments: list[Instrument], snapshots: RestSnapshotClient, raw_partitions: int
    ) -> list[FeedConnection]:
        """This replica's share of the shard plan (every replica computes the same plan), each
        connection's frames bound for its own ``md.raw`` partition of ``raw_partitions``."""
        channels = self.settings.channels or list(self.feed.default_channels)
        limit = self.settings.streams_per_connection or self.feed.limits.streams_per_connection or 1024
        plans = shard_of(
            plan_shards(self.feed.exchange, [i.symbol for i in instruments], channels, limit, self.settings.replicas),
            self.settings.replica,
        )
        by_symbol = {i.symbol: i for i in instruments}
        connection_settings = ConnectionSettings(
            stall_timeout_s=self.settings.stall_timeout_s, reconnect_max_s=self.settings.reconnect_max_s
        )
        self._raw_partitions = {p.connection_id: raw_partition(p.exchange, p.index, raw_partitions) for p in plans}
        log.info(
            "ingestion shard",
            extra={
                "exchange": self.feed.exchange, "connections": len(plans), "instruments": sum(len(p.symbols) for p in plans),
                "raw_partitions": self._raw_partitions,
            },
        )  # fmt: skip
        return [
            FeedConnection(
                self.feed, plan.connection_id, [by_symbol[s] for s in plan.symbols], channels, self._emit, snapshots,
                connection_settings,
            )
            for plan in plans
        ]  # fmt: skip

    async def _raw_partition_count(self) -> int:
        """``md.raw``'s partitions, or 0 (the producer's partitioner chooses) if the broker does not
        know the topic: then the frames' deliveries fail and stop the daemon with the reason."""
        try:
            return await asyncio.to_thread(self.producers.partition_count, self.settings.raw_topic, 30.0)
        except KafkaException as error:
            log.warning("no partitions known for the raw topic", extra={"topic": self.settings.raw_topic, "error": str(error)})
            return 0

    def _check_connections(self) -> None:
        """A snapshot the budget refused outright can never come: stop rather than serve that book never."""
        refused = next((c.failure for c in self.connections if c.failure is not None), None)
        if refused is not None:
            raise RuntimeError(f"a book cannot get its snapshot: {refused}")

    def _budget(self) -> LocalSnapshotBudget | SnapshotBudgetClient:
        if self._budget_socket is not None:
            return SnapshotBudgetClient(self._budget_socket, self.settings.budget_connect_timeout_s)
        rest = self.feed.limits.rest_budget
        if rest is None:
            raise ConfigError(f"{self.feed.exchange}: no REST budget known; run a snapshot budget service")
        return LocalSnapshotBudget({self.feed.exchange: (rest.count, rest.window_s)})

    def _emit(self, frame: RawFrame) -> None:
        partition = self._raw_partitions.get(frame.connection_id)
        raw = Output(self.settings.raw_topic, frame.payload, frame.connection_id, frame.headers(), partition)
        self.messages_out += 1
        if self.normaliser is None:
            self.produce(raw)
            return
        outputs, refused = self.normaliser.handle(frame)
        if refused is None:
            self.produce(raw)
        else:
            self.producers.produce(raw, partial(self._dead_letter_when_delivered, refused))
        for output in outputs:
            self.produce(output)
        self.messages_out += len(outputs)
        self._receive_to_produce_s.append((time.time_ns() - frame.receive_ts_ns) / 1e9)

    def _dead_letter_when_delivered(self, refused: Exception, error: object | None, message: Message) -> None:
        """A frame the chained normaliser refused, in ``md.raw`` now: its dead letter names the record."""
        self._on_delivery(error, message)
        if error is None:
            self.produce(self.dead_letter(message, refused))

    def _report(self, snapshots: RestSnapshotClient) -> None:
        for connection in self.connections:
            self._sessions.labels(self.settings.name, connection.connection_id).set(connection.sessions)
            self._frames.labels(self.settings.name, connection.connection_id).set(connection.frames)
        self._snapshots.set(snapshots.fetched)
        self._rate_limited.set(snapshots.rate_limited)
        self._banned.set(snapshots.banned)
        self._budget_unavailable.set(snapshots.budget_unavailable)
        if self.normaliser is not None and self._normaliser_metrics is not None:
            self._report_normaliser(self.normaliser, self._normaliser_metrics)
        self.send_heartbeat([])

    def _report_normaliser(self, normaliser: ChainedNormaliser, metrics: NormaliserMetrics) -> None:
        """The chained normaliser's repeated snapshot requests and metrics; the runtime's counters
        count the frames it took in and the canonical events it made, as a normaliser's would."""
        for request in normaliser.overdue_snapshot_requests(time.time_ns()):
            self.produce(request)
        metrics.update(normaliser.normaliser)
        observed, self._receive_to_produce_s = self._receive_to_produce_s, []
        metrics.receive_to_produce.observe_many(observed)
        frames, outputs = self._counted
        self.metrics.messages_in.inc(normaliser.frames - frames)
        self.metrics.messages_out.inc(normaliser.outputs - outputs)
        self._counted = (normaliser.frames, normaliser.outputs)

    # -- resync requests ----------------------------------------------------------------------
    def _listen_for_resyncs(self, stop: threading.Event) -> None:
        """Reads ``ctl.resync`` (every replica reads all of it, from the end) and hands requests
        for our connections to the event loop."""
        ours = {c.connection_id: c for c in self.connections}
        decoder = TypedDecoder(SnapshotRequest)
        consumer = Consumer(
            consumer_settings(self.bootstrap_servers, f"{self.instance}-resync", **{"auto.offset.reset": "latest"})
        )
        try:
            consumer.subscribe([self.settings.resync_topic])
            while not stop.is_set():
                message = consumer.poll(0.5)
                if message is None or message.error() is not None:
                    continue
                try:
                    request = decoder.decode(message.value())
                except EventDecodeError as exc:
                    log.warning("undecodable snapshot request", extra={"error": str(exc)})
                    continue
                connection = ours.get(request.connection_id)
                if connection is not None and self._loop is not None:
                    self._resync_requests.inc()
                    self._loop.call_soon_threadsafe(connection.request_resync, request.exchange_symbol)
        except KafkaException as exc:
            log.error("resync listener stopped", extra={"error": str(exc)})
        finally:
            consumer.close()
