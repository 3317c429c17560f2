-- Backtests the control plane ran: one row per run of a strategy version over stored market data,
-- with what it was given (parameters, instruments, range, capital, fees) and what it measured
-- (metrics as JSON, PnL and fees exact, the equity and drawdown plot as PNG). The promotion
-- pipeline gates on these rows and compares a paper run against them.

CREATE TABLE backtest_results (
    run_id        text        PRIMARY KEY,  -- the Dagster run that computed it
    strategy      text        NOT NULL,
    version       text        NOT NULL,
    parameters    jsonb       NOT NULL,
    instruments   text[]      NOT NULL,
    range_start   timestamptz NOT NULL,
    range_end     timestamptz NOT NULL,
    capital       numeric     NOT NULL,
    maker_fee_bps integer     NOT NULL,
    taker_fee_bps integer     NOT NULL,
    metrics       jsonb       NOT NULL,
    pnl           numeric     NOT NULL,
    fees          numeric     NOT NULL,
    equity_png    bytea       NOT NULL,
    computed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX backtest_results_by_version ON backtest_results (strategy, version, computed_at DESC);
