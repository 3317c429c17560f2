"""Paper trading: orders filled against the live canonical market data instead of an exchange.

:class:`PaperVenue` is a pure model of one account at one venue, fed with the venue's top of
book (``md.bbo``) and trades (``md.trade``):

- a market order, or a limit order that crosses the opposite best, fills at once (taker) at the
  opposite best price — the whole size, since only the top of book is known (no impact modelled);
- any other limit order rests. Its place in the queue is approximated: at the current best of
  its side it queues behind the size displayed there; at a better price it is first. A trade at
  its price consumes the queue ahead first and then fills it (maker); a trade through its price,
  or the opposite best reaching it, fills what is left;
- fees are charged in the quote asset at ``maker_fee_bps``/``taker_fee_bps``, to 8 decimals as
  exchanges charge them: exact where the fee has no more digits, else rounded down (the exact
  fee at price scale + size scale + 4 digits — 20 on Binance — overflows a fill's or a position's
  64-bit mantissa).

:class:`PaperOrderEntry` puts it behind the same order-entry interface as a real venue, so the
executor, the order record and positions are the same code in paper and live.
"""

from __future__ import annotations

import itertools

from platform_streams.execution.order_lifecycle import OrderUpdate
from platform_streams.schemas import BestBidOffer, Fill, Liquidity, OrderRequest, OrderStatus, OrderType, Side, Trade
from platform_streams.schemas.fixed_point import rescale

_FEE_EXTRA_SCALE = 4  # basis points: a ten-thousandth
_FEE_MAX_SCALE = 8  # exchanges charge fees to 8 decimals


def paper_fee(price: int, size: int, bps: int, price_scale: int, size_scale: int) -> tuple[int, int]:
    """The fee of a fill as (mantissa, scale) at no more than 8 decimals: exact when it has no more
    digits, else rounded down. At scale 20 (Binance's 8 + 8 + 4) a fill's fee, and a position's sum
    of them, would pass 2**63 at a few cents."""
    fee, scale = price * size * bps, price_scale + size_scale + _FEE_EXTRA_SCALE
    if scale <= _FEE_MAX_SCALE:
        return fee, scale
    return fee // 10 ** (scale - _FEE_MAX_SCALE), _FEE_MAX_SCALE


def _compare_key(mantissa: int, scale: int, common: int) -> int:
    return mantissa * 10 ** (common - scale)


def _size_at(mantissa: int, scale: int, new_scale: int, round_up: bool = False) -> int:
    """A size at another scale; where digits would be lost, rounded down (volume we may take) or
    up (queue ahead of us), never to our advantage."""
    if new_scale >= scale:
        return mantissa * 10 ** (new_scale - scale)
    factor = 10 ** (scale - new_scale)
    return -(-mantissa // factor) if round_up else mantissa // factor


class _PaperOrder:
    __slots__ = ("request", "order_id", "status", "filled", "queue_ahead", "fills", "price")

    def __init__(self, request: OrderRequest, order_id: str) -> None:
        self.request = request
        self.order_id = order_id
        self.status = OrderStatus.NEW
        self.filled = 0
        self.queue_ahead = 0
        self.fills: list[Fill] = []
        self.price = request.price or 0

    @property
    def remaining(self) -> int:
        return self.request.size - self.filled


class PaperVenue:
    """One account's paper orders at one venue, filled from that venue's market data."""

    def __init__(self, exchange: str, account: str, maker_fee_bps: int = 10, taker_fee_bps: int = 10) -> None:
        if not (0 <= maker_fee_bps <= 1_000 and 0 <= taker_fee_bps <= 1_000):
            raise ValueError("fees must be between 0 and 1,000 basis points")
        self.exchange, self.account = exchange, account
        self.maker_fee_bps, self.taker_fee_bps = maker_fee_bps, taker_fee_bps
        self._quotes: dict[str, BestBidOffer] = {}
        self._orders: dict[str, _PaperOrder] = {}  # by client order id
        self._resting: dict[str, list[_PaperOrder]] = {}  # by symbol
        self._ids = itertools.count(1)

    # -- market data -----------------------------------------------------------------------------
    def on_quote(self, quote: BestBidOffer) -> list[_PaperOrder]:
        """A new top of book; the resting orders it filled (the opposite side reached their price)."""
        if quote.exchange != self.exchange:
            return []
        self._quotes[quote.symbol] = quote
        resting = self._resting.get(quote.symbol)
        if not resting:
            return []
        touched = []
        for order in list(resting):
            common = max(order.request.price_scale, quote.price_scale)
            price = _compare_key(order.price, order.request.price_scale, common)
            ask, bid = (
                _compare_key(quote.ask_price, quote.price_scale, common),
                _compare_key(quote.bid_price, quote.price_scale, common),
            )
            reached = ask <= price if order.request.side is Side.BUY else bid >= price
            if reached and quote.ask_price and quote.bid_price:
                self._fill(order, order.remaining, order.price, Liquidity.MAKER, quote.exchange_ts_ns)
                touched.append(order)
        return touched

    def resting(self, symbol: str) -> bool:
        """Whether orders rest on ``symbol`` (a new top of book may fill them)."""
        return bool(self._resting.get(symbol))

    def on_trade(self, trade: Trade) -> list[_PaperOrder]:
        """A public trade; the resting orders it filled (through their price, or at it past the queue)."""
        if trade.exchange != self.exchange:
            return []
        touched = []
        for order in list(self._resting.get(trade.symbol, ())):
            request = order.request
            common = max(request.price_scale, trade.price_scale)
            price, traded = (
                _compare_key(order.price, request.price_scale, common),
                _compare_key(trade.price, trade.price_scale, common),
            )
            if (request.side is Side.BUY and traded > price) or (request.side is Side.SELL and traded < price):
                continue
            volume = _size_at(trade.size, trade.size_scale, request.size_scale)
            if traded == price:  # at our level: the queue ahead of us goes first
                taken = min(order.queue_ahead, volume)
                order.queue_ahead -= taken
                volume -= taken
            if volume > 0:
                self._fill(order, min(volume, order.remaining), order.price, Liquidity.MAKER, trade.exchange_ts_ns)
                touched.append(order)
        return touched

    # -- orders ----------------------------------------------------------------------------------
    def place(self, request: OrderRequest) -> _PaperOrder:
        known = self._orders.get(request.client_order_id)
        if known is not None:
            return known  # the same client order id twice: the first order, as a venue would refuse a duplicate
        order = _PaperOrder(request, f"P{next(self._ids)}")
        self._orders[request.client_order_id] = order
        quote = self._quotes.get(request.symbol)
        if quote is None or not (quote.bid_price and quote.ask_price):
            order.status = OrderStatus.REJECTED
            return order
        opposite = quote.ask_price if request.side is Side.BUY else quote.bid_price
        opposite_price = (
            rescale(opposite, quote.price_scale, request.price_scale) if request.price_scale >= quote.price_scale else None
        )
        if opposite_price is None:
            order.status = OrderStatus.REJECTED  # the order's price scale cannot express the market's prices
            return order
        crosses = request.order_type is OrderType.MARKET or (
            request.side is Side.BUY
            and order.price >= opposite_price
            or request.side is Side.SELL
            and order.price <= opposite_price
        )
        if crosses:
            self._fill(order, request.size, opposite_price, Liquidity.TAKER, quote.exchange_ts_ns)
            return order
        same_side = quote.bid_price if request.side is Side.BUY else quote.ask_price
        same_size = quote.bid_size if request.side is Side.BUY else quote.ask_size
        if rescale(same_side, quote.price_scale, request.price_scale) == order.price:
            order.queue_ahead = _size_at(same_size, quote.size_scale, request.size_scale, round_up=True)
        self._resting.setdefault(request.symbol, []).append(order)
        return order

    def cancel(self, client_order_id: str) -> _PaperOrder | None:
        order = self._orders.get(client_order_id)
        if order is not None and order.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            order.status = OrderStatus.CANCELED
            self._rest_no_more(order)
        return order

    def order(self, client_order_id: str) -> _PaperOrder | None:
        return self._orders.get(client_order_id)

    def _fill(self, order: _PaperOrder, size: int, price: int, liquidity: Liquidity, ts_ns: int) -> None:
        request = order.request
        bps = self.maker_fee_bps if liquidity is Liquidity.MAKER else self.taker_fee_bps
        fee, fee_scale = paper_fee(price, size, bps, request.price_scale, request.size_scale)
        order.filled += size
        order.fills.append(
            Fill(
                fill_id=f"{order.order_id}-{len(order.fills) + 1}", client_order_id=request.client_order_id,
                exchange_order_id=order.order_id, account=self.account, exchange=self.exchange, symbol=request.symbol,
                side=request.side, price=price, size=size, price_scale=request.price_scale, size_scale=request.size_scale,
                fee=fee, fee_scale=fee_scale, fee_asset=request.symbol.split("/")[-1], liquidity=liquidity,
                exchange_ts_ns=ts_ns, receive_ts_ns=ts_ns,
            )
        )  # fmt: skip
        order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        if order.remaining == 0:
            self._rest_no_more(order)

    def _rest_no_more(self, order: _PaperOrder) -> None:
        resting = self._resting.get(order.request.symbol, [])
        if order in resting:
            resting.remove(order)


def _update(order: _PaperOrder) -> OrderUpdate:
    return OrderUpdate(status=order.status, filled_size=order.filled, exchange_order_id=order.order_id,
                       reason="no market data for the symbol" if order.status is OrderStatus.REJECTED else "")  # fmt: skip


class PaperOrderEntry:
    """A :class:`PaperVenue` behind the order-entry interface the executor drives."""

    def __init__(self, venue: PaperVenue) -> None:
        self.venue = venue
        self.exchange, self.account = venue.exchange, venue.account

    async def place(self, request: OrderRequest) -> OrderUpdate:
        return _update(self.venue.place(request))

    async def cancel(self, request: OrderRequest) -> OrderUpdate | None:
        order = self.venue.cancel(request.client_order_id)
        return None if order is None else _update(order)

    async def query(self, request: OrderRequest) -> OrderUpdate | None:
        order = self.venue.order(request.client_order_id)
        return None if order is None else _update(order)

    async def fills(self, request: OrderRequest, filled_size: int | None = None) -> list[Fill]:
        order = self.venue.order(request.client_order_id)
        return [] if order is None else list(order.fills)

    async def close(self) -> None:
        return None
