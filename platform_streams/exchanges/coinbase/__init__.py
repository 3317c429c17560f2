"""Coinbase Exchange (the ``ws-feed`` WebSocket, not Advanced Trade) market data and its products endpoint."""
