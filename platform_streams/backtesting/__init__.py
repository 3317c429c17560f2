"""Backtests through the platform's own trading chain: a strategy deployment, its capital budget,
pre-trade risk and the paper venue's fill model, replayed in-process over stored market data."""
