"""The Kraken WebSocket v1 protocol (``trade``, ``book``, ``ticker``, ``ohlc``) and public REST (AssetPairs, OHLC)."""
