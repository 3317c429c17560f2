"""One exchange account's executor: order requests in, order events, fills and positions out.

No Kafka here: the execution daemon feeds requests in and publishes what comes back. The
executor keeps exactly-once towards the exchange with the order store and the exchange itself:

- a new request is recorded (``pending``) before it is sent, then placed;
- a request seen before (a replay after a restart) is reconciled: the exchange is asked for its
  client order id, and only an order it has never heard of is sent; the order's current state is
  published again (its event id dedupes it downstream);
- on start, every unfinished order of the account is reconciled the same way;
- open orders are polled (REST, the fallback to the private stream): their new states and fills
  are published, each fill once, and the account's positions follow from the fills.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from platform_streams.execution.order_lifecycle import TERMINAL_STATUSES, OrderUpdate, TrackedOrder
from platform_streams.execution.order_store import OrderStore, StoredOrder
from platform_streams.execution.positions import PositionBook
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
    ) -> None:
        self.entry = entry
        self.store = store
        self.on_sent = on_sent  # (request, sent_ns, the exchange's answer): the latency trace's last hops
        self.positions = PositionBook()
        self.open_orders: dict[str, TrackedOrder] = {}
        self._clock_ns = clock_ns

    # -- requests ------------------------------------------------------------------------------
    async def submit(self, requests: Sequence[OrderRequest | CancelRequest]) -> list[ExecutionEvent]:
        """Execute a batch of orders and cancels one after the other, in order (an account's orders
        are handled in order: a sell may need the buy before it filled); the events they caused."""
        events: list[ExecutionEvent] = []
        for request in requests:
            if request.account != self.entry.account or request.exchange != self.entry.exchange:
                continue
            if isinstance(request, CancelRequest):
                events.extend(await self.cancel(request.client_order_id))
            else:
                events.extend(await self._execute(request))
        return events

    async def _execute(self, request: OrderRequest) -> list[ExecutionEvent]:
        if await self.store.record(request):
            return await self._send(TrackedOrder(request))
        stored = await self.store.get(request.client_order_id)
        assert stored is not None
        return await self._reconcile(stored)

    async def _send(self, tracked: TrackedOrder) -> list[ExecutionEvent]:
        request = tracked.request
        sent_ns = self._now()
        await self.store.mark_sent(request.client_order_id, sent_ns)
        update = await self.entry.place(request)
        if self.on_sent is not None:
            self.on_sent(request, sent_ns, update)
        return await self._follow(tracked, update)

    # -- reconciliation ------------------------------------------------------------------------
    async def reconcile_all(self) -> list[ExecutionEvent]:
        """On start: positions from the account's stored fills, then every unfinished order reconciled."""
        events: list[ExecutionEvent] = []
        for fill in await self.store.fills(self.entry.account, self.entry.exchange):
            self.positions.apply(fill)
        for state in self.positions.states():
            await self.store.save_position(state.snapshot())  # a crash may have come between a fill and its position
        for stored in await self.store.unfinished(self.entry.account, self.entry.exchange):
            events.extend(await self._reconcile(stored))
        return events

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
    async def poll(self) -> list[ExecutionEvent]:
        """Ask the exchange about every open order: new states, new fills, the positions they move."""
        events: list[ExecutionEvent] = []
        for tracked in list(self.open_orders.values()):
            update = await self.entry.query(tracked.request)
            if update is not None:
                events.extend(await self._follow(tracked, update))
        return events

    async def cancel(self, client_order_id: str) -> list[ExecutionEvent]:
        """Withdraw an order; nothing if it is over already (or was never recorded here)."""
        tracked = self.open_orders.get(client_order_id)
        if tracked is None:
            stored = await self.store.get(client_order_id)
            if stored is None or stored.status in TERMINAL_STATUSES:
                return []
            tracked = _tracked(stored)
        update = await self.entry.cancel(tracked.request)
        return [] if update is None else await self._follow(tracked, update)

    async def _follow(self, tracked: TrackedOrder, update: OrderUpdate) -> list[ExecutionEvent]:
        events: list[ExecutionEvent] = []
        filled_before = tracked.filled_size
        event = tracked.apply(update)
        fills: list[ExecutionEvent] = []
        if tracked.filled_size > filled_before or (event is not None and event.status is OrderStatus.FILLED):
            # fills stored before the state: a process killed between the two finds the order unfinished
            # and fetches its fills again on start; the other way round a filled order's fills were lost
            fills = await self._new_fills(tracked)
        if event is not None:
            await self.store.apply(event)
            events.append(event)
        events.extend(fills)
        if tracked.terminal:
            self.open_orders.pop(tracked.request.client_order_id, None)
        else:
            self.open_orders[tracked.request.client_order_id] = tracked
        return events

    async def _new_fills(self, tracked: TrackedOrder) -> list[ExecutionEvent]:
        events: list[ExecutionEvent] = []
        for fill in await self.entry.fills(tracked.request, tracked.filled_size):
            if await self.store.record_fill(fill):
                events.append(fill)
                position = self.positions.apply(fill)
                if position is not None:
                    await self.store.save_position(position)
                    events.append(position)
        return events

    def _now(self) -> int:
        return self._clock_ns()


def _tracked(stored: StoredOrder) -> TrackedOrder:
    tracked = TrackedOrder(stored.request)
    tracked.status, tracked.filled_size = stored.status, stored.filled_size
    tracked.exchange_order_id, tracked.sequence = stored.exchange_order_id, stored.last_sequence
    return tracked
