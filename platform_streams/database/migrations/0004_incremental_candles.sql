-- Incremental candles: the sink folds each batch's newly inserted trades into their
-- one-minute candles in the statement that inserts them
-- (platform_streams/sinks/candle_rollup.py). Open and close are the first and last
-- trade by (exchange_ts_ns, length(trade_id), trade_id); merging them across batches
-- needs that ordering key of the open and of the close trade, kept on the row.

ALTER TABLE candles
    ADD COLUMN open_ts_ns     bigint,
    ADD COLUMN open_trade_id  text,
    ADD COLUMN close_ts_ns    bigint,
    ADD COLUMN close_trade_id text;

-- Minutes not closed yet (a few per instrument): what the sink's periodic sweep reads.
CREATE INDEX candles_not_closed ON candles (open_time) WHERE NOT closed;

-- Backfill: every candle recomputed from its stored trades, keys included, which also
-- catches up minutes the previous sink had not refreshed before it stopped. Rows keep
-- their `closed` flag; new rows start open and the sink's first sweep closes them.
-- Candles whose trades are no longer stored keep NULL keys: later trades still add to
-- their high, low, volume and count, but never replace their open or close.
CREATE TEMP TABLE candle_backfill ON COMMIT DROP AS
SELECT exchange, symbol, open_time,
       prices[1] AS open, high, low, prices[cardinality(prices)] AS close, volume, trade_count,
       ts_ns[1] AS open_ts_ns, trade_ids[1] AS open_trade_id,
       ts_ns[cardinality(ts_ns)] AS close_ts_ns, trade_ids[cardinality(trade_ids)] AS close_trade_id
FROM (
    SELECT exchange, symbol, date_trunc('minute', ts, 'UTC') AS open_time,
           array_agg(price ORDER BY exchange_ts_ns, length(trade_id), trade_id) AS prices,
           array_agg(exchange_ts_ns ORDER BY exchange_ts_ns, length(trade_id), trade_id) AS ts_ns,
           array_agg(trade_id ORDER BY exchange_ts_ns, length(trade_id), trade_id) AS trade_ids,
           max(price) AS high, min(price) AS low, sum(size) AS volume, count(*) AS trade_count
    FROM trades
    GROUP BY 1, 2, 3
) AS minutes;

SELECT ensure_daily_partitions('candles', day, day)
FROM (SELECT DISTINCT (open_time AT TIME ZONE 'UTC')::date AS day FROM candle_backfill) AS days;

INSERT INTO candles (exchange, symbol, interval_s, open_time, open, high, low, close, volume, trade_count,
                     open_ts_ns, open_trade_id, close_ts_ns, close_trade_id, closed, updated_at)
SELECT exchange, symbol, 60, open_time, open, high, low, close, volume, trade_count,
       open_ts_ns, open_trade_id, close_ts_ns, close_trade_id, false, now()
FROM candle_backfill
ON CONFLICT (exchange, symbol, interval_s, open_time) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, trade_count = EXCLUDED.trade_count,
    open_ts_ns = EXCLUDED.open_ts_ns, open_trade_id = EXCLUDED.open_trade_id,
    close_ts_ns = EXCLUDED.close_ts_ns, close_trade_id = EXCLUDED.close_trade_id,
    updated_at = EXCLUDED.updated_at;
