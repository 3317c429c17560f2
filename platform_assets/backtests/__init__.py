"""Backtests of each strategy version over stored market data, as Dagster assets."""
