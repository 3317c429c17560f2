"""OKX's order book checksum, as its v5 documentation defines it.

Up to 25 levels of each side, interleaved ``bidPx:bidSz:askPx:askSz`` (when one side
is shorter, the other's remaining levels follow alone), joined with ``:``, CRC32 of
that text as a signed 32-bit integer. Prices and sizes are the exact text sent.
"""

from __future__ import annotations

import zlib

CHECKSUM_LEVELS = 25


def book_checksum(bid_prices: list[bytes], bid_sizes: list[bytes], ask_prices: list[bytes], ask_sizes: list[bytes]) -> int:
    """Bids best first (descending), asks best first (ascending), as parallel price and size texts; at most 25 each."""
    bids, asks = min(len(bid_prices), CHECKSUM_LEVELS), min(len(ask_prices), CHECKSUM_LEVELS)
    both = min(bids, asks)
    parts: list[bytes] = [b""] * (4 * both)
    parts[0::4] = bid_prices[:both]
    parts[1::4] = bid_sizes[:both]
    parts[2::4] = ask_prices[:both]
    parts[3::4] = ask_sizes[:both]
    for prices, sizes, count in ((bid_prices, bid_sizes, bids), (ask_prices, ask_sizes, asks)):
        if count > both:  # the longer side's levels past the shorter
            rest: list[bytes] = [b""] * (2 * (count - both))
            rest[0::2] = prices[both:count]
            rest[1::2] = sizes[both:count]
            parts += rest
    value = zlib.crc32(b":".join(parts))
    return value - (1 << 32) if value >= 1 << 31 else value
