"""Trades for processing tests: hand-made ones, random ones, and an independent candle oracle."""

from __future__ import annotations

import random
from collections import defaultdict

from platform_streams.schemas import Candle, Side, Trade

T0 = 1_764_000_000_000_000_000  # 2025-11-24T16:00:00Z, a minute boundary
SECOND = 1_000_000_000
MINUTE = 60 * SECOND


def trade(trade_id: str, ts_ns: int, price: int, size: int = 1, symbol: str = "BTC/USDT", exchange: str = "test") -> Trade:
    return Trade(
        exchange=exchange,
        symbol=symbol,
        exchange_ts_ns=ts_ns,
        receive_ts_ns=ts_ns + 1_000_000,
        sequence=int(trade_id) if trade_id.isdigit() else 0,
        trade_id=trade_id,
        side=Side.BUY,
        price=price,
        size=size,
        price_scale=2,
        size_scale=3,
    )


def random_trades(
    rng: random.Random, count: int, symbols: tuple[str, ...] = ("A/USD", "B/USD"), span_s: int = 180
) -> list[Trade]:
    """Trades in exchange-time order over ``span_s`` seconds, many with equal times (ms ticks)."""
    times = sorted(T0 + rng.randrange(span_s * 1000) * 1_000_000 for _ in range(count))
    return [
        trade(str(n * 7 % 100_003), ts, rng.randint(9_000, 11_000), rng.randint(1, 999), rng.choice(symbols))
        for n, ts in enumerate(times)
    ]


def oracle_candles(trades: list[Trade], interval_s: int) -> dict[tuple[str, int], tuple[int, ...]]:
    """Candles by (key, open_ts_ns) from the set of distinct trades, computed from scratch:
    (open, high, low, close, volume, trade_count)."""
    distinct = {(t.key, t.trade_id): t for t in trades}
    groups: dict[tuple[str, int], list[Trade]] = defaultdict(list)
    interval_ns = interval_s * SECOND
    for t in distinct.values():
        groups[(t.key, t.exchange_ts_ns // interval_ns * interval_ns)].append(t)
    result = {}
    for key, members in groups.items():
        members.sort(key=lambda t: (t.exchange_ts_ns, len(t.trade_id), t.trade_id))
        prices = [t.price for t in members]
        result[key] = (prices[0], max(prices), min(prices), prices[-1], sum(t.size for t in members), len(members))
    return result


def as_oracle(candles: list[Candle]) -> dict[tuple[str, int], tuple[int, ...]]:
    return {(c.key, c.open_ts_ns): (c.open, c.high, c.low, c.close, c.volume, c.trade_count) for c in candles}
