"""The backtest runner: deterministic, exact accounting, fills fed back to the strategy, and the
same callbacks in the same order as the driver gives them live."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import msgspec
import polars as pl

from platform_streams.schemas import BestBidOffer, Candle, Fill, Side, Trade
from strategies.backtest import candles_from_frame, merge_by_time, run_backtest, trades_from_frame
from strategies.context import StrategyContext
from strategies.ema_crossover import EmaCrossover
from strategies.intents import NO_INTENTS, Intent, Quote, TargetPosition
from strategies.market_maker import InventorySkewedMarketMaker
from strategies.strategy import Strategy
from tests.strategies.market import START_NS, bbo, closes, instrument, trade

KEY = "binance:BTC/USDT"


class Script(msgspec.Struct):
    seen: list[str] = msgspec.field(default_factory=list)


class Scripted(Strategy):
    """Records every callback; buys 1.0 on the first trade, quotes a bid on the first top of book."""

    name = "scripted"
    version = "1"
    state_type = Script

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self.script = Script()

    def on_trade(self, trade: Trade) -> Sequence[Intent]:
        self.script.seen.append(f"trade {trade.price}")
        return [TargetPosition(trade.key, 10000)] if len(self.script.seen) == 1 else NO_INTENTS

    def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
        self.script.seen.append(f"book {top.bid_price}/{top.ask_price}")
        if any(s.startswith("book") for s in self.script.seen[:-1]):
            return NO_INTENTS
        return [Quote(top.key, Side.BUY, top.bid_price - 100, 5000)]

    def on_bar(self, candle: Candle) -> Sequence[Intent]:
        self.script.seen.append(f"bar {candle.close}")
        return NO_INTENTS

    def on_fill(self, fill: Fill) -> Sequence[Intent]:
        self.script.seen.append(f"fill {fill.side.value} {fill.size}@{fill.price} position {self.context.position(KEY)}")
        return NO_INTENTS

    def on_timer(self, now_ns: int) -> Sequence[Intent]:
        self.script.seen.append(f"timer {(now_ns - START_NS) // 1_000_000_000}")
        return NO_INTENTS

    def state(self) -> Script:
        return self.script

    def load_state(self, state: Script) -> None:
        self.script = state


def scripted_events() -> list:
    return list(
        merge_by_time(
            [trade(100_00, 20000, 1), trade(99_00, 3000, 4, side=Side.SELL), trade(98_50, 9000, 6, side=Side.SELL)],
            [bbo(100_00, 100_10, 2), bbo(99_80, 99_90, 5)],
        )
    )


def test_callbacks_fills_and_accounting_in_order() -> None:
    result = run_backtest(Scripted, {}, [KEY], [instrument()], scripted_events(), fee_bps="10", timer_interval_s=2)
    assert _seen(result) == [
        "trade 10000",
        "fill buy 10000@10000 position 10000",  # the target filled at once, at the last trade (no top of book yet)
        "timer 2",  # event time crossed 2 s: the timer comes before the book at 2 s
        "book 10000/10010",  # quotes a bid at 99.00
        "timer 4",
        "trade 9900",
        "fill buy 3000@9900 position 13000",  # a seller traded at 99.00: the resting bid filled 0.3 (the trade's size)
        "book 9980/9990",
        "timer 6",
        "trade 9850",
        "fill buy 2000@9900 position 15000",  # the rest of the bid, at its own price
    ]
    assert result.positions == {KEY: Decimal("1.5")}
    fees = Decimal("100") * Decimal("0.001") + Decimal("99") * Decimal("0.0005") * Decimal("0.001") * 1000
    assert result.fees == {"USDT": fees}
    assert result.cash == {"USDT": -(Decimal("100") + Decimal("99") * Decimal("0.5")) - fees}
    assert result.pnl == {"USDT": result.cash["USDT"] + Decimal("1.5") * Decimal("98.50")}  # marked at the last trade
    assert [f.liquidity.value for f in result.fills] == ["taker", "maker", "maker"]


def _seen(result) -> list[str]:  # type: ignore[no-untyped-def]
    return msgspec.msgpack.decode(result.snapshot)[2]["seen"]  # the snapshot envelope: [strategy, state version, state]


def test_a_backtest_is_deterministic() -> None:
    events = scripted_events()
    first = run_backtest(Scripted, {}, [KEY], [instrument()], events, fee_bps="10", timer_interval_s=2)
    second = run_backtest(Scripted, {}, [KEY], [instrument()], events, fee_bps="10", timer_interval_s=2)
    assert msgspec.msgpack.encode(first) == msgspec.msgpack.encode(second)


def test_an_unmarketable_limited_target_does_not_fill() -> None:
    class LimitBuyer(Scripted):
        def on_book(self, top: BestBidOffer) -> Sequence[Intent]:
            return [TargetPosition(top.key, 10000, top.bid_price)]  # at the bid: does not take the ask

    result = run_backtest(LimitBuyer, {}, [KEY], [instrument()], [bbo(100_00, 100_10, 1)])
    assert result.fills == [] and result.positions == {} and len(result.intents) == 1


def test_ema_crossover_round_trip_pnl_is_exact() -> None:
    prices = [100_00] * 4 + [101_00, 102_00, 103_00, 99_00, 95_00, 94_00]
    result = run_backtest(
        EmaCrossover, {"fast_period": 2, "slow_period": 4, "position_size": "0.5"}, [KEY], [instrument()], closes(prices)
    )
    # long 0.5 at the close of the first bar over the flat run (101.00), short to -0.5 at 99.00, marked at 94.00
    assert [(f.side, f.price, f.size) for f in result.fills] == [(Side.BUY, 101_00, 5000), (Side.SELL, 99_00, 10000)]
    assert result.positions == {KEY: Decimal("-0.5")}
    assert result.pnl == {"USDT": Decimal("0.5") * (99 - 101) + Decimal("0.5") * (99 - 94)}


def test_market_maker_over_a_polars_frame_of_stored_trades() -> None:
    frame = pl.DataFrame(
        {
            "exchange": ["binance"] * 4,
            "symbol": ["BTC/USDT"] * 4,
            "trade_id": ["11", "12", "13", "14"],
            "exchange_ts_ns": [START_NS + i for i in (3, 4, 5, 6)],
            "receive_ts_ns": [START_NS + i for i in (3, 4, 5, 6)],
            "side": ["sell", "sell", "buy", "buy"],
            "price": ["99.80", "99.90", "100.30", "100.20"],
            "size": ["0.05", "0.2", "0.05", "0.5"],
        }
    )
    reference = [instrument(tick=5, lot=10)]
    events = list(merge_by_time([bbo(100_00, 100_10, 0)], trades_from_frame(frame, {KEY: reference[0]})))
    assert [type(e).__name__ for e in events] == ["BestBidOffer", "Trade", "Trade", "Trade", "Trade"]
    assert events[1].price == 99_80 and events[1].size == 500
    parameters = {"quote_size": "0.1", "max_inventory": "0.2", "half_spread_bps": "10"}
    result = run_backtest(InventorySkewedMarketMaker, parameters, [KEY], reference, events)
    # the bid at 99.90 fills 0.05, is re-quoted at 0.1, fills 0.1; long 0.15 the quotes skew down and
    # the ask at 100.10 sells 0.05 then 0.1: flat again, 0.15 × 0.20 earned
    assert [(f.side, f.price, f.size) for f in result.fills] == [
        (Side.BUY, 99_90, 500),
        (Side.BUY, 99_90, 1000),
        (Side.SELL, 100_10, 500),
        (Side.SELL, 100_10, 1000),
    ]
    assert all(f.liquidity.value == "maker" for f in result.fills)
    assert result.positions == {KEY: Decimal(0)} and result.pnl == {"USDT": Decimal("0.03")}


def test_ema_crossover_over_a_polars_frame_of_stored_candles() -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 12, 1, tzinfo=UTC)
    closes_ = ["100", "100", "100", "100", "101", "102", "103", "99", "95", "94"]
    frame = pl.DataFrame(
        {
            "exchange": ["binance"] * 10,
            "symbol": ["BTC/USDT"] * 10,
            "interval_s": [60] * 10,
            "open_time": [start + timedelta(minutes=i) for i in range(10)],
            "open": closes_,
            "high": closes_,
            "low": closes_,
            "close": closes_,
            "volume": ["1.5"] * 10,
            "trade_count": [3] * 10,
        }
    )
    candles = list(candles_from_frame(frame.reverse(), {KEY: instrument()}))  # stored in any order
    opened = int(start.timestamp()) * 1_000_000_000
    assert (candles[0].open_ts_ns, candles[0].receive_ts_ns) == (opened, opened + 60 * 1_000_000_000)  # known at its close
    assert (candles[4].close, candles[4].volume, candles[4].closed) == (101_00, 15000, True)
    result = run_backtest(
        EmaCrossover, {"fast_period": 2, "slow_period": 4, "position_size": "0.5"}, [KEY], [instrument()], candles
    )
    assert result.pnl == {"USDT": Decimal("0.5") * (99 - 101) + Decimal("0.5") * (99 - 94)}  # as from the events themselves
