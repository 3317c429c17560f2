"""The normaliser: raw frames in, canonical events and snapshot requests out. No I/O.

Per frame: control records (a connection opened or was lost) reset the books of its
symbols; REST bodies are book snapshots; WebSocket frames go through the exchange's
parser. Binance trade frames take the parser's native fast path, which gives the key and
the encoded trade without building the event. Trades, top of book and candles pass
straight to their topics; book events
go through the instrument's sync rule, and only what it applies is published. A
resync publishes a :class:`BookResync` on ``md.book`` and asks ingestion (on
``ctl.resync``) for a new snapshot, repeated while the book stays down. So does a
delta of a book this normaliser never had, from a session whose start it did not read:
its partition was handed over by another replica, whose last output it cannot vouch for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

import msgspec

from platform_streams.books.sync import BookSync, SyncResult, SyncStatus
from platform_streams.exchanges.base import BookChecksum, ExchangeParser, FrameError, MalformedFrame, UnknownInstrument
from platform_streams.exchanges.binance.instruments import symbol_without_metadata
from platform_streams.exchanges.binance.parser import BinanceParser
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.ingestion.raw_frames import CONNECTION_EVENT_DECODER, FrameKind, RawFrame
from platform_streams.normalisation.adapters import ADAPTERS, DEFAULT_BOOK_DEPTHS, FORMAT_ADAPTERS
from platform_streams.runtime.output import Output
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Candle, SnapshotRequest, Trade, encode

TAKEOVER_REASON = "book taken over mid-session by this normaliser"


class NormaliserTopics(msgspec.Struct, frozen=True):
    trade: str = "md.trade"
    book: str = "md.book"
    bbo: str = "md.bbo"
    candle: str = "md.candle.1m"
    resync: str = "ctl.resync"


TradeFastPath = Callable[[bytes, int], tuple[str, bytes] | None]
"""``(frame, receive_ts_ns)`` → ``(key, encoded Trade)``, or None for a frame that is not a trade."""


class UnsupportedExchange(FrameError):
    """A raw frame from an exchange no adapter handles."""


class _BookState:
    """An instrument's sync rule plus where its snapshots come from and when we last asked."""

    __slots__ = ("sync", "connection_id", "exchange_symbol", "requested_at_ns")

    def __init__(self, sync: BookSync, connection_id: str, exchange_symbol: str) -> None:
        self.sync = sync
        self.connection_id = connection_id
        self.exchange_symbol = exchange_symbol
        self.requested_at_ns = 0


class Normaliser:
    """Turns raw frames into outputs; keeps the books of every instrument it has seen.

    ``require_metadata``: symbols missing from the instruments given raise :class:`UnknownInstrument`
    (a live deployment); without it, Binance and Kraken names are split by known quote assets
    (captures and replays that come without the exchange's metadata)."""

    def __init__(
        self,
        topics: NormaliserTopics | None = None,
        resync_retry_ns: int = 30_000_000_000,
        book_depths: Mapping[str, int] | None = None,
        require_metadata: bool = False,
    ) -> None:
        self.topics = topics or NormaliserTopics()
        self._book_depths = {**DEFAULT_BOOK_DEPTHS, **(book_depths or {})}
        self._registries: dict[str, InstrumentRegistry] = {}
        self._parsers: dict[str, ExchangeParser] = {}
        self._trade_fast_paths: dict[str, TradeFastPath] = {}
        self._books: dict[tuple[str, str], _BookState] = {}
        self._sessions_seen: set[str] = set()  # connections whose session start this normaliser read
        self._resync_retry_ns = resync_retry_ns
        self._require_metadata = require_metadata
        self.resyncs = 0

    # -- instruments -----------------------------------------------------------------
    def set_instruments(self, exchange: str, registry: InstrumentRegistry) -> None:
        """Use ``registry`` for ``exchange`` from now on (parsers cache scales: rebuild)."""
        self._registries[exchange] = registry
        for key in [k for k in self._parsers if k == exchange or k.endswith(f":{exchange}")]:
            del self._parsers[key]
        self._trade_fast_paths.pop(exchange, None)

    def _parser(self, exchange: str) -> ExchangeParser:
        parser = self._parsers.get(exchange)
        if parser is None:
            adapter = ADAPTERS.get(exchange)
            if adapter is None:
                raise UnsupportedExchange(exchange, f"no adapter for exchange {exchange!r}; known: {sorted(ADAPTERS)}")
            registry = self._registries.get(exchange) or InstrumentRegistry(exchange)
            parser = self._parsers[exchange] = adapter.parser(registry, self._require_metadata)
            if isinstance(parser, BinanceParser):
                self._trade_fast_paths[exchange] = parser.parse_trade_fast
        return parser

    def _parser_for(self, frame: RawFrame) -> ExchangeParser:
        """The exchange's own parser, or the parser of the format the frame declares (``ccxt``)."""
        if not frame.format:
            return self._parser(frame.exchange)
        key = f"{frame.format}:{frame.exchange}"
        parser = self._parsers.get(key)
        if parser is None:
            adapter = FORMAT_ADAPTERS.get(frame.format)
            if adapter is None:
                raise UnsupportedExchange(
                    frame.exchange, f"unknown frame format {frame.format!r}; known: {sorted(FORMAT_ADAPTERS)}"
                )
            registry = self._registries.get(frame.exchange) or InstrumentRegistry(frame.exchange)
            parser = self._parsers[key] = adapter.parser(frame.exchange, registry)
        return parser

    def _symbol(self, exchange: str, exchange_symbol: str) -> str:
        """Normalised symbol of an exchange symbol (Binance's can be derived without metadata)."""
        registry = self._registries.get(exchange)
        instrument = registry.get(exchange_symbol) if registry is not None else None
        if instrument is not None:
            return instrument.symbol
        if exchange == "binance" and not self._require_metadata:
            return symbol_without_metadata(exchange_symbol)
        raise UnknownInstrument(exchange, f"no instrument metadata for {exchange_symbol!r}")

    def _exchange_symbol(self, exchange: str, symbol: str) -> str:
        registry = self._registries.get(exchange)
        instrument = registry.get_symbol(symbol) if registry is not None else None
        return instrument.exchange_symbol if instrument is not None else symbol.replace("/", "")

    # -- frames ------------------------------------------------------------------------------
    def handle(self, frame: RawFrame) -> list[Output]:
        """Outputs of one frame; raises :class:`FrameError` (before changing any book) for bad input."""
        if frame.kind is FrameKind.CONTROL:
            return self._connection_event(frame)
        if frame.kind is FrameKind.REST:
            return self._rest_snapshot(frame)
        parse_trade_fast = None if frame.format else self._trade_fast_paths.get(frame.exchange)  # set with the parser
        if parse_trade_fast is not None:
            trade = parse_trade_fast(frame.payload, frame.receive_ts_ns)
            if trade is not None:
                return [Output(self.topics.trade, trade[1], trade[0])]
        try:
            parsed = self._parser_for(frame).parse_frame(frame.payload, frame.receive_ts_ns)
        except UnicodeDecodeError as exc:  # msgspec's error for text that is not UTF-8
            raise MalformedFrame(frame.exchange, f"frame is not valid UTF-8: {exc}", frame.payload) from None
        outputs: list[Output] = []
        for event in parsed.events:
            if isinstance(event, Trade):
                outputs.append(Output(self.topics.trade, encode(event), event.key))
            elif isinstance(event, BestBidOffer):
                outputs.append(Output(self.topics.bbo, encode(event), event.key))
            elif isinstance(event, Candle):
                outputs.append(Output(self.topics.candle, encode(event), event.key))
            else:
                outputs.extend(self._book_event(frame, event, parsed.checksum))
        return outputs

    def _rest_snapshot(self, frame: RawFrame) -> list[Output]:
        parser = self._parser(frame.exchange)
        query = parse_qs(urlsplit(frame.path).query)
        if not isinstance(parser, BinanceParser) or "symbol" not in query:
            raise FrameError(frame.exchange, f"REST body for {frame.path!r} is not a book snapshot this adapter reads")
        snapshot = parser.parse_depth_snapshot(frame.payload, query["symbol"][0], frame.receive_ts_ns)
        return self._book_event(frame, snapshot, None)

    def _book_event(self, frame: RawFrame, event: BookSnapshot | BookDelta, checksum: BookChecksum | None) -> list[Output]:
        key = (event.exchange, event.symbol)
        state = self._books.get(key)
        if state is None:
            if frame.format:
                sync = FORMAT_ADAPTERS[frame.format].book_sync(event.exchange, event.symbol)
            else:
                sync = ADAPTERS[event.exchange].book_sync(event.symbol, self._book_depths.get(event.exchange, 0))
            state = self._books[key] = _BookState(sync, frame.connection_id, self._exchange_symbol(event.exchange, event.symbol))
            if isinstance(event, BookDelta) and frame.connection_id not in self._sessions_seen:
                return self._take_over(state, frame, event, checksum)
        state.connection_id = frame.connection_id
        return self._publish(state, state.sync.on_event(event, checksum), frame.receive_ts_ns)

    def _take_over(self, state: _BookState, frame: RawFrame, delta: BookDelta, checksum: BookChecksum | None) -> list[Output]:
        """A delta of a book this normaliser never had, mid-session: its partition came from another
        replica (or this one restarted). Downstream books built from the previous owner's output may
        be missing what it did not publish, so say the book is being rebuilt and ask for a snapshot."""
        reason = f"{TAKEOVER_REASON} (connection {frame.connection_id})"
        reset = state.sync.reset(reason, delta.exchange_ts_ns, frame.receive_ts_ns)
        outputs = list(self._publish_reset(reset))
        outputs.append(self._snapshot_request(state, reason, frame.receive_ts_ns))
        outputs += self._publish(state, state.sync.on_event(delta, checksum), frame.receive_ts_ns)  # Binance buffers it
        return outputs

    def _publish(self, state: _BookState, result: SyncResult, now_ns: int) -> list[Output]:
        outputs = [Output(self.topics.book, encode(e), e.key) for e in result.applied]
        if result.status is SyncStatus.RESYNC and result.resync is not None:
            self.resyncs += 1
            outputs.append(Output(self.topics.book, encode(result.resync), result.resync.key))
            outputs.append(self._snapshot_request(state, result.reason, now_ns))
        return outputs

    def _snapshot_request(self, state: _BookState, reason: str, now_ns: int) -> Output:
        state.requested_at_ns = now_ns
        request = SnapshotRequest(state.sync.exchange, state.exchange_symbol, state.connection_id, reason, now_ns)
        return Output(self.topics.resync, encode(request), state.connection_id)

    def _connection_event(self, frame: RawFrame) -> list[Output]:
        try:
            event = CONNECTION_EVENT_DECODER.decode(frame.payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise FrameError(frame.exchange, f"control record is not a connection event: {exc}", frame.payload) from None
        if event.event == "connected":
            self._sessions_seen.add(frame.connection_id)
        outputs: list[Output] = []
        for exchange_symbol in event.symbols:
            state = self._books.get((frame.exchange, self._symbol(frame.exchange, exchange_symbol)))
            if state is not None and state.sync.live:
                # the session's snapshots (or the exchange's, after subscribing) rebuild the book
                result = state.sync.reset(
                    f"connection {event.event}: {event.reason or 'new session'}", frame.receive_ts_ns, frame.receive_ts_ns
                )
                state.requested_at_ns = frame.receive_ts_ns
                outputs.extend(self._publish_reset(result))
        return outputs

    def _publish_reset(self, result: SyncResult) -> Iterable[Output]:
        if result.resync is not None:
            self.resyncs += 1
            yield Output(self.topics.book, encode(result.resync), result.resync.key)

    def forget_connections(self, connection_ids: Iterable[str]) -> None:
        """This replica no longer reads these connections' frames (their partition went to another
        replica): forget that it saw their sessions begin, and their books. Should the partition come
        back, its books are then taken over, rebuilt from a snapshot, rather than continued from a
        state the other replica's output has moved past (or, for a book first seen then, buffered
        forever waiting for a snapshot nobody asked for)."""
        gone = set(connection_ids)
        self._sessions_seen -= gone
        for key in [key for key, state in self._books.items() if state.connection_id in gone]:
            del self._books[key]

    # -- time-driven ------------------------------------------------------------------------------
    def overdue_snapshot_requests(self, now_ns: int) -> list[Output]:
        """Ask again for books that stayed down longer than the retry interval (a request may be lost)."""
        outputs = []
        for state in self._books.values():
            if not state.sync.live and state.requested_at_ns and now_ns - state.requested_at_ns > self._resync_retry_ns:
                outputs.append(self._snapshot_request(state, "book still waiting for a snapshot", now_ns))
        return outputs

    def books(self) -> dict[tuple[str, str], BookSync]:
        """The sync rules (with their books) by (exchange, symbol), for inspection and tests."""
        return {key: state.sync for key, state in self._books.items()}
