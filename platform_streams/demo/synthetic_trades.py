"""Synthetic trade source for the demo deployment: canonical trades at a steady rate.

Deterministic for a seed: instrument ``i`` of the run walks its own random price
path, and trade ids count up per instrument, so every trade has a stable event id.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from platform_streams.runtime import Output, SourceDaemon, SourceSettings
from platform_streams.schemas import Side, Trade, encode
from platform_streams.topics import DEMO_INPUT_TOPIC

_BASES = ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "DOT", "LTC", "LINK", "AVAX", "ATOM", "TRX")


class SyntheticTradeSettings(SourceSettings, kw_only=True):
    output: str = DEMO_INPUT_TOPIC
    rate: float = 1_000.0  # trades per second across all instruments
    instruments: int = 50
    exchange: str = "synthetic"
    seed: int = 7
    limit: int = 0  # stop after this many trades (0: run until stopped)


class TradeGenerator:
    """Pure generator of trades: ``take(n, now_ns)`` returns the next ``n`` trades."""

    PRICE_SCALE = 2
    SIZE_SCALE = 6

    def __init__(self, exchange: str, instruments: int, seed: int) -> None:
        self._rng = random.Random(seed)
        self._exchange = exchange
        self._symbols = [f"{_BASES[i % len(_BASES)]}{i // len(_BASES) or ''}/USDT" for i in range(instruments)]
        self._prices = [self._rng.randint(1_000, 5_000_000) for _ in self._symbols]
        self._next_id = [1] * instruments
        self.emitted = 0

    def take(self, count: int, now_ns: int) -> list[Trade]:
        trades = []
        rng = self._rng
        for _ in range(count):
            i = rng.randrange(len(self._symbols))
            self._prices[i] = max(1, self._prices[i] + rng.randint(-5, 5))
            trade_id = self._next_id[i]
            self._next_id[i] += 1
            trades.append(
                Trade(
                    exchange=self._exchange,
                    symbol=self._symbols[i],
                    exchange_ts_ns=now_ns,
                    receive_ts_ns=now_ns,
                    sequence=trade_id,
                    trade_id=str(trade_id),
                    side=Side.BUY if rng.random() < 0.5 else Side.SELL,
                    price=self._prices[i],
                    size=rng.randint(1, 10_000_000),
                    price_scale=self.PRICE_SCALE,
                    size_scale=self.SIZE_SCALE,
                )
            )
        self.emitted += count
        return trades


class SyntheticTradeSource(SourceDaemon):
    """Emits ``rate`` synthetic trades per second to ``output``."""

    settings: SyntheticTradeSettings

    def __init__(self, settings: SyntheticTradeSettings) -> None:
        super().__init__(settings)
        self._generator = TradeGenerator(settings.exchange, settings.instruments, settings.seed)
        self._started = time.monotonic()

    def next_outputs(self, now_ns: int) -> Sequence[Output]:
        settings = self.settings
        due = int((time.monotonic() - self._started) * settings.rate) - self._generator.emitted
        if settings.limit:
            due = min(due, settings.limit - self._generator.emitted)
            if due <= 0 and self._generator.emitted >= settings.limit:
                self.stop()
        if due <= 0:
            return ()
        topic = settings.output
        return [Output(topic, encode(trade), trade.key) for trade in self._generator.take(min(due, 10_000), now_ns)]
