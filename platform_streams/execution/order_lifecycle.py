"""An order's life cycle: the states an exchange reports and the updates that may move it.

Reports of one order reach execution by two roads that race — the venue's private stream and
REST polling (the fallback, and reconciliation after a restart) — so they arrive late, twice or
out of order. :class:`TrackedOrder` folds them so that the order only ever moves forward:

    pending ──► new ──► partially_filled ──► filled
       │         │             │
       └─────────┴─────────────┴──► canceled / rejected / expired

- the filled size never decreases, and never exceeds the order's size;
- a state never goes back (``new`` after ``partially_filled`` is a stale report);
- a terminal state (filled, canceled, rejected, expired) is final, except that a later report
  of the same terminal state may raise the filled size (a fill that raced the cancel); a
  terminal report is taken even when its filled size lags one already seen (the larger stays);
- a report that changes nothing is a duplicate, and yields no event.

Every change yields one :class:`OrderEvent` with the next ``sequence`` of that order, so the
``exec.order_event`` stream of one order is gap-free and in order.
"""

from __future__ import annotations

import msgspec

from platform_streams.schemas import OrderEvent, OrderRequest, OrderStatus

TERMINAL_STATUSES = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})
"""States after which an order never changes again (bar a raced fill)."""

_PROGRESS = {
    OrderStatus.PENDING: 0,
    OrderStatus.NEW: 1,
    OrderStatus.PARTIALLY_FILLED: 2,
    OrderStatus.FILLED: 3,
    OrderStatus.CANCELED: 3,
    OrderStatus.REJECTED: 3,
    OrderStatus.EXPIRED: 3,
}


class InvalidOrderUpdate(ValueError):
    """A report that no exchange could send for this order (overfilled, a fill on a rejected order…)."""


class OrderUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """What the exchange said about one of our orders, in canonical terms (sizes at the order's scale)."""

    status: OrderStatus
    filled_size: int
    exchange_order_id: str = ""
    reason: str = ""
    exchange_ts_ns: int = 0
    receive_ts_ns: int = 0


class TrackedOrder:
    """One order as execution knows it: its request and the latest state the exchange reported."""

    __slots__ = ("request", "status", "filled_size", "exchange_order_id", "reason", "sequence")

    def __init__(self, request: OrderRequest) -> None:
        self.request = request
        self.status = OrderStatus.PENDING
        self.filled_size = 0
        self.exchange_order_id = ""
        self.reason = ""
        self.sequence = 0

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def open(self) -> bool:
        """Resting at the exchange, or maybe (sent and not yet answered): it counts against open-order limits."""
        return not self.terminal

    @property
    def remaining_size(self) -> int:
        return 0 if self.terminal else self.request.size - self.filled_size

    def apply(self, update: OrderUpdate) -> OrderEvent | None:
        """Fold one report in; the event it makes, or None if it is stale or a duplicate.

        Raises :class:`InvalidOrderUpdate` for a report no exchange could send for this order."""
        self._check(update)
        if not self._moves_forward(update):
            return None
        self.status = update.status
        self.filled_size = max(self.filled_size, update.filled_size)
        self.exchange_order_id = update.exchange_order_id or self.exchange_order_id
        self.reason = update.reason or self.reason
        self.sequence += 1
        return self.event(update.exchange_ts_ns, update.receive_ts_ns)

    def event(self, exchange_ts_ns: int = 0, receive_ts_ns: int = 0) -> OrderEvent:
        """The order's current state as an ``exec.order_event`` record."""
        request = self.request
        return OrderEvent(
            client_order_id=request.client_order_id,
            exchange_order_id=self.exchange_order_id,
            account=request.account,
            exchange=request.exchange,
            symbol=request.symbol,
            status=self.status,
            side=request.side,
            price=request.price,
            size=request.size,
            filled_size=self.filled_size,
            price_scale=request.price_scale,
            size_scale=request.size_scale,
            reason=self.reason,
            exchange_ts_ns=exchange_ts_ns,
            receive_ts_ns=receive_ts_ns,
            sequence=self.sequence,
        )

    def _check(self, update: OrderUpdate) -> None:
        size, filled, status = self.request.size, update.filled_size, update.status
        name = self.request.client_order_id
        if filled < 0 or filled > size:
            raise InvalidOrderUpdate(f"order {name}: filled size {filled} outside 0..{size}")
        if status is OrderStatus.FILLED and filled != size:
            raise InvalidOrderUpdate(f"order {name}: reported filled with {filled} of {size}")
        if status is OrderStatus.PARTIALLY_FILLED and filled in (0, size):
            raise InvalidOrderUpdate(f"order {name}: reported partially filled with {filled} of {size}")
        if status in (OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.REJECTED) and filled != 0:
            raise InvalidOrderUpdate(f"order {name}: reported {status.value} with {filled} filled")
        if self.status is OrderStatus.REJECTED and filled > 0:
            raise InvalidOrderUpdate(f"order {name}: a fill on a rejected order")
        if status is OrderStatus.REJECTED and self.filled_size > 0:
            raise InvalidOrderUpdate(f"order {name}: rejected after {self.filled_size} filled")

    def _moves_forward(self, update: OrderUpdate) -> bool:
        if self.terminal:  # final: only the same terminal state with more filled (a raced fill)
            return update.status is self.status and update.filled_size > self.filled_size
        if update.status in TERMINAL_STATUSES:
            return True  # the end, even if the report's filled size lags one already seen
        if update.filled_size < self.filled_size:
            return False  # an older report
        progress, known = _PROGRESS[update.status], _PROGRESS[self.status]
        if progress < known:
            return False
        return progress > known or update.filled_size > self.filled_size
