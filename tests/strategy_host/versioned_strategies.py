"""One strategy in two versions, for hot-deploy tests: ``steady-quoter`` 1.0.0 quotes a bid on every
``every``-th top of book and counts the tops it has seen; 1.1.0 quotes the same way, keeps the count
in a new state layout (state version 2, reading version 1's) and says which version quoted. The
quote's reason carries the count, so a test sees on the order flow that N+1 went on where N was."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from platform_streams.schemas import BestBidOffer, Side
from strategies.context import StrategyContext
from strategies.intents import NO_INTENTS, Intent, Quote
from strategies.parameters import IntParameter
from strategies.strategy import Strategy


class QuoterStateV1(msgspec.Struct):
    tops: int = 0


class QuoterStateV2(msgspec.Struct):
    tops: int = 0
    quotes_since_upgrade: int = 0


class SteadyQuoter(Strategy):
    """Version 1.0.0: a bid of ``size`` lots at the best bid minus ``below`` ticks, every ``every`` tops."""

    name = "steady-quoter"
    version = "1.0.0"
    state_type = QuoterStateV1
    parameters = {
        "every": IntParameter(1, minimum=1, doc="quote on every n-th top of book"),
        "size": IntParameter(1, minimum=1, doc="quote size, in lots"),
        "below": IntParameter(0, minimum=0, doc="ticks below the best bid"),
    }

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self.count = QuoterStateV1()

    def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
        self.count.tops += 1
        if self.count.tops % self.params.every:
            return NO_INTENTS
        return [self._quote(top, self.count.tops)]

    def _quote(self, top: BestBidOffer, tops: int) -> Quote:
        rules = self.context.instrument(top.key)
        price = top.bid_price - self.params.below * rules.tick_size
        return Quote(top.key, Side.BUY, price, self.params.size * rules.lot_size, f"{self.version} top {tops}")

    def state(self) -> msgspec.Struct:
        return self.count

    def load_state(self, state: QuoterStateV1) -> None:
        self.count = state


class SteadyQuoterV2(Strategy):
    """Version 1.1.0 of ``steady-quoter``: the same quotes, a new state layout that reads 1.0.0's."""

    name = "steady-quoter"
    version = "1.1.0"
    state_type = QuoterStateV2
    state_version = 2
    parameters = SteadyQuoter.parameters

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self.count = QuoterStateV2()

    def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
        self.count.tops += 1
        if self.count.tops % self.params.every:
            return NO_INTENTS
        self.count.quotes_since_upgrade += 1
        return [SteadyQuoter._quote(self, top, self.count.tops)]  # type: ignore[arg-type]

    def state(self) -> msgspec.Struct:
        return self.count

    def load_state(self, state: QuoterStateV2) -> None:
        self.count = state

    def upgrade_state(self, raw: bytes, from_version: int) -> msgspec.Struct:
        if from_version != 1:
            return super().upgrade_state(raw, from_version)
        old = msgspec.msgpack.decode(raw, type=QuoterStateV1)
        return QuoterStateV2(tops=old.tops)


V1 = f"{__name__}:SteadyQuoter"
V2 = f"{__name__}:SteadyQuoterV2"
