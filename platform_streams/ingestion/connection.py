"""One exchange WebSocket connection of an ingestion daemon, kept alive for as long as it runs.

Session life cycle: connect → ``connected`` control record → subscribe (paced within the
exchange's message limit) → REST snapshots through the budget where the exchange needs
them → frames into ``md.raw`` unmodified, each with a receive time and the next
sequence number. A close, an error or ``stall_timeout_s`` without a frame ends the
session with a ``disconnected`` record (books of its symbols must be rebuilt) and a
reconnect after a jittered exponential backoff, with everything resubscribed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection, connect

from platform_streams.exchanges.instruments import Instrument
from platform_streams.exchanges.venue_adapter import MarketDataFeed
from platform_streams.ingestion.rest_snapshots import RestSnapshotClient, SnapshotUnavailable
from platform_streams.ingestion.snapshot_budget import WeightBudget
from platform_streams.ingestion.snapshot_budget_service import SnapshotBudgetError
from platform_streams.schemas.raw_frames import ConnectionEvent, FrameKind, RawFrame

log = logging.getLogger(__name__)

RESYNC_PRIORITY = 0  # a book that was live and broke
INITIAL_PRIORITY = 1  # a book starting with its session


class ConnectionSettings(msgspec.Struct, frozen=True):
    stall_timeout_s: float = 30.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    open_timeout_s: float = 10.0
    message_rate_safety: float = 0.6  # share of the exchange's incoming-message limit we use
    resync_coalesce_s: float = 0.1  # book resubscriptions asked for within this window share messages


class MessagePacer:
    """Spends a connection's message allowance (``count`` per ``window_s``) as a token bucket:
    a small burst at once, the rest at the allowed rate, never above ``safety`` of the limit."""

    def __init__(self, count: int, window_s: float, safety: float) -> None:
        self._budget = WeightBudget(count, window_s, time.monotonic(), safety=safety, burst=min(0.2, safety / 2))

    async def acquire(self) -> None:
        self._budget.request("message", 1, 0)
        while not self._budget.grants(time.monotonic()):
            await asyncio.sleep(max(0.001, (self._budget.next_grant_at(time.monotonic()) or 0) - time.monotonic()))


class FeedConnection:
    """Keeps one planned connection open and its frames flowing to ``emit``."""

    def __init__(
        self,
        feed: MarketDataFeed,
        connection_id: str,
        instruments: Sequence[Instrument],
        channels: Sequence[str],
        emit: Callable[[RawFrame], None],
        snapshots: RestSnapshotClient | None,
        settings: ConnectionSettings | None = None,
    ) -> None:
        self.feed = feed
        self.connection_id = connection_id
        self.instruments = list(instruments)
        self._by_exchange_symbol = {i.exchange_symbol: i for i in self.instruments}
        self.channels = list(channels)
        self._emit = emit
        self._snapshots = snapshots
        self.settings = settings = settings or ConnectionSettings()
        self._sequence = time.time_ns() // 1000  # grows across restarts faster than any connection's frame rate
        self._request_id = 1
        self._ws: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._last_frame = time.monotonic()
        self._stopping = asyncio.Event()
        self.sessions = 0
        self.frames = 0
        self._snapshots_in_flight: set[str] = set()
        self._resubscribe_pending: dict[str, Instrument] = {}
        self._resubscriber: asyncio.Task[None] | None = None
        self.failure: SnapshotBudgetError | None = None  # the budget refused a snapshot: the daemon must stop
        limit = feed.limits.subscribe_messages
        self._pacer = MessagePacer(limit.count, limit.window_s, settings.message_rate_safety) if limit else None

    # -- records ---------------------------------------------------------------------
    def _next_sequence(self) -> int:
        self._sequence += 1
        return self._sequence

    def _record(self, kind: FrameKind, payload: bytes, received_ns: int, path: str = "") -> None:
        self._emit(RawFrame(self.feed.exchange, self.connection_id, self._next_sequence(), received_ns, kind, payload, path))

    def _control(self, event: str, reason: str = "") -> None:
        symbols = [i.exchange_symbol for i in self.instruments]
        self._record(FrameKind.CONTROL, msgspec.json.encode(ConnectionEvent(event, symbols, reason)), time.time_ns())

    # -- the session loop ------------------------------------------------------------------
    async def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            reason = "closed by the exchange"
            started = time.monotonic()
            try:
                url = self.feed.ws_base_url + self.feed.connection_path()
                async with connect(
                    url, open_timeout=self.settings.open_timeout_s, max_size=None, compression=None, proxy=None,
                    ping_interval=20, ping_timeout=20, max_queue=4096,
                ) as ws:  # fmt: skip
                    self._ws = ws
                    if self._stopping.is_set():  # stop() came while connecting: it had no socket to close
                        return
                    self.sessions += 1
                    self._control("connected")
                    await self._session(ws)
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                self._ws = None
            if self.sessions:
                self._control("disconnected", reason)
            if self._stopping.is_set():
                return
            failures = 0 if time.monotonic() - started > 60 else failures + 1
            delay = min(self.settings.reconnect_max_s, self.settings.reconnect_initial_s * 2 ** min(failures, 10))
            delay *= random.uniform(0.5, 1.0)
            log.warning(
                "connection lost; reconnecting",
                extra={"connection": self.connection_id, "reason": reason, "retry_in_s": round(delay, 2)},
            )
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            except TimeoutError:
                continue

    async def _session(self, ws: ClientConnection) -> None:
        tasks = [asyncio.create_task(self._subscribe_then_snapshot()), asyncio.create_task(self._watch_stall(ws))]
        if self.feed.keepalive_message() is not None:
            tasks.append(asyncio.create_task(self._keepalive()))
        try:
            self._last_frame = time.monotonic()
            while True:
                frame = await ws.recv(decode=False)
                received = time.time_ns()
                self._last_frame = time.monotonic()
                self.frames += 1
                self._record(FrameKind.WEBSOCKET, frame, received)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _send(self, message: bytes) -> None:
        """Send within the exchange's incoming-message limit for this connection."""
        async with self._send_lock:
            if self._pacer is not None:
                await self._pacer.acquire()
            ws = self._ws
            if ws is None:
                return
            await ws.send(message.decode())

    async def _subscribe_then_snapshot(self) -> None:
        messages = self.feed.subscribe_messages(self.instruments, self.channels, self._request_id)
        self._request_id += len(messages)
        for message in messages:
            await self._send(message)
        if self._snapshots is not None:
            await asyncio.gather(*(self._fetch_snapshot(i, INITIAL_PRIORITY) for i in self.instruments))

    async def _fetch_snapshot(self, instrument: Instrument, priority: int) -> None:
        fetch = self.feed.book_snapshot(instrument)
        if fetch is None or self._snapshots is None:
            return
        try:
            body, received = await self._snapshots.get(fetch.path, fetch.weight, priority)
        except SnapshotUnavailable as exc:
            log.error(
                "snapshot refused", extra={"connection": self.connection_id, "symbol": instrument.symbol, "error": str(exc)}
            )
            return
        except SnapshotBudgetError as exc:
            # the budget will never grant it (exchange unknown to the host's service, weight above its
            # capacity): a book must not silently stay without its snapshot, so the daemon stops on it
            if self.failure is None:
                log.error("snapshot budget refused a snapshot", extra={"connection": self.connection_id, "error": str(exc)})
                self.failure = exc
            return
        if self._ws is not None:  # a snapshot of an ended session would bridge nothing
            self._record(FrameKind.REST, body, received, fetch.path)

    async def _keepalive(self) -> None:
        message = self.feed.keepalive_message()
        assert message is not None
        while True:
            await asyncio.sleep(self.feed.keepalive_interval_s)
            await self._send(message)

    async def _watch_stall(self, ws: ClientConnection) -> None:
        timeout = self.settings.stall_timeout_s
        while True:
            await asyncio.sleep(min(1.0, timeout / 4))
            if time.monotonic() - self._last_frame > timeout:
                log.warning(
                    "no frame within the stall timeout; reconnecting",
                    extra={"connection": self.connection_id, "timeout_s": timeout},
                )
                await ws.close(code=1000, reason="stalled")
                return

    # -- requests from outside ---------------------------------------------------------------
    def request_resync(self, exchange_symbol: str) -> asyncio.Task[None] | None:
        """A normaliser found this symbol's book wrong: get it a new snapshot.

        REST snapshots go through the shared budget, one fetch in flight per symbol. Books that
        resnapshot by resubscribing are gathered for ``resync_coalesce_s`` and resubscribed in as
        few messages as the exchange allows, so a thousand resyncs cost two messages, not two
        thousand of a connection's few subscribe requests an hour."""
        instrument = self._by_exchange_symbol.get(exchange_symbol)
        if instrument is None or self._ws is None:
            return None  # not ours, or the next session starts with fresh snapshots anyway
        if self.feed.book_snapshot(instrument) is not None:
            if exchange_symbol in self._snapshots_in_flight:
                return None
            self._snapshots_in_flight.add(exchange_symbol)
            task = asyncio.create_task(self._fetch_snapshot(instrument, RESYNC_PRIORITY))
            task.add_done_callback(lambda _: self._snapshots_in_flight.discard(exchange_symbol))
            return task
        self._resubscribe_pending[exchange_symbol] = instrument
        if self._resubscriber is None or self._resubscriber.done():
            self._resubscriber = asyncio.create_task(self._resubscribe_pending_books())
            return self._resubscriber
        return None

    async def _resubscribe_pending_books(self) -> None:
        await asyncio.sleep(self.settings.resync_coalesce_s)
        while self._resubscribe_pending:
            instruments = list(self._resubscribe_pending.values())
            self._resubscribe_pending.clear()
            messages = self.feed.book_resubscribe_messages(instruments, self._request_id)
            self._request_id += len(messages)
            log.info(
                "resubscribing books for fresh snapshots",
                extra={"connection": self.connection_id, "books": len(instruments), "messages": len(messages)},
            )
            for message in messages:
                await self._send(message)

    def stop(self) -> None:
        self._stopping.set()
        ws = self._ws
        if ws is not None:
            asyncio.create_task(ws.close())
