"""OKX's order book checksum, as its v5 documentation defines it.

Up to 25 levels of each side, interleaved ``bidPx:bidSz:askPx:askSz`` (when one side
is shorter, the other's remaining levels follow alone), joined with ``:``, CRC32 of
that text as a signed 32-bit integer. Prices and sizes are the exact text sent.
"""

from __future__ import annotations

import zlib
from itertools import chain

CHECKSUM_LEVELS = 25


def book_checksum(bid_prices: list[bytes], bid_sizes: list[bytes], ask_prices: list[bytes], ask_sizes: list[bytes]) -> int:
    """Bids best first (descending), asks best first (ascending), as parallel price and size texts; at most 25 each."""
    both = min(len(bid_prices), len(ask_prices), CHECKSUM_LEVELS)
    parts = list(chain.from_iterable(zip(bid_prices[:both], bid_sizes[:both], ask_prices[:both], ask_sizes[:both], strict=True)))
    for prices, sizes in ((bid_prices, bid_sizes), (ask_prices, ask_sizes)):  # the longer side's levels past the shorter
        parts += chain.from_iterable(zip(prices[both:CHECKSUM_LEVELS], sizes[both:CHECKSUM_LEVELS], strict=True))
    value = zlib.crc32(b":".join(parts))
    return value - (1 << 32) if value >= 1 << 31 else value
