"""The simulated Kraken's WebSocket v2 (``/v2``, as ``wss://ws.kraken.com/v2``), beside v1 over the same market."""
