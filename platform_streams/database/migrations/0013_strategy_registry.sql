-- The strategy registry: every strategy version (with its parameters) the promotion pipeline took
-- towards a live deployment, its state, its backtest's and its paper trial's figures, who asked
-- and when; and every step of it. The rollback job reads it to return a deployment to the version
-- it ran before.

CREATE TABLE strategy_registry (
    id              bigserial   PRIMARY KEY,
    deployment      text        NOT NULL,  -- the live deployment id it is promoted to (ctl.strategy key)
    strategy        text        NOT NULL,
    version         text        NOT NULL,
    parameters      jsonb       NOT NULL,
    instruments     text[]      NOT NULL,
    account         text        NOT NULL,  -- the live account
    host            text        NOT NULL,  -- the strategy host that runs it
    state           text        NOT NULL CHECK (state IN
                        ('backtesting', 'paper', 'going_live', 'live', 'rejected', 'failed', 'replaced', 'rolled_back')),
    reason          text        NOT NULL DEFAULT '',
    backtest_run_id text,
    backtest        jsonb,                 -- the backtest's metrics
    paper           jsonb,                 -- the paper trial's figures beside the backtest's on its window
    live_epoch      integer,               -- the fencing epoch it went live at
    run_id          text        NOT NULL,  -- the Dagster run that promoted it
    requested_by    text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX strategy_registry_by_deployment ON strategy_registry (deployment, updated_at DESC);
-- at most one live version of a deployment
CREATE UNIQUE INDEX strategy_registry_one_live ON strategy_registry (deployment) WHERE state = 'live';

CREATE TABLE strategy_registry_steps (
    seq         bigserial   PRIMARY KEY,
    registry_id bigint      NOT NULL REFERENCES strategy_registry (id),
    step        text        NOT NULL,  -- backtest, backtest_gate, paper_trial, paper_gate, go_live, rollback
    outcome     text        NOT NULL CHECK (outcome IN ('started', 'passed', 'failed')),
    detail      jsonb       NOT NULL DEFAULT '{}',
    by_whom     text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX strategy_registry_steps_by_entry ON strategy_registry_steps (registry_id, at);
