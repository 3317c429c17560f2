"""Market data as Dagster assets: the exchanges' candles fetched over REST, partitioned by day and
exchange, backfilled from the UI, checked for gaps, and repaired."""
