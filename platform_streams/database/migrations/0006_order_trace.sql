-- Execution's record of orders (platform_streams/execution/order_store.py): what 0002 left out.
-- An order is written here before it is sent (status 'pending'), so a restarted executor
-- finds it and reconciles it with the exchange instead of sending it again.

ALTER TABLE orders
    ADD COLUMN price_scale    smallint NOT NULL DEFAULT 0,
    ADD COLUMN size_scale     smallint NOT NULL DEFAULT 0,
    ADD COLUMN last_sequence  integer  NOT NULL DEFAULT 0,
    ADD COLUMN reason         text     NOT NULL DEFAULT '',
    ADD COLUMN hops           jsonb    NOT NULL DEFAULT '[]',
    ADD COLUMN sent_ts_ns     bigint,
    ADD COLUMN acked_ts_ns    bigint;

COMMENT ON COLUMN orders.last_sequence IS 'sequence of the last exec.order_event applied: an older or repeated event changes nothing';
COMMENT ON COLUMN orders.hops IS 'the latency trace: [[stage, in_ts_ns, out_ts_ns], ...] from the market event to the order request';
COMMENT ON COLUMN orders.sent_ts_ns IS 'when execution handed the order to the exchange (ns since the epoch)';
COMMENT ON COLUMN orders.acked_ts_ns IS 'when the exchange''s first answer (accepted or rejected) arrived';

ALTER TABLE positions
    ADD COLUMN unrealized_pnl numeric NOT NULL DEFAULT 0,
    ADD COLUMN mark_price     numeric,
    ADD COLUMN fees           jsonb   NOT NULL DEFAULT '[]';
