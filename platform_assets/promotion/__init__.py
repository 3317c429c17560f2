"""Promotion of a strategy version from backtest to paper to live, and rollback, with its registry."""
