-- Market data: instruments, trades, top of book and candles.
-- Prices and sizes are NUMERIC (exact); *_ts_ns columns keep nanosecond timestamps,
-- `ts` columns (timestamptz) are the partition keys. Primary keys are the natural
-- exchange ids, so replaying a topic into these tables inserts nothing twice
-- (sinks use ON CONFLICT DO NOTHING / DO UPDATE).

CREATE TABLE instruments (
    exchange        text        NOT NULL,
    symbol          text        NOT NULL,          -- normalised, e.g. BTC/USDT
    exchange_symbol text        NOT NULL,          -- as the exchange spells it, e.g. BTCUSDT
    base            text        NOT NULL,
    quote           text        NOT NULL,
    price_scale     smallint    NOT NULL,
    size_scale      smallint    NOT NULL,
    tick_size       numeric     NOT NULL,
    lot_size        numeric     NOT NULL,
    min_notional    numeric,
    status          text        NOT NULL DEFAULT 'trading',
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol),
    UNIQUE (exchange, exchange_symbol)
);

CREATE TABLE trades (
    exchange       text        NOT NULL,
    symbol         text        NOT NULL,
    trade_id       text        NOT NULL,
    ts             timestamptz NOT NULL,           -- exchange time
    exchange_ts_ns bigint      NOT NULL,
    receive_ts_ns  bigint      NOT NULL,
    side           text        NOT NULL CHECK (side IN ('buy', 'sell', 'unknown')),
    price          numeric     NOT NULL CHECK (price > 0),
    size           numeric     NOT NULL CHECK (size > 0),
    PRIMARY KEY (exchange, symbol, trade_id, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE book_top (
    exchange       text        NOT NULL,
    symbol         text        NOT NULL,
    ts             timestamptz NOT NULL,
    sequence       bigint      NOT NULL,
    exchange_ts_ns bigint      NOT NULL,
    receive_ts_ns  bigint      NOT NULL,
    bid_price      numeric     NOT NULL,
    bid_size       numeric     NOT NULL,
    ask_price      numeric     NOT NULL,
    ask_size       numeric     NOT NULL,
    PRIMARY KEY (exchange, symbol, ts, sequence)
) PARTITION BY RANGE (ts);

CREATE TABLE candles (
    exchange    text        NOT NULL,
    symbol      text        NOT NULL,
    interval_s  integer     NOT NULL CHECK (interval_s > 0),
    open_time   timestamptz NOT NULL,
    open        numeric     NOT NULL,
    high        numeric     NOT NULL,
    low         numeric     NOT NULL,
    close       numeric     NOT NULL,
    volume      numeric     NOT NULL,
    trade_count bigint      NOT NULL,
    closed      boolean     NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, interval_s, open_time)
) PARTITION BY RANGE (open_time);

-- Creates one partition per UTC day of `parent` for [first_day, last_day]; returns how
-- many it created. Sinks call it for the days of a batch before writing.
CREATE FUNCTION ensure_daily_partitions(parent regclass, first_day date, last_day date)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date := first_day;
    created integer := 0;
    partition_name text;
BEGIN
    WHILE day <= last_day LOOP
        partition_name := format('%s_p%s', parent::text, to_char(day, 'YYYYMMDD'));
        IF to_regclass(partition_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                partition_name, parent::text, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC'
            );
            created := created + 1;
        END IF;
        day := day + 1;
    END LOOP;
    RETURN created;
END;
$$;
