"""Backtests: a strategy run over recorded canonical events with a simple fill model, driven by the
same ``StrategyDriver`` as live, reporting its intents, fills, positions and PnL."""

from strategies.backtest.fill_model import SimpleFillModel
from strategies.backtest.market_events import candles_from_frame, merge_by_time, trades_from_frame
from strategies.backtest.runner import BacktestResult, run_backtest

__all__ = [
    "BacktestResult",
    "SimpleFillModel",
    "candles_from_frame",
    "merge_by_time",
    "run_backtest",
    "trades_from_frame",
]
