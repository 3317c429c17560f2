"""The exposure view: what every account and deployment holds, has open and has made today, folded
from fills, order life-cycle events, the order requests risk let through, and top of book.

Every fold is idempotent (fills by fill id, orders by client order id), so a record read twice
(a replayed batch, risk's own request read back from ``exec.order_request``) changes nothing.
Deployments are known by the tag their client order ids start with
(:mod:`platform_streams.risk.client_order_id`), so a fill is attributed without any other state.
Quantities are exact fractions of base and quote units: fills and orders of any scale add up exactly.
"""

from __future__ import annotations

from quicktions import Fraction

from platform_streams.risk.client_order_id import tag_of
from platform_streams.schemas import BestBidOffer, Fill, OrderEvent, OrderRequest, OrderStatus, Side

NS_PER_DAY = 86_400 * 1_000_000_000
ZERO = Fraction(0)
TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


def utc_day(ts_ns: int) -> int:
    """Days since the epoch in UTC: the daily loss limit resets at 00:00 UTC."""
    return ts_ns // NS_PER_DAY


class PositionBook:
    """One net position at average cost, with realised PnL in total and for its latest UTC day."""

    __slots__ = ("size", "average_price", "realised", "realised_day", "day")

    def __init__(self) -> None:
        self.size = ZERO
        self.average_price = ZERO
        self.realised = ZERO
        self.realised_day = ZERO
        self.day = -1

    def apply(self, quantity: Fraction, price: Fraction, fee: Fraction, day: int) -> Fraction:
        """Trade signed ``quantity`` at ``price``, paying ``fee`` (quote units) on ``day``; returns the PnL realised."""
        if day != self.day:
            self.day, self.realised_day = day, ZERO
        pnl = -fee
        size = self.size
        if not size:
            if quantity:
                self.average_price = price
        elif (size > 0) == (quantity > 0):  # the same sign: the average of |size| and |quantity| without abs()
            self.average_price = (self.average_price * size + price * quantity) / (size + quantity)
        else:  # reducing: |size| held, |quantity| traded against it
            held, traded = (size, -quantity) if size > 0 else (-size, quantity)
            closed = traded if traded < held else held
            pnl += closed * (price - self.average_price if size > 0 else self.average_price - price)
            if traded > held:
                self.average_price = price  # flipped: the rest opens at this price
            elif traded == held:
                self.average_price = ZERO
        self.size = size + quantity
        self.realised += pnl
        self.realised_day += pnl
        return pnl


MARK_DENOMINATOR = 2 * 10**36
"""A mid is (bid + ask) / (2 × 10^price scale) and a size a fraction over a power of ten: with
both at 18 decimals or fewer, size × mid is an integer over this."""


class _HeldPart:
    """One holding's part of its deployment's unrealised PnL: size × mid as ``marked`` /
    MARK_DENOMINATOR (``multiplier`` × the mid's numerator, for mids over ``denominator``) or, where
    the scales do not allow it, as the fraction ``fraction``; and its ``cost``, size × average price."""

    __slots__ = ("denominator", "multiplier", "marked", "fraction", "cost")

    def __init__(self, denominator: int, multiplier: int, marked: int, fraction: Fraction, cost: Fraction) -> None:
        self.denominator = denominator
        self.multiplier = multiplier
        self.marked = marked
        self.fraction = fraction
        self.cost = cost


class OpenOrder:
    """An order that may still trade: who, where, which side and how much is left. ``request`` is
    kept when risk made it, so a replayed intent gets the very same request again."""

    __slots__ = ("account", "tag", "instrument", "side", "remaining", "request", "scopes")

    def __init__(
        self, account: str, tag: str, instrument: str, side: Side, remaining: Fraction, request: OrderRequest | None
    ) -> None:
        self.account = account
        self.tag = tag
        self.instrument = instrument
        self.side = side
        self.remaining = remaining
        self.request = request
        self.scopes = (account, f"tag:{tag}") if tag else (account,)  # where it counts: its account, its deployment


class ExposureView:
    """Positions, open orders, today's PnL and last mids of every account and deployment risk serves."""

    def __init__(self) -> None:
        self.quotes: dict[str, tuple[int, int]] = {}  # instrument → (bid + ask, 2 × 10^price scale): its mid
        self.account_positions: dict[tuple[str, str], PositionBook] = {}
        self.deployment_positions: dict[str, dict[str, PositionBook]] = {}  # tag → instrument → book
        self._holdings: dict[str, dict[str, PositionBook]] = {}  # tag → instrument → book, the books not flat
        self._holders: dict[str, set[str]] = {}  # instrument → the tags holding it
        # A deployment's unrealised PnL, Σ size × (mid − average price) over its holdings with a mid, is
        # kept as Σ size × mid in integers over MARK_DENOMINATOR (where a holding's scales allow: any
        # size at 18 decimals or fewer with a mid at 18 or fewer), plus fractions: the other holdings'
        # size × mid, less every holding's cost. A moved mid costs one integer product, not fractions.
        self._held: dict[tuple[str, str], _HeldPart] = {}  # (tag, instrument) → its part
        self._marked: dict[str, int] = {}  # tag → Σ size × mid × MARK_DENOMINATOR over its integer parts
        self._unmarked: dict[str, Fraction] = {}  # tag → Σ size × mid over the other parts, − Σ cost over all
        self._moved: dict[str, set[str]] = {}  # tag → the held instruments whose mid moved since their part was computed
        self._realised_day: dict[str, tuple[int, Fraction]] = {}  # tag → (UTC day, PnL realised that day)
        self.open_orders: dict[str, OpenOrder] = {}
        self.closed_orders: set[str] = set()
        self._fills_seen: set[str] = set()
        self._open_count: dict[str, int] = {}  # account or "tag:<tag>" → open orders
        self._open_quantity: dict[tuple[str, str, Side], Fraction] = {}  # (account or tag scope, instrument, side)

    # -- folds --------------------------------------------------------------------------------
    def apply_bbo(self, bbo: BestBidOffer) -> None:
        if bbo.bid_price > 0 and bbo.ask_price > 0:
            self.apply_mid(bbo.key, bbo.bid_price + bbo.ask_price, 2 * 10**bbo.price_scale)

    def apply_mid(self, instrument: str, numerator: int, denominator: int) -> None:
        """A new mid, ``numerator`` / ``denominator``: kept as integers (a fraction when read); the
        deployments holding the instrument recompute its part of their unrealised PnL when next asked."""
        old = self.quotes.get(instrument)
        self.quotes[instrument] = (numerator, denominator)
        holders = self._holders.get(instrument)
        if holders and old != (numerator, denominator):
            for tag in holders:
                self._moved[tag].add(instrument)

    def apply_fill(self, fill: Fill) -> None:
        event_id, side = fill.event_id, fill.side
        if event_id in self._fills_seen or side not in (Side.BUY, Side.SELL):
            return
        self._fills_seen.add(event_id)
        instrument = f"{fill.exchange}:{fill.symbol}"
        quantity = Fraction(fill.size if side is Side.BUY else -fill.size, 10**fill.size_scale)
        price = Fraction(fill.price, 10**fill.price_scale)
        quote = fill.symbol.rpartition("/")[2]
        fee = Fraction(fill.fee, 10**fill.fee_scale) if fill.fee_asset == quote else ZERO  # other fee assets are not PnL in quote
        day = utc_day(fill.exchange_ts_ns)
        self._book(self.account_positions, (fill.account, instrument)).apply(quantity, price, fee, day)
        tag = tag_of(fill.client_order_id)
        if tag:
            book = self._book(self.deployment_positions.setdefault(tag, {}), instrument)
            pnl = book.apply(quantity, price, fee, day)
            holdings = self._holdings.setdefault(tag, {})
            holders = self._holders.setdefault(instrument, set())
            if book.size:
                holdings[instrument] = book
                holders.add(tag)
            else:
                holdings.pop(instrument, None)
                holders.discard(tag)
            self._refold(tag, instrument, book)
            realised_day, realised = self._realised_day.get(tag, (day, ZERO))
            if day > realised_day:
                self._realised_day[tag] = (day, pnl)
            elif day == realised_day:
                self._realised_day[tag] = (day, realised + pnl)
            # a fill of an earlier day read late changes its position but not today's PnL

    def _refold(self, tag: str, instrument: str, book: PositionBook) -> None:
        """The book's part of the tag's unrealised PnL, at the instrument's last mid, computed again."""
        key = (tag, instrument)
        old = self._held.pop(key, None)
        if old is not None:
            self._marked[tag] -= old.marked
            self._unmarked[tag] -= old.fraction - old.cost
        quote = self.quotes.get(instrument)
        if book.size and quote:
            numerator, denominator = quote
            size = book.size
            scale = size.denominator * denominator
            if MARK_DENOMINATOR % scale == 0:
                multiplier = size.numerator * (MARK_DENOMINATOR // scale)
                part = _HeldPart(denominator, multiplier, multiplier * numerator, ZERO, size * book.average_price)
            else:
                part = _HeldPart(denominator, 0, 0, size * Fraction(numerator, denominator), size * book.average_price)
            self._held[key] = part
            self._marked[tag] = self._marked.get(tag, 0) + part.marked
            self._unmarked[tag] = self._unmarked.get(tag, ZERO) + part.fraction - part.cost
        self._moved.setdefault(tag, set()).discard(instrument)

    def _remark(self, tag: str, instrument: str) -> None:
        """A held instrument's mid moved: its part again, with one integer product where it can."""
        part = self._held.get((tag, instrument))
        numerator, denominator = self.quotes[instrument]
        if part is not None and part.multiplier and part.denominator == denominator:
            marked = part.multiplier * numerator
            self._marked[tag] += marked - part.marked
            part.marked = marked
            return
        book = self._holdings[tag].get(instrument)
        if book is not None:
            self._refold(tag, instrument, book)

    @staticmethod
    def _book(books: dict, key: object) -> PositionBook:
        book = books.get(key)
        if book is None:
            book = books[key] = PositionBook()
        return book

    def apply_order_request(self, request: OrderRequest) -> None:
        """An order risk let through (now, or read back from ``exec.order_request``)."""
        order_id = request.client_order_id
        if order_id in self.open_orders or order_id in self.closed_orders:
            return
        remaining = Fraction(request.size, 10**request.size_scale)
        instrument = f"{request.exchange}:{request.symbol}"
        self._open(order_id, OpenOrder(request.account, tag_of(order_id), instrument, request.side, remaining, request))

    def withdraw(self, order_id: str) -> None:
        """Risk asked for this order's cancel: it no longer counts as open (a fill that races the
        cancel still reaches the position through ``exec.fill``)."""
        order = self.open_orders.get(order_id)
        if order is not None:
            self._close(order_id, order)
            self.closed_orders.add(order_id)

    def apply_order_event(self, event: OrderEvent) -> None:
        order_id = event.client_order_id
        if order_id in self.closed_orders:
            return
        order = self.open_orders.get(order_id)
        if order is not None:
            self._close(order_id, order)
        if event.status in TERMINAL:
            self.closed_orders.add(order_id)
            return
        remaining = Fraction(max(event.size - event.filled_size, 0), 10**event.size_scale)
        instrument = f"{event.exchange}:{event.symbol}"
        request = order.request if order is not None else None
        self._open(order_id, OpenOrder(event.account, tag_of(order_id), instrument, event.side, remaining, request))

    def _open(self, order_id: str, order: OpenOrder) -> None:
        self.open_orders[order_id] = order
        self._count(order, 1)

    def _close(self, order_id: str, order: OpenOrder) -> None:
        del self.open_orders[order_id]
        self._count(order, -1)

    def _count(self, order: OpenOrder, sign: int) -> None:
        counts, quantities, remaining = self._open_count, self._open_quantity, order.remaining
        for scope in order.scopes:
            counts[scope] = counts.get(scope, 0) + sign
            key = (scope, order.instrument, order.side)
            held = quantities.get(key, ZERO)
            quantities[key] = held + remaining if sign > 0 else held - remaining

    # -- queries ------------------------------------------------------------------------------
    def mid(self, instrument: str) -> Fraction | None:
        quote = self.quotes.get(instrument)
        return None if quote is None else Fraction(*quote)

    def open_order_count(self, account: str) -> int:
        return self._open_count.get(account, 0)

    def deployment_open_order_count(self, tag: str) -> int:
        return self._open_count.get(f"tag:{tag}", 0)

    def account_position(self, account: str, instrument: str) -> Fraction:
        book = self.account_positions.get((account, instrument))
        return book.size if book is not None else ZERO

    def open_quantity(self, account: str, instrument: str, side: Side) -> Fraction:
        """What the account's open orders on ``side`` of ``instrument`` may still trade."""
        return self._open_quantity.get((account, instrument, side), ZERO)

    def deployment_expected_position(self, tag: str, instrument: str) -> Fraction:
        """Where the deployment's position goes if its open orders fill: the base a target is sized from."""
        holdings = self._holdings.get(tag)
        book = holdings.get(instrument) if holdings else None
        expected = book.size if book is not None else ZERO
        scope = f"tag:{tag}"
        open_quantity = self._open_quantity
        buys = open_quantity.get((scope, instrument, Side.BUY))
        if buys:
            expected += buys
        sells = open_quantity.get((scope, instrument, Side.SELL))
        if sells:
            expected -= sells
        return expected

    def deployment_daily_pnl(self, tag: str, today: int) -> Fraction:
        """The deployment's PnL realised today plus its unrealised PnL at the last mids (over the
        instruments where it is not flat), kept up to date by fills; each held instrument's part
        computed again only if its mid moved since: O(moved holdings), not O(holdings), per decision."""
        moved = self._moved.get(tag)
        if moved:
            for instrument in list(moved):
                self._remark(tag, instrument)
            moved.clear()
        day, realised = self._realised_day.get(tag, (today, ZERO))
        marked = self._marked.get(tag, 0)
        unrealised = self._unmarked.get(tag, ZERO) + (Fraction(marked, MARK_DENOMINATOR) if marked else ZERO)
        return (realised if day == today else ZERO) + unrealised
