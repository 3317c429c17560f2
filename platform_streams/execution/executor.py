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

A ``gate`` (the kill switch, :mod:`.order_halts`) may refuse a request at the last moment: it is
rejected with the reason and never sent; :meth:`AccountExecutor.cancel_where` withdraws the
resting orders a halt covers.

Each public method holds the executor's lock, so the stream's reports and the requests never
interleave inside one; with an ``outbox`` every event made lands there in the order it was made,
whichever road it came by (the daemon publishes from it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from platform_streams.exchanges.user_stream import OrderReport, StreamReport
from platform_streams.execution.order_following import FillTally
from platform_streams.execution.order_lifecycle import TERMINAL_STATUSES, InvalidOrderUpdate, OrderUpdate, TrackedOrder
from platform_streams.execution.order_store import OrderStore, StoredOrder
from platform_streams.execution.positions import PositionBook
from platform_streams.execution.stream_reports import ReportError, fill_of, order_update_of
from platform_streams.schemas import CancelRequest, Fill, OrderEvent, OrderRequest, OrderStatus, Position

log = logging.getLogger(__name__)

ExecutionEvent = OrderEvent | Fill | Position


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
    ) -> None:
        self.entry = entry
        self.store = store
        self.on_sent = on_sent  # (request, sent_ns, the exchange's answer): the latency trace's last hops
        self.outbox = outbox
        self.gate = gate  # why a request must not be sent now (a halt), or None
        self.positions = PositionBook()
        self.open_orders: dict[str, TrackedOrder] = {}
        self.awaiting_fills: dict[str, TrackedOrder] = {}  # finished, but their fills do not add up yet
        self.fills = FillTally()
        self._clock_ns = clock_ns
        self._lock = asyncio.Lock()

    def followed(self) -> list[str]:
        """Client order ids of the orders still followed: open, or finished with fills missing."""
        return [*self.open_orders, *self.awaiting_fills]

    def _made(self, events: list[ExecutionEvent]) -> list[ExecutionEvent]:
        if self.outbox is not None:
            self.outbox.extend(events)
        return events

    # -- requests ------------------------------------------------------------------------------
    async def submit(self, requests: Sequence[OrderRequest | CancelRequest]) -> list[ExecutionEvent]:
        """Execute a batch of orders and cancels one after the other, in order (an account's orders
        are handled in order: a sell may need the buy before it filled); the events they caused."""
        events: list[ExecutionEvent] = []
        async with self._lock:
            try:
                for request in requests:
                    if request.account != self.entry.account or request.exchange != self.entry.exchange:
                        continue
                    if isinstance(request, CancelRequest):
                        events.extend(await self._cancel(request.client_order_id))
                    else:
                        events.extend(await self._execute(request))
            finally:
                self._made(events)  # what went through before a failure is published too
        return events

    async def _execute(self, request: OrderRequest) -> list[ExecutionEvent]:
        refusal = self.gate(request) if self.gate is not None else None
        if refusal is not None:
            if await self.store.record(request):
                return await self._refuse(TrackedOrder(request), refusal)
        else:
            sent_ns = self._now()
            if await self.store.record(request, sent_ns):  # recorded with its send time: one round trip before sending
                return await self._place(TrackedOrder(request), sent_ns)
        stored = await self.store.get(request.client_order_id)
        assert stored is not None
        return await self._reconcile(stored)

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
        async with self._lock:
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
            return self._made(events)

    async def _reconcile(self, stored: StoredOrder) -> list[ExecutionEvent]:
        tracked = _tracked(stored)
        events: list[ExecutionEvent] = [tracked.event()] if tracked.sequence else []  # published again: deduped by id
        if tracked.terminal:
            return events
        update = await self.entry.query(stored.request)
        if update is None:  # the exchange never heard of it: recorded, then the process died before sending
            return events + await self._send(tracked)
        return events + await self._follow(tracked, update)

    # -- following orders ----------------------------------------------------------------------
    async def poll(self, client_order_ids: Iterable[str] | None = None) -> list[ExecutionEvent]:
        """Ask the exchange (REST) about the followed orders named (all of them by default): new
        states, new fills, the positions they move."""
        events: list[ExecutionEvent] = []
        async with self._lock:
            for client_order_id in self.followed() if client_order_ids is None else list(client_order_ids):
                tracked = self.open_orders.get(client_order_id) or self.awaiting_fills.get(client_order_id)
                if tracked is None:
                    continue  # over since the plan was made
                update = await self.entry.query(tracked.request)
                if update is not None:
                    events.extend(await self._follow(tracked, update))
            return self._made(events)

    async def apply_stream(self, reports: Sequence[StreamReport], receive_ts_ns: int) -> list[ExecutionEvent]:
        """The private stream's reports about this account's orders: states folded into the orders
        they name, fills recorded (once). Reports about orders not followed here (another client's,
        or one finished with all its fills) change nothing; one that cannot be read is logged and skipped."""
        events: list[ExecutionEvent] = []
        async with self._lock:
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
            return self._made(events)

    async def cancel(self, client_order_id: str) -> list[ExecutionEvent]:
        """Withdraw an order; nothing if it is over already (or was never recorded here)."""
        async with self._lock:
            return self._made(await self._cancel(client_order_id))

    async def cancel_where(self, covered: Callable[[OrderRequest], bool]) -> list[ExecutionEvent]:
        """Withdraw every open order whose request ``covered`` selects (the orders a halt covers)."""
        events: list[ExecutionEvent] = []
        async with self._lock:
            for client_order_id in [c for c, tracked in self.open_orders.items() if covered(tracked.request)]:
                events.extend(await self._cancel(client_order_id))
            return self._made(events)

    async def _cancel(self, client_order_id: str) -> list[ExecutionEvent]:
        tracked = self.open_orders.get(client_order_id)
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
            await self.store.apply(event)
            events.append(event)
        if fetch_fills and self.fills.owed(tracked.request.client_order_id, tracked.filled_size):
            events.extend(await self._record_fills(tracked, await self.entry.fills(tracked.request, tracked.filled_size)))
        self._settle(tracked)
        return events

    async def _record_fills(self, tracked: TrackedOrder, fills: list[Fill]) -> list[ExecutionEvent]:
        events: list[ExecutionEvent] = []
        for fill in fills:
            if self.fills.counted(tracked.request.client_order_id, fill.fill_id):
                continue  # counted already: heard from the other road
            recorded = await self.store.record_fill(fill)
            # counted once stored: with the database away it stays owed, and is asked for again
            self.fills.add(tracked.request.client_order_id, fill.fill_id, fill.size)
            if recorded:
                events.append(fill)
                position = self.positions.apply(fill)
                if position is not None:
                    await self.store.save_position(position)
                    events.append(position)
        return events

    def _settle(self, tracked: TrackedOrder) -> None:
        """Where the order is followed now: open, finished with fills missing, or not at all."""
        client_order_id = tracked.request.client_order_id
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


def _tracked(stored: StoredOrder) -> TrackedOrder:
    tracked = TrackedOrder(stored.request)
    tracked.status, tracked.filled_size = stored.status, stored.filled_size
    tracked.exchange_order_id, tracked.sequence = stored.exchange_order_id, stored.last_sequence
    return tracked
