"""Binance spot: WebSocket market streams (raw and combined), REST depth snapshots and exchangeInfo."""
