"""One exchange account's executor: order requests in, order events, fills and positions out.

No Kafka here: the execution daemon feeds requests in and publishes what comes back. The
executor keeps exactly-once towards the exchange with the order store and the exchange itself:

- a new request is recorded (``pending``) before it is sent, then placed;
- a request seen before (a replay after a restart) is reconciled: the exchange is asked for its
  client order id, and only an order it has never heard of is sent; the order's current state is
  published again (its event id dedupes it downstream);
- on start, every unfinished order of the account is reconciled the same way;
- the private stream's reports (:meth:`AccountExecutor.apply_stream`) move the orders and bring
  their fills as they come; REST polling (:meth:`AccountExecutor.poll`) asks about the orders the
  plan of :mod:`.order_following` names. Both feed the one state machine (``TrackedOrder``), and a
  fill heard both ways counts once (by its trade id); positions follow from the fills.

Orders are pipelined: :meth:`AccountExecutor.dispatch` records each request and starts its
placement in request order, and returns without waiting for the exchange's answers (at most
``max_in_flight`` calls to the exchange are outstanding; more requests wait for a free slot). An
order's own operations (its placement, a cancel, a REST query) run one after the other, each
waiting for the one before; different orders' run side by side. An operation that meets a
transient failure (a rate refusal, the exchange or the database away) waits (``Retry-After``, or
backoff) and reconciles the order from the store and the exchange, so nothing is sent twice.

A ``gate`` (the kill switch, :mod:`.order_halts`) may refuse a request at the last moment: it is
rejected with the reason and never sent; :meth:`AccountExecutor.cancel_where` withdraws the
resting orders a halt covers.

With an ``outbox``, every event lands there the moment it is made, whichever road it came by
(the daemon publishes from it), so one order's events are in sequence order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Protocol

from platform_streams.exchanges.user_stream import OrderReport, StreamReport
from platform_streams.execution.ccxt_order_entry import OrderEntryError, RateLimited
from platform_streams.execution.order_following import FillTally
from platform_streams.execution.order_lifecycle import TERMINAL_STATUSES, InvalidOrderUpdate, OrderUpdate, TrackedOrder
from platform_streams.execution.order_store import OrderStore, StoredOrder
from platform_streams.execution.positions import PositionBook
from platform_streams.execution.stream_reports import ReportError, fill_of, order_update_of
from platform_streams.schemas import CancelRequest, Fill, OrderEvent, OrderRequest, OrderStatus, Position

log = logging.getLogger(__name__)

ExecutionEvent = OrderEvent | Fill | Position
Operation = Callable[[], Awaitable[list[ExecutionEvent]]]

DEFAULT_MAX_IN_FLIGHT = 64
_BACKOFF_S = (1.0, 30.0)  # first wait after a transient failure, doubling to the second


class OrderEntry(Protocol):
    """An account's order entry at one venue (:class:`~platform_streams.execution.ccxt_order_entry.CcxtOrderEntry`)."""

    exchange: str
    account: str

    async def place(self, request: OrderRequest) -> OrderUpdate: ...
    async def cancel(self, request: OrderRequest) -> OrderUpdate | None: ...
    async def query(self, request: OrderRequest) -> OrderUpdate | None: ...
    async def fills(self, request: OrderRequest, filled_size: int | None = None) -> list[Fill]: ...


class AccountExecutor:
    """Executes one account's order requests at one venue and follows the orders to their end."""

    def __init__(
        self,
        entry: OrderEntry,
        store: OrderStore,
        clock_ns: Callable[[], int] = time.time_ns,
        on_sent: Callable[[OrderRequest, int, OrderUpdate], None] | None = None,
        outbox: deque[ExecutionEvent] | None = None,
        gate: Callable[[OrderRequest], str | None] | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        transient_errors: tuple[type[BaseException], ...] = (OrderEntryError, OSError),
        on_trouble: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        self.entry = entry
        self.store = store
        self.on_sent = on_sent  # (request, sent_ns, the exchange's answer): the latency trace's last hops
        self.outbox = outbox
        self.gate = gate  # why a request must not be sent now (a halt), or None
        self.transient_errors = transient_errors  # failures an operation waits out and reconciles after
        self.on_trouble = on_trouble  # (kind, failure): what an operation met and is waiting out
        self.positions = PositionBook()
        self.open_orders: dict[str, TrackedOrder] = {}
        self.awaiting_fills: dict[str, TrackedOrder] = {}  # finished, but their fills do not add up yet
        self.fills = FillTally()
        self._clock_ns = clock_ns
        self._max_in_flight = max_in_flight
        self._window: asyncio.Semaphore | None = None  # made on the loop that runs the executor
        self._recovery: asyncio.Lock | None = None  # retries after a failure, one at a time
        self._refused_until = 0.0  # monotonic time before which the exchange asked us to wait
        self._operations: dict[str, asyncio.Task[list[ExecutionEvent]]] = {}  # client order id → its latest operation

    def followed(self) -> list[str]:
        """Client order ids of the orders still followed: open, or finished with fills missing."""
        return [*self.open_orders, *self.awaiting_fills]

    @property
    def in_flight(self) -> int:
        """Operations started and not over (placements, cancels and queries waiting for the exchange)."""
        return len(self._operations)

    def _emit(self, event: ExecutionEvent) -> ExecutionEvent:
        if self.outbox is not None:
            self.outbox.append(event)
        return event

    # -- operations: one order's run one after the other, different orders' side by side ---------
    async def _start(self, client_order_id: str, operation: Operation) -> asyncio.Task[list[ExecutionEvent]]:
        """Start ``operation`` on one order once a slot of the window is free."""
        await self._acquire()
        return self._launch(client_order_id, operation)

    async def _acquire(self) -> None:
        if self._window is None:
            self._window = asyncio.Semaphore(self._max_in_flight)
        await self._window.acquire()

    def _launch(self, client_order_id: str, operation: Operation) -> asyncio.Task[list[ExecutionEvent]]:
        """Start ``operation`` on one order in a slot already held; it runs after the order's
        operation before it (if any) is over, and frees the slot when it ends."""
        assert self._window is not None
        before = self._operations.get(client_order_id)
        task = asyncio.ensure_future(self._after(before, operation))
        self._operations[client_order_id] = task

        def done(finished: asyncio.Task[list[ExecutionEvent]]) -> None:
            assert self._window is not None
            self._window.release()
            if self._operations.get(client_order_id) is finished:
                del self._operations[client_order_id]
            if not finished.cancelled() and finished.exception() is not None:
                error = finished.exception()
                log.error("order operation failed", extra={"client_order_id": client_order_id, "error": repr(error)})
                if self.on_trouble is not None:
                    self.on_trouble("execution", error)  # type: ignore[arg-type]

        task.add_done_callback(done)
        return task

    @staticmethod
    async def _after(before: asyncio.Task[list[ExecutionEvent]] | None, operation: Operation) -> list[ExecutionEvent]:
        if before is not None:
            await asyncio.wait([before])  # its outcome is its own: this one starts either way
        return await operation()

    async def _until_done(
        self, client_order_id: str, operation: Operation, again: Operation | None = None, refused: Operation | None = None
    ) -> list[ExecutionEvent]:
        """Run ``operation``; after a transient failure, wait it out and run ``again`` (by default the
        order reconciled from the store, then the exchange: what went through is followed, not sent again).
        A rate refusal is a request the exchange did not take: ``refused`` (if given) runs instead,
        without asking first. While the exchange refuses, calls go one at a time across the account,
        so a storm is not met by a herd of orders all retrying together."""
        backoff, retrying = _BACKOFF_S[0], False
        while True:
            try:
                if not retrying and time.monotonic() >= self._refused_until:
                    return await operation()
                if self._recovery is None:
                    self._recovery = asyncio.Lock()
                async with self._recovery:
                    await asyncio.sleep(max(0.0, self._refused_until - time.monotonic()))  # as long as the exchange asked
                    return await operation()
            except RateLimited as limited:
                wait, kind, failure = limited.retry_after_s, "rate_limited", limited
                self._refused_until = max(self._refused_until, time.monotonic() + wait)
            except self.transient_errors as error:
                wait, backoff = backoff, min(backoff * 2, _BACKOFF_S[1])
                kind = "exchange" if isinstance(error, OrderEntryError) else "database"
                failure = error  # type: ignore[assignment]
            if self.on_trouble is not None:
                self.on_trouble(kind, failure)
            log.warning("order operation waits", extra={"client_order_id": client_order_id, "kind": kind,
                                                        "wait_s": wait, "error": str(failure)[:200]})  # fmt: skip
            await asyncio.sleep(wait)
            after_refusal = kind == "rate_limited" and refused is not None
            operation = (refused if after_refusal else again) or functools.partial(self._reconcile_stored, client_order_id)
            retrying = True

    async def _reconcile_stored(self, client_order_id: str) -> list[ExecutionEvent]:
        """Reconcile an order: the one followed here if it is (it may be ahead of the store, whose
        writes trail the events), else the store's."""
        followed = self.open_orders.get(client_order_id) or self.awaiting_fills.get(client_order_id)
        if followed is not None:
            return await self._resolve(followed)
        stored = await self.store.get(client_order_id)
        return [] if stored is None else await self._reconcile(stored)

    async def drain(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the operations in flight; cancel what is left (those orders
        are reconciled on the next start). Whether all ended by themselves."""
        pending = list(self._operations.values())
        if not pending:
            return True
        _, left = await asyncio.wait(pending, timeout=timeout_s)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        return not left

    # -- requests ------------------------------------------------------------------------------
    async def dispatch(self, requests: Sequence[OrderRequest | CancelRequest]) -> list[asyncio.Task[list[ExecutionEvent]]]:
        """Record each of the account's requests and start it, in order, without waiting for the
        exchange's answers; the operations started (their events also go to the outbox). Returns
        once every new order is recorded, so a request handed back as done is never lost. The new
        orders between two cancels are recorded in one round trip (as many as have a slot)."""
        started: list[asyncio.Task[list[ExecutionEvent]]] = []
        waiting: list[OrderRequest] = []  # orders holding a slot, to be recorded together

        async def record_waiting() -> None:
            if waiting:
                started.extend(await self._record_and_launch(waiting))
                waiting.clear()

        for request in requests:
            if request.account != self.entry.account or request.exchange != self.entry.exchange:
                continue
            if isinstance(request, CancelRequest):
                await record_waiting()  # what came before the cancel starts before it
                started.append(await self._start(request.client_order_id, self._cancelling(request.client_order_id)))
                continue
            if self._window is not None and self._window.locked():
                await record_waiting()  # no slot free: the orders holding one must start to free any
            await self._acquire()  # a slot first: the kill switch and the record are as of the send
            waiting.append(request)
        await record_waiting()
        return started

    async def _record_and_launch(self, requests: list[OrderRequest]) -> list[asyncio.Task[list[ExecutionEvent]]]:
        """Record orders that each hold a slot, in one round trip, and start what each needs."""
        try:
            operations = await self._recorded(requests)
        except BaseException:
            assert self._window is not None
            for _ in requests:
                self._window.release()
            raise
        return [self._launch(request.client_order_id, op) for request, op in zip(requests, operations, strict=True)]

    async def _recorded(self, requests: list[OrderRequest]) -> list[Operation]:
        """Record requests (each holds a slot) and say what is to be done with each: refuse, place or
        reconcile. A request recorded before (a replay, or the same id again in this batch) is reconciled."""
        sent_ns = self._now()
        refusals = [self.gate(request) if self.gate is not None else None for request in requests]
        new = await self.store.record_many(
            [(request, None if refusal is not None else sent_ns) for request, refusal in zip(requests, refusals, strict=True)]
        )
        until_done, partial = self._until_done, functools.partial
        operations: list[Operation] = []
        for request, refusal in zip(requests, refusals, strict=True):
            client_order_id = request.client_order_id
            if client_order_id not in new:
                operations.append(partial(until_done, client_order_id, partial(self._reconcile_stored, client_order_id)))
                continue
            new.discard(client_order_id)  # the same id again in this batch is reconciled after this one
            tracked = TrackedOrder(request)
            if refusal is not None:
                operations.append(partial(until_done, client_order_id, partial(self._refuse, tracked, refusal)))
                continue
            self.open_orders[client_order_id] = tracked  # followed from now: the stream may speak before REST answers
            operations.append(
                partial(until_done, client_order_id, partial(self._place, tracked, sent_ns), refused=partial(self._send, tracked))
            )
        return operations

    async def submit(self, requests: Sequence[OrderRequest | CancelRequest]) -> list[ExecutionEvent]:
        """Execute a batch of orders and cancels (started in order, as :meth:`dispatch`) and wait
        for all of them; the events they caused, request by request."""
        return await _events_of(await self.dispatch(requests))

    async def _send(self, tracked: TrackedOrder) -> list[ExecutionEvent]:
        """Send an order recorded earlier but never sent (a crash came between), unless a halt refuses it now."""
        refusal = self.gate(tracked.request) if self.gate is not None else None
        if refusal is not None:
            return await self._refuse(tracked, refusal)
        sent_ns = self._now()
        await self.store.mark_sent(tracked.request.client_order_id, sent_ns)
        return await self._place(tracked, sent_ns)

    async def _place(self, tracked: TrackedOrder, sent_ns: int) -> list[ExecutionEvent]:
        request = tracked.request
        update = await self.entry.place(request)
        if self.on_sent is not None:
            self.on_sent(request, sent_ns, update)
        return await self._follow(tracked, update)

    async def _refuse(self, tracked: TrackedOrder, refusal: str) -> list[ExecutionEvent]:
        """Recorded, never sent: the order's end is a rejection that says why."""
        update = OrderUpdate(status=OrderStatus.REJECTED, filled_size=0, reason=refusal, receive_ts_ns=self._now())
        return await self._follow(tracked, update)

    # -- reconciliation ------------------------------------------------------------------------
    async def reconcile_all(self) -> list[ExecutionEvent]:
        """On start: positions from the account's stored fills, then every unfinished order reconciled,
        and the fills fetched of finished orders whose fills were not all kept."""
        events: list[ExecutionEvent] = []
        for fill in await self.store.fills(self.entry.account, self.entry.exchange):
            self.positions.apply(fill)
            self.fills.add(fill.client_order_id, fill.fill_id, fill.size)
        for state in self.positions.states():
            await self.store.save_position(state.snapshot())  # a crash may have come between a fill and its position
        for stored in await self.store.unfinished(self.entry.account, self.entry.exchange):
            events.extend(await self._reconcile(stored))
        for stored in await self.store.short_of_fills(self.entry.account, self.entry.exchange):
            tracked = _tracked(stored)  # over, but the process died before all its fills were kept
            events.extend(await self._record_fills(tracked, await self.entry.fills(tracked.request, tracked.filled_size)))
            self._settle(tracked)
        self.fills.keep_only(self.followed())  # the account's whole history was read: keep what is followed
        return events

    async def _reconcile(self, stored: StoredOrder) -> list[ExecutionEvent]:
        """The stored order's state published again; unless it is over, the exchange asked about it
        (the order sent if it has never heard of it). It is followed as the store knows it from now."""
        tracked = _tracked(stored)
        if tracked.terminal:
            return [self._emit(tracked.event())] if tracked.sequence else []  # again: deduped by id
        self.open_orders[stored.request.client_order_id] = tracked
        return await self._resolve(tracked)

    async def _resolve(self, tracked: TrackedOrder) -> list[ExecutionEvent]:
        """The order's state published again, then (unless it is over with its fills in) the
        exchange asked about it: sent if it has never heard of it, else its answer folded in."""
        events: list[ExecutionEvent] = [self._emit(tracked.event())] if tracked.sequence else []  # again: deduped by id
        if tracked.terminal and not self.fills.owed(tracked.request.client_order_id, tracked.filled_size):
            return events
        update = await self.entry.query(tracked.request)
        if update is None and tracked.terminal:
            return events  # over (rejected unsent, or an exchange that has forgotten it): never sent again
        if update is None:  # the exchange never heard of it: recorded, then the process died before sending
            return events + await self._send(tracked)
        return events + await self._follow(tracked, update)

    # -- following orders ----------------------------------------------------------------------
    async def poll(self, client_order_ids: Iterable[str] | None = None, wait: bool = True) -> list[ExecutionEvent]:
        """Ask the exchange (REST) about the followed orders named (all of them by default): new
        states, new fills, the positions they move. An order with an operation in flight is left to
        it. With ``wait=False`` the queries are started and the events only reach the outbox."""
        started: list[asyncio.Task[list[ExecutionEvent]]] = []
        for client_order_id in self.followed() if client_order_ids is None else list(client_order_ids):
            if client_order_id in self._operations:
                continue  # its placement or cancel answers for it
            started.append(await self._start(client_order_id, functools.partial(self._query, client_order_id)))
        return await _events_of(started) if wait else []

    async def _query(self, client_order_id: str) -> list[ExecutionEvent]:
        tracked = self.open_orders.get(client_order_id) or self.awaiting_fills.get(client_order_id)
        if tracked is None:
            return []  # over since the poll was asked for
        update = await self.entry.query(tracked.request)
        return [] if update is None else await self._follow(tracked, update)

    async def apply_stream(self, reports: Sequence[StreamReport], receive_ts_ns: int) -> list[ExecutionEvent]:
        """The private stream's reports about this account's orders: states folded into the orders
        they name, fills recorded (once). Reports about orders not followed here (another client's,
        or one finished with all its fills) change nothing; one that cannot be read is logged and skipped."""
        events: list[ExecutionEvent] = []
        for report in reports:
            tracked = self.open_orders.get(report.client_order_id) or self.awaiting_fills.get(report.client_order_id)
            if tracked is None:
                continue
            try:
                if isinstance(report, OrderReport):
                    events.extend(await self._follow(tracked, order_update_of(report, tracked.request, receive_ts_ns), False))
                else:
                    fill = fill_of(report, tracked.request, self.entry.account, self.entry.exchange, receive_ts_ns)
                    events.extend(await self._record_fills(tracked, [fill]))
                    self._settle(tracked)
            except (ReportError, InvalidOrderUpdate) as error:
                log.warning("private stream report skipped", extra={"client_order_id": report.client_order_id,
                                                                    "exchange": self.entry.exchange, "error": str(error)})  # fmt: skip
        return events

    async def cancel(self, client_order_id: str) -> list[ExecutionEvent]:
        """Withdraw an order (after its placement, if that is in flight); nothing if it is over
        already (or was never recorded here)."""
        return await (await self._start(client_order_id, self._cancelling(client_order_id)))

    def _cancelling(self, client_order_id: str) -> Operation:
        cancel = functools.partial(self._cancel, client_order_id)
        return lambda: self._until_done(client_order_id, cancel, again=cancel)  # a cancel is asked again: it is idempotent

    async def cancel_where(self, covered: Callable[[OrderRequest], bool]) -> list[ExecutionEvent]:
        """Withdraw every open order whose request ``covered`` selects (the orders a halt covers)."""
        started = [
            await self._start(c, functools.partial(self._cancel, c))
            for c, tracked in list(self.open_orders.items())
            if covered(tracked.request)
        ]
        return await _events_of(started)

    async def _cancel(self, client_order_id: str) -> list[ExecutionEvent]:
        tracked = self.open_orders.get(client_order_id)
        if tracked is None and client_order_id in self.awaiting_fills:
            return []  # over here already (its fills still coming): nothing to withdraw
        if tracked is None:
            stored = await self.store.get(client_order_id)
            if stored is None or stored.status in TERMINAL_STATUSES:
                return []
            tracked = _tracked(stored)
        update = await self.entry.cancel(tracked.request)
        return [] if update is None else await self._follow(tracked, update)

    async def _follow(self, tracked: TrackedOrder, update: OrderUpdate, fetch_fills: bool = True) -> list[ExecutionEvent]:
        """Fold one report in. A REST answer also fetches the fills it implies that are not in yet;
        a stream report leaves them to the stream's own trade reports (REST catches up if those
        never come: the order stays followed until its fills add up)."""
        events: list[ExecutionEvent] = []
        event = tracked.apply(update)
        if event is not None:
            events.append(self._emit(event))  # out in the order made; stored before anything follows from it
            await self.store.apply(event)
        if fetch_fills and self.fills.owed(tracked.request.client_order_id, tracked.filled_size):
            events.extend(await self._record_fills(tracked, await self.entry.fills(tracked.request, tracked.filled_size)))
        self._settle(tracked)
        return events

    async def _record_fills(self, tracked: TrackedOrder, fills: list[Fill]) -> list[ExecutionEvent]:
        events: list[ExecutionEvent] = []
        for fill in fills:
            if self.fills.counted(tracked.request.client_order_id, fill.fill_id):
                continue  # counted already: heard from the other road
            recorded = await self.store.record_fill(fill)  # the store says once: both roads may get here together
            # counted once stored: with the database away it stays owed, and is asked for again
            self.fills.add(tracked.request.client_order_id, fill.fill_id, fill.size)
            if recorded:
                events.append(self._emit(fill))
                position = self.positions.apply(fill)
                if position is not None:
                    events.append(self._emit(position))
                    await self.store.save_position(position)
        return events

    def _settle(self, tracked: TrackedOrder) -> None:
        """Where the order is followed now: open, finished with fills missing, or not at all. A copy
        made from the store never overrides the order followed here when that one knows as much."""
        client_order_id = tracked.request.client_order_id
        followed = self.open_orders.get(client_order_id) or self.awaiting_fills.get(client_order_id)
        if followed is not None and followed is not tracked and _knows_as_much(followed, tracked):
            tracked = followed
        if not tracked.terminal:
            self.open_orders[client_order_id] = tracked
            return
        self.open_orders.pop(client_order_id, None)
        if self.fills.owed(client_order_id, tracked.filled_size):
            self.awaiting_fills[client_order_id] = tracked
        else:
            self.awaiting_fills.pop(client_order_id, None)
            self.fills.forget(client_order_id)

    def _now(self) -> int:
        return self._clock_ns()


async def _events_of(operations: Sequence[asyncio.Task[list[ExecutionEvent]]]) -> list[ExecutionEvent]:
    """The events the operations made, in the order the operations were started."""
    return [event for outcome in await asyncio.gather(*operations) for event in outcome]


def _knows_as_much(one: TrackedOrder, other: TrackedOrder) -> bool:
    return (one.terminal, one.filled_size, one.sequence) >= (other.terminal, other.filled_size, other.sequence)


def _tracked(stored: StoredOrder) -> TrackedOrder:
    tracked = TrackedOrder(stored.request)
    tracked.status, tracked.filled_size = stored.status, stored.filled_size
    tracked.exchange_order_id, tracked.sequence = stored.exchange_order_id, stored.last_sequence
    return tracked
