"""Instruments as stored in PostgreSQL's ``instruments`` table, read back as exact, typed values.

The postgres-sink keeps the table from ``ref.instrument`` (migration 0005 describes every
column); this is how the allocator, Dagster assets and scripts read it without Kafka. Each
row becomes the :class:`Instrument` event it was written from, mantissas and scales
included, so a reader sizes and prices orders with the same exact integers as the streams.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

import asyncpg
import msgspec

from platform_streams.schemas import Instrument, InstrumentKind
from platform_streams.schemas.fixed_point import FixedPointError, parse_at_scale


class StoredInstrumentError(ValueError):
    """A row of ``instruments`` that is not an exact instrument (edited by hand, or a bad migration)."""


class StoredInstrument(msgspec.Struct, frozen=True):
    """One row of ``instruments``: the instrument as last published, and when it was first and last published."""

    instrument: Instrument
    first_seen: datetime
    last_seen: datetime

    @property
    def active(self) -> bool:
        """Whether the venue listed it as trading when ingestion last loaded its listing."""
        return self.instrument.active


_SELECT = """
SELECT exchange, symbol, exchange_symbol, aliases, base, quote, kind, settle, price_scale, size_scale,
       tick_size, lot_size, min_size, min_notional, min_notional_scale, contract_value, contract_value_scale,
       status, first_seen, last_seen
FROM instruments
WHERE ($1::text IS NULL OR exchange = $1) AND (NOT $2 OR status = 'active')
ORDER BY exchange, symbol
"""


async def fetch_instruments(
    connection: asyncpg.Connection, exchange: str | None = None, active_only: bool = False
) -> list[StoredInstrument]:
    """The stored instruments (of ``exchange`` only, if given; only active ones with ``active_only``),
    ordered by exchange and symbol."""
    return [_stored(row) for row in await connection.fetch(_SELECT, exchange, active_only)]


def load_instruments(database_url: str, exchange: str | None = None, active_only: bool = False) -> list[StoredInstrument]:
    """:func:`fetch_instruments` on a connection of its own, for code without an event loop (Dagster, scripts)."""

    async def load() -> list[StoredInstrument]:
        connection = await asyncpg.connect(database_url)
        try:
            return await fetch_instruments(connection, exchange, active_only)
        finally:
            await connection.close()

    return asyncio.run(load())


def _stored(row: asyncpg.Record) -> StoredInstrument:
    where = f"{row['exchange']}:{row['symbol']}"
    price_scale, size_scale = row["price_scale"], row["size_scale"]
    instrument = Instrument(
        exchange=row["exchange"],
        symbol=row["symbol"],
        exchange_symbol=row["exchange_symbol"],
        base=row["base"],
        quote=row["quote"],
        price_scale=price_scale,
        size_scale=size_scale,
        tick_size=_mantissa(row["tick_size"], price_scale, "tick_size", where),
        lot_size=_mantissa(row["lot_size"], size_scale, "lot_size", where),
        min_size=_mantissa(row["min_size"], size_scale, "min_size", where),
        min_notional=_mantissa(row["min_notional"], row["min_notional_scale"], "min_notional", where),
        min_notional_scale=row["min_notional_scale"],
        kind=InstrumentKind(row["kind"]),
        settle=row["settle"],
        contract_value=_mantissa(row["contract_value"], row["contract_value_scale"], "contract_value", where),
        contract_value_scale=row["contract_value_scale"],
        active=row["status"] == "active",
        aliases=tuple(row["aliases"]),
    )
    return StoredInstrument(instrument, row["first_seen"], row["last_seen"])


def _mantissa(value: Decimal, scale: int, column: str, where: str) -> int:
    """The integer mantissa of ``value`` at ``scale``; a value with more decimals than its scale is refused."""
    try:
        return parse_at_scale(format(value, "f"), scale)
    except FixedPointError as exc:
        raise StoredInstrumentError(f"instruments row {where}: {column} {value} is not exact at scale {scale}") from exc
