"""How each canonical event becomes a row: the table, its columns, the conflict rule.

Pure functions; prices and sizes become exact ``Decimal``s for NUMERIC columns.
Rows are validated here (a trade with a non-positive price is bad data and raises),
so the database never sees a row its constraints would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from platform_streams.schemas import BestBidOffer, DeadLetter, Trade
from platform_streams.schemas.fixed_point import to_decimal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidRow(ValueError):
    """An event that cannot become a valid row (its message is dead-lettered)."""


class TableRow(msgspec.Struct, frozen=True, gc=False):
    """One row for ``table``; what a sink's ``handle`` returns."""

    table: str
    values: tuple[Any, ...]


class TableSpec(msgspec.Struct, frozen=True):
    """A sink table: columns in order, the conflict clause, and the daily partition column."""

    name: str
    columns: tuple[str, ...]
    on_conflict: str
    partition_column: str | None


def timestamp(ns: int) -> datetime:
    """Exact to the microsecond (no float on the way)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


def _positive(value: Decimal, what: str, event: Any) -> Decimal:
    if value <= 0:
        raise InvalidRow(f"{what} must be positive, got {value} in {event.event_id}")
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
}

ROW_BUILDERS: dict[type, Callable[[Any], TableRow]] = {
    Trade: trade_row,
    BestBidOffer: bbo_row,
    DeadLetter: dead_letter_row,
}
