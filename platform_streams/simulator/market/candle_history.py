"""Candles from before the simulation started, so a client asking for history (klines, 24h stats) gets some.

The past is generated backwards from each instrument's starting price: the newest
candle closes at the start price, each one before it is a lognormal step away.
Every field has its own seeded random stream drawn in candle order, so the newest
``n`` candles are the same whatever ``n`` a request asks for; nothing is cached.
Live candles (built from the simulated trades) take over from the start minute.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from platform_streams.simulator.market.candles import MINUTE_MS, Candle
from platform_streams.simulator.market.price_model import SECONDS_PER_YEAR
from platform_streams.simulator.market.universe import Instrument, stable_seed

#: Kline intervals by their exchange name; all are multiples of one minute.
INTERVAL_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": 60 * MINUTE_MS,
    "2h": 120 * MINUTE_MS,
    "4h": 240 * MINUTE_MS,
    "6h": 360 * MINUTE_MS,
    "8h": 480 * MINUTE_MS,
    "12h": 720 * MINUTE_MS,
    "1d": 1440 * MINUTE_MS,
    "3d": 3 * 1440 * MINUTE_MS,
    "1w": 7 * 1440 * MINUTE_MS,
}
MAX_SYNTHETIC_CANDLES = 5000
_ANNUAL_VOLATILITY = 0.6


class CandleHistory:
    """Synthetic pre-start candles of one exchange's instruments."""

    def __init__(self, seed: int, exchange: str, instruments: tuple[Instrument, ...], start_ms: int) -> None:
        self._seed = seed
        self._exchange = exchange
        self._instruments = instruments
        self.start_ms = start_ms

    def boundary_ms(self, interval_ms: int) -> int:
        """Open time of the first candle of this interval that live data covers."""
        return self.start_ms - self.start_ms % interval_ms

    def candles(self, instrument: int, interval_ms: int, count: int) -> list[Candle]:
        """The ``count`` newest candles before :meth:`boundary_ms`, oldest first."""
        count = min(count, MAX_SYNTHETIC_CANDLES)
        if count <= 0:
            return []
        spec = self._instruments[instrument]
        draw = self._streams(instrument, interval_ms)
        sigma = _ANNUAL_VOLATILITY * math.sqrt(interval_ms / 1000.0 / SECONDS_PER_YEAR)
        returns = draw("returns").normal(0.0, sigma, count)  # returns[k]: log step from candle k+1 back to candle k
        closes = spec.start_price_ticks * np.exp(-np.concatenate(([0.0], np.cumsum(returns[:-1]))))
        opens = closes * np.exp(-returns)
        wick = np.abs(draw("wicks").normal(0.0, sigma / 2.0, (count, 2)))
        highs = np.maximum(opens, closes) * np.exp(wick[:, 0])
        lows = np.minimum(opens, closes) * np.exp(-wick[:, 1])
        volume = draw("volume").lognormal(math.log(spec.typical_lots * 4.0 * interval_ms / MINUTE_MS + 1.0), 0.6, count)
        taker_share = draw("taker").uniform(0.3, 0.7, count)
        trades = draw("trades").poisson(3.0 * interval_ms / MINUTE_MS * (1.0 + spec.activity * 1000.0), count)
        boundary = self.boundary_ms(interval_ms)
        rows: list[Candle] = []
        for k in range(count - 1, -1, -1):  # oldest first
            o, c = max(1, round(opens[k])), max(1, round(closes[k]))
            h, low = max(o, c, round(highs[k])), max(1, min(o, c, round(lows[k])))
            lots = int(volume[k])
            vwap = (h + low + c) // 3
            buy_lots = int(lots * taker_share[k])
            rows.append(
                (
                    boundary - (k + 1) * interval_ms,
                    o,
                    h,
                    low,
                    c,
                    lots,
                    lots * vwap,
                    int(trades[k]),
                    buy_lots,
                    buy_lots * vwap,
                    -1,
                    -1,
                )
            )
        return rows

    def _streams(self, instrument: int, interval_ms: int) -> Callable[[str], np.random.Generator]:
        """One independent random stream per field, so every field is drawn in candle order."""

        def draw(field: str) -> np.random.Generator:
            return np.random.default_rng(stable_seed("history", self._exchange, self._seed, instrument, interval_ms, field))

        return draw


def aggregate(candles: list[Candle], interval_ms: int) -> list[Candle]:
    """Merge consecutive 1-minute candles into candles of ``interval_ms`` (aligned to the epoch)."""
    merged: list[Candle] = []
    current: list[int] | None = None
    for candle in candles:
        open_time = candle[0] - candle[0] % interval_ms
        if current is None or current[0] != open_time:
            if current is not None:
                merged.append(tuple(current))
            current = [open_time, *candle[1:]]
            continue
        current[2] = max(current[2], candle[2])
        current[3] = min(current[3], candle[3])
        current[4] = candle[4]
        for field in (5, 6, 7, 8, 9):
            current[field] += candle[field]
        if current[10] < 0:
            current[10] = candle[10]
        if candle[11] >= 0:
            current[11] = candle[11]
    if current is not None:
        merged.append(tuple(current))
    return merged
