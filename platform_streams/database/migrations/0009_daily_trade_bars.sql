-- Daily bars over the trades the stream sinks stored (`trades`): one row per exchange, symbol and
-- UTC day, recomputed by the control plane's daily_trade_bars asset (a day's rows replaced at once).

CREATE TABLE daily_trade_bars (
    exchange     text    NOT NULL,
    symbol       text    NOT NULL,
    day          date    NOT NULL,
    open         numeric NOT NULL,
    high         numeric NOT NULL,
    low          numeric NOT NULL,
    close        numeric NOT NULL,
    volume       numeric NOT NULL,  -- base quantity traded
    notional     numeric NOT NULL,  -- quote quantity traded: sum of price × size
    trades       bigint  NOT NULL,
    buy_volume   numeric NOT NULL,  -- of it, bought by the aggressor
    first_trade  timestamptz NOT NULL,
    last_trade   timestamptz NOT NULL,
    computed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, exchange, symbol)
);
