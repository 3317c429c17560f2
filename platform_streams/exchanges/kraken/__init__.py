"""Kraken spot WebSocket API v1 (``wss://ws.kraken.com``) market data and the public AssetPairs endpoint."""
