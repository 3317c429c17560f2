"""Kraken spot WebSocket API v2 (``wss://ws.kraken.com/v2``) market data, venue ``krakenv2``, with instruments
from the public AssetPairs endpoint."""
