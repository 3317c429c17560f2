"""Generic ingestion through ccxt.pro, for exchanges without a native adapter.

``watch_trades_for_symbols`` and ``watch_order_book_for_symbols`` deliver ccxt's unified
structures; each becomes a ``ccxt``-format frame in ``md.raw`` (numbers as decimal
text), parsed by :mod:`platform_streams.exchanges.ccxt_unified`. Trades come from a
client whose numbers are strings (``exchange.number = str``: exact). ccxt.pro keeps
books with float prices (its sorted sides negate them), so book levels are written as
the shortest text that round-trips the float — the exchange's own decimal for any
price of up to 15 significant digits — and the parser refuses any that is not exact at
the instrument's scale. The daemon runs on the runtime's lifecycle (``serve_until_stopped``):
every frame is produced with the delivery callback, and a failed delivery, like a watch that
fails, stops it non-zero for the supervisor to restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import ccxt.pro as ccxtpro
import msgspec

from platform_streams.exchanges.ccxt_unified.instruments import UnusableMarket, instrument_from_market
from platform_streams.exchanges.ccxt_unified.messages import UnifiedBook, UnifiedTrade
from platform_streams.exchanges.ccxt_unified.parser import FORMAT_NAME
from platform_streams.exchanges.instruments import Instrument
from platform_streams.reference.listing import read_published_instruments, withdrawn_instruments
from platform_streams.runtime.lifecycle import BaseSettings, DaemonLifecycle
from platform_streams.runtime.output import Output
from platform_streams.schemas.raw_frames import FrameKind, RawFrame
from platform_streams.settings import ConfigError
from platform_streams.topics import INSTRUMENT_TOPIC, RAW_TOPIC

log = logging.getLogger(__name__)


class CcxtIngestionSettings(BaseSettings, kw_only=True):
    ccxt_exchange: str  # ccxt's id, e.g. "bybit"
    exchange: str = ""  # the platform's name for it; default: the ccxt id
    symbols: list[str] = []  # ccxt unified symbols; empty: every active spot market (capped by max_instruments)
    max_instruments: int = 50
    book_depth: int = 20  # levels written per side
    # levels ccxt keeps (its snapshot limit): a level outside what it keeps never enters its book, so it
    # keeps more than it writes; levels moving into the written top from beyond this stay unknown
    book_kept_depth: int = 100
    trades: bool = True
    books: bool = True
    ccxt_config: dict[str, Any] = {}  # passed to the ccxt constructor: urls, options (keys stay out of logs)
    raw_topic: str = RAW_TOPIC
    instrument_topic: str = INSTRUMENT_TOPIC


def float_text(value: float) -> str:
    """The shortest decimal text that round-trips ``value``, without exponent (``1e-05`` → ``0.00001``)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        return format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


class CcxtIngestionDaemon(DaemonLifecycle):
    """One ccxt.pro client's trades and books into ``md.raw``."""

    failed_deliveries_only = True  # it commits nothing: only a refused frame matters

    settings: CcxtIngestionSettings

    def __init__(self, settings: CcxtIngestionSettings) -> None:
        super().__init__(settings)
        if settings.ccxt_exchange not in ccxtpro.exchanges:
            raise ConfigError(f"{settings.name}: ccxt.pro has no exchange {settings.ccxt_exchange!r}")
        self.exchange = settings.exchange or settings.ccxt_exchange
        self.connection_id = f"ccxt-{self.exchange}"
        self._sequence = time.time_ns() // 1000
        self.frames = 0

    def _client(self, numbers_as_text: bool) -> Any:
        client = getattr(ccxtpro, self.settings.ccxt_exchange)(dict(self.settings.ccxt_config))
        if numbers_as_text:
            client.number = str
        return client

    def _emit(self, payload: bytes) -> None:
        self._sequence += 1
        frame = RawFrame(
            self.exchange, self.connection_id, self._sequence, time.time_ns(), FrameKind.WEBSOCKET, payload, format=FORMAT_NAME
        )
        self.produce(Output(self.settings.raw_topic, frame.payload, frame.connection_id, frame.headers()))
        self.frames += 1
        self.messages_out += 1

    def run(self) -> None:
        self.run_event_loop(self._main)

    async def _main(self) -> None:
        trades_client, books_client = self._client(numbers_as_text=True), self._client(numbers_as_text=False)
        tasks: list[asyncio.Task[None]] = []
        try:
            markets = await books_client.load_markets()
            symbols = self._symbols(markets)
            await self._publish_instruments(markets, symbols, books_client.precisionMode)
            if self.settings.trades:
                tasks.append(asyncio.create_task(self._watch_trades(trades_client, symbols)))
            if self.settings.books:
                tasks.append(asyncio.create_task(self._watch_books(books_client, symbols)))
            await self.serve_until_stopped(lambda: self.send_heartbeat([]), tick_s=0.05, check=lambda: _raise_if_failed(tasks))
        finally:
            self._state = "stopping"
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await trades_client.close()
            await books_client.close()

    async def _withdrawn(self, markets: dict[str, Any]) -> list[Instrument]:
        """Instruments of this exchange published as active before whose market is gone or inactive, now inactive."""
        published = await asyncio.to_thread(
            read_published_instruments, self.bootstrap_servers, self.settings.instrument_topic, self.exchange
        )
        return withdrawn_instruments(published, {s for s, m in markets.items() if m.get("active") is not False})

    async def _publish_instruments(self, markets: dict[str, Any], symbols: list[str], precision_mode: int) -> None:
        """The markets' instruments, acknowledged before the first frame (normalisers need them to read it)."""
        for symbol in symbols:
            try:
                instrument = instrument_from_market(self.exchange, markets[symbol], precision_mode)
            except UnusableMarket as exc:
                log.warning("market skipped", extra={"symbol": symbol, "reason": str(exc)})
                continue
            self.produce(Output.event(self.settings.instrument_topic, instrument))
        for instrument in await self._withdrawn(markets):
            self.produce(Output.event(self.settings.instrument_topic, instrument))
        await self.wait_acknowledged()  # frames must not go first

    def _symbols(self, markets: dict[str, Any]) -> list[str]:
        if self.settings.symbols:
            missing = [s for s in self.settings.symbols if s not in markets]
            if missing:
                raise ConfigError(f"{self.settings.name}: {self.settings.ccxt_exchange} has no markets {missing[:10]}")
            return list(self.settings.symbols)
        spot = sorted(s for s, m in markets.items() if m.get("spot") and m.get("active") is not False)
        return spot[: self.settings.max_instruments]

    async def _watch_trades(self, client: Any, symbols: list[str]) -> None:
        encoder = msgspec.json.Encoder()
        written: dict[str, Any] = {}  # symbol → the last trade written (the dict ccxt keeps in client.trades)
        while not self.stopping:
            await client.watch_trades_for_symbols(symbols)
            # The watch returns with one symbol's trades. Trades of other symbols read before this task runs
            # again settle futures nobody awaits, so ccxt returns them only with that symbol's next trade
            # (never, once it goes quiet): write every symbol's trades cached past the last one written.
            for symbol in symbols:
                cache = client.trades.get(symbol)
                if not cache or cache[-1] is written.get(symbol):
                    continue
                for trade in trades_after(cache, written.get(symbol)):
                    self._emit(
                        encoder.encode(
                            UnifiedTrade(
                                symbol=trade["symbol"],
                                id=str(trade["id"] or ""),
                                timestamp=int(trade["timestamp"] or 0),
                                side=trade.get("side") or "",
                                price=str(trade["price"]),
                                amount=str(trade["amount"]),
                            )
                        )
                    )
                written[symbol] = cache[-1]

    async def _watch_books(self, client: Any, symbols: list[str]) -> None:
        encoder = msgspec.json.Encoder()
        depth = self.settings.book_depth
        kept = max(depth, self.settings.book_kept_depth)
        written: dict[str, tuple[Any, Any]] = {}  # symbol → (nonce, timestamp) of the last book written
        while not self.stopping:
            woken = (await client.watch_order_book_for_symbols(symbols, kept))["symbol"]
            # As with trades, books of other symbols updated meanwhile are only in client.orderbooks: write
            # each that changed since written (a book without nonce or timestamp: when its watch returns it).
            for symbol in symbols:
                book = client.orderbooks.get(symbol)
                if book is None:
                    continue
                version = (book.get("nonce"), book.get("timestamp"))
                if version == (None, None):  # nothing tells its updates apart
                    if symbol != woken:
                        continue
                elif version == written.get(symbol):
                    continue
                written[symbol] = version
                self._emit(
                    encoder.encode(
                        UnifiedBook(
                            symbol=symbol,
                            timestamp=int(book.get("timestamp") or 0),
                            nonce=int(book.get("nonce") or 0),
                            bids=[(float_text(p), float_text(q)) for p, q, *_ in book["bids"][:depth]],
                            asks=[(float_text(p), float_text(q)) for p, q, *_ in book["asks"][:depth]],
                        )
                    )
                )


def _raise_if_failed(tasks: Sequence[asyncio.Task[None]]) -> None:
    """A watch task that ended with an error ends the daemon with it (the supervisor restarts it)."""
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def trades_after(cache: Sequence[Any], last: Any) -> list[Any]:
    """The trades of ccxt's cache after ``last`` (by identity), oldest first; all of them when ``last`` is
    None or already evicted (everything cached is newer then)."""
    fresh = []
    for trade in reversed(cache):
        if trade is last:
            break
        fresh.append(trade)
    fresh.reverse()
    return fresh
