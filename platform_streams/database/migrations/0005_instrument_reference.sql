-- Instruments as reference data: the postgres-sink keeps one row per instrument from the
-- compacted `ref.instrument` topic (platform_streams/sinks/tables.py), and the allocator,
-- Dagster and anyone else read it here (platform_streams/reference/stored_instruments.py).
-- This completes 0001's table: every field of the Instrument event, exact (NUMERIC
-- written from the event's integer mantissa and scale, never a float), with when the
-- instrument was first and last published. Every column is described below (COMMENT ON),
-- so `\d+ instruments` in psql shows what it means.
--
-- The table has been empty until now (no sink wrote it); the statements below still keep
-- any hand-written rows valid. The migration runner applies this file once.

-- A venue can rename an instrument (a new normalised symbol for the same venue name):
-- the old row stays, inactive, beside the new one, so the venue name is no longer unique.
ALTER TABLE instruments DROP CONSTRAINT IF EXISTS instruments_exchange_exchange_symbol_key;
CREATE INDEX instruments_by_exchange_symbol ON instruments (exchange, exchange_symbol);

ALTER TABLE instruments
    ADD COLUMN kind                 text,
    ADD COLUMN settle               text        NOT NULL DEFAULT '',
    ADD COLUMN min_size             numeric     NOT NULL DEFAULT 0,
    ADD COLUMN min_notional_scale   smallint    NOT NULL DEFAULT 0,
    ADD COLUMN contract_value       numeric     NOT NULL DEFAULT 0,
    ADD COLUMN contract_value_scale smallint    NOT NULL DEFAULT 0,
    ADD COLUMN aliases              text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN first_seen           timestamptz,
    ADD COLUMN last_seen            timestamptz;

UPDATE instruments SET
    kind = coalesce(kind, 'spot'),
    min_notional = coalesce(min_notional, 0),
    status = CASE WHEN status IN ('trading', 'active') THEN 'active' ELSE 'inactive' END,
    first_seen = coalesce(first_seen, updated_at),
    last_seen = coalesce(last_seen, updated_at);

ALTER TABLE instruments
    ALTER COLUMN kind SET NOT NULL,
    ALTER COLUMN min_notional SET DEFAULT 0,
    ALTER COLUMN min_notional SET NOT NULL,
    ALTER COLUMN status SET DEFAULT 'active',
    ALTER COLUMN first_seen SET NOT NULL,
    ALTER COLUMN last_seen SET NOT NULL,
    ADD CONSTRAINT instruments_kind_known CHECK (kind IN ('spot', 'swap', 'future', 'option')),
    ADD CONSTRAINT instruments_status_known CHECK (status IN ('active', 'inactive')),
    ADD CONSTRAINT instruments_steps_not_negative
        CHECK (tick_size >= 0 AND lot_size >= 0 AND min_size >= 0 AND min_notional >= 0 AND contract_value >= 0),
    ADD CONSTRAINT instruments_seen_in_order CHECK (first_seen <= last_seen);

COMMENT ON TABLE instruments IS
    'One row per instrument an ingestion daemon published on ref.instrument (exchange, normalised symbol), '
    'as last published; written by the postgres-sink. Amounts are exact: NUMERIC from the event''s integer '
    'mantissa and scale; 0 in a constraint column means the venue publishes no such constraint.';
COMMENT ON COLUMN instruments.exchange IS 'The platform''s name of the venue (binance, okx, kraken, coinbase, or a ccxt id).';
COMMENT ON COLUMN instruments.symbol IS
    'Normalised symbol: BASE/QUOTE in the platform''s asset codes (BTC/USDT; Kraken''s XBT is BTC); '
    'BASE/QUOTE:SETTLE for swaps, BASE/QUOTE:SETTLE-YYMMDD for futures.';
COMMENT ON COLUMN instruments.exchange_symbol IS 'The venue''s name of the instrument on its market-data WebSocket (BTCUSDT, BTC-USDT, XBT/USD).';
COMMENT ON COLUMN instruments.aliases IS 'The venue''s other names for it, e.g. its REST name (Kraken''s XXBTZUSD); empty if none.';
COMMENT ON COLUMN instruments.base IS 'The asset bought and sold, in the platform''s asset code.';
COMMENT ON COLUMN instruments.quote IS 'The asset prices are quoted in, in the platform''s asset code.';
COMMENT ON COLUMN instruments.kind IS 'spot, swap (perpetual), future or option.';
COMMENT ON COLUMN instruments.settle IS 'The asset a derivative settles in; empty for spot.';
COMMENT ON COLUMN instruments.price_scale IS
    'Decimals of the price mantissas on the market-data topics for this instrument (price = mantissa / 10^price_scale).';
COMMENT ON COLUMN instruments.size_scale IS 'Decimals of the size mantissas on the market-data topics for this instrument.';
COMMENT ON COLUMN instruments.tick_size IS 'Price increment an order price must be a multiple of, in the quote asset; 0: none published.';
COMMENT ON COLUMN instruments.lot_size IS 'Size increment an order size must be a multiple of, in the base asset (contracts for derivatives); 0: none published.';
COMMENT ON COLUMN instruments.min_size IS 'Smallest order size the venue accepts, in the base asset (contracts for derivatives); 0: none published.';
COMMENT ON COLUMN instruments.min_notional IS 'Smallest order value (price x size) the venue accepts, in the quote asset; 0: none published.';
COMMENT ON COLUMN instruments.min_notional_scale IS 'Scale min_notional was published at (the Instrument event''s min_notional_scale).';
COMMENT ON COLUMN instruments.contract_value IS 'Underlying per contract of a derivative; 0 for spot.';
COMMENT ON COLUMN instruments.contract_value_scale IS 'Scale contract_value was published at.';
COMMENT ON COLUMN instruments.status IS
    'active: the venue listed it as trading when ingestion last loaded its listing. inactive: ingestion found it '
    'no longer offered (halted, suspended or delisted) and published it with active = false; it becomes active '
    'again if the venue lists it again. Never guessed from last_seen.';
COMMENT ON COLUMN instruments.first_seen IS
    'Time of the earliest ref.instrument record of this instrument the sink wrote (the Kafka record''s timestamp, '
    'so replaying the topic never moves it).';
COMMENT ON COLUMN instruments.last_seen IS
    'Time of the latest ref.instrument record of this instrument: ingestion publishes every listed instrument at '
    'each start, and an unlisted one once, when it marks it inactive. The row''s other columns are that record''s.';
COMMENT ON COLUMN instruments.updated_at IS 'When the sink last changed this row (wall clock of the database).';
