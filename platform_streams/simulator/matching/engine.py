"""Matching engine of one exchange: API orders against the simulated book, with balances and fees.

A marketable order walks the simulated book through :meth:`VenueMarket.execute_taker`
(so its trades print on the public streams like anyone else's); what is left of a
GTC limit order rests in the book as API liquidity, which simulated takers fill
later (after the simulated liquidity of the same level). Funds are locked when an
order is accepted and settled per fill; fees are charged in the asset received, or
(``fee_from_spent``, Kraken's default on a buy) in the asset given up, locked on top.
Every change is reported to the registered :class:`OrderEventSink` objects (the
protocols' user data streams). Everything here is deterministic: the same book and
the same requests give the same fills.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Protocol

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.market.universe import SCALE_FACTOR, Instrument
from platform_streams.simulator.market.venue_market import VenueMarket
from platform_streams.simulator.matching.accounts import Account, InsufficientBalance
from platform_streams.simulator.matching.filters import (
    MAX_OPEN_ORDERS_PER_INSTRUMENT,
    OrderRejected,
    RejectReason,
    check_notional,
    check_percent_price,
    price_to_ticks,
    quantity_to_lots,
    quote_amount,
    quote_amount_ceil,
)
from platform_streams.simulator.matching.orders import (
    ExecutionType,
    Fill,
    Order,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)

log = logging.getLogger(__name__)

_FEE_DENOMINATOR = 10_000


class OrderEventSink(Protocol):
    """Receives every order change and balance change (a protocol's user data stream)."""

    def on_execution(self, account: Account, order: Order, execution: ExecutionType, fill: Fill | None, time_ms: int) -> None: ...

    def on_balances(self, account: Account, assets: list[str], time_ms: int) -> None: ...


class MatchingEngine:
    """Orders of every account on one exchange's market."""

    def __init__(self, market: VenueMarket, clock: SimClock) -> None:
        self.market = market
        self._clock = clock
        self._instruments = market.instruments
        self._accounts: dict[str, Account] = {}
        self._orders: dict[int, Order] = {}
        self._by_client_id: dict[tuple[str, int, str], Order] = {}
        self._resting: dict[tuple[int, bool, int], deque[Order]] = {}
        self._open: dict[tuple[str, int], dict[int, Order]] = {}
        self._fills: dict[tuple[str, int], list[Fill]] = {}
        self._next_order_id = 1_000_000
        self.sinks: list[OrderEventSink] = []
        market.maker_listener = self

    def _now_ms(self) -> int:
        return self._clock.now_ns // 1_000_000

    def place(self, account: Account, request: OrderRequest) -> Order:
        """Validate, lock funds, match and (GTC) rest an order; raises :class:`OrderRejected`."""
        spec = self._instruments[request.instrument]
        self._accounts[account.api_key] = account
        price_ticks, lots, lock_asset, lock_amount = self._validate(account, spec, request)
        try:
            account.lock(lock_asset, lock_amount)
        except InsufficientBalance:
            raise OrderRejected(RejectReason.INSUFFICIENT_BALANCE) from None
        now = self._now_ms()
        order = Order(
            order_id=self._next_order_id,
            account=account.api_key,
            instrument=request.instrument,
            client_order_id=request.client_order_id,
            side=request.side,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            price_ticks=price_ticks,
            lots=lots,
            quote_amount=request.quote_quantity,
            created_ms=now,
            updated_ms=now,
            locked_asset=lock_asset,
            locked_amount=lock_amount,
            tag=request.tag,
            fee_from_spent=request.fee_from_spent,
        )
        if request.order_type is not OrderType.MARKET and request.time_in_force is TimeInForce.GTC:
            order.working_ms = now  # a GTC limit order works from its acceptance
        self._next_order_id += 1
        self._orders[order.order_id] = order
        if order.client_order_id:  # the latest order of a client id is the one a query by that id finds
            self._by_client_id[(account.api_key, order.instrument, order.client_order_id)] = order
        self._open.setdefault((account.api_key, order.instrument), {})[order.order_id] = order
        self._emit(account, order, ExecutionType.NEW, None, now)
        self._balances(account, [lock_asset], now)
        self._match(account, order)
        return order

    def cancel(
        self,
        account: Account,
        instrument: int,
        order_id: int | None,
        client_order_id: str | None,
        cancel_client_order_id: str = "",
    ) -> Order:
        """Cancel an open order; raises ``OrderRejected(UNKNOWN_ORDER)`` if there is none."""
        order = self.find(account, instrument, order_id, client_order_id)
        if not order.status.is_open:
            raise OrderRejected(RejectReason.UNKNOWN_ORDER)
        order.cancel_client_order_id = cancel_client_order_id
        if self._is_resting(order):
            self._withdraw(order)
        self._close(account, order, OrderStatus.CANCELED, ExecutionType.CANCELED)
        return order

    def find(self, account: Account, instrument: int, order_id: int | None, client_order_id: str | None) -> Order:
        """An order of this account and instrument by id or client id; ``OrderRejected(UNKNOWN_ORDER)`` if none."""
        order = (
            self._orders.get(order_id)
            if order_id is not None
            else self._by_client_id.get((account.api_key, instrument, client_order_id or ""))
        )
        if order is None or order.account != account.api_key or order.instrument != instrument:
            raise OrderRejected(RejectReason.UNKNOWN_ORDER)
        return order

    def open_orders(self, account: Account, instrument: int | None) -> list[Order]:
        found = [
            o
            for (key, i), orders in self._open.items()
            if key == account.api_key and instrument in (None, i)
            for o in orders.values()
        ]
        return sorted(found, key=lambda o: o.order_id)

    def account_fills(self, account: Account, instrument: int) -> list[Fill]:
        return list(self._fills.get((account.api_key, instrument), ()))

    def all_fills(self, account: Account, instrument: int | None = None) -> list[Fill]:
        """The account's fills of one instrument or of all, oldest first."""
        if instrument is not None:
            return self.account_fills(account, instrument)
        found = [f for (key, _), fills in self._fills.items() if key == account.api_key for f in fills]
        return sorted(found, key=lambda f: (f.time_ms, f.instrument, f.trade_id))

    def orders_of(self, account: Account) -> list[Order]:
        """Every order the account ever placed here, oldest first (the order log)."""
        return [o for o in self._orders.values() if o.account == account.api_key]

    def fill_resting(
        self, market: VenueMarket, instrument: int, maker_is_bid: bool, price: int, lots: int, ts_ns: int
    ) -> list[tuple[int, int]]:
        """A taker consumed ``lots`` of API liquidity at ``price``: fill the resting orders there in time priority."""
        key = (instrument, maker_is_bid, price)
        queue = self._resting.get(key)
        results: list[tuple[int, int]] = []
        remaining = lots
        while remaining and queue:
            order = queue[0]
            taken = min(remaining, order.remaining_lots)
            trade_id = market.allocate_trade_id(instrument)
            self._fill(self._accounts[order.account], order, trade_id, price, taken, True, ts_ns // 1_000_000)
            results.append((trade_id, taken))
            remaining -= taken
            if not order.status.is_open:
                queue.popleft()
        if queue is not None and not queue:
            del self._resting[key]
        if remaining:
            log.error(
                "book and engine disagree on resting API lots",
                extra={"instrument": instrument, "price": price, "missing_lots": remaining},
            )
        return results

    def _validate(self, account: Account, spec: Instrument, request: OrderRequest) -> tuple[int, int, str, int]:
        """``(price_ticks, lots, asset_to_lock, amount_to_lock)`` of an acceptable request; a fee charged in the
        asset given up is locked on top, at the higher of the account's two rates, rounded up."""
        price_ticks, lots, asset, amount = self._lock_of(account, spec, request)
        if request.fee_from_spent:
            amount += -(-amount * max(account.maker_fee_bps, account.taker_fee_bps) // _FEE_DENOMINATOR)
        return price_ticks, lots, asset, amount

    def _lock_of(self, account: Account, spec: Instrument, request: OrderRequest) -> tuple[int, int, str, int]:
        book = self.market.books[request.instrument]
        reference = (book.best_bid() + book.best_ask()) // 2
        is_market = request.order_type is OrderType.MARKET
        price_ticks = 0
        if not is_market:
            price_ticks = price_to_ticks(spec, request.price)
            check_percent_price(price_ticks, reference)
        if is_market and request.quote_quantity:
            lots = self._lots_for_quote(spec, request.side is OrderSide.BUY, request.quote_quantity)
            if lots == 0:
                raise OrderRejected(RejectReason.LOT_SIZE, "quote quantity buys less than one lot")
        else:
            lots = quantity_to_lots(spec, request.quantity)
        check_notional(spec, price_ticks or reference, lots)
        open_here = self._open.get((account.api_key, request.instrument), {})
        if len(open_here) >= MAX_OPEN_ORDERS_PER_INSTRUMENT:
            raise OrderRejected(RejectReason.MAX_NUM_ORDERS)
        if request.client_order_id and any(o.client_order_id == request.client_order_id for o in open_here.values()):
            raise OrderRejected(RejectReason.DUPLICATE_ORDER)
        is_buy = request.side is OrderSide.BUY
        if request.order_type is OrderType.LIMIT_MAKER and self._crosses(is_buy, price_ticks, request.instrument):
            raise OrderRejected(RejectReason.WOULD_TAKE)
        if not is_buy:
            return price_ticks, lots, spec.base, lots * spec.lot
        if is_market:
            cost = request.quote_quantity or self._market_buy_cost(spec, lots)
            return price_ticks, lots, spec.quote, cost
        return price_ticks, lots, spec.quote, quote_amount_ceil(spec, price_ticks, lots)

    def _crosses(self, is_buy: bool, price_ticks: int, instrument: int) -> bool:
        book = self.market.books[instrument]
        opposite = book.best_ask() if is_buy else book.best_bid()
        return bool(opposite) and (price_ticks >= opposite if is_buy else price_ticks <= opposite)

    def _market_buy_cost(self, spec: Instrument, lots: int) -> int:
        cost, remaining = 0, lots
        for price, level_lots in self.market.books[spec.index].asks.levels():
            taken = min(remaining, level_lots)
            cost += quote_amount(spec, price, taken)
            remaining -= taken
            if not remaining:
                break
        return cost

    def _lots_for_quote(self, spec: Instrument, is_buy: bool, quote: int) -> int:
        book = self.market.books[spec.index]
        lots, remaining = 0, quote
        for price, level_lots in (book.asks if is_buy else book.bids).levels():
            affordable = remaining * SCALE_FACTOR // (price * spec.tick * spec.lot)
            taken = min(level_lots, affordable)
            lots += taken
            remaining -= quote_amount(spec, price, taken)
            if taken < level_lots:
                break
        return lots

    def _match(self, account: Account, order: Order) -> None:
        is_buy = order.is_buy
        limit = None if order.order_type is OrderType.MARKET else order.price_ticks
        if order.time_in_force is TimeInForce.FOK and self.market.books[order.instrument].available(is_buy, limit) < order.lots:
            self._close(account, order, OrderStatus.EXPIRED, ExecutionType.EXPIRED)
            return
        now_ns = self._clock.now_ns
        for trade_id, price, lots in self.market.execute_taker(order.instrument, is_buy, order.remaining_lots, limit, now_ns):
            self._fill(account, order, trade_id, price, lots, False, now_ns // 1_000_000)
        if not order.status.is_open:
            return
        if order.order_type is not OrderType.MARKET and order.time_in_force is TimeInForce.GTC:
            self.market.rest_api_order(order.instrument, is_buy, order.price_ticks, order.remaining_lots)
            self._resting.setdefault((order.instrument, is_buy, order.price_ticks), deque()).append(order)
        else:
            self._close(account, order, OrderStatus.EXPIRED, ExecutionType.EXPIRED)

    def _fill(self, account: Account, order: Order, trade_id: int, price: int, lots: int, is_maker: bool, time_ms: int) -> None:
        spec = self._instruments[order.instrument]
        quantity = lots * spec.lot
        quote = quote_amount(spec, price, lots)
        fee_bps = account.maker_fee_bps if is_maker else account.taker_fee_bps
        if order.is_buy:
            commission_asset = spec.quote if order.fee_from_spent else spec.base
            commission = (quote if order.fee_from_spent else quantity) * fee_bps // _FEE_DENOMINATOR
            spent = quote + commission if order.fee_from_spent else quote
            account.spend_locked(spec.quote, spent)
            order.locked_amount -= spent
            account.credit(spec.base, quantity if order.fee_from_spent else quantity - commission)
        else:
            commission_asset = spec.base if order.fee_from_spent else spec.quote
            commission = (quantity if order.fee_from_spent else quote) * fee_bps // _FEE_DENOMINATOR
            spent = quantity + commission if order.fee_from_spent else quantity
            account.spend_locked(spec.base, spent)
            order.locked_amount -= spent
            account.credit(spec.quote, quote if order.fee_from_spent else quote - commission)
        order.executed_lots += lots
        order.cumulative_quote += quote
        order.updated_ms = time_ms
        order.status = OrderStatus.FILLED if order.remaining_lots == 0 else OrderStatus.PARTIALLY_FILLED
        fill = Fill(
            trade_id,
            order.order_id,
            order.instrument,
            price,
            lots,
            quote,
            commission,
            commission_asset,
            order.is_buy,
            is_maker,
            time_ms,
        )
        order.fills.append(fill)
        self._fills.setdefault((account.api_key, order.instrument), []).append(fill)
        account.update_ms = time_ms
        self._emit(account, order, ExecutionType.TRADE, fill, time_ms)
        if order.status is OrderStatus.FILLED:
            self._release(account, order)
            self._open[(account.api_key, order.instrument)].pop(order.order_id, None)
        self._balances(account, [spec.base, spec.quote], time_ms)

    def _is_resting(self, order: Order) -> bool:
        return order in self._resting.get((order.instrument, order.is_buy, order.price_ticks), ())

    def _withdraw(self, order: Order) -> None:
        key = (order.instrument, order.is_buy, order.price_ticks)
        queue = self._resting.get(key)
        if queue is not None and order in queue:
            queue.remove(order)
            if not queue:
                del self._resting[key]
        self.market.withdraw_api_order(order.instrument, order.is_buy, order.price_ticks, order.remaining_lots)

    def _close(self, account: Account, order: Order, status: OrderStatus, execution: ExecutionType) -> None:
        now = self._now_ms()
        order.status = status
        order.updated_ms = now
        self._release(account, order)
        self._open.get((account.api_key, order.instrument), {}).pop(order.order_id, None)
        account.update_ms = now
        self._emit(account, order, execution, None, now)
        self._balances(account, [order.locked_asset], now)

    def _release(self, account: Account, order: Order) -> None:
        if order.locked_amount:
            account.unlock(order.locked_asset, order.locked_amount)
            order.locked_amount = 0

    def _emit(self, account: Account, order: Order, execution: ExecutionType, fill: Fill | None, time_ms: int) -> None:
        for sink in self.sinks:
            sink.on_execution(account, order, execution, fill, time_ms)

    def _balances(self, account: Account, assets: list[str], time_ms: int) -> None:
        for sink in self.sinks:
            sink.on_balances(account, sorted(set(assets)), time_ms)
