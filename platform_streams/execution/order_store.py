"""Execution's record of orders in PostgreSQL: written before an order is sent, updated as it lives.

The order is the unit of exactly-once towards the exchange: :meth:`OrderStore.record` inserts
it (status ``pending``) keyed by its deterministic client order id and says whether it is new.
Only a new order is sent; one already recorded (a replayed request after a restart) is
reconciled with the exchange instead (:meth:`OrderStore.unfinished`). Order events and fills
are idempotent too: an event applies only if its sequence is newer, a fill once by its id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg
import msgspec

from platform_streams.schemas import (
    Fill,
    Hop,
    Liquidity,
    OrderEvent,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from platform_streams.schemas.fixed_point import parse_at_scale, parse_decimal, to_decimal
from platform_streams.sinks.tables import timestamp

_UNFINISHED = ("pending", "new", "partially_filled")


class StoredOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as recorded: its request, and the latest state execution applied."""

    request: OrderRequest
    status: OrderStatus
    filled_size: int
    exchange_order_id: str
    last_sequence: int
    sent_ts_ns: int | None


_INSERT_ORDER = """
INSERT INTO orders (client_order_id, account, exchange, symbol, side, order_type, time_in_force, price, size,
                    price_scale, size_scale, strategy, intent_id, created_ts_ns, market_receive_ts_ns, hops, sent_ts_ns,
                    deployment)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17, $18)
ON CONFLICT (client_order_id) DO NOTHING
RETURNING client_order_id
"""

_INSERT_ORDERS = """
INSERT INTO orders (client_order_id, account, exchange, symbol, side, order_type, time_in_force, price, size,
                    price_scale, size_scale, strategy, intent_id, created_ts_ns, market_receive_ts_ns, hops, sent_ts_ns,
                    deployment)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[],
                     $9::numeric[], $10::smallint[], $11::smallint[], $12::text[], $13::text[], $14::bigint[],
                     $15::bigint[], $16::jsonb[], $17::bigint[], $18::text[])
ON CONFLICT (client_order_id) DO NOTHING
RETURNING client_order_id
"""


def _order_row(request: OrderRequest, sent_ts_ns: int | None) -> tuple[object, ...]:
    """The values of an order's row, in the order of ``_INSERT_ORDER``'s parameters."""
    return (
        request.client_order_id, request.account, request.exchange, request.symbol, request.side.value,
        request.order_type.value, request.time_in_force.value,
        None if request.price is None else to_decimal(request.price, request.price_scale),
        to_decimal(request.size, request.size_scale), request.price_scale, request.size_scale, request.strategy,
        request.intent_id, request.created_ts_ns, request.market_receive_ts_ns,
        json.dumps([[hop.stage, hop.in_ts_ns, hop.out_ts_ns] for hop in request.hops]), sent_ts_ns, request.deployment,
    )  # fmt: skip


_APPLY_EVENT = """
WITH event AS (
    INSERT INTO order_events (client_order_id, sequence, status, exchange_order_id, filled_size, reason,
                              exchange_ts_ns, receive_ts_ns)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT DO NOTHING
)
UPDATE orders SET status = $3, last_sequence = $2, filled_size = $5, reason = $6,
                  exchange_order_id = nullif($4, ''), updated_at = now(),
                  acked_ts_ns = coalesce(acked_ts_ns, CASE WHEN $3 <> 'pending' THEN $8 END)
WHERE client_order_id = $1 AND last_sequence < $2
"""

_INSERT_FILL = """
INSERT INTO fills (exchange, account, symbol, fill_id, client_order_id, exchange_order_id, side, price, size,
                   fee, fee_asset, liquidity, ts, exchange_ts_ns, receive_ts_ns)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT DO NOTHING
RETURNING fill_id
"""

_UPSERT_POSITION = """
INSERT INTO positions (account, exchange, symbol, size, average_price, realized_pnl, unrealized_pnl, mark_price, fees,
                       version, updated_ts_ns)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11)
ON CONFLICT (account, exchange, symbol) DO UPDATE SET
    size = EXCLUDED.size, average_price = EXCLUDED.average_price, realized_pnl = EXCLUDED.realized_pnl,
    unrealized_pnl = EXCLUDED.unrealized_pnl, mark_price = EXCLUDED.mark_price, fees = EXCLUDED.fees,
    version = EXCLUDED.version, updated_ts_ns = EXCLUDED.updated_ts_ns
WHERE positions.version < EXCLUDED.version
"""

_SELECT_ORDERS = """
SELECT client_order_id, account, exchange, symbol, side, order_type, time_in_force, price::text AS price,
       size::text AS size, price_scale, size_scale, strategy, intent_id, created_ts_ns, market_receive_ts_ns,
       hops::text AS hops, status, filled_size::text AS filled_size, coalesce(exchange_order_id, '') AS exchange_order_id,
       last_sequence, sent_ts_ns, deployment
FROM orders
"""


class OrderStore:
    """The ``orders``, ``order_events`` and ``fills`` tables, through one connection pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, database_url: str) -> OrderStore:
        return cls(await asyncpg.create_pool(database_url, min_size=1, max_size=4))

    async def close(self) -> None:
        await self._pool.close()

    async def record(self, request: OrderRequest, sent_ts_ns: int | None = None) -> bool:
        """Write the order before it is sent (with the time it is about to be sent, if given: one
        round trip instead of two on the order's path); True if it is new (send it), False if it
        was recorded before (the row, its send time included, stays as it was)."""
        return await self._pool.fetchval(_INSERT_ORDER, *_order_row(request, sent_ts_ns)) is not None

    async def record_many(self, requests: Sequence[tuple[OrderRequest, int | None]]) -> set[str]:
        """:meth:`record` for several orders in one round trip (each with its send time or None);
        the client order ids that are new (send those)."""
        if not requests:
            return set()
        columns = [list(column) for column in zip(*(_order_row(r, sent) for r, sent in requests), strict=True)]
        return {row["client_order_id"] for row in await self._pool.fetch(_INSERT_ORDERS, *columns)}

    async def mark_sent(self, client_order_id: str, sent_ts_ns: int) -> None:
        await self._pool.execute(
            "UPDATE orders SET sent_ts_ns = coalesce(sent_ts_ns, $2) WHERE client_order_id = $1", client_order_id, sent_ts_ns
        )

    async def apply(self, event: OrderEvent) -> None:
        """Keep an order event, and the order's state if the event is newer than the last applied."""
        await self._pool.execute(
            _APPLY_EVENT,
            event.client_order_id, event.sequence, event.status.value, event.exchange_order_id,
            to_decimal(event.filled_size, event.size_scale), event.reason, event.exchange_ts_ns, event.receive_ts_ns,
        )  # fmt: skip

    async def record_fill(self, fill: Fill) -> bool:
        """Keep a fill; False if it was kept before (the same fill from the stream and from polling)."""
        inserted = await self._pool.fetchval(
            _INSERT_FILL,
            fill.exchange, fill.account, fill.symbol, fill.fill_id, fill.client_order_id, fill.exchange_order_id,
            fill.side.value, to_decimal(fill.price, fill.price_scale), to_decimal(fill.size, fill.size_scale),
            to_decimal(fill.fee, fill.fee_scale), fill.fee_asset, fill.liquidity.value,
            timestamp(fill.exchange_ts_ns), fill.exchange_ts_ns, fill.receive_ts_ns,
        )  # fmt: skip
        return inserted is not None

    async def save_position(self, position: Position) -> None:
        """Keep the account's position in the instrument, unless a newer version is stored already."""
        await self._pool.execute(
            _UPSERT_POSITION,
            position.account, position.exchange, position.symbol, to_decimal(position.size, position.size_scale),
            to_decimal(position.average_price, position.price_scale), to_decimal(position.realized_pnl, position.pnl_scale),
            to_decimal(position.unrealized_pnl, position.pnl_scale),
            None if position.mark_price is None else to_decimal(position.mark_price, position.price_scale),
            json.dumps([{"asset": f.asset, "amount": str(to_decimal(f.amount, f.scale))} for f in position.fees]),
            position.version, position.updated_ts_ns,
        )  # fmt: skip

    async def fills(self, account: str, exchange: str) -> list[Fill]:
        """Every fill of the account at the exchange, in exchange time: what positions are rebuilt from."""
        return [_fill(row) for row in await self._pool.fetch(_SELECT_FILLS, account, exchange)]

    async def get(self, client_order_id: str) -> StoredOrder | None:
        rows = await self._pool.fetch(_SELECT_ORDERS + " WHERE client_order_id = $1", client_order_id)
        return _stored(rows[0]) if rows else None

    async def unfinished(self, account: str, exchange: str | None = None) -> list[StoredOrder]:
        """The account's orders not known to be over — pending (maybe sent), new or partially filled:
        what a restarted executor reconciles with the exchange before anything else."""
        query = _SELECT_ORDERS + " WHERE account = $1 AND status = ANY($2::text[])"
        arguments: list[object] = [account, list(_UNFINISHED)]
        if exchange is not None:
            query += " AND exchange = $3"
            arguments.append(exchange)
        return [_stored(row) for row in await self._pool.fetch(query + " ORDER BY created_ts_ns, client_order_id", *arguments)]

    async def short_of_fills(self, account: str, exchange: str) -> list[StoredOrder]:
        """The account's finished orders whose stored fills fall short of their filled size (a process
        that died between an order's new state and its fills): a restarted executor fetches the rest."""
        query = _SELECT_ORDERS + _SHORT_OF_FILLS
        return [_stored(row) for row in await self._pool.fetch(query, account, exchange, list(_UNFINISHED))]


_SHORT_OF_FILLS = """
WHERE account = $1 AND exchange = $2 AND status <> ALL($3::text[]) AND filled_size >
      coalesce((SELECT sum(f.size) FROM fills f WHERE f.client_order_id = orders.client_order_id), 0)
ORDER BY created_ts_ns, client_order_id
"""

_SELECT_FILLS = """
SELECT fill_id, client_order_id, exchange_order_id, account, exchange, symbol, side, price::text AS price,
       size::text AS size, fee::text AS fee, fee_asset, liquidity, exchange_ts_ns, receive_ts_ns
FROM fills WHERE account = $1 AND exchange = $2 ORDER BY exchange_ts_ns, fill_id
"""


def _fill(row: asyncpg.Record) -> Fill:
    """A stored fill; NUMERIC keeps the scale it was written with, so the mantissas come back exactly."""
    price, price_scale = parse_decimal(row["price"])
    size, size_scale = parse_decimal(row["size"])
    fee, fee_scale = parse_decimal(row["fee"])
    return Fill(
        fill_id=row["fill_id"], client_order_id=row["client_order_id"], exchange_order_id=row["exchange_order_id"],
        account=row["account"], exchange=row["exchange"], symbol=row["symbol"], side=Side(row["side"]), price=price,
        size=size, price_scale=price_scale, size_scale=size_scale, fee=fee, fee_scale=fee_scale,
        fee_asset=row["fee_asset"], liquidity=Liquidity(row["liquidity"]), exchange_ts_ns=row["exchange_ts_ns"],
        receive_ts_ns=row["receive_ts_ns"],
    )  # fmt: skip


def _stored(row: asyncpg.Record) -> StoredOrder:
    price_scale, size_scale = row["price_scale"], row["size_scale"]
    hops: Sequence[Sequence[object]] = json.loads(row["hops"])
    request = OrderRequest(
        client_order_id=row["client_order_id"], account=row["account"], exchange=row["exchange"], symbol=row["symbol"],
        side=Side(row["side"]), order_type=OrderType(row["order_type"]), time_in_force=TimeInForce(row["time_in_force"]),
        price=None if row["price"] is None else parse_at_scale(row["price"], price_scale),
        size=parse_at_scale(row["size"], size_scale), price_scale=price_scale, size_scale=size_scale,
        strategy=row["strategy"], intent_id=row["intent_id"], created_ts_ns=row["created_ts_ns"],
        market_receive_ts_ns=row["market_receive_ts_ns"], hops=[Hop(str(stage), int(str(i)), int(str(o))) for stage, i, o in hops],
        deployment=row["deployment"],
    )  # fmt: skip
    return StoredOrder(
        request=request,
        status=OrderStatus(row["status"]),
        filled_size=parse_at_scale(row["filled_size"], size_scale),
        exchange_order_id=row["exchange_order_id"],
        last_sequence=row["last_sequence"],
        sent_ts_ns=row["sent_ts_ns"],
    )
