"""The ``ccxt`` frame format as an adapter: ccxt's unified trades and whole books, for any exchange."""

from __future__ import annotations

from platform_streams.exchanges.ccxt_unified.book_sync import SnapshotBookSync
from platform_streams.exchanges.ccxt_unified.parser import FORMAT_NAME, CcxtUnifiedParser
from platform_streams.exchanges.venue_adapter import FormatAdapter

FORMAT = FormatAdapter(name=FORMAT_NAME, parser=CcxtUnifiedParser, book_sync=SnapshotBookSync)
