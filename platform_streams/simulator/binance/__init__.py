"""Binance spot protocol of the simulator: market and user data streams, REST API, limits."""
