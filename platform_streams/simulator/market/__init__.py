"""The simulated market shared by every protocol: universe, prices, order flow, books, trades and candles."""
