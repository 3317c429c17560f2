"""Cross-exchange arbitrage of one pair on two exchanges: when one exchange's bid beats the other's
ask by more than both legs' fees plus a threshold, buy the cheap leg and sell the rich one, in the
same quantity, without either leg's inventory passing ``max_inventory``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from platform_streams.schemas import BestBidOffer, Instrument
from strategies.context import StrategyContext
from strategies.instrument_rules import price_as_decimal, size_as_decimal, size_in_lots
from strategies.intents import NO_INTENTS, Intent, TargetPosition
from strategies.parameters import DecimalParameter
from strategies.strategy import Strategy

BASIS_POINTS_INT = 10_000
BASIS_POINTS = Decimal(BASIS_POINTS_INT)


class TopOfBook(msgspec.Struct, array_like=True):
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int


class ArbitrageState(msgspec.Struct):
    tops: dict[str, TopOfBook] = msgspec.field(default_factory=dict)


class CrossExchangeArbitrage(Strategy):
    """Instruments: exactly two, the same pair on two exchanges (``binance:BTC/USDT``, ``okx:BTC/USDT``).

    Each leg is a target position at a limit price (the touch it saw), so a leg that cannot fill
    there does not chase the market; repeating the signal before the fills arrive repeats the same
    targets, which adds nothing."""

    name = "cross-exchange-arbitrage"
    version = "1.0.0"
    state_type = ArbitrageState
    parameters = {
        "fee_bps": DecimalParameter("10", minimum=0, maximum=1_000, doc="taker fee of each leg, basis points"),
        "threshold_bps": DecimalParameter("5", minimum=0, maximum=10_000, doc="edge wanted beyond the fees, basis points"),
        "trade_size": DecimalParameter(minimum=0, exclusive_minimum=True, doc="most bought and sold per signal, base units"),
        "max_inventory": DecimalParameter(
            minimum=0, exclusive_minimum=True, doc="most held long or short on each leg, base units"
        ),
    }

    @classmethod
    def check_instruments(cls, instruments: Sequence[str]) -> None:
        if len(instruments) != 2 or instruments[0].split(":", 1)[0] == instruments[1].split(":", 1)[0]:
            raise ValueError(f"{cls.name}: needs exactly two instruments on two exchanges, got {list(instruments)}")

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self._legs = tuple(context.instruments)
        self._state = ArbitrageState()
        self._hurdle_bps = 2 * self.params.fee_bps + self.params.threshold_bps
        # the hurdle as a fraction, so most tops of book are dismissed in integer arithmetic
        self._hurdle_numerator, self._hurdle_denominator = self._hurdle_bps.as_integer_ratio()

    def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
        key = top.key
        if key not in self._legs:
            return NO_INTENTS
        if top.bid_price == 0 or top.ask_price == 0:
            self._state.tops.pop(key, None)  # an empty side: no price to trade against
            return NO_INTENTS
        self._state.tops[key] = TopOfBook(top.bid_price, top.bid_size, top.ask_price, top.ask_size)
        first, second = self._legs
        if first not in self._state.tops or second not in self._state.tops:
            return NO_INTENTS
        return self._cross(first, second) or self._cross(second, first) or NO_INTENTS

    def _cross(self, cheap: str, rich: str) -> list[Intent]:
        """Buy ``cheap`` at its ask and sell ``rich`` at its bid if the edge beats the hurdle."""
        cheap_top, rich_top = self._state.tops[cheap], self._state.tops[rich]
        cheap_instrument, rich_instrument = self.context.instrument(cheap), self.context.instrument(rich)
        scale = max(cheap_instrument.price_scale, rich_instrument.price_scale)
        ask_at_scale = cheap_top.ask_price * 10 ** (scale - cheap_instrument.price_scale)
        bid_at_scale = rich_top.bid_price * 10 ** (scale - rich_instrument.price_scale)
        # edge_bps > hurdle ⟺ (bid - ask) × 10,000 × denominator > numerator × ask: no Decimal for a no
        if (bid_at_scale - ask_at_scale) * BASIS_POINTS_INT * self._hurdle_denominator <= self._hurdle_numerator * ask_at_scale:
            return []
        ask = price_as_decimal(cheap_top.ask_price, cheap_instrument)
        bid = price_as_decimal(rich_top.bid_price, rich_instrument)
        edge_bps = (bid - ask) / ask * BASIS_POINTS  # for the reason: the integer test above decided
        cheap_position = size_as_decimal(self.context.position(cheap), cheap_instrument)
        rich_position = size_as_decimal(self.context.position(rich), rich_instrument)
        quantity = min(
            self.params.trade_size,
            size_as_decimal(cheap_top.ask_size, cheap_instrument),
            size_as_decimal(rich_top.bid_size, rich_instrument),
            self.params.max_inventory - cheap_position,
            self.params.max_inventory + rich_position,
        )
        quantity = _down_to_common_lot(quantity, cheap_instrument, rich_instrument)
        if quantity <= 0:
            return []
        reason = f"edge {edge_bps:.2f} bps > {self._hurdle_bps} bps"
        return [
            TargetPosition(
                cheap, self.context.position(cheap) + size_in_lots(quantity, cheap_instrument), cheap_top.ask_price, reason
            ),
            TargetPosition(
                rich, self.context.position(rich) - size_in_lots(quantity, rich_instrument), rich_top.bid_price, reason
            ),
        ]

    def state(self) -> ArbitrageState:
        return self._state

    def load_state(self, state: ArbitrageState) -> None:
        self._state = state


def _down_to_common_lot(quantity: Decimal, first: Instrument, second: Instrument) -> Decimal:
    """``quantity`` rounded down to a whole number of lots on both exchanges (their lots' LCM)."""
    scale = max(first.size_scale, second.size_scale)
    first_lot = (first.lot_size or 1) * 10 ** (scale - first.size_scale)
    second_lot = (second.lot_size or 1) * 10 ** (scale - second.size_scale)
    common = Decimal(math.lcm(first_lot, second_lot)).scaleb(-scale)
    return (quantity // common) * common if quantity > 0 else Decimal(0)
