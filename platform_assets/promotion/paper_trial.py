"""What a paper trial did, from what execution recorded in PostgreSQL (the paper deployment's
orders and fills), beside a backtest of the same strategy over the same window; and the drift gate
that holds the two together (fill rate and PnL)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import msgspec

from platform_streams.backtesting.performance import AMOUNT_DIGITS, Performance


class PaperFigures(msgspec.Struct, frozen=True):
    """A paper deployment's orders and fills over its trial, and its PnL (fees included) with its
    open position marked at the last stored mid."""

    orders: int
    fills: int
    fill_rate: float  # fills per order
    pnl: Decimal
    fees: Decimal


class DriftThresholds(msgspec.Struct, frozen=True, kw_only=True):
    """How far paper may stray from the backtest of its window: fill rates (fills per order) by an
    absolute ``max_fill_rate_drift``, PnL by ``max_pnl_drift`` of the capital; at least
    ``min_paper_orders`` orders (0: a quiet trial passes)."""

    max_fill_rate_drift: float = 0.5
    max_pnl_drift: float = 0.01
    min_paper_orders: int = 0


async def _paper_figures(connection: asyncpg.Connection, deployment: str, end: datetime) -> PaperFigures:
    orders = await connection.fetchval("SELECT count(*) FROM orders WHERE deployment = $1", deployment)
    fills = await connection.fetch(
        "SELECT f.exchange, f.symbol, f.side, f.price, f.size, f.fee FROM fills f JOIN orders o USING (client_order_id)"
        " WHERE o.deployment = $1",
        deployment,
    )
    cash, fees = Decimal(0), Decimal(0)
    positions: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for fill in fills:
        notional = fill["price"] * fill["size"]
        cash += notional if fill["side"] == "sell" else -notional
        positions[(fill["exchange"], fill["symbol"])] += fill["size"] if fill["side"] == "buy" else -fill["size"]
        fees += fill["fee"]
    marked = Decimal(0)
    for (exchange, symbol), size in positions.items():
        if size:
            mid = await connection.fetchval(
                "SELECT (bid_price + ask_price) / 2 FROM book_top WHERE exchange = $1 AND symbol = $2"
                " AND ts > $3::timestamptz - interval '1 day' AND receive_ts_ns <= $4 ORDER BY receive_ts_ns DESC, sequence DESC LIMIT 1",
                exchange, symbol, end, int(end.timestamp() * 1e9),
            )  # fmt: skip
            marked += size * (mid or 0)
    return PaperFigures(
        orders=orders,
        fills=len(fills),
        fill_rate=len(fills) / orders if orders else 0.0,
        pnl=(cash + marked - fees).quantize(AMOUNT_DIGITS),
        fees=fees.quantize(AMOUNT_DIGITS),
    )


def paper_figures(database_url: str, deployment: str, end: datetime) -> PaperFigures:
    async def run() -> PaperFigures:
        connection = await asyncpg.connect(database_url)
        try:
            return await _paper_figures(connection, deployment, end)
        finally:
            await connection.close()

    return asyncio.run(run())


def stored_until(database_url: str, instruments: list[str]) -> datetime | None:
    """Until when (receive time) the sinks stored the instruments' tops of book: the earliest of their latest."""

    async def run() -> datetime | None:
        connection = await asyncpg.connect(database_url)
        try:
            latest = []
            for key in instruments:
                exchange, _, symbol = key.partition(":")
                latest.append(
                    await connection.fetchval(
                        "SELECT max(receive_ts_ns) FROM book_top WHERE exchange = $1 AND symbol = $2 AND ts > now() - interval '1 day'",
                        exchange,
                        symbol,
                    )  # fmt: skip
                )
            return None if any(t is None for t in latest) else datetime.fromtimestamp(min(latest) / 1e9, UTC)
        finally:
            await connection.close()

    return asyncio.run(run())


def drift_failures(paper: PaperFigures, backtest: Performance, thresholds: DriftThresholds, capital: Decimal) -> list[str]:
    """Each way paper strays too far from the backtest of its window; empty when it passes."""
    failures = []
    if paper.orders < thresholds.min_paper_orders:
        failures.append(f"paper orders {paper.orders} < min_paper_orders {thresholds.min_paper_orders}")
    backtest_rate = backtest.fills / backtest.orders if backtest.orders else 0.0
    if abs(paper.fill_rate - backtest_rate) > thresholds.max_fill_rate_drift:
        failures.append(
            f"fill rate: paper {paper.fill_rate:.3f} vs backtest {backtest_rate:.3f} differ by more than "
            f"max_fill_rate_drift {thresholds.max_fill_rate_drift:g}"
        )
    allowed = capital * Decimal(str(thresholds.max_pnl_drift))
    if abs(paper.pnl - backtest.pnl) > allowed:
        failures.append(f"PnL: paper {paper.pnl} vs backtest {backtest.pnl} differ by more than {allowed} (max_pnl_drift)")
    return failures
