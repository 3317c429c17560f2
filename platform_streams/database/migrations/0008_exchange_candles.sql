-- The exchanges' own OHLCV candles, fetched over REST by the control plane's market-data assets
-- (backfills, the daily schedule, gap repair). Kept apart from `candles`, the platform's candles
-- folded from its trades: an exchange's kline is its own definition. Written idempotently: a
-- partition fetched again replaces its rows (one row per exchange, symbol, interval and open time).

CREATE TABLE exchange_candles (
    exchange    text        NOT NULL,
    symbol      text        NOT NULL,
    interval_s  integer     NOT NULL CHECK (interval_s > 0),
    open_time   timestamptz NOT NULL,
    open        numeric     NOT NULL,
    high        numeric     NOT NULL,
    low         numeric     NOT NULL,
    close       numeric     NOT NULL,
    volume      numeric     NOT NULL,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, interval_s, open_time)
) PARTITION BY RANGE (open_time);
