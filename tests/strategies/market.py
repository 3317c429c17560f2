"""Builders of canonical events for strategy tests: instruments with scales and rules, candles,
tops of book, trades and fills, with times that increase by the second."""

from __future__ import annotations

from platform_streams.schemas import BestBidOffer, Candle, Fill, Instrument, Liquidity, Side, Trade

SECOND = 1_000_000_000
START_NS = 1_765_000_000 * SECOND


def instrument(
    exchange: str = "binance", symbol: str = "BTC/USDT", *, price_scale: int = 2, size_scale: int = 4, tick: int = 1, lot: int = 1
) -> Instrument:
    base, quote = symbol.split("/")
    return Instrument(exchange, symbol, symbol.replace("/", ""), base, quote, price_scale, size_scale, tick, lot)


def candle(
    close: int, i: int, *, key: str = "binance:BTC/USDT", interval_s: int = 60, closed: bool = True, price_scale: int = 2
) -> Candle:
    exchange, symbol = key.split(":")
    ts = START_NS + i * interval_s * SECOND
    return Candle(exchange, symbol, ts, ts, i, interval_s, ts, close, close, close, close, 10, 1, closed, price_scale, 4)


def closes(prices: list[int], *, key: str = "binance:BTC/USDT", interval_s: int = 60) -> list[Candle]:
    return [candle(price, i, key=key, interval_s=interval_s) for i, price in enumerate(prices)]


def bbo(
    bid: int,
    ask: int,
    i: int,
    *,
    key: str = "binance:BTC/USDT",
    bid_size: int = 10_000,
    ask_size: int = 10_000,
    price_scale: int = 2,
    size_scale: int = 4,
) -> BestBidOffer:
    exchange, symbol = key.split(":")
    ts = START_NS + i * SECOND
    return BestBidOffer(exchange, symbol, ts, ts, i, bid, bid_size, ask, ask_size, price_scale, size_scale)


def trade(price: int, size: int, i: int, *, key: str = "binance:BTC/USDT", side: Side = Side.BUY) -> Trade:
    exchange, symbol = key.split(":")
    ts = START_NS + i * SECOND
    return Trade(exchange, symbol, ts, ts, i, str(i), side, price, size, 2, 4)


def fill(side: Side, price: int, size: int, i: int, *, key: str = "binance:BTC/USDT", account: str = "acct") -> Fill:
    exchange, symbol = key.split(":")
    ts = START_NS + i * SECOND
    return Fill(
        f"f{i}", f"c{i}", f"e{i}", account, exchange, symbol, side, price, size, 2, 4, 0, 2, "USDT", Liquidity.MAKER, ts, ts
    )


def driver_for(
    strategy_class, parameters: dict, reference: list[Instrument], instruments: list[str] | None = None, timer_s: float = 0
):  # type: ignore[no-untyped-def]
    """A driven strategy on ``instruments`` (default: every instrument of ``reference``)."""
    from strategies.context import StrategyContext
    from strategies.driver import StrategyDriver

    keys = tuple(instruments or [i.key for i in reference])
    strategy_class.check_instruments(keys)
    context = StrategyContext("test", strategy_class.validate(parameters), keys, {i.key: i for i in reference})
    return StrategyDriver(strategy_class(context), int(timer_s * SECOND))


def run(driver, events) -> list:  # type: ignore[no-untyped-def]
    """Every intent the events caused, in order."""
    return [intent for event in events for intent in driver.on_event(event)]
