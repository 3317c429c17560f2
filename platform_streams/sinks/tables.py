"""How each canonical event becomes a row: the table, its columns, the conflict rule.

Pure functions; prices and sizes become exact ``Decimal``s for NUMERIC columns.
Rows are validated here (a trade with a non-positive price is bad data and raises),
so the database never sees a row its constraints would refuse. Market data and dead
letters are facts inserted once (``ON CONFLICT DO NOTHING``); an instrument is reference
data, one row kept as its latest publication says (see :data:`INSTRUMENT_UPSERT`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from platform_streams.schemas import BestBidOffer, DeadLetter, Instrument, Trade
from platform_streams.schemas.fixed_point import to_decimal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidRow(ValueError):
    """An event that cannot become a valid row (its message is dead-lettered)."""


class TableRow(msgspec.Struct, frozen=True, gc=False):
    """One row for ``table``; what a sink's ``handle`` returns."""

    table: str
    values: tuple[Any, ...]


class TableSpec(msgspec.Struct, frozen=True):
    """A sink table: columns in order, the conflict clause, and the daily partition column.

    Rows are copied into a staging table first; ``select`` (default: every staged row as
    it is) is what the insert takes from it, with ``{stage}`` standing for its name."""

    name: str
    columns: tuple[str, ...]
    on_conflict: str
    partition_column: str | None
    select: str = ""

    def insert_statement(self, stage: str) -> str:
        columns = ", ".join(self.columns)
        select = self.select.format(stage=stage) if self.select else f"SELECT {columns} FROM {stage}"
        return f"INSERT INTO {self.name} ({columns}) {select} {self.on_conflict}"


def timestamp(ns: int) -> datetime:
    """Exact to the microsecond (no float on the way)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


def _positive(value: Decimal, what: str, event: Any) -> Decimal:
    if value <= 0:
        raise InvalidRow(f"{what} must be positive, got {value} in {event.event_id}")
    return value


def _not_negative(value: Decimal, what: str, event: Any) -> Decimal:
    if value < 0:
        raise InvalidRow(f"{what} must not be negative (0: no such constraint), got {value} in {event.event_id}")
    return value


_SMALLINT = range(-(2**15), 2**15)


def _scale(value: int, what: str, event: Any) -> int:
    if value not in _SMALLINT:
        raise InvalidRow(f"{what} {value} is out of range in {event.event_id}")
    return value


def trade_row(trade: Trade) -> TableRow:
    return TableRow(
        "trades",
        (
            trade.exchange,
            trade.symbol,
            trade.trade_id,
            timestamp(trade.exchange_ts_ns),
            trade.exchange_ts_ns,
            trade.receive_ts_ns,
            trade.side.value,
            _positive(to_decimal(trade.price, trade.price_scale), "price", trade),
            _positive(to_decimal(trade.size, trade.size_scale), "size", trade),
        ),
    )


def bbo_row(bbo: BestBidOffer) -> TableRow:
    return TableRow(
        "book_top",
        (
            bbo.exchange,
            bbo.symbol,
            timestamp(bbo.exchange_ts_ns),
            bbo.sequence,
            bbo.exchange_ts_ns,
            bbo.receive_ts_ns,
            to_decimal(bbo.bid_price, bbo.price_scale),
            to_decimal(bbo.bid_size, bbo.size_scale),
            to_decimal(bbo.ask_price, bbo.price_scale),
            to_decimal(bbo.ask_size, bbo.size_scale),
        ),
    )


def dead_letter_row(letter: DeadLetter) -> TableRow:
    return TableRow(
        "dead_letters",
        (
            letter.source_topic,
            letter.source_partition,
            letter.source_offset,
            letter.daemon,
            letter.exchange,
            letter.error_type,
            letter.reason,
            letter.key,
            letter.payload,
            timestamp(letter.ts_ns),
        ),
    )


def instrument_row(instrument: Instrument, published_at: datetime) -> TableRow:
    """The instrument as published at ``published_at`` (its Kafka record's time: the same on every
    replay of the record, so a replay changes nothing)."""
    price_scale = _scale(instrument.price_scale, "price_scale", instrument)
    size_scale = _scale(instrument.size_scale, "size_scale", instrument)
    notional_scale = _scale(instrument.min_notional_scale, "min_notional_scale", instrument)
    contract_scale = _scale(instrument.contract_value_scale, "contract_value_scale", instrument)
    return TableRow(
        "instruments",
        (
            instrument.exchange,
            instrument.symbol,
            instrument.exchange_symbol,
            list(instrument.aliases),
            instrument.base,
            instrument.quote,
            instrument.kind.value,
            instrument.settle,
            price_scale,
            size_scale,
            _not_negative(to_decimal(instrument.tick_size, price_scale), "tick_size", instrument),
            _not_negative(to_decimal(instrument.lot_size, size_scale), "lot_size", instrument),
            _not_negative(to_decimal(instrument.min_size, size_scale), "min_size", instrument),
            _not_negative(to_decimal(instrument.min_notional, notional_scale), "min_notional", instrument),
            notional_scale,
            _not_negative(to_decimal(instrument.contract_value, contract_scale), "contract_value", instrument),
            contract_scale,
            "active" if instrument.active else "inactive",
            published_at,
            published_at,
        ),
    )


_INSTRUMENT_CONTENT = (
    "exchange_symbol",
    "aliases",
    "base",
    "quote",
    "kind",
    "settle",
    "price_scale",
    "size_scale",
    "tick_size",
    "lot_size",
    "min_size",
    "min_notional",
    "min_notional_scale",
    "contract_value",
    "contract_value_scale",
    "status",
)
_NEWER = "EXCLUDED.last_seen > instruments.last_seen"
INSTRUMENT_UPSERT = (
    "ON CONFLICT (exchange, symbol) DO UPDATE SET "
    + "".join(f"{c} = CASE WHEN {_NEWER} THEN EXCLUDED.{c} ELSE instruments.{c} END, " for c in _INSTRUMENT_CONTENT)
    + "first_seen = least(instruments.first_seen, EXCLUDED.first_seen), "
    + "last_seen = greatest(instruments.last_seen, EXCLUDED.last_seen), "
    + "updated_at = now() "
    + f"WHERE {_NEWER} OR EXCLUDED.first_seen < instruments.first_seen"
)
"""A row is what the latest publication of its instrument says: a record newer than the row
replaces its content and moves ``last_seen``; an older one can only move ``first_seen`` back;
one in between (a replay) changes nothing, not even ``updated_at``. The row is therefore the
same whatever order the records come in, and however often (records of one instrument with the
same millisecond and different content aside: within a batch the active one wins, across
batches the first stored)."""

# One row per instrument and batch (an upsert may not touch a row twice in one statement): its
# latest record, with the earliest time of the batch's records as its first_seen.
_INSTRUMENT_LATEST_IN_BATCH = (
    "SELECT DISTINCT ON (exchange, symbol) exchange, symbol, "
    + ", ".join(_INSTRUMENT_CONTENT)
    + ", min(first_seen) OVER (PARTITION BY exchange, symbol), last_seen"
    + " FROM {stage} ORDER BY exchange, symbol, last_seen DESC, status"
)

TABLES: dict[str, TableSpec] = {
    "trades": TableSpec(
        "trades",
        ("exchange", "symbol", "trade_id", "ts", "exchange_ts_ns", "receive_ts_ns", "side", "price", "size"),
        "ON CONFLICT DO NOTHING",
        "ts",
    ),
    "book_top": TableSpec(
        "book_top",
        (
            "exchange",
            "symbol",
            "ts",
            "sequence",
            "exchange_ts_ns",
            "receive_ts_ns",
            "bid_price",
            "bid_size",
            "ask_price",
            "ask_size",
        ),
        "ON CONFLICT DO NOTHING",
        "ts",
    ),
    "dead_letters": TableSpec(
        "dead_letters",
        (
            "source_topic",
            "source_partition",
            "source_offset",
            "daemon",
            "exchange",
            "error_type",
            "reason",
            "record_key",
            "payload",
            "ts",
        ),
        "ON CONFLICT DO NOTHING",
        None,
    ),
    "instruments": TableSpec(
        "instruments",
        ("exchange", "symbol", *_INSTRUMENT_CONTENT, "first_seen", "last_seen"),
        INSTRUMENT_UPSERT,
        None,
        _INSTRUMENT_LATEST_IN_BATCH,
    ),
}

ROW_BUILDERS: dict[type, Callable[[Any], TableRow]] = {
    Trade: trade_row,
    BestBidOffer: bbo_row,
    DeadLetter: dead_letter_row,
}
"""Rows made from the event alone; an :class:`Instrument` also needs its record's time (``instrument_row``)."""
