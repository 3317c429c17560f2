-- Orders, their life-cycle events, fills and positions.
-- client_order_id is deterministic and written before an order is sent, so a
-- restarted executor finds it here and never sends it twice.

CREATE TABLE orders (
    client_order_id      text        PRIMARY KEY,
    account              text        NOT NULL,
    exchange             text        NOT NULL,
    symbol               text        NOT NULL,
    side                 text        NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type           text        NOT NULL CHECK (order_type IN ('limit', 'market')),
    time_in_force        text        NOT NULL CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
    price                numeric,
    size                 numeric     NOT NULL CHECK (size > 0),
    strategy             text        NOT NULL,
    intent_id            text        NOT NULL,
    status               text        NOT NULL DEFAULT 'pending',
    exchange_order_id    text,
    filled_size          numeric     NOT NULL DEFAULT 0,
    created_ts_ns        bigint      NOT NULL,
    market_receive_ts_ns bigint      NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX orders_by_exchange_order_id
    ON orders (exchange, account, exchange_order_id) WHERE exchange_order_id IS NOT NULL;
CREATE INDEX orders_open ON orders (account, exchange) WHERE status IN ('pending', 'new', 'partially_filled');

CREATE TABLE order_events (
    client_order_id   text    NOT NULL,
    sequence          integer NOT NULL,
    status            text    NOT NULL,
    exchange_order_id text    NOT NULL,
    filled_size       numeric NOT NULL,
    reason            text    NOT NULL DEFAULT '',
    exchange_ts_ns    bigint  NOT NULL,
    receive_ts_ns     bigint  NOT NULL,
    PRIMARY KEY (client_order_id, sequence)
);

CREATE TABLE fills (
    exchange          text        NOT NULL,
    account           text        NOT NULL,
    symbol            text        NOT NULL,
    fill_id           text        NOT NULL,
    client_order_id   text        NOT NULL,
    exchange_order_id text        NOT NULL,
    side              text        NOT NULL CHECK (side IN ('buy', 'sell')),
    price             numeric     NOT NULL CHECK (price > 0),
    size              numeric     NOT NULL CHECK (size > 0),
    fee               numeric     NOT NULL,
    fee_asset         text        NOT NULL,
    liquidity         text        NOT NULL CHECK (liquidity IN ('maker', 'taker', 'unknown')),
    ts                timestamptz NOT NULL,
    exchange_ts_ns    bigint      NOT NULL,
    receive_ts_ns     bigint      NOT NULL,
    PRIMARY KEY (exchange, account, symbol, fill_id)
);
CREATE INDEX fills_by_order ON fills (client_order_id);

-- One row per account and instrument; a sink only applies a row with a higher version.
CREATE TABLE positions (
    account       text    NOT NULL,
    exchange      text    NOT NULL,
    symbol        text    NOT NULL,
    size          numeric NOT NULL,
    average_price numeric NOT NULL,
    realized_pnl  numeric NOT NULL,
    version       bigint  NOT NULL,
    updated_ts_ns bigint  NOT NULL,
    PRIMARY KEY (account, exchange, symbol)
);
