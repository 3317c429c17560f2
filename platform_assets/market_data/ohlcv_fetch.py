"""One day of an exchange's OHLCV candles for some symbols, through ccxt's ``fetch_ohlcv``, page by
page, each request granted by the host's request budget (``kind: history``, the lowest priority)
when one is given. Numbers stay the exchange's decimal text (``client.number = str``): exact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple, Protocol

DAY_MS = 86_400_000
INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": DAY_MS}

#: Candles one request returns at most (asking more makes OKX answer the newest of the window, a gap).
PAGE_SIZE = {"binance": 1000, "okx": 100, "kraken": 720}
DEFAULT_PAGE_SIZE = 500


class OhlcvRow(NamedTuple):
    """One candle as the exchange gave it: prices and volume as decimal text."""

    exchange: str
    symbol: str
    interval_s: int
    open_time_ms: int
    open: str
    high: str
    low: str
    close: str
    volume: str


class OhlcvClient(Protocol):
    """What of a ccxt client this needs."""

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str, since: int | None = None, limit: int | None = None
    ) -> list[list[Any]]: ...


Grant = Callable[[], Awaitable[None]]  # waits until the budget grants one history request


async def fetch_day(
    client: OhlcvClient,
    exchange: str,
    symbol: str,
    day_start_ms: int,
    interval: str,
    now_ms: int,
    grant: Grant | None = None,
) -> list[OhlcvRow]:
    """The closed candles of ``symbol`` that open within the UTC day starting at ``day_start_ms``
    (an open candle, one not closed by ``now_ms``, is left for a later fetch)."""
    interval_ms = INTERVAL_MS[interval]
    end = min(day_start_ms + DAY_MS, now_ms - now_ms % interval_ms)  # the open candle's start: excluded
    page = PAGE_SIZE.get(exchange, DEFAULT_PAGE_SIZE)
    rows: dict[int, OhlcvRow] = {}
    since = day_start_ms
    while since < end:
        if grant is not None:
            await grant()
        batch = await client.fetch_ohlcv(symbol, interval, since=since, limit=page)
        fresh = [candle for candle in batch if since <= int(candle[0]) < end]
        if not fresh:
            break  # nothing more in the day (not listed yet, or the exchange has no more)
        for candle in fresh:
            open_ms = int(candle[0])
            rows[open_ms] = OhlcvRow(exchange, symbol, interval_ms // 1000, open_ms, *(str(v) for v in candle[1:6]))
        since = max(rows) + interval_ms
    return [rows[t] for t in sorted(rows)]


def missing_intervals(open_times_ms: Sequence[int], interval_ms: int) -> list[tuple[int, int]]:
    """Gaps inside a symbol's run of candles: ``(first missing open time, how many)`` each."""
    gaps = []
    ordered = sorted(open_times_ms)
    for before, after in zip(ordered, ordered[1:], strict=False):
        skipped = (after - before) // interval_ms - 1
        if skipped > 0:
            gaps.append((before + interval_ms, skipped))
    return gaps
