"""What one exchange's market did since the protocol layer last looked: level changes and trade prints.

Plain lists of tuples, appended on the hot path and handed over whole; the
protocol packages (Binance, later OKX and Kraken) render them in their own format.
"""

from __future__ import annotations

from platform_streams.simulator.market.order_book import LevelChange

#: ``(instrument, trade_id, price_ticks, lots, buyer_is_maker, ts_ns)``
TradePrint = tuple[int, int, int, int, bool, int]
#: ``(instrument, aggregate_id, price_ticks, lots, first_trade_id, last_trade_id, buyer_is_maker, ts_ns)``: the
#: trades of one taker order at one price.
AggregateTrade = tuple[int, int, int, int, int, int, bool, int]


class MarketBatch:
    """Level changes (in update-id order per instrument) and trades, in the order they happened."""

    __slots__ = ("levels", "trades", "aggregates")

    def __init__(self) -> None:
        self.levels: list[LevelChange] = []
        self.trades: list[TradePrint] = []
        self.aggregates: list[AggregateTrade] = []

    def __len__(self) -> int:
        return len(self.levels) + len(self.trades)
