"""The normaliser: raw frames in, canonical events and snapshot requests out. No I/O, and no venue
named: each frame's venue adapter (``platform_streams.exchanges.registry``) parses it and keeps its books.

Per frame: control records (a connection opened or was lost) reset the books of its
symbols; REST bodies and WebSocket frames go through the venue's parser (a REST body is
a book snapshot fetched for the connection). A parser's native fast paths are tried first:
trades and tops of book (Binance, OKX, Kraken v1) give the key and the encoded events without
building them; book updates (Kraken v1, OKX, Binance) are applied to a live book the sync rule
attached to the fast path, giving the key and the encoded delta, or declined, leaving the
frame and the book to the parser and the sync rule. Trades, top of book and candles pass straight to their
topics; book events go through the instrument's sync rule, at the depth of the subscription
the frames state, and only what it applies is published. A resync publishes a :class:`BookResync` on
``md.book`` and asks ingestion (on ``ctl.resync``) for a new snapshot, repeated while the
book stays down. So does a delta of a book this normaliser never had, from a session
whose start it did not read: its partition was handed over by another replica, whose
last output it cannot vouch for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

import msgspec

from platform_streams.books.sync import BookChecksum, BookSync, SyncResult, SyncStatus
from platform_streams.exchanges.base import (
    BookFastPath,
    BookSubscription,
    ExchangeParser,
    FrameError,
    MalformedFrame,
    ParsedFrame,
    TradeFastPath,
)
from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.registry import frame_format, venue
from platform_streams.exchanges.venue_adapter import UnknownVenue
from platform_streams.runtime.output import Output
from platform_streams.schemas import BestBidOffer, BookDelta, BookSnapshot, Candle, Hop, SnapshotRequest, Trade, encode
from platform_streams.schemas.hop_trace import hops_header
from platform_streams.schemas.raw_frames import CONNECTION_EVENT_DECODER, FrameKind, RawFrame
from platform_streams.topics import BBO_TOPIC, BOOK_TOPIC, EXCHANGE_CANDLE_TOPIC, RESYNC_TOPIC, TRADE_TOPIC

TAKEOVER_REASON = "book taken over mid-session by this normaliser"
CANONICAL_STAGE = "canonical"
"""The latency trace's hop of normalisation (:mod:`platform_streams.schemas.hop_trace`)."""


class NormaliserTopics(msgspec.Struct, frozen=True):
    trade: str = TRADE_TOPIC
    book: str = BOOK_TOPIC
    bbo: str = BBO_TOPIC
    candle: str = EXCHANGE_CANDLE_TOPIC  # the exchanges' klines; md.candle carries the platform's own
    resync: str = RESYNC_TOPIC


class UnsupportedExchange(FrameError):
    """A raw frame from an exchange (or in a format) no adapter handles."""


class _VenueReader:
    """What the normaliser uses of one exchange's adapter: its parser (built once per set of
    instruments), the parser's trade, top-of-book and book fast paths, and the book rule per symbol."""

    __slots__ = ("parser", "trade_fast_path", "top_of_book_fast_path", "book_fast_path", "book_sync")

    def __init__(self, parser: ExchangeParser, book_sync: Callable[[str], BookSync]) -> None:
        self.parser = parser
        self.trade_fast_path: TradeFastPath | None = parser.trade_fast_path()
        self.top_of_book_fast_path: TradeFastPath | None = parser.top_of_book_fast_path()
        self.book_fast_path: BookFastPath | None = parser.book_fast_path()
        self.book_sync = book_sync


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

    ``require_metadata``: symbols missing from the instruments given raise ``UnknownInstrument``
    (a live deployment); without it, venues whose number text fixes the scales (Binance,
    Kraken v1) name symbols from their text (captures and replays that come without the
    exchange's metadata)."""

    def __init__(
        self, topics: NormaliserTopics | None = None, resync_retry_ns: int = 30_000_000_000, require_metadata: bool = False
    ) -> None:
        self.topics = topics or NormaliserTopics()
        self._traced_topics = frozenset((self.topics.trade, self.topics.bbo))
        self._registries: dict[str, InstrumentRegistry] = {}
        self._readers: dict[str, _VenueReader] = {}  # by exchange, for frames in the venue's own format
        self._format_readers: dict[tuple[str, str], _VenueReader] = {}  # by (format, exchange)
        self._books: dict[tuple[str, str], _BookState] = {}  # by (exchange, symbol)
        self._books_by_venue_symbol: dict[tuple[str, str], _BookState] = {}  # by (exchange, exchange symbol)
        self._depths: dict[tuple[str, str], int] = {}  # subscribed book depth by (exchange, symbol), as the frames state
        self._sessions_seen: set[str] = set()  # connections whose session start this normaliser read
        self._resync_retry_ns = resync_retry_ns
        self._require_metadata = require_metadata
        self.resyncs = 0

    # -- instruments and adapters -------------------------------------------------------
    def set_instruments(self, exchange: str, registry: InstrumentRegistry) -> None:
        """Use ``registry`` for ``exchange`` from now on (parsers cache scales: rebuild)."""
        self._registries[exchange] = registry
        self._readers.pop(exchange, None)
        for key in [key for key in self._format_readers if key[1] == exchange]:
            del self._format_readers[key]

    def _reader(self, frame: RawFrame) -> _VenueReader:
        """The frame's venue adapter, or the adapter of the format it declares (``ccxt``)."""
        exchange = frame.exchange
        if not frame.format:
            reader = self._readers.get(exchange)
            if reader is None:
                reader = self._readers[exchange] = self._venue_reader(exchange)
            return reader
        key = (frame.format, exchange)
        reader = self._format_readers.get(key)
        if reader is None:
            try:
                adapter = frame_format(frame.format)
            except UnknownVenue as exc:
                raise UnsupportedExchange(exchange, str(exc)) from None
            parser = adapter.parser(exchange, self._registries.get(exchange) or InstrumentRegistry(exchange))
            reader = self._format_readers[key] = _VenueReader(parser, partial(adapter.book_sync, exchange))
        return reader

    def _venue_reader(self, exchange: str) -> _VenueReader:
        try:
            adapter = venue(exchange)
        except UnknownVenue as exc:
            raise UnsupportedExchange(exchange, str(exc)) from None
        registry = self._registries.get(exchange) or InstrumentRegistry(exchange)
        return _VenueReader(adapter.parser(registry, self._require_metadata), adapter.book_sync)

    # -- frames ------------------------------------------------------------------------------
    def handle(self, frame: RawFrame) -> list[Output]:
        """Outputs of one frame; raises :class:`FrameError` (before changing any book) for bad input."""
        if frame.kind is FrameKind.CONTROL:
            return self._connection_event(frame)
        reader = self._reader(frame)
        if frame.kind is FrameKind.REST:
            return self._outputs(frame, reader, reader.parser.parse_rest(frame.payload, frame.path, frame.receive_ts_ns))
        parse_trade_fast = reader.trade_fast_path
        if parse_trade_fast is not None:
            trade = parse_trade_fast(frame.payload, frame.receive_ts_ns)
            if trade is not None:
                key, value = trade
                if type(value) is bytes:
                    return [Output(self.topics.trade, value, key)]
                return [Output(self.topics.trade, event, key) for event in value]
        parse_top_fast = reader.top_of_book_fast_path
        if parse_top_fast is not None:
            top = parse_top_fast(frame.payload, frame.receive_ts_ns)
            if top is not None:
                return [Output(self.topics.bbo, top[1], top[0])]
        book_fast = reader.book_fast_path
        if book_fast is not None:
            delta = book_fast.apply(frame.payload, frame.receive_ts_ns, frame.connection_id)
            if delta is not None:
                return [Output(self.topics.book, delta[1], delta[0])]
        try:
            parsed = reader.parser.parse_frame(frame.payload, frame.receive_ts_ns)
        except UnicodeDecodeError as exc:  # msgspec's error for text that is not UTF-8
            raise MalformedFrame(frame.exchange, f"frame is not valid UTF-8: {exc}", frame.payload) from None
        return self._outputs(frame, reader, parsed)

    def _outputs(self, frame: RawFrame, reader: _VenueReader, parsed: ParsedFrame) -> list[Output]:
        for subscription in parsed.subscriptions:
            self._subscribed(frame.exchange, subscription)
        outputs: list[Output] = []
        for event in parsed.events:
            if isinstance(event, Trade):
                outputs.append(Output(self.topics.trade, encode(event), event.key))
            elif isinstance(event, BestBidOffer):
                outputs.append(Output(self.topics.bbo, encode(event), event.key))
            elif isinstance(event, Candle):
                outputs.append(Output(self.topics.candle, encode(event), event.key))
            else:
                outputs.extend(self._book_event(frame, reader, event, parsed.checksum))
        return outputs

    def _subscribed(self, exchange: str, subscription: BookSubscription) -> None:
        """A frame stated the depth its symbol's book is subscribed at: the book rule keeps that depth."""
        key = (exchange, subscription.symbol)
        self._depths[key] = subscription.depth
        state = self._books.get(key)
        if state is not None:
            state.sync.depth = subscription.depth

    def _book_event(
        self, frame: RawFrame, reader: _VenueReader, event: BookSnapshot | BookDelta, checksum: BookChecksum | None
    ) -> list[Output]:
        key = (event.exchange, event.symbol)
        state = self._books.get(key)
        if state is None:
            sync = reader.book_sync(event.symbol)
            sync.depth = self._depths.get(key, 0)
            exchange_symbol = reader.parser.venue_symbol(event.symbol)
            state = self._books[key] = _BookState(sync, frame.connection_id, exchange_symbol)
            self._books_by_venue_symbol[(event.exchange, exchange_symbol)] = state
            if isinstance(event, BookDelta) and frame.connection_id not in self._sessions_seen:
                return self._attached(reader, state, self._take_over(state, frame, event, checksum))
        state.connection_id = frame.connection_id
        return self._attached(reader, state, self._publish(state, state.sync.on_event(event, checksum), frame.receive_ts_ns))

    def _attached(self, reader: _VenueReader, state: _BookState, outputs: list[Output]) -> list[Output]:
        """After the sync rule had an event: a live book's next updates may take the venue's fast path."""
        fast = reader.book_fast_path
        if fast is not None:
            if state.sync.live:
                fast.attach(state.sync.symbol, state.sync, state.connection_id)
            else:
                fast.detach(state.sync.symbol)
        return outputs

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
            state = self._books_by_venue_symbol.get((frame.exchange, exchange_symbol))
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
            reader = self._readers.get(key[0])
            fast = reader.book_fast_path if reader is not None else None
            if fast is not None:
                fast.detach(key[1])
            del self._books[key]

    # -- the latency trace ----------------------------------------------------------------------
    def with_canonical_hop(self, outputs: list[Output], in_ns: int, out_ns: int) -> list[Output]:
        """``outputs`` with the trace's ``canonical`` hop (``in_ns`` → ``out_ns``) in the header of those
        strategies decide on (trades, tops of book); one header, shared, and none if none is traced."""
        traced = self._traced_topics
        if not any(output.topic in traced for output in outputs):
            return outputs
        header = hops_header([Hop(CANONICAL_STAGE, in_ns, out_ns)])
        return [o if o.topic not in traced else Output(o.topic, o.value, o.key, header) for o in outputs]

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
