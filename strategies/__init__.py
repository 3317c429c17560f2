"""Trading strategies and capital-allocation policies: plain Python over canonical events,
with no Kafka or Dagster imports, so the same class runs in backtest, paper and live."""
