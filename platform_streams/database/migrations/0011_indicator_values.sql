-- Indicator values recomputed by the control plane's indicator assets from the stored one-minute
-- candles (`candles`), with the stream's own kernels (platform_streams/processing/indicators). One
-- row per instrument, indicator output, parameters, interval and candle end (`ts`); a day × exchange
-- partition of an indicator is replaced at once. `code_version` is the indicator's definition the
-- value was computed with: after a change, the asset shows stale until recomputed.

CREATE TABLE indicator_values (
    exchange     text        NOT NULL,
    symbol       text        NOT NULL,
    indicator    text        NOT NULL,  -- the published name: ema, bollinger.upper, ...
    parameters   text        NOT NULL,  -- period=20,k=2
    interval_s   integer     NOT NULL CHECK (interval_s > 0),
    ts           timestamptz NOT NULL,  -- the candle's end: what the stream stamps the value with
    value        numeric     NOT NULL,
    code_version text        NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, indicator, parameters, interval_s, ts)
) PARTITION BY RANGE (ts);
