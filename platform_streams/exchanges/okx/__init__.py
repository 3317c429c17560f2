"""OKX v5 public WebSocket market data and the public instruments endpoint."""
