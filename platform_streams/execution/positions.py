"""Positions from fills: net size, average entry price, realised and unrealised PnL and fees.

Weighted-average cost: buying into a long (or selling into a short) adds the fill's cost to the
position's; reducing it realises ``(exit price - average entry) × closed size`` and keeps the
average of what stays open; a fill larger than the position closes it and opens the rest on
the other side at the fill's price. Every quantity is kept as an exact rational (Python's
:class:`~fractions.Fraction` over the fills' integer mantissas), so nothing drifts however many
fills there are; only the published :class:`Position` rounds (half to even), and only where a
value has no exact decimal form:

- ``size`` at the finest size scale of the fills: always exact;
- ``realized_pnl``/``unrealized_pnl`` in quote units at ``pnl_scale`` = price scale + size scale,
  at most :data:`MAX_PNL_SCALE` (a mantissa is 64 bits on the wire: at Binance's 8 + 8 decimals a
  PnL past 922 quote units would not fit), exact unless an average split a cost into a non-decimal
  fraction or the fills' scales add up to more;
- ``average_price`` at the fills' price scale + :data:`AVERAGE_PRICE_EXTRA_DIGITS`;
- fees per asset at their own scales, exact.

A fill is applied once: its ``fill_id`` and side are remembered per position, so the same fill from the
private stream and from REST polling (or replayed after a restart) changes nothing, while the two fills
of a trade between two orders of the account (a self-trade: one trade id, a buy and a sell) both count.
"""

from __future__ import annotations

from quicktions import Fraction

from platform_streams.schemas import AssetAmount, Fill, Position, Side

AVERAGE_PRICE_EXTRA_DIGITS = 4
"""Decimal digits the published average entry price has beyond the instrument's price scale."""

MAX_PNL_SCALE = 8
"""Most decimal digits of a published PnL (quote units): 64-bit mantissas then hold ±92 billion."""


def _at_scale(value: Fraction, scale: int) -> int:
    """``value`` as a mantissa at ``scale``, rounded half to even where it has no exact form."""
    return round(value * 10**scale)


class PositionState:
    """One account's position in one instrument, folded from its fills."""

    __slots__ = ("account", "exchange", "symbol", "size", "cost", "realized", "fees", "fee_scales",
                 "price_scale", "size_scale", "mark", "version", "updated_ts_ns", "fill_ids")  # fmt: skip

    def __init__(self, account: str, exchange: str, symbol: str) -> None:
        self.account, self.exchange, self.symbol = account, exchange, symbol
        self.size = Fraction(0)  # signed: long > 0, short < 0
        self.cost = Fraction(0)  # signed entry cost of the open size (size × average entry price)
        self.realized = Fraction(0)
        self.fees: dict[str, Fraction] = {}
        self.fee_scales: dict[str, int] = {}
        self.price_scale = 0
        self.size_scale = 0
        self.mark: Fraction | None = None
        self.version = 0
        self.updated_ts_ns = 0
        self.fill_ids: set[str] = set()

    @property
    def average_price(self) -> Fraction:
        return self.cost / self.size if self.size else Fraction(0)

    @property
    def unrealized(self) -> Fraction:
        """PnL of the open size against the last mark (0 without one)."""
        if self.mark is None or not self.size:
            return Fraction(0)
        return self.mark * self.size - self.cost

    def apply(self, fill: Fill) -> bool:
        """Fold one fill in; False if it was applied before (same ``fill_id`` and side)."""
        identity = f"{fill.fill_id}:{fill.side.value}"
        if identity in self.fill_ids:
            return False
        if fill.side not in (Side.BUY, Side.SELL):
            raise ValueError(f"fill {fill.fill_id}: side must be buy or sell, not {fill.side.value}")
        if fill.size <= 0 or fill.price <= 0:
            raise ValueError(f"fill {fill.fill_id}: size and price must be positive")
        self.fill_ids.add(identity)
        price = Fraction(fill.price, 10**fill.price_scale)
        quantity = Fraction(fill.size, 10**fill.size_scale) * (1 if fill.side is Side.BUY else -1)
        self._trade(price, quantity)
        fee = Fraction(fill.fee, 10**fill.fee_scale)
        if fee:
            self.fees[fill.fee_asset] = self.fees.get(fill.fee_asset, Fraction(0)) + fee
            self.fee_scales[fill.fee_asset] = max(self.fee_scales.get(fill.fee_asset, 0), fill.fee_scale)
        self.price_scale = max(self.price_scale, fill.price_scale)
        self.size_scale = max(self.size_scale, fill.size_scale)
        self.version += 1
        self.updated_ts_ns = max(self.updated_ts_ns, fill.receive_ts_ns or fill.exchange_ts_ns)
        return True

    def _trade(self, price: Fraction, quantity: Fraction) -> None:
        if not self.size or (self.size > 0) == (quantity > 0):  # opening or adding
            self.size += quantity
            self.cost += price * quantity
            return
        closed = min(abs(quantity), abs(self.size))
        direction = 1 if self.size > 0 else -1
        entry = self.cost / self.size
        self.realized += (price - entry) * closed * direction
        self.cost -= entry * closed * direction
        self.size -= closed * direction
        rest = quantity + closed * direction  # what the fill has left after closing: opens the other side
        if rest:
            self.size, self.cost = rest, price * rest

    def set_mark(self, price: int, price_scale: int) -> None:
        self.mark = Fraction(price, 10**price_scale)

    def snapshot(self) -> Position:
        """The position as a ``state.position`` record."""
        pnl_scale = min(self.price_scale + self.size_scale, MAX_PNL_SCALE)
        average_scale = self.price_scale + AVERAGE_PRICE_EXTRA_DIGITS
        return Position(
            account=self.account,
            exchange=self.exchange,
            symbol=self.symbol,
            size=_at_scale(self.size, self.size_scale),
            size_scale=self.size_scale,
            average_price=_at_scale(self.average_price, average_scale),
            price_scale=average_scale,
            realized_pnl=_at_scale(self.realized, pnl_scale),
            unrealized_pnl=_at_scale(self.unrealized, pnl_scale),
            pnl_scale=pnl_scale,
            mark_price=None if self.mark is None else _at_scale(self.mark, average_scale),
            fees=[
                AssetAmount(asset, _at_scale(total, self.fee_scales[asset]), self.fee_scales[asset])
                for asset, total in sorted(self.fees.items())
            ],  # fmt: skip
            updated_ts_ns=self.updated_ts_ns,
            version=self.version,
        )


class PositionBook:
    """Every position of the accounts one execution process keeps, by (account, exchange, symbol)."""

    def __init__(self) -> None:
        self._positions: dict[tuple[str, str, str], PositionState] = {}

    def apply(self, fill: Fill) -> Position | None:
        """The position a fill changed, or None if that fill was applied before."""
        key = (fill.account, fill.exchange, fill.symbol)
        state = self._positions.get(key)
        if state is None:
            state = self._positions[key] = PositionState(*key)
        return state.snapshot() if state.apply(fill) else None

    def mark(self, exchange: str, symbol: str, price: int, price_scale: int) -> list[PositionState]:
        """Set the mark price of an instrument for every account holding it; the positions it moved."""
        moved = []
        for (_, venue, instrument), state in self._positions.items():
            if venue == exchange and instrument == symbol:
                state.set_mark(price, price_scale)
                moved.append(state)
        return moved

    def states(self) -> list[PositionState]:
        return list(self._positions.values())

    def get(self, account: str, exchange: str, symbol: str) -> PositionState | None:
        return self._positions.get((account, exchange, symbol))

    def __len__(self) -> int:
        return len(self._positions)
