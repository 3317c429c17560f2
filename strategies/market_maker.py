"""An inventory-skewed market maker: quotes a bid and an ask around the mid, both shifted against
its inventory (long: lower, to sell more and buy less), sized so a fill cannot pass
``max_inventory``, on the instrument's tick and lot grid; it re-quotes when the mid moves by
``requote_bps`` or its position changes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec

from platform_streams.schemas import BestBidOffer, Fill, Instrument, Side
from strategies.context import StrategyContext
from strategies.instrument_rules import price_to_mantissa, size_as_decimal, size_in_lots
from strategies.intents import NO_INTENTS, CancelQuotes, Intent, Quote
from strategies.parameters import DecimalParameter
from strategies.strategy import Strategy

BASIS_POINTS = Decimal(10_000)


class QuotedInstrument(msgspec.Struct, array_like=True):
    """The last top of book seen and what was quoted against it (prices 0: nothing quoted)."""

    best_bid: int = 0
    best_ask: int = 0
    quoted_mid_twice: int = 0  # bid + ask when last quoted: twice the mid, exact
    quoted_position: int = 0
    bid_price: int = 0
    ask_price: int = 0


class MarketMakerState(msgspec.Struct):
    instruments: dict[str, QuotedInstrument] = msgspec.field(default_factory=dict)


class InventorySkewedMarketMaker(Strategy):
    name = "inventory-market-maker"
    version = "1.0.0"
    state_type = MarketMakerState
    parameters = {
        "half_spread_bps": DecimalParameter(
            "10", minimum=0, exclusive_minimum=True, maximum=5_000, doc="quote distance from the reservation price"
        ),
        "skew_bps": DecimalParameter("10", minimum=0, maximum=5_000, doc="how far both quotes move at full inventory"),
        "requote_bps": DecimalParameter("2", minimum=0, maximum=5_000, doc="re-quote once the mid moved this far"),
        "quote_size": DecimalParameter(minimum=0, exclusive_minimum=True, doc="size of each quote, base units"),
        "max_inventory": DecimalParameter(minimum=0, exclusive_minimum=True, doc="most held long or short, base units"),
    }

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self._state = MarketMakerState()
        self._subscribed = frozenset(context.instruments)
        self._requote_numerator, self._requote_denominator = self.params.requote_bps.as_integer_ratio()

    def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
        key = top.key
        if key not in self._subscribed:
            return NO_INTENTS
        quoted = self._state.instruments.get(key)
        if quoted is None:
            quoted = self._state.instruments[key] = QuotedInstrument()
        if top.bid_price == 0 or top.ask_price == 0:  # a one-sided book has no mid: step back
            had_quotes = quoted.bid_price or quoted.ask_price
            quoted.best_bid = quoted.best_ask = quoted.bid_price = quoted.ask_price = quoted.quoted_mid_twice = 0
            return [CancelQuotes(key, Side.UNKNOWN, "one-sided book")] if had_quotes else NO_INTENTS
        quoted.best_bid, quoted.best_ask = top.bid_price, top.ask_price
        if not self._needs_requote(key, quoted):
            return NO_INTENTS
        return self._quote(key, quoted)

    def on_fill(self, fill: Fill) -> Sequence[Intent]:
        key = f"{fill.exchange}:{fill.symbol}"
        quoted = self._state.instruments.get(key)
        if quoted is None or quoted.best_bid == 0:
            return NO_INTENTS
        return self._quote(key, quoted)

    def _needs_requote(self, key: str, quoted: QuotedInstrument) -> bool:
        if quoted.quoted_mid_twice == 0 or quoted.quoted_position != self.context.position(key):
            return True
        moved = abs(quoted.best_bid + quoted.best_ask - quoted.quoted_mid_twice)
        # moved / mid ≥ requote_bps / 10,000, in integers (the mids are both doubled)
        return moved * 10_000 * self._requote_denominator >= self._requote_numerator * quoted.quoted_mid_twice

    def _quote(self, key: str, quoted: QuotedInstrument) -> list[Intent]:
        instrument = self.context.instrument(key)
        position = self.context.position(key)
        mid = Decimal(quoted.best_bid + quoted.best_ask).scaleb(-instrument.price_scale) / 2
        inventory = size_as_decimal(position, instrument) / self.params.max_inventory
        inventory = max(min(inventory, Decimal(1)), Decimal(-1))
        reservation = mid * (1 - self.params.skew_bps * inventory / BASIS_POINTS)
        half_spread = self.params.half_spread_bps / BASIS_POINTS
        bid = price_to_mantissa(reservation * (1 - half_spread), instrument, up=False)
        ask = price_to_mantissa(reservation * (1 + half_spread), instrument, up=True)
        bid, ask = _passive(bid, ask, quoted, instrument)
        quoted.quoted_mid_twice = quoted.best_bid + quoted.best_ask
        quoted.quoted_position = position
        held = size_as_decimal(position, instrument)
        bid_size = size_in_lots(min(self.params.quote_size, self.params.max_inventory - held), instrument)
        ask_size = size_in_lots(min(self.params.quote_size, self.params.max_inventory + held), instrument)
        reason = f"mid {mid} inventory {inventory:.2f}"
        quoted.bid_price, quoted.ask_price = (bid if bid_size else 0), (ask if ask_size else 0)
        return [
            Quote(key, Side.BUY, bid, bid_size, reason) if bid_size else CancelQuotes(key, Side.BUY, "inventory full"),
            Quote(key, Side.SELL, ask, ask_size, reason) if ask_size else CancelQuotes(key, Side.SELL, "inventory full"),
        ]

    def state(self) -> MarketMakerState:
        return self._state

    def load_state(self, state: MarketMakerState) -> None:
        self._state = state


def _passive(bid: int, ask: int, quoted: QuotedInstrument, instrument: Instrument) -> tuple[int, int]:
    """Keep both quotes from crossing the book (a quote rests, it does not take) and at least a tick apart."""
    tick = instrument.tick_size or 1
    bid = min(bid, quoted.best_ask - tick)
    ask = max(ask, quoted.best_bid + tick)
    if ask <= bid:
        ask = bid + tick
    return bid, ask
