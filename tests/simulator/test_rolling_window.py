"""The cached rolling windows behind the OKX and Kraken tickers agree with the straightforward 24-hour computation."""

from __future__ import annotations

import dataclasses

from platform_streams.simulator.clock import SimClock
from platform_streams.simulator.market.candle_history import CandleHistory
from platform_streams.simulator.market.kline_query import rolling_24h
from platform_streams.simulator.market.rolling_window import RollingWindows
from platform_streams.simulator.market.world import MarketWorld
from tests.simulator.conftest import EPOCH_MS


def test_cached_windows_equal_a_fresh_computation_across_minute_boundaries() -> None:
    clock = SimClock((EPOCH_MS + 47_000) * 1_000_000, 10_000_000)  # 13 s before a minute ends
    world = MarketWorld(5, {"okx": 12}, 1500.0, clock)
    market = world.venues["okx"]
    history = CandleHistory(5, "okx", market.instruments, clock.now_ms)
    windows = RollingWindows(market, history)
    checked = 0
    for step in range(1, 8001):
        world.step()
        market.take_batch()
        if step % 700 == 0:
            now = clock.now_ms
            for instrument in range(4):
                cached = windows.last_24h(instrument, now)
                fresh = rolling_24h(market, history, instrument, now)
                # the cached window starts on a minute, the fresh one at now - 24 h: no candle lies between
                assert dataclasses.replace(cached, open_time_ms=fresh.open_time_ms) == fresh
                today = windows.today(instrument, now)
                assert today.low <= today.last <= today.high  # the UTC day lies inside the last 24 hours:
                assert today.volume_lots <= cached.volume_lots and today.trades <= cached.trades
                checked += 1
    assert checked == 44 and clock.now_ms - EPOCH_MS > 120_000
