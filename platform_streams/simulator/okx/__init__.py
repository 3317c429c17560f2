"""The OKX v5 public protocol: WebSocket ``/ws/v5/public`` (trades, books, bbo-tbt, tickers, candle1m) and public REST."""
