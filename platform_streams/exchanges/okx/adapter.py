"""OKX v5 as one venue adapter: public WebSocket, books resnapshotted by resubscribing, CRC32 checksums."""

from __future__ import annotations

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.okx import endpoints
from platform_streams.exchanges.okx.book_sync import OkxBookSync
from platform_streams.exchanges.okx.execution import ORDER_ENTRY
from platform_streams.exchanges.okx.feed import OkxFeed
from platform_streams.exchanges.okx.instruments import EXCHANGE
from platform_streams.exchanges.okx.parser import OkxParser
from platform_streams.exchanges.venue_adapter import VenueAdapter


def _parser(instruments: InstrumentRegistry, _require_metadata: bool) -> OkxParser:
    return OkxParser(instruments)  # OKX's text never fixes a scale: metadata is always required


ADAPTER = VenueAdapter(
    name=EXCHANGE,
    description="OKX v5 public: snapshot on subscribe, seqId/prevSeqId and CRC32 checksums of 25 levels",
    rest_url=endpoints.REST_BASE_URL,
    ws_url=endpoints.WS_BASE_URL,
    limits=endpoints.LIMITS,
    feed_factory=OkxFeed,
    parser=_parser,
    book_sync=OkxBookSync,
    execution=ORDER_ENTRY,
)
