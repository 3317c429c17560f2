"""Snapshot and restore: a strategy restored mid-stream decides exactly as the one that ran through;
another strategy's snapshot, or a newer state version, is refused; an older one is upgraded."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import pytest

from platform_streams.schemas import Candle, Side
from strategies.context import StrategyContext
from strategies.cross_exchange_arbitrage import CrossExchangeArbitrage
from strategies.ema_crossover import EmaCrossover
from strategies.intents import NO_INTENTS, Intent, TargetPosition
from strategies.market_maker import InventorySkewedMarketMaker
from strategies.mean_reversion import MeanReversion
from strategies.strategy import StateVersionError, Strategy
from tests.strategies.market import bbo, closes, driver_for, fill, instrument, run

BINANCE, OKX = "binance:BTC/USDT", "okx:BTC/USDT"
TWO_EXCHANGES = [instrument(), instrument("okx")]
WAVE = [100_00 + (i % 7) * 150 - (i % 3) * 200 + (800 if i % 11 == 0 else 0) for i in range(60)]

CASES = {
    "ema-crossover": (
        EmaCrossover,
        {"fast_period": 3, "slow_period": 7, "position_size": "1"},
        [instrument()],
        None,
        closes(WAVE),
    ),
    "mean-reversion": (
        MeanReversion,
        {"window": 8, "entry_z": "1.2", "exit_z": "0.3", "position_size": "1"},
        [instrument()],
        None,
        closes(WAVE),
    ),
    "arbitrage": (
        CrossExchangeArbitrage,
        {"trade_size": "0.2", "max_inventory": "1"},
        TWO_EXCHANGES,
        [BINANCE, OKX],
        [bbo(p, p + 10, i, key=BINANCE if i % 2 else OKX) for i, p in enumerate(WAVE)],
    ),
    "market-maker": (
        InventorySkewedMarketMaker,
        {"quote_size": "0.1", "max_inventory": "0.3"},
        [instrument()],
        None,
        [bbo(p, p + 10, i) if i % 5 else fill(Side.BUY if i % 10 else Side.SELL, p, 1000, i) for i, p in enumerate(WAVE)],
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_restored_strategy_continues_exactly_like_the_original(case: str) -> None:
    cls, parameters, reference, instruments, events = CASES[case]
    original = driver_for(cls, parameters, reference, instruments)
    before = run(original, events[:30])
    restored = driver_for(cls, parameters, reference, instruments)
    restored.strategy.restore(original.strategy.snapshot())
    for key in original.context.positions():  # positions travel beside the state (the host's snapshot record)
        restored.context.add_to_position(key, original.context.position(key))
    after_original, after_restored = run(original, events[30:]), run(restored, events[30:])
    assert before and after_original, "the case must make the strategy act on both halves"
    assert after_restored == after_original
    assert restored.strategy.snapshot() == original.strategy.snapshot()


def test_another_strategys_snapshot_is_refused() -> None:
    ema = driver_for(EmaCrossover, {"position_size": "1"}, [instrument()])
    reversion = driver_for(MeanReversion, {"position_size": "1"}, [instrument()])
    with pytest.raises(StateVersionError, match="mean-reversion: the snapshot is of strategy 'ema-crossover'"):
        reversion.strategy.restore(ema.strategy.snapshot())
    with pytest.raises(StateVersionError, match="not a strategy snapshot"):
        reversion.strategy.restore(b"\x01garbage")


class CounterV1(msgspec.Struct):
    bars: int = 0


class CounterV2(msgspec.Struct):
    bars: int = 0
    last_close: int = 0


class BarCounter(Strategy):
    """Version 1 of a test strategy: counts bars."""

    name = "bar-counter"
    version = "1"
    state_type = CounterV1

    def __init__(self, context: StrategyContext) -> None:
        super().__init__(context)
        self.counter = CounterV1()

    def on_bar(self, candle: Candle) -> Sequence[Intent]:
        self.counter.bars += 1
        return NO_INTENTS if self.counter.bars < 3 else [TargetPosition(candle.key, self.counter.bars)]

    def state(self) -> CounterV1:
        return self.counter

    def load_state(self, state: CounterV1) -> None:
        self.counter = state


class BarCounterV2(BarCounter):
    """Version 2 keeps one more field: it reads version 1's state and carries the count over."""

    version = "2"
    state_type = CounterV2
    state_version = 2

    def upgrade_state(self, raw: bytes, from_version: int) -> CounterV2:
        old = msgspec.msgpack.decode(raw, type=CounterV1)
        return CounterV2(bars=old.bars)


def test_version_n_plus_1_takes_over_version_ns_state_and_n_cannot_read_n_plus_1() -> None:
    v1 = driver_for(BarCounter, {}, [instrument()])
    run(v1, closes([1, 2]))
    v2 = driver_for(BarCounterV2, {}, [instrument()])
    v2.strategy.restore(v1.strategy.snapshot())
    assert [i.size for i in run(v2, closes([3]))] == [3]  # the count carried over
    with pytest.raises(StateVersionError, match="state version 2 is newer than this one's 1"):
        driver_for(BarCounter, {}, [instrument()]).strategy.restore(v2.strategy.snapshot())
