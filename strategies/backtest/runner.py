"""Runs one strategy over a time-ordered sequence of canonical market events: the same driver, the
same callbacks in the same order as the host gives them live, with fills from the simple fill model
fed back as ``on_fill``. Pure and deterministic: the same events give the same result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from platform_streams.schemas import Fill, Instrument
from strategies.backtest.fill_model import SimpleFillModel
from strategies.backtest.ledger import Ledger
from strategies.backtest.market_events import MarketEvent
from strategies.context import StrategyContext
from strategies.driver import StrategyDriver
from strategies.intents import Intent
from strategies.strategy import Strategy

MAX_FILL_ROUNDS = 1_000  # fills that cause intents that fill at once: a strategy that loops is an error


class BacktestLoopError(RuntimeError):
    """A strategy kept trading with itself at one instant (each fill caused another)."""


class TimedIntent(msgspec.Struct, frozen=True, array_like=True):
    ts_ns: int
    intent: Intent


class BacktestResult(msgspec.Struct, frozen=True):
    """What a backtest did: every intent with its time, every fill, and the end state, exactly."""

    events: int
    intents: list[TimedIntent]
    fills: list[Fill]
    positions: dict[str, Decimal]
    cash: dict[str, Decimal]
    fees: dict[str, Decimal]
    pnl: dict[str, Decimal]
    snapshot: bytes

    @property
    def orders(self) -> int:
        """Intents that ask the market for something (all of them: targets, quotes and cancels)."""
        return len(self.intents)


def run_backtest(
    strategy_class: type[Strategy],
    parameters: Mapping[str, Any],
    instruments: Sequence[str],
    reference: Iterable[Instrument],
    events: Iterable[MarketEvent],
    *,
    fee_bps: Decimal | str | int = 0,
    timer_interval_s: float = 0.0,
    deployment: str = "backtest",
    state: bytes | None = None,
) -> BacktestResult:
    """Run ``strategy_class`` with ``parameters`` on ``instruments`` over ``events`` (in receive-time
    order). ``reference`` holds the instruments' trading rules; ``state`` a snapshot to start from."""
    strategy_class.check_instruments(instruments)
    values = strategy_class.validate(parameters)
    by_key = {instrument.key: instrument for instrument in reference}
    context = StrategyContext(deployment, values, tuple(instruments), by_key)
    strategy = strategy_class(context)
    if state is not None:
        strategy.restore(state)
    driver = StrategyDriver(strategy, int(timer_interval_s * 1e9))
    fill_model = SimpleFillModel(by_key, Decimal(fee_bps), account=deployment)
    ledger = Ledger(by_key)
    intents: list[TimedIntent] = []
    fills: list[Fill] = []
    count = 0
    for event in events:
        count += 1
        resting_fills = fill_model.observe(event)
        caused = driver.on_event(event)
        pending = resting_fills + _submit(fill_model, intents, caused, event.receive_ts_ns)
        for _ in range(MAX_FILL_ROUNDS):
            if not pending:
                break
            fill = pending.pop(0)
            fills.append(fill)
            ledger.record(fill)
            pending.extend(_submit(fill_model, intents, driver.on_event(fill), fill.receive_ts_ns))
        else:
            raise BacktestLoopError(f"{strategy_class.name}: more than {MAX_FILL_ROUNDS} fills at {event.receive_ts_ns}")
    marks = {key: fill_model.mark(key) for key in ledger.positions}
    return BacktestResult(
        events=count,
        intents=intents,
        fills=fills,
        positions={key: ledger.position(key) for key in ledger.positions},
        cash=ledger.cash,
        fees=ledger.fees,
        pnl=ledger.pnl(marks),
        snapshot=strategy.snapshot(),
    )


def _submit(fill_model: SimpleFillModel, log: list[TimedIntent], caused: Sequence[Intent], now_ns: int) -> list[Fill]:
    if not caused:
        return []
    log.extend(TimedIntent(now_ns, intent) for intent in caused)
    return fill_model.submit(list(caused), now_ns)
